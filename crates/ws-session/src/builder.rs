//! What [`Connector`](crate::Connector) and [`Acceptor`](crate::Acceptor)
//! share: the runtime, the session config, the handshake timeout, the TCP
//! options and the TLS config, set and read the same way on both.

/// The setters and getters of the fields `runtime`, `config`,
/// `handshake`, `tcp` and `tls` (a `rustls` config of type `$tls`).
macro_rules! shared_builder_methods {
    ($tls:ty) => {
        /// The runtime (where a split session's driver task runs).
        #[must_use]
        pub fn runtime(mut self, runtime: R) -> Self {
            self.runtime = std::sync::Arc::new(runtime);
            self
        }

        /// The session configuration (limits, heartbeat, compression,
        /// mode), shared by every session made here.
        #[must_use]
        pub fn config(mut self, config: impl Into<std::sync::Arc<wsproto_core::Config>>) -> Self {
            self.config = config.into();
            self
        }

        /// How long the TLS and WebSocket handshakes may take together
        /// (`None`: no limit).
        #[must_use]
        pub fn handshake_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.handshake = self.handshake.timeout(timeout);
            self
        }

        /// The options set on TCP sockets (`TCP_NODELAY`, keepalive):
        /// connected ones, or those an accept loop accepts.
        #[must_use]
        pub fn tcp_options(mut self, tcp: crate::net::TcpOptions) -> Self {
            self.tcp = tcp;
            self
        }

        /// The TLS configuration (see [`crate::tls`]).
        #[cfg(feature = "rustls")]
        #[must_use]
        pub fn tls_config(mut self, tls: std::sync::Arc<$tls>) -> Self {
            self.tls = Some(tls);
            self
        }

        /// The session configuration.
        #[must_use]
        pub fn get_config(&self) -> &std::sync::Arc<wsproto_core::Config> {
            &self.config
        }

        /// The TCP options.
        #[must_use]
        pub fn get_tcp_options(&self) -> crate::net::TcpOptions {
            self.tcp
        }

        /// The runtime.
        #[must_use]
        pub fn get_runtime(&self) -> &R {
            &self.runtime
        }
    };
}

pub(crate) use shared_builder_methods;
