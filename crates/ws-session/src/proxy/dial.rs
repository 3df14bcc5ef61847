//! Connecting well (RFC 8305 "Happy Eyeballs v2", §4-§5): every resolved
//! address is tried, IPv6 and IPv4 interleaved, a new attempt starting
//! every `stagger` (or as soon as one fails) while earlier ones continue;
//! the first to connect wins and the others are dropped. The runtime
//! supplies "connect to this address" and its timers ([`Runtime`]); the
//! error lists every address and what became of it.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use super::url::HostPort;
use crate::runtime::{Runtime, Timer, timeout_at};

/// How [`dial`] connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DialOptions {
    /// The delay before the next address is tried while earlier attempts
    /// are still pending: 250 ms, RFC 8305 §8's recommended "Connection
    /// Attempt Delay".
    pub stagger: Duration,
    /// How long one attempt may take (`None`: as long as the system lets
    /// it). Default: `None` (the overall timeout bounds it).
    pub attempt_timeout: Option<Duration>,
    /// How long the whole dial (resolution included) may take (`None`: no
    /// limit). Default: 30 s, like the connect timeout of the adapters.
    pub timeout: Option<Duration>,
}

impl Default for DialOptions {
    fn default() -> Self {
        DialOptions {
            stagger: Duration::from_millis(250),
            attempt_timeout: None,
            timeout: Some(Duration::from_secs(30)),
        }
    }
}

impl DialOptions {
    /// Sets [`stagger`](Self::stagger).
    #[must_use]
    pub fn stagger(mut self, stagger: Duration) -> Self {
        self.stagger = stagger;
        self
    }

    /// Sets [`attempt_timeout`](Self::attempt_timeout).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

/// No connection could be made to `target`.
#[derive(Debug, thiserror::Error)]
#[error("could not connect to {target}: {failure}")]
pub struct DialError {
    /// `host:port` as asked for.
    pub target: String,
    /// What went wrong.
    pub failure: DialFailure,
}

impl DialError {
    /// The closest `io::ErrorKind`: `TimedOut` for a timeout, the
    /// resolver's kind, or that of the last attempt's failure.
    #[must_use]
    pub fn kind(&self) -> io::ErrorKind {
        match &self.failure {
            DialFailure::Resolve(e) => e.kind(),
            DialFailure::NoAddresses => io::ErrorKind::NotFound,
            DialFailure::TimedOut { .. } => io::ErrorKind::TimedOut,
            DialFailure::Failed(attempts) => attempts
                .iter()
                .rev()
                .find_map(|attempt| match &attempt.outcome {
                    AttemptOutcome::Failed(e) => Some(e.kind()),
                    AttemptOutcome::TimedOut(_) => Some(io::ErrorKind::TimedOut),
                    _ => None,
                })
                .unwrap_or(io::ErrorKind::Other),
        }
    }
}

/// How a dial failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum DialFailure {
    /// Resolving the host name failed.
    Resolve(io::Error),
    /// The host name resolved to no address.
    NoAddresses,
    /// Every address was tried and failed.
    Failed(Vec<Attempt>),
    /// The overall timeout passed first (`attempts` is empty when the
    /// name was still resolving).
    TimedOut {
        /// The overall timeout.
        timeout: Duration,
        /// Every address, in the order tried.
        attempts: Vec<Attempt>,
    },
}

impl fmt::Display for DialFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, attempts: &[Attempt]| {
            for (i, attempt) in attempts.iter().enumerate() {
                let sep = if i == 0 { "" } else { "; " };
                write!(f, "{sep}{} ({})", attempt.addr, attempt.outcome)?;
            }
            Ok(())
        };
        match self {
            DialFailure::Resolve(e) => write!(f, "resolving the name failed: {e}"),
            DialFailure::NoAddresses => f.write_str("the name resolved to no addresses"),
            DialFailure::Failed(attempts) => {
                f.write_str("every address failed: ")?;
                list(f, attempts)
            }
            DialFailure::TimedOut { timeout, attempts } if attempts.is_empty() => {
                write!(f, "timed out after {timeout:?} resolving the name")
            }
            DialFailure::TimedOut { timeout, attempts } => {
                write!(f, "timed out after {timeout:?}: ")?;
                list(f, attempts)
            }
        }
    }
}

/// One address and what became of it.
#[derive(Debug)]
pub struct Attempt {
    /// The address.
    pub addr: SocketAddr,
    /// What happened.
    pub outcome: AttemptOutcome,
}

/// What became of one address.
#[derive(Debug)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The connect failed.
    Failed(io::Error),
    /// The attempt timed out (the per-attempt timeout).
    TimedOut(Duration),
    /// Still connecting when the overall timeout passed.
    Abandoned,
    /// Never tried: the overall timeout passed first.
    NotTried,
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptOutcome::Failed(e) => e.fmt(f),
            AttemptOutcome::TimedOut(t) => write!(f, "timed out after {t:?}"),
            AttemptOutcome::Abandoned => f.write_str("still connecting"),
            AttemptOutcome::NotTried => f.write_str("not tried"),
        }
    }
}

/// RFC 8305 §4: the addresses with the two families alternating, starting
/// with the family of the first one (the resolver's preference); the
/// order within a family is kept.
#[must_use]
pub fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return Vec::new();
    };
    let (mut same, mut other): (VecDeque<SocketAddr>, VecDeque<SocketAddr>) = addrs
        .iter()
        .copied()
        .partition(|a| a.is_ipv6() == first.is_ipv6());
    let mut out = Vec::with_capacity(addrs.len());
    while !same.is_empty() || !other.is_empty() {
        out.extend(same.pop_front());
        out.extend(other.pop_front());
    }
    out
}

/// Connects to `host:port`: resolves the name with `resolve` (an IP
/// address is used as it is), then races the addresses as
/// [`dial_addrs`] does. The overall timeout covers the resolution.
/// Returns the stream and the address it connected to.
pub async fn dial<S, R, RF, C, CF>(
    runtime: &dyn Runtime,
    host: &str,
    port: u16,
    options: &DialOptions,
    resolve: R,
    connect: C,
) -> Result<(S, SocketAddr), DialError>
where
    R: FnOnce(String, u16) -> RF,
    RF: Future<Output = io::Result<Vec<SocketAddr>>>,
    C: FnMut(SocketAddr) -> CF,
    CF: Future<Output = io::Result<S>>,
{
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let target = HostPort(host, port).to_string();
    let deadline = options.timeout.map(|t| runtime.now() + t);
    let addrs = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        let failure = |failure| DialError {
            target: target.clone(),
            failure,
        };
        match timeout_at(runtime, deadline, resolve(host.to_owned(), port)).await {
            None => {
                return Err(failure(DialFailure::TimedOut {
                    timeout: options.timeout.unwrap_or_default(),
                    attempts: Vec::new(),
                }));
            }
            Some(Err(e)) => return Err(failure(DialFailure::Resolve(e))),
            Some(Ok(addrs)) if addrs.is_empty() => return Err(failure(DialFailure::NoAddresses)),
            Some(Ok(addrs)) => addrs,
        }
    };
    race(runtime, target, &addrs, options, deadline, connect).await
}

/// Races connections to `addrs` (RFC 8305 §5): in [`interleave`] order,
/// one attempt every `options.stagger`, the next one at once when an
/// attempt fails; the first to connect wins, the rest are dropped. `target`
/// names the host in the error.
pub async fn dial_addrs<S, C, CF>(
    runtime: &dyn Runtime,
    target: &str,
    addrs: &[SocketAddr],
    options: &DialOptions,
    connect: C,
) -> Result<(S, SocketAddr), DialError>
where
    C: FnMut(SocketAddr) -> CF,
    CF: Future<Output = io::Result<S>>,
{
    let deadline = options.timeout.map(|t| runtime.now() + t);
    race(
        runtime,
        target.to_owned(),
        addrs,
        options,
        deadline,
        connect,
    )
    .await
}

async fn race<S, C, CF>(
    runtime: &dyn Runtime,
    target: String,
    addrs: &[SocketAddr],
    options: &DialOptions,
    deadline: Option<Instant>,
    mut connect: C,
) -> Result<(S, SocketAddr), DialError>
where
    C: FnMut(SocketAddr) -> CF,
    CF: Future<Output = io::Result<S>>,
{
    let order = interleave(addrs);
    if order.is_empty() {
        return Err(DialError {
            target,
            failure: DialFailure::NoAddresses,
        });
    }
    let mut outcomes: Vec<Option<AttemptOutcome>> = order.iter().map(|_| None).collect();
    let mut next = 0;
    // Start an attempt now: the first one, or the next after a failure.
    let mut start_now = true;
    let mut running = FuturesUnordered::new();
    let mut stagger: Option<Pin<Box<dyn Timer>>> = None;
    let mut overall = deadline.map(|d| runtime.new_timer(d));
    let attempt_timeout = options.attempt_timeout;
    let result = std::future::poll_fn(|cx| {
        loop {
            let stagger_due = stagger
                .as_mut()
                .is_some_and(|timer| timer.as_mut().poll_expired(cx).is_ready());
            if next < order.len() && (start_now || stagger_due) {
                let (index, addr) = (next, order[next]);
                next += 1;
                start_now = false;
                let attempt = connect(addr);
                running.push(async move {
                    let started = runtime.now();
                    let deadline = attempt_timeout.map(|t| started + t);
                    (index, timeout_at(runtime, deadline, attempt).await)
                });
                let at = runtime.now() + options.stagger;
                match stagger.as_mut() {
                    Some(timer) => timer.as_mut().reset(at),
                    None => stagger = Some(runtime.new_timer(at)),
                }
                continue;
            }
            match running.poll_next_unpin(cx) {
                Poll::Ready(Some((index, Some(Ok(stream))))) => {
                    return Poll::Ready(Ok((stream, order[index])));
                }
                Poll::Ready(Some((index, outcome))) => {
                    outcomes[index] = Some(match outcome {
                        Some(Err(e)) => AttemptOutcome::Failed(e),
                        _ => AttemptOutcome::TimedOut(attempt_timeout.unwrap_or_default()),
                    });
                    start_now = true;
                    continue;
                }
                Poll::Ready(None) if next == order.len() => {
                    return Poll::Ready(Err(None));
                }
                Poll::Ready(None) | Poll::Pending => {}
            }
            if overall
                .as_mut()
                .is_some_and(|timer| timer.as_mut().poll_expired(cx).is_ready())
            {
                return Poll::Ready(Err(Some(options.timeout.unwrap_or_default())));
            }
            return Poll::Pending;
        }
    })
    .await;
    drop(running);
    let timed_out = match result {
        Ok(connected) => return Ok(connected),
        Err(timed_out) => timed_out,
    };
    let attempts = order
        .into_iter()
        .zip(outcomes)
        .enumerate()
        .map(|(i, (addr, outcome))| Attempt {
            addr,
            outcome: outcome.unwrap_or(if i < next {
                AttemptOutcome::Abandoned
            } else {
                AttemptOutcome::NotTried
            }),
        })
        .collect();
    let failure = match timed_out {
        Some(timeout) => DialFailure::TimedOut { timeout, attempts },
        None => DialFailure::Failed(attempts),
    };
    Err(DialError { target, failure })
}

#[cfg(test)]
mod tests;
