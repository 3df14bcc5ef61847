//! Runs the `chat` demo end to end on loopback and checks its transcript
//! against its script: every line reaches every other member once, each
//! member answers a heartbeat, compression is negotiated and saves bytes on
//! the long line, and every session ends with a clean 1000 close.
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
