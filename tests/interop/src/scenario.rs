//! The scenarios: each is one list of steps seen from our side, the peer's
//! script is derived from it.

use serde_json::{Value, json};
use ws_session::{Bytes, Config, DeflateConfig, Message, Mode};

/// 1-, 2-, 3- and 4-byte UTF-8 characters, so that fragments cut at byte
/// offsets split characters.
const UNIT: &str = "héllo wörld ✓ 🦀 ";
const MIB: usize = 1024 * 1024;

/// What a message is made of. Each side builds its own copy and reports
/// what it sent; the other side compares with what it received.
#[derive(Debug, Clone)]
pub enum Content {
    /// `unit` repeated `repeat` times, as a text message.
    Text {
        /// The repeated string.
        unit: &'static str,
        /// How many times.
        repeat: usize,
    },
    /// Random bytes (incompressible), as a binary message.
    Random(usize),
    /// The bytes 0, 1, …, 255, 0, 1, … (compressible), as a binary message.
    Pattern(usize),
}

impl Content {
    fn to_json(&self) -> Value {
        match self {
            Content::Text { unit, repeat } => {
                json!({"kind": "text", "unit": unit, "repeat": repeat})
            }
            Content::Random(len) => json!({"kind": "binary", "len": len, "fill": "random"}),
            Content::Pattern(len) => json!({"kind": "binary", "len": len, "fill": "pattern"}),
        }
    }

    /// Our copy of the message. `seed` varies the random bytes per step.
    pub(crate) fn build(&self, seed: u64) -> Message {
        match self {
            Content::Text { unit, repeat } => Message::Text(unit.repeat(*repeat).into()),
            Content::Random(len) => {
                // xorshift64*: fast enough for 16 MiB in a debug build.
                let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut data = Vec::with_capacity(len + 8);
                while data.len() < *len {
                    state ^= state >> 12;
                    state ^= state << 25;
                    state ^= state >> 27;
                    data.extend_from_slice(
                        &state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes(),
                    );
                }
                data.truncate(*len);
                Message::Binary(Bytes::from(data))
            }
            Content::Pattern(len) => Message::Binary((0..*len).map(|i| i as u8).collect()),
        }
    }
}

impl std::fmt::Display for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::Text { unit, repeat } => {
                write!(f, "text of {} B ({unit:?} x {repeat})", unit.len() * repeat)
            }
            Content::Random(len) => write!(f, "binary of {len} B (random)"),
            Content::Pattern(len) => write!(f, "binary of {len} B (pattern)"),
        }
    }
}

/// One step of a scenario, from our side.
#[derive(Debug, Clone)]
pub enum Step {
    /// We send a message (in frames of `fragment` bytes if given); the peer
    /// reports it and echoes it back whole; we check the echo.
    Send {
        /// The message.
        content: Content,
        /// Frame payload size, for a fragmented message.
        fragment: Option<usize>,
    },
    /// The peer sends a message (fragmented with its own API if
    /// `fragment` is given) and reports it; we receive it.
    Receive {
        /// The message.
        content: Content,
        /// Fragment size, in characters for Python text, else bytes.
        fragment: Option<usize>,
    },
    /// We ping with this payload and wait for the pong.
    Ping(Vec<u8>),
    /// The peer pings with this payload and waits for our pong.
    PeerPing(Vec<u8>),
    /// We close with this code and reason; the peer waits for it.
    Close(u16, &'static str),
    /// The peer closes with this code and reason; we wait for it.
    PeerClose(u16, &'static str),
}

impl Step {
    /// The peer's side of this step, in the script language of
    /// `peers/*/steps.*`.
    pub(crate) fn peer_json(&self) -> Value {
        match self {
            Step::Send { .. } => json!({"op": "echo"}),
            Step::Receive { content, fragment } => {
                json!({"op": "send", "payload": content.to_json(), "fragment": fragment})
            }
            Step::Ping(_) => json!({"op": "none"}),
            Step::PeerPing(data) => json!({"op": "ping", "data": hex(data)}),
            Step::Close(..) => json!({"op": "wait_close"}),
            Step::PeerClose(code, reason) => json!({"op": "close", "code": code, "reason": reason}),
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fragments = |fragment: &Option<usize>| {
            fragment.map_or(String::new(), |n| format!(" in fragments of {n}"))
        };
        match self {
            Step::Send { content, fragment } => write!(
                f,
                "we send {content}{}, the peer echoes it",
                fragments(fragment)
            ),
            Step::Receive { content, fragment } => {
                write!(f, "the peer sends {content}{}", fragments(fragment))
            }
            Step::Ping(data) => write!(f, "we ping with {}, expect its pong", hex(data)),
            Step::PeerPing(data) => {
                write!(f, "the peer pings with {}, expects our pong", hex(data))
            }
            Step::Close(code, reason) => write!(f, "we close with {code} {reason:?}"),
            Step::PeerClose(code, reason) => write!(f, "the peer closes with {code} {reason:?}"),
        }
    }
}

/// Everything a scenario sets up.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The steps, from our side.
    pub steps: Vec<Step>,
    /// We offer (client) or accept (server) permessage-deflate.
    pub our_deflate: bool,
    /// The peer does.
    pub peer_deflate: bool,
    /// `wss://` with a certificate made for the test.
    pub tls: bool,
    /// Our session runs in raw mode (frames in and out as they are).
    pub raw: bool,
}

impl Plan {
    fn new(steps: Vec<Step>) -> Self {
        Plan {
            steps,
            our_deflate: false,
            peer_deflate: false,
            tls: false,
            raw: false,
        }
    }

    /// Our session configuration.
    pub(crate) fn config(&self) -> Config {
        let mut config = Config::default()
            // 16 MiB messages go in one frame, compressed or not: over the
            // 1 MiB defaults, raised as a deployment expecting them would.
            .with_max_frame_size(32 * MIB)
            .with_max_message_size(32 * MIB)
            .with_max_inflated_size(32 * MIB);
        if self.our_deflate {
            config = config.with_compression(DeflateConfig::default());
        }
        if self.raw {
            config = config.with_mode(Mode::Raw);
        }
        config
    }

    /// The peer's script.
    pub(crate) fn peer_script(&self) -> String {
        Value::Array(self.steps.iter().map(Step::peer_json).collect()).to_string()
    }
}

/// The scenarios every (peer, direction, adapter) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Text messages with 7-, 16- and 64-bit lengths, both ways.
    Text,
    /// Binary messages at the length-encoding boundaries, both ways.
    Binary,
    /// Empty text and binary messages, both ways.
    Empty,
    /// 16 MiB binary and text messages, both ways.
    Large,
    /// Fragmented messages both ways; ours through `send_fragmented`.
    Fragmented,
    /// Fragmented messages both ways; ours sent and received as raw frames,
    /// with a ping between two fragments.
    FragmentedRaw,
    /// permessage-deflate on both sides: negotiated, compressible and
    /// incompressible messages, fragmented compressed messages.
    Deflate,
    /// The peer offers/accepts permessage-deflate, we do not.
    DeflateOffOurs,
    /// We offer/accept permessage-deflate, the peer does not.
    DeflateOffTheirs,
    /// We close with a code and a reason.
    CloseOurs,
    /// The peer closes with a code and a reason.
    CloseTheirs,
    /// We ping (with payloads of 0 to 125 bytes) and expect the pongs.
    PingOurs,
    /// The peer pings and expects our pongs.
    PingTheirs,
    /// `wss://` with a certificate generated by the test.
    Tls,
}

impl Scenario {
    /// The test's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Text => "text",
            Scenario::Binary => "binary",
            Scenario::Empty => "empty",
            Scenario::Large => "large",
            Scenario::Fragmented => "fragmented",
            Scenario::FragmentedRaw => "fragmented_raw",
            Scenario::Deflate => "deflate",
            Scenario::DeflateOffOurs => "deflate_off_ours",
            Scenario::DeflateOffTheirs => "deflate_off_theirs",
            Scenario::CloseOurs => "close_ours",
            Scenario::CloseTheirs => "close_theirs",
            Scenario::PingOurs => "ping_ours",
            Scenario::PingTheirs => "ping_theirs",
            Scenario::Tls => "tls",
        }
    }

    /// The steps and settings of this scenario.
    #[must_use]
    #[allow(clippy::too_many_lines)] // one table of scenarios
    pub fn plan(self) -> Plan {
        use Step::{Close, PeerClose, PeerPing, Ping};
        let send = |content| Step::Send {
            content,
            fragment: None,
        };
        let receive = |content| Step::Receive {
            content,
            fragment: None,
        };
        let text = |unit, repeat| Content::Text { unit, repeat };
        let done = || Close(1000, "done");
        match self {
            Scenario::Text => Plan::new(vec![
                send(text("hello", 1)),
                send(text(UNIT, 10)),
                send(text(UNIT, 4000)),
                receive(text("hello", 1)),
                receive(text(UNIT, 10)),
                receive(text(UNIT, 4000)),
                done(),
            ]),
            Scenario::Binary => Plan::new(vec![
                send(Content::Random(1)),
                send(Content::Random(125)),
                send(Content::Random(126)),
                send(Content::Random(65_535)),
                send(Content::Random(65_536)),
                send(Content::Random(200_000)),
                receive(Content::Random(125)),
                receive(Content::Random(126)),
                receive(Content::Random(65_536)),
                receive(Content::Random(200_000)),
                done(),
            ]),
            Scenario::Empty => Plan::new(vec![
                send(text("", 0)),
                send(Content::Random(0)),
                receive(text("", 0)),
                receive(Content::Random(0)),
                done(),
            ]),
            Scenario::Large => Plan::new(vec![
                send(Content::Random(16 * MIB)),
                receive(Content::Random(16 * MIB)),
                send(text(UNIT, 16 * MIB / UNIT.len())),
                receive(text(UNIT, 16 * MIB / UNIT.len())),
                done(),
            ]),
            Scenario::Fragmented | Scenario::FragmentedRaw => Plan {
                raw: self == Scenario::FragmentedRaw,
                ..Plan::new(fragmented_steps())
            },
            Scenario::Deflate => Plan {
                our_deflate: true,
                peer_deflate: true,
                ..Plan::new(vec![
                    send(text(UNIT, 5000)),
                    send(Content::Random(20_000)),
                    send(text("tiny", 1)),
                    Step::Send {
                        content: Content::Pattern(MIB),
                        fragment: Some(100_000),
                    },
                    Step::Send {
                        content: Content::Random(300_000),
                        fragment: Some(65_536),
                    },
                    receive(text(UNIT, 5000)),
                    receive(Content::Pattern(MIB)),
                    receive(Content::Random(20_000)),
                    receive(text("tiny", 1)),
                    Step::Receive {
                        content: Content::Pattern(300_000),
                        fragment: Some(65_536),
                    },
                    done(),
                ])
            },
            Scenario::DeflateOffOurs | Scenario::DeflateOffTheirs => Plan {
                our_deflate: self == Scenario::DeflateOffTheirs,
                peer_deflate: self == Scenario::DeflateOffOurs,
                ..Plan::new(vec![
                    send(text(UNIT, 5000)),
                    receive(text(UNIT, 5000)),
                    done(),
                ])
            },
            Scenario::CloseOurs => Plan::new(vec![
                send(text("before the close", 1)),
                Close(4001, "bye from wsproto ✓"),
            ]),
            Scenario::CloseTheirs => Plan::new(vec![
                receive(text("before the close", 1)),
                PeerClose(3000, "bye from the peer ✓"),
            ]),
            Scenario::PingOurs => Plan::new(vec![
                Ping(b"ping from wsproto \x00\xff".to_vec()),
                Ping(Vec::new()),
                Ping((0..125).collect()),
                send(text("after the pings", 1)),
                done(),
            ]),
            Scenario::PingTheirs => Plan::new(vec![
                PeerPing(b"ping from the peer \x00\xff".to_vec()),
                PeerPing(Vec::new()),
                PeerPing((0..125).collect()),
                receive(text("after the pings", 1)),
                done(),
            ]),
            Scenario::Tls => Plan {
                tls: true,
                our_deflate: true,
                peer_deflate: true,
                ..Plan::new(vec![
                    send(text(UNIT, 10)),
                    send(Content::Random(100_000)),
                    receive(Content::Random(70_000)),
                    Ping(b"over tls".to_vec()),
                    Close(1000, "tls done"),
                ])
            },
        }
    }
}

fn fragmented_steps() -> Vec<Step> {
    let unit_text = || Content::Text {
        unit: UNIT,
        repeat: 50,
    };
    vec![
        Step::Send {
            content: unit_text(),
            fragment: Some(7),
        },
        Step::Send {
            content: Content::Random(10_000),
            fragment: Some(1000),
        },
        Step::Send {
            content: Content::Random(5),
            fragment: Some(1),
        },
        Step::Receive {
            content: unit_text(),
            fragment: Some(7),
        },
        Step::Receive {
            content: Content::Random(10_000),
            fragment: Some(1000),
        },
        Step::Close(1000, "done"),
    ]
}

/// Lower-case hex, as the peers report bytes.
pub(crate) fn hex(data: &[u8]) -> String {
    use std::fmt::Write as _;
    data.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
