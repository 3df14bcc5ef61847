//! Every call into the WebSocket library, in one place: the session
//! configuration, the client handshake over a transport this crate
//! connected, the server handshake with the Origin and subprotocol policy,
//! and a [`Link`] with the few operations the rest of the crate uses
//! (receive, send, ping, close, how it ended). The other modules see only
//! this module's types, so a change of the library's session API is an
//! edit here.

use std::sync::Arc;
use std::time::Duration;

use ws_tokio::http::{HeaderName, HeaderValue, StatusCode, header};
use ws_tokio::{
    AcceptOptions, Acceptor, ClientRequestBuilder, CloseCode, CloseFrame, CloseReason, Config,
    Connector, Decision, DeflateConfig, Error, HandshakeError, Message, OriginPolicy,
    UpgradeRequest, WebSocket,
};

use crate::tap::{Io, Tap};

/// A message's content, in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// The session settings the command line controls; everything else is
/// the library's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Offer (client) or accept (server) permessage-deflate.
    pub compress: bool,
    /// Send a heartbeat ping this often.
    pub ping_interval: Option<Duration>,
    /// The largest message accepted (after decompression).
    pub max_message_size: Option<usize>,
}

impl Settings {
    fn config(self) -> Config {
        let mut config = Config::default().with_ping_interval(self.ping_interval);
        if let Some(limit) = self.max_message_size {
            // A frame can be no larger than the message it carries.
            let frame = config.max_frame_size().min(limit);
            config = config
                .with_max_message_size(limit)
                .with_max_frame_size(frame);
        }
        if self.compress {
            config = config.with_compression(DeflateConfig::default());
        }
        config
    }
}

/// Whether `code` may be sent in a Close frame (RFC 6455 §7.4).
#[must_use]
pub fn is_sendable(code: u16) -> bool {
    CloseCode(code).is_sendable()
}

/// The library's default message size limit, for the help text.
#[must_use]
pub fn default_max_message_size() -> usize {
    Config::default().max_message_size()
}

/// How a session ended, for the close line and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// What kind of ending it was.
    pub kind: EndKind,
    /// The close code (the peer's for a clean close, 1005 when its Close
    /// had none; the code we sent for errors and timeouts; 1006 when the
    /// connection was lost).
    pub code: u16,
    /// The close reason, if the Close carried one.
    pub reason: String,
    /// A sentence saying what happened.
    pub description: String,
}

/// The kinds of ending that scripts tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// The close handshake completed.
    Clean,
    /// The peer broke the protocol; we closed with the matching code.
    Protocol,
    /// A ping or close timeout expired.
    Timeout,
    /// The connection was lost or dropped without a close handshake.
    Lost,
}

impl Ended {
    fn from_reason(reason: &CloseReason) -> Self {
        let (kind, text) = match reason {
            CloseReason::Normal { frame, .. } => (
                EndKind::Clean,
                frame.as_ref().map(|f| f.reason.clone()).unwrap_or_default(),
            ),
            CloseReason::Error(_) => (EndKind::Protocol, String::new()),
            CloseReason::PingTimeout { .. } | CloseReason::CloseTimeout { .. } => {
                (EndKind::Timeout, String::new())
            }
            _ => (EndKind::Lost, String::new()),
        };
        Ended {
            kind,
            code: reason.code().0,
            reason: text,
            description: reason.to_string(),
        }
    }

    fn from_error(error: &Error) -> Self {
        match error {
            Error::Closed(reason) => Self::from_reason(reason),
            other => Ended {
                kind: EndKind::Lost,
                code: CloseCode::ABNORMAL.0,
                reason: String::new(),
                description: other.to_string(),
            },
        }
    }
}

/// An open WebSocket session, client or server side.
#[derive(Debug)]
pub struct Link {
    ws: WebSocket<Tap<Io>>,
}

impl Link {
    /// The next message. Cancellation-safe: a `select!` that drops it
    /// loses nothing. After the end, every call returns the same [`Ended`].
    pub async fn recv(&mut self) -> Result<Payload, Ended> {
        match self.ws.recv().await {
            Ok(Message::Text(text)) => Ok(Payload::Text(text.as_str().to_owned())),
            // `recv` hands out data messages only, so this is binary.
            Ok(other) => Ok(Payload::Binary(other.into_data().to_vec())),
            Err(e) => Err(self.ending_after(&e)),
        }
    }

    /// Sends one message (waits while the send queue is full).
    pub async fn send(&mut self, payload: Payload) -> Result<(), Ended> {
        let sent = match payload {
            Payload::Text(text) => self.ws.send_text(text).await,
            Payload::Binary(data) => self.ws.send_binary(data).await,
        };
        sent.map_err(|e| self.ending_after(&e))
    }

    /// Sends a ping (its pong is answered and counted by the session).
    pub async fn ping(&mut self, payload: Vec<u8>) -> Result<(), Ended> {
        let sent = self.ws.send_ping(payload).await;
        sent.map_err(|e| self.ending_after(&e))
    }

    /// Runs the close handshake with `code` and `reason` (or waits for the
    /// end if the peer closed first) and says how the session ended.
    /// Messages that arrived meanwhile stay available to [`recv`](Self::recv).
    pub async fn close(&mut self, code: u16, reason: &str) -> Ended {
        match self
            .ws
            .close(CloseFrame::new(CloseCode(code), reason))
            .await
        {
            Ok(()) => self.ending().unwrap_or_else(|| Ended {
                kind: EndKind::Lost,
                code: CloseCode::ABNORMAL.0,
                reason: String::new(),
                description: "the session did not record how it ended".to_owned(),
            }),
            Err(e) => self.ending_after(&e),
        }
    }

    /// Drops the connection without a close handshake.
    pub async fn terminate(&mut self) {
        self.ws.terminate().await;
    }

    /// How the session ended, once it has.
    #[must_use]
    pub fn ending(&self) -> Option<Ended> {
        self.ws.close_reason().map(Ended::from_reason)
    }

    fn ending_after(&self, error: &Error) -> Ended {
        self.ending().unwrap_or_else(|| Ended::from_error(error))
    }
}

/// What the handshake settled, for the "connected" line.
#[derive(Debug, Clone, Default)]
pub struct Negotiated {
    /// The subprotocol chosen, if any.
    pub subprotocol: Option<String>,
    /// The negotiated extensions (`permessage-deflate`).
    pub extensions: Vec<String>,
}

/// `, subprotocol NAME, extensions NAME, …` for what was negotiated
/// (nothing when nothing was).
impl std::fmt::Display for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(subprotocol) = &self.subprotocol {
            write!(f, ", subprotocol {subprotocol}")?;
        }
        if !self.extensions.is_empty() {
            write!(f, ", extensions {}", self.extensions.join(", "))?;
        }
        Ok(())
    }
}

/// A client upgrade request: the URL, and what to add to it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The `ws://` or `wss://` URL.
    pub url: String,
    /// Extra headers, in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Subprotocols to offer, in order of preference.
    pub subprotocols: Vec<String>,
    /// The session settings.
    pub settings: Settings,
    /// How long the WebSocket handshake may take.
    pub handshake_timeout: Duration,
}

/// Why the client handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeFailure {
    /// The server answered, but not with a valid upgrade (a refusal, or a
    /// response that breaks RFC 6455 §4.1).
    #[error("{0}")]
    Refused(HandshakeError),
    /// The handshake did not complete in time.
    #[error("{0}")]
    Timeout(HandshakeError),
    /// The request could not be built from the URL and options.
    #[error("{0}")]
    Request(HandshakeError),
}

/// Runs the client handshake over `io` (a TCP or TLS stream this crate
/// opened).
pub async fn upgrade(io: Tap<Io>, request: Request) -> Result<(Link, Negotiated), UpgradeFailure> {
    let mut builder = ClientRequestBuilder::new(request.url.as_str());
    for (name, value) in request.headers {
        builder = builder.header(name, value);
    }
    for name in request.subprotocols {
        builder = builder.subprotocol(name);
    }
    let connector = Connector::new()
        .config(request.settings.config())
        .handshake_timeout(Some(request.handshake_timeout));
    match connector.connect_over(io, builder).await {
        Ok((ws, response)) => Ok((
            Link { ws },
            Negotiated {
                subprotocol: response.subprotocol().map(str::to_owned),
                extensions: response.extensions().to_vec(),
            },
        )),
        Err(e @ HandshakeError::Timeout(_)) => Err(UpgradeFailure::Timeout(e)),
        Err(e @ HandshakeError::Build(_)) => Err(UpgradeFailure::Request(e)),
        Err(e) => Err(UpgradeFailure::Refused(e)),
    }
}

/// The server's rules for upgrade requests.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// When not empty, only requests whose `Origin` is one of these are
    /// accepted; the others (and requests without an `Origin`) get 403.
    pub allowed_origins: Vec<String>,
    /// Subprotocols we speak: the first of the client's offers that is
    /// among them is chosen.
    pub subprotocols: Vec<String>,
    /// Extra response headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Policy {
    /// Whether `origin` may connect, and why not.
    fn check_origin(&self, origin: Option<&HeaderValue>) -> Result<(), String> {
        if self.allowed_origins.is_empty() {
            return Ok(());
        }
        // The library's rules (scheme, host and port compared, default
        // ports implied); this only adds the reason to the refusal.
        let policy = OriginPolicy::allow_list(&self.allowed_origins);
        match origin.map(HeaderValue::to_str) {
            Some(Ok(origin)) if policy.is_allowed(Some(origin), None) => Ok(()),
            Some(Ok(origin)) => Err(format!("origin {origin:?} is not allowed")),
            Some(Err(_)) => Err("the Origin header is not text".to_owned()),
            None => Err("no Origin header (an allow-list is set)".to_owned()),
        }
    }

    fn decide(&self, request: &UpgradeRequest, refusal: &mut Option<String>) -> Decision {
        if let Err(why) = self.check_origin(request.request().headers().get(header::ORIGIN)) {
            let body = format!("{why}\n");
            *refusal = Some(why);
            return Decision::reject(StatusCode::FORBIDDEN, body);
        }
        let mut options = AcceptOptions::new();
        if let Some(chosen) = request
            .subprotocols()
            .iter()
            .find(|offered| self.subprotocols.contains(offered))
        {
            options = options.subprotocol(chosen.clone());
        }
        for (name, value) in &self.headers {
            options = options.header(name.clone(), value.clone());
        }
        Decision::accept_with(options)
    }
}

/// What the server accepted, for the "connected" line.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The request's path and query.
    pub target: String,
    /// Its `Origin`, if any.
    pub origin: Option<String>,
    /// What was negotiated.
    pub negotiated: Negotiated,
}

/// Why an upgrade was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptFailure {
    /// The policy refused it with 403.
    #[error("refused with 403: {0}")]
    Refused(String),
    /// The request was not a valid upgrade, or the transport failed.
    #[error("{0}")]
    Handshake(HandshakeError),
}

/// A server that upgrades connections under a [`Policy`].
#[derive(Debug, Clone)]
pub struct Server {
    acceptor: Acceptor,
    policy: Arc<Policy>,
}

impl Server {
    /// A server with `settings`, `policy`, and a handshake timeout.
    #[must_use]
    pub fn new(settings: Settings, policy: Policy, handshake_timeout: Duration) -> Self {
        Server {
            acceptor: Acceptor::new()
                .config(settings.config())
                .handshake_timeout(Some(handshake_timeout)),
            policy: Arc::new(policy),
        }
    }

    /// Reads the upgrade request on `io`, applies the policy, answers, and
    /// starts the session.
    pub async fn accept(&self, io: Tap<Io>) -> Result<(Link, Accepted), AcceptFailure> {
        let mut refusal = None;
        let result = self
            .acceptor
            .accept_with(io, |request| self.policy.decide(request, &mut refusal))
            .await;
        match result {
            Ok((ws, accepted)) => {
                let request = accepted.request();
                let origin = request
                    .headers()
                    .get(header::ORIGIN)
                    .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned());
                let target = request
                    .uri()
                    .path_and_query()
                    .map_or_else(|| "/".to_owned(), ToString::to_string);
                Ok((
                    Link { ws },
                    Accepted {
                        target,
                        origin,
                        negotiated: Negotiated {
                            subprotocol: accepted.subprotocol().map(str::to_owned),
                            extensions: accepted.extensions().to_vec(),
                        },
                    },
                ))
            }
            Err(e) => Err(match refusal {
                Some(why) => AcceptFailure::Refused(why),
                None => AcceptFailure::Handshake(e),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_allow_list_refuses_others_and_missing_origins() {
        let open = Policy::default();
        assert!(open.check_origin(None).is_ok());
        let policy = Policy {
            allowed_origins: vec!["https://app.example".to_owned()],
            ..Policy::default()
        };
        let ok = HeaderValue::from_static("https://app.example");
        let evil = HeaderValue::from_static("https://evil.example");
        assert!(policy.check_origin(Some(&ok)).is_ok());
        assert!(
            policy
                .check_origin(Some(&evil))
                .unwrap_err()
                .contains("\"https://evil.example\" is not allowed")
        );
        assert!(policy.check_origin(None).unwrap_err().contains("no Origin"));
    }

    #[test]
    fn a_message_limit_also_bounds_frames() {
        let config = Settings {
            max_message_size: Some(1000),
            ..Settings::default()
        }
        .config();
        assert_eq!(config.max_message_size(), 1000);
        assert_eq!(config.max_frame_size(), 1000);
        let config = Settings::default().config();
        assert_eq!(config.max_message_size(), default_max_message_size());
        assert!(config.extensions().is_empty());
        assert_eq!(
            Settings {
                compress: true,
                ..Settings::default()
            }
            .config()
            .extensions()
            .len(),
            1
        );
    }
}
