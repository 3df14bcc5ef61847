//! Runs wscat's interactive loop over an in-memory session pair against a
//! scripted peer: what is typed is sent, what arrives is shown, and the
//! end of input closes cleanly; in raw mode every frame is shown both ways
//! and wscat answers the peer's ping and Close itself.
use std::time::Duration;

use futures_util::{StreamExt as _, stream};
use ws_tokio::{CloseCode, CloseFrame, Config, Frame, Mode, OpCode};

use examples::wscat::interact;

type Peer = ws_tokio::WebSocket<tokio::io::DuplexStream>;

async fn run_client<F, Fut>(
    config: Config,
    lines: impl futures_util::Stream<Item = String> + Unpin,
    peer: F,
) -> Vec<String>
where
    F: FnOnce(Peer) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (client, server) = ws_tokio::pair(config).await.unwrap();
    let mut client = client.into_session();
    let peer = tokio::spawn(peer(server));
    let mut shown = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        interact(&mut client, lines, &mut |line: &str| {
            shown.push(line.to_owned());
        }),
    )
    .await
    .unwrap_or_else(|_| panic!("wscat's loop did not end; it showed {shown:#?}"));
    peer.await.unwrap();
    shown
}

fn typed(lines: &[&str]) -> stream::Iter<std::vec::IntoIter<String>> {
    stream::iter(lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>())
}

#[tokio::test]
async fn default_mode_sends_lines_shows_replies_and_closes_at_end_of_input() {
    let shown = run_client(
        Config::default(),
        typed(&["hello", "/binary 00 ff", "/ping hi", "/nope", "//slash"]),
        |mut ws: Peer| async move {
            while let Ok(message) = ws.recv().await {
                ws.send_message(message).await.unwrap();
            }
            assert!(ws.close_reason().unwrap().is_clean());
        },
    )
    .await;
    let expected = [
        "< hello",
        "< [binary, 2 bytes] 00 ff",
        "< pong \"hi\"",
        "< /slash",
        "connection ended: closed normally: we sent Close, the peer answered with code 1000",
    ];
    for line in expected {
        assert!(
            shown.iter().any(|s| s == line),
            "{line:?} not in {shown:#?}"
        );
    }
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("! unknown command /nope"))
    );
    assert_eq!(shown.last().unwrap(), expected.last().unwrap());
}

#[tokio::test]
async fn raw_mode_shows_every_frame_and_answers_ping_and_close() {
    let raw = Config::default().with_mode(Mode::Raw);
    let shown = run_client(
        raw,
        Box::pin(typed(&["/frame text nofin ab", "/frame cont cd"]).chain(stream::pending())),
        |mut ws: Peer| async move {
            // Two fragments arrive as two frames.
            let first = ws.recv_frame().await.unwrap();
            let second = ws.recv_frame().await.unwrap();
            assert_eq!((first.fin, &first.payload[..]), (false, &b"ab"[..]));
            assert_eq!((second.opcode, second.fin), (OpCode::Continuation, true));
            // A ping is answered by wscat, not by the raw session.
            ws.send_frame(Frame::new(OpCode::Ping, "are you there"))
                .await
                .unwrap();
            let pong = ws.recv_frame().await.unwrap();
            assert_eq!(
                (pong.opcode, &pong.payload[..]),
                (OpCode::Pong, &b"are you there"[..])
            );
            // The peer closes first; wscat echoes the code.
            ws.close(CloseFrame::new(CloseCode(4000), "done"))
                .await
                .unwrap();
            match ws.close_reason() {
                Some(ws_tokio::CloseReason::Normal {
                    frame: Some(frame), ..
                }) => {
                    assert_eq!(frame.code, CloseCode(4000));
                }
                other => panic!("peer ended with {other:?}"),
            }
        },
    )
    .await;
    let expected = [
        "> TEXT nofin 2 bytes: \"ab\"",
        "> CONT fin 2 bytes: 63 64",
        "< PING fin 13 bytes: \"are you there\"",
        "> PONG fin 13 bytes: \"are you there\"",
        "< CLOSE fin 6 bytes: code 4000 reason \"done\"",
        "> CLOSE fin 2 bytes: code 4000 reason \"\"",
        "connection ended: closed normally: the peer closed with code 4000: done",
    ];
    for line in expected {
        assert!(
            shown.iter().any(|s| s == line),
            "{line:?} not in {shown:#?}"
        );
    }
    assert_eq!(shown.last().unwrap(), expected.last().unwrap());
}

#[tokio::test]
async fn a_message_from_the_peer_is_shown_without_any_input() {
    let shown = run_client(
        Config::default(),
        Box::pin(stream::pending()),
        |mut ws: Peer| async move {
            ws.send_binary(vec![0xde, 0xad, 0xbe, 0xef]).await.unwrap();
            ws.close(CloseFrame::new(CloseCode::GOING_AWAY, "server restarting"))
                .await
                .unwrap();
        },
    )
    .await;
    assert_eq!(
        shown,
        [
            "< [binary, 4 bytes] de ad be ef",
            "< close 1001 \"server restarting\" (answered by the session)",
            "connection ended: closed normally: the peer closed with code 1001: server restarting",
        ]
    );
}
