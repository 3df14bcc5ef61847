//! Our side of a scenario: runs the steps on a session and records what was
//! sent and seen, checking on the way what only we can see (the echo, the
//! pong, our close reason).

use futures_io::{AsyncRead, AsyncWrite};
use sha1::{Digest as _, Sha1};
use ws_session::{
    Bytes, CloseCode, CloseFrame, CloseReason, Error, Event, Frame, Message, OpCode, Runtime,
    Session,
};

use crate::scenario::{Content, Plan, Step, hex};
use crate::within;

/// The ping we send between two fragments of a raw-mode message.
const BETWEEN_FRAGMENTS: &[u8] = b"between fragments";
/// No step may take longer (a 16 MiB message in a debug build included).
const STEP_SECONDS: u64 = 30;

/// A message as both sides describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub kind: &'static str,
    pub len: usize,
    pub sha1: String,
}

impl Summary {
    pub(crate) fn of(message: &Message) -> Self {
        Summary {
            kind: match message {
                Message::Text(_) => "text",
                Message::Binary(_) => "binary",
                _ => "control",
            },
            len: message.len(),
            sha1: hex(&Sha1::digest(message.as_payload())),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} B sha1={}", self.kind, self.len, self.sha1)
    }
}

/// How many frames a message took, as far as we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frames {
    Exactly(usize),
    /// Fragmented by the core after compression: more than one.
    Several,
    Unknown,
}

/// What we saw at one step.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
    Sent(Summary, Frames),
    Received(Summary, Frames),
    PingSent(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Closed(CloseReason),
}

/// Everything our side did and saw, in order, for the checks and the
/// failure report.
#[derive(Debug, Default)]
pub(crate) struct Record {
    pub seen: Vec<(usize, Seen)>,
    pub lines: Vec<String>,
    /// Negotiated extension names.
    pub extensions: Vec<String>,
    /// Client: the response's `Sec-WebSocket-Extensions`.
    pub response_extensions: Option<String>,
    /// Server: the request path.
    pub request_path: Option<String>,
}

impl Record {
    pub(crate) fn note(&mut self, line: String) {
        self.lines.push(line);
    }

    fn saw(&mut self, step: usize, seen: Seen) {
        let line = match &seen {
            Seen::Sent(summary, frames) => format!("sent {summary}, frames: {frames:?}"),
            Seen::Received(summary, frames) => format!("received {summary}, frames: {frames:?}"),
            Seen::PingSent(data) => format!("sent ping {}", hex(data)),
            Seen::Ping(data) => format!("received ping {}", hex(data)),
            Seen::Pong(data) => format!("received pong {}", hex(data)),
            Seen::Closed(reason) => format!("closed: {reason:?}"),
        };
        self.lines.push(format!("  [{step}] {line}"));
        self.seen.push((step, seen));
    }
}

/// A failed check or step: where and what.
#[derive(Debug)]
pub(crate) struct Failure {
    pub step: Option<usize>,
    pub what: String,
}

impl Failure {
    pub(crate) fn at(step: usize, what: impl Into<String>) -> Self {
        Failure {
            step: Some(step),
            what: what.into(),
        }
    }

    pub(crate) fn setup(what: impl Into<String>) -> Self {
        Failure {
            step: None,
            what: what.into(),
        }
    }
}

/// Runs every step of `plan` on `ws`, each within [`STEP_SECONDS`].
pub(crate) async fn run_steps<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut Session<S>,
    plan: &Plan,
    runtime: &dyn Runtime,
    record: &mut Record,
) -> Result<(), Failure> {
    for (index, step) in plan.steps.iter().enumerate() {
        record.note(format!("step {index}: {step}"));
        let mut driver = Driver {
            ws: &mut *ws,
            record: &mut *record,
            index,
            raw: plan.raw,
            compressed: plan.our_deflate && plan.peer_deflate,
        };
        within(runtime, STEP_SECONDS, &step.to_string(), driver.run(step))
            .await
            .map_err(|e| Failure::at(index, e))?
            .map_err(|e| Failure::at(index, e))?;
    }
    Ok(())
}

struct Driver<'a, S: AsyncRead + AsyncWrite + Unpin> {
    ws: &'a mut Session<S>,
    record: &'a mut Record,
    index: usize,
    raw: bool,
    compressed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<'_, S> {
    async fn run(&mut self, step: &Step) -> Result<(), String> {
        match step {
            Step::Send { content, fragment } => {
                let message = content.build(self.index as u64 + 1);
                let incompressible = matches!(content, Content::Random(_));
                let frames = self.send(&message, *fragment, incompressible).await?;
                self.saw(Seen::Sent(Summary::of(&message), frames));
                let (echo, frames) = self.next_message().await?;
                self.saw(Seen::Received(Summary::of(&echo), frames));
                if echo != message {
                    return Err(format!(
                        "the echo differs from what we sent: sent {}, got {}",
                        Summary::of(&message),
                        Summary::of(&echo)
                    ));
                }
                if self.raw && fragment.is_some() && !self.saw_pong(BETWEEN_FRAGMENTS) {
                    return Err("no pong for the ping we sent between fragments".into());
                }
                Ok(())
            }
            Step::Receive { .. } => {
                let (message, frames) = self.next_message().await?;
                self.saw(Seen::Received(Summary::of(&message), frames));
                Ok(())
            }
            Step::Ping(data) => {
                self.ws.send_ping(data.clone()).await.map_err(describe)?;
                self.saw(Seen::PingSent(data.clone()));
                self.expect_control(true, data).await
            }
            Step::PeerPing(data) => self.expect_control(false, data).await,
            Step::Close(code, reason) => {
                self.ws
                    .close(CloseFrame::new(CloseCode(*code), *reason))
                    .await
                    .map_err(describe)?;
                self.check_closed(true, *code, None)
            }
            Step::PeerClose(code, reason) => match self.ws.recv().await {
                Err(Error::Closed(_)) => self.check_closed(false, *code, Some(reason)),
                Ok(message) => Err(format!(
                    "expected the peer's Close, got a message: {}",
                    Summary::of(&message)
                )),
                Err(e) => Err(describe(e)),
            },
        }
    }

    /// Waits for the pong (or, if `!pong`, the peer's ping) carrying
    /// `data`; the other kind of control frame may come on the way.
    async fn expect_control(&mut self, pong: bool, data: &[u8]) -> Result<(), String> {
        let (wanted, got) = loop {
            match self.ws.recv_event().await.map_err(describe)? {
                Event::Pong(payload) => {
                    self.saw(Seen::Pong(payload.to_vec()));
                    if pong {
                        break ("pong", payload);
                    }
                }
                Event::Ping(payload) => {
                    self.saw(Seen::Ping(payload.to_vec()));
                    if !pong {
                        break ("ping", payload);
                    }
                }
                other => return Err(unexpected(&other)),
            }
        };
        if got == data {
            Ok(())
        } else {
            Err(format!(
                "expected a {wanted} with {}, got {}",
                hex(data),
                hex(&got)
            ))
        }
    }

    fn saw(&mut self, seen: Seen) {
        self.record.saw(self.index, seen);
    }

    fn saw_pong(&self, data: &[u8]) -> bool {
        self.record
            .seen
            .iter()
            .any(|(i, seen)| *i == self.index && matches!(seen, Seen::Pong(p) if p == data))
    }

    /// Checks our close reason: a clean close handshake, started by us or
    /// by the peer, with the peer's `code` (and `reason` when given).
    fn check_closed(&mut self, by_us: bool, code: u16, reason: Option<&str>) -> Result<(), String> {
        let Some(close) = self.ws.close_reason().cloned() else {
            return Err("the session has no close reason after the close".into());
        };
        self.saw(Seen::Closed(close.clone()));
        let CloseReason::Normal {
            frame: Some(frame),
            initiated_locally,
        } = &close
        else {
            return Err(format!(
                "expected a clean close with code {code}, got {close:?}"
            ));
        };
        if *initiated_locally != by_us {
            return Err(format!(
                "initiated_locally is {initiated_locally}, expected {by_us}"
            ));
        }
        if frame.code.0 != code || reason.is_some_and(|r| frame.reason != r) {
            return Err(format!(
                "the peer's Close has {} {:?}, expected {code} {reason:?}",
                frame.code, frame.reason
            ));
        }
        Ok(())
    }

    /// Sends `message`, in frames of `fragment` bytes if given: through the
    /// raw frame API (with a ping after the first fragment) in raw mode,
    /// else through `send_fragmented`. Compressed, the fragments cut the
    /// deflated payload: only an `incompressible` message is sure to need
    /// several.
    async fn send(
        &mut self,
        message: &Message,
        fragment: Option<usize>,
        incompressible: bool,
    ) -> Result<Frames, String> {
        if !self.raw {
            let sent = match fragment {
                Some(size) => self.ws.send_fragmented(message.clone(), size).await,
                None => self.ws.send_message(message.clone()).await,
            };
            sent.map_err(describe)?;
            return Ok(match fragment {
                None if !self.compressed => Frames::Exactly(1),
                Some(size) if !self.compressed => {
                    Frames::Exactly(message.len().div_ceil(size).max(1))
                }
                Some(size) if incompressible && message.len() > size => Frames::Several,
                _ => Frames::Unknown,
            });
        }
        let opcode = if message.is_text() {
            OpCode::Text
        } else {
            OpCode::Binary
        };
        let data = message.clone().into_data();
        let size = fragment.unwrap_or(data.len()).max(1);
        let pieces: Vec<Bytes> = if data.is_empty() {
            vec![data]
        } else {
            (0..data.len())
                .step_by(size)
                .map(|at| data.slice(at..(at + size).min(data.len())))
                .collect()
        };
        for (k, piece) in pieces.iter().enumerate() {
            let opcode = if k == 0 { opcode } else { OpCode::Continuation };
            let frame = Frame::new(opcode, piece.clone()).with_fin(k + 1 == pieces.len());
            self.ws.send_frame(frame).await.map_err(describe)?;
            if k == 0 && pieces.len() > 1 {
                let ping = Frame::new(OpCode::Ping, BETWEEN_FRAGMENTS);
                self.ws.send_frame(ping).await.map_err(describe)?;
                self.saw(Seen::PingSent(BETWEEN_FRAGMENTS.to_vec()));
            }
        }
        Ok(Frames::Exactly(pieces.len()))
    }

    /// The next data message; pings and pongs on the way are recorded (and
    /// answered, in raw mode).
    async fn next_message(&mut self) -> Result<(Message, Frames), String> {
        if self.raw {
            return self.next_raw_message().await;
        }
        loop {
            match self.ws.recv_event().await.map_err(describe)? {
                Event::Message(message) => return Ok((message, Frames::Unknown)),
                Event::Ping(ping) => self.saw(Seen::Ping(ping.to_vec())),
                Event::Pong(pong) => self.saw(Seen::Pong(pong.to_vec())),
                other => return Err(unexpected(&other)),
            }
        }
    }

    async fn next_raw_message(&mut self) -> Result<(Message, Frames), String> {
        let mut message: Option<(OpCode, Vec<u8>, usize)> = None;
        loop {
            let frame = self.ws.recv_frame().await.map_err(describe)?;
            match (frame.opcode, &mut message) {
                (OpCode::Ping, _) => {
                    self.saw(Seen::Ping(frame.payload.to_vec()));
                    let pong = Frame::new(OpCode::Pong, frame.payload);
                    self.ws.send_frame(pong).await.map_err(describe)?;
                    continue;
                }
                (OpCode::Pong, _) => {
                    self.saw(Seen::Pong(frame.payload.to_vec()));
                    continue;
                }
                (OpCode::Text | OpCode::Binary, None) => {
                    message = Some((frame.opcode, frame.payload.to_vec(), 1));
                }
                (OpCode::Continuation, Some((_, data, frames))) => {
                    data.extend_from_slice(&frame.payload);
                    *frames += 1;
                }
                _ => {
                    return Err(format!(
                        "unexpected {:?} frame (fin {}, {} B) in {}",
                        frame.opcode,
                        frame.fin,
                        frame.payload.len(),
                        if message.is_some() {
                            "a fragmented message"
                        } else {
                            "no message"
                        }
                    ));
                }
            }
            if frame.fin {
                let (opcode, data, frames) = message.take().expect("set above");
                let message = if opcode == OpCode::Text {
                    let text = String::from_utf8(data)
                        .map_err(|e| format!("text message is not UTF-8: {e}"))?;
                    Message::Text(text.into())
                } else {
                    Message::Binary(data.into())
                };
                return Ok((message, Frames::Exactly(frames)));
            }
        }
    }
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(describe)`
fn describe(error: Error) -> String {
    format!("{error} ({error:?})")
}

fn unexpected(event: &Event) -> String {
    let mut text = format!("unexpected event {event:?}");
    if text.len() > 300 {
        let mut end = 300;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}
