//! One interop test from start to end, and the report printed when it
//! fails: which peer, direction, scenario and step, and the transcript of
//! both sides.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use test_support::process::PeerProcess;
use test_support::{ClientOptions, Rt, ServerOptions, TestCert, connect_with};
use ws_session::Session;

use crate::check::{self, Outcome};
use crate::drive::{self, Failure, Record};
use crate::peer::{CertFiles, PeerArgs, Role};
use crate::scenario::Plan;
use crate::{Direction, OurServer, Peer, Scenario, within};

/// How long a peer server may take to start, and a peer to finish after
/// our side is done.
const PEER_SECONDS: u64 = 30;
/// How long the TCP, TLS and WebSocket handshakes may take together.
const HANDSHAKE_SECONDS: u64 = 20;

/// Runs the test; the failure report is the error.
pub(crate) fn run<R: Rt, A: OurServer<R>>(
    tmp: &Path,
    peer: Peer,
    direction: Direction,
    scenario: Scenario,
) -> Result<(), String> {
    let plan = scenario.plan();
    let path = format!("/interop/{}", scenario.name());
    let mut record = Record::default();
    let mut process = None;
    let run_dir = tmp.join("interop-runs").join(format!(
        "{}-{peer:?}-{direction:?}-{}-{}",
        R::NAME,
        scenario.name(),
        std::process::id()
    ));
    let result = converse::<R, A>(
        tmp,
        &run_dir,
        peer,
        direction,
        &plan,
        &path,
        &mut record,
        &mut process,
    );
    let exit = process
        .as_mut()
        .map(|p| p.finish(Duration::from_secs(PEER_SECONDS)).to_owned());
    let stdout = process
        .as_ref()
        .map(PeerProcess::stdout)
        .unwrap_or_default();
    let events = check::parse(&stdout);
    let result = result.and_then(|()| {
        Outcome {
            plan: &plan,
            direction,
            path: &path,
            record: &record,
            events: &events,
            exit: exit.as_deref().unwrap_or("never started"),
        }
        .check()
    });
    let _ = std::fs::remove_dir_all(&run_dir);
    result.map_err(|failure| {
        render(&Context {
            adapter: R::NAME,
            peer,
            direction,
            scenario,
            plan: &plan,
            record: &record,
            process: process.as_ref(),
            exit: exit.as_deref(),
            failure: &failure,
        })
    })
}

/// Starts the peer, connects or accepts, and runs our side of the steps.
#[allow(clippy::too_many_arguments)] // the pieces of one test, passed once
fn converse<R: Rt, A: OurServer<R>>(
    tmp: &Path,
    run_dir: &Path,
    peer: Peer,
    direction: Direction,
    plan: &Plan,
    path: &str,
    record: &mut Record,
    process: &mut Option<PeerProcess>,
) -> Result<(), Failure> {
    let cert = plan.tls.then(TestCert::new);
    let files = cert
        .as_ref()
        .map(|cert| cert.write_pem(run_dir))
        .transpose()
        .map_err(Failure::setup)?
        .map(|(cert_path, key_path)| CertFiles {
            cert_path,
            key_path,
        });
    let scheme = if plan.tls { "wss" } else { "ws" };
    let mut args = PeerArgs {
        role: Role::Server,
        url: None,
        script: plan.peer_script(),
        deflate: plan.peer_deflate,
        cert: files.as_ref(),
    };
    let runtime = R::runtime();
    match direction {
        Direction::OurClient => {
            let spawned = process.insert(peer.spawn(tmp, &args).map_err(Failure::setup)?);
            let port = spawned
                .wait_listening(Duration::from_secs(PEER_SECONDS))
                .map_err(Failure::setup)?;
            let url = format!("{scheme}://127.0.0.1:{port}{path}");
            record.note(format!("our client connects to {url}"));
            let options = ClientOptions {
                config: plan.config(),
                tls: cert.as_ref().map(TestCert::client_config),
                ..ClientOptions::default()
            };
            R::block_on(async {
                let connect = connect_with::<R>(url.as_str(), options);
                let (mut ws, response) = within(&*runtime, HANDSHAKE_SECONDS, "connect", connect)
                    .await
                    .map_err(Failure::setup)?
                    .map_err(|e| Failure::setup(format!("connect to {url} failed: {e} ({e:?})")))?;
                record.extensions = response.extensions().to_vec();
                record.response_extensions = response
                    .headers()
                    .get("sec-websocket-extensions")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
                record.note(format!(
                    "connected; extensions {:?}",
                    record.response_extensions
                ));
                talk(&mut ws, plan, &*runtime, record).await
            })
        }
        Direction::OurServer => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")
                .map_err(|e| Failure::setup(format!("bind 127.0.0.1:0: {e}")))?;
            let port = listener
                .local_addr()
                .map_err(|e| Failure::setup(e.to_string()))?
                .port();
            let url = format!("{scheme}://127.0.0.1:{port}{path}");
            args.role = Role::Client;
            args.url = Some(&url);
            *process = Some(peer.spawn(tmp, &args).map_err(Failure::setup)?);
            record.note(format!("our server accepts on {url}"));
            let options = ServerOptions {
                config: plan.config(),
                tls: cert.as_ref().map(TestCert::server_config),
                ..ServerOptions::default()
            };
            R::block_on(async {
                let accept = A::accept(listener, options);
                let (mut ws, path) = within(&*runtime, HANDSHAKE_SECONDS, "accept", accept)
                    .await
                    .map_err(Failure::setup)?
                    .map_err(|e| Failure::setup(format!("accept failed: {e}")))?;
                record.extensions = ws
                    .connection()
                    .extension_names()
                    .map(str::to_owned)
                    .collect();
                record.request_path = Some(path);
                record.note(format!(
                    "accepted {:?}; extensions {:?}",
                    record.request_path, record.extensions
                ));
                talk(&mut ws, plan, &*runtime, record).await
            })
        }
    }
}

async fn talk<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(
    ws: &mut Session<S>,
    plan: &Plan,
    runtime: &dyn ws_session::Runtime,
    record: &mut Record,
) -> Result<(), Failure> {
    drive::run_steps(ws, plan, runtime, record).await?;
    record.note("our side is done".to_owned());
    Ok(())
}

struct Context<'a> {
    adapter: &'static str,
    peer: Peer,
    direction: Direction,
    scenario: Scenario,
    plan: &'a Plan,
    record: &'a Record,
    process: Option<&'a PeerProcess>,
    exit: Option<&'a str>,
    failure: &'a Failure,
}

fn render(cx: &Context<'_>) -> String {
    let mut out = String::new();
    let step = cx.failure.step.map_or_else(
        || "(setup or after the steps)".to_owned(),
        |i| format!("{i}: {}", cx.plan.steps[i]),
    );
    let _ = writeln!(out, "\ninterop failure");
    let _ = writeln!(out, "  peer:      {}", cx.peer);
    let _ = writeln!(out, "  direction: {} ({})", cx.direction, cx.adapter);
    let _ = writeln!(out, "  scenario:  {}", cx.scenario.name());
    let _ = writeln!(out, "  step:      {step}");
    let _ = writeln!(out, "  what:      {}", cx.failure.what);
    let _ = writeln!(out, "--- script (our side; the peer runs its mirror) ---");
    for (i, step) in cx.plan.steps.iter().enumerate() {
        let _ = writeln!(out, "  {i}: {step}");
    }
    let _ = writeln!(out, "--- our transcript ---");
    for line in &cx.record.lines {
        let _ = writeln!(out, "  {line}");
    }
    match cx.process {
        None => {
            let _ = writeln!(out, "--- the peer never started ---");
        }
        Some(process) => {
            let _ = writeln!(out, "--- peer: {} ---", process.command_line);
            let _ = writeln!(out, "  {}", cx.exit.unwrap_or("?"));
            let _ = writeln!(out, "--- peer stdout ---");
            for line in process.stdout() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "--- peer stderr ---");
            for line in process.stderr() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}
