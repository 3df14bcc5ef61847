//! The command line in one place: every flag and its help, the examples,
//! and the exit statuses scripts can rely on. Parsing only: the work is
//! done by [`client`](crate::client) and [`server`](crate::server).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser, ValueEnum};
use ws_tokio::http::{HeaderName, HeaderValue};
use ws_tokio::ws_session::proxy::{Proxy, ProxyConfig};

use crate::codec::{BinaryIn, BinaryOut, Render};
use crate::link::{EndKind, Ended, Settings, default_max_message_size};

/// What `wsp` was asked to do.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wsp",
    version,
    about = "A WebSocket client and server for the command line: pipes, interactive line editing, TLS, permessage-deflate.",
    long_about = "A WebSocket client and server for the command line.\n\n\
        With a URL, wsp connects: each line of standard input is sent as one message and each \
        message received is written as one line of standard output, so it composes with jq and \
        shell scripts; when standard input and output are a terminal, lines are edited with \
        history instead. With -l it serves: echo, a chat that relays every message to the other \
        clients, or standard input to every client. The close code and reason, errors and -v's \
        handshake go to standard error; the exit status says how the session ended.",
    after_help = "See 'wsp --help' for examples, interactive commands and exit statuses.",
    after_long_help = long_help_tail(),
    group(ArgGroup::new("target").args(["url", "listen", "completions"]).required(true)),
)]
pub struct Cli {
    /// The ws:// or wss:// URL to connect to (client mode).
    #[arg(value_name = "URL", value_parser = parse_url)]
    pub url: Option<String>,

    /// Serve on ADDR, for example 127.0.0.1:9002 (port 0: any free port);
    /// the address bound is printed on standard error.
    #[arg(short, long, value_name = "ADDR", conflicts_with = "url")]
    pub listen: Option<String>,

    /// Add a header: to the upgrade request (client) or to every 101
    /// response (server). Repeatable.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,

    /// A subprotocol: offered in this order (client), or spoken (server:
    /// the first of the client's offers that is in the list is chosen).
    /// Repeatable.
    #[arg(long = "subprotocol", value_name = "NAME")]
    pub subprotocols: Vec<String>,

    /// The Origin header to send (as a browser page on that origin would).
    #[arg(long, value_name = "ORIGIN", conflicts_with = "listen", value_parser = parse_header_value)]
    pub origin: Option<HeaderValue>,

    /// Server: accept only requests whose Origin is one of these (others,
    /// and requests without Origin, are refused with 403). Repeatable.
    #[arg(long = "allow-origin", value_name = "ORIGIN", conflicts_with = "url")]
    pub allow_origins: Vec<String>,

    /// Offer (client) or accept (server) permessage-deflate compression
    /// (the default).
    #[arg(long, overrides_with = "no_compress")]
    pub compress: bool,

    /// Do not offer or accept permessage-deflate.
    #[arg(long, overrides_with = "compress")]
    pub no_compress: bool,

    /// Send a ping every SECS seconds (for example 20 or 0.5); the session
    /// ends with close 1011 when no pong comes back in time.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub ping_interval: Option<Duration>,

    /// The largest message accepted, after decompression, in bytes (K, M,
    /// G suffixes are powers of 1024); a larger one ends the session with
    /// close 1009.
    #[arg(long, value_name = "BYTES", value_parser = parse_size, help = max_message_help())]
    pub max_message_size: Option<usize>,

    /// Send each input line as a binary message, decoded from this
    /// encoding; binary messages received are written in it too (see
    /// --binary-out).
    #[arg(long, value_name = "ENCODING", value_enum)]
    pub binary: Option<BinaryIn>,

    /// How binary messages received are written [default: --binary's
    /// encoding, else hex].
    #[arg(long, value_name = "ENCODING", value_enum)]
    pub binary_out: Option<BinaryOut>,

    /// Write binary messages received as their bytes, with nothing between
    /// messages (short for --binary-out raw): `wsp -1 --raw URL > file`.
    #[arg(long, conflicts_with = "binary_out")]
    pub raw: bool,

    /// Re-indent text messages that are JSON (keys keep their order).
    #[arg(long)]
    pub json: bool,

    /// Send at most one message (the first input line), wait for one
    /// message, write it, close and exit.
    #[arg(short = '1', long, conflicts_with = "listen")]
    pub one_message: bool,

    /// At the end of input, do not close: keep writing messages until the
    /// server closes (or --timeout).
    #[arg(short = 'n', long, conflicts_with_all = ["listen", "one_message"])]
    pub no_close: bool,

    /// At the end of input, wait SECS seconds for messages, then close
    /// (some servers, Python websockets among them, drop the answers to
    /// messages still queued when the Close arrives).
    #[arg(short, long, value_name = "SECS", value_parser = parse_seconds, conflicts_with_all = ["listen", "one_message", "no_close"])]
    pub wait: Option<Duration>,

    /// Give up after SECS seconds in all (connecting included): close with
    /// 1000 and exit with status 6.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, conflicts_with = "listen")]
    pub timeout: Option<Duration>,

    /// Show the handshake's request and response heads on standard error.
    #[arg(short, long)]
    pub verbose: bool,

    /// Do not show connections and close codes on standard error (errors
    /// and the --insecure warning still are).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Trust exactly the CA certificates in this PEM file for wss://
    /// (instead of the built-in web roots).
    #[arg(long, value_name = "PEM", conflicts_with_all = ["listen", "insecure"])]
    pub ca_file: Option<PathBuf>,

    /// Accept any server certificate for wss://: the connection is
    /// encrypted, but to whoever answers. Says so on standard error.
    #[arg(long, conflicts_with = "listen")]
    pub insecure: bool,

    /// Connect through this proxy: http://, https:// (TLS to the proxy),
    /// socks5:// (names resolved here) or socks5h:// (by the proxy), with
    /// user:password@ for its credentials. Wins over the environment.
    #[arg(long, value_name = "URL", value_parser = parse_proxy, conflicts_with_all = ["listen", "no_proxy_env"])]
    pub proxy: Option<Proxy>,

    /// Ignore the proxy variables (`https_proxy` for wss://, `http_proxy`
    /// for ws://, `all_proxy`, `no_proxy`, upper case too), read by
    /// default as curl reads them.
    #[arg(long, conflicts_with = "listen")]
    pub no_proxy_env: bool,

    /// Server: what to do with messages [default: stdio].
    #[arg(long, value_enum, value_name = "MODE", conflicts_with = "url")]
    pub mode: Option<ServerMode>,

    /// Server: serve wss:// with this PEM certificate chain (with --key).
    #[arg(long, value_name = "PEM", requires = "key", conflicts_with = "url")]
    pub cert: Option<PathBuf>,

    /// Server: the PEM private key of --cert.
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Print a completion script for SHELL on standard output and exit.
    #[arg(long, value_name = "SHELL", value_enum, exclusive = true)]
    pub completions: Option<clap_complete::Shell>,
}

/// What the server does with the messages of its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServerMode {
    /// Input lines go to every client; what clients send is written to
    /// standard output. The end of input closes every client and stops.
    Stdio,
    /// Every message goes back to its sender.
    Echo,
    /// Every message goes to every other client (a tiny chat).
    Broadcast,
}

impl Cli {
    /// The proxy setting: `--proxy`, none with `--no-proxy-env`, else the
    /// variables.
    #[must_use]
    pub fn proxy_config(&self) -> ProxyConfig {
        match (&self.proxy, self.no_proxy_env) {
            (Some(proxy), _) => ProxyConfig::explicit(proxy.clone()),
            (None, true) => ProxyConfig::Direct,
            (None, false) => ProxyConfig::FromEnv,
        }
    }

    /// The session settings the flags describe.
    #[must_use]
    pub fn settings(&self) -> Settings {
        Settings {
            compress: !self.no_compress,
            ping_interval: self.ping_interval,
            max_message_size: self.max_message_size,
        }
    }

    /// The server's mode (`stdio` unless `--mode` says otherwise).
    #[must_use]
    pub fn server_mode(&self) -> ServerMode {
        self.mode.unwrap_or(ServerMode::Stdio)
    }

    /// How received messages are written.
    #[must_use]
    pub fn render(&self) -> Render {
        Render {
            binary: match (self.raw, self.binary_out, self.binary) {
                (true, _, _) => BinaryOut::Raw,
                (false, Some(out), _) => out,
                (false, None, Some(BinaryIn::Base64)) => BinaryOut::Base64,
                (false, None, Some(BinaryIn::Hex) | None) => BinaryOut::Hex,
            },
            json: self.json,
        }
    }
}

/// The exit statuses, for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The close handshake completed with 1000 (or no code).
    Normal,
    /// Anything else that went wrong: a file that cannot be read, an
    /// address that cannot be bound, an input line that is not valid.
    Failure,
    /// The command line is wrong.
    Usage,
    /// The TCP or TLS connection could not be made.
    Connect,
    /// The server refused the upgrade or did not answer with one.
    Refused,
    /// The peer broke the protocol (we closed with 1002, 1007, 1009…).
    Protocol,
    /// --timeout, or a connect, handshake, ping or close timeout expired.
    Timeout,
    /// The connection was lost without a close handshake (1006).
    Lost,
    /// The close handshake completed with a code other than 1000.
    CloseCode,
}

impl Exit {
    /// Every status, in the order of their numbers.
    pub const ALL: [Exit; 9] = [
        Exit::Normal,
        Exit::Failure,
        Exit::Usage,
        Exit::Connect,
        Exit::Refused,
        Exit::Protocol,
        Exit::Timeout,
        Exit::Lost,
        Exit::CloseCode,
    ];

    /// The number the process exits with.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Exit::Normal => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Connect => 3,
            Exit::Refused => 4,
            Exit::Protocol => 5,
            Exit::Timeout => 6,
            Exit::Lost => 7,
            Exit::CloseCode => 8,
        }
    }

    /// What it means, as `--help` says it.
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Normal => {
                "the session ended with a close handshake, code 1000 or none (or the server stopped)"
            }
            Exit::Failure => {
                "another error: a file, an address to bind, an input line that is not valid"
            }
            Exit::Usage => "the command line is wrong",
            Exit::Connect => "could not connect: name resolution, TCP or TLS failed",
            Exit::Refused => {
                "the server refused the upgrade (an HTTP status other than 101) or did not answer with one"
            }
            Exit::Protocol => {
                "the peer broke the WebSocket protocol (wsp closed with 1002, 1007, 1009, ...)"
            }
            Exit::Timeout => "--timeout, or a connect, handshake, ping or close timeout expired",
            Exit::Lost => "the connection was lost without a close handshake (1006)",
            Exit::CloseCode => {
                "the close handshake completed with a code other than 1000 (e.g. 1001, 1011, 4000)"
            }
        }
    }
}

impl Exit {
    /// The status for a session that ended this way.
    #[must_use]
    pub fn of(ended: &Ended) -> Exit {
        match ended.kind {
            EndKind::Clean if matches!(ended.code, 1000 | 1005) => Exit::Normal,
            EndKind::Clean => Exit::CloseCode,
            EndKind::Protocol => Exit::Protocol,
            EndKind::Timeout => Exit::Timeout,
            EndKind::Lost => Exit::Lost,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

fn max_message_help() -> String {
    format!(
        "The largest message accepted, after decompression, in bytes (K, M, G: powers of 1024); a larger one ends the session with close 1009 [default: {}]",
        default_max_message_size()
    )
}

const EXAMPLES: &str = "\
Examples:
  Talk to a server, editing lines with history (arrow keys, Ctrl-R):
      wsp wss://echo.example/
  One request and its answer, for a script (exit status 0 if it came in time):
      echo '{\"op\":\"status\"}' | wsp -1 --timeout 5 ws://127.0.0.1:8080/api | jq .state
  A header and a subprotocol, and the handshake shown:
      wsp -v -H 'Authorization: Bearer abc' --subprotocol chat.v2 ws://localhost:4000/chat
  Binary messages as hex, both ways:
      echo '0001ff' | wsp --binary hex ws://127.0.0.1:9002/
  A private CA, or a test server's self-signed certificate:
      wsp --ca-file ca.pem wss://internal.example:8443/feed
      wsp --insecure wss://localhost:8443/
  Through a proxy (https_proxy / http_proxy / all_proxy / no_proxy are read
  like curl does, unless --no-proxy-env):
      wsp --proxy socks5h://user:pass@127.0.0.1:1080 wss://echo.example/
  An echo server on a free port (the address is printed on standard error):
      wsp -l 127.0.0.1:0 --mode echo
  A tiny chat over TLS that only pages of one site may join:
      wsp -l 0.0.0.0:8443 --mode broadcast --cert cert.pem --key key.pem \\
          --allow-origin https://chat.example
  Lines typed into the server go to every client; what clients send is printed:
      wsp -l 127.0.0.1:9002
  Shell completions:
      wsp --completions bash > ~/.local/share/bash-completion/completions/wsp

Input and output:
  Client: each line of standard input is one message (text; binary with --binary), and each
  message received is written as one line (binary as hex, or as --binary-out says). At the end
  of input wsp closes with 1000 and writes what arrives until the server answers (-w SECS: after
  waiting that long; -n: when the server closes). Ctrl-C closes the same way.
  When standard input and output are a terminal, lines are edited with history, messages
  received are shown as '< message', and these commands are understood:
      /ping [TEXT]             send a ping
      /close [CODE [REASON]]   close with CODE (1000) and REASON
      //TEXT                   send a line that starts with /
  Ctrl-D or Ctrl-C closes with 1000.
  Server: connections, refusals and disconnections with their close codes go to standard error.
  SIGINT or SIGTERM closes every client with 1001 and stops.
";

/// The end of `--help`: examples, then the exit statuses.
fn long_help_tail() -> String {
    let mut text = EXAMPLES.to_owned();
    text.push_str("\nExit status:\n");
    for exit in Exit::ALL {
        let _ = writeln!(text, "  {}  {}", exit.code(), exit.meaning());
    }
    text.push_str(
        "  The close code and reason are written on standard error (with -q only when the status is not 0).",
    );
    text
}

/// `ws://` or `wss://`, with a host.
fn parse_url(text: &str) -> Result<String, String> {
    let uri: ws_tokio::http::Uri = text
        .parse()
        .map_err(|e| format!("not a URL ({e}); for example ws://127.0.0.1:9002/path"))?;
    match uri.scheme_str() {
        Some("ws" | "wss") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(text.to_owned()),
        Some("ws" | "wss") => Err("the URL has no host".to_owned()),
        Some(other) => Err(format!("the scheme is {other:?}: use ws:// or wss://")),
        None => Err("the URL needs ws:// or wss:// in front".to_owned()),
    }
}

/// A proxy URL (`Proxy::parse`: curl's `--proxy` syntax).
fn parse_proxy(text: &str) -> Result<Proxy, String> {
    Proxy::parse(text).map_err(|e| e.to_string())
}

/// `Name: value`.
fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("a header is 'Name: value', got {text:?}"))?;
    let name = HeaderName::try_from(name.trim())
        .map_err(|e| format!("{:?} is not a header name: {e}", name.trim()))?;
    let value = parse_header_value(value.trim())?;
    Ok((name, value))
}

fn parse_header_value(text: &str) -> Result<HeaderValue, String> {
    HeaderValue::try_from(text).map_err(|e| format!("{text:?} is not a header value: {e}"))
}

/// Seconds, fractions allowed, more than zero.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("seconds are a number above 0 (e.g. 5 or 0.5), not {text:?}"))
}

/// Bytes, with an optional K, M or G (powers of 1024).
fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let (digits, shift) = match trimmed.char_indices().last() {
        Some((i, 'k' | 'K')) => (&trimmed[..i], 10),
        Some((i, 'm' | 'M')) => (&trimmed[..i], 20),
        Some((i, 'g' | 'G')) => (&trimmed[..i], 30),
        _ => (trimmed, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| n.checked_mul(1usize << shift))
        .ok_or_else(|| {
            format!(
                "a size is a number of bytes above 0, optionally with K, M or G (e.g. 65536 or 16M), not {text:?}"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_parse_into_settings() {
        let cli = Cli::try_parse_from([
            "wsp",
            "--no-compress",
            "--ping-interval",
            "0.5",
            "--max-message-size",
            "64K",
            "--binary",
            "base64",
            "-H",
            "X-Trace: 42",
            "ws://h/",
        ])
        .unwrap();
        assert_eq!(
            cli.settings(),
            Settings {
                compress: false,
                ping_interval: Some(Duration::from_millis(500)),
                max_message_size: Some(65536),
            }
        );
        assert_eq!(cli.render().binary, BinaryOut::Base64);
        assert_eq!(cli.headers[0].0, "x-trace");
        let later_wins = Cli::try_parse_from(["wsp", "--no-compress", "--compress", "ws://h/"]);
        assert!(later_wins.unwrap().settings().compress);
    }

    #[test]
    fn bad_values_are_explained() {
        let err = |args: &[&str]| Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err(&["wsp", "http://h/"]).contains("use ws:// or wss://"));
        assert!(err(&["wsp", "-H", "nocolon", "ws://h/"]).contains("'Name: value'"));
        assert!(err(&["wsp", "--timeout", "0", "ws://h/"]).contains("above 0"));
        assert!(err(&["wsp", "--max-message-size", "12Q", "ws://h/"]).contains("16M"));
        assert!(err(&["wsp", "-l", "127.0.0.1:0", "ws://h/"]).contains("cannot be used with"));
        assert!(err(&["wsp", "--mode", "echo", "ws://h/"]).contains("cannot be used with"));
        assert!(
            err(&["wsp", "--cert", "c.pem", "--key", "k.pem", "ws://h/"])
                .contains("cannot be used with")
        );
        assert!(err(&["wsp"]).contains("required"));
    }

    #[test]
    fn sizes_take_suffixes() {
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn every_exit_status_is_documented_once() {
        let help = long_help_tail();
        for (i, exit) in Exit::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(exit.code()), i);
            assert!(help.contains(&format!("  {}  {}", exit.code(), exit.meaning())));
        }
    }
}
