//! The axum extractor, in the manner of `axum::extract::ws::WebSocketUpgrade`:
//! it checks the request (HTTP/1.1 upgrade or HTTP/2 extended CONNECT) with
//! the core's negotiation and rejects it with a proper HTTP response;
//! [`WebSocketUpgrade::on_upgrade`] answers it and hands the session to
//! the application's closure.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum_core::body::Body as AxumBody;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Request};
use ws_tokio::Config;
use ws_tokio::wsproto_core::handshake::{AcceptOptions, OriginPolicy, UpgradeRequest};

use crate::upgrade::{Refusal, Upgrade, UpgradeError, WebSocket, upgrade};

/// Extractor for a WebSocket route: `async fn handler(ws: WebSocketUpgrade)
/// -> Response { ws.on_upgrade(|socket| async move { … }) }`.
///
/// One handler serves both HTTP versions: route it for `GET` (HTTP/1.1
/// upgrade) and `CONNECT` (HTTP/2, RFC 8441), e.g.
/// `get(handler).connect(handler)` or `any(handler)`; `axum::serve`
/// already enables RFC 8441 on HTTP/2.
///
/// The request is checked when it is extracted, with the [`Config`] found
/// in the request's extensions as an `Arc<Config>` (add one with
/// `.layer(Extension(Arc::new(config)))`), else the default config: a
/// refused request never reaches the handler and is answered by the
/// [`Refusal`] (400, 426 with `Sec-WebSocket-Version: 13`, 403 for a
/// foreign Origin). [`config`](Self::config) and
/// [`origin_policy`](Self::origin_policy) in the handler apply to this
/// route alone; their Origin policy is checked by
/// [`on_upgrade`](Self::on_upgrade), which then answers 403 itself.
///
/// ```
/// use axum::{Router, response::Response, routing::get};
/// use ws_axum::{Message, OriginPolicy, WebSocketUpgrade};
///
/// async fn chat(ws: WebSocketUpgrade) -> Response {
///     ws.protocols(["chat.v2", "chat.v1"])
///         .origin_policy(OriginPolicy::same_host())
///         .on_upgrade(|mut socket| async move {
///             while let Ok(message) = socket.recv().await {
///                 if let Message::Text(text) = message {
///                     let _ = socket.send_text(text).await;
///                 }
///             }
///         })
/// }
///
/// let app: Router = Router::new().route("/chat", get(chat).connect(chat));
/// ```
#[derive(Debug)]
#[must_use = "the upgrade happens only when `on_upgrade`'s response is returned"]
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    upgrade: Upgrade,
    /// A config given in the handler, applied (and its Origin policy
    /// checked) by `on_upgrade`.
    config: Option<Arc<Config>>,
    /// Chosen by `protocols`.
    protocol: Option<String>,
    /// Extra response headers (the subprotocol is added by `on_upgrade`).
    options: AcceptOptions,
    on_failed_upgrade: F,
}

/// What to do when the upgrade fails after the response (the connection
/// ended before hyper handed it over); see
/// [`WebSocketUpgrade::on_failed_upgrade`].
pub trait OnFailedUpgrade: Send + 'static {
    /// Called with the error, on the task that waited for the upgrade.
    fn call(self, error: UpgradeError);
}

impl<F: FnOnce(UpgradeError) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: UpgradeError) {
        self(error);
    }
}

/// The default [`OnFailedUpgrade`]: the error is dropped.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _error: UpgradeError) {}
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        let config = parts
            .extensions
            .get::<Arc<Config>>()
            .cloned()
            .unwrap_or_else(default_config);
        // `upgrade` takes hyper's handle out of the request's extensions;
        // lend them, then put back what is left.
        let mut request = Request::new(());
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = parts.version;
        *request.headers_mut() = std::mem::take(&mut parts.headers);
        *request.extensions_mut() = std::mem::take(&mut parts.extensions);
        let result = upgrade(&mut request, config);
        let (back, ()) = request.into_parts();
        parts.headers = back.headers;
        parts.extensions = back.extensions;
        Ok(WebSocketUpgrade {
            upgrade: result?,
            config: None,
            protocol: None,
            options: AcceptOptions::new(),
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}

/// One default config for every request that brings none.
fn default_config() -> Arc<Config> {
    static DEFAULT: OnceLock<Arc<Config>> = OnceLock::new();
    DEFAULT.get_or_init(Arc::default).clone()
}

impl<F> WebSocketUpgrade<F> {
    /// The request: path, query, headers, offered subprotocols and
    /// extensions, HTTP version
    /// ([`is_extended_connect`](UpgradeRequest::is_extended_connect)).
    #[must_use]
    pub fn request(&self) -> &UpgradeRequest {
        self.upgrade.request()
    }

    /// The subprotocols this route speaks, most preferred first: the
    /// first one the client offered is chosen (axum's rule), none if there
    /// is none in common.
    pub fn protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<str>,
    {
        self.protocol = self
            .upgrade
            .request()
            .select_subprotocol(protocols)
            .map(str::to_owned);
        self
    }

    /// The subprotocol [`protocols`](Self::protocols) chose, if any.
    #[must_use]
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Adds a header to the accepting response (e.g. `Set-Cookie`). Name
    /// and value are typed or strings; a string HTTP does not allow makes
    /// [`on_upgrade`](Self::on_upgrade) answer 500 and start no session.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        self.options = self.options.header(name, value);
        self
    }

    /// The config of this route's sessions (limits, heartbeat, compression,
    /// Origin policy), in place of the one the request was checked with.
    pub fn config(mut self, config: impl Into<Arc<Config>>) -> Self {
        self.config = Some(config.into());
        self
    }

    /// This route's Origin policy (on top of the current config): checked
    /// by [`on_upgrade`](Self::on_upgrade), which answers 403 to a foreign
    /// Origin and starts no session.
    pub fn origin_policy(self, policy: OriginPolicy) -> Self {
        let config = self
            .config
            .as_deref()
            .unwrap_or(self.upgrade.config())
            .clone()
            .with_origin_policy(policy);
        self.config(config)
    }

    /// Calls `callback` when the upgrade fails after the response was sent
    /// (by default such errors are dropped).
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            upgrade: self.upgrade,
            config: self.config,
            protocol: self.protocol,
            options: self.options,
            on_failed_upgrade: callback,
        }
    }

    /// Accepts the upgrade and returns the response for the handler to
    /// return; once the connection is handed over, a task runs
    /// `callback(session)`. If the config given with
    /// [`config`](Self::config) refuses the Origin, returns that 403
    /// instead and runs nothing.
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        F: OnFailedUpgrade,
    {
        let upgrade = match self.config {
            Some(config) => match self.upgrade.with_config(config) {
                Ok(upgrade) => upgrade,
                Err(refusal) => return IntoResponse::into_response(refusal),
            },
            None => self.upgrade,
        };
        let mut options = self.options;
        if let Some(protocol) = self.protocol {
            options = options.subprotocol(protocol);
        }
        let (response, pending) = match upgrade.accept(&options) {
            Ok(accepted) => accepted,
            Err(refusal) => return IntoResponse::into_response(refusal),
        };
        let on_failed_upgrade = self.on_failed_upgrade;
        let task = async move {
            // A statement of its own: the awaited result (session and
            // request) is not kept in the task beside the callback's future
            // (a `match` on it would keep it for the session's lifetime,
            // measured as 1 KiB more per connection).
            let socket = match pending.await {
                Ok((socket, _)) => socket,
                Err(error) => return on_failed_upgrade.call(error),
            };
            callback(socket).await;
        };
        tokio::spawn(task);
        response.map(AxumBody::new)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        Refusal::into_response(self).map(AxumBody::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use tokio::sync::oneshot;

    /// The head of an HTTP/1.1 upgrade with hyper's handle (one that never
    /// upgrades: no connection is behind it).
    fn parts(origin: &str) -> Parts {
        let handle = hyper::upgrade::on(Request::new(()));
        let (parts, ()) = Request::builder()
            .uri("/chat")
            .header("host", "example.com")
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "v1, v2")
            .header("origin", origin)
            .extension(handle)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    async fn extract(parts: &mut Parts) -> Result<WebSocketUpgrade, Refusal> {
        WebSocketUpgrade::from_request_parts(parts, &()).await
    }

    #[tokio::test]
    async fn protocols_pick_by_the_routes_order_and_go_into_the_101() {
        let ws = extract(&mut parts("https://example.com")).await.unwrap();
        assert_eq!(ws.request().request().uri().path(), "/chat");
        let ws = ws.protocols(["v9", "v2", "v1"]);
        assert_eq!(ws.selected_protocol(), Some("v2"));
        let ws = ws.protocols(["none"]);
        assert_eq!(ws.selected_protocol(), None);
        let response = ws
            .protocols(["v1"])
            .header(
                http::header::SET_COOKIE,
                HeaderValue::from_static("session=1"),
            )
            .on_upgrade(|_| async {});
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()["sec-websocket-protocol"], "v1");
        assert_eq!(response.headers()["set-cookie"], "session=1");
    }

    #[tokio::test]
    async fn headers_take_strings_and_an_invalid_one_is_a_500() {
        let ws = extract(&mut parts("https://example.com")).await.unwrap();
        let response = ws
            .header("Set-Cookie", "session=2")
            .header(String::from("x-node"), "n1")
            .on_upgrade(|_| async {});
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(response.headers()["set-cookie"], "session=2");
        assert_eq!(response.headers()["x-node"], "n1");

        let ws = extract(&mut parts("https://example.com")).await.unwrap();
        let (ran, never) = oneshot::channel::<()>();
        let response = ws
            .header("x-b", "a\r\nInjected: 1")
            .on_upgrade(move |_| async move {
                let _ = ran.send(());
            });
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!response.headers().contains_key("injected"));
        assert!(never.await.is_err(), "no session starts");
    }

    #[tokio::test]
    async fn the_layer_config_refuses_at_extraction_and_the_handlers_at_on_upgrade() {
        // Extraction leaves the other extensions and the headers in place.
        let mut from_evil = parts("https://evil.example");
        let strict = Config::default().with_origin_policy(OriginPolicy::same_host());
        from_evil.extensions.insert(Arc::new(strict));
        let refusal = extract(&mut from_evil).await.unwrap_err();
        assert!(matches!(
            refusal.error(),
            UpgradeError::Request(
                ws_tokio::wsproto_core::handshake::RequestError::ForbiddenOrigin(_)
            )
        ));
        assert_eq!(
            IntoResponse::into_response(refusal).status(),
            StatusCode::FORBIDDEN
        );
        assert!(from_evil.extensions.get::<Arc<Config>>().is_some());
        assert_eq!(from_evil.headers["origin"], "https://evil.example");

        // A handler's own policy: the 403 comes from on_upgrade, and the
        // callback never runs.
        let ws = extract(&mut parts("https://evil.example")).await.unwrap();
        let (ran, never) = oneshot::channel::<()>();
        let response = ws
            .origin_policy(OriginPolicy::allow_list(["https://example.com"]))
            .on_upgrade(move |_| async move {
                let _ = ran.send(());
            });
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(never.await.is_err(), "no session for a foreign Origin");
    }

    #[tokio::test]
    async fn a_failed_handover_goes_to_on_failed_upgrade() {
        let ws = extract(&mut parts("https://example.com")).await.unwrap();
        let (tx, rx) = oneshot::channel();
        let response = ws
            .on_failed_upgrade(move |error| {
                let _ = tx.send(error);
            })
            .on_upgrade(|_| async {});
        assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert!(matches!(rx.await.unwrap(), UpgradeError::Upgrade(_)));
    }

    #[tokio::test]
    async fn a_request_that_is_no_upgrade_is_rejected_with_400() {
        let (mut parts, ()) = Request::builder()
            .uri("/chat")
            .header("host", "example.com")
            .body(())
            .unwrap()
            .into_parts();
        let refusal = extract(&mut parts).await.unwrap_err();
        assert_eq!(
            IntoResponse::into_response(refusal).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
