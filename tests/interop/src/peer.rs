//! The peers: Python `websockets` and Node `ws`, their scripts and
//! command lines. Installing them and running their processes is the
//! shared harness's (`test_support::install`, `test_support::process`).

use std::path::{Path, PathBuf};
use std::process::Command;

use test_support::process::PeerProcess;

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
    pub cert: Option<&'a CertFiles>,
}

impl Peer {
    /// The command that runs this peer in `role`, installing the peer first
    /// (once per target directory, under a file lock).
    fn command(self, tmp: &Path, args: &PeerArgs<'_>) -> Result<Command, String> {
        let script = match (self, args.role) {
            (Peer::Python, Role::Server) => "python/server.py",
            (Peer::Python, Role::Client) => "python/client.py",
            (Peer::Node, Role::Server) => "node/server.js",
            (Peer::Node, Role::Client) => "node/client.js",
        };
        let mut command = self.script_command(tmp, &peers_dir().join(script))?;
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

    /// A command that runs `script` (a Python file for [`Peer::Python`], a
    /// JavaScript file for [`Peer::Node`]) with this peer installed: the
    /// venv's Python, or Node with the installed `node_modules` on its
    /// path. Installs the peer first (once per `tmp`, a test crate's
    /// `CARGO_TARGET_TMPDIR`), so other suites can run scripts of their own
    /// against the same pinned peers.
    pub fn script_command(self, tmp: &Path, script: &Path) -> Result<Command, String> {
        let install = self.installed(tmp)?;
        let mut command = match self {
            Peer::Python => Command::new(install.join("bin").join("python")),
            Peer::Node => {
                let mut node = Command::new("node");
                node.env("NODE_PATH", install.join("node_modules"));
                node
            }
        };
        command.arg(script);
        Ok(command)
    }

    /// The install directory (the venv, or the folder holding
    /// `node_modules`), installed once per target directory.
    fn installed(self, tmp: &Path) -> Result<PathBuf, String> {
        match self {
            Peer::Python => test_support::install::python_venv(
                tmp,
                "interop-python",
                &peers_dir().join("python").join("requirements.txt"),
            ),
            Peer::Node => {
                test_support::install::npm_ci(tmp, "interop-node", &peers_dir().join("node"))
            }
        }
    }

    /// Starts this peer with `args`; its port (as a server) comes in its
    /// first JSON report.
    pub(crate) fn spawn(self, tmp: &Path, args: &PeerArgs<'_>) -> Result<PeerProcess, String> {
        PeerProcess::spawn(self.command(tmp, args)?, listening_port)
    }
}

fn listening_port(line: &str) -> Option<u16> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    if event.get("event")?.as_str()? != "listening" {
        return None;
    }
    u16::try_from(event.get("port")?.as_u64()?).ok()
}

/// The PEM files of the TLS scenarios' certificate, for the peer.
#[derive(Debug)]
pub(crate) struct CertFiles {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}
