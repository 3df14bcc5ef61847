//! Server mode: accept connections (TLS with `--cert/--key`), upgrade
//! them under the Origin and subprotocol policy, and echo, relay between
//! clients, or send standard input to every client. Connections and
//! their endings are shown on standard error.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use ws_tokio::rustls::ServerConfig;

use crate::cli::{Cli, Exit, ServerMode};
use crate::codec::{self, Render};
use crate::connect::HANDSHAKE_TIMEOUT;
use crate::link::{Accepted, EndKind, Ended, Link, Payload, Policy, Server};
use crate::tap::{Heads, Io, Tap};
use crate::term::{self, Output};
use crate::tls;

/// How long the clients have to answer the server's Close when it stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Messages queued for each client before a slow one is dropped.
const RELAY_QUEUE: usize = 1024;

/// A message for the clients; `from` is the client that sent it (0 for
/// standard input), which does not get it back.
#[derive(Debug, Clone)]
struct Relay {
    from: u64,
    payload: Arc<Payload>,
}

/// How the server stops its sessions: the close code and reason.
type Stop = Option<(u16, &'static str)>;

/// What every connection task shares.
#[derive(Debug, Clone)]
struct Shared {
    server: Server,
    tls: Option<Arc<ServerConfig>>,
    mode: ServerMode,
    relay: broadcast::Sender<Relay>,
    stop: watch::Receiver<Stop>,
    render: Render,
    verbose: bool,
    quiet: bool,
}

/// Runs server mode until it is stopped and returns the exit status.
pub async fn run(cli: &Cli) -> Exit {
    let address = cli.listen.clone().unwrap_or_default();
    let tls = match (&cli.cert, &cli.key) {
        (Some(cert), Some(key)) => match tls::server(cert, key) {
            Ok(tls) => Some(tls),
            Err(e) => {
                eprintln!("wsp: {e}");
                return Exit::Failure;
            }
        },
        _ => None,
    };
    let listener = match TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("wsp: cannot listen on {address}: {e}");
            return Exit::Failure;
        }
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    match listener.local_addr() {
        Ok(local) => eprintln!(
            "wsp: listening on {scheme}://{local}/ (mode {})",
            format!("{:?}", cli.server_mode()).to_lowercase()
        ),
        Err(e) => eprintln!("wsp: listening on {address} (its address is unknown: {e})"),
    }
    let policy = Policy {
        allowed_origins: cli.allow_origins.clone(),
        subprotocols: cli.subprotocols.clone(),
        headers: cli.headers.clone(),
    };
    let (relay, _) = broadcast::channel(RELAY_QUEUE);
    let (stop_tx, stop) = watch::channel(None);
    let shared = Shared {
        server: Server::new(cli.settings(), policy, HANDSHAKE_TIMEOUT),
        tls,
        mode: cli.server_mode(),
        relay,
        stop,
        render: cli.render(),
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    let mut lines = (cli.server_mode() == ServerMode::Stdio).then(term::pipe_lines);
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    let mut interrupt = pin!(tokio::signal::ctrl_c());
    let mut terminate = pin!(terminated());
    let stop: (u16, &'static str) = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    next_id += 1;
                    tasks.spawn(serve(next_id, tcp, peer, shared.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait rather
                    // than spin on the error.
                    eprintln!("wsp: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            line = next_line(&mut lines) => match line {
                Some(Ok(line)) => match codec::message_of(&line, cli.binary) {
                    Ok(payload) => {
                        let relay = Relay { from: 0, payload: Arc::new(payload) };
                        if shared.relay.send(relay).is_err() {
                            eprintln!("wsp: no client is connected: the line was not sent");
                        }
                    }
                    Err(e) => eprintln!("wsp: input line not sent: {e}"),
                },
                Some(Err(e)) => {
                    eprintln!("wsp: {e}");
                    break (1000, "");
                }
                None => break (1000, ""),
            },
            Some(_) = tasks.join_next() => {}
            _ = &mut interrupt => break (1001, "server stopping"),
            () = &mut terminate => break (1001, "server stopping"),
        }
    };
    let _ = stop_tx.send(Some(stop));
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        eprintln!(
            "wsp: {} connections did not close within {SHUTDOWN_GRACE:?}: dropped",
            tasks.len()
        );
    }
    Exit::Normal
}

/// The next line of standard input, or never when there is none to read.
async fn next_line(lines: &mut Option<term::Lines>) -> Option<Result<String, term::InputError>> {
    match lines {
        Some(lines) => lines.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the process is asked to terminate (SIGTERM).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut signals) = signal(SignalKind::terminate()) {
            signals.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}

/// One connection, from TLS to its last line.
async fn serve(id: u64, tcp: TcpStream, peer: SocketAddr, shared: Shared) {
    let _ = tcp.set_nodelay(true);
    let io: Io = match &shared.tls {
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.clone());
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => Box::new(stream),
                Ok(Err(e)) => return eprintln!("wsp: #{id} {peer}: TLS handshake failed: {e}"),
                Err(_) => {
                    return eprintln!(
                        "wsp: #{id} {peer}: TLS handshake not done within {HANDSHAKE_TIMEOUT:?}"
                    );
                }
            }
        }
        None => Box::new(tcp),
    };
    let heads = shared.verbose.then(Heads::default);
    let accepted = shared.server.accept(Tap::new(io, heads.clone())).await;
    if let Some(heads) = heads {
        let (sent, received) = heads.get();
        for (prefix, head) in [("<", received), (">", sent)] {
            for line in head.iter().flat_map(|h| h.lines()) {
                eprintln!("#{id} {prefix} {line}");
            }
        }
    }
    let (mut link, accepted) = match accepted {
        Ok(accepted) => accepted,
        Err(e) => return eprintln!("wsp: #{id} {peer}: {e}"),
    };
    if !shared.quiet {
        eprintln!("wsp: #{id} {peer} connected: {}", describe(&accepted));
    }
    let ended = converse(id, &mut link, &shared).await;
    if !shared.quiet || ended.kind != EndKind::Clean {
        eprintln!(
            "wsp: #{id} {peer} disconnected: code {} reason {:?}: {}",
            ended.code, ended.reason, ended.description
        );
    }
}

fn describe(accepted: &Accepted) -> String {
    let origin = accepted
        .origin
        .as_ref()
        .map(|origin| format!(", origin {origin}"))
        .unwrap_or_default();
    format!("GET {}{origin}{}", accepted.target, accepted.negotiated)
}

/// Serves one session in the server's mode until it ends.
async fn converse(id: u64, link: &mut Link, shared: &Shared) -> Ended {
    let mut relayed = shared.relay.subscribe();
    let mut stop = shared.stop.clone();
    let mut output = Output::Plain;
    loop {
        tokio::select! {
            received = link.recv() => match received {
                Ok(payload) => match shared.mode {
                    ServerMode::Echo => {
                        if let Err(ended) = link.send(payload).await {
                            return ended;
                        }
                    }
                    ServerMode::Broadcast => {
                        // No other client: nobody to tell.
                        let _ = shared.relay.send(Relay { from: id, payload: Arc::new(payload) });
                    }
                    ServerMode::Stdio => {
                        if let Err(e) = output.message(&shared.render, &payload) {
                            eprintln!("wsp: writing standard output: {e}");
                        }
                    }
                },
                Err(ended) => return ended,
            },
            relay = relayed.recv(), if shared.mode != ServerMode::Echo => match relay {
                Ok(relay) if relay.from == id => {}
                Ok(relay) => {
                    if let Err(ended) = link.send(Payload::clone(&relay.payload)).await {
                        return ended;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let reason = format!("too slow: {missed} messages were not delivered");
                    return link.close(1008, &reason).await;
                }
                Err(broadcast::error::RecvError::Closed) => return link.close(1001, "").await,
            },
            _ = stop.changed() => {
                let (code, reason) = stop.borrow().unwrap_or((1001, ""));
                return link.close(code, reason).await;
            }
        }
    }
}
