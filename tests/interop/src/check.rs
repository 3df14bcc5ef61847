//! After the conversation: what the peer reported against what we sent and
//! saw, step by step.

use serde::Deserialize;

use crate::Direction;
use crate::drive::{Failure, Frames, Record, Seen, Summary};
use crate::scenario::{Plan, Step, hex};

/// One JSON line of a peer's report (see `peers/python/steps.py`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PeerEvent {
    pub event: String,
    pub step: Option<usize>,
    pub kind: Option<String>,
    pub len: Option<usize>,
    pub sha1: Option<String>,
    pub fragments: Option<usize>,
    pub data: Option<String>,
    pub code: Option<u16>,
    pub reason: Option<String>,
    pub extensions: Option<String>,
    pub path: Option<String>,
    pub error: Option<String>,
}

impl PeerEvent {
    fn summary(&self) -> Option<Summary> {
        Some(Summary {
            kind: match self.kind.as_deref()? {
                "text" => "text",
                "binary" => "binary",
                _ => return None,
            },
            len: self.len?,
            sha1: self.sha1.clone()?,
        })
    }
}

/// The peer's report lines that are JSON events (others are kept in the
/// transcript only).
pub(crate) fn parse(lines: &[String]) -> Vec<PeerEvent> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Everything a check needs.
pub(crate) struct Outcome<'a> {
    pub plan: &'a Plan,
    pub direction: Direction,
    pub path: &'a str,
    pub record: &'a Record,
    pub events: &'a [PeerEvent],
    pub exit: &'a str,
}

impl Outcome<'_> {
    /// Checks the peer's side; the first difference is the failure.
    pub(crate) fn check(&self) -> Result<(), Failure> {
        if let Some(error) = self.events.iter().find(|e| e.event == "error") {
            let what = format!(
                "the peer reported an error: {}",
                error.error.as_deref().unwrap_or("?")
            );
            return Err(Failure {
                step: error.step,
                what,
            });
        }
        if !self.exit.ends_with("status 0") || !self.events.iter().any(|e| e.event == "done") {
            return Err(Failure::setup(format!(
                "the peer did not finish its script: {}",
                self.exit
            )));
        }
        self.check_open()?;
        for (index, step) in self.plan.steps.iter().enumerate() {
            self.check_step(index, step)
                .map_err(|what| Failure::at(index, what))?;
        }
        self.check_pings()
    }

    fn check_open(&self) -> Result<(), Failure> {
        let open = self
            .events
            .iter()
            .find(|e| e.event == "open")
            .ok_or_else(|| Failure::setup("the peer reported no open connection"))?;
        let expected = self.plan.our_deflate && self.plan.peer_deflate;
        let ours = self
            .record
            .extensions
            .iter()
            .any(|e| e == "permessage-deflate");
        let theirs = open
            .extensions
            .as_deref()
            .is_some_and(|e| e.starts_with("permessage-deflate"));
        if ours != expected || theirs != expected {
            return Err(Failure::setup(format!(
                "permessage-deflate negotiated: ours {ours} ({:?}), the peer's {theirs} ({:?}); \
                 expected {expected} (we offer it: {}, the peer: {})",
                self.record.extensions,
                open.extensions,
                self.plan.our_deflate,
                self.plan.peer_deflate
            )));
        }
        let path = match self.direction {
            // The header the peer's server sent is the one our client got.
            Direction::OurClient => {
                if open.extensions != self.record.response_extensions {
                    return Err(Failure::setup(format!(
                        "the peer server sent Sec-WebSocket-Extensions {:?}, our client got {:?}",
                        open.extensions, self.record.response_extensions
                    )));
                }
                open.path.as_deref()
            }
            Direction::OurServer => self.record.request_path.as_deref(),
        };
        if path != Some(self.path) {
            return Err(Failure::setup(format!(
                "the server saw path {path:?}, the client asked for {:?}",
                self.path
            )));
        }
        Ok(())
    }

    fn check_step(&self, index: usize, step: &Step) -> Result<(), String> {
        let ours = |sent: bool| {
            self.record
                .seen
                .iter()
                .filter(|(i, _)| *i == index)
                .find_map(|(_, seen)| match (seen, sent) {
                    (Seen::Sent(summary, frames), true)
                    | (Seen::Received(summary, frames), false) => Some((summary, *frames)),
                    _ => None,
                })
                .ok_or_else(|| format!("we recorded nothing for step {index}"))
        };
        match step {
            Step::Send { .. } => {
                let (sent, frames) = ours(true)?;
                let received = self.peer(index, "recv")?;
                compare_message("we sent", sent, frames, "the peer received", received)
            }
            Step::Receive { .. } => {
                let (received, frames) = ours(false)?;
                let sent = self.peer(index, "sent")?;
                compare_message("we received", received, frames, "the peer sent", sent)
            }
            // Our side checked the pong; the peer's view is in check_pings.
            Step::Ping(_) => Ok(()),
            Step::PeerPing(data) => {
                let pong = self.peer(index, "pong")?;
                if pong.data.as_deref() == Some(hex(data).as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "the peer pinged with {} and got the pong {:?}",
                        hex(data),
                        pong.data
                    ))
                }
            }
            Step::Close(code, reason) => {
                let closed = self.peer(index, "closed")?;
                if closed.code == Some(*code) && closed.reason.as_deref() == Some(*reason) {
                    Ok(())
                } else {
                    Err(format!(
                        "we closed with {code} {reason:?}, the peer got {:?} {:?}",
                        closed.code, closed.reason
                    ))
                }
            }
            Step::PeerClose(code, _) => {
                let closed = self.peer(index, "closed")?;
                // RFC 6455 §5.5.1: the answer echoes the status code.
                if closed.code == Some(*code) {
                    Ok(())
                } else {
                    Err(format!(
                        "the peer closed with {code}, our answer had {:?}",
                        closed.code
                    ))
                }
            }
        }
    }

    /// A peer that reports the pings it receives (`ws` does) saw exactly
    /// the pings we sent, in order.
    fn check_pings(&self) -> Result<(), Failure> {
        let theirs: Vec<&str> = self
            .events
            .iter()
            .filter(|e| e.event == "ping")
            .filter_map(|e| e.data.as_deref())
            .collect();
        if theirs.is_empty() {
            return Ok(());
        }
        let ours: Vec<String> = self
            .record
            .seen
            .iter()
            .filter_map(|(_, seen)| match seen {
                Seen::PingSent(data) => Some(hex(data)),
                _ => None,
            })
            .collect();
        if theirs == ours {
            Ok(())
        } else {
            Err(Failure::setup(format!(
                "we sent the pings {ours:?}, the peer received {theirs:?}"
            )))
        }
    }

    fn peer(&self, index: usize, event: &str) -> Result<&PeerEvent, String> {
        self.events
            .iter()
            .find(|e| e.step == Some(index) && e.event == event)
            .ok_or_else(|| format!("the peer reported no `{event}` for step {index}"))
    }
}

fn compare_message(
    ours_label: &str,
    ours: &Summary,
    frames: Frames,
    theirs_label: &str,
    theirs: &PeerEvent,
) -> Result<(), String> {
    let Some(summary) = theirs.summary() else {
        return Err(format!("{theirs_label} something unreadable: {theirs:?}"));
    };
    if summary != *ours {
        return Err(format!("{ours_label} {ours}, {theirs_label} {summary}"));
    }
    let fragments_match = match (frames, theirs.fragments) {
        (Frames::Exactly(n), Some(f)) => n == f,
        (Frames::Several, Some(f)) => f > 1,
        _ => true,
    };
    if fragments_match {
        Ok(())
    } else {
        Err(format!(
            "{ours_label} it in {frames:?} frames, {theirs_label} it in {:?} frames",
            theirs.fragments
        ))
    }
}
