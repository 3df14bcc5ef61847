//! The accept loop when the process runs out of file descriptors: it
//! pauses instead of ending or spinning, and serves again once descriptors
//! free up.
//!
//! - on a virtual clock, with accept errors injected: the pauses and their
//!   lengths, one report per episode;
//! - for real: [`ws_tokio::serve`] in a child process (this test binary,
//!   run again) under `prlimit --nofile`, filled to its limit.

use std::collections::VecDeque;
use std::io;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::io::AsyncBufReadExt as _;
use ws_tokio::{Acceptor, Message, TcpOptions, TokioRuntime};

use crate::within;

#[tokio::test(start_paused = true)]
async fn resource_errors_pause_the_loop_growing_and_report_once() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
    let (_client, (server, _)) = tokio::try_join!(client, listener.accept()).unwrap();
    let emfile = || Err(io::Error::from_raw_os_error(24));
    let mut items: VecDeque<io::Result<tokio::net::TcpStream>> = VecDeque::from([
        emfile(),
        emfile(),
        emfile(),
        emfile(),
        emfile(),
        emfile(),
        Err(io::ErrorKind::ConnectionAborted.into()),
        Ok(server),
    ]);
    let pulls = Arc::new(Mutex::new(Vec::new()));
    let pulled = pulls.clone();
    let accepts = futures_util::stream::poll_fn(move |_| {
        pulled.lock().unwrap().push(tokio::time::Instant::now());
        Poll::Ready(items.pop_front())
    });
    let reports = Arc::new(Mutex::new(Vec::new()));
    let reported = reports.clone();
    let mut incoming = ws_tokio::ws_session::Incoming::from_stream(Arc::new(TokioRuntime), accepts)
        .tcp_options(Some(TcpOptions::new()))
        .on_pause(move |error, pause| reported.lock().unwrap().push((error.to_string(), pause)));

    let tcp = incoming.next().await.unwrap().unwrap();
    assert!(tcp.nodelay().unwrap(), "the options are set");
    let pulls = pulls.lock().unwrap();
    let gaps: Vec<u128> = pulls
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // A pause after each EMFILE, doubling; none after a failed connection.
    assert_eq!(gaps, [10, 20, 40, 80, 160, 320, 0]);
    assert_eq!(incoming.pauses(), 6);
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "one report per episode: {reports:?}");
    assert!(reports[0].0.contains("Too many open files"), "{reports:?}");
    assert_eq!(reports[0].1, Duration::from_millis(10));
}

#[tokio::test]
async fn a_broken_listener_ends_the_stream_with_its_error() {
    let accepts = futures_util::stream::iter([Err::<tokio::net::TcpStream, _>(
        io::Error::from_raw_os_error(9),
    )]);
    let mut incoming = ws_tokio::ws_session::Incoming::from_stream(Arc::new(TokioRuntime), accepts);
    let error = incoming.next().await.unwrap().unwrap_err();
    assert_eq!(error.raw_os_error(), Some(9));
    assert!(incoming.next().await.is_none());
}

/// The descriptor limit of the child server.
const LIMIT: usize = 48;
/// Set in the child's environment: run the server instead of skipping.
const CHILD: &str = "WS_TOKIO_ACCEPT_LOOP_CHILD";

/// The child: an echo server on `serve`, printing its port.
#[test]
#[ignore = "the server side of server_at_its_descriptor_limit_keeps_serving_without_spinning"]
fn echo_server_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("port {}", listener.local_addr().unwrap().port());
            ws_tokio::serve(listener, Acceptor::new(), |mut ws, _| async move {
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            })
            .await
            .unwrap();
        });
}

/// CPU time (user + system, in clock ticks) of `pid`, and whether every
/// descriptor number under the limit is taken (the next accept fails with
/// EMFILE; descriptors inherited above the limit do not count).
fn usage(pid: u32) -> (u64, bool) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the parenthesised command name; utime and stime are
    // the 14th and 15th of the line.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let full = (0..LIMIT).all(|fd| std::fs::exists(format!("/proc/{pid}/fd/{fd}")).unwrap());
    (ticks, full)
}

#[tokio::test]
async fn server_at_its_descriptor_limit_keeps_serving_without_spinning() {
    let mut child = tokio::process::Command::from({
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--nofile={LIMIT}:{LIMIT}"))
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", "accept_loop::echo_server_child", "--ignored"])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        command
    })
    .kill_on_drop(true)
    .spawn()
    .expect("prlimit (util-linux) runs the server with a low descriptor limit");
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port: u16 = within(30, async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the child's port");
            // After libtest's "test … ... " on the same line.
            if let Some((_, port)) = line.split_once("port ") {
                break port.trim().parse().unwrap();
            }
        }
    })
    .await;
    let addr = format!("127.0.0.1:{port}");

    // More connections than the server has descriptors: it accepts until
    // accept() fails with EMFILE; the rest wait in the backlog.
    let mut held = Vec::new();
    for _ in 0..LIMIT + 8 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    within(10, async {
        while !usage(pid).1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // At the limit, the loop waits rather than retrying at once.
    let (before, _) = usage(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, full) = usage(pid);
    assert!(full, "still at the limit");
    assert!(
        after - before < 40,
        "the server used {} clock ticks of CPU in 2 s at its descriptor limit: it spins",
        after - before
    );

    // Descriptors free up: a new client is served.
    drop(held);
    within(20, async {
        let (mut ws, _) = ws_tokio::connect(format!("ws://{addr}/")).await.unwrap();
        ws.send_text("after the limit").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("after the limit"));
        ws.close(None).await.unwrap();
    })
    .await;
    child.kill().await.unwrap();
}
