//! The client's checks of the server's answer (RFC 6455 §4.1, points 2-6
//! of the client's requirements on the response): parsing the head, the
//! 101's fields, the chosen subprotocol and the accepted extensions.

use std::sync::Arc;

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderValue};

use crate::extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};
use crate::frame::Rsv;

use super::MAX_ERROR_BODY;
use super::error::ResponseError;
use super::headers::{has_token, joined, to_header_map};

/// What the request offered, which a 101 must answer: the expected
/// `Sec-WebSocket-Accept`, the subprotocols, and the extension factories
/// that offered something (in config order).
#[derive(Debug)]
pub(super) struct Offer {
    pub(super) expected_accept: String,
    pub(super) subprotocols: Vec<String>,
    pub(super) factories: Vec<Arc<dyn ExtensionFactory>>,
}

impl Offer {
    /// RFC 6455 §4.1, the client's checks of a 101 response (points 2-6).
    pub(super) fn check(&self, headers: &HeaderMap) -> Result<Negotiated, ResponseError> {
        let mut upgrade = headers.get_all(header::UPGRADE).iter();
        let first = upgrade.next();
        let is_websocket =
            |v: &HeaderValue| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket");
        if !(first.is_some_and(is_websocket) && upgrade.next().is_none()) {
            return Err(ResponseError::InvalidUpgrade(first.cloned()));
        }
        if !has_token(headers, &header::CONNECTION, "upgrade") {
            return Err(ResponseError::MissingConnectionUpgrade);
        }
        let mut accept = headers.get_all(header::SEC_WEBSOCKET_ACCEPT).iter();
        let found = accept.next();
        let matches =
            found.is_some_and(|v| v.as_bytes().trim_ascii() == self.expected_accept.as_bytes());
        if !(matches && accept.next().is_none()) {
            return Err(ResponseError::InvalidAccept {
                expected: self.expected_accept.clone(),
                found: found.cloned(),
            });
        }
        self.negotiated(headers)
    }

    /// The accepted extensions and the chosen subprotocol, checked against
    /// the offer (RFC 6455 §4.1 points 5-6; RFC 8441 §5 keeps them for
    /// HTTP/2).
    pub(super) fn negotiated(&self, headers: &HeaderMap) -> Result<Negotiated, ResponseError> {
        let extensions = match joined(headers, &header::SEC_WEBSOCKET_EXTENSIONS) {
            None => Vec::new(),
            Some(Err(())) => return Err(NegotiationError::Malformed.into()),
            Some(Ok(list)) => negotiate(&self.factories, &ExtensionHeader::parse_list(&list)?)?,
        };
        let subprotocol = self.chosen_subprotocol(headers)?;
        Ok((subprotocol, extensions))
    }

    fn chosen_subprotocol(&self, headers: &HeaderMap) -> Result<Option<String>, ResponseError> {
        let mut values = headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() || value.as_bytes().contains(&b',') {
            return Err(ResponseError::SeveralSubprotocols);
        }
        let chosen = String::from_utf8_lossy(value.as_bytes().trim_ascii()).into_owned();
        if self.subprotocols.is_empty() {
            Err(ResponseError::SubprotocolNotRequested(chosen))
        } else if self.subprotocols.contains(&chosen) {
            Ok(Some(chosen))
        } else {
            Err(ResponseError::UnofferedSubprotocol(chosen))
        }
    }
}

/// The chosen subprotocol and the negotiated extensions.
pub(super) type Negotiated = (Option<String>, Vec<Box<dyn Extension>>);

pub(super) type ParsedHead = Option<(u8, u16, HeaderMap)>;

pub(super) fn parse_response<'b>(
    buf: &'b [u8],
    storage: &mut [httparse::Header<'b>],
) -> Result<Option<(ParsedHead, usize)>, httparse::Error> {
    let mut response = httparse::Response::new(storage);
    Ok(match response.parse(buf)? {
        httparse::Status::Partial => None,
        httparse::Status::Complete(len) => {
            let parsed = match (response.version, response.code) {
                (Some(version), Some(code)) => {
                    to_header_map(response.headers).map(|h| (version, code, h))
                }
                _ => None,
            };
            Some((parsed, len))
        }
    })
}

/// How many body bytes of a non-101 answer to wait for (`None`: until EOF).
pub(super) fn body_length(response: &http::Response<()>) -> Option<usize> {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Some(0);
    }
    let headers = response.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        // Chunked: take what has arrived rather than decode chunks.
        return Some(0);
    }
    headers.get(header::CONTENT_LENGTH).map(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .map_or(0, |n| n.min(MAX_ERROR_BODY))
    })
}

/// RFC 6455 §4.1 point 5 and §9.1: every accepted extension must have been
/// offered, at most once, and no two may claim the same RSV bit; the
/// factory checks the parameters.
fn negotiate(
    factories: &[Arc<dyn ExtensionFactory>],
    accepted: &[ExtensionHeader],
) -> Result<Vec<Box<dyn Extension>>, NegotiationError> {
    let mut used = vec![false; factories.len()];
    let mut rsv = Rsv::NONE;
    let mut out = Vec::with_capacity(accepted.len());
    for entry in accepted {
        let Some(i) = factories
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(&entry.name))
        else {
            return Err(NegotiationError::UnofferedExtension(entry.name.clone()));
        };
        if used[i] {
            return Err(NegotiationError::Conflict(entry.name.clone()));
        }
        used[i] = true;
        let extension = factories[i].client_accept(entry)?;
        if rsv.bits() & extension.rsv().bits() != 0 {
            return Err(NegotiationError::Conflict(entry.name.clone()));
        }
        rsv = rsv.union(extension.rsv());
        out.push(extension);
    }
    Ok(out)
}
