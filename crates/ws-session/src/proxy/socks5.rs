//! A SOCKS5 client handshake (RFC 1928 `CONNECT`, RFC 1929
//! username/password), sans-IO: [`Socks5Client`] is fed what the proxy
//! sent and says what to send; the caller moves the bytes.
//!
//! ```text
//!  greeting (VER 5, methods: no auth [, username/password]) ──►
//!  ◄── method chosen
//!  [RFC 1929: VER 1, user, password ──►  ◄── status]
//!  CONNECT (address or name, port) ──►
//!  ◄── reply (code, bound address): code 0 opens the tunnel
//! ```
//!
//! Written here rather than taken from `tokio-socks` (which does speak
//! futures-io): its errors cannot tell at which step the proxy closed the
//! connection (pproxy answers wrong credentials by closing), an unassigned
//! reply code loses its value, and it reads without flushing what it wrote.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::url::{Credentials, CredentialsError};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xFF;
const CONNECT: u8 = 0x01;
const ATYP_V4: u8 = 0x01;
const ATYP_NAME: u8 = 0x03;
const ATYP_V6: u8 = 0x04;

/// What the proxy is asked to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksTarget {
    /// An address (`socks5://`: resolved by the client).
    Addr(SocketAddr),
    /// A name and port (`socks5h://`: resolved by the proxy).
    Name(String, u16),
}

impl fmt::Display for SocksTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksTarget::Addr(addr) => addr.fmt(f),
            SocksTarget::Name(name, port) => write!(f, "{name}:{port}"),
        }
    }
}

/// An RFC 1928 §6 reply code other than success, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocksReply {
    /// `0x01` general SOCKS server failure.
    GeneralFailure,
    /// `0x02` connection not allowed by ruleset.
    NotAllowed,
    /// `0x03` network unreachable.
    NetworkUnreachable,
    /// `0x04` host unreachable.
    HostUnreachable,
    /// `0x05` connection refused.
    ConnectionRefused,
    /// `0x06` TTL expired.
    TtlExpired,
    /// `0x07` command not supported.
    CommandNotSupported,
    /// `0x08` address type not supported.
    AddressTypeNotSupported,
    /// `0x09`-`0xFF`: unassigned.
    Unassigned(u8),
}

impl SocksReply {
    /// The reply for a non-zero code (`None` for `0x00`, success).
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x00 => return None,
            0x01 => SocksReply::GeneralFailure,
            0x02 => SocksReply::NotAllowed,
            0x03 => SocksReply::NetworkUnreachable,
            0x04 => SocksReply::HostUnreachable,
            0x05 => SocksReply::ConnectionRefused,
            0x06 => SocksReply::TtlExpired,
            0x07 => SocksReply::CommandNotSupported,
            0x08 => SocksReply::AddressTypeNotSupported,
            code => SocksReply::Unassigned(code),
        })
    }

    /// The code on the wire.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            SocksReply::GeneralFailure => 0x01,
            SocksReply::NotAllowed => 0x02,
            SocksReply::NetworkUnreachable => 0x03,
            SocksReply::HostUnreachable => 0x04,
            SocksReply::ConnectionRefused => 0x05,
            SocksReply::TtlExpired => 0x06,
            SocksReply::CommandNotSupported => 0x07,
            SocksReply::AddressTypeNotSupported => 0x08,
            SocksReply::Unassigned(code) => code,
        }
    }
}

impl fmt::Display for SocksReply {
    /// `connection refused (SOCKS5 reply 0x05)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SocksReply::GeneralFailure => "general SOCKS server failure",
            SocksReply::NotAllowed => "connection not allowed by ruleset",
            SocksReply::NetworkUnreachable => "network unreachable",
            SocksReply::HostUnreachable => "host unreachable",
            SocksReply::ConnectionRefused => "connection refused",
            SocksReply::TtlExpired => "TTL expired",
            SocksReply::CommandNotSupported => "command not supported",
            SocksReply::AddressTypeNotSupported => "address type not supported",
            SocksReply::Unassigned(_) => "unassigned reply code",
        };
        write!(f, "{name} (SOCKS5 reply {:#04x})", self.code())
    }
}

/// The step of the exchange the proxy was at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocksStage {
    /// Waiting for the chosen authentication method.
    Method,
    /// Waiting for the username/password status.
    Auth,
    /// Waiting for the reply to the connect request.
    Reply,
}

/// What went wrong in the exchange with the proxy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocksError {
    /// The proxy's version byte is not 5: not a SOCKS5 proxy.
    #[error("its version byte is {0:#04x}, not 5 (is it a SOCKS5 proxy?)")]
    Version(u8),
    /// It chose username/password authentication, which was not offered
    /// (no credentials).
    #[error("it asks for username/password authentication, and no credentials were given")]
    PasswordWanted,
    /// It accepts none of the offered methods (`0xFF`).
    #[error("it accepts none of the authentication methods offered")]
    NoAcceptableMethod,
    /// It chose a method that was not offered.
    #[error("it chose authentication method {0:#04x}, which was not offered")]
    UnofferedMethod(u8),
    /// The RFC 1929 status is a failure.
    #[error("it refused the user name and password (status {0:#04x})")]
    AuthStatus(u8),
    /// The reply to the connect request is a failure.
    #[error("{0}")]
    Refused(SocksReply),
    /// The reply carries an unknown address type.
    #[error("its reply has the unknown address type {0:#04x}")]
    AddressType(u8),
    /// It closed the connection at this step.
    #[error("it closed the connection at step {0:?}")]
    Closed(SocksStage),
}

/// Why a [`Socks5Client`] cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SocksSetupError {
    /// The credentials do not fit RFC 1929.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// A target name of 0 or over 255 bytes.
    #[error("a SOCKS5 target name has 1 to 255 bytes, not {0}")]
    NameLength(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Method,
    Auth,
    Reply,
    Done,
    Failed,
}

/// The client side of a SOCKS5 handshake, sans-IO.
///
/// Send [`poll_transmit`](Self::poll_transmit)'s bytes; feed what the
/// proxy sends to [`handle_data`](Self::handle_data), which consumes only
/// what belongs to the handshake (at most [`wants`](Self::wants) bytes
/// each time a step ends), and repeat until
/// [`is_established`](Self::is_established). At EOF,
/// [`handle_eof`](Self::handle_eof) says where the proxy gave up.
///
/// ```
/// use ws_session::proxy::{Socks5Client, SocksError, SocksReply, SocksTarget};
///
/// let target = SocksTarget::Name("example.com".into(), 443);
/// let mut client = Socks5Client::new(&target, None)?;
/// assert_eq!(client.poll_transmit(), Some(vec![5, 1, 0])); // no authentication
/// assert_eq!(client.handle_data(&[5, 0])?, 2);
/// let request = client.poll_transmit().unwrap();
/// assert_eq!(&request[..5], &[5, 1, 0, 3, 11]); // CONNECT, a name of 11 bytes
/// // "Connection refused", by name.
/// assert_eq!(
///     client.handle_data(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
///     Err(SocksError::Refused(SocksReply::ConnectionRefused))
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Socks5Client {
    state: State,
    transmit: Vec<u8>,
    received: Vec<u8>,
    auth: Option<Vec<u8>>,
    request: Vec<u8>,
    bound: Option<SocksTarget>,
}

impl Socks5Client {
    /// Starts the handshake for `target`, offering username/password
    /// authentication too when `credentials` are given.
    pub fn new(
        target: &SocksTarget,
        credentials: Option<&Credentials>,
    ) -> Result<Self, SocksSetupError> {
        let mut request = vec![VERSION, CONNECT, 0];
        let port = match target {
            SocksTarget::Addr(addr) => {
                match addr.ip() {
                    IpAddr::V4(ip) => {
                        request.push(ATYP_V4);
                        request.extend_from_slice(&ip.octets());
                    }
                    IpAddr::V6(ip) => {
                        request.push(ATYP_V6);
                        request.extend_from_slice(&ip.octets());
                    }
                }
                addr.port()
            }
            SocksTarget::Name(name, port) => {
                let len = u8::try_from(name.len())
                    .ok()
                    .filter(|&len| len > 0)
                    .ok_or(SocksSetupError::NameLength(name.len()))?;
                request.extend_from_slice(&[ATYP_NAME, len]);
                request.extend_from_slice(name.as_bytes());
                *port
            }
        };
        request.extend_from_slice(&port.to_be_bytes());
        let auth = credentials.map(auth_request).transpose()?;
        let transmit = if auth.is_some() {
            vec![VERSION, 2, NO_AUTH, PASSWORD]
        } else {
            vec![VERSION, 1, NO_AUTH]
        };
        Ok(Socks5Client {
            state: State::Method,
            transmit,
            received: Vec::new(),
            auth,
            request,
            bound: None,
        })
    }

    /// The bytes to send to the proxy now, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.transmit.is_empty()).then(|| std::mem::take(&mut self.transmit))
    }

    /// How many more bytes the current step needs at least (0 once
    /// established or failed). Reading no more than this never takes a
    /// byte of the tunnel.
    #[must_use]
    pub fn wants(&self) -> usize {
        let needed = match self.state {
            State::Method | State::Auth => 2,
            State::Reply => reply_len(&self.received).unwrap_or(5),
            State::Done | State::Failed => return 0,
        };
        needed - self.received.len()
    }

    /// Feeds bytes from the proxy; returns how many belong to the
    /// handshake (the rest, after the last reply, are the tunnel's). An
    /// error ends the handshake.
    pub fn handle_data(&mut self, mut data: &[u8]) -> Result<usize, SocksError> {
        let mut consumed = 0;
        while !data.is_empty() && self.wants() > 0 {
            let take = self.wants().min(data.len());
            self.received.extend_from_slice(&data[..take]);
            data = &data[take..];
            consumed += take;
            if let Err(e) = self.step() {
                self.state = State::Failed;
                return Err(e);
            }
        }
        Ok(consumed)
    }

    /// The proxy closed the connection: where it was.
    #[must_use]
    pub fn handle_eof(&mut self) -> SocksError {
        let stage = match self.state {
            State::Method => SocksStage::Method,
            State::Auth => SocksStage::Auth,
            State::Reply | State::Done | State::Failed => SocksStage::Reply,
        };
        self.state = State::Failed;
        SocksError::Closed(stage)
    }

    /// Whether the proxy has opened the tunnel.
    #[must_use]
    pub fn is_established(&self) -> bool {
        self.state == State::Done
    }

    /// The address the proxy connected from (its reply's `BND.ADDR`),
    /// once established.
    #[must_use]
    pub fn bound(&self) -> Option<&SocksTarget> {
        self.bound.as_ref()
    }

    /// Acts on what has been received of the current step.
    fn step(&mut self) -> Result<(), SocksError> {
        let got = &self.received;
        match self.state {
            State::Method if got.len() == 2 => {
                if got[0] != VERSION {
                    return Err(SocksError::Version(got[0]));
                }
                match (got[1], &self.auth) {
                    (NO_AUTH, _) => self.send_request(),
                    (PASSWORD, Some(auth)) => {
                        self.transmit = auth.clone();
                        self.state = State::Auth;
                    }
                    (PASSWORD, None) => return Err(SocksError::PasswordWanted),
                    (NO_ACCEPTABLE, _) => return Err(SocksError::NoAcceptableMethod),
                    (method, _) => return Err(SocksError::UnofferedMethod(method)),
                }
                self.received.clear();
            }
            // RFC 1929 §2: VER 1, STATUS; like curl, only the status is
            // checked (some servers echo version 5).
            State::Auth if got.len() == 2 => {
                if got[1] != 0 {
                    return Err(SocksError::AuthStatus(got[1]));
                }
                self.received.clear();
                self.send_request();
            }
            State::Reply => {
                if got[0] != VERSION {
                    return Err(SocksError::Version(got[0]));
                }
                if let Some(reply) = got.get(1).copied().and_then(SocksReply::from_code) {
                    return Err(SocksError::Refused(reply));
                }
                match got.get(3) {
                    Some(&atyp) if !matches!(atyp, ATYP_V4 | ATYP_NAME | ATYP_V6) => {
                        return Err(SocksError::AddressType(atyp));
                    }
                    _ => {}
                }
                if reply_len(got) == Some(got.len()) {
                    self.bound = Some(bound_address(got));
                    self.state = State::Done;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn send_request(&mut self) {
        self.transmit = std::mem::take(&mut self.request);
        self.state = State::Reply;
    }
}

/// RFC 1929 §2: VER 1, ULEN, UNAME, PLEN, PASSWD.
fn auth_request(credentials: &Credentials) -> Result<Vec<u8>, CredentialsError> {
    let (user, password) = (credentials.username(), credentials.password());
    let user_len = u8::try_from(user.len())
        .ok()
        .filter(|&len| len > 0)
        .ok_or(CredentialsError::UsernameLength(user.len()))?;
    let password_len = u8::try_from(password.len())
        .map_err(|_| CredentialsError::PasswordLength(password.len()))?;
    let mut auth = vec![1, user_len];
    auth.extend_from_slice(user.as_bytes());
    auth.push(password_len);
    auth.extend_from_slice(password.as_bytes());
    Ok(auth)
}

/// The whole length of a reply whose first bytes are `got`, once its
/// address type (and a name's length) is known.
fn reply_len(got: &[u8]) -> Option<usize> {
    match *got.get(3)? {
        ATYP_V4 => Some(4 + 4 + 2),
        ATYP_V6 => Some(4 + 16 + 2),
        ATYP_NAME => got.get(4).map(|&len| 5 + usize::from(len) + 2),
        _ => None,
    }
}

/// `BND.ADDR` and `BND.PORT` of a whole reply.
fn bound_address(reply: &[u8]) -> SocksTarget {
    let port = u16::from_be_bytes([reply[reply.len() - 2], reply[reply.len() - 1]]);
    let addr = &reply[4..reply.len() - 2];
    match reply[3] {
        ATYP_V4 => SocksTarget::Addr(SocketAddr::new(
            Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).into(),
            port,
        )),
        ATYP_V6 => {
            let octets: [u8; 16] = addr.try_into().unwrap_or([0; 16]);
            SocksTarget::Addr(SocketAddr::new(Ipv6Addr::from(octets).into(), port))
        }
        _ => SocksTarget::Name(String::from_utf8_lossy(&addr[1..]).into_owned(), port),
    }
}

#[cfg(test)]
mod tests;
