//! An RFC 8441 client for the tests: an HTTP/2 connection (the `h2`
//! crate, plain TCP with prior knowledge), an extended CONNECT stream with
//! `:protocol websocket`, and our core running the WebSocket frames over
//! the stream's DATA frames.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use http::{Method, Request, Response};
use tokio::net::TcpStream;
use ws_tokio::wsproto_core::{
    Config, Connection, Event, ExtensionFactory, ExtensionHeader, MaskRng, Message,
};

/// Opens HTTP/2 connections to a server.
#[derive(Debug)]
pub struct H2Client {
    send: h2::client::SendRequest<Bytes>,
    authority: String,
}

impl H2Client {
    /// Connects with prior knowledge and waits until the server's SETTINGS
    /// are applied.
    ///
    /// # Errors
    /// When TCP or the HTTP/2 handshake fails.
    pub async fn connect(addr: SocketAddr) -> Result<Self, String> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let (send, mut connection) = h2::client::handshake(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let mut ping_pong = connection.ping_pong().ok_or("no ping handle")?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // The server's SETTINGS come first: once the pong to our ping is
        // back, they have been applied.
        ping_pong
            .ping(h2::Ping::opaque())
            .await
            .map_err(|e| e.to_string())?;
        let send = send.ready().await.map_err(|e| e.to_string())?;
        Ok(H2Client {
            send,
            authority: addr.to_string(),
        })
    }

    /// Whether the server announced `SETTINGS_ENABLE_CONNECT_PROTOCOL`.
    #[must_use]
    pub fn extended_connect_enabled(&self) -> bool {
        self.send.is_extended_connect_protocol_enabled()
    }

    /// Sends `request` (its URI's path; scheme and authority are filled
    /// in) on a new stream, with `protocol` as `:protocol` when given, and
    /// returns the response head and the stream's two halves.
    ///
    /// # Errors
    /// When the stream cannot be opened or the response does not come.
    pub async fn open(
        &mut self,
        request: http::request::Builder,
        protocol: Option<&'static str>,
    ) -> Result<(Response<()>, SendStream<Bytes>, RecvStream), String> {
        let mut request = request
            .version(http::Version::HTTP_2)
            .body(())
            .map_err(|e| e.to_string())?;
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        *request.uri_mut() = format!("http://{}{path}", self.authority)
            .parse()
            .map_err(|e: http::uri::InvalidUri| e.to_string())?;
        if let Some(protocol) = protocol {
            request
                .extensions_mut()
                .insert(h2::ext::Protocol::from_static(protocol));
        }
        let end_of_stream = request.method() != Method::CONNECT;
        let send = self.send.clone().ready().await.map_err(|e| e.to_string())?;
        self.send = send;
        let (response, stream) = self
            .send
            .send_request(request, end_of_stream)
            .map_err(|e| e.to_string())?;
        let response = response.await.map_err(|e| e.to_string())?;
        let (head, body) = response.into_parts();
        Ok((Response::from_parts(head, ()), stream, body))
    }

    /// Opens a WebSocket on `path` (RFC 8441): CONNECT with `:protocol
    /// websocket`, version 13, `extra` headers, and the extension offers of
    /// `config`'s factories. Returns the 200 and the session.
    ///
    /// # Errors
    /// When the stream fails, the status is not 200, or the accepted
    /// extensions are not ones offered.
    pub async fn websocket(
        &mut self,
        path: &str,
        config: Config,
        extra: &[(&str, &str)],
    ) -> Result<(Response<()>, H2WebSocket), String> {
        let mut request = Request::builder()
            .method(Method::CONNECT)
            .uri(path)
            .header("sec-websocket-version", "13");
        let offers: Vec<String> = config
            .extensions()
            .iter()
            .flat_map(|f| f.client_offers())
            .map(|o| o.to_string())
            .collect();
        if !offers.is_empty() {
            request = request.header("sec-websocket-extensions", offers.join(", "));
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let (response, send, recv) = self.open(request, Some("websocket")).await?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("status {}", response.status()));
        }
        let extensions = accepted_extensions(&response, config.extensions())?;
        let rng = MaskRng::from_os().map_err(|e| e.to_string())?;
        let conn = Connection::client(config, rng, now()).with_extensions(extensions);
        Ok((response, H2WebSocket { conn, send, recv }))
    }
}

/// tokio's clock (the core is told the time).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The extensions the 200 accepted, through the offering factories.
fn accepted_extensions(
    response: &Response<()>,
    factories: &[std::sync::Arc<dyn ExtensionFactory>],
) -> Result<Vec<Box<dyn ws_tokio::wsproto_core::Extension>>, String> {
    let Some(value) = response.headers().get("sec-websocket-extensions") else {
        return Ok(Vec::new());
    };
    let text = value.to_str().map_err(|e| e.to_string())?;
    let entries = ExtensionHeader::parse_list(text).map_err(|e| e.to_string())?;
    entries
        .iter()
        .map(|entry| {
            let factory = factories
                .iter()
                .find(|f| f.name().eq_ignore_ascii_case(&entry.name))
                .ok_or_else(|| format!("unoffered extension {}", entry.name))?;
            factory.client_accept(entry).map_err(|e| e.to_string())
        })
        .collect()
}

/// A WebSocket client session over an extended CONNECT stream, driven by
/// hand: our core for the frames, the stream for the bytes.
#[derive(Debug)]
pub struct H2WebSocket {
    conn: Connection,
    send: SendStream<Bytes>,
    recv: RecvStream,
}

impl H2WebSocket {
    /// The core, for sending (`send_text`, `close`, …).
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Writes what the core has queued as DATA frames.
    ///
    /// # Errors
    /// When the stream was reset.
    pub fn flush(&mut self) -> Result<(), String> {
        loop {
            let out = self.conn.poll_transmit();
            if out.is_empty() {
                return Ok(());
            }
            let chunk = Bytes::copy_from_slice(out);
            let n = chunk.len();
            self.send
                .send_data(chunk, false)
                .map_err(|e| e.to_string())?;
            self.conn.advance_transmit(n);
        }
    }

    /// The next event: flushes, then reads DATA until the core has one.
    /// `None` when the stream ends first.
    ///
    /// # Errors
    /// When the stream fails.
    pub async fn next_event(&mut self) -> Result<Option<Event>, String> {
        loop {
            self.flush()?;
            if let Some(event) = self.conn.poll_event() {
                self.flush()?;
                return Ok(Some(event));
            }
            let now = now();
            match self.recv.data().await {
                Some(Ok(data)) => {
                    let _ = self.recv.flow_control().release_capacity(data.len());
                    self.conn.handle_data(now, &data);
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => {
                    self.conn.handle_eof(now);
                    return Ok(self.conn.poll_event());
                }
            }
        }
    }

    /// The next message (control events are skipped).
    ///
    /// # Errors
    /// When the stream fails or ends, or the session closes, first.
    pub async fn next_message(&mut self) -> Result<Message, String> {
        loop {
            match self.next_event().await? {
                Some(Event::Message(message)) => return Ok(message),
                Some(Event::Closed(reason)) => return Err(format!("closed: {reason:?}")),
                Some(_) => {}
                None => return Err("the stream ended".to_owned()),
            }
        }
    }

    /// Ends the stream (an empty DATA frame with `END_STREAM`).
    ///
    /// # Errors
    /// When the stream was reset.
    pub fn finish(&mut self) -> Result<(), String> {
        self.flush()?;
        self.send
            .send_data(Bytes::new(), true)
            .map_err(|e| e.to_string())
    }
}
