//! [`adapter!`](crate::adapter): the public types of a runtime adapter,
//! written once. An adapter crate implements [`Net`](crate::Net) for its
//! runtime, names its TCP stream and how one of its streams is seen
//! through `futures-io`, and invokes the macro; it gets a `WebSocket<S>`
//! newtype (every method on its own doc page, compile errors naming the
//! adapter's type), a `Connector` and an `Acceptor` over the generic ones,
//! and `connect`, `accept` and `pair`.

/// Defines an adapter's `WebSocket`, `Connector`, `Acceptor`, `connect`,
/// `accept`, `serve`, `shutdown_handle`, `incoming` and `pair` over the generic
/// [`Session`](crate::Session), [`Incoming`](crate::Incoming),
/// [`Connector`](crate::Connector) and [`Acceptor`](crate::Acceptor).
///
/// ```text
/// ws_session::adapter! {
///     runtime: TokioRuntime,                 // implements Net + Default
///     tcp: tokio::net::TcpStream,            // the default stream type
///     io: Compat,                            // Io<S>: S seen through futures-io
///     wrap: Compat::new,                     // S -> Io<S>
///     bounds: [tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin],
///     pipe: tokio::io::DuplexStream,         // the in-memory pair's stream
///     duplex: tokio::io::duplex,             // fn(capacity) -> (pipe, pipe)
///     listener: tokio::net::TcpListener,     // `async fn accept(&self)` -> (tcp, addr)
/// }
/// ```
///
/// The runtime's `Net::Tcp` must be `Io<tcp>`. The adapter crate needs
/// the cargo features `json` and `rustls` (forwarding to this crate's).
#[macro_export]
macro_rules! adapter {
    (@shared $wrapper:ident, $runtime:ty, $tls:ident) => {
        /// The runtime (where a split session's driver task runs).
        #[must_use]
        pub fn runtime(self, runtime: $runtime) -> Self {
            $wrapper { inner: self.inner.runtime(runtime) }
        }

        /// The session configuration (limits, heartbeat, compression,
        /// mode), shared by every session made here.
        #[must_use]
        pub fn config(self, config: impl ::std::convert::Into<::std::sync::Arc<$crate::Config>>) -> Self {
            $wrapper { inner: self.inner.config(config) }
        }

        /// How long the TLS and WebSocket handshakes may take together
        /// (`None`: no limit).
        #[must_use]
        pub fn handshake_timeout(self, timeout: ::std::option::Option<::std::time::Duration>) -> Self {
            $wrapper { inner: self.inner.handshake_timeout(timeout) }
        }

        /// The TCP options (`TCP_NODELAY`, keepalive) of connected
        /// sockets, or of those `serve` accepts.
        #[must_use]
        pub fn tcp_options(self, tcp: $crate::TcpOptions) -> Self {
            $wrapper { inner: self.inner.tcp_options(tcp) }
        }

        /// The TLS configuration: for `wss://` (default: webpki roots,
        /// [`default_client_config`]), or to serve TLS (see
        /// [`server_config`], [`server_config_from_pem`]).
        #[cfg(feature = "rustls")]
        #[must_use]
        pub fn tls_config(self, tls: ::std::sync::Arc<$crate::__rustls::$tls>) -> Self {
            $wrapper { inner: self.inner.tls_config(tls) }
        }
    };
    (
        runtime: $runtime:ty,
        tcp: $tcp:ty,
        io: $io:ident,
        wrap: $wrap:path,
        bounds: [$($bound:tt)+],
        pipe: $pipe:ty,
        duplex: $duplex:path,
        listener: $listener:ty $(,)?
    ) => {
        /// A WebSocket session over a stream `S` (by default a TCP
        /// connection this crate made or accepted), plain or with TLS.
        ///
        /// It is a `Stream` of [`Message`]s and a `Sink` of them, as a
        /// tokio-tungstenite `WebSocketStream` is: `SinkExt::send`,
        /// `StreamExt::next` and `StreamExt::split` work as there, and the
        /// stream shows pings, pongs and the peer's Close (which the
        /// session has answered). Its own methods send without the
        /// `Sink`'s ceremony ([`send_text`](Self::send_text)), receive
        /// data messages only ([`recv`](Self::recv)), close and wait for
        /// the handshake ([`close`](Self::close)), and split into halves
        /// that need no lock ([`spawn_split`](Self::spawn_split)).
        ///
        /// Heartbeats, pongs and the close handshake run while any method
        /// is awaited (or the stream polled); every method is
        /// cancellation-safe. Dropped while open, it sends Close 1001.
        pub struct WebSocket<S = $tcp>
        where
            S: $($bound)+,
        {
            inner: $crate::Session<$crate::MaybeTls<$io<S>>>,
        }

        impl<S> ::std::fmt::Debug for WebSocket<S>
        where
            S: $($bound)+,
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&self.inner, f)
            }
        }

        impl<S> WebSocket<S>
        where
            S: $($bound)+,
        {
            /// Wraps a session of the generic layer.
            #[must_use]
            pub fn from_session(inner: $crate::Session<$crate::MaybeTls<$io<S>>>) -> Self {
                WebSocket { inner }
            }

            /// The session of the generic layer, for code written over
            /// `ws_session` (test harnesses, integrations).
            #[must_use]
            pub fn into_session(self) -> $crate::Session<$crate::MaybeTls<$io<S>>> {
                self.inner
            }

            /// The transport: the stream, or TLS over it.
            #[must_use]
            pub fn get_ref(&self) -> &$crate::MaybeTls<$io<S>> {
                self.inner.get_ref()
            }

            /// The transport, mutably (for socket options; reading or
            /// writing it directly corrupts the session).
            pub fn get_mut(&mut self) -> &mut $crate::MaybeTls<$io<S>> {
                self.inner.get_mut()
            }

            /// The protocol core, for inspection (state, negotiated
            /// extensions, queued bytes).
            #[must_use]
            pub fn connection(&self) -> &$crate::wsproto_core::Connection {
                self.inner.connection()
            }

            /// How the session ended, once it has.
            #[must_use]
            pub fn close_reason(&self) -> ::std::option::Option<&$crate::CloseReason> {
                self.inner.close_reason()
            }

            /// Changes the heartbeat interval at run time (`None` stops it).
            pub fn set_ping_interval(&mut self, interval: ::std::option::Option<::std::time::Duration>) {
                self.inner.set_ping_interval(interval);
            }

            /// Changes how long to wait for a heartbeat's pong.
            pub fn set_timeout(&mut self, timeout: ::std::time::Duration) {
                self.inner.set_timeout(timeout);
            }

            /// Sends a text message: waits while the send queue is full,
            /// returns once it is queued and writing has started
            /// ([`flush`](Self::flush) waits for the write).
            pub async fn send_text(&mut self, text: impl ::std::convert::Into<$crate::Utf8Bytes>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_text(text).await
            }

            /// Sends a binary message, as [`send_text`](Self::send_text).
            pub async fn send_binary(&mut self, data: impl ::std::convert::Into<$crate::Bytes>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_binary(data).await
            }

            /// Sends a message of any kind, as the `Sink` does (a
            /// `Message::Close` starts the close handshake without waiting
            /// for it), returning as [`send_text`](Self::send_text) does.
            pub async fn send_message(&mut self, message: impl ::std::convert::Into<$crate::Message>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_message(message).await
            }

            /// Queues a message without starting to write it: it goes out
            /// with the next call that needs the transport (`recv`,
            /// `flush`, a send). An echo loop that answers with it answers
            /// a burst of messages with one write.
            pub async fn feed_message(&mut self, message: impl ::std::convert::Into<$crate::Message>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.feed_message(message).await
            }

            /// Sends a frame: in raw mode as it is (a Close only with a
            /// valid payload), in default mode as the message, control
            /// frame or close it stands for. Not `send`: that is
            /// `SinkExt::send`, which takes a [`Message`].
            pub async fn send_frame(&mut self, frame: $crate::Frame) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_frame(frame).await
            }

            /// Sends a text or binary message as frames of at most
            /// `fragment_size` payload bytes.
            pub async fn send_fragmented(&mut self, message: impl ::std::convert::Into<$crate::Message>, fragment_size: usize) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_fragmented(message, fragment_size).await
            }

            /// Sends a ping (its pong shows in the `Stream` and in
            /// [`recv_event`](Self::recv_event)).
            pub async fn send_ping(&mut self, payload: impl ::std::convert::Into<$crate::Bytes>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_ping(payload).await
            }

            /// Sends an unsolicited pong.
            pub async fn send_pong(&mut self, payload: impl ::std::convert::Into<$crate::Bytes>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_pong(payload).await
            }

            /// Waits until everything queued is written to the transport.
            pub async fn flush(&mut self) -> ::std::result::Result<(), $crate::Error> {
                self.inner.flush().await
            }

            /// The next text or binary message; pings, pongs and the
            /// peer's Close are answered and skipped. `Err(Error::Closed)`
            /// once the session has ended (`is_clean_close()` after a
            /// close handshake). Cancellation-safe.
            pub async fn recv(&mut self) -> ::std::result::Result<$crate::Message, $crate::Error> {
                self.inner.recv().await
            }

            /// Waits for the next text or binary message as `recv` does,
            /// then appends every further whole message of input already
            /// read, up to `max` in all; returns how many (≥ 1). See
            /// `Session::recv_batch`. Cancellation-safe.
            pub async fn recv_batch(&mut self, messages: &mut ::std::collections::VecDeque<$crate::Message>, max: usize) -> ::std::result::Result<usize, $crate::Error> {
                self.inner.recv_batch(messages, max).await
            }

            /// Queues every message of `messages` (taking each out as it
            /// is queued) without starting to write, as `feed_message`
            /// does for one. See `Session::feed_batch`. Cancellation-safe.
            pub async fn feed_batch(&mut self, messages: &mut ::std::collections::VecDeque<$crate::Message>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.feed_batch(messages).await
            }

            /// The next event of any kind from the protocol core.
            pub async fn recv_event(&mut self) -> ::std::result::Result<$crate::Event, $crate::Error> {
                self.inner.recv_event().await
            }

            /// The next frame, as it came off the wire (raw mode).
            pub async fn recv_frame(&mut self) -> ::std::result::Result<$crate::Frame, $crate::Error> {
                self.inner.recv_frame().await
            }

            /// Starts the close handshake and waits until it completes (or
            /// the close timeout expires) and the transport is closed:
            /// `close(None)` sends 1000, `close(CloseFrame::new(code,
            /// reason))` your own. Messages queued before go first;
            /// messages that arrive meanwhile stay for
            /// [`recv`](Self::recv).
            pub async fn close(&mut self, frame: impl ::std::convert::Into<::std::option::Option<$crate::CloseFrame>>) -> ::std::result::Result<(), $crate::Error> {
                self.inner.close(frame).await
            }

            /// Ends the session at once, without a close handshake.
            pub async fn terminate(&mut self) {
                self.inner.terminate().await;
            }

            /// Sends `value` encoded by `converter`.
            pub async fn send_serialized_with<C: $crate::Converter, T: $crate::__serde::Serialize + ?Sized>(&mut self, converter: &C, value: &T) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_serialized_with(converter, value).await
            }

            /// Receives the next message and decodes it with `converter`;
            /// one that does not decode is `Error::Convert` (the session
            /// stays usable).
            pub async fn receive_deserialized_with<C: $crate::Converter, T: $crate::__serde::de::DeserializeOwned>(&mut self, converter: &C) -> ::std::result::Result<T, $crate::Error> {
                self.inner.receive_deserialized_with(converter).await
            }

            /// Sends `value` as JSON text.
            #[cfg(feature = "json")]
            pub async fn send_serialized<T: $crate::__serde::Serialize + ?Sized>(&mut self, value: &T) -> ::std::result::Result<(), $crate::Error> {
                self.inner.send_serialized(value).await
            }

            /// Receives the next message as JSON.
            #[cfg(feature = "json")]
            pub async fn receive_deserialized<T: $crate::__serde::de::DeserializeOwned>(&mut self) -> ::std::result::Result<T, $crate::Error> {
                self.inner.receive_deserialized().await
            }
        }

        impl<S> WebSocket<S>
        where
            S: $($bound)+ + ::std::marker::Send + 'static,
        {
            /// Moves the session into a driver task and returns a write
            /// half and a read half that need no lock (unlike
            /// `StreamExt::split`, which shares the session through one);
            /// heartbeats and pongs go on while neither half is polled.
            #[must_use]
            pub fn spawn_split(self) -> ($crate::SessionWriter, $crate::SessionReader) {
                self.inner.spawn_split()
            }

            /// [`spawn_split`](Self::spawn_split) with a chosen channel
            /// capacity (messages buffered each way).
            #[must_use]
            pub fn spawn_split_with_capacity(self, capacity: usize) -> ($crate::SessionWriter, $crate::SessionReader) {
                self.inner.spawn_split_with_capacity(capacity)
            }
        }

        /// Every message until the end (pings, pongs and the peer's Close
        /// included); `None` after a clean close, one error after any
        /// other end.
        impl<S> $crate::__futures::Stream for WebSocket<S>
        where
            S: $($bound)+,
        {
            type Item = ::std::result::Result<$crate::Message, $crate::Error>;

            fn poll_next(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::option::Option<Self::Item>> {
                $crate::__futures::Stream::poll_next(::std::pin::Pin::new(&mut self.get_mut().inner), cx)
            }
        }

        /// Messages of every kind in: a Close starts the close handshake,
        /// `close()` runs it to the end.
        impl<S> $crate::__futures::Sink<$crate::Message> for WebSocket<S>
        where
            S: $($bound)+,
        {
            type Error = $crate::Error;

            fn poll_ready(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::result::Result<(), $crate::Error>> {
                $crate::__futures::Sink::poll_ready(::std::pin::Pin::new(&mut self.get_mut().inner), cx)
            }

            fn start_send(
                self: ::std::pin::Pin<&mut Self>,
                item: $crate::Message,
            ) -> ::std::result::Result<(), $crate::Error> {
                $crate::__futures::Sink::start_send(::std::pin::Pin::new(&mut self.get_mut().inner), item)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::result::Result<(), $crate::Error>> {
                $crate::__futures::Sink::poll_flush(::std::pin::Pin::new(&mut self.get_mut().inner), cx)
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::result::Result<(), $crate::Error>> {
                $crate::__futures::Sink::poll_close(::std::pin::Pin::new(&mut self.get_mut().inner), cx)
            }
        }

        /// A client: the session [`Config`], TLS, timeouts, TCP options
        /// and how the stream to the server is opened. Cloning is cheap;
        /// connections made by a connector and its clones share one TLS
        /// session cache (a second connection resumes the first's TLS
        /// session).
        #[derive(Debug, Clone, Default)]
        pub struct Connector {
            inner: $crate::Connector<$runtime>,
        }

        impl Connector {
            /// The defaults: [`Config::default`], a 30 s connect timeout, a
            /// 10 s handshake timeout, `TCP_NODELAY` and keepalive, direct
            /// TCP, webpki roots for `wss://`.
            #[must_use]
            pub fn new() -> Self {
                Self::default()
            }

            $crate::adapter!(@shared Connector, $runtime, ClientConfig);

            /// Timeouts and TCP options at once.
            #[must_use]
            pub fn options(self, options: $crate::ConnectOptions) -> Self {
                Connector { inner: self.inner.options(options) }
            }

            /// How long opening the stream may take (`None`: no limit).
            #[must_use]
            pub fn connect_timeout(self, timeout: ::std::option::Option<::std::time::Duration>) -> Self {
                Connector { inner: self.inner.connect_timeout(timeout) }
            }

            /// Which proxy to use: the proxy environment variables by
            /// default (`HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for
            /// `ws://`, `ALL_PROXY`, `NO_PROXY`, like curl),
            /// `ProxyConfig::Direct` for none, `ProxyConfig::explicit` for
            /// one that wins over the environment.
            #[must_use]
            pub fn proxy(self, proxy: $crate::proxy::ProxyConfig) -> Self {
                Connector { inner: self.inner.proxy(proxy) }
            }

            /// Always this proxy (`http://`, `https://`, `socks5://`,
            /// `socks5h://`, credentials in the userinfo).
            #[must_use]
            pub fn proxy_url(self, proxy: $crate::proxy::Proxy) -> Self {
                Connector { inner: self.inner.proxy_url(proxy) }
            }

            /// How the addresses of a name are raced (RFC 8305): the
            /// stagger (250 ms) and a per-attempt timeout.
            #[must_use]
            pub fn dial_options(self, options: $crate::proxy::DialOptions) -> Self {
                Connector { inner: self.inner.dial_options(options) }
            }

            /// Follows up to `max` redirects of the upgrade (none by
            /// default; never from `wss://` to `ws://`).
            #[must_use]
            pub fn redirects(self, max: usize) -> Self {
                Connector { inner: self.inner.redirects(max) }
            }

            /// Answers `host` with `addrs` instead of asking the resolver
            /// (curl's `--resolve`).
            #[must_use]
            pub fn resolve(self, host: &str, addrs: impl ::std::iter::IntoIterator<Item = ::std::net::IpAddr>) -> Self {
                Connector { inner: self.inner.resolve(host, addrs) }
            }

            /// Replaces the built-in way of opening the stream (proxy
            /// selection, the address race) with `transport`.
            #[must_use]
            pub fn transport(self, transport: impl $crate::Transport<$runtime>) -> Self {
                Connector { inner: self.inner.transport(transport) }
            }

            /// The generic connector this one wraps (for integrations
            /// written over `ws_session`).
            #[must_use]
            pub fn as_generic(&self) -> &$crate::Connector<$runtime> {
                &self.inner
            }

            /// Connects to `request` (a `ws://` or `wss://` URL, an
            /// `http::Request`, a [`ClientRequestBuilder`]): opens the
            /// stream (through the proxy, if one applies), runs TLS for
            /// `wss://`, then the upgrade. Returns the session and the
            /// server's response.
            pub async fn connect(
                &self,
                request: impl $crate::IntoClientRequest,
            ) -> ::std::result::Result<(WebSocket, $crate::ClientResponse), $crate::ConnectError> {
                let (session, response) = ::std::boxed::Box::pin(self.inner.connect(request)).await?;
                Ok((WebSocket::from_session(session), response))
            }

            /// Runs the WebSocket handshake over a stream the caller
            /// already has (a Unix socket, an in-memory pipe, a TLS
            /// stream of its own, a proxy tunnel): no connect and no TLS;
            /// the URL in `request` gives the `Host` and the path.
            pub async fn connect_over<S>(
                &self,
                stream: S,
                request: impl $crate::IntoClientRequest,
            ) -> ::std::result::Result<(WebSocket<S>, $crate::ClientResponse), $crate::HandshakeError>
            where
                S: $($bound)+,
            {
                let (session, response) = self.inner.connect_over($wrap(stream), request).await?;
                Ok((WebSocket::from_session(session), response))
            }

            /// A client of `request` that reconnects (backoff with
            /// jitter, a hook on every new session, one event stream
            /// across sessions; see `ws_session::reconnect`). Add the
            /// hook with `on_connect`, then `start()`.
            pub fn reconnecting(
                &self,
                request: impl $crate::IntoClientRequest,
                options: $crate::ReconnectOptions,
            ) -> ::std::result::Result<$crate::Reconnect<$crate::MaybeTls<<$runtime as $crate::Net>::Tcp>>, $crate::HandshakeError> {
                self.inner.reconnecting(request, options)
            }
        }

        /// A server: the session [`Config`], TLS, the handshake timeout,
        /// TCP options for accept loops and an Origin policy. Cloning is
        /// cheap. To accept is the same on every path: TLS when
        /// configured, then the upgrade; the result is one
        /// [`WebSocket<S>`] type either way.
        #[derive(Debug, Clone, Default)]
        pub struct Acceptor {
            inner: $crate::Acceptor<$runtime>,
        }

        impl Acceptor {
            /// The defaults: [`Config::default`], a 10 s handshake
            /// timeout, no TLS, any Origin, no connection cap.
            #[must_use]
            pub fn new() -> Self {
                Self::default()
            }

            $crate::adapter!(@shared Acceptor, $runtime, ServerConfig);

            /// Answers 403 to an upgrade whose `Origin` is not one of
            /// `origins` (requests without `Origin`, from clients that
            /// are not browsers, pass): no other site's page can open a
            /// session with the user's cookies.
            #[must_use]
            pub fn allowed_origins<I>(self, origins: I) -> Self
            where
                I: ::std::iter::IntoIterator,
                I::Item: ::std::convert::AsRef<str>,
            {
                Acceptor { inner: self.inner.allowed_origins(origins) }
            }

            /// Which pages may open sessions here (exact origins, the same
            /// host, whether a missing `Origin` passes); others get 403.
            #[must_use]
            pub fn origin_policy(self, policy: $crate::OriginPolicy) -> Self {
                Acceptor { inner: self.inner.origin_policy(policy) }
            }

            /// At most `max` connections at once (handshakes included),
            /// here and in [`serve`]: over it, the upgrade is answered 503
            /// with `Retry-After: 5` and the connection closed. Shorthand
            /// for [`connection_limit`](Self::connection_limit).
            #[must_use]
            pub fn max_connections(self, max: usize) -> Self {
                self.connection_limit($crate::ConnectionLimit::new(max))
            }

            /// A cap on concurrent connections shared with every clone of
            /// `limit` (several listeners, an axum route): over it, 503
            /// with `Retry-After`. A session holds its place until it ends,
            /// its handler task ends or panics.
            #[must_use]
            pub fn connection_limit(self, limit: $crate::ConnectionLimit) -> Self {
                Acceptor { inner: self.inner.connection_limit(limit) }
            }

            /// A graceful-shutdown handle ([`shutdown_handle`]): sessions
            /// accepted here close with 1001 when it is signalled, and
            /// [`serve`] stops accepting.
            #[must_use]
            pub fn shutdown(self, shutdown: $crate::Shutdown) -> Self {
                Acceptor { inner: self.inner.shutdown(shutdown) }
            }

            /// The generic acceptor this one wraps (for integrations
            /// written over `ws_session`).
            #[must_use]
            pub fn as_generic(&self) -> &$crate::Acceptor<$runtime> {
                &self.inner
            }

            /// Accepts every valid upgrade on `stream` that the Origin
            /// policy allows: TLS first when configured, then the upgrade.
            pub async fn accept<S>(
                &self,
                stream: S,
            ) -> ::std::result::Result<(WebSocket<S>, $crate::AcceptedRequest), $crate::HandshakeError>
            where
                S: $($bound)+,
            {
                self.accept_with(stream, |_| $crate::Decision::accept()).await
            }

            /// As [`accept`](Self::accept), with `decide` choosing from
            /// the request (path, query, headers, offered subprotocols):
            /// accept (subprotocol, extra headers) or reject (status,
            /// headers, body).
            pub async fn accept_with<S, F>(
                &self,
                stream: S,
                decide: F,
            ) -> ::std::result::Result<(WebSocket<S>, $crate::AcceptedRequest), $crate::HandshakeError>
            where
                S: $($bound)+,
                F: ::std::ops::FnOnce(&$crate::UpgradeRequest) -> $crate::Decision,
            {
                let (session, request) =
                    ::std::boxed::Box::pin(self.inner.accept_with($wrap(stream), decide)).await?;
                Ok((WebSocket::from_session(session), request))
            }

            /// As [`accept_with`](Self::accept_with), with an async
            /// `decide` that may look things up (a token in a database)
            /// before it answers, within the handshake timeout.
            pub async fn accept_with_async<S, F>(
                &self,
                stream: S,
                decide: F,
            ) -> ::std::result::Result<(WebSocket<S>, $crate::AcceptedRequest), $crate::HandshakeError>
            where
                S: $($bound)+,
                F: ::std::ops::AsyncFnOnce(&$crate::UpgradeRequest) -> $crate::Decision,
            {
                let (session, request) =
                    ::std::boxed::Box::pin(self.inner.accept_with_async($wrap(stream), decide)).await?;
                Ok((WebSocket::from_session(session), request))
            }
        }

        /// Connects to `request` (a `ws://` or `wss://` URL, an
        /// `http::Request`, a [`ClientRequestBuilder`]) with the default
        /// [`Connector`]: tokio-tungstenite's `connect_async`.
        pub async fn connect(
            request: impl $crate::IntoClientRequest,
        ) -> ::std::result::Result<(WebSocket, $crate::ClientResponse), $crate::ConnectError> {
            Connector::new().connect(request).await
        }

        /// Accepts a WebSocket upgrade on `stream` with the default
        /// [`Acceptor`]: tokio-tungstenite's `accept_async`.
        pub async fn accept<S>(stream: S) -> ::std::result::Result<WebSocket<S>, $crate::HandshakeError>
        where
            S: $($bound)+,
        {
            Ok(Acceptor::new().accept(stream).await?.0)
        }

        /// The connections `listener` accepts, as a `Stream` for an accept
        /// loop: out of descriptors (`EMFILE`) or buffers, it pauses
        /// (10 ms, growing to 1 s) and goes on when they free up, instead
        /// of failing or spinning; a connection that fails before it is
        /// accepted is skipped; `TCP_NODELAY` and keepalive are set. It
        /// yields an error only when the listener itself is broken.
        pub fn incoming(listener: $listener) -> $crate::Incoming<$tcp> {
            let runtime: ::std::sync::Arc<dyn $crate::Runtime> =
                ::std::sync::Arc::new(<$runtime as ::std::default::Default>::default());
            incoming_on(runtime, listener)
        }

        fn incoming_on(
            runtime: ::std::sync::Arc<dyn $crate::Runtime>,
            listener: $listener,
        ) -> $crate::Incoming<$tcp> {
            $crate::Incoming::new(runtime, listener, |listener: ::std::sync::Arc<$listener>| async move {
                listener.accept().await.map(|(tcp, _)| tcp)
            })
        }

        /// A server's accept loop: accepts connections on `listener`
        /// ([`incoming`]: no end or spin when out of descriptors, the
        /// acceptor's TCP options set), runs `acceptor`'s TLS and upgrade
        /// on each in a task of its own, and hands every session and its
        /// request to `handler`. Connections whose handshake fails are
        /// dropped. With [`Acceptor::connection_limit`], a connection over
        /// the cap is answered 503 with `Retry-After` and closed; with
        /// [`Acceptor::shutdown`], the loop returns `Ok` when the shutdown
        /// begins (the listener is dropped) and the shutdown closes the
        /// sessions. Otherwise it returns only if the listener breaks.
        pub async fn serve<H, Fut>(
            listener: $listener,
            acceptor: Acceptor,
            handler: H,
        ) -> ::std::io::Result<()>
        where
            H: Fn(WebSocket, $crate::AcceptedRequest) -> Fut + ::std::marker::Send + ::std::marker::Sync + 'static,
            Fut: ::std::future::Future<Output = ()> + ::std::marker::Send + 'static,
        {
            let runtime: ::std::sync::Arc<dyn $crate::Runtime> =
                ::std::sync::Arc::new(acceptor.as_generic().get_runtime().clone());
            let connections = incoming_on(runtime, listener)
                .tcp_options(::std::option::Option::Some(acceptor.as_generic().get_tcp_options()));
            $crate::serve(acceptor.inner, connections, $wrap, move |session, request| {
                handler(WebSocket::from_session(session), request)
            })
            .await
        }

        /// A graceful-shutdown handle on this runtime's clock, for
        /// [`Acceptor::shutdown`]: `handle.shutdown(deadline).await` stops
        /// `serve`, closes every session with 1001 after what was queued
        /// for it, waits for the close handshakes up to the deadline,
        /// drops the rest and reports.
        #[must_use]
        pub fn shutdown_handle() -> $crate::Shutdown {
            $crate::Shutdown::new(::std::sync::Arc::new(<$runtime as ::std::default::Default>::default()))
        }

        /// A connected client/server pair in memory, after a real
        /// handshake (so `config`'s compression is negotiated): for
        /// testing code that uses a session.
        pub async fn pair(
            config: $crate::Config,
        ) -> ::std::result::Result<(WebSocket<$pipe>, WebSocket<$pipe>), $crate::HandshakeError> {
            let (a, b) = $duplex(256 * 1024);
            // Boxed: two handshakes in one future would make every
            // caller's future large.
            let (client, server) = ::std::boxed::Box::pin($crate::pair(
                ::std::sync::Arc::new(<$runtime as ::std::default::Default>::default()),
                $crate::MaybeTls::Plain($wrap(a)),
                $crate::MaybeTls::Plain($wrap(b)),
                config,
            ))
            .await?;
            Ok((WebSocket::from_session(client), WebSocket::from_session(server)))
        }
    };
}
