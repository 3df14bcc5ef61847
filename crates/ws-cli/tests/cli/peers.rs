//! `wsp` against Python `websockets` and Node `ws` echo servers (the
//! interop suite's pinned installs): pipe mode, headers and subprotocols
//! as those servers see them, compression negotiated, binary both ways.

use crate::support;

use std::path::Path;

use interop_tests::Peer;
use support::{Process, run};

/// Starts `peer`'s echo server; returns it and its port.
fn echo_server(peer: Peer) -> (Process, u16) {
    let script = match peer {
        Peer::Python => "echo_server.py",
        Peer::Node => "echo_server.js",
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("peers")
        .join(script);
    let mut command = peer
        .script_command(Path::new(env!("CARGO_TARGET_TMPDIR")), &script)
        .unwrap_or_else(|e| panic!("{peer}: {e}"));
    let server = Process::spawn(&mut command);
    let listening: serde_json::Value = serde_json::from_str(&server.stdout_line()).unwrap();
    assert_eq!(listening["event"], "listening");
    let port = u16::try_from(listening["port"].as_u64().unwrap()).unwrap();
    (server, port)
}

fn talks_to(peer: Peer) {
    let (server, port) = echo_server(peer);
    let url = format!("ws://127.0.0.1:{port}/feed?since=3");
    // -n: the server's close ends it, after every answer (a Close sent at
    // the end of input could overtake answers the server has not sent).
    let done = run(
        &[
            "-n",
            "-v",
            "-H",
            "X-Trace: 7",
            "--subprotocol",
            "chat.v1",
            "--subprotocol",
            "nope",
            &url,
        ],
        "text line\n{\"json\": true}\nünïcödé\nbye\n".as_bytes(),
    );
    assert_eq!(done.status, 0, "{peer}: {}", done.stderr);
    assert_eq!(
        done.out(),
        "text line\n{\"json\": true}\nünïcödé\n",
        "{peer}"
    );
    assert!(
        done.stderr
            .contains("< Sec-WebSocket-Extensions: permessage-deflate"),
        "{peer}: compression not negotiated:\n{}",
        done.stderr
    );
    let open: serde_json::Value = serde_json::from_str(&server.stdout_line()).unwrap();
    assert_eq!(open["event"], "open", "{peer}");
    assert_eq!(open["path"], "/feed?since=3", "{peer}");
    assert_eq!(open["headers"]["x-trace"], "7", "{peer}");
    assert_eq!(open["subprotocol"], "chat.v1", "{peer}");
    assert!(
        open["extensions"]
            .as_str()
            .is_some_and(|e| e.starts_with("permessage-deflate")),
        "{peer}: {open}"
    );
    assert!(
        done.stderr.contains("code 1000 reason \"bye\""),
        "{peer}: {}",
        done.stderr
    );
    // "bye" in hex.
    let binary = run(&["-n", "--binary", "hex", &url], b"00ff7f\n\n627965\n");
    assert_eq!(binary.status, 0, "{peer}: {}", binary.stderr);
    assert_eq!(
        binary.out(),
        "00ff7f\n\n",
        "{peer}: an empty line is an empty message"
    );
    let one = run(&["-1", "--json", &url], b"{\"a\":[1]}\n");
    assert_eq!(one.out(), "{\n  \"a\": [\n    1\n  ]\n}\n", "{peer}");
}

#[test]
fn python_websockets() {
    talks_to(Peer::Python);
}

#[test]
fn node_ws() {
    talks_to(Peer::Node);
}
