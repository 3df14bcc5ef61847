//! A WebSocket echo server in one thread with no async runtime: mio
//! readiness polling over non-blocking `std`/mio sockets, driving
//! `wsproto_core::Connection` by hand, its timers (heartbeat, close
//! timeout) from `poll_timeout()`. The sans-IO design in one file
//! (`examples/more/src/event_loop.rs`).
//!
//! Run: `cargo run -p examples-more --example event_loop` — serves on
//! `127.0.0.1:0`, opens 100 client connections at once from another
//! thread, echoes a message on each, waits for a heartbeat on each, closes
//! them all, prints the counts and exits.
//! `-- --connections N` changes the count; `-- --addr 127.0.0.1:9002`
//! serves forever instead (try it with `wscat`).
use std::time::Duration;

use clap::Parser;
use examples::{Limits, fail};
use examples_more::event_loop::{run_clients, serve};
use wsproto_core::{Config, DeflateConfig};

/// An echo server in one thread, on mio, over the sans-IO core.
#[derive(Debug, Parser)]
struct Cli {
    /// Serve on this address until stopped, instead of the self-test.
    #[arg(long)]
    addr: Option<String>,
    /// The self-test's number of client connections.
    #[arg(long, default_value_t = 100)]
    connections: usize,
    #[command(flatten)]
    limits: Limits,
}

fn main() {
    let cli = Cli::parse();
    let config = cli.limits.apply(
        Config::default()
            .with_compression(DeflateConfig::default())
            .with_ping_interval(Some(Duration::from_millis(100))),
    );
    if let Some(addr) = &cli.addr {
        let listener = std::net::TcpListener::bind(addr)
            .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
        println!("event_loop: serving ws://{addr} in one thread (mio); Ctrl-C to stop");
        if let Err(e) = serve(listener, &config, None) {
            fail(&format!("the event loop failed: {e}"));
        }
        return;
    }
    let count = cli.connections;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| fail(&format!("cannot listen on 127.0.0.1:0: {e}")));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("event_loop: serving ws://{addr} in one thread (mio), heartbeat every 100 ms");
    let server = std::thread::spawn(move || serve(listener, &config, Some(count)));
    let report = run_clients(addr, count).unwrap_or_else(|e| fail(&format!("clients: {e}")));
    let stats = server
        .join()
        .unwrap_or_else(|_| fail("the server thread panicked"))
        .unwrap_or_else(|e| fail(&format!("the event loop failed: {e}")));
    println!(
        "clients: {} of {count} echoes matched, {} heartbeat pings answered, {} clean closes",
        report.echoes_matched, report.pings, report.clean
    );
    println!(
        "server:  {} connections accepted, {} open at once at most, {} messages echoed, {} pongs received, {} clean and {} other endings",
        stats.accepted, stats.max_open, stats.echoed, stats.pongs, stats.clean, stats.unclean
    );
}
