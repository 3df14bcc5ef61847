//! [`ProxyError`]: what went wrong with a proxy, naming the proxy and what
//! it answered.

use std::fmt;
use std::io;

use super::dial::DialError;
use super::env::EnvProxyError;
use super::http_connect::{ConnectReply, HttpReplyError};
use super::socks5::{SocksError, SocksReply};
use super::url::{CredentialsError, ProxyAddr, ProxyUrlError};

/// Why reaching a server through a proxy failed. Every variant that
/// involves a proxy names it ([`ProxyAddr`]: never its credentials).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy URL (given explicitly) is not usable.
    #[error(transparent)]
    Url(#[from] ProxyUrlError),
    /// A proxy environment variable is not usable.
    #[error(transparent)]
    Env(#[from] EnvProxyError),
    /// No TCP connection to the proxy (every address tried is listed).
    #[error("could not reach proxy {proxy}: {source}")]
    Connect {
        /// The proxy.
        proxy: ProxyAddr,
        /// Each address tried and why it failed.
        source: DialError,
    },
    /// The TLS handshake with an `https://` proxy failed.
    #[error(
        "TLS handshake with proxy {proxy} failed: {source} (check that the proxy's certificate is trusted and that it serves TLS on that port)"
    )]
    Tls {
        /// The proxy.
        proxy: ProxyAddr,
        /// What the TLS library said.
        source: io::Error,
    },
    /// Reading from or writing to the proxy failed.
    #[error("I/O error with proxy {proxy}: {source}")]
    Io {
        /// The proxy.
        proxy: ProxyAddr,
        /// The system's error.
        source: io::Error,
    },
    /// The proxy closed the connection before the tunnel was open.
    #[error("proxy {proxy} closed the connection {stage}")]
    Closed {
        /// The proxy.
        proxy: ProxyAddr,
        /// Where the exchange was.
        stage: ClosedAt,
    },
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx
    /// (407 is [`ProxyError::AuthRequired`] or [`ProxyError::AuthFailed`]).
    #[error("proxy {proxy} refused CONNECT {target}: {reply}")]
    Refused {
        /// The proxy.
        proxy: ProxyAddr,
        /// `host:port` asked for.
        target: String,
        /// The proxy's status line and headers.
        reply: Box<ConnectReply>,
    },
    /// The proxy wants credentials and none were given.
    #[error(
        "proxy {proxy} requires credentials ({answer}): give them in the proxy URL (scheme://user:password@host:port) or explicitly"
    )]
    AuthRequired {
        /// The proxy.
        proxy: ProxyAddr,
        /// What it answered.
        answer: AuthAnswer,
    },
    /// The proxy refused the credentials given.
    #[error("proxy {proxy} rejected the credentials of user {username:?} ({answer})")]
    AuthFailed {
        /// The proxy.
        proxy: ProxyAddr,
        /// The user name sent (never the password).
        username: String,
        /// What it answered.
        answer: AuthAnswer,
    },
    /// The SOCKS5 proxy could not open the connection to the target and
    /// said why (RFC 1928 §6 reply codes).
    #[error("SOCKS5 proxy {proxy} could not connect to {target}: {reply}")]
    SocksRefused {
        /// The proxy.
        proxy: ProxyAddr,
        /// `host:port` (or the resolved address) asked for.
        target: String,
        /// The reply code, by name.
        reply: SocksReply,
    },
    /// The proxy's answer breaks its protocol (HTTP or SOCKS5).
    #[error("proxy {proxy} sent a malformed reply: {fault}")]
    Malformed {
        /// The proxy.
        proxy: ProxyAddr,
        /// What is wrong with it.
        fault: ReplyFault,
    },
    /// The credentials cannot be sent to this kind of proxy.
    #[error("the credentials for proxy {proxy} cannot be sent: {reason}")]
    Credentials {
        /// The proxy.
        proxy: ProxyAddr,
        /// What is wrong.
        reason: CredentialsError,
    },
    /// The target host cannot be asked for (not a host name or address,
    /// or a name over the 255 bytes SOCKS5 carries).
    #[error("cannot ask proxy {proxy} for {host:?}: not a valid host name or address")]
    InvalidTarget {
        /// The proxy.
        proxy: ProxyAddr,
        /// The host as given.
        host: String,
    },
    /// Resolving the target for a `socks5://` proxy (which is sent an
    /// address) failed.
    #[error(
        "resolving {host} for SOCKS5 proxy {proxy} failed: {source} (socks5h:// lets the proxy resolve it)"
    )]
    Resolve {
        /// The proxy.
        proxy: ProxyAddr,
        /// The target host.
        host: String,
        /// The resolver's error (or "no addresses").
        source: io::Error,
    },
}

impl ProxyError {
    /// The proxy this error is about (not for URL or environment errors).
    #[must_use]
    pub fn proxy(&self) -> Option<&ProxyAddr> {
        match self {
            ProxyError::Url(_) | ProxyError::Env(_) => None,
            ProxyError::Connect { proxy, .. }
            | ProxyError::Tls { proxy, .. }
            | ProxyError::Io { proxy, .. }
            | ProxyError::Closed { proxy, .. }
            | ProxyError::Refused { proxy, .. }
            | ProxyError::AuthRequired { proxy, .. }
            | ProxyError::AuthFailed { proxy, .. }
            | ProxyError::SocksRefused { proxy, .. }
            | ProxyError::Malformed { proxy, .. }
            | ProxyError::Credentials { proxy, .. }
            | ProxyError::InvalidTarget { proxy, .. }
            | ProxyError::Resolve { proxy, .. } => Some(proxy),
        }
    }
}

/// Where the exchange with the proxy was when it closed the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClosedAt {
    /// Before (the whole head of) its answer to `CONNECT target`. Some
    /// proxies (pproxy among them) answer a target they cannot reach this
    /// way.
    ConnectReply {
        /// `host:port` asked for.
        target: String,
    },
    /// Before choosing a SOCKS5 authentication method.
    SocksMethod,
    /// Before its SOCKS5 reply to the connect request for `target` (or
    /// part way through it).
    SocksReply {
        /// `host:port` asked for.
        target: String,
    },
}

impl fmt::Display for ClosedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClosedAt::ConnectReply { target } => write!(
                f,
                "without answering CONNECT {target} (some proxies do this when they cannot reach the target)"
            ),
            ClosedAt::SocksMethod => f.write_str("before choosing a SOCKS5 authentication method"),
            ClosedAt::SocksReply { target } => {
                write!(
                    f,
                    "before answering the SOCKS5 connect request for {target}"
                )
            }
        }
    }
}

/// What a proxy answered about authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthAnswer {
    /// An HTTP `407`: its status line and headers (`Proxy-Authenticate`
    /// says which schemes it accepts).
    Http(Box<ConnectReply>),
    /// SOCKS5: it chose username/password authentication (RFC 1929) but
    /// none was configured.
    SocksPasswordWanted,
    /// SOCKS5: none of the offered methods is acceptable to it (`0xFF`).
    SocksNoAcceptableMethod,
    /// SOCKS5: the RFC 1929 status byte (non-zero: failure).
    SocksStatus(u8),
    /// SOCKS5: it closed the connection after receiving the credentials
    /// (pproxy does this for wrong ones).
    SocksClosed,
}

impl fmt::Display for AuthAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthAnswer::Http(reply) => reply.fmt(f),
            AuthAnswer::SocksPasswordWanted => {
                f.write_str("it asks for SOCKS5 username/password authentication")
            }
            AuthAnswer::SocksNoAcceptableMethod => {
                f.write_str("it accepts none of the SOCKS5 authentication methods offered")
            }
            AuthAnswer::SocksStatus(status) => {
                write!(f, "SOCKS5 username/password status {status:#04x}")
            }
            AuthAnswer::SocksClosed => {
                f.write_str("it closed the connection after the user name and password were sent")
            }
        }
    }
}

/// A proxy reply that breaks its protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyFault {
    /// The HTTP answer to `CONNECT`.
    #[error(transparent)]
    Http(#[from] HttpReplyError),
    /// The SOCKS5 exchange.
    #[error(transparent)]
    Socks(#[from] SocksError),
    /// Bytes arrived behind the proxy's success answer before the client
    /// sent anything through the tunnel (neither a WebSocket nor a TLS
    /// server speaks first).
    #[error("{0} bytes arrived behind its answer, before the client spoke through the tunnel")]
    EarlyData(usize),
}
