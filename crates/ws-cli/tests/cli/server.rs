//! Server mode driven from outside: `wsp -l` in each mode with `wsp`
//! clients, TLS with --cert/--key and the client's --ca-file or
//! --insecure, the `tls_server` example's server, the Origin allow-list,
//! compression negotiated, and a stop by SIGTERM.

use crate::support;

use support::{Process, certificate, run, wsp, wsp_server};
use wsproto_cli::cli::Exit;

fn code(exit: Exit) -> i32 {
    i32::from(exit.code())
}

#[test]
fn echo_mode_answers_each_client_and_shows_connects_and_closes() {
    let (server, address) = wsp_server(&["--mode", "echo"]);
    let done = run(
        &["-v", &format!("ws://{address}/room?x=1")],
        b"hello\nworld\n",
    );
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.out(), "hello\nworld\n");
    // Compression is on by default on both sides.
    assert!(
        done.stderr
            .contains("< Sec-WebSocket-Extensions: permessage-deflate"),
        "{}",
        done.stderr
    );
    let connected = server.wait_stderr(|l| l.contains("connected"));
    assert!(connected.contains("GET /room?x=1"), "{connected}");
    assert!(
        connected.contains("extensions permessage-deflate"),
        "{connected}"
    );
    let closed = server.wait_stderr(|l| l.contains("disconnected"));
    assert!(closed.contains("code 1000"), "{closed}");
    let plain = run(
        &["-v", "--no-compress", &format!("ws://{address}/")],
        b"x\n",
    );
    assert_eq!(plain.out(), "x\n");
    assert!(
        !plain.stderr.contains("permessage-deflate"),
        "{}",
        plain.stderr
    );
    server.terminate();
    let stopped = server.finish();
    assert_eq!(stopped.status, 0, "{}", stopped.stderr);
}

#[test]
fn broadcast_mode_relays_to_the_other_clients() {
    let (server, address) = wsp_server(&["--mode", "broadcast"]);
    let url = format!("ws://{address}/chat");
    // The listener waits for one message, whatever its input does.
    let mut listener = Process::spawn(wsp().args(["-1", &url]));
    server.wait_stderr(|l| l.contains("#1 ") && l.contains("connected"));
    let speaker = run(&[&url], b"hi all\n");
    assert_eq!(speaker.status, 0, "{}", speaker.stderr);
    assert_eq!(speaker.out(), "", "the sender does not get its own message");
    listener.close_stdin();
    let heard = listener.finish();
    assert_eq!(heard.status, 0, "{}", heard.stderr);
    assert_eq!(heard.out(), "hi all\n");
}

#[test]
fn stdio_mode_sends_input_to_clients_and_writes_what_they_send() {
    let (mut server, address) = wsp_server(&["--binary", "hex"]);
    let mut client = Process::spawn(wsp().args(["--binary", "hex", &format!("ws://{address}/")]));
    server.wait_stderr(|l| l.contains("connected"));
    server.write(b"c0ffee\n");
    assert_eq!(client.stdout_line(), "c0ffee");
    client.write(b"beef\n");
    assert_eq!(server.stdout_line(), "beef");
    // The end of the server's input closes every client with 1000.
    server.close_stdin();
    let client = client.finish();
    assert_eq!(client.status, 0, "{}", client.stderr);
    assert!(client.stderr.contains("code 1000"), "{}", client.stderr);
    assert_eq!(server.finish().status, 0);
}

#[test]
fn sigterm_closes_clients_with_1001() {
    let (server, address) = wsp_server(&["--mode", "echo"]);
    let client = Process::spawn(wsp().args(["-n", &format!("ws://{address}/")]));
    server.wait_stderr(|l| l.contains("connected"));
    server.terminate();
    let client = client.finish();
    assert_eq!(client.status, code(Exit::CloseCode), "{}", client.stderr);
    assert!(
        client
            .stderr
            .contains("code 1001 reason \"server stopping\""),
        "{}",
        client.stderr
    );
    assert_eq!(server.finish().status, 0);
}

#[test]
fn the_origin_allow_list_refuses_other_origins_with_403() {
    let (server, address) = wsp_server(&["--mode", "echo", "--allow-origin", "https://ok.example"]);
    let url = format!("ws://{address}/");
    let none = run(&[&url], b"");
    assert_eq!(none.status, code(Exit::Refused), "{}", none.stderr);
    assert!(none.stderr.contains("403"), "{}", none.stderr);
    let refused = server.wait_stderr(|l| l.contains("refused"));
    assert!(refused.contains("no Origin header"), "{refused}");
    let other = run(&["--origin", "https://evil.example", &url], b"");
    assert_eq!(other.status, code(Exit::Refused));
    let ok = run(&["--origin", "https://ok.example", &url], b"in\n");
    assert_eq!(ok.status, 0, "{}", ok.stderr);
    assert_eq!(ok.out(), "in\n");
}

#[test]
fn tls_with_a_ca_file_and_with_insecure() {
    let (_dir, cert, key) = certificate("tls");
    let (_server, address) = wsp_server(&["--mode", "echo", "--cert", &cert, "--key", &key]);
    let port = address.rsplit(':').next().unwrap();
    let url = format!("wss://localhost:{port}/");
    let trusted = run(&["--ca-file", &cert, &url], b"secret\n");
    assert_eq!(trusted.status, 0, "{}", trusted.stderr);
    assert_eq!(trusted.out(), "secret\n");
    assert!(!trusted.stderr.contains("WARNING"));
    // The web roots do not know this certificate.
    let untrusted = run(&[&url], b"secret\n");
    assert_eq!(
        untrusted.status,
        code(Exit::Connect),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted.stderr.contains("TLS with localhost"),
        "{}",
        untrusted.stderr
    );
    let insecure = run(&["--insecure", &url], b"anyway\n");
    assert_eq!(insecure.status, 0, "{}", insecure.stderr);
    assert_eq!(insecure.out(), "anyway\n");
    assert!(
        insecure.stderr.contains("WARNING: --insecure"),
        "{}",
        insecure.stderr
    );
    let missing = run(&["--ca-file", "/nonexistent/ca.pem", &url], b"");
    assert_eq!(missing.status, code(Exit::Failure));
    assert!(
        missing.stderr.contains("/nonexistent/ca.pem"),
        "{}",
        missing.stderr
    );
}

#[test]
fn the_tls_server_examples_server_is_reached_with_its_certificate() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tls, _roots, pem) = examples_more::tls_demo::localhost_certificate().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    // What `tls_server --serve` runs after its demo.
    let served = runtime.spawn(examples_more::tls_demo::serve(
        listener,
        tls,
        ws_tokio::Config::default(),
        true,
    ));
    let (dir, _, _) = certificate("tls-example");
    let ca = dir.join("example.pem");
    std::fs::write(&ca, pem).unwrap();
    let done = run(
        &[
            "-1",
            "--ca-file",
            &ca.display().to_string(),
            &format!("wss://localhost:{port}/echo"),
        ],
        b"over TLS\n",
    );
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.out(), "over TLS\n");
    runtime.block_on(served).unwrap();
}

#[test]
fn an_unreadable_key_or_busy_address_is_status_1() {
    let (_dir, cert, _) = certificate("bad-key");
    let done = run(&["-l", "127.0.0.1:0", "--cert", &cert, "--key", &cert], b"");
    assert_eq!(done.status, code(Exit::Failure), "{}", done.stderr);
    assert!(done.stderr.contains("private key file"), "{}", done.stderr);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let busy = run(&["-l", &address], b"");
    assert_eq!(busy.status, code(Exit::Failure));
    assert!(busy.stderr.contains("cannot listen on"), "{}", busy.stderr);
}
