//! Reaching a server from wherever the client runs: HTTP `CONNECT` and
//! SOCKS5 proxies, the proxy environment variables, redirects of the
//! upgrade request, and connecting to every address of a name (RFC 8305).
//! Runtime-neutral: the adapter supplies "connect to this address", "run
//! TLS over this stream" and its [`Runtime`]; this module
//! never opens a socket or picks a TLS library.
//!
//! ```text
//!  ProxyConfig::select(ProxyEnv, wss?, host, port) ──► Option<Proxy>
//!        │ Some(proxy)
//!        ▼
//!  dial(proxy host) ─► TCP ─► [TLS to the proxy: https://] ─► tunnel(host, port) ─► Tunnel<S>
//!        (RFC 8305: every address, staggered)      CONNECT or SOCKS5 │
//!                                                                    ▼
//!                           [TLS to the origin: wss://, SNI = host] ─► WebSocket handshake
//! ```
//!
//! [`connect_through`] does the middle row in one call; the rest is the
//! adapter's existing `wss://` step and handshake, run over the
//! [`Tunnel`]. The protocol pieces are sans-IO and usable alone:
//! [`http_connect`] (the `CONNECT` request and answer head) and
//! [`Socks5Client`] (RFC 1928/1929).
//!
//! Every failure is a [`ProxyError`] naming the proxy (never its
//! password) and what it answered: the status line and
//! `Proxy-Authenticate` of a refusal, SOCKS5 reply codes by name, the step
//! at which a proxy closed the connection.

mod dial;
mod env;
mod error;
pub mod http_connect;
mod no_proxy;
mod redirect;
mod socks5;
mod tunnel;
mod url;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use futures_io::{AsyncRead, AsyncWrite};

pub use dial::{
    Attempt, AttemptOutcome, DialError, DialFailure, DialOptions, dial, dial_addrs, interleave,
};
pub use env::{EnvProxyError, ProxyConfig, ProxyEnv};
pub use error::{AuthAnswer, ClosedAt, CredentialsError, ProxyError, ReplyFault};
pub use http_connect::{ConnectReply, HttpReplyError};
pub use no_proxy::NoProxy;
pub use redirect::{CREDENTIAL_HEADERS, Redirect, RedirectError, Redirects, is_redirect};
pub use socks5::{Socks5Client, SocksError, SocksReply, SocksSetupError, SocksStage, SocksTarget};
pub use tunnel::{Tunnel, tunnel};
pub use url::{Credentials, Proxy, ProxyAddr, ProxyScheme, ProxyUrlError};

use crate::MaybeTls;
use crate::runtime::Runtime;

/// Opens a tunnel to `host:port` through `proxy`: dials the proxy's
/// addresses ([`dial`] with `options`, names resolved by `resolve`, TCP
/// opened by `connect`), runs `tls(proxy_host, tcp)` for an `https://`
/// proxy (the certificate is checked against the proxy's name), then
/// [`tunnel`] (`resolve` serves a `socks5://` target too).
///
/// The result carries the origin's bytes: for `wss://`, run the TLS step
/// for `host` over it, then the WebSocket handshake. Only the dial is
/// bounded here (by `options`); bound the rest as the handshake is.
#[allow(clippy::too_many_arguments)]
pub async fn connect_through<P, R, RF, C, CF, L, LF>(
    runtime: &dyn Runtime,
    proxy: &Proxy,
    host: &str,
    port: u16,
    options: &DialOptions,
    resolve: R,
    connect: C,
    tls: L,
) -> Result<Tunnel<MaybeTls<P>>, ProxyError>
where
    P: AsyncRead + AsyncWrite + Unpin,
    R: Fn(String, u16) -> RF,
    RF: Future<Output = io::Result<Vec<SocketAddr>>>,
    C: FnMut(SocketAddr) -> CF,
    CF: Future<Output = io::Result<P>>,
    L: FnOnce(String, P) -> LF,
    LF: Future<Output = io::Result<MaybeTls<P>>>,
{
    let (tcp, _) = dial(
        runtime,
        proxy.host(),
        proxy.port(),
        options,
        &resolve,
        connect,
    )
    .await
    .map_err(|source| ProxyError::Connect {
        proxy: proxy.addr().clone(),
        source,
    })?;
    let stream = if proxy.scheme().is_tls() {
        tls(proxy.host().to_owned(), tcp)
            .await
            .map_err(|source| ProxyError::Tls {
                proxy: proxy.addr().clone(),
                source,
            })?
    } else {
        MaybeTls::Plain(tcp)
    };
    tunnel(stream, proxy, host, port, &resolve).await
}
