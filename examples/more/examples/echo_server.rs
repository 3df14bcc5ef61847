//! Echoes every text and binary message, with permessage-deflate, with the
//! library's default limits (raise them with `--max-message-size` for
//! Autobahn's 16 MiB cases).
//!
//! ```text
//! cargo run -p examples-more --example echo_server -- --addr 127.0.0.1:9002
//!     [--runtime tokio|async-std|smol] [--threads N] [--compress on|off]
//!     [--max-message-size BYTES] [--tls-cert cert.pem --tls-key key.pem]
//! ```
//!
//! `--threads 1` runs tokio on its current-thread runtime (the benchmark's
//! setting, as the peers run); without it tokio's multi-thread runtime uses
//! one worker per core (`--threads N`: N workers). async-std and smol run
//! as they do by default. `--compress off` declines permessage-deflate.
//! `--tls-cert`/`--tls-key` serve `wss://` (tokio only; the benchmark's
//! wss rows).
//! The accept loop is the adapters' `serve`: out of file descriptors it
//! pauses and goes on, it neither exits nor spins.
use clap::Parser;
use examples::{Limits, echo_config, fail};
use examples_more::{
    RuntimeChoice, Switch, async_std_runtime, echo_async_io, echo_tokio, tokio_runtime,
};

/// An echo server for benchmarks and the Autobahn test suite.
#[derive(Debug, Parser)]
struct Cli {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:9002")]
    addr: String,
    /// The runtime (and adapter) to serve with.
    #[arg(long, value_enum, default_value = "tokio")]
    runtime: RuntimeChoice,
    /// tokio's worker threads (1: the current-thread runtime).
    #[arg(long)]
    threads: Option<usize>,
    /// Accept permessage-deflate.
    #[arg(long, value_enum, default_value = "on")]
    compress: Switch,
    #[command(flatten)]
    limits: Limits,
    /// Serve TLS with this certificate chain (PEM; tokio only).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<std::path::PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let config = echo_config(cli.compress == Switch::On, cli.limits);
    let addr = cli.addr.as_str();
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            Some(examples_more::tls_demo::from_pem_files(cert, key).unwrap_or_else(|e| fail(&e)))
        }
        _ => None,
    };
    if tls.is_some() && cli.runtime != RuntimeChoice::Tokio {
        fail("--tls-cert is for --runtime tokio");
    }
    let served = match cli.runtime {
        RuntimeChoice::Tokio => tokio_runtime(cli.threads)
            .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")))
            .block_on(echo_tokio(addr, config, tls)),
        RuntimeChoice::AsyncStd => async_std::task::block_on(echo_async_io(
            "async-std",
            addr,
            config,
            async_std_runtime(),
        )),
        RuntimeChoice::Smol => smol::block_on(echo_async_io(
            "smol",
            addr,
            config,
            ws_async_std::AsyncIoRuntime::new(),
        )),
    };
    if let Err(e) = served {
        fail(&format!("cannot serve on {addr}: {e}"));
    }
}
