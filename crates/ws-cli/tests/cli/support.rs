//! Shared by the test modules: the `wsp` binary as a subprocess with its
//! output collected line by line and every wait bounded, and small
//! ws-tokio servers on loopback port 0.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpStream;

/// How long any one wait of a test may take.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The binary under test.
#[must_use]
pub fn wsp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsp"))
}

/// A finished run.
#[derive(Debug)]
pub struct Run {
    /// The exit status (-1 if killed by a signal).
    pub status: i32,
    /// Everything written to standard output.
    pub stdout: Vec<u8>,
    /// Everything written to standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output as text.
    #[must_use]
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `wsp args` with `stdin` as its whole input; waits at most
/// [`LIMIT`].
#[must_use]
pub fn run(args: &[&str], stdin: &[u8]) -> Run {
    let mut process = Process::spawn(wsp().args(args));
    process.offer(stdin);
    process.finish()
}

/// A running `wsp` (or peer), its output read by threads; killed (by PID)
/// if still running when dropped.
pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stdout_lines: Receiver<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_lines: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
    finished: bool,
}

impl Process {
    /// Starts `command` with every standard stream piped.
    ///
    /// # Panics
    /// If it does not start.
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (out_tx, stdout_lines) = mpsc::channel();
        let (err_tx, stderr_lines) = mpsc::channel();
        let mut out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let all_out = stdout.clone();
        let all_err = stderr.clone();
        let readers = vec![
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut line = Vec::new();
                while let Ok(n) = out.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    all_out.lock().unwrap().extend_from_slice(&buf[..n]);
                    for &byte in &buf[..n] {
                        if byte == b'\n' {
                            let _ = out_tx.send(String::from_utf8_lossy(&line).into_owned());
                            line.clear();
                        } else {
                            line.push(byte);
                        }
                    }
                }
            }),
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines() {
                    let Ok(line) = line else { break };
                    all_err.lock().unwrap().push(line.clone());
                    let _ = err_tx.send(line);
                }
            }),
        ];
        Process {
            stdin: child.stdin.take(),
            child,
            stdout,
            stdout_lines,
            stderr,
            stderr_lines,
            readers,
            finished: false,
        }
    }

    /// The process ID.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Writes to standard input.
    ///
    /// # Panics
    /// If standard input is closed.
    pub fn write(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(data).expect("writing wsp's stdin");
        stdin.flush().expect("flushing wsp's stdin");
    }

    /// Writes `data` to standard input and closes it, for a process that
    /// may end before reading it all (a connection that fails exits at
    /// once): a broken pipe then is not an error, the exit status and the
    /// output [`Process::finish`] collects are what the test checks.
    ///
    /// # Panics
    /// If standard input is already closed, or on any other write error.
    pub fn offer(&mut self, data: &[u8]) {
        let mut stdin = self.stdin.take().expect("stdin open");
        match stdin.write_all(data).and_then(|()| stdin.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => panic!("writing wsp's stdin: {e}"),
        }
    }

    /// Ends standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next standard error line that `wanted` accepts.
    ///
    /// # Panics
    /// After [`LIMIT`], or when the process ends first.
    pub fn wait_stderr(&self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.stderr_lines.recv_timeout(LIMIT) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "no such standard error line ({e}); standard error so far:\n{}",
                    self.stderr.lock().unwrap().join("\n")
                ),
            }
        }
    }

    /// The next line of standard output.
    ///
    /// # Panics
    /// After [`LIMIT`], or when the process ends first.
    pub fn stdout_line(&self) -> String {
        self.stdout_lines.recv_timeout(LIMIT).unwrap_or_else(|e| {
            panic!(
                "no standard output line ({e}); standard error:\n{}",
                self.stderr.lock().unwrap().join("\n")
            )
        })
    }

    /// Reads standard output until `needle` has appeared `times` times in
    /// all of it.
    ///
    /// # Panics
    /// After [`LIMIT`], or when the process ends first.
    pub fn wait_stdout(&self, needle: &str, times: usize) {
        loop {
            let seen = String::from_utf8_lossy(&self.stdout.lock().unwrap())
                .matches(needle)
                .count();
            if seen >= times {
                return;
            }
            if let Err(e) = self.stdout_lines.recv_timeout(LIMIT) {
                panic!(
                    "{needle:?} not seen {times} times ({e}); standard output:\n{}",
                    String::from_utf8_lossy(&self.stdout.lock().unwrap())
                );
            }
        }
    }

    /// Asks the process to stop (SIGTERM, by PID).
    pub fn terminate(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status();
    }

    /// Waits for the process to exit (killing it after [`LIMIT`]).
    ///
    /// # Panics
    /// If it had to be killed.
    pub fn finish(mut self) -> Run {
        self.stdin = None;
        let (done_tx, done) = mpsc::channel();
        let readers = std::mem::take(&mut self.readers);
        std::thread::spawn(move || {
            for reader in readers {
                let _ = reader.join();
            }
            let _ = done_tx.send(());
        });
        if done.recv_timeout(LIMIT).is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "wsp did not exit within {LIMIT:?}; standard error:\n{}",
                self.stderr.lock().unwrap().join("\n")
            );
        }
        let status = self.child.wait().expect("wait");
        self.finished = true;
        Run {
            status: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().join("\n"),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `wsp -l 127.0.0.1:0 args…`, and the address it reports.
#[must_use]
pub fn wsp_server(args: &[&str]) -> (Process, String) {
    let process = Process::spawn(wsp().args(["-l", "127.0.0.1:0"]).args(args));
    let line = process.wait_stderr(|l| l.contains("listening on "));
    let address = line
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (process, address)
}

/// A tokio runtime serving `handler` for every connection to a loopback
/// listener; returns the runtime (serving until dropped) and the address.
pub fn tokio_server<F, Fut>(handler: F) -> (tokio::runtime::Runtime, String)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    runtime.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(handler(tcp));
        }
    });
    (runtime, address)
}

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM
/// files into a fresh directory: (directory, cert.pem, key.pem).
#[must_use]
pub fn certificate(name: &str) -> (std::path::PathBuf, String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("rcgen");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wsp-{name}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).expect("cert");
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).expect("key");
    (
        dir,
        cert_path.display().to_string(),
        key_path.display().to_string(),
    )
}
