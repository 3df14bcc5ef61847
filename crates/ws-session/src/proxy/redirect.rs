//! Following redirects of the upgrade request, as a pure state machine:
//! [`Redirects`] is given each refused upgrade response and answers with
//! the next URL to try, or why not.
//!
//! - 301, 302, 303, 307 and 308 with a `Location` are followed (the
//!   upgrade is a GET either way); a relative `Location` is resolved
//!   against the current URL (RFC 3986 §5.2).
//! - `http://` maps to `ws://` and `https://` to `wss://`; any other
//!   scheme is refused, and so is `wss://` to `ws://` (a downgrade).
//! - A URL seen before is a loop; more hops than the maximum is an error.
//! - On a hop to another origin (scheme, host or port), the headers that
//!   carry credentials ([`CREDENTIAL_HEADERS`]) must be dropped
//!   ([`Redirect::strip_credentials`]); userinfo in a `Location` is never
//!   kept.

use std::fmt;

use http::header::{AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderName, StatusCode, Uri};

/// The request headers dropped on a hop to another origin.
pub const CREDENTIAL_HEADERS: [HeaderName; 3] = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION];

/// Whether `status` is one of the redirects followed (301, 302, 303, 307,
/// 308).
#[must_use]
pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The `ws://` or `wss://` URL to connect to.
    pub url: Uri,
    /// Whether it is another origin than the URL redirected from.
    pub cross_origin: bool,
}

impl Redirect {
    /// Removes [`CREDENTIAL_HEADERS`] from `headers` if this hop goes to
    /// another origin.
    pub fn strip_credentials(&self, headers: &mut HeaderMap) {
        if self.cross_origin {
            for name in &CREDENTIAL_HEADERS {
                headers.remove(name);
            }
        }
    }
}

/// Why a redirect is not followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// The status is not a redirect that is followed.
    #[error("{status} from {from} is not a redirect (301, 302, 303, 307 or 308)")]
    NotRedirect {
        /// The URL that answered.
        from: Uri,
        /// Its status.
        status: StatusCode,
    },
    /// No (readable) `Location` header.
    #[error("the {status} redirect from {from} has no Location header")]
    MissingLocation {
        /// The URL that answered.
        from: Uri,
        /// Its status.
        status: StatusCode,
    },
    /// The `Location` is not a URL (or a reference that resolves to one).
    #[error("the redirect from {from} points to {location:?}, which is not a valid URL")]
    InvalidLocation {
        /// The URL that answered.
        from: Uri,
        /// The `Location` as sent (lossily decoded).
        location: String,
    },
    /// The `Location` has a scheme other than ws, wss, http and https.
    #[error(
        "the redirect from {from} points to {location:?}: only ws://, wss://, http:// and https:// are followed"
    )]
    Scheme {
        /// The URL that answered.
        from: Uri,
        /// The `Location` as sent.
        location: String,
    },
    /// From `wss://` to `ws://` (or `http://`): refused, the connection
    /// would lose TLS.
    #[error("the redirect from {from} to {to} would downgrade wss:// to ws://: refused")]
    Downgrade {
        /// The secure URL.
        from: Uri,
        /// The plain one it points to.
        to: Uri,
    },
    /// The URL was visited before in this chain.
    #[error("redirect loop: {to} was already visited ({})", Chain(.chain))]
    Loop {
        /// The URL seen again.
        to: Uri,
        /// Every URL of the chain, in order.
        chain: Vec<Uri>,
    },
    /// More redirects than allowed.
    #[error("too many redirects: more than {max} (the last from {from} to {to})")]
    TooMany {
        /// The maximum.
        max: usize,
        /// The URL that answered last.
        from: Uri,
        /// Where it pointed.
        to: Uri,
    },
}

struct Chain<'a>(&'a [Uri]);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, uri) in self.0.iter().enumerate() {
            write!(f, "{}{uri}", if i == 0 { "" } else { " -> " })?;
        }
        Ok(())
    }
}

/// A chain of redirects from a first URL, followed up to a maximum.
///
/// ```
/// use http::{HeaderMap, HeaderValue, StatusCode, header};
/// use ws_session::proxy::{RedirectError, Redirects};
///
/// let mut chain = Redirects::new("wss://a.example/chat".parse()?, 5);
/// let mut headers = HeaderMap::new();
/// headers.insert(header::LOCATION, HeaderValue::from_static("https://b.example/v2/chat"));
/// let hop = chain.follow(StatusCode::MOVED_PERMANENTLY, &headers)?;
/// assert_eq!(hop.url, "wss://b.example/v2/chat");
/// assert!(hop.cross_origin); // drop Authorization and Cookie before the next request
///
/// headers.insert(header::LOCATION, HeaderValue::from_static("ws://b.example/v2/chat"));
/// let refused = chain.follow(StatusCode::FOUND, &headers).unwrap_err();
/// assert!(matches!(refused, RedirectError::Downgrade { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Redirects {
    max: usize,
    /// The first URL, then each one followed.
    chain: Vec<Uri>,
}

impl Redirects {
    /// A chain starting at `start` (a `ws://` or `wss://` URL), following at
    /// most `max` redirects.
    #[must_use]
    pub fn new(start: Uri, max: usize) -> Self {
        Redirects {
            max,
            chain: vec![start],
        }
    }

    /// The URL to connect to now: the first, or the last one followed.
    #[must_use]
    pub fn current(&self) -> &Uri {
        &self.chain[self.chain.len() - 1]
    }

    /// How many redirects were followed.
    #[must_use]
    pub fn followed(&self) -> usize {
        self.chain.len() - 1
    }

    /// Every URL so far, the first one first.
    #[must_use]
    pub fn chain(&self) -> &[Uri] {
        &self.chain
    }

    /// The current URL answered the upgrade with `status` and `headers`:
    /// the next hop (now [`current`](Self::current)), or why not.
    #[allow(clippy::result_large_err)] // once per redirect: not worth a box
    pub fn follow(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Redirect, RedirectError> {
        let from = self.current().clone();
        if !is_redirect(status) {
            return Err(RedirectError::NotRedirect { from, status });
        }
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| RedirectError::MissingLocation {
                from: from.clone(),
                status,
            })?;
        let to = resolve(&from, location)?;
        if is_secure(&from) && !is_secure(&to) {
            return Err(RedirectError::Downgrade { from, to });
        }
        if self.chain.iter().any(|seen| same_url(seen, &to)) {
            let mut chain = self.chain.clone();
            chain.push(to.clone());
            return Err(RedirectError::Loop { to, chain });
        }
        if self.followed() >= self.max {
            return Err(RedirectError::TooMany {
                max: self.max,
                from,
                to,
            });
        }
        let cross_origin = origin(&from) != origin(&to);
        self.chain.push(to.clone());
        Ok(Redirect {
            url: to,
            cross_origin,
        })
    }
}

fn is_secure(uri: &Uri) -> bool {
    uri.scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("wss") || s.eq_ignore_ascii_case("https"))
}

/// Scheme, lowercase host, and port (the default filled in).
fn origin(uri: &Uri) -> (bool, String, u16) {
    let secure = is_secure(uri);
    let host = uri.host().unwrap_or_default().to_ascii_lowercase();
    (
        secure,
        host,
        uri.port_u16().unwrap_or(if secure { 443 } else { 80 }),
    )
}

fn same_url(a: &Uri, b: &Uri) -> bool {
    let path = |u: &Uri| u.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    origin(a) == origin(b) && path(a) == path(b)
}

/// Resolves `location` against `base` (RFC 3986 §5.2.2), maps the scheme
/// to ws/wss and drops userinfo and fragment.
#[allow(clippy::result_large_err)] // see `follow`
fn resolve(base: &Uri, location: &str) -> Result<Uri, RedirectError> {
    let invalid = || RedirectError::InvalidLocation {
        from: base.clone(),
        location: location.to_owned(),
    };
    let reference = location.split('#').next().unwrap_or_default();
    let (reference, query) = match reference.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (reference, None),
    };
    let scheme_end = reference.find(':').filter(|&i| {
        let scheme = &reference[..i];
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    let (scheme, rest) = match scheme_end {
        Some(i) => (reference[..i].to_ascii_lowercase(), &reference[i + 1..]),
        None => (
            base.scheme_str().unwrap_or("ws").to_ascii_lowercase(),
            reference,
        ),
    };
    let scheme = match scheme.as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => {
            return Err(RedirectError::Scheme {
                from: base.clone(),
                location: location.to_owned(),
            });
        }
    };
    let base_path = base.path();
    let (authority, path, query) = if let Some(rest) = rest.strip_prefix("//") {
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        (authority.to_owned(), remove_dot_segments(path), query)
    } else if scheme_end.is_some() {
        // "scheme:path" without an authority: not a URL we can reach.
        return Err(invalid());
    } else {
        let authority = base
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(invalid)?;
        if rest.is_empty() {
            (authority, base_path.to_owned(), query.or(base.query()))
        } else if rest.starts_with('/') {
            (authority, remove_dot_segments(rest), query)
        } else {
            let dir = &base_path[..=base_path.rfind('/').unwrap_or(0)];
            let merged = if dir.is_empty() {
                format!("/{rest}")
            } else {
                format!("{dir}{rest}")
            };
            (authority, remove_dot_segments(&merged), query)
        }
    };
    let authority = authority
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, host)| host);
    if authority.is_empty() {
        return Err(invalid());
    }
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    let path_and_query = match query {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| invalid())
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            segment => out.push(segment),
        }
    }
    let joined = out.join("/");
    if path.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests;
