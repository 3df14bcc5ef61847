//! How the client reaches a server, against real components started by
//! the tests: pproxy (from the Python package index, in a venv under the target directory) as
//! an HTTP `CONNECT`, HTTPS and SOCKS5 proxy, with and without auth
//! (`--auth 0`: credentials checked on every connection), in front of our
//! echo server and of a Python websockets one; and redirects served by a
//! real axum server. Written once over the shared harness's [`Rt`] and
//! run on tokio, async-std and smol ([`reach_tests!`]).
//!
//! ```text
//!  Connector (proxy option / variables, redirects) ─► pproxy ─► our echo server | Python websockets
//!                                                  └─► axum (3xx routes) ─► ws-axum endpoint
//! ```
//!
//! - [`proxies`]: through each kind of proxy, `ws://` and `wss://`; wrong
//!   and missing credentials, a refused target port, the variables and
//!   `NO_PROXY`.
//! - [`redirects`]: chains, credentials dropped across origins, loops, too
//!   many, the `wss://` to `ws://` downgrade refused.
#![forbid(unsafe_code)]
// Every helper and case serves a test: it panics on failure, by design.
#![allow(clippy::missing_panics_doc)]

pub mod proxies;
pub mod redirects;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use test_support::*;

use test_support::process::PeerProcess;

/// How long a Python peer may take to start (a cold venv included).
const START: Duration = Duration::from_secs(60);

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The venv with pproxy and websockets (installed once per target
/// directory by the shared harness).
fn venv(tmp: &Path) -> PathBuf {
    install::python_venv(tmp, "proxy-python", &peers_dir().join("requirements.txt"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// pproxy on 127.0.0.1 (the port it chose), logging every tunnel (`-v`).
#[derive(Debug)]
pub struct Pproxy {
    process: PeerProcess,
    /// Its port.
    pub port: u16,
}

impl Pproxy {
    /// Starts `pproxy -l {schemes}://127.0.0.1:0/[#user:password] -v
    /// --auth 0` with `extra` arguments.
    #[must_use]
    pub fn start(tmp: &Path, schemes: &str, auth: Option<&str>, extra: &[&str]) -> Pproxy {
        let listen = match auth {
            Some(auth) => format!("{schemes}://127.0.0.1:0/#{auth}"),
            None => format!("{schemes}://127.0.0.1:0/"),
        };
        let mut command = Command::new(venv(tmp).join("bin").join("pproxy"));
        command
            .args(["-l", &listen, "-v", "--auth", "0"])
            .args(extra)
            .env("PYTHONUNBUFFERED", "1");
        let process = PeerProcess::spawn(command, |line| {
            // "Serving on ipv? 127.0.0.1:38963 by http"
            line.strip_prefix("Serving on")?
                .split_whitespace()
                .find_map(|word| word.rsplit_once(':')?.1.parse().ok())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let port = process
            .wait_listening(START)
            .unwrap_or_else(|e| panic!("{e}; stderr: {:?}", process.stderr()));
        Pproxy { process, port }
    }

    /// Its URL with `scheme` (`http`, `https`, `socks5`, `socks5h`) and
    /// `userinfo` (`user:password`), if any.
    #[must_use]
    pub fn url(&self, scheme: &str, userinfo: Option<&str>) -> String {
        match userinfo {
            Some(userinfo) => format!("{scheme}://{userinfo}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// Waits until pproxy has logged a tunnel to `target` (`host:port` as
    /// it was asked for) and returns the line.
    #[must_use]
    pub fn saw(&self, target: &str) -> String {
        let arrow = format!("-> {target}");
        self.process
            .wait_stdout(Duration::from_secs(10), |line| {
                line.ends_with(&arrow).then(|| line.to_owned())
            })
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The tunnels it has logged so far.
    #[must_use]
    pub fn tunnels(&self) -> Vec<String> {
        self.process
            .stdout()
            .into_iter()
            .filter(|line| line.contains(" -> "))
            .collect()
    }
}

/// A Python websockets echo server on 127.0.0.1 (`peers/echo_server.py`).
#[derive(Debug)]
pub struct PythonEcho {
    _process: PeerProcess,
    /// Its port.
    pub port: u16,
}

impl PythonEcho {
    /// Starts it, serving TLS with `cert` (PEM files) if given.
    #[must_use]
    pub fn start(tmp: &Path, cert: Option<&(PathBuf, PathBuf)>) -> PythonEcho {
        let mut command = Command::new(venv(tmp).join("bin").join("python"));
        command.arg(peers_dir().join("echo_server.py"));
        if let Some((cert, key)) = cert {
            command.arg(cert).arg(key);
        }
        let process = PeerProcess::spawn(command, |line| {
            let port = line.strip_prefix("{\"event\": \"listening\", \"port\": ")?;
            port.strip_suffix('}')?.parse().ok()
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let port = process
            .wait_listening(START)
            .unwrap_or_else(|e| panic!("{e}; stderr: {:?}", process.stderr()));
        PythonEcho {
            _process: process,
            port,
        }
    }
}

/// The error of a connection to `url` that must fail.
pub async fn refused<R: Rt>(url: &str, options: ClientOptions) -> ws_session::ConnectError {
    match connect_with::<R>(url, options).await {
        Err(error) => error,
        Ok(_) => panic!("{}: {url} connected", R::NAME),
    }
}

/// Instantiates every case as a `#[test]` on the runtime type `$rt`.
#[macro_export]
macro_rules! reach_tests {
    ($rt:ty) => {
        $crate::reach_tests!(@each $rt;
            proxies: http_proxy_ws_to_ours, http_proxy_with_auth_wss_to_python,
            https_proxy_ws_and_wss_to_ours, https_proxy_with_an_untrusted_certificate,
            socks5_resolves_locally_ws_to_python,
            socks5h_with_auth_wss_to_ours, http_proxy_wrong_credentials,
            http_proxy_missing_credentials, socks5_wrong_credentials,
            http_proxy_refuses_a_closed_port,
            socks5_proxy_to_a_closed_port_ends_before_the_answer,
            variables_select_the_proxy_and_no_proxy_bypasses;
            redirects: a_chain_is_followed_and_credentials_stop_at_another_origin,
            credentials_stay_on_the_same_origin, a_loop_is_refused,
            too_many_redirects_are_refused, redirects_are_off_by_default,
            https_maps_to_wss_and_wss_to_ws_is_refused;
        );
    };
    (@each $rt:ty; $($module:ident: $($name:ident),* ;)*) => {
        $(mod $module {
            $(#[test]
            fn $name() {
                $crate::$module::$name::<$rt>(::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
            })*
        })*
    };
}
