//! Standard input and output: lines read from a pipe, or edited with
//! history on a terminal (rustyline, on its own thread); messages written
//! to standard output, or above the prompt on a terminal.

use std::io::{self, IsTerminal as _, Write as _};

use rustyline::error::ReadlineError;
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::mpsc;

use crate::codec::Render;
use crate::link::Payload;

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A line of standard input is not UTF-8.
    #[error("input line {0} is not UTF-8 (send binary data with --binary hex or base64)")]
    NotUtf8(u64),
    /// Reading failed.
    #[error("reading standard input: {0}")]
    Io(#[from] io::Error),
    /// The line editor failed.
    #[error("line editor: {0}")]
    Editor(#[from] ReadlineError),
}

/// Lines of input; the channel closes at the end of input.
pub type Lines = mpsc::Receiver<Result<String, InputError>>;

/// Whether wsp talks to a person: standard input and output are both a
/// terminal.
#[must_use]
pub fn is_interactive() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// Reads standard input line by line on the runtime (a trailing `\r` is
/// dropped, so CRLF input works).
#[must_use]
pub fn pipe_lines() -> Lines {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let mut buf = Vec::new();
        let mut number = 0u64;
        loop {
            buf.clear();
            let line = match stdin.read_until(b'\n', &mut buf).await {
                Ok(0) => return,
                Ok(_) => {
                    number += 1;
                    let end = buf.strip_suffix(b"\n").unwrap_or(&buf);
                    let end = end.strip_suffix(b"\r").unwrap_or(end);
                    String::from_utf8(end.to_vec()).map_err(|_| InputError::NotUtf8(number))
                }
                Err(e) => Err(InputError::Io(e)),
            };
            let failed = line.is_err();
            if tx.send(line).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// The terminal while the line editor runs: restores its mode at the end
/// (the editor's thread may still be inside `readline` then).
pub struct Terminal {
    #[cfg(unix)]
    saved: Option<nix::sys::termios::Termios>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal {
    fn save() -> Self {
        Terminal {
            #[cfg(unix)]
            saved: nix::sys::termios::tcgetattr(io::stdin()).ok(),
        }
    }

    /// Puts the terminal back as it was and ends the prompt's line.
    pub fn restore(&self) {
        #[cfg(unix)]
        if let Some(saved) = &self.saved {
            let _ = nix::sys::termios::tcsetattr(
                io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                saved,
            );
        }
        println!();
    }
}

/// Starts the line editor on its own thread: the lines typed (each added
/// to the history), a printer that writes above the prompt, and the
/// terminal to restore.
pub fn editor_lines() -> Result<(Lines, Output, Terminal), InputError> {
    let terminal = Terminal::save();
    let mut editor = rustyline::DefaultEditor::new()?;
    let printer = editor.create_external_printer()?;
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        loop {
            let line = match editor.readline("> ") {
                Ok(line) => line,
                // Ctrl-C and Ctrl-D end the input: wsp closes.
                Err(ReadlineError::Interrupted | ReadlineError::Eof) => return,
                Err(e) => {
                    let _ = tx.blocking_send(Err(InputError::Editor(e)));
                    return;
                }
            };
            if !line.trim().is_empty() {
                let _ = editor.add_history_entry(line.as_str());
            }
            if tx.blocking_send(Ok(line)).is_err() {
                return;
            }
        }
    });
    Ok((rx, Output::Editor(Box::new(printer)), terminal))
}

/// Where messages and notes go.
pub enum Output {
    /// Messages to standard output, notes to standard error.
    Plain,
    /// Both above the line editor's prompt.
    Editor(Box<dyn rustyline::ExternalPrinter + Send>),
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Output::Plain => "Output::Plain",
            Output::Editor(_) => "Output::Editor",
        })
    }
}

impl Output {
    /// Writes a message received (flushed: a reader such as jq sees it at
    /// once).
    pub fn message(&mut self, render: &Render, payload: &Payload) -> io::Result<()> {
        let bytes = render.bytes(payload);
        match self {
            Output::Plain => {
                let mut out = io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()
            }
            Output::Editor(printer) => {
                let text = String::from_utf8_lossy(&bytes);
                printer
                    .print(format!("< {}\n", text.trim_end_matches('\n')))
                    .map_err(io::Error::other)
            }
        }
    }

    /// Writes a note for the person (standard error, or above the prompt).
    pub fn note(&mut self, text: &str) {
        match self {
            Output::Plain => eprintln!("wsp: {text}"),
            Output::Editor(printer) => {
                let _ = printer.print(format!("{text}\n"));
            }
        }
    }
}
