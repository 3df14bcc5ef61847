//! The `wscat` example's logic: command-line options, the lines typed on
//! stdin, how frames and messages are shown, and the interactive loop over
//! a [`ws_session::Session`] (any runtime). The binary only connects or
//! listens (tokio) and hands stdin's lines to [`interact`].

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::future::{Either, select};
use futures_util::{AsyncRead, AsyncWrite, Stream, StreamExt as _};
use http::header::{HeaderName, HeaderValue};
use ws_session::{
    Bytes, CloseCode, CloseFrame, Config, DeflateConfig, Event, Frame, Message, Mode, OpCode,
    Session, wsproto_core::Rsv,
};

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The URL to connect to (client mode).
    pub url: Option<String>,
    /// The address to listen on (`--listen ADDR`, server mode).
    pub listen: Option<String>,
    /// Extra request headers (`--header 'Name: value'`, repeatable).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Subprotocols to offer (client) or accept (server), in order
    /// (`--subprotocol NAME`, repeatable).
    pub subprotocols: Vec<String>,
    /// `--ping-interval SECS`: send a heartbeat ping this often.
    pub ping_interval: Option<Duration>,
    /// `--compress`: offer or accept permessage-deflate.
    pub compress: bool,
    /// `--raw`: raw mode, every frame shown and nothing answered by the
    /// session (wscat answers pings and the Close itself, and shows it).
    pub raw: bool,
    /// `--max-message-size BYTES`: the message and frame limits (default:
    /// the library's).
    pub limits: crate::Limits,
}

/// The usage text.
pub const USAGE: &str = "usage: wscat URL | --listen ADDR  [--header 'Name: value']... [--subprotocol NAME]... [--ping-interval SECS] [--compress] [--raw] [--max-message-size BYTES]

  --max-message-size BYTES   the largest message and frame accepted (default: the library's limits)

Lines typed on stdin are sent as text messages. Commands:
  /binary HEX        send a binary message (e.g. /binary 01ff)
  /ping [TEXT]       send a ping          /pong [TEXT]   send a pong
  /close [CODE [REASON]]  start the close handshake (end of input does too)
  /frame KIND [nofin] [rsv1] [TEXT]   raw mode: send one frame of KIND
                     text, binary, cont, ping, pong or close
  //TEXT             send TEXT starting with a single /";

impl Options {
    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    /// An unknown option, a missing value, a malformed header or interval,
    /// or neither (or both) of a URL and `--listen`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Options::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
            };
            match arg.as_str() {
                "--compress" => options.compress = true,
                "--raw" => options.raw = true,
                "--listen" => options.listen = Some(value("--listen")?),
                "--header" | "-H" => options.headers.push(parse_header(&value("--header")?)?),
                "--subprotocol" | "-s" => options.subprotocols.push(value("--subprotocol")?),
                "--ping-interval" => {
                    let text = value("--ping-interval")?;
                    let secs: f64 = text
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| {
                            format!("--ping-interval takes seconds (e.g. 0.5 or 30), not {text:?}")
                        })?;
                    options.ping_interval = Some(Duration::from_secs_f64(secs));
                }
                "--max-message-size" => {
                    let text = value("--max-message-size")?;
                    let bytes = text.parse().map_err(|_| {
                        format!("--max-message-size takes a number of bytes, not {text:?}")
                    })?;
                    options.limits.max_message_size = Some(bytes);
                }
                "--help" | "-h" => return Err(USAGE.to_owned()),
                other if other.starts_with('-') => {
                    return Err(format!("unknown option {other}\n{USAGE}"));
                }
                url if options.url.is_none() => options.url = Some(url.to_owned()),
                extra => return Err(format!("unexpected argument {extra:?}\n{USAGE}")),
            }
        }
        if options.raw && options.ping_interval.is_some() {
            return Err(
                "--ping-interval does nothing with --raw: a raw session sends nothing by itself (type /ping instead)"
                    .to_owned(),
            );
        }
        match (&options.url, &options.listen) {
            (Some(_), None) | (None, Some(_)) => Ok(options),
            (None, None) => Err(USAGE.to_owned()),
            (Some(_), Some(_)) => Err(format!(
                "give either a URL (connect) or --listen ADDR (serve), not both\n{USAGE}"
            )),
        }
    }

    /// The session configuration these options describe.
    #[must_use]
    pub fn config(&self) -> Config {
        let mut config = self
            .limits
            .apply(Config::default())
            .with_mode(if self.raw { Mode::Raw } else { Mode::Default })
            .with_ping_interval(self.ping_interval);
        if self.compress {
            config = config.with_compression(DeflateConfig::default());
        }
        config
    }
}

/// Parses `Name: value`.
///
/// # Errors
/// No colon, or a name or value HTTP does not allow.
pub fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("a header is 'Name: value', got {text:?}"))?;
    let name = HeaderName::try_from(name.trim())
        .map_err(|e| format!("invalid header name {:?}: {e}", name.trim()))?;
    let value = HeaderValue::try_from(value.trim())
        .map_err(|e| format!("invalid value for header {name}: {e}"))?;
    Ok((name, value))
}

/// Bytes as lowercase hex pairs separated by spaces; at most `limit` bytes
/// are shown, then `…` and the total.
#[must_use]
pub fn hex(bytes: &[u8], limit: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(limit) * 3 + 16);
    for (i, byte) in bytes.iter().take(limit).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    if bytes.len() > limit {
        let _ = write!(out, " … ({} bytes)", bytes.len());
    }
    out
}

/// Parses the hex digits of `/binary` (spaces allowed between bytes).
///
/// # Errors
/// An odd number of digits or a character that is not a hex digit.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "hex needs two digits per byte, got {} digits",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).unwrap_or("??");
            u8::from_str_radix(pair, 16).map_err(|_| format!("{pair:?} is not a hex byte"))
        })
        .collect()
}

/// How many payload bytes are shown as hex.
const HEX_LIMIT: usize = 64;

/// A payload shown for a person: UTF-8 text quoted, anything else as hex.
fn payload_text(payload: &[u8], text: bool) -> String {
    match std::str::from_utf8(payload) {
        Ok(s) if text => format!("{s:?}"),
        _ => hex(payload, HEX_LIMIT),
    }
}

/// One frame as `OPCODE fin|nofin [rsv1 rsv2 rsv3] N bytes: payload`:
/// text and the reason of a Close as text, everything else as hex.
#[must_use]
pub fn describe_frame(frame: &Frame) -> String {
    let name = match frame.opcode {
        OpCode::Continuation => "CONT",
        OpCode::Text => "TEXT",
        OpCode::Binary => "BINARY",
        OpCode::Close => "CLOSE",
        OpCode::Ping => "PING",
        OpCode::Pong => "PONG",
    };
    let mut out = format!("{name} {}", if frame.fin { "fin" } else { "nofin" });
    for (bit, label) in [
        (Rsv::RSV1, "rsv1"),
        (Rsv::RSV2, "rsv2"),
        (Rsv::RSV3, "rsv3"),
    ] {
        if frame.rsv.contains(bit) {
            out.push(' ');
            out.push_str(label);
        }
    }
    let _ = write!(out, " {} bytes", frame.payload.len());
    if frame.payload.is_empty() {
        return out;
    }
    out.push_str(": ");
    if frame.opcode == OpCode::Close {
        match CloseFrame::parse(&frame.payload) {
            Ok(Some(close)) => {
                let _ = write!(out, "code {} reason {:?}", close.code, close.reason);
            }
            _ => out.push_str(&hex(&frame.payload, HEX_LIMIT)),
        }
    } else {
        // Text, and ping/pong payloads that are UTF-8, read as text; a
        // compressed (RSV1) payload is not text yet, whatever its opcode.
        let text = matches!(frame.opcode, OpCode::Text | OpCode::Ping | OpCode::Pong)
            && frame.rsv.is_empty();
        out.push_str(&payload_text(&frame.payload, text));
    }
    out
}

/// A whole message: text as it is, binary as `[binary, N bytes] hex`,
/// control frames as `[ping] …`, `[pong] …`, `[close 1000] reason`.
#[must_use]
pub fn describe_message(message: &Message) -> String {
    match message {
        Message::Text(text) => text.to_string(),
        Message::Binary(data) => format!("[binary, {} bytes] {}", data.len(), hex(data, HEX_LIMIT)),
        Message::Ping(data) => format!("[ping] {}", hex(data, HEX_LIMIT)),
        Message::Pong(data) => format!("[pong] {}", hex(data, HEX_LIMIT)),
        Message::Close(None) => "[close]".to_owned(),
        Message::Close(Some(close)) => format!("[close {}] {}", close.code, close.reason),
        Message::Frame(frame) => describe_frame(frame),
    }
}

/// What a line typed on stdin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a text message.
    Text(String),
    /// Send a binary message.
    Binary(Vec<u8>),
    /// Send a ping.
    Ping(Vec<u8>),
    /// Send a pong.
    Pong(Vec<u8>),
    /// Start the close handshake.
    Close(CloseCode, String),
    /// Raw mode: send this frame as it is.
    Frame(Frame),
}

/// Parses one line typed on stdin (see [`USAGE`]).
///
/// # Errors
/// An unknown command or a malformed argument.
pub fn parse_line(line: &str) -> Result<Command, String> {
    let Some(command) = line.strip_prefix('/') else {
        return Ok(Command::Text(line.to_owned()));
    };
    if command.starts_with('/') {
        return Ok(Command::Text(command.to_owned()));
    }
    let (name, rest) = command.split_once(' ').unwrap_or((command, ""));
    match name {
        "binary" => Ok(Command::Binary(parse_hex(rest)?)),
        "ping" => Ok(Command::Ping(rest.as_bytes().to_vec())),
        "pong" => Ok(Command::Pong(rest.as_bytes().to_vec())),
        "close" => {
            let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            let code = if code.is_empty() {
                CloseCode::NORMAL
            } else {
                CloseCode(
                    code.parse()
                        .map_err(|_| format!("/close takes a numeric code, not {code:?}"))?,
                )
            };
            Ok(Command::Close(code, reason.to_owned()))
        }
        "frame" => parse_frame(rest).map(Command::Frame),
        other => Err(format!(
            "unknown command /{other}: use /binary, /ping, /pong, /close or /frame (// sends a line starting with /)"
        )),
    }
}

fn parse_frame(text: &str) -> Result<Frame, String> {
    let mut words = text.splitn(2, ' ');
    let opcode = match words.next().unwrap_or("") {
        "text" => OpCode::Text,
        "binary" => OpCode::Binary,
        "cont" => OpCode::Continuation,
        "ping" => OpCode::Ping,
        "pong" => OpCode::Pong,
        "close" => OpCode::Close,
        other => {
            return Err(format!(
                "/frame KIND: KIND is text, binary, cont, ping, pong or close, not {other:?}"
            ));
        }
    };
    let mut frame = Frame::new(opcode, Bytes::new());
    let mut rest = words.next().unwrap_or("");
    loop {
        if let Some(after) = rest.strip_prefix("nofin") {
            frame.fin = false;
            rest = after.trim_start();
        } else if let Some(after) = rest.strip_prefix("rsv1") {
            frame.rsv = frame.rsv.union(Rsv::RSV1);
            rest = after.trim_start();
        } else {
            break;
        }
    }
    frame.payload = Bytes::copy_from_slice(rest.as_bytes());
    Ok(frame)
}

/// Where [`interact`] writes what it shows: one line at a time.
pub trait Output {
    /// Shows one line.
    fn line(&mut self, line: &str);
}

impl<F: FnMut(&str)> Output for F {
    fn line(&mut self, line: &str) {
        self(line);
    }
}

/// What [`interact`] knows about its session.
struct Interaction<'a, S: AsyncWrite + Unpin, O> {
    ws: &'a mut Session<S>,
    out: &'a mut O,
    raw: bool,
    /// We sent a Close (so a Close from the peer is its answer).
    sent_close: bool,
}

impl<S, O> Interaction<'_, S, O>
where
    S: AsyncRead + AsyncWrite + Unpin,
    O: Output,
{
    /// Sends `command`, showing it in raw mode.
    async fn send(&mut self, command: Command) {
        let frame = match command {
            Command::Text(text) => Frame::new(OpCode::Text, text),
            Command::Binary(data) => Frame::new(OpCode::Binary, data),
            Command::Ping(data) => Frame::new(OpCode::Ping, data),
            Command::Pong(data) => Frame::new(OpCode::Pong, data),
            Command::Close(code, reason) => {
                Frame::new(OpCode::Close, CloseFrame::encode_payload(code, &reason))
            }
            Command::Frame(frame) => frame,
        };
        let shown = describe_frame(&frame);
        let close = frame.opcode == OpCode::Close;
        match self.ws.send_frame(frame).await {
            Ok(()) => {
                self.sent_close |= close;
                if self.raw {
                    self.out.line(&format!("> {shown}"));
                }
            }
            Err(e) => self.out.line(&format!("! not sent: {e}")),
        }
    }

    /// Shows one event; in raw mode also answers pings and the peer's Close
    /// (showing the answer), as the session does by itself in default mode.
    async fn show(&mut self, event: Event) {
        let out = &mut *self.out;
        match event {
            Event::Message(message) => out.line(&format!("< {}", describe_message(&message))),
            Event::Frame(frame) => {
                out.line(&format!("< {}", describe_frame(&frame)));
                if self.raw && frame.opcode == OpCode::Ping {
                    self.send(Command::Pong(frame.payload.to_vec())).await;
                } else if self.raw && frame.opcode == OpCode::Close && !self.sent_close {
                    // RFC 6455 §5.5.1: echo the peer's code.
                    let code = CloseFrame::parse(&frame.payload)
                        .ok()
                        .flatten()
                        .map_or(CloseCode::NORMAL, |c| c.code);
                    self.send(Command::Close(code, String::new())).await;
                }
            }
            Event::Ping(data) => out.line(&format!(
                "< ping {} (pong sent by the session)",
                payload_text(&data, true)
            )),
            Event::Pong(data) => out.line(&format!("< pong {}", payload_text(&data, true))),
            Event::CloseReceived(Some(close)) => out.line(&format!(
                "< close {} {:?} (answered by the session)",
                close.code, close.reason
            )),
            Event::CloseReceived(None) => {
                out.line("< close without a code (answered by the session)");
            }
            Event::Chunk(chunk) => out.line(&format!(
                "< chunk of {} bytes: {}",
                chunk.data.len(),
                hex(&chunk.data, HEX_LIMIT)
            )),
            other => out.line(&format!("< {other:?}")),
        }
    }
}

/// The interactive loop: sends what `lines` asks for, shows what arrives,
/// and at the end of `lines` closes with 1000 and shows what was still in
/// flight. Returns when the session has ended; the last line shown says
/// how.
pub async fn interact<S, L, O>(ws: &mut Session<S>, mut lines: L, out: &mut O)
where
    S: AsyncRead + AsyncWrite + Unpin,
    L: Stream<Item = String> + Unpin,
    O: Output,
{
    let raw = ws.connection().config().mode() == Mode::Raw;
    let mut me = Interaction {
        ws,
        out,
        raw,
        sent_close: false,
    };
    let mut input_open = true;
    let end = loop {
        let next = if input_open {
            match select(Box::pin(me.ws.recv_event()), lines.next()).await {
                Either::Left((event, _)) => Either::Left(event),
                Either::Right((line, _)) => Either::Right(line),
            }
        } else {
            Either::Left(me.ws.recv_event().await)
        };
        match next {
            Either::Left(Ok(event)) => me.show(event).await,
            Either::Left(Err(end)) => break end,
            Either::Right(Some(line)) => match parse_line(&line) {
                Ok(command) => me.send(command).await,
                Err(e) => me.out.line(&format!("! {e}")),
            },
            Either::Right(None) => {
                // End of input: close, then keep showing what arrives
                // until the peer's answer ends the session.
                input_open = false;
                if !me.sent_close {
                    me.send(Command::Close(CloseCode::NORMAL, String::new()))
                        .await;
                }
            }
        }
    };
    match me.ws.close_reason() {
        Some(reason) => me.out.line(&format!("connection ended: {reason}")),
        None => me.out.line(&format!("connection ended: {end}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Options, String> {
        Options::parse(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn options_flags_repeats_and_values() {
        let options = args(&[
            "ws://h/p",
            "-H",
            "Authorization: Bearer x",
            "--subprotocol",
            "a",
            "--subprotocol",
            "b",
            "--ping-interval",
            "0.5",
            "--compress",
        ])
        .unwrap();
        assert_eq!(options.url.as_deref(), Some("ws://h/p"));
        assert!(options.compress && !options.raw);
        assert_eq!(options.subprotocols, ["a", "b"]);
        assert_eq!(options.ping_interval, Some(Duration::from_millis(500)));
        assert_eq!(options.headers[0].0, http::header::AUTHORIZATION);
        assert_eq!(options.headers[0].1, "Bearer x");
        assert_eq!(options.config().mode(), Mode::Default);
        assert_eq!(
            options.config().ping_interval(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(args(&["u", "--raw"]).unwrap().config().mode(), Mode::Raw);
        assert_eq!(options.config().extensions().len(), 1);
    }

    #[test]
    fn options_errors_say_what_is_wrong() {
        assert!(args(&[]).unwrap_err().starts_with("usage"));
        assert!(
            args(&["u", "--listen", "a"])
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            args(&["u", "--ping-interval", "-1"])
                .unwrap_err()
                .contains("seconds")
        );
        assert!(
            args(&["u", "--raw", "--ping-interval", "1"])
                .unwrap_err()
                .contains("does nothing with --raw")
        );
        assert!(
            args(&["u", "--nope"])
                .unwrap_err()
                .contains("unknown option --nope")
        );
        assert!(
            args(&["u", "--header"])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            args(&["u", "-H", "no colon"])
                .unwrap_err()
                .contains("'Name: value'")
        );
    }

    #[test]
    fn hex_round_trips_and_is_bounded() {
        let bytes: Vec<u8> = (0..=255).collect();
        let shown = hex(&bytes, 256);
        assert_eq!(parse_hex(&shown).unwrap(), bytes);
        assert_eq!(hex(&[0x0a, 0xff], 8), "0a ff");
        assert_eq!(hex(&bytes, 2), "00 01 … (256 bytes)");
        assert!(parse_hex("abc").unwrap_err().contains("two digits"));
        assert!(parse_hex("zz").unwrap_err().contains("not a hex byte"));
    }

    #[test]
    fn frames_show_opcode_flags_and_payload() {
        let text = Frame::new(OpCode::Text, "hi").with_fin(false);
        assert_eq!(describe_frame(&text), "TEXT nofin 2 bytes: \"hi\"");
        let compressed = Frame::new(OpCode::Text, vec![0xf2, 0x48]).with_rsv(Rsv::RSV1);
        assert_eq!(describe_frame(&compressed), "TEXT fin rsv1 2 bytes: f2 48");
        let close = Frame::new(
            OpCode::Close,
            CloseFrame::encode_payload(CloseCode::GOING_AWAY, "later"),
        );
        assert_eq!(
            describe_frame(&close),
            "CLOSE fin 7 bytes: code 1001 reason \"later\""
        );
        assert_eq!(
            describe_frame(&Frame::new(OpCode::Ping, Bytes::new())),
            "PING fin 0 bytes"
        );
        assert_eq!(
            describe_message(&Message::Binary(vec![1, 2].into())),
            "[binary, 2 bytes] 01 02"
        );
    }

    #[test]
    fn lines_become_commands() {
        assert_eq!(parse_line("hello"), Ok(Command::Text("hello".into())));
        assert_eq!(parse_line("//x"), Ok(Command::Text("/x".into())));
        assert_eq!(
            parse_line("/binary 01 ff"),
            Ok(Command::Binary(vec![1, 255]))
        );
        assert_eq!(parse_line("/ping"), Ok(Command::Ping(vec![])));
        assert_eq!(
            parse_line("/close 4000 see you"),
            Ok(Command::Close(CloseCode(4000), "see you".into()))
        );
        assert_eq!(
            parse_line("/close"),
            Ok(Command::Close(CloseCode::NORMAL, String::new()))
        );
        assert_eq!(
            parse_line("/frame text nofin rsv1 abc"),
            Ok(Command::Frame(
                Frame::new(OpCode::Text, "abc")
                    .with_fin(false)
                    .with_rsv(Rsv::RSV1)
            ))
        );
        assert!(parse_line("/frame bogus").unwrap_err().contains("KIND"));
        assert!(
            parse_line("/nope")
                .unwrap_err()
                .contains("unknown command /nope")
        );
        assert!(parse_line("/close x").unwrap_err().contains("numeric"));
    }
}
