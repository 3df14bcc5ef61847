//! One HTTP/2 connection that opens WebSockets: each
//! [`open`](H2Connection::open) is an extended CONNECT stream (RFC 8441 §4)
//! whose answer the core checks, then a session over the stream.

use std::sync::Arc;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use http::Response;
use tokio_util::compat::FuturesAsyncReadCompatExt as _;
use ws_session::wsproto_core::handshake::{
    ClientError, ClientHandshake, MAX_ERROR_BODY, ResponseError, Scheme,
};
use ws_session::{
    ClientResponse, Config, HandshakeError, HandshakeOptions, IntoClientRequest, Runtime,
};

use crate::WebSocket;
use crate::error::H2Error;
use crate::stream::{H2Stream, Stream};

/// How much a server may send on one stream before the session reads it
/// (HTTP/2 flow control; the received bytes are released as the session
/// reads them): 1 MiB, the default message size limit, so a whole message
/// at the limit can be in flight. The protocol's default, 64 KiB, costs a
/// round trip every 32 KiB (the 3 MiB echoes of the flow-control test
/// took 3.69 s with it, 0.39 s with this, on loopback in a debug build).
const STREAM_WINDOW: u32 = 1024 * 1024;

/// The same for the whole connection: room for a few streams at full
/// speed at once; what a connection holds unread stays bounded by it.
const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;

/// A handle on an HTTP/2 connection that accepts WebSockets (the server
/// sent `SETTINGS_ENABLE_CONNECT_PROTOCOL`). Cloning is cheap; every
/// clone opens streams on the same connection, and the connection ends
/// when the last handle and the last of its WebSockets are dropped.
///
/// Made by [`H2Connector::connect_h2`](crate::generic::H2Connector::connect_h2),
/// on any runtime: the connection's task, the sessions' timers and the
/// handshake timeout run on the runtime of the connector that made it.
#[derive(Debug, Clone)]
pub struct H2Connection {
    send: h2::client::SendRequest<Bytes>,
    runtime: Arc<dyn Runtime>,
    config: Arc<Config>,
    handshake: HandshakeOptions,
    scheme: Scheme,
    host: String,
    port: u16,
}

impl H2Connection {
    /// Runs the HTTP/2 handshake over `io` (a futures-io stream, seen by
    /// `h2` through tokio-util's `compat`) and waits until the server's
    /// SETTINGS are in: the connection, and whether they allow extended
    /// CONNECT. The connection's task is spawned on `runtime`.
    pub(crate) async fn handshake<T>(
        io: T,
        runtime: Arc<dyn Runtime>,
        config: Arc<Config>,
        handshake: HandshakeOptions,
        origin: (Scheme, &str, u16),
    ) -> Result<(Self, bool), H2Error>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (scheme, host, port) = origin;
        let fail = |source| H2Error::Http2 {
            authority: format!("{host}:{port}"),
            source,
        };
        let (send, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake(io.compat())
            .await
            .map_err(fail)?;
        let ping_pong = connection.ping_pong();
        runtime.spawn(Box::pin(async move {
            // The connection's end is seen by its streams.
            let _ = connection.await;
        }));
        // The server's SETTINGS are the first frame it sends (RFC 9113
        // §3.4): once the answer to our PING is back, they are applied.
        if let Some(mut ping_pong) = ping_pong {
            ping_pong.ping(h2::Ping::opaque()).await.map_err(fail)?;
        }
        let send = send.ready().await.map_err(fail)?;
        let enabled = send.is_extended_connect_protocol_enabled();
        let connection = H2Connection {
            send,
            runtime,
            config,
            handshake,
            scheme,
            host: host.to_owned(),
            port,
        };
        Ok((connection, enabled))
    }

    /// Opens a WebSocket on a new stream of this connection: `request`
    /// is a `ws://`/`wss://` URL (or a request with headers and
    /// subprotocols) of this connection's origin. Waits at most the
    /// handshake timeout for the answer.
    pub async fn open(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(WebSocket, ClientResponse), H2Error> {
        let handshake = ws_session::build_request(request, &self.config)?;
        if (handshake.scheme(), handshake.host(), handshake.port())
            != (self.scheme, self.host.as_str(), self.port)
        {
            return Err(H2Error::OtherOrigin {
                url: handshake.request().uri().to_string(),
                origin: self.origin(),
            });
        }
        self.open_handshake(handshake).await
    }

    /// `scheme://host:port` of the connection.
    #[must_use]
    pub fn origin(&self) -> String {
        let scheme = if self.scheme.is_secure() { "wss" } else { "ws" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}", self.port)
    }

    pub(crate) async fn open_handshake(
        &self,
        mut handshake: ClientHandshake,
    ) -> Result<(WebSocket, ClientResponse), H2Error> {
        let exchange = async {
            let mut request = handshake.extended_connect_request();
            request
                .extensions_mut()
                .insert(h2::ext::Protocol::from_static("websocket"));
            let mut send = self.send.clone().ready().await.map_err(|e| self.fail(e))?;
            let (response, stream) = send
                .send_request(request, false)
                .map_err(|e| self.fail(e))?;
            let response = response.await.map_err(|e| self.fail(e))?;
            let (head, body) = response.into_parts();
            Ok::<_, H2Error>((Response::from_parts(head, ()), stream, body))
        };
        let (response, send, mut body) = self.within_timeout(exchange).await??;
        let upgrade = match handshake.handle_extended_connect_response(response) {
            Ok(upgrade) => upgrade,
            Err(ClientError::Response(mut error)) => {
                if let ResponseError::UnexpectedStatus(refusal) = &mut error {
                    *refusal.body_mut() = self.within_timeout(body_start(&mut body)).await?;
                }
                return Err(HandshakeError::Response(error).into());
            }
            Err(other) => return Err(HandshakeError::Io(std::io::Error::other(other)).into()),
        };
        let io = Stream::h2(H2Stream::new(send, body));
        Ok(ws_session::start_client_session(
            upgrade,
            self.config.clone(),
            io,
            self.runtime.clone(),
        )?)
    }

    /// Whether the server allows extended CONNECT (always, for a
    /// connection [`connect_h2`](crate::generic::H2Connector::connect_h2) gave).
    #[must_use]
    pub fn extended_connect_enabled(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    fn fail(&self, source: h2::Error) -> H2Error {
        H2Error::Http2 {
            authority: format!("{}:{}", self.host, self.port),
            source,
        }
    }

    async fn within_timeout<F: Future>(&self, future: F) -> Result<F::Output, H2Error> {
        crate::within_handshake(&*self.runtime, self.handshake.get_timeout(), future).await
    }
}

/// The start of a refusal's body (at most [`MAX_ERROR_BODY`] bytes).
async fn body_start(body: &mut h2::RecvStream) -> Bytes {
    let mut start = Vec::new();
    while start.len() < MAX_ERROR_BODY {
        match body.data().await {
            Some(Ok(chunk)) => {
                let _ = body.flow_control().release_capacity(chunk.len());
                let room = MAX_ERROR_BODY - start.len();
                start.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            // A reset after the refusal: what came is what there is.
            Some(Err(_)) | None => break,
        }
    }
    start.into()
}
