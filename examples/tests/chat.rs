//! Runs the `chat` demo end to end on loopback and checks its transcript
//! against its script: every line reaches every other member once, each
//! member answers a heartbeat, compression is negotiated and saves bytes on
//! the long line, and every session ends with a clean 1000 close. And a
//! member that stops reading is put out of the room with 1008 (its queue
//! of lines is bounded) while the others go on.
use std::sync::Arc;
use std::time::Duration;

use examples::chat::{Entry, Script, Side, Transcript, run_tokio};
use ws_tokio::{CloseCode, CloseReason};

async fn run(script: &Script) -> Vec<Entry> {
    let transcript = Arc::new(Transcript::new(false));
    tokio::time::timeout(
        Duration::from_secs(30),
        run_tokio(script, transcript.clone()),
    )
    .await
    .expect("the demo finishes within 30 s")
    .expect("the demo runs");
    transcript.entries()
}

fn check(script: &Script, entries: &[Entry]) {
    for (speaker, line) in &script.lines {
        let from = &script.members[*speaker];
        assert!(
            entries
                .iter()
                .any(|e| matches!(e, Entry::Said { who, text } if who == from && text == line))
        );
        for (index, who) in script.members.iter().enumerate() {
            let heard = entries
                .iter()
                .filter(|e| {
                    matches!(e, Entry::Heard { who: w, from: f, text }
                        if w == who && f == from && text == line)
                })
                .count();
            let expected = usize::from(index != *speaker);
            assert_eq!(heard, expected, "{who} hears {from}'s {line:?}");
        }
    }
    for who in &script.members {
        let has = |f: &dyn Fn(&Entry) -> bool| entries.iter().any(f);
        assert!(has(
            &|e| matches!(e, Entry::Joined { who: w, extensions: Some(x) }
            if w == who && x.starts_with("permessage-deflate"))
        ));
        assert!(has(&|e| matches!(e, Entry::Ping { who: w } if w == who)));
        assert!(has(&|e| matches!(e, Entry::Pong { who: w } if w == who)));
        let server_end = entries.iter().find_map(|e| match e {
            Entry::Closed {
                who: w,
                side: Side::Server,
                reason,
            } if w == who => Some(reason),
            _ => None,
        });
        match server_end {
            Some(CloseReason::Normal {
                frame: Some(frame),
                initiated_locally: false,
            }) => {
                assert_eq!(frame.code, CloseCode::NORMAL);
                assert_eq!(frame.reason, format!("bye from {who}"));
            }
            other => panic!("{who}'s server session ended with {other:?}"),
        }
        let client_end = entries.iter().find_map(|e| match e {
            Entry::Closed {
                who: w,
                side: Side::Client,
                reason,
            } if w == who => Some(reason),
            _ => None,
        });
        assert!(
            matches!(
                client_end,
                Some(CloseReason::Normal {
                    initiated_locally: true,
                    ..
                })
            ),
            "{who}'s client session ended with {client_end:?}"
        );
    }
}

#[tokio::test]
async fn the_demo_transcript_matches_its_script() {
    let script = Script::demo();
    let entries = run(&script).await;
    check(&script, &entries);
    // The long, repetitive line compresses: its sender's bytes on the wire
    // (frame headers, masks, pongs and the Close included) are fewer than
    // the bytes of its messages.
    let (long_speaker, _) = script
        .lines
        .iter()
        .max_by_key(|(_, line)| line.len())
        .unwrap();
    let who = &script.members[*long_speaker];
    let (payload, wire) = entries
        .iter()
        .find_map(|e| match e {
            Entry::Wire {
                who: w,
                payload,
                wire,
            } if w == who => Some((*payload, *wire)),
            _ => None,
        })
        .unwrap();
    let sent: usize = script
        .lines
        .iter()
        .filter(|(s, _)| s == long_speaker)
        .map(|(_, l)| l.len())
        .sum();
    assert_eq!(payload, sent as u64);
    assert!(wire < payload / 2, "{wire} bytes on the wire for {payload}");
}

#[tokio::test]
async fn another_script_is_played_as_written() {
    let script = Script {
        members: vec!["x".into(), "y".into()],
        lines: vec![
            (1, "y first".into()),
            (1, "y again: ünïcödé ✓".into()),
            (0, "x: with a colon".into()),
        ],
    };
    let entries = run(&script).await;
    check(&script, &entries);
}

/// Accepts `count` members on `listener` (`/chat?NAME`) and serves each
/// with `serve_member` (default config: no compression) in one room:
/// their names and tasks, in the order they joined.
async fn serve_room(
    listener: tokio::net::TcpListener,
    count: usize,
    transcript: Arc<Transcript>,
) -> Vec<(String, tokio::task::JoinHandle<()>)> {
    let room = examples::chat::Room::default();
    let acceptor = ws_tokio::Acceptor::new();
    let mut members = Vec::new();
    for _ in 0..count {
        let (tcp, _) = listener.accept().await.unwrap();
        let (ws, request) = acceptor.accept(tcp).await.unwrap();
        let name = request.uri().query().unwrap().to_owned();
        let wire = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let task = examples::chat::serve_member(
            ws.into_session(),
            name.clone(),
            room.clone(),
            wire,
            transcript.clone(),
        );
        members.push((name, tokio::spawn(task)));
    }
    members
}

/// Reads lines until the server's Close 1008 ("too slow ...").
async fn read_until_1008(ws: &mut ws_tokio::WebSocket) {
    loop {
        match futures_util::StreamExt::next(ws).await {
            Some(Ok(ws_tokio::Message::Text(_))) => {}
            Some(Ok(ws_tokio::Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::POLICY_VIOLATION);
                assert!(frame.reason.starts_with("too slow"), "{frame:?}");
                return;
            }
            other => panic!("slow got {other:?}"),
        }
    }
}

/// A room of three on loopback, served by `serve_member` without
/// compression: `fast` talks, `steady` reads everything, `slow` reads
/// nothing until it is put out. `slow` falls `MEMBER_QUEUE` lines behind
/// and is put out with 1008 (which it finds after the lines it was sent),
/// and the room goes on for the others.
#[tokio::test]
async fn a_member_that_stops_reading_is_put_out_with_1008_and_the_room_goes_on() {
    use examples::chat::MEMBER_QUEUE;
    use ws_tokio::Message;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let transcript = Arc::new(Transcript::new(false));
    let server = tokio::spawn(serve_room(listener, 3, transcript.clone()));
    let url = |name: &str| format!("ws://{addr}/chat?{name}");
    let (mut fast, _) = ws_tokio::connect(url("fast")).await.unwrap();
    let (mut steady, _) = ws_tokio::connect(url("steady")).await.unwrap();
    let (mut slow, _) = ws_tokio::connect(url("slow")).await.unwrap();
    let mut members = server.await.unwrap();
    let slow_task = members.pop().unwrap().1;
    // steady reports every line it hears, so that fast says the next one
    // only then: no burst ever fills a reading member's queue.
    let (heard_tx, mut heard) = futures_channel::mpsc::unbounded();
    let steady_reads = tokio::spawn(async move {
        let mut lines = 0usize;
        loop {
            match steady.recv().await.unwrap() {
                Message::Text(text) if text.as_str() == "fast: the end" => return lines,
                _ => {
                    lines += 1;
                    let _ = heard_tx.unbounded_send(());
                }
            }
        }
    });
    let put_out = |entries: &[Entry]| {
        entries
            .iter()
            .any(|e| matches!(e, Entry::TooSlow { who } if who == "slow"))
    };
    // 64 KiB lines: the slow member's socket buffers and its session's
    // 1 MiB send queue fill, then its MEMBER_QUEUE lines; a few thousand
    // lines are far more than that takes.
    let line = "x".repeat(64 * 1024);
    let mut said = 0;
    tokio::time::timeout(Duration::from_secs(60), async {
        while !put_out(&transcript.entries()) {
            assert!(
                said < 4000,
                "slow was never put out: {:?}",
                transcript.entries()
            );
            fast.send_text(line.as_str()).await.unwrap();
            said += 1;
            futures_util::StreamExt::next(&mut heard).await.unwrap();
        }
    })
    .await
    .expect("slow is put out within 60 s");
    assert!(said > MEMBER_QUEUE, "{said} lines");
    // slow, reading at last, gets the lines it had been sent, then the
    // Close 1008 that followed them; its session answers it.
    tokio::time::timeout(Duration::from_secs(30), read_until_1008(&mut slow))
        .await
        .expect("slow reads its lines and the 1008");
    tokio::time::timeout(Duration::from_secs(10), slow_task)
        .await
        .expect("slow's session ends")
        .unwrap();
    let slow_end = transcript.entries().into_iter().find_map(|e| match e {
        Entry::Closed {
            who,
            side: Side::Server,
            reason,
        } if who == "slow" => Some(reason),
        _ => None,
    });
    assert!(
        matches!(
            &slow_end,
            Some(CloseReason::Normal {
                initiated_locally: true,
                ..
            })
        ),
        "{slow_end:?}"
    );
    // The room goes on: steady hears every line, the last one too.
    fast.send_text("the end").await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(30), steady_reads)
        .await
        .expect("steady hears the end")
        .unwrap();
    assert_eq!(heard, said);
}
