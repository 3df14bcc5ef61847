//! `--proxy` and `--no-proxy-env`, driving the binary through a real
//! pproxy (HTTP `CONNECT` with Basic auth checked on every connection,
//! and SOCKS5), and the proxy variables given to the child process only
//! (nothing process-wide is changed in the test).

use crate::support;

use std::path::Path;

use proxy_tests::Pproxy;
use support::{Process, Run, run, tokio_server, wsp};
use ws_tokio::{Acceptor, Message};
use wsproto_cli::cli::Exit;

fn tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

fn assert_status(run: &Run, exit: Exit) {
    assert_eq!(
        run.status,
        i32::from(exit.code()),
        "expected {exit:?}; stdout:\n{}\nstderr:\n{}",
        run.out(),
        run.stderr
    );
}

/// A server that answers each text message in upper case.
fn upper_server() -> (tokio::runtime::Runtime, String) {
    tokio_server(|tcp| async move {
        let Ok((mut ws, _)) = Acceptor::new().accept(tcp).await else {
            return;
        };
        while let Ok(message) = ws.recv().await {
            if let Message::Text(text) = message {
                let _ = ws.send_text(text.to_uppercase()).await;
            }
        }
    })
}

/// `wsp` with `vars` in its environment only.
fn run_with_env(vars: &[(&str, &str)], args: &[&str], stdin: &[u8]) -> Run {
    let mut command = wsp();
    command.env_remove("http_proxy").env_remove("HTTP_PROXY");
    command.env_remove("all_proxy").env_remove("ALL_PROXY");
    command.env_remove("no_proxy").env_remove("NO_PROXY");
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut process = Process::spawn(command.args(args));
    process.offer(stdin);
    process.finish()
}

#[test]
fn proxy_with_credentials_carries_the_session() {
    let pproxy = Pproxy::start(tmp(), "http", Some("ann:s3cret"), &[]);
    let (_runtime, address) = upper_server();
    let via = pproxy.url("http", Some("ann:s3cret"));
    let done = run(&["--proxy", &via, &format!("ws://{address}/")], b"hi\n");
    assert_status(&done, Exit::Normal);
    assert_eq!(done.out(), "HI\n");
    let _ = pproxy.saw(&address);

    let socks = Pproxy::start(tmp(), "socks5", None, &[]);
    let via = socks.url("socks5h", None);
    let done = run(&["--proxy", &via, &format!("ws://{address}/")], b"socks\n");
    assert_status(&done, Exit::Normal);
    assert_eq!(done.out(), "SOCKS\n");
    let _ = socks.saw(&address);
}

#[test]
fn wrong_credentials_exit_with_the_connect_status_and_the_407() {
    let pproxy = Pproxy::start(tmp(), "http", Some("ann:right"), &[]);
    let (_runtime, address) = upper_server();
    let via = pproxy.url("http", Some("ann:wrong"));
    let done = run(&["--proxy", &via, &format!("ws://{address}/")], b"hi\n");
    assert_status(&done, Exit::Connect);
    assert!(
        done.stderr
            .contains("rejected the credentials of user \"ann\"")
            && done.stderr.contains("407")
            && done.stderr.contains(&pproxy.url("http", None))
            && !done.stderr.contains("wrong"),
        "{}",
        done.stderr
    );
}

#[test]
fn variables_are_read_and_no_proxy_env_ignores_them() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead = format!("http://{dead}");
    let (_runtime, address) = upper_server();
    let url = format!("ws://{address}/");
    let vars = [("http_proxy", dead.as_str())];
    let proxied = run_with_env(&vars, &[&url], b"hi\n");
    assert_status(&proxied, Exit::Connect);
    assert!(
        proxied
            .stderr
            .contains(&format!("could not reach proxy {dead}")),
        "{}",
        proxied.stderr
    );
    let direct = run_with_env(&vars, &["--no-proxy-env", &url], b"hi\n");
    assert_status(&direct, Exit::Normal);
    assert_eq!(direct.out(), "HI\n");
    let bypassed = run_with_env(&[vars[0], ("NO_PROXY", "127.0.0.1")], &[&url], b"hi\n");
    assert_status(&bypassed, Exit::Normal);
    let both = run(&["--proxy", &dead, "--no-proxy-env", &url], b"");
    assert_status(&both, Exit::Usage);
}
