//! Helpers shared by the example programs: argument parsing, the
//! configuration used by the conformance runs, and the testable parts of
//! the larger examples ([`chat`], [`wscat`], [`event_loop`], [`tls_demo`]).

pub mod chat;
pub mod counted;
pub mod event_loop;
pub mod tls_demo;
pub mod wscat;

use ws_tokio::ws_session::Session;
use ws_tokio::{Config, DeflateConfig};

/// The runtime an example runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// tokio (`ws-tokio`).
    Tokio,
    /// async-std's executor and sockets (`ws-async-std`).
    AsyncStd,
    /// smol's executor and sockets (`ws-async-std` too).
    Smol,
}

/// Parses `--name value` pairs and positional arguments.
#[derive(Debug, Default)]
pub struct Args {
    /// `(name, value)` for each `--name value`.
    pub options: Vec<(String, String)>,
    /// Everything else, in order.
    pub positional: Vec<String>,
}

impl Args {
    /// Reads the process arguments.
    ///
    /// # Errors
    /// An option without a value.
    pub fn parse() -> Result<Self, String> {
        let mut args = Args::default();
        let mut iter = std::env::args().skip(1);
        while let Some(arg) = iter.next() {
            if let Some(name) = arg.strip_prefix("--") {
                let value = iter
                    .next()
                    .ok_or_else(|| format!("option --{name} needs a value"))?;
                args.options.push((name.to_owned(), value));
            } else {
                args.positional.push(arg);
            }
        }
        Ok(args)
    }

    /// The value of `--name`, if given.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `--runtime tokio|async-std|smol` (default tokio).
    ///
    /// # Errors
    /// Any other value.
    pub fn runtime(&self) -> Result<RuntimeChoice, String> {
        match self.get("runtime").unwrap_or("tokio") {
            "tokio" => Ok(RuntimeChoice::Tokio),
            "async-std" => Ok(RuntimeChoice::AsyncStd),
            "smol" => Ok(RuntimeChoice::Smol),
            other => Err(format!(
                "unknown runtime {other:?}: use tokio, async-std or smol"
            )),
        }
    }

    /// `--name on|off` (also `true`/`false`, `1`/`0`), or `default`.
    ///
    /// # Errors
    /// Any other value.
    pub fn switch(&self, name: &str, default: bool) -> Result<bool, String> {
        match self.get(name) {
            None => Ok(default),
            Some("on" | "true" | "1") => Ok(true),
            Some("off" | "false" | "0") => Ok(false),
            Some(other) => Err(format!("--{name} {other:?}: use on or off")),
        }
    }

    /// `--threads N`: the number of runtime worker threads, `None` for the
    /// runtime's default.
    ///
    /// # Errors
    /// A value that is not a positive number.
    pub fn threads(&self) -> Result<Option<usize>, String> {
        self.get("threads")
            .map(|v| match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("--threads {v:?}: use a positive number")),
            })
            .transpose()
    }
}

/// The configuration of the conformance programs: permessage-deflate on,
/// messages and frames up to 64 MiB.
#[must_use]
pub fn conformance_config() -> Config {
    echo_config(true)
}

/// The echo programs' configuration: messages and frames up to 64 MiB,
/// permessage-deflate offered or accepted when `compress`.
#[must_use]
pub fn echo_config(compress: bool) -> Config {
    let config = Config::default()
        .with_max_message_size(64 << 20)
        .with_max_frame_size(64 << 20);
    if compress {
        config.with_compression(DeflateConfig::default())
    } else {
        config
    }
}

/// Echoes every text and binary message until the session ends (the
/// conformance loop of `echo_server` and `autobahn_client`, whichever
/// adapter made the session). Replies are fed, not sent: the next `recv`
/// that needs the transport writes them, so a pipelined burst is answered
/// in one write.
pub async fn echo<S>(ws: &mut Session<S>)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    while let Ok(message) = ws.recv().await {
        if ws.feed_message(message).await.is_err() {
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
