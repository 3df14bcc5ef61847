//! Client mode: connect, then move lines to messages and messages to
//! lines until the session ends; the exit status says how it ended.

use std::pin::pin;
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::cli::{Cli, Exit};
use crate::codec::{self, BinaryIn, BinaryOut, LineError, Render};
use crate::connect::{self, HANDSHAKE_TIMEOUT};
use crate::link::{self, Ended, Link, Negotiated, Payload, Request};
use crate::tap::Heads;
use crate::term::{self, Lines, Output};
use crate::tls;

/// How long a close may take once `--timeout` has expired, before the
/// connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What an input line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a message.
    Send(Payload),
    /// Send a ping (interactive `/ping`).
    Ping(Vec<u8>),
    /// Close with a code and reason (interactive `/close`).
    Close(u16, String),
}

/// Why an input line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The line is not a message in the input encoding.
    #[error(transparent)]
    Line(#[from] LineError),
    /// An unknown `/command`.
    #[error(
        "unknown command /{0}: use /ping [TEXT], /close [CODE [REASON]], or //TEXT for a line starting with /"
    )]
    Unknown(String),
    /// `/close` with a code that may not be sent.
    #[error("{0:?} is not a close code that may be sent (1000-1003, 1007-1014, 3000-4999)")]
    CloseCode(String),
}

/// Reads one input line: a message, or in interactive mode also a
/// `/command`.
pub fn command_of(
    line: &str,
    interactive: bool,
    binary: Option<BinaryIn>,
) -> Result<Command, CommandError> {
    let Some(command) = line.strip_prefix('/').filter(|_| interactive) else {
        return Ok(Command::Send(codec::message_of(line, binary)?));
    };
    if command.starts_with('/') {
        return Ok(Command::Send(codec::message_of(command, binary)?));
    }
    let (name, rest) = command.split_once(' ').unwrap_or((command, ""));
    match name {
        "ping" => Ok(Command::Ping(rest.as_bytes().to_vec())),
        "close" => {
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            let code = if code.is_empty() {
                1000
            } else {
                code.parse()
                    .ok()
                    .filter(|c| link::is_sendable(*c))
                    .ok_or_else(|| CommandError::CloseCode(code.to_owned()))?
            };
            Ok(Command::Close(code, reason.to_owned()))
        }
        other => Err(CommandError::Unknown(other.to_owned())),
    }
}

/// Runs client mode to the end and returns the exit status.
pub async fn run(cli: &Cli) -> Exit {
    let url = cli.url.clone().unwrap_or_default();
    let deadline = cli.timeout.map(|t| Instant::now() + t);
    let tls = if let Some(ca_file) = &cli.ca_file {
        match tls::trusting(ca_file) {
            Ok(tls) => tls,
            Err(e) => {
                eprintln!("wsp: {e}");
                return Exit::Failure;
            }
        }
    } else if cli.insecure {
        eprintln!(
            "wsp: WARNING: --insecure: the server's certificate is NOT checked; whoever answers can read and change this connection"
        );
        tls::insecure()
    } else {
        tls::default_client()
    };
    let mut headers = cli.headers.clone();
    if let Some(origin) = &cli.origin {
        headers.push((ws_tokio::http::header::ORIGIN, origin.clone()));
    }
    let request = Request {
        url: url.clone(),
        headers,
        subprotocols: cli.subprotocols.clone(),
        settings: cli.settings(),
        handshake_timeout: HANDSHAKE_TIMEOUT,
    };
    let heads = cli.verbose.then(Heads::default);
    let proxy = cli.proxy_config();
    let connecting = connect::connect(request, tls, heads.clone(), &proxy);
    let connected = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(connect::Failure::Timeout {
                    step: "connecting (--timeout)",
                    host: url.clone(),
                    port: 0,
                    after: cli.timeout.unwrap_or_default(),
                })
            }),
        None => connecting.await,
    };
    if let Some(heads) = &heads {
        show_heads(heads);
    }
    let (link, negotiated) = match connected {
        Ok(connected) => connected,
        Err(e) => {
            eprintln!("wsp: {e}");
            return e.exit();
        }
    };
    let interactive = term::is_interactive();
    let (lines, mut output, terminal) = if interactive {
        match term::editor_lines() {
            Ok((lines, output, terminal)) => (lines, output, Some(terminal)),
            Err(e) => {
                eprintln!("wsp: {e}");
                return Exit::Failure;
            }
        }
    } else {
        (term::pipe_lines(), Output::Plain, None)
    };
    if interactive || cli.verbose {
        output.note(&connected_line(&url, &negotiated, interactive));
    }
    let mut render = cli.render();
    if interactive && render.binary == BinaryOut::Raw {
        render.binary = BinaryOut::Hex;
    }
    let mut conversation = Conversation {
        cli,
        link,
        output,
        render,
        interactive,
        failure: None,
        received: 0,
    };
    let ended = conversation.run(lines, deadline).await;
    // The editor's thread may be waiting for a line: the terminal is put
    // back now, and the last line goes straight to standard error (the
    // editor would print it after the process has ended).
    if let Some(terminal) = terminal {
        terminal.restore();
    }
    if !cli.quiet || conversation.failure.is_some() || Exit::of(&ended) != Exit::Normal {
        eprintln!(
            "wsp: closed: code {} reason {:?}: {}",
            ended.code, ended.reason, ended.description
        );
    }
    conversation.failure.unwrap_or_else(|| Exit::of(&ended))
}

fn connected_line(url: &str, negotiated: &Negotiated, interactive: bool) -> String {
    let mut line = format!("connected to {url}{negotiated}");
    if interactive {
        line.push_str(" (Ctrl-D or /close to close, /ping to ping)");
    }
    line
}

/// Shows what `-v` recorded: `> ` before each request line, `< ` before
/// each response line.
fn show_heads(heads: &Heads) {
    let (sent, received) = heads.get();
    for (prefix, head) in [("> ", sent), ("< ", received)] {
        for line in head.iter().flat_map(|h| h.lines()) {
            eprintln!("{prefix}{line}");
        }
    }
}

/// The open session and where its messages go.
struct Conversation<'a> {
    cli: &'a Cli,
    link: Link,
    output: Output,
    render: Render,
    interactive: bool,
    /// Set when wsp gave up for a reason of its own (the exit status).
    failure: Option<Exit>,
    received: u64,
}

impl Conversation<'_> {
    /// Moves input lines out and messages in until the session ends.
    async fn run(&mut self, mut lines: Lines, deadline: Option<Instant>) -> Ended {
        let cli = self.cli;
        let mut input_open = true;
        let mut sent = false;
        let mut interrupt = pin!(tokio::signal::ctrl_c());
        let far = Instant::now() + Duration::from_hours(100 * 365 * 24);
        let mut expiry = pin!(sleep_until(deadline.unwrap_or(far)));
        // -w: when to close after the end of input.
        let mut linger = pin!(sleep_until(far));
        let mut lingering = false;
        let ended = loop {
            let want_input = input_open && !(cli.one_message && sent);
            tokio::select! {
                received = self.link.recv() => match received {
                    Ok(payload) => {
                        if !self.write(&payload) || cli.one_message {
                            break self.link.close(1000, "").await;
                        }
                    }
                    Err(ended) => break ended,
                },
                line = lines.recv(), if want_input => {
                    let Some(line) = line else {
                        input_open = false;
                        if let Some(wait) = cli.wait {
                            linger.as_mut().reset(Instant::now() + wait);
                            lingering = true;
                            continue;
                        }
                        if cli.no_close || cli.one_message {
                            continue;
                        }
                        break self.link.close(1000, "").await;
                    };
                    let command = line
                        .map_err(|e| e.to_string())
                        .and_then(|l| command_of(&l, self.interactive, cli.binary).map_err(|e| e.to_string()));
                    match command {
                        Ok(Command::Send(payload)) => {
                            sent = true;
                            if let Err(ended) = self.link.send(payload).await {
                                break ended;
                            }
                        }
                        Ok(Command::Ping(payload)) => {
                            if let Err(ended) = self.link.ping(payload).await {
                                break ended;
                            }
                            self.output.note("ping sent (the session checks the pong)");
                        }
                        Ok(Command::Close(code, reason)) => break self.link.close(code, &reason).await,
                        Err(e) if self.interactive => self.output.note(&format!("! {e}")),
                        Err(e) => {
                            eprintln!("wsp: {e}");
                            self.failure = Some(Exit::Failure);
                            break self.link.close(1000, "").await;
                        }
                    }
                }
                () = &mut expiry, if deadline.is_some() => {
                    eprintln!("wsp: --timeout of {:?} expired: closing", cli.timeout.unwrap_or_default());
                    self.failure = Some(Exit::Timeout);
                    let closed = tokio::time::timeout(CLOSE_GRACE, self.link.close(1000, "timeout")).await;
                    if let Ok(ended) = closed {
                        break ended;
                    }
                    self.link.terminate().await;
                    break self.link.close(1000, "").await;
                }
                () = &mut linger, if lingering => break self.link.close(1000, "").await,
                _ = &mut interrupt => break self.link.close(1000, "").await,
            }
        };
        // Messages that arrived while closing are still written (with -1,
        // only if none was yet).
        while !(cli.one_message && self.received > 0) {
            match self.link.recv().await {
                Ok(payload) => {
                    if !self.write(&payload) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        ended
    }

    /// Writes a message; false when the output is gone.
    fn write(&mut self, payload: &Payload) -> bool {
        self.received += 1;
        match self.output.message(&self.render, payload) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("wsp: writing standard output: {e}");
                self.failure = Some(Exit::Failure);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands_only_on_a_terminal() {
        let text = |s: &str| Ok(Command::Send(Payload::Text(s.to_owned())));
        assert_eq!(command_of("/ping", false, None), text("/ping"));
        assert_eq!(
            command_of("/ping hi", true, None),
            Ok(Command::Ping(b"hi".to_vec()))
        );
        assert_eq!(command_of("//x", true, None), text("/x"));
        assert_eq!(
            command_of("/close", true, None),
            Ok(Command::Close(1000, String::new()))
        );
        assert_eq!(
            command_of("/close 4000 bye now", true, None),
            Ok(Command::Close(4000, "bye now".into()))
        );
        assert_eq!(
            command_of("/close 1006", true, None),
            Err(CommandError::CloseCode("1006".into()))
        );
        assert_eq!(
            command_of("/nope", true, None),
            Err(CommandError::Unknown("nope".into()))
        );
        assert_eq!(
            command_of("//0aff", true, Some(BinaryIn::Hex)),
            Err(CommandError::Line(LineError::NotHex {
                found: '/',
                column: 1
            }))
        );
        assert_eq!(
            command_of("0aff", true, Some(BinaryIn::Hex)),
            Ok(Command::Send(Payload::Binary(vec![10, 255])))
        );
    }
}
