//! Interactive mode through a pseudo-terminal: util-linux `script` runs
//! `wsp` on a pty (so its standard input and output are a terminal) and
//! relays the test's keystrokes to it. Checks line editing with history
//! (the up arrow brings back the last line), messages shown above the
//! prompt, and the `/close` command with its exit status.

use crate::support;

use support::{Process, wsp_server};
use wsproto_cli::cli::Exit;

/// Types `keys` one key at a time, as a person does (rustyline reads a
/// burst of plain characters in one read as the start of a paste and
/// waits for its end).
fn type_keys(client: &mut Process, keys: &str) {
    for key in keys.chars() {
        client.write(key.to_string().as_bytes());
    }
}

#[test]
fn lines_are_edited_with_history_and_slash_commands_work() {
    let (mut server, address) = wsp_server(&[]);
    let command = format!("{} ws://{address}/", env!("CARGO_BIN_EXE_wsp"));
    let mut client = Process::spawn(
        std::process::Command::new("script")
            .args([
                "--quiet",
                "--flush",
                "--return",
                "--command",
                &command,
                "/dev/null",
            ])
            .env("TERM", "xterm"),
    );
    client.wait_stdout("connected to", 1);
    server.wait_stderr(|l| l.contains("connected"));
    type_keys(&mut client, "hello\r");
    assert_eq!(server.stdout_line(), "hello");
    // Up arrow: the last line again, then Enter.
    client.write(b"\x1b[A");
    client.write(b"\r");
    assert_eq!(server.stdout_line(), "hello");
    server.write(b"welcome\n");
    client.wait_stdout("< welcome", 1);
    type_keys(&mut client, "/ping\r");
    // Keys typed before the editor has handed over a line are lost to the
    // next prompt (rustyline reads ahead and drops what it read): wait.
    client.wait_stdout("ping sent", 1);
    type_keys(&mut client, "/close 4001 done\r");
    let done = client.finish();
    assert_eq!(
        done.status,
        i32::from(Exit::CloseCode.code()),
        "{}",
        done.out()
    );
    assert!(done.out().contains("closed: code 4001"), "{}", done.out());
    let closed = server.wait_stderr(|l| l.contains("disconnected"));
    assert!(closed.contains("code 4001 reason \"done\""), "{closed}");
}
