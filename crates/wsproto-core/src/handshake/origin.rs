//! The Origin policy of a server: which web pages may open WebSockets on it
//! (RFC 6455 §10.2, origins as in RFC 6454), against cross-site WebSocket
//! hijacking (see [`OriginPolicy`]).

use http::header::{self, HeaderMap, HeaderValue};

/// Which `Origin`s may open a WebSocket: a field of the server's
/// [`Config`](crate::Config) ([`Config::with_origin_policy`](crate::Config::with_origin_policy)),
/// so our own accept path, the hyper function and the axum extractor all
/// apply the same policy. A refused request is answered `403 Forbidden`
/// ([`RequestError::ForbiddenOrigin`](super::RequestError::ForbiddenOrigin))
/// and no session is created.
///
/// Why it matters: a browser attaches the user's cookies (and HTTP
/// authentication, client certificates) to a WebSocket request that *any*
/// page makes, and the same-origin policy does not stop that page from
/// reading the answers. Without an Origin check, a page on
/// `https://evil.example` that a logged-in user visits can open a socket to
/// your server as that user and talk to it: cross-site WebSocket hijacking
/// (CSWSH). Browsers always send `Origin` on WebSocket requests and scripts
/// cannot change it, so refusing foreign origins closes that hole. A
/// non-browser client may send any `Origin` or none: this protects browser
/// users, it does not authenticate clients.
///
/// The default, [`any`](Self::any), checks nothing (right for servers that
/// no browser reaches with credentials, and for tests). A server that uses
/// cookies or HTTP authentication should restrict origins.
///
/// | policy | allows |
/// | --- | --- |
/// | [`any`](Self::any) | every request |
/// | [`same_host`](Self::same_host) | `Origin` whose host and port equal the request's `Host` (HTTP/1.1) or `:authority` (HTTP/2) |
/// | [`allow_list`](Self::allow_list) | exactly the listed origins (scheme, host, port; default ports may be left out) |
/// | `same_host().allow(o)` | either |
///
/// A request **without** `Origin` is allowed by every policy unless
/// [`refuse_missing`](Self::refuse_missing) is set: browsers always send
/// one, so a missing `Origin` means a non-browser client, which could as
/// well have sent a matching one.
///
/// ```
/// use wsproto_core::handshake::OriginPolicy;
///
/// let policy = OriginPolicy::same_host().allow("https://admin.example.com");
/// assert!(policy.is_allowed(Some("https://chat.example.com"), Some("chat.example.com")));
/// assert!(policy.is_allowed(Some("https://admin.example.com"), Some("chat.example.com")));
/// assert!(!policy.is_allowed(Some("https://evil.example"), Some("chat.example.com")));
/// assert!(policy.is_allowed(None, Some("chat.example.com")));
/// assert!(!policy.refuse_missing().is_allowed(None, Some("chat.example.com")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// `false`: [`any`](Self::any), nothing is checked.
    restricted: bool,
    same_host: bool,
    /// Normalised: lower case, default port made explicit.
    allowed: Vec<Origin>,
    allow_missing: bool,
}

impl Default for OriginPolicy {
    /// [`OriginPolicy::any`].
    fn default() -> Self {
        Self::any()
    }
}

impl OriginPolicy {
    /// No check: every request is allowed whatever its `Origin`.
    #[must_use]
    pub fn any() -> Self {
        OriginPolicy {
            restricted: false,
            same_host: false,
            allowed: Vec::new(),
            allow_missing: true,
        }
    }

    /// Allows pages served by this same host: the `Origin`'s host and port
    /// equal the request's `Host` (or HTTP/2 `:authority`). A missing port
    /// is the default port of the `Origin`'s scheme on both sides (80 for
    /// `http`, 443 for `https`), so `Host: example.com` matches
    /// `https://example.com` and `http://example.com`, and
    /// `Host: example.com:8080` matches `http://example.com:8080`.
    #[must_use]
    pub fn same_host() -> Self {
        OriginPolicy {
            restricted: true,
            same_host: true,
            ..Self::any()
        }
    }

    /// Allows exactly these origins (`https://app.example.com`,
    /// `http://localhost:8080`): scheme, host and port must match, ASCII
    /// case-insensitively, a default port written or not. The literal
    /// `null` (sandboxed frames, `file:` pages) may be listed too. An entry
    /// that is not an origin matches nothing.
    #[must_use]
    pub fn allow_list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        origins
            .into_iter()
            .fold(OriginPolicy::none(), |policy, o| policy.allow(o.as_ref()))
    }

    /// Adds one allowed origin (see [`allow_list`](Self::allow_list)); on
    /// [`any`](Self::any), turns checking on with only this origin allowed.
    #[must_use]
    pub fn allow(mut self, origin: &str) -> Self {
        self.restricted = true;
        if let Some(origin) = Origin::parse(origin) {
            self.allowed.push(origin);
        }
        self
    }

    /// Refuses requests that carry no `Origin` (by default they are
    /// allowed: see the type's docs).
    #[must_use]
    pub fn refuse_missing(mut self) -> Self {
        self.restricted = true;
        self.allow_missing = false;
        self
    }

    /// Whether this policy checks anything ([`any`](Self::any) does not).
    #[must_use]
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    /// A restricted policy that allows nothing yet.
    fn none() -> Self {
        OriginPolicy {
            restricted: true,
            ..Self::any()
        }
    }

    /// Whether a request with this `Origin` value (`None`: no `Origin`
    /// field) to this `Host`/`:authority` (`None`: unknown) is allowed.
    #[must_use]
    pub fn is_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        if !self.restricted {
            return true;
        }
        let Some(origin) = origin else {
            return self.allow_missing;
        };
        let Some(origin) = Origin::parse(origin) else {
            return false;
        };
        if self.allowed.contains(&origin) {
            return true;
        }
        self.same_host && host.is_some_and(|host| origin.is_host(host))
    }

    /// The check the negotiation runs: the request's `Origin` fields
    /// (several, or one that is not text, are refused on a restricted
    /// policy) against `authority`.
    pub(crate) fn check(&self, headers: &HeaderMap, authority: Option<&str>) -> bool {
        if !self.restricted {
            return true;
        }
        let mut values = headers.get_all(header::ORIGIN).iter();
        match (values.next(), values.next()) {
            (None, _) => self.allow_missing,
            (Some(value), None) => value
                .to_str()
                .is_ok_and(|origin| self.is_allowed(Some(origin), authority)),
            (Some(_), Some(_)) => false,
        }
    }
}

/// The first `Origin` field, for the error (`None` when absent).
pub(crate) fn origin_of(headers: &HeaderMap) -> Option<HeaderValue> {
    headers.get(header::ORIGIN).cloned()
}

/// An origin, normalised for comparison: `null`, or a lower-case scheme and
/// host with the port made explicit when the scheme has a default.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

impl Origin {
    fn parse(text: &str) -> Option<Origin> {
        let text = text.trim().trim_end_matches('/');
        if text.eq_ignore_ascii_case("null") {
            return Some(Origin::Null);
        }
        let (scheme, rest) = text.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (host, port) = split_host_port(rest)?;
        let port = port.or_else(|| default_port(&scheme));
        Some(Origin::Tuple { scheme, host, port })
    }

    /// Whether this origin's host and port are `authority`'s (a `Host`
    /// value), a missing port on either side being the scheme's default.
    fn is_host(&self, authority: &str) -> bool {
        let Origin::Tuple { scheme, host, port } = self else {
            return false;
        };
        let Some((other_host, other_port)) = split_host_port(authority.trim()) else {
            return false;
        };
        *host == other_host && *port == other_port.or_else(|| default_port(scheme))
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// `host[:port]` or `[v6]:port`, the host lower-cased. `None` for a path,
/// user info, an empty host or a bad port.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&authority[..v6.len() + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains(':') && !host.starts_with('[') {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_allows_everything() {
        let any = OriginPolicy::default();
        assert!(!any.is_restricted());
        assert!(any.is_allowed(Some("https://evil.example"), Some("a.example")));
        assert!(any.is_allowed(Some("not an origin"), None));
        assert!(any.is_allowed(None, None));
    }

    #[test]
    fn same_host_compares_host_and_port_with_scheme_defaults() {
        let p = OriginPolicy::same_host();
        for (origin, host, allowed) in [
            ("https://example.com", "example.com", true),
            ("http://example.com", "example.com", true),
            ("HTTPS://Example.COM", "example.com", true),
            ("https://example.com:443", "example.com", true),
            ("https://example.com", "example.com:443", true),
            ("http://example.com", "example.com:443", false),
            ("http://example.com:8080", "example.com:8080", true),
            ("http://example.com:8080", "example.com", false),
            ("http://example.com", "example.com:8080", false),
            ("https://example.com.evil.example", "example.com", false),
            ("https://evil.example", "example.com", false),
            ("http://[::1]:9001", "[::1]:9001", true),
            ("http://[::1]:9001", "[::1]:9002", false),
            ("http://127.0.0.1:9001", "127.0.0.1:9001", true),
            ("null", "example.com", false),
            ("https://example.com/path", "example.com", false),
            ("https://user@example.com", "example.com", false),
            ("example.com", "example.com", false),
            ("https://example.com:99999", "example.com", false),
        ] {
            assert_eq!(
                p.is_allowed(Some(origin), Some(host)),
                allowed,
                "{origin} on {host}"
            );
        }
        // The host must be known.
        assert!(!p.is_allowed(Some("https://example.com"), None));
        assert!(p.is_allowed(None, None), "no Origin: not a browser");
    }

    #[test]
    fn allow_list_is_exact_up_to_case_and_default_ports() {
        let p = OriginPolicy::allow_list(["https://app.example.com", "http://localhost:8080/"]);
        assert!(p.is_restricted());
        for (origin, allowed) in [
            ("https://app.example.com", true),
            ("https://APP.example.com", true),
            ("https://app.example.com:443", true),
            ("http://app.example.com", false),
            ("https://app.example.com:8443", false),
            ("https://example.com", false),
            ("http://localhost:8080", true),
            ("http://localhost", false),
            ("null", false),
        ] {
            assert_eq!(p.is_allowed(Some(origin), Some("x")), allowed, "{origin}");
        }
        let with_null = OriginPolicy::allow_list(["null"]);
        assert!(with_null.is_allowed(Some("null"), None));
        // An empty list refuses every browser.
        let empty = OriginPolicy::allow_list(Vec::<String>::new());
        assert!(!empty.is_allowed(Some("https://app.example.com"), Some("app.example.com")));
        assert!(empty.is_allowed(None, None));
    }

    #[test]
    fn missing_several_and_non_text_origin_fields() {
        let p = OriginPolicy::same_host().refuse_missing();
        let mut headers = HeaderMap::new();
        assert!(!p.check(&headers, Some("a.example")));
        assert!(OriginPolicy::same_host().check(&headers, Some("a.example")));
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://a.example"));
        assert!(p.check(&headers, Some("a.example")));
        headers.append(header::ORIGIN, HeaderValue::from_static("http://a.example"));
        assert!(!p.check(&headers, Some("a.example")), "two Origin fields");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_bytes(b"http://\xe9.example").unwrap(),
        );
        assert!(!p.check(&headers, Some("\u{e9}.example")));
        assert!(OriginPolicy::any().check(&headers, None));
    }
}
