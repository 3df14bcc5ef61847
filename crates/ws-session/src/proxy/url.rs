//! [`Proxy`]: where a proxy is and how to talk to it, parsed from a URL
//! the way curl reads `--proxy` and the proxy environment variables.

use std::fmt;
use std::str::FromStr;

/// How the client talks to the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyScheme {
    /// `http://`: an HTTP proxy asked for a tunnel with `CONNECT`.
    Http,
    /// `https://`: the same over TLS to the proxy (the adapter supplies the
    /// TLS step; the name checked is the proxy's).
    Https,
    /// `socks5://`: SOCKS5 (RFC 1928), the target's name resolved by the
    /// client and sent as an address.
    Socks5,
    /// `socks5h://`: SOCKS5 with the target's name sent to the proxy, which
    /// resolves it (for names only the proxy's network knows).
    Socks5h,
}

impl ProxyScheme {
    /// The scheme as written in a proxy URL.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Https => "https",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
        }
    }

    /// The port used when the URL names none: 443 for `https://`, 1080 for
    /// the others (curl's defaults).
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            ProxyScheme::Https => 443,
            _ => 1080,
        }
    }

    /// Whether the connection to the proxy itself is TLS.
    #[must_use]
    pub fn is_tls(self) -> bool {
        self == ProxyScheme::Https
    }

    /// Whether this is a SOCKS5 proxy (`socks5://` or `socks5h://`).
    #[must_use]
    pub fn is_socks(self) -> bool {
        matches!(self, ProxyScheme::Socks5 | ProxyScheme::Socks5h)
    }
}

impl fmt::Display for ProxyScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user name and password for the proxy: HTTP Basic
/// (`Proxy-Authorization`) or SOCKS5 username/password (RFC 1929). The
/// password never appears in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// A user name and password, as they are (not percent-encoded).
    #[must_use]
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The user name.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where a proxy is, without its credentials: what errors name.
/// Displays as `scheme://host:port` (IPv6 hosts in brackets).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProxyAddr {
    /// How the client talks to it.
    pub scheme: ProxyScheme,
    /// Its host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Its port.
    pub port: u16,
}

impl fmt::Display for ProxyAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, HostPort(&self.host, self.port))
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub(crate) struct HostPort<'a>(pub &'a str, pub u16);

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]:{}", self.0, self.1)
        } else {
            write!(f, "{}:{}", self.0, self.1)
        }
    }
}

/// A proxy: scheme, host, port and optional credentials.
///
/// Parsed from a URL like curl's `--proxy`:
/// `[scheme://][user[:password]@]host[:port][/]`. Without a scheme it is an
/// HTTP proxy; without a port it is 1080 (443 for `https://`); the user
/// name and password are percent-decoded (`%40` for `@`, `%3A` for `:`);
/// a path is ignored.
///
/// ```
/// use ws_session::proxy::{Proxy, ProxyScheme};
///
/// let proxy: Proxy = "socks5h://ann:s%40fe@[::1]:9050".parse()?;
/// assert_eq!(proxy.scheme(), ProxyScheme::Socks5h);
/// assert_eq!((proxy.host(), proxy.port()), ("::1", 9050));
/// assert_eq!(proxy.credentials().unwrap().password(), "s@fe");
/// // The password is never shown.
/// assert_eq!(proxy.to_string(), "socks5h://[::1]:9050");
/// assert!(!format!("{proxy:?}").contains("s@fe"));
/// # Ok::<(), ws_session::proxy::ProxyUrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    addr: ProxyAddr,
    credentials: Option<Credentials>,
}

impl Proxy {
    /// A proxy at `host:port` (an IPv6 address without brackets), without
    /// credentials.
    #[must_use]
    pub fn new(scheme: ProxyScheme, host: impl Into<String>, port: u16) -> Self {
        Proxy {
            addr: ProxyAddr {
                scheme,
                host: host.into(),
                port,
            },
            credentials: None,
        }
    }

    /// Parses a proxy URL (see the type's documentation).
    pub fn parse(url: &str) -> Result<Self, ProxyUrlError> {
        parse(url)
    }

    /// The same proxy with these credentials (replacing any from the URL).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How the client talks to the proxy.
    #[must_use]
    pub fn scheme(&self) -> ProxyScheme {
        self.addr.scheme
    }

    /// The proxy's host name or IP address (IPv6 without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.addr.host
    }

    /// The proxy's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port
    }

    /// The credentials, if any.
    #[must_use]
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Where the proxy is, without credentials (what errors name).
    #[must_use]
    pub fn addr(&self) -> &ProxyAddr {
        &self.addr
    }
}

impl fmt::Display for Proxy {
    /// `scheme://host:port`: never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.fmt(f)
    }
}

impl FromStr for Proxy {
    type Err = ProxyUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why a proxy URL was refused. The message quotes the URL without its
/// userinfo, so no password reaches a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyUrlError {
    /// A scheme other than `http`, `https`, `socks5` and `socks5h`.
    #[error(
        "unsupported proxy scheme {scheme:?} in {url:?}: use http://, https://, socks5:// or socks5h://"
    )]
    UnsupportedScheme {
        /// The scheme as written.
        scheme: String,
        /// The URL, without userinfo.
        url: String,
    },
    /// No host after the scheme (and userinfo).
    #[error("the proxy URL {url:?} has no host")]
    MissingHost {
        /// The URL, without userinfo.
        url: String,
    },
    /// The port is not a number from 1 to 65535.
    #[error("the proxy URL {url:?} has an invalid port (a number from 1 to 65535 is needed)")]
    InvalidPort {
        /// The URL, without userinfo.
        url: String,
    },
    /// An IPv6 host without its closing `]`, or a host with characters no
    /// host name has.
    #[error("the proxy URL {url:?} has an invalid host")]
    InvalidHost {
        /// The URL, without userinfo.
        url: String,
    },
    /// The user name or password is not valid percent-encoded UTF-8.
    #[error(
        "the user name or password in the proxy URL {url:?} is not valid percent-encoded UTF-8"
    )]
    InvalidUserinfo {
        /// The URL, without userinfo.
        url: String,
    },
}

fn parse(input: &str) -> Result<Proxy, ProxyUrlError> {
    let input = input.trim();
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, input),
    };
    // Up to the first '/', '?' or '#': the authority; a path is ignored.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let shown = match scheme {
        Some(scheme) => format!("{scheme}://{hostport}"),
        None => hostport.to_owned(),
    };
    let scheme = match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("http") => ProxyScheme::Http,
        Some("https") => ProxyScheme::Https,
        Some("socks5") => ProxyScheme::Socks5,
        Some("socks5h") => ProxyScheme::Socks5h,
        Some(other) => {
            return Err(ProxyUrlError::UnsupportedScheme {
                scheme: other.to_owned(),
                url: shown,
            });
        }
    };
    let (host, port) = split_host_port(hostport)
        .ok_or_else(|| ProxyUrlError::InvalidHost { url: shown.clone() })?;
    if host.is_empty() {
        return Err(ProxyUrlError::MissingHost { url: shown });
    }
    if !is_host(host) {
        return Err(ProxyUrlError::InvalidHost { url: shown });
    }
    let port = match port {
        None | Some("") => scheme.default_port(),
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(ProxyUrlError::InvalidPort { url: shown }),
        },
    };
    let mut proxy = Proxy::new(scheme, host, port);
    if let Some(userinfo) = userinfo {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let decode =
            |s| percent_decode(s).ok_or(ProxyUrlError::InvalidUserinfo { url: shown.clone() });
        proxy.credentials = Some(Credentials::new(decode(user)?, decode(password)?));
    }
    Ok(proxy)
}

/// `host[:port]` or `[v6][:port]`; `None` for an unclosed bracket or junk
/// after it.
fn split_host_port(hostport: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    Some(match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

/// Whether `host` is a plausible host: letters, digits, `-`, `.`, `_`,
/// `%` (percent-encoded names), or an IPv6 address.
pub(crate) fn is_host(host: &str) -> bool {
    !host.is_empty()
        && (host.parse::<std::net::Ipv6Addr>().is_ok()
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'%')))
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not
/// UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Credentials a proxy protocol cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// SOCKS5 (RFC 1929) carries a user name of 1 to 255 bytes.
    #[error("a SOCKS5 user name has 1 to 255 bytes, not {0}")]
    UsernameLength(usize),
    /// SOCKS5 (RFC 1929) carries a password of at most 255 bytes.
    #[error("a SOCKS5 password has at most 255 bytes, not {0}")]
    PasswordLength(usize),
    /// HTTP Basic (RFC 7617 §2) cannot carry a `:` in the user name.
    #[error("an HTTP Basic user name cannot contain ':'")]
    ColonInUsername,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (ProxyScheme, String, u16, Option<(String, String)>) {
        let proxy = Proxy::parse(url).unwrap();
        let creds = proxy
            .credentials()
            .map(|c| (c.username().to_owned(), c.password().to_owned()));
        (proxy.scheme(), proxy.host().to_owned(), proxy.port(), creds)
    }

    #[test]
    fn schemes_hosts_ports_and_curl_defaults() {
        use ProxyScheme::*;
        let cases = [
            ("http://proxy:3128", Http, "proxy", 3128),
            ("proxy.corp", Http, "proxy.corp", 1080),
            ("HTTP://Proxy:8080/", Http, "Proxy", 8080),
            ("https://proxy", Https, "proxy", 443),
            ("socks5://127.0.0.1", Socks5, "127.0.0.1", 1080),
            ("socks5h://[::1]:9050", Socks5h, "::1", 9050),
            ("http://[2001:db8::1]", Http, "2001:db8::1", 1080),
            ("http://proxy:8080/ignored/path?q", Http, "proxy", 8080),
            ("  http://proxy:1  ", Http, "proxy", 1),
        ];
        for (url, scheme, host, port) in cases {
            assert_eq!(parsed(url), (scheme, host.to_owned(), port, None), "{url}");
        }
    }

    #[test]
    fn userinfo_is_percent_decoded_and_never_shown() {
        let (_, _, _, creds) = parsed("http://us%40er:p%3Ass%20w@proxy:1");
        assert_eq!(creds, Some(("us@er".into(), "p:ss w".into())));
        let (_, _, _, creds) = parsed("socks5://ann@proxy");
        assert_eq!(creds, Some(("ann".into(), String::new())));
        // '@' in the password, unescaped: the last '@' ends the userinfo.
        let (_, host, _, creds) = parsed("http://ann:a@b@proxy:1");
        assert_eq!(
            (host.as_str(), creds),
            ("proxy", Some(("ann".into(), "a@b".into())))
        );
        let proxy = Proxy::parse("http://ann:secret@proxy:1").unwrap();
        assert_eq!(proxy.to_string(), "http://proxy:1");
        assert!(!format!("{proxy:?}").contains("secret"));
    }

    #[test]
    fn bad_urls_are_typed_errors_without_the_password() {
        let err = Proxy::parse("socks4://ann:secret@proxy:1").unwrap_err();
        assert!(
            matches!(err, ProxyUrlError::UnsupportedScheme { ref scheme, .. } if scheme == "socks4")
        );
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(matches!(
            Proxy::parse("http://:80"),
            Err(ProxyUrlError::MissingHost { .. })
        ));
        assert!(matches!(
            Proxy::parse("http://"),
            Err(ProxyUrlError::MissingHost { .. })
        ));
        for port in ["0", "65536", "x", "-1"] {
            let url = format!("http://proxy:{port}");
            assert!(
                matches!(Proxy::parse(&url), Err(ProxyUrlError::InvalidPort { .. })),
                "{url}"
            );
        }
        for host in [
            "http://[::1",
            "http://[::1]x",
            "http://[nope]:1",
            "http://pro xy:1",
            "http://a\r\nb:1",
        ] {
            assert!(
                matches!(Proxy::parse(host), Err(ProxyUrlError::InvalidHost { .. })),
                "{host:?}"
            );
        }
        assert!(matches!(
            Proxy::parse("http://%zz:x@proxy"),
            Err(ProxyUrlError::InvalidUserinfo { .. })
        ));
        assert!(matches!(
            Proxy::parse("http://%ff:x@proxy"),
            Err(ProxyUrlError::InvalidUserinfo { .. })
        ));
    }

    #[test]
    fn explicit_credentials_replace_the_urls() {
        let proxy = Proxy::parse("http://a:b@proxy:1")
            .unwrap()
            .with_credentials(Credentials::new("c", "d"));
        assert_eq!(proxy.credentials(), Some(&Credentials::new("c", "d")));
    }
}
