//! Heap held per idle connection by an adapter's accept loop (issue 24
//! item 5: about 2 KiB per idle connection), on tokio, async-std and
//! smol: `serve` with an echo handler, [`CONNS`] clients each upgraded and
//! through one echo (so its session waits in `recv`), then silent.
//!
//! The clients are blocking std sockets on a thread of their own, which
//! allocate nothing, so the growth of the live heap (a counting global
//! allocator, `stats_alloc`) is the server's: the task with the session
//! in it, the runtime's registration of the socket, the heartbeat timer,
//! the read buffer. A task that kept the handshake's state and its
//! arguments for the session's life held 6.9-8.3 KB here. The process is
//! counted whole, so this binary holds one test and the runtimes run one
//! after another, each waiting for its sessions to end before the next.
//! `cargo test -p adapter-scenarios --test idle_memory -- --nocapture`
//! prints the figures.

// Byte counts become f64 per connection; they are small.
#![allow(clippy::cast_precision_loss)]

use std::alloc::System;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use adapter_scenarios::{AsyncStd, Rt, ServerOptions, Smol, Tokio, within};
use futures_util::StreamExt as _;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Idle connections measured on each runtime.
const CONNS: usize = 400;

/// Bytes of heap per idle connection at most. Measured here (debug and
/// release alike): tokio 2.2 KB, async-std 3.1 KB, smol 2.3 KB; 6.9, 8.3
/// and 7.5 KB before the per-connection task was made small. The issue's
/// target, 2 KiB of RSS, is measured on the benchmark's echo server
/// (`scripts/bench-idle.sh`); this bound catches a task that grows again.
const BOUND: f64 = 3.5 * 1024.0;

/// Opens a connection to `addr`, upgrades it and has one byte echoed.
fn open(addr: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("request");
    let mut head = [0u8; 512];
    let mut len = 0;
    while !head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut head[len..]).expect("response");
        assert!(n > 0, "the server closed during the handshake");
        len += n;
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "not upgraded");
    // A masked binary frame of one byte, and its echo.
    let mask = [1, 2, 3, 4];
    tcp.write_all(&[
        0x82,
        0x81,
        mask[0],
        mask[1],
        mask[2],
        mask[3],
        b'x' ^ mask[0],
    ])
    .expect("frame");
    let mut echo = [0u8; 3];
    tcp.read_exact(&mut echo).expect("echo");
    assert_eq!(echo, [0x82, 0x01, b'x']);
    tcp
}

/// Live heap bytes per idle connection of `serve` on `R`.
fn idle_bytes_per_connection<R: Rt>() -> f64 {
    R::block_on(async {
        let (ended, mut ends) = futures_channel::mpsc::unbounded::<()>();
        let (url, serve) = R::serve(ServerOptions::default(), move |mut ws, _| {
            let ended = ended.clone();
            async move {
                while let Ok(message) = ws.recv().await {
                    if ws.feed_message(message).await.is_err() {
                        break;
                    }
                }
                let _ = ended.unbounded_send(());
            }
        })
        .await;
        R::spawn_detached(async move {
            let _ = serve.await;
        });
        let addr = url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_owned();
        let (done, measured) = futures_channel::oneshot::channel();
        let clients = std::thread::spawn(move || {
            // The runtime's one-time allocations are not the connections'.
            let first = open(&addr);
            let mut clients = Vec::with_capacity(CONNS);
            let region = Region::new(GLOBAL);
            clients.extend((0..CONNS).map(|_| open(&addr)));
            let change = region.change();
            let live = change.bytes_allocated.cast_signed()
                - change.bytes_deallocated.cast_signed()
                + change.bytes_reallocated;
            done.send(live).expect("the test waits");
            drop((first, clients));
        });
        let live = within(60, measured).await.expect("measured");
        clients.join().expect("clients");
        // Every session ends (the clients closed) before the next runtime.
        within(60, async {
            for _ in 0..=CONNS {
                ends.next().await.expect("a session ended");
            }
        })
        .await;
        live as f64 / CONNS as f64
    })
}

#[test]
fn an_idle_connection_holds_little_memory_on_every_runtime() {
    let figures = [
        (Tokio::NAME, idle_bytes_per_connection::<Tokio>()),
        (AsyncStd::NAME, idle_bytes_per_connection::<AsyncStd>()),
        (Smol::NAME, idle_bytes_per_connection::<Smol>()),
    ];
    for (name, bytes) in figures {
        println!("{name}: {bytes:.0} bytes of heap per idle connection");
    }
    for (name, bytes) in figures {
        assert!(
            bytes <= BOUND,
            "{name}: {bytes:.0} bytes per idle connection (bound {BOUND}); all: {figures:?}"
        );
    }
}
