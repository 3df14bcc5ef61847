//! Reaching a server from wherever the client runs: HTTP `CONNECT` and
//! SOCKS5 proxies, the proxy environment variables, redirects of the
//! upgrade request, and connecting to every address of a name (RFC 8305).
//! Runtime-neutral: the pieces take "resolve", "connect to this address"
//! and the [`Runtime`](crate::Runtime)'s timers as arguments; the
//! [`Connector`](crate::Connector) puts them together for both adapters
//! (its `proxy`, `dial_options` and `redirects` options).
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
//! The connector does the middle row, then its `wss://` step and the
//! handshake over the [`Tunnel`]. The protocol pieces are sans-IO and
//! usable alone:
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

pub use dial::{
    Attempt, AttemptOutcome, DialError, DialFailure, DialOptions, dial, dial_addrs, interleave,
};
pub use env::{EnvProxyError, ProxyConfig, ProxyEnv};
pub use error::{AuthAnswer, ClosedAt, ProxyError, ReplyFault};
pub use http_connect::{ConnectReply, HttpReplyError};
pub use no_proxy::NoProxy;
pub use redirect::{CREDENTIAL_HEADERS, Redirect, RedirectError, Redirects, is_redirect};
pub use socks5::{Socks5Client, SocksError, SocksReply, SocksSetupError, SocksStage, SocksTarget};
pub use tunnel::{Tunnel, tunnel};
pub use url::{Credentials, CredentialsError, Proxy, ProxyAddr, ProxyScheme, ProxyUrlError};
