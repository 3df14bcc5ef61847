//! The peers: their one-time install, their processes (killed by PID when
//! dropped), and the certificate of the TLS scenarios.

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The peer scripts, committed beside this crate.
pub(crate) fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// A real WebSocket implementation to talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// Python `websockets` (asyncio API), in a venv.
    Python,
    /// Node `ws`, installed with `npm ci`.
    Node,
}

/// Client or server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Peer::Python => "python websockets",
            Peer::Node => "node ws",
        })
    }
}

/// What a peer process is told.
pub(crate) struct PeerArgs<'a> {
    pub role: Role,
    /// The client's URL.
    pub url: Option<&'a str>,
    pub script: String,
    pub deflate: bool,
    pub cert: Option<&'a TestCert>,
}

impl Peer {
    /// The command that runs this peer in `role`, installing the peer first
    /// (once per target directory, under a file lock).
    pub(crate) fn command(self, tmp: &Path, args: &PeerArgs<'_>) -> Result<Command, String> {
        let install = self.installed(tmp)?;
        let script = match (self, args.role) {
            (Peer::Python, Role::Server) => "python/server.py",
            (Peer::Python, Role::Client) => "python/client.py",
            (Peer::Node, Role::Server) => "node/server.js",
            (Peer::Node, Role::Client) => "node/client.js",
        };
        let mut command = match self {
            Peer::Python => Command::new(install.join("bin").join("python")),
            Peer::Node => {
                let mut node = Command::new("node");
                node.env("NODE_PATH", install.join("node_modules"));
                node
            }
        };
        command.arg(peers_dir().join(script));
        command.args(args.url);
        command.args(["--steps", &args.script, "--timeout", "60"]);
        if args.deflate {
            command.arg("--deflate");
        }
        if let Some(cert) = args.cert {
            match args.role {
                Role::Server => command
                    .arg("--cert")
                    .arg(&cert.cert_path)
                    .arg("--key")
                    .arg(&cert.key_path),
                Role::Client => command.arg("--ca").arg(&cert.cert_path),
            };
        }
        Ok(command)
    }

    /// The install directory (the venv, or the folder holding
    /// `node_modules`).
    fn installed(self, tmp: &Path) -> Result<PathBuf, String> {
        static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        static NODE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let cell = match self {
            Peer::Python => &PYTHON,
            Peer::Node => &NODE,
        };
        cell.get_or_init(|| {
            locked_install(tmp, &format!("{self:?}"), || match self {
                Peer::Python => install_python(
                    &tmp.join("interop-peers").join("python-venv"),
                    &peers_dir().join("python").join("requirements.txt"),
                ),
                Peer::Node => install_node(&tmp.join("interop-peers").join("node")),
            })
        })
        .clone()
    }
}

/// Runs `install` under a file lock named `name` in `tmp/interop-peers`:
/// other test binaries (and other `cargo test` runs) may install at the
/// same time, so one at a time, and each checks its marker.
pub(crate) fn locked_install(
    tmp: &Path,
    name: &str,
    install: impl FnOnce() -> Result<PathBuf, String>,
) -> Result<PathBuf, String> {
    let root = tmp.join("interop-peers");
    fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let lock_path = root.join(format!("{name}.lock"));
    let lock = File::create(&lock_path)
        .and_then(|lock| lock.lock().map(|()| lock))
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    let installed = install();
    drop(lock);
    installed
}

/// Installs the pinned `requirements` into a venv at `venv`, unless the
/// marker says they are already installed there.
pub(crate) fn install_python(venv: &Path, requirements: &Path) -> Result<PathBuf, String> {
    let marker = venv.join("installed-requirements.txt");
    if read(&marker).is_ok_and(|m| Ok(m) == read(requirements)) {
        return Ok(venv.to_owned());
    }
    let _ = fs::remove_dir_all(venv);
    run(
        Command::new("python3").arg("-m").arg("venv").arg(venv),
        "creating the Python venv (is python3 with the venv module installed?)",
    )?;
    run(
        Command::new(venv.join("bin").join("python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check"])
            .args(["--quiet", "--retries", "1", "--timeout", "30", "-r"])
            .arg(requirements),
        "installing the Python peer with pip (is the Python package registry reachable?)",
    )?;
    fs::copy(requirements, &marker).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(venv.to_owned())
}

/// Installs `ws` with `npm ci` from the committed lock file into `dir`,
/// unless the marker says that lock file is already installed there.
fn install_node(dir: &Path) -> Result<PathBuf, String> {
    let source = peers_dir().join("node");
    let lock = source.join("package-lock.json");
    let marker = dir.join("installed-package-lock.json");
    if read(&marker).is_ok_and(|m| Ok(m) == read(&lock)) {
        return Ok(dir.to_owned());
    }
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(source.join(file), dir.join(file))
            .map_err(|e| format!("copying {file} to {}: {e}", dir.display()))?;
    }
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
            .args(["--fetch-retries=1", "--fetch-timeout=30000"])
            .current_dir(dir),
        "installing the Node peer with npm ci (is node/npm installed and the npm registry reachable?)",
    )?;
    fs::copy(&lock, &marker).map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(dir.to_owned())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs an install command to completion; its output is the error.
fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {command:?} did not start: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what}: {command:?} failed ({})\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// A running peer. Its stdout and stderr are collected line by line; it is
/// killed (by its PID) if still running when dropped.
pub(crate) struct PeerProcess {
    child: Child,
    pub command_line: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    port: Receiver<u16>,
    eof: Receiver<()>,
    readers: Vec<JoinHandle<()>>,
    exit: Option<String>,
}

impl PeerProcess {
    pub(crate) fn spawn(mut command: Command) -> Result<Self, String> {
        let command_line = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{command_line} did not start: {e}"))?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port) = mpsc::channel();
        let (eof_tx, eof) = mpsc::channel();
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let readers = vec![
            collect(
                out,
                stdout.clone(),
                move |line| {
                    if let Some(port) = listening_port(line) {
                        let _ = port_tx.send(port);
                    }
                },
                // EOF on stdout: the peer is exiting; `finish` waits for it.
                move || {
                    let _ = eof_tx.send(());
                },
            ),
            collect(err, stderr.clone(), |_| {}, || {}),
        ];
        Ok(PeerProcess {
            child,
            command_line,
            stdout,
            stderr,
            port,
            eof,
            readers,
            exit: None,
        })
    }

    /// The port a server peer listens on, from its first report.
    pub(crate) fn wait_listening(&self, timeout: Duration) -> Result<u16, String> {
        self.port.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => {
                format!("the peer server did not report its port within {timeout:?}")
            }
            RecvTimeoutError::Disconnected => {
                "the peer server exited without reporting its port".to_owned()
            }
        })
    }

    /// Waits for the peer to exit (killing it after `timeout`) and says
    /// how it ended.
    pub(crate) fn finish(&mut self, timeout: Duration) -> &str {
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

    pub(crate) fn stdout(&self) -> Vec<String> {
        self.stdout.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub(crate) fn stderr(&self) -> Vec<String> {
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
        }
        at_end();
    })
}

fn listening_port(line: &str) -> Option<u16> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    if event.get("event")?.as_str()? != "listening" {
        return None;
    }
    u16::try_from(event.get("port")?.as_u64()?).ok()
}

/// A self-signed certificate for 127.0.0.1 made by rcgen, as DER for us and
/// as PEM files for the peers.
#[derive(Debug)]
pub struct TestCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    cert_path: PathBuf,
    key_path: PathBuf,
}

impl TestCert {
    pub(crate) fn generate(dir: &Path) -> Result<Self, String> {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .map_err(|e| format!("rcgen: {e}"))?;
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        fs::write(&cert_path, certified.cert.pem())
            .and_then(|()| fs::write(&key_path, certified.key_pair.serialize_pem()))
            .map_err(|e| format!("writing the certificate to {}: {e}", dir.display()))?;
        Ok(TestCert {
            cert: certified.cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()),
            cert_path,
            key_path,
        })
    }

    /// The certificate (the whole chain).
    #[must_use]
    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    /// Its private key.
    #[must_use]
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// A root store that trusts exactly this certificate.
    ///
    /// # Panics
    /// If rustls refuses the certificate rcgen made (it does not).
    #[must_use]
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert.clone())
            .expect("rustls accepts rcgen's certificate");
        roots
    }
}
