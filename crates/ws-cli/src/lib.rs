//! `wsp`: a WebSocket client and server for the command line, in the
//! websocat/wscat class, over [`ws_tokio`].
//!
//! ```text
//!  cli (clap: flags, help, exit statuses)
//!   ├─ client: connect (TCP, TLS) ─► link::upgrade ─► lines ⇄ messages ─► exit status
//!   └─ server: accept (TLS) ─► link::Server::accept (Origin, subprotocol) ─► echo | broadcast | stdio
//!  link: every call into the WebSocket library     term: stdin lines, line editor, stdout
//!  codec: hex / base64 / JSON rendering            tap: the heads `-v` shows
//! ```
//!
//! The binary is [`main`]; the pieces are public so that their behaviour
//! is tested where it lives. Exit statuses: [`cli::Exit`].
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod codec;
pub mod connect;
pub mod link;
pub mod server;
pub mod tap;
pub mod term;
pub mod tls;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Exit};

/// Parses the process's arguments and runs `wsp`: prints help, a version
/// or completions, or runs client or server mode on a tokio runtime.
/// Returns the exit status (`clap` itself exits with 2 on a usage error
/// and 0 after `--help` or `--version`).
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(shell) = cli.completions {
        clap_complete::generate(shell, &mut Cli::command(), "wsp", &mut std::io::stdout());
        return Exit::Normal.into();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("wsp: cannot start the runtime: {e}");
            return Exit::Failure.into();
        }
    };
    let exit = runtime.block_on(async {
        if cli.listen.is_some() {
            server::run(&cli).await
        } else {
            client::run(&cli).await
        }
    });
    // Standard input is read on a blocking thread that cannot be
    // interrupted: do not wait for it.
    runtime.shutdown_background();
    exit.into()
}
