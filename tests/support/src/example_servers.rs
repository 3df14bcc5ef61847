//! The example servers' shared promise, checked on their real binaries:
//! `--max-connections` answers 503 with `Retry-After` beyond the cap, and
//! Ctrl-C (SIGINT) closes every session with 1001, prints the shutdown
//! report and exits 0.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use futures_lite::StreamExt as _;
use ws_tokio::{CloseCode, Message, WebSocket};

use crate::process::{PeerProcess, interrupt};

const WAIT: Duration = Duration::from_secs(30);

/// Runs `binary --addr 127.0.0.1:0 --max-connections 2`, connects two
/// clients to `path`, checks that a third gets 503, sends SIGINT, and
/// checks that both clients get Close 1001, the server reports two clean
/// closes and exits 0.
///
/// # Panics
/// When any of that does not happen (within 30 s each).
pub async fn cap_then_ctrl_c(binary: &Path, path: &str) {
    let mut command = Command::new(binary);
    command.args(["--addr", "127.0.0.1:0", "--max-connections", "2"]);
    let mut server = PeerProcess::spawn(command, |line| {
        line.split("ws://127.0.0.1:")
            .nth(1)?
            .split(['/', ' '])
            .next()?
            .parse()
            .ok()
    })
    .unwrap();
    let port = server.wait_listening(WAIT).unwrap();
    let url = format!("ws://127.0.0.1:{port}{path}");
    let (mut first, _) = ws_tokio::connect(&url).await.unwrap();
    let (mut second, _) = ws_tokio::connect(&url).await.unwrap();
    // An echo answers the sender; a topic delivers to the sender too.
    first.send_text("hello").await.unwrap();
    assert_eq!(first.recv().await.unwrap(), Message::text("hello"));
    let refused = ws_tokio::connect(&url).await.unwrap_err();
    let response = refused.rejection().expect("a refusal");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");

    interrupt(&server);
    for ws in [&mut first, &mut second] {
        expect_going_away(ws).await;
    }
    assert_eq!(server.finish(WAIT), "exited with status 0");
    let stdout = server.stdout();
    assert!(
        stdout.iter().any(|line| line.contains(
            "2 sessions, 2 closed cleanly, 0 ended otherwise, 0 dropped at the deadline"
        )),
        "{stdout:?}"
    );
}

/// Skips data messages until the server's Close 1001, then the clean end.
async fn expect_going_away(ws: &mut WebSocket) {
    crate::within(30, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {}
                Some(Ok(Message::Close(Some(frame)))) => {
                    assert_eq!(frame.code, CloseCode::GOING_AWAY);
                    break;
                }
                other => panic!("expected Close 1001, got {other:?}"),
            }
        }
        assert!(ws.next().await.is_none(), "a clean end after the close");
    })
    .await;
}
