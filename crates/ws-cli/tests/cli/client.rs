//! Client mode against ws-tokio servers (and raw TCP ones that misbehave)
//! made by each test: pipe mode, -1, --timeout, headers and subprotocols
//! as the server sees them, --binary and --json output, and the exit
//! status of every kind of ending.

use crate::support;

use std::sync::mpsc;

use support::{Run, run, tokio_server};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use ws_tokio::{Acceptor, CloseCode, CloseFrame, Decision, Message, http::StatusCode};
use wsproto_cli::cli::Exit;

fn code(exit: Exit) -> i32 {
    i32::from(exit.code())
}

fn assert_status(run: &Run, exit: Exit) {
    assert_eq!(
        run.status,
        code(exit),
        "expected {exit:?}; stdout:\n{}\nstderr:\n{}",
        run.out(),
        run.stderr
    );
}

/// A server that sends `messages` as soon as a client connects, then
/// closes with 1000 (`close`) or reads until the client closes.
fn sending(messages: Vec<Message>, close: bool) -> (tokio::runtime::Runtime, String) {
    tokio_server(move |tcp| {
        let messages = messages.clone();
        async move {
            let Ok((mut ws, _)) = Acceptor::new().accept(tcp).await else {
                return;
            };
            for message in messages {
                if ws.send_message(message).await.is_err() {
                    return;
                }
            }
            if close {
                let _ = ws.close(CloseFrame::new(CloseCode::NORMAL, "")).await;
            }
            while ws.recv().await.is_ok() {}
        }
    })
}

#[test]
fn help_and_version_exit_0_and_document_every_exit_status() {
    let help = run(&["--help"], b"");
    assert_status(&help, Exit::Normal);
    let text = help.out();
    assert!(
        text.contains("Examples:") && text.contains("Exit status:"),
        "{text}"
    );
    for exit in Exit::ALL {
        assert!(
            text.contains(&format!("{}  {}", exit.code(), exit.meaning())),
            "{exit:?} missing from --help"
        );
    }
    let short = run(&["-h"], b"");
    assert_status(&short, Exit::Normal);
    assert!(short.out().contains("Usage: wsp"));
    let version = run(&["--version"], b"");
    assert_status(&version, Exit::Normal);
    assert_eq!(
        version.out(),
        format!("wsp {}\n", env!("CARGO_PKG_VERSION"))
    );
    let completions = run(&["--completions", "bash"], b"");
    assert_status(&completions, Exit::Normal);
    assert!(completions.out().contains("complete -F _wsp"));
    let usage = run(&[], b"");
    assert_status(&usage, Exit::Usage);
    assert!(usage.stderr.contains("required"));
}

#[test]
fn pipe_mode_sends_each_line_and_writes_each_message() {
    let (_runtime, address) = tokio_server(|tcp| async move {
        let Ok((mut ws, _)) = Acceptor::new().accept(tcp).await else {
            return;
        };
        while let Ok(message) = ws.recv().await {
            if let Message::Text(text) = message {
                let _ = ws.send_text(text.to_uppercase()).await;
            }
        }
    });
    let url = format!("ws://{address}/");
    let done = run(&[&url], b"one\ntwo\r\n\nthree");
    assert_status(&done, Exit::Normal);
    assert_eq!(done.out(), "ONE\nTWO\n\nTHREE\n");
    assert!(done.stderr.contains("closed: code 1000"), "{}", done.stderr);
    // -w: the end of input waits before closing; what comes meanwhile is
    // written.
    let waited = run(&["-w", "2", &url], b"later\n");
    assert_status(&waited, Exit::Normal);
    assert_eq!(waited.out(), "LATER\n");
    let quiet = run(&["-q", &url], b"x\n");
    assert_status(&quiet, Exit::Normal);
    assert_eq!(quiet.stderr, "");
}

#[test]
fn one_message_waits_for_one_message_and_writes_only_it() {
    let (_runtime, address) = sending(
        vec![
            Message::Text("first".into()),
            Message::Text("second".into()),
        ],
        false,
    );
    // No input at all: -1 still waits for the server's message.
    let done = run(&["-1", &format!("ws://{address}/")], b"");
    assert_status(&done, Exit::Normal);
    assert_eq!(done.out(), "first\n");
}

#[test]
fn timeout_ends_a_silent_session_with_status_6() {
    let (_runtime, address) = sending(vec![], false);
    let done = run(
        &["-n", "--timeout", "0.3", &format!("ws://{address}/")],
        b"",
    );
    assert_status(&done, Exit::Timeout);
    assert!(done.stderr.contains("--timeout"), "{}", done.stderr);
    // The close was still a clean one, and says so.
    assert!(done.stderr.contains("closed: code 1000"), "{}", done.stderr);
}

#[test]
fn connect_failure_is_status_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let done = run(&[&format!("ws://{address}/")], b"");
    assert_status(&done, Exit::Connect);
    assert!(
        done.stderr.contains("could not connect to 127.0.0.1"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_refused_upgrade_is_status_4_with_the_status_and_body() {
    let (_runtime, address) = tokio_server(|tcp| async move {
        let reject = |_: &_| Decision::reject(StatusCode::FORBIDDEN, "members only");
        let _ = Acceptor::new().accept_with(tcp, reject).await;
    });
    let done = run(&["-v", &format!("ws://{address}/")], b"");
    assert_status(&done, Exit::Refused);
    assert!(done.stderr.contains("403"), "{}", done.stderr);
    assert!(done.stderr.contains("members only"), "{}", done.stderr);
    // -v shows the refusal's head as received.
    assert!(
        done.stderr.contains("< HTTP/1.1 403 Forbidden"),
        "{}",
        done.stderr
    );
}

/// A raw server: a valid 101, then `then` on the socket.
fn raw_server(then: &'static [u8], hang_up: bool) -> (tokio::runtime::Runtime, String) {
    tokio_server(move |mut tcp| async move {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head);
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default();
        let accept = ws_tokio::wsproto_core::handshake::accept_key(key.trim());
        let reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        let _ = tcp.write_all(reply.as_bytes()).await;
        let _ = tcp.write_all(then).await;
        if hang_up {
            return;
        }
        while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
    })
}

#[test]
fn a_protocol_error_is_status_5_and_names_the_code_sent() {
    // Opcode 3 is reserved (RFC 6455 §5.2).
    let (_runtime, address) = raw_server(&[0x83, 0x00], false);
    let done = run(&["-n", &format!("ws://{address}/")], b"");
    assert_status(&done, Exit::Protocol);
    assert!(done.stderr.contains("code 1002"), "{}", done.stderr);
}

#[test]
fn a_lost_connection_is_status_7() {
    let (_runtime, address) = raw_server(&[0x81, 0x02, b'h', b'i'], true);
    let done = run(&["-n", &format!("ws://{address}/")], b"");
    assert_status(&done, Exit::Lost);
    assert_eq!(done.out(), "hi\n", "the message before the loss is written");
    assert!(done.stderr.contains("code 1006"), "{}", done.stderr);
}

#[test]
fn a_close_with_another_code_is_status_8_with_code_and_reason() {
    let (_runtime, address) = tokio_server(|tcp| async move {
        let Ok((mut ws, _)) = Acceptor::new().accept(tcp).await else {
            return;
        };
        let _ = ws
            .close(CloseFrame::new(CloseCode(4000), "shift over"))
            .await;
    });
    let done = run(&["-n", &format!("ws://{address}/")], b"");
    assert_status(&done, Exit::CloseCode);
    assert!(
        done.stderr.contains("code 4000 reason \"shift over\""),
        "{}",
        done.stderr
    );
}

#[test]
fn headers_origin_and_subprotocols_reach_the_server() {
    let (seen_tx, seen) = mpsc::channel();
    let (_runtime, address) = tokio_server(move |tcp| {
        let seen_tx = seen_tx.clone();
        async move {
            let decide = |request: &ws_tokio::UpgradeRequest| {
                let headers = request.request().headers();
                let _ = seen_tx.send((
                    headers.get("x-trace").cloned(),
                    headers.get("origin").cloned(),
                    request.subprotocols().to_vec(),
                ));
                Decision::accept_with(ws_tokio::AcceptOptions::new().subprotocol("chat.v1"))
            };
            let Ok((mut ws, _)) = Acceptor::new().accept_with(tcp, decide).await else {
                return;
            };
            while ws.recv().await.is_ok() {}
        }
    });
    let url = format!("ws://{address}/");
    let done = run(
        &[
            "-v",
            "-H",
            "X-Trace: 42",
            "--origin",
            "https://app.example",
            "--subprotocol",
            "chat.v2",
            "--subprotocol",
            "chat.v1",
            &url,
        ],
        b"",
    );
    assert_status(&done, Exit::Normal);
    let (trace, origin, subprotocols) = seen.recv_timeout(support::LIMIT).unwrap();
    assert_eq!(trace.unwrap(), "42");
    assert_eq!(origin.unwrap(), "https://app.example");
    assert_eq!(subprotocols, ["chat.v2", "chat.v1"]);
    assert!(done.stderr.contains("> x-trace: 42"), "{}", done.stderr);
    assert!(
        done.stderr.contains("< Sec-WebSocket-Protocol: chat.v1"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("subprotocol chat.v1"),
        "{}",
        done.stderr
    );
}

#[test]
fn binary_messages_are_written_as_hex_base64_or_raw() {
    let (_runtime, address) = sending(vec![Message::Binary(vec![0, 1, 0xfe, b'\n'].into())], false);
    let url = format!("ws://{address}/");
    let hex = run(&["-1", &url], b"");
    assert_eq!(hex.out(), "0001fe0a\n");
    let base64 = run(&["-1", "--binary-out", "base64", &url], b"");
    assert_eq!(base64.out(), "AAH+Cg==\n");
    let raw = run(&["-1", "--binary-out", "raw", &url], b"");
    assert_eq!(raw.stdout, [0, 1, 0xfe, b'\n']);
    assert_status(&raw, Exit::Normal);
    let raw = run(&["-1", "--raw", &url], b"");
    assert_eq!(raw.stdout, [0, 1, 0xfe, b'\n']);
    assert_status(&raw, Exit::Normal);
}

#[test]
fn raw_writes_binary_messages_back_to_back_and_text_as_lines() {
    let (_runtime, address) = sending(
        vec![
            Message::Binary(vec![0x89, b'P', b'N', b'G'].into()),
            Message::Binary(vec![0, 0xff].into()),
            Message::text("done"),
        ],
        true,
    );
    let done = run(&["--raw", "-n", &format!("ws://{address}/")], b"");
    assert_eq!(done.stdout, b"\x89PNG\x00\xffdone\n");
    assert_status(&done, Exit::Normal);
    // One way to say how binary is written.
    let both = run(
        &["--raw", "--binary-out", "hex", &format!("ws://{address}/")],
        b"",
    );
    assert_status(&both, Exit::Usage);
}

#[test]
fn binary_input_is_decoded_and_bad_lines_fail_with_status_1() {
    let (seen_tx, seen) = mpsc::channel();
    let (_runtime, address) = tokio_server(move |tcp| {
        let seen_tx = seen_tx.clone();
        async move {
            let Ok((mut ws, _)) = Acceptor::new().accept(tcp).await else {
                return;
            };
            while let Ok(message) = ws.recv().await {
                let _ = seen_tx.send(message);
            }
        }
    });
    let url = format!("ws://{address}/");
    let done = run(&["--binary", "base64", &url], b"AAEC\n/w==\n");
    assert_status(&done, Exit::Normal);
    assert_eq!(seen.recv().unwrap(), Message::Binary(vec![0, 1, 2].into()));
    assert_eq!(seen.recv().unwrap(), Message::Binary(vec![0xff].into()));
    let bad = run(&["--binary", "hex", &url], b"0102\nzz\n0304\n");
    assert_status(&bad, Exit::Failure);
    assert!(
        bad.stderr.contains("not hex: 'z' at column 1"),
        "{}",
        bad.stderr
    );
    assert_eq!(seen.recv().unwrap(), Message::Binary(vec![1, 2].into()));
    assert!(
        seen.recv_timeout(std::time::Duration::from_millis(200))
            .is_err(),
        "nothing after the bad line is sent"
    );
}

#[test]
fn json_text_is_reindented_and_other_text_is_not() {
    let (_runtime, address) = sending(
        vec![
            Message::Text(r#"{"b":1,"a":[true,null]}"#.into()),
            Message::Text("not json {".into()),
        ],
        true,
    );
    let url = format!("ws://{address}/");
    let done = run(&["-n", "--json", &url], b"");
    assert_status(&done, Exit::Normal);
    let out = done.out();
    assert!(
        out.starts_with("{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}\nnot json {\n"),
        "{out}"
    );
}
