//! The `chat` demo's logic: a chat room server and a scripted conversation
//! between its members, written against [`ws_session::Session`] so it runs
//! on any runtime. Only the entry point ([`run_tokio`]) knows tokio: it binds
//! the listener, spawns the server's tasks and connects the members; an
//! async-std/smol variant replaces that one function.
//!
//! What the transcript shows, and where it comes from:
//!
//! - messages: every line a member says reaches every other member
//!   ([`Entry::Said`], [`Entry::Heard`]);
//! - heartbeat: the server pings every member every [`PING_INTERVAL`]; a
//!   member's session answers by itself ([`Entry::Ping`]) and the server
//!   sees the pong ([`Entry::Pong`]);
//! - compression: the negotiated `Sec-WebSocket-Extensions` header
//!   ([`Entry::Joined`]) and, per member, the bytes its messages took on the
//!   wire against their size ([`Entry::Wire`]);
//! - a clean close: each member closes with 1000, both ends report the
//!   completed close handshake ([`Entry::Closed`]).
//!
//! Each member's queue of lines is bounded ([`MEMBER_QUEUE`]): a member
//! that stops reading while the room talks fills it, and is then put out
//! of the room and sent Close 1008 (policy violation) instead of making
//! the server hold ever more lines for it ([`Entry::TooSlow`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_channel::{mpsc, oneshot};
use futures_util::future::{Either, select};
use futures_util::{AsyncRead, AsyncWrite, StreamExt as _};
use ws_session::{
    CloseCode, CloseFrame, CloseReason, Config, Decision, DeflateConfig, Error, Event, Message,
    Session, UpgradeRequest,
};

use crate::counted::Counted;

/// How often the server pings each member.
pub const PING_INTERVAL: Duration = Duration::from_millis(200);

/// Lines waiting for one member, at most: a member whose connection takes
/// none of them (its client stopped reading, the session's send queue and
/// the socket are full) and who falls this far behind is put out of the
/// room. A real chat server must bound this, or one stalled client makes
/// it hold every line said after. Room for bursts: one read of a talker's
/// connection can bring over a hundred pipelined lines at once, which a
/// member that is reading must not be put out for.
pub const MEMBER_QUEUE: usize = 256;

/// Who said what, in order: the conversation a demo run plays.
#[derive(Debug, Clone)]
pub struct Script {
    /// The members, in the order they join.
    pub members: Vec<String>,
    /// `(member index, line)`, in the order they are said.
    pub lines: Vec<(usize, String)>,
}

impl Script {
    /// The demo's conversation: three members, a few lines, and one long
    /// repetitive message that compresses well.
    #[must_use]
    pub fn demo() -> Self {
        let long = (1..=120)
            .map(|i| {
                format!("{{\"seq\":{i},\"status\":\"ok\",\"detail\":\"all systems nominal\"}}")
            })
            .collect::<Vec<_>>()
            .join(",");
        Script {
            members: vec!["alice".into(), "bob".into(), "carol".into()],
            lines: vec![
                (0, "hello, everyone".into()),
                (
                    1,
                    "hi alice! the heartbeat keeps this connection honest".into(),
                ),
                (
                    2,
                    "and permessage-deflate keeps it small: watch the log".into(),
                ),
                (0, format!("[{long}]")),
                (1, "got it, thanks. bye for now".into()),
            ],
        }
    }
}

/// Which end of a connection an entry was recorded at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The chat server's task for that member.
    Server,
    /// The member's own client session.
    Client,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The server is listening.
    Listening {
        /// Its `ws://` URL.
        url: String,
    },
    /// A member's handshake completed.
    Joined {
        /// The member.
        who: String,
        /// The response's `Sec-WebSocket-Extensions` header, if any.
        extensions: Option<String>,
    },
    /// A member sent a line.
    Said {
        /// The member.
        who: String,
        /// The line.
        text: String,
    },
    /// A member received another member's line from the server.
    Heard {
        /// The receiving member.
        who: String,
        /// The member who said it.
        from: String,
        /// The line.
        text: String,
    },
    /// A member's session received a heartbeat ping (and answered it).
    Ping {
        /// The member.
        who: String,
    },
    /// The server received a member's pong.
    Pong {
        /// The member.
        who: String,
    },
    /// The server's count of what a member's connection carried.
    Wire {
        /// The member.
        who: String,
        /// Bytes of messages the member sent (payload, uncompressed).
        payload: u64,
        /// Bytes read off the member's TCP connection after the handshake.
        wire: u64,
    },
    /// A member fell [`MEMBER_QUEUE`] lines behind: the server put it out
    /// of the room and sent it Close 1008.
    TooSlow {
        /// The member.
        who: String,
    },
    /// A session ended.
    Closed {
        /// The member.
        who: String,
        /// Which end recorded it.
        side: Side,
        /// How it ended.
        reason: CloseReason,
    },
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(MAX).collect();
    format!("{head:?}… ({} bytes)", text.len())
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Listening { url } => write!(f, "server   listening on {url}"),
            Entry::Joined { who, extensions } => write!(
                f,
                "{who:<8} joined; extensions: {}",
                extensions.as_deref().unwrap_or("none")
            ),
            Entry::Said { who, text } => write!(f, "{who:<8} says  {}", shorten(text)),
            Entry::Heard { who, from, text } => {
                write!(f, "{who:<8} hears {from}: {}", shorten(text))
            }
            Entry::Ping { who } => write!(
                f,
                "{who:<8} got a heartbeat ping from the server (its session sent the pong)"
            ),
            Entry::Pong { who } => write!(f, "server   got {who}'s pong: the heartbeat is alive"),
            Entry::TooSlow { who } => write!(
                f,
                "server   {who} stopped reading ({MEMBER_QUEUE} lines behind): put out of the room with 1008"
            ),
            Entry::Wire { who, payload, wire } => write!(
                f,
                "server   {who} sent {payload} bytes of messages in {wire} bytes on the wire{} (frame headers, masks, pongs and the Close included)",
                if *payload > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    let percent = *wire as f64 * 100.0 / *payload as f64;
                    format!(", {percent:.0} %")
                } else {
                    String::new()
                }
            ),
            Entry::Closed { who, side, reason } => {
                let at = match side {
                    Side::Server => "server   ",
                    Side::Client => "",
                };
                let who = if at.is_empty() {
                    format!("{who:<8}")
                } else {
                    format!("{who}'s session")
                };
                write!(f, "{at}{who} ended: {reason}")
            }
        }
    }
}

/// The transcript: entries in the order they happened, each printed as it
/// is recorded when `print` is set.
#[derive(Debug, Default)]
pub struct Transcript {
    entries: Mutex<Vec<Entry>>,
    print: bool,
}

impl Transcript {
    /// An empty transcript; `print` echoes every entry to stdout.
    #[must_use]
    pub fn new(print: bool) -> Self {
        Transcript {
            entries: Mutex::new(Vec::new()),
            print,
        }
    }

    /// Records an entry.
    pub fn push(&self, entry: Entry) {
        if self.print {
            println!("{entry}");
        }
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// The entries so far.
    #[must_use]
    pub fn entries(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The session configuration of both ends: permessage-deflate, and (used by
/// the server) a heartbeat every [`PING_INTERVAL`].
#[must_use]
pub fn config() -> Config {
    Config::default()
        .with_compression(DeflateConfig::default())
        .with_ping_interval(Some(PING_INTERVAL))
        .with_ping_timeout(Duration::from_secs(5))
}

/// The client side needs no heartbeat of its own: the server's is enough.
#[must_use]
pub fn client_config() -> Config {
    config().with_ping_interval(None)
}

/// The server's decision on an upgrade request: accept `/chat?name=NAME`,
/// refuse anything else with a status and a body that says why.
#[must_use]
pub fn decide(request: &UpgradeRequest) -> (Decision, Option<String>) {
    let uri = request.request().uri();
    if uri.path() != "/chat" {
        return (
            Decision::reject(http::StatusCode::NOT_FOUND, "the chat room is at /chat\n"),
            None,
        );
    }
    let name = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("name="))
        .filter(|name| !name.is_empty());
    match name {
        Some(name) => (Decision::accept(), Some(name.to_owned())),
        None => (
            Decision::reject(
                http::StatusCode::BAD_REQUEST,
                "say who you are: /chat?name=NAME\n",
            ),
            None,
        ),
    }
}

/// A member in the room: its name, the queue of lines the server has to
/// send it, and its place in the room (dropped, it tells the member's task
/// that it was put out).
struct Member {
    name: String,
    lines: mpsc::Sender<String>,
    _place: oneshot::Sender<()>,
}

/// What a member's task holds: the lines for it, and the sign that it was
/// put out of the room.
struct Seat {
    lines: mpsc::Receiver<String>,
    put_out: oneshot::Receiver<()>,
}

/// The members currently in the room.
#[derive(Clone, Default)]
pub struct Room {
    members: Arc<Mutex<Vec<Member>>>,
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_list()
            .entries(members.iter().map(|m| &m.name))
            .finish()
    }
}

impl Room {
    fn join(&self, name: &str) -> Seat {
        // `channel(n)` holds n lines plus one per sender: one sender here.
        let (lines, rx) = mpsc::channel(MEMBER_QUEUE - 1);
        let (place, put_out) = oneshot::channel();
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Member {
                name: name.to_owned(),
                lines,
                _place: place,
            });
        Seat { lines: rx, put_out }
    }

    fn leave(&self, name: &str) {
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|m| m.name != name);
    }

    /// Sends `from: text` to every member but `from`; a member whose queue
    /// is full is put out of the room.
    fn broadcast(&self, from: &str, text: &str) {
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain_mut(|member| {
                if member.name == from {
                    return true;
                }
                match member.lines.try_send(format!("{from}: {text}")) {
                    Ok(()) => true,
                    // Full: the member stopped reading. Disconnected: it is
                    // leaving. Either way it is out.
                    Err(_) => false,
                }
            });
    }
}

/// What the member's task does next.
enum Next {
    Event(Result<Event, Error>),
    Line(Option<String>),
    PutOut,
}

/// The server's side of one member: relays what the member says to the
/// room and what the room says to the member, records pongs, and reports
/// the end. `wire` counts the bytes read off the member's transport. A
/// member put out of the room for not reading is sent Close 1008 and the
/// session ends when the close handshake does (or its close timeout, for a
/// member that reads nothing more).
pub async fn serve_member<S>(
    mut ws: Session<S>,
    name: String,
    room: Room,
    wire: Arc<AtomicU64>,
    transcript: Arc<Transcript>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Seat {
        lines: mut inbox,
        mut put_out,
    } = room.join(&name);
    // Bytes read before now were the HTTP request: not messages.
    let handshake_bytes = wire.load(Ordering::Relaxed);
    let mut payload = 0u64;
    let mut in_room = true;
    let end = loop {
        // `recv_event` and `send_text` are cancellation-safe: losing a race
        // loses nothing.
        let next = if in_room {
            let room_side = select(inbox.next(), &mut put_out);
            match select(Box::pin(ws.recv_event()), room_side).await {
                Either::Left((event, _)) => Next::Event(event),
                Either::Right((Either::Left((line, _)), _)) => Next::Line(line),
                Either::Right((Either::Right(_), _)) => Next::PutOut,
            }
        } else {
            Next::Event(ws.recv_event().await)
        };
        match next {
            Next::Event(Ok(Event::Message(Message::Text(text)))) => {
                payload += text.len() as u64;
                if in_room {
                    room.broadcast(&name, &text);
                }
            }
            Next::Event(Ok(Event::Message(Message::Binary(data)))) => {
                payload += data.len() as u64;
            }
            Next::Event(Ok(Event::Pong(_))) => {
                transcript.push(Entry::Pong { who: name.clone() });
            }
            Next::Event(Ok(_)) => {}
            Next::Event(Err(end)) => break end,
            Next::Line(Some(line)) => {
                // `None`: put out while the line waited for room.
                let sent = match select(Box::pin(ws.send_text(line)), &mut put_out).await {
                    Either::Left((sent, _)) => Some(sent),
                    Either::Right(_) => None,
                };
                match sent {
                    Some(Ok(())) => {}
                    Some(Err(end)) => break end,
                    None => in_room = put_out_of_the_room(&mut ws, &name, &transcript).await,
                }
            }
            // Only the room drops a member's queue: when it puts it out.
            Next::PutOut | Next::Line(None) => {
                in_room = put_out_of_the_room(&mut ws, &name, &transcript).await;
            }
        }
    };
    room.leave(&name);
    transcript.push(Entry::Wire {
        who: name.clone(),
        payload,
        wire: wire.load(Ordering::Relaxed) - handshake_bytes,
    });
    transcript.push(Entry::Closed {
        who: name,
        side: Side::Server,
        reason: end_reason(&ws, &end),
    });
}

/// Tells a member that stopped reading why it is put out (Close 1008,
/// queued after what it has not read, not waited for). `false`: no longer
/// in the room.
async fn put_out_of_the_room<S>(ws: &mut Session<S>, name: &str, transcript: &Transcript) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    transcript.push(Entry::TooSlow {
        who: name.to_owned(),
    });
    let close = CloseFrame::new(
        CloseCode::POLICY_VIOLATION,
        format!("too slow: more than {MEMBER_QUEUE} lines unread"),
    );
    // A Close needs no room in the send queue: this returns at once.
    let _ = ws.send_message(Message::Close(Some(close))).await;
    false
}

fn end_reason<S>(ws: &Session<S>, end: &Error) -> CloseReason
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close_reason()
        .or_else(|| end.close_reason())
        .cloned()
        .unwrap_or(CloseReason::Abnormal)
}

/// Plays `script` between connected `members` (in the script's order):
/// each line is sent by its member and awaited at every other member before
/// the next line, so the transcript reads as a conversation. Then every
/// member waits for a heartbeat ping and closes with 1000.
///
/// # Errors
/// A session error (the server went away, a line was not delivered).
pub async fn converse<S>(
    script: &Script,
    members: &mut [Session<S>],
    transcript: &Transcript,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    for (speaker, line) in &script.lines {
        let speaker_name = &script.members[*speaker];
        members[*speaker].send_text(line.as_str()).await?;
        transcript.push(Entry::Said {
            who: speaker_name.clone(),
            text: line.clone(),
        });
        for (index, ws) in members.iter_mut().enumerate() {
            if index == *speaker {
                continue;
            }
            let who = &script.members[index];
            loop {
                match ws.recv_event().await? {
                    Event::Message(Message::Text(text)) => {
                        let (from, text) = text.split_once(": ").unwrap_or(("?", &text));
                        transcript.push(Entry::Heard {
                            who: who.clone(),
                            from: from.to_owned(),
                            text: text.to_owned(),
                        });
                        break;
                    }
                    Event::Ping(_) => transcript.push(Entry::Ping { who: who.clone() }),
                    _ => {}
                }
            }
        }
    }
    for (index, ws) in members.iter_mut().enumerate() {
        let who = &script.members[index];
        // Awaiting a receive keeps the session going: the server's next
        // heartbeat arrives here and is answered by the session itself.
        loop {
            if let Event::Ping(_) = ws.recv_event().await? {
                transcript.push(Entry::Ping { who: who.clone() });
                break;
            }
        }
        ws.close(CloseFrame::new(
            CloseCode::NORMAL,
            format!("bye from {who}"),
        ))
        .await?;
        transcript.push(Entry::Closed {
            who: who.clone(),
            side: Side::Client,
            reason: ws.close_reason().cloned().unwrap_or(CloseReason::Abnormal),
        });
    }
    Ok(())
}

/// Runs the whole demo on tokio: a chat server on `127.0.0.1:0`, one
/// client session per member of `script`, the conversation, and the close.
/// Returns once every session on both ends has ended.
///
/// # Errors
/// A setup failure (bind, connect, handshake) or a session error, as text.
pub async fn run_tokio(script: &Script, transcript: Arc<Transcript>) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:0: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    transcript.push(Entry::Listening {
        url: format!("ws://{addr}/chat"),
    });

    let room = Room::default();
    let expected = script.members.len();
    let server_transcript = transcript.clone();
    let server = tokio::spawn(async move {
        let mut members = Vec::new();
        // Accept errors pause the loop (out of descriptors) or are skipped
        // (a connection that went away); only a broken listener ends it.
        let mut incoming = ws_tokio::incoming(listener);
        while members.len() < expected {
            let Some(Ok(tcp)) = incoming.next().await else {
                break;
            };
            let (tcp, wire) = Counted::new(ws_tokio::Compat::new(tcp));
            let mut name = None;
            let accepted = ws_session::server(
                Arc::new(ws_tokio::TokioRuntime),
                tcp,
                config(),
                ws_session::HandshakeOptions::default(),
                async |request| {
                    let (decision, who) = decide(request);
                    name = who;
                    decision
                },
            )
            .await;
            let (Ok((ws, _)), Some(name)) = (accepted, name) else {
                continue;
            };
            members.push(tokio::spawn(serve_member(
                ws,
                name,
                room.clone(),
                wire,
                server_transcript.clone(),
            )));
        }
        for member in members {
            let _ = member.await;
        }
    });

    let connector = ws_tokio::Connector::new().config(client_config());
    let mut sessions = Vec::new();
    for name in &script.members {
        let url = format!("ws://{addr}/chat?name={name}");
        let (ws, response) = connector
            .connect(&url)
            .await
            .map_err(|e| format!("{name} could not join: {e}"))?;
        let extensions = response
            .headers()
            .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        transcript.push(Entry::Joined {
            who: name.clone(),
            extensions,
        });
        sessions.push(ws.into_session());
    }
    converse(script, &mut sessions, &transcript)
        .await
        .map_err(|e| format!("the conversation failed: {e}"))?;
    server
        .await
        .map_err(|e| format!("the server task failed: {e}"))
}
