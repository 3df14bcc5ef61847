//! Helpers shared by the example programs (here and in `examples/more`):
//! the limits flag of the servers, the echo loop of the conformance
//! programs, and the testable part of the chat demo ([`chat`]).

pub mod chat;
pub mod counted;

use ws_session::{Config, DeflateConfig, Session};

/// The message and frame limits a server or client example runs with:
/// the library's defaults, unless `--max-message-size BYTES` raises (or
/// lowers) both, as Autobahn's 16 MiB cases need.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Limits {
    /// The largest message (and frame) accepted, in bytes [default: the
    /// library's, `Config::default()`]
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
}

impl Limits {
    /// `config` with these limits.
    #[must_use]
    pub fn apply(self, config: Config) -> Config {
        match self.max_message_size {
            None => config,
            Some(bytes) => config
                .with_max_message_size(bytes)
                .with_max_frame_size(bytes),
        }
    }
}

/// The echo programs' configuration: the library's defaults with
/// `limits`, permessage-deflate offered or accepted when `compress`.
#[must_use]
pub fn echo_config(compress: bool, limits: Limits) -> Config {
    let config = limits.apply(Config::default());
    if compress {
        config.with_compression(DeflateConfig::default())
    } else {
        config
    }
}

/// Echoes every text and binary message until the session ends (the
/// conformance loop of `echo_server` and `autobahn_client`, whichever
/// adapter made the session). The messages of one read are taken as a
/// batch (up to 64) and their replies fed, not sent: the next
/// `recv_batch` that needs the transport writes them, so a pipelined
/// burst is answered in one write.
pub async fn echo<S>(ws: &mut Session<S>)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let mut batch = std::collections::VecDeque::new();
    while ws.recv_batch(&mut batch, 64).await.is_ok() {
        if ws.feed_batch(&mut batch).await.is_err() {
            break;
        }
    }
}

/// Prints `message` to stderr and exits with status 2.
pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// A tokio runtime with `threads` workers: 1 is the current-thread runtime
/// (the benchmarks' setting), `None` one worker per core.
///
/// # Errors
/// The runtime could not start.
pub fn tokio_runtime(threads: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
}
