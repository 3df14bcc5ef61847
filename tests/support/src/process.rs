//! [`PeerProcess`]: another program a test talks to (a peer, a proxy, a
//! broker), its output collected line by line, killed by its PID if still
//! running when dropped.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running process. Its stdout and stderr are collected line by line; a
/// port it announces on stdout (recognised by the `port_of` it was spawned
/// with) is handed to [`wait_listening`](Self::wait_listening).
pub struct PeerProcess {
    child: Child,
    /// The command, for reports.
    pub command_line: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// Notified when a line is added to `stdout`.
    new_stdout: Arc<Condvar>,
    port: Receiver<u16>,
    eof: Receiver<()>,
    readers: Vec<JoinHandle<()>>,
    exit: Option<String>,
}

impl std::fmt::Debug for PeerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerProcess")
            .field("command_line", &self.command_line)
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl PeerProcess {
    /// Starts `command` with piped output; `port_of` reads a line of its
    /// stdout and says which port it announces, if any.
    ///
    /// # Errors
    /// The process did not start.
    pub fn spawn(
        mut command: Command,
        port_of: impl Fn(&str) -> Option<u16> + Send + 'static,
    ) -> Result<Self, String> {
        let command_line = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{command_line} did not start: {e}"))?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let new_stdout = Arc::new(Condvar::new());
        let (port_tx, port) = mpsc::channel();
        let (eof_tx, eof) = mpsc::channel();
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let readers = vec![
            collect(
                out,
                stdout.clone(),
                Some(new_stdout.clone()),
                move |line| {
                    if let Some(port) = port_of(line) {
                        let _ = port_tx.send(port);
                    }
                },
                // EOF on stdout: the process is exiting; `finish` waits.
                move || {
                    let _ = eof_tx.send(());
                },
            ),
            collect(err, stderr.clone(), None, |_| {}, || {}),
        ];
        Ok(PeerProcess {
            child,
            command_line,
            stdout,
            stderr,
            new_stdout,
            port,
            eof,
            readers,
            exit: None,
        })
    }

    /// The process's id.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The port the process announces first.
    ///
    /// # Errors
    /// None announced within `timeout`, or the process exited.
    pub fn wait_listening(&self, timeout: Duration) -> Result<u16, String> {
        self.port.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => {
                format!(
                    "{} did not report its port within {timeout:?}",
                    self.command_line
                )
            }
            RecvTimeoutError::Disconnected => {
                format!("{} exited without reporting its port", self.command_line)
            }
        })
    }

    /// Waits for the process to exit (killing it after `timeout`) and says
    /// how it ended.
    pub fn finish(&mut self, timeout: Duration) -> &str {
        if self.exit.is_none() {
            let exit = if self.eof.recv_timeout(timeout).is_ok() {
                match self.child.wait() {
                    Ok(status) => describe_exit(status),
                    Err(e) => format!("wait failed: {e}"),
                }
            } else {
                let _ = self.child.kill();
                let _ = self.child.wait();
                format!("still running after {timeout:?}: killed")
            };
            for reader in self.readers.drain(..) {
                let _ = reader.join();
            }
            self.exit = Some(exit);
        }
        self.exit.as_deref().expect("set above")
    }

    /// The first stdout line (so far, or within `timeout`) that `find`
    /// picks something out of.
    ///
    /// # Errors
    /// No such line within `timeout`, with the output so far.
    #[allow(clippy::disallowed_methods)] // another process: the wall clock
    pub fn wait_stdout<T>(
        &self,
        timeout: Duration,
        find: impl Fn(&str) -> Option<T>,
    ) -> Result<T, String> {
        let end = std::time::Instant::now() + timeout;
        let mut lines = self
            .stdout
            .lock()
            .map_err(|_| "a reader thread panicked".to_owned())?;
        loop {
            if let Some(found) = lines.iter().find_map(|line| find(line)) {
                return Ok(found);
            }
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{}: no such line within {timeout:?}; stdout:\n{}\nstderr:\n{}",
                    self.command_line,
                    lines.join("\n"),
                    self.stderr().join("\n")
                ));
            }
            lines = self
                .new_stdout
                .wait_timeout(lines, left)
                .map_err(|_| "a reader thread panicked".to_owned())?
                .0;
        }
    }

    /// The stdout lines so far.
    #[must_use]
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The stderr lines so far.
    #[must_use]
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    if status.success() {
        "exited with status 0".to_owned()
    } else {
        format!("exited unsuccessfully: {status}")
    }
}

/// Collects `pipe`'s lines into `lines`, showing each to `each`, and calls
/// `at_end` at EOF.
fn collect(
    pipe: impl Read + Send + 'static,
    lines: Arc<Mutex<Vec<String>>>,
    added: Option<Arc<Condvar>>,
    each: impl Fn(&str) + Send + 'static,
    at_end: impl FnOnce() + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            each(&line);
            if let Ok(mut lines) = lines.lock() {
                lines.push(line);
            }
            if let Some(added) = &added {
                added.notify_all();
            }
        }
        at_end();
    })
}

/// The binary of example `name` of the package whose manifest directory is
/// `manifest_dir` (the test's `env!("CARGO_MANIFEST_DIR")`), next to the
/// running test's own binary. `cargo test -p PACKAGE` builds the examples
/// with the tests; `--test NAME` alone does not, so a missing one is built
/// here (with `cargo`, the test's `env!("CARGO")`).
///
/// # Panics
/// If the build fails.
#[must_use]
pub fn example_binary(cargo: &str, manifest_dir: &str, name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let binary = dir.join("examples").join(name);
    if !binary.is_file() {
        let manifest = format!("{manifest_dir}/Cargo.toml");
        let status = Command::new(cargo)
            .args(["build", "--example", name, "--manifest-path", &manifest])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building {name}");
    }
    binary
}

/// Sends SIGINT (Ctrl-C) to `process`, by its PID.
///
/// # Panics
/// If `kill` cannot be run or fails.
pub fn interrupt(process: &PeerProcess) {
    let status = Command::new("kill")
        .args(["-INT", &process.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {}", process.id());
}
