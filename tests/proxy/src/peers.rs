//! The real components: pproxy and a Python websockets echo server (from a
//! venv this crate installs once per target directory), our own echo
//! server, and a self-signed certificate. Every process is killed by its
//! PID when dropped, and exits by itself when the test process goes away
//! (its stdin closes).

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_session::Message;

/// How long a process may take to start (a cold venv import included).
const START: Duration = Duration::from_secs(60);

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The venv's Python, installing `peers/requirements.txt` first (once per
/// target directory, under a file lock shared by the test binaries).
fn python(tmp: &Path) -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let venv = VENV.get_or_init(|| {
        let root = tmp.join("proxy-peers");
        fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
        let lock = File::create(root.join("install.lock"))
            .and_then(|lock| lock.lock().map(|()| lock))
            .map_err(|e| format!("locking the venv install: {e}"))?;
        let venv = root.join("venv");
        let requirements = peers_dir().join("requirements.txt");
        let marker = venv.join("installed-requirements.txt");
        let wanted = fs::read(&requirements).map_err(|e| e.to_string())?;
        if fs::read(&marker).ok() != Some(wanted) {
            let _ = fs::remove_dir_all(&venv);
            install(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
            install(
                Command::new(venv.join("bin/python"))
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .args(["--retries", "1", "--timeout", "30", "-r"])
                    .arg(&requirements),
            )?;
            fs::copy(&requirements, &marker).map_err(|e| e.to_string())?;
        }
        drop(lock);
        Ok(venv.join("bin/python"))
    });
    match venv {
        Ok(python) => python.clone(),
        Err(e) => panic!("installing pproxy and websockets into a venv failed: {e}"),
    }
}

fn install(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// A running process with its output lines (stdout and stderr).
pub struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    new_line: Mutex<Receiver<()>>,
}

impl Process {
    fn spawn(mut command: Command) -> Process {
        let mut child = command
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, new_line) = mpsc::channel();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("piped"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("piped"));
        for pipe in [out, err] {
            let (lines, tx) = (lines.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                    let _ = tx.send(());
                }
            });
        }
        Process {
            child,
            lines,
            new_line: Mutex::new(new_line),
        }
    }

    /// The first output line for which `find` gives a value, waiting up
    /// to `timeout` for it.
    ///
    /// # Panics
    /// If none comes in time, with the whole output.
    #[allow(clippy::disallowed_methods)] // real processes: the wall clock
    pub fn wait_for<T>(&self, timeout: Duration, find: impl Fn(&str) -> Option<T>) -> T {
        let end = Instant::now() + timeout;
        let new_line = self.new_line.lock().unwrap();
        loop {
            if let Some(found) = self.lines.lock().unwrap().iter().find_map(|l| find(l)) {
                return found;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                new_line.recv_timeout(left).is_ok(),
                "no such line within {timeout:?}; output:\n{}",
                self.output().join("\n")
            );
        }
    }

    /// Every line so far.
    ///
    /// # Panics
    /// If a reader thread panicked.
    #[must_use]
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// pproxy, listening on 127.0.0.1 (the port it chose).
pub struct Pproxy {
    /// The process; `-v` makes it log every tunnel (`http A -> host:port`).
    pub process: Process,
    /// Its port.
    pub port: u16,
}

impl Pproxy {
    /// Starts `pproxy -l {schemes}://127.0.0.1:0/[#user:pass] -v`, checking
    /// credentials on every connection (`--auth 0`), with `extra` args.
    #[must_use]
    pub fn start(tmp: &Path, schemes: &str, auth: Option<&str>, extra: &[&str]) -> Pproxy {
        let mut command = Command::new(python(tmp));
        command.arg(peers_dir().join("run_pproxy.py"));
        let listen = match auth {
            Some(auth) => format!("{schemes}://127.0.0.1:0/#{auth}"),
            None => format!("{schemes}://127.0.0.1:0/"),
        };
        command
            .args(["-l", &listen, "-v", "--auth", "0"])
            .args(extra);
        let process = Process::spawn(command);
        let port = process.wait_for(START, |line| {
            let rest = line.strip_prefix("Serving on")?;
            rest.split_whitespace()
                .find_map(|word| word.rsplit_once(':')?.1.parse().ok())
        });
        Pproxy { process, port }
    }

    /// Waits until pproxy has logged a tunnel to `target` (`host:port` as
    /// it was asked for) and returns the line.
    #[must_use]
    pub fn saw(&self, target: &str) -> String {
        let arrow = format!("-> {target}");
        self.process.wait_for(Duration::from_secs(10), |line| {
            line.ends_with(&arrow).then(|| line.to_owned())
        })
    }

    /// Whether pproxy has logged any tunnel at all.
    #[must_use]
    pub fn tunnels(&self) -> Vec<String> {
        self.process
            .output()
            .into_iter()
            .filter(|line| line.contains(" -> "))
            .collect()
    }
}

/// A Python websockets echo server on 127.0.0.1.
pub struct PythonEcho {
    _process: Process,
    /// Its port.
    pub port: u16,
}

impl PythonEcho {
    /// Starts it, serving TLS with `cert` if given.
    #[must_use]
    pub fn start(tmp: &Path, cert: Option<&TestCert>) -> PythonEcho {
        let mut command = Command::new(python(tmp));
        command.arg(peers_dir().join("echo_server.py"));
        if let Some(cert) = cert {
            command.arg(&cert.cert_path).arg(&cert.key_path);
        }
        let process = Process::spawn(command);
        let port = process.wait_for(START, |line| {
            let port = line.strip_prefix("{\"event\": \"listening\", \"port\": ")?;
            port.strip_suffix('}')?.parse().ok()
        });
        PythonEcho {
            _process: process,
            port,
        }
    }
}

/// Our echo server (`ws-tokio`) on its own thread and tokio runtime,
/// stopped when dropped.
pub struct OurEcho {
    /// Its port on 127.0.0.1.
    pub port: u16,
    stop: Option<futures_channel::oneshot::Sender<()>>,
}

impl OurEcho {
    /// Starts it, serving TLS with `cert` if given.
    ///
    /// # Panics
    /// If the listener cannot be bound.
    #[must_use]
    pub fn start(cert: Option<&TestCert>) -> OurEcho {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut acceptor = ws_tokio::Acceptor::new();
        if let Some(cert) = cert {
            let tls = ws_tokio::server_config(vec![cert.cert()], cert.key()).unwrap();
            acceptor = acceptor.tls_config(tls);
        }
        let (stop, stopped) = futures_channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let serve = async {
                    while let Ok((tcp, _)) = listener.accept().await {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            let accepted =
                                acceptor.accept_tcp(tcp, |_| ws_tokio::Decision::accept());
                            let Ok((mut ws, _)) = accepted.await else {
                                return;
                            };
                            while let Ok(message) = ws.recv().await {
                                if ws.send_message(message).await.is_err() {
                                    break;
                                }
                            }
                        });
                    }
                };
                futures_util::future::select(std::pin::pin!(serve), stopped).await;
            });
        });
        OurEcho {
            port,
            stop: Some(stop),
        }
    }
}

impl Drop for OurEcho {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1 (rcgen), as DER
/// for us and as PEM files for the Python side and pproxy.
pub struct TestCert {
    certified: rcgen::CertifiedKey,
    /// The PEM certificate.
    pub cert_path: PathBuf,
    /// The PEM key.
    pub key_path: PathBuf,
}

impl TestCert {
    /// Generates one, writing the PEM files under `dir`.
    ///
    /// # Panics
    /// If rcgen or the file system fails.
    #[must_use]
    pub fn generate(dir: &Path) -> TestCert {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).unwrap();
        fs::create_dir_all(dir).unwrap();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        fs::write(&cert_path, certified.cert.pem()).unwrap();
        fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
        TestCert {
            certified,
            cert_path,
            key_path,
        }
    }

    /// The certificate.
    #[must_use]
    pub fn cert(&self) -> CertificateDer<'static> {
        self.certified.cert.der().clone()
    }

    /// Its key.
    #[must_use]
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.certified.key_pair.serialize_der()).into()
    }

    /// A client TLS config trusting exactly this certificate.
    ///
    /// # Panics
    /// If rustls refuses rcgen's certificate (it does not).
    #[must_use]
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert()).unwrap();
        ws_session::tls::client_config_with_roots(roots)
    }
}

/// The message every scenario sends and expects back.
#[must_use]
pub fn hello() -> Message {
    Message::Text("through the proxy".into())
}
