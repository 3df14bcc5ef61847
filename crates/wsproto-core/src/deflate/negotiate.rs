//! Negotiation (RFC 7692 §5, §7.1): parameter parsing and validation, and the
//! [`ExtensionFactory`] implementation of [`DeflateConfig`].

use crate::Role;
use crate::extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};

use super::EXTENSION_NAME;
use super::codec::DeflateExtension;
use super::config::{DeflateConfig, DeflateParams, MAX_WINDOW_BITS, MIN_WINDOW_BITS};

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// One offer or response, checked against the grammar of RFC 7692 §7.1.
/// `client_max_window_bits` is `Some(None)` when given without a value
/// (allowed in an offer only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
// Absent, present without a value, present with one: RFC 7692's three cases.
#[allow(clippy::option_option)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Whether a header entry is an offer (client to server) or a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Offer,
    Response,
}

fn invalid(param: &str) -> NegotiationError {
    NegotiationError::InvalidValue {
        extension: EXTENSION_NAME,
        param: param.to_owned(),
    }
}

fn not_offered(param: &str) -> NegotiationError {
    NegotiationError::NotOffered {
        extension: EXTENSION_NAME,
        param: param.to_owned(),
    }
}

fn not_granted(param: &str) -> NegotiationError {
    NegotiationError::NotGranted {
        extension: EXTENSION_NAME,
        param: param.to_owned(),
    }
}

/// RFC 7692 §7.1.2: a decimal integer in `8..=15` without leading zeroes.
fn parse_bits(param: &str, value: Option<&str>) -> Result<u8, NegotiationError> {
    let value = value.ok_or_else(|| invalid(param))?;
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 2 {
        return Err(invalid(param));
    }
    match value.parse::<u8>() {
        Ok(bits) if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) => Ok(bits),
        _ => Err(invalid(param)),
    }
}

/// Parses and validates one entry: known parameters only, each at most once
/// (RFC 7692 §5.1), flags without values, window bits in `8..=15`.
fn parse(header: &ExtensionHeader, side: Side) -> Result<Parsed, NegotiationError> {
    let mut parsed = Parsed::default();
    let mut seen = [false; 4];
    for (name, value) in &header.params {
        let value = value.as_deref();
        let index = match name.as_str() {
            SERVER_NO_CONTEXT_TAKEOVER => 0,
            CLIENT_NO_CONTEXT_TAKEOVER => 1,
            SERVER_MAX_WINDOW_BITS => 2,
            CLIENT_MAX_WINDOW_BITS => 3,
            _ => {
                return Err(NegotiationError::UnknownParameter {
                    extension: EXTENSION_NAME,
                    param: name.clone(),
                });
            }
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(NegotiationError::DuplicateParameter {
                extension: EXTENSION_NAME,
                param: name.clone(),
            });
        }
        match index {
            0 | 1 if value.is_some() => return Err(invalid(name)),
            0 => parsed.server_no_context_takeover = true,
            1 => parsed.client_no_context_takeover = true,
            2 => parsed.server_max_window_bits = Some(parse_bits(name, value)?),
            // §7.1.2.2: only an offer may carry the parameter without a value.
            _ if value.is_none() && side == Side::Offer => {
                parsed.client_max_window_bits = Some(None);
            }
            _ => parsed.client_max_window_bits = Some(Some(parse_bits(name, value)?)),
        }
    }
    Ok(parsed)
}

fn to_header(parsed: Parsed) -> ExtensionHeader {
    let mut header = ExtensionHeader::new(EXTENSION_NAME);
    if parsed.server_no_context_takeover {
        header = header.param(SERVER_NO_CONTEXT_TAKEOVER, None::<String>);
    }
    if parsed.client_no_context_takeover {
        header = header.param(CLIENT_NO_CONTEXT_TAKEOVER, None::<String>);
    }
    if let Some(bits) = parsed.server_max_window_bits {
        header = header.param(SERVER_MAX_WINDOW_BITS, Some(bits.to_string()));
    }
    if let Some(bits) = parsed.client_max_window_bits {
        header = header.param(CLIENT_MAX_WINDOW_BITS, bits.map(|b| b.to_string()));
    }
    header
}

impl DeflateConfig {
    /// The offer this configuration makes as a client. `client_max_window_bits`
    /// is always present: we can honour any window the server asks for.
    fn offer(&self) -> Parsed {
        Parsed {
            server_no_context_takeover: self.server_no_context_takeover,
            client_no_context_takeover: self.client_no_context_takeover,
            server_max_window_bits: self.server_max_window_bits,
            client_max_window_bits: Some(self.client_max_window_bits),
        }
    }

    /// Server side: the agreed parameters and the response for a valid
    /// offer. Every valid offer can be accepted: we can compress with any
    /// window the client asks for and inflate any window it uses.
    fn respond(&self, offer: Parsed) -> (DeflateParams, Parsed) {
        let ours = |bits: Option<u8>| bits.unwrap_or(MAX_WINDOW_BITS);
        // §7.1.2.1: accept by answering with the same or a smaller value;
        // we may also limit our window unasked.
        let server_bits = offer
            .server_max_window_bits
            .map_or(ours(self.server_max_window_bits), |asked| {
                asked.min(ours(self.server_max_window_bits))
            });
        // §7.1.2.2: the client's window can only be limited when the offer
        // carries `client_max_window_bits`; a value there binds the client.
        let client_bits = match offer.client_max_window_bits {
            None => MAX_WINDOW_BITS,
            Some(value) => ours(value).min(ours(self.client_max_window_bits)),
        };
        let params = DeflateParams {
            // §7.1.1.1: asked for, it must be granted (by echoing it).
            server_no_context_takeover: offer.server_no_context_takeover
                || self.server_no_context_takeover,
            // §7.1.1.2: the server may always ask for it; when the client
            // announced it, echoing it states the agreement explicitly.
            client_no_context_takeover: offer.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
        };
        let response = Parsed {
            server_no_context_takeover: params.server_no_context_takeover,
            client_no_context_takeover: params.client_no_context_takeover,
            server_max_window_bits: (offer.server_max_window_bits.is_some()
                || server_bits < MAX_WINDOW_BITS)
                .then_some(server_bits),
            client_max_window_bits: (offer.client_max_window_bits.is_some()
                && client_bits < MAX_WINDOW_BITS)
                .then_some(Some(client_bits)),
        };
        (params, response)
    }
}

/// Client side: checks a response against the offer it answers
/// (RFC 7692 §7.1) and returns the agreed parameters.
fn check_response(offer: Parsed, response: Parsed) -> Result<DeflateParams, NegotiationError> {
    // §7.1.1.1: a server accepts `server_no_context_takeover` by echoing
    // it, and may include it unasked.
    if offer.server_no_context_takeover && !response.server_no_context_takeover {
        return Err(not_granted(SERVER_NO_CONTEXT_TAKEOVER));
    }
    // §7.1.2.1: accepted with the same or a smaller value; the server may
    // also limit its window unasked.
    let server_bits = match (
        offer.server_max_window_bits,
        response.server_max_window_bits,
    ) {
        (Some(asked), Some(bits)) if bits > asked => {
            return Err(not_offered(SERVER_MAX_WINDOW_BITS));
        }
        (Some(_), None) => return Err(not_granted(SERVER_MAX_WINDOW_BITS)),
        (_, bits) => bits.unwrap_or(MAX_WINDOW_BITS),
    };
    // §7.1.2.2: only allowed in the response when offered; never larger
    // than a value we offered; our own offered value binds us either way.
    let client_bits = match (
        offer.client_max_window_bits,
        response.client_max_window_bits,
    ) {
        (None, Some(_)) => return Err(not_offered(CLIENT_MAX_WINDOW_BITS)),
        (Some(Some(ours)), Some(Some(bits))) if bits > ours => {
            return Err(not_offered(CLIENT_MAX_WINDOW_BITS));
        }
        (ours, theirs) => ours
            .flatten()
            .unwrap_or(MAX_WINDOW_BITS)
            .min(theirs.flatten().unwrap_or(MAX_WINDOW_BITS)),
    };
    Ok(DeflateParams {
        server_no_context_takeover: response.server_no_context_takeover,
        // §7.1.1.2: offered, it is a promise we keep whatever the answer.
        client_no_context_takeover: response.client_no_context_takeover
            || offer.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    })
}

impl ExtensionFactory for DeflateConfig {
    fn name(&self) -> &'static str {
        EXTENSION_NAME
    }

    /// One offer built from the configuration, or none when the client side
    /// is disabled.
    fn client_offers(&self) -> Vec<ExtensionHeader> {
        if self.client_enabled {
            vec![to_header(self.offer())]
        } else {
            Vec::new()
        }
    }

    fn client_accept(
        &self,
        response: &ExtensionHeader,
    ) -> Result<Box<dyn Extension>, NegotiationError> {
        if !self.client_enabled || response.name != EXTENSION_NAME {
            return Err(NegotiationError::UnofferedExtension(response.name.clone()));
        }
        let parsed = parse(response, Side::Response)?;
        let params = check_response(self.offer(), parsed)?;
        Ok(Box::new(DeflateExtension::new(Role::Client, params, self)))
    }

    /// Accepts the first offer that is valid (RFC 7692 §5: the server picks
    /// one); invalid offers (unknown or repeated parameters, bad values) are
    /// skipped.
    fn server_accept(
        &self,
        offers: &[&ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)> {
        if !self.server_enabled {
            return None;
        }
        offers
            .iter()
            .filter(|offer| offer.name == EXTENSION_NAME)
            .find_map(|offer| parse(offer, Side::Offer).ok())
            .map(|offer| {
                let (params, response) = self.respond(offer);
                let extension: Box<dyn Extension> =
                    Box::new(DeflateExtension::new(Role::Server, params, self));
                (to_header(response), extension)
            })
    }
}

#[cfg(test)]
mod tests;
