use super::*;

fn header(s: &str) -> ExtensionHeader {
    ExtensionHeader::parse_list(s).unwrap().remove(0)
}

fn params(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    }
}

/// The server's response and agreed parameters for one offer, or `None`.
fn serve(config: &DeflateConfig, offers: &str) -> Option<(String, DeflateParams)> {
    let offers = ExtensionHeader::parse_list(offers).unwrap();
    let refs: Vec<&ExtensionHeader> = offers.iter().collect();
    let (response, _) = config.server_accept(&refs)?;
    // The same choice through the internal path gives the parameters.
    let offer = offers
        .iter()
        .filter(|o| o.name == EXTENSION_NAME)
        .find_map(|o| parse(o, Side::Offer).ok())
        .unwrap();
    Some((response.to_string(), config.respond(offer).0))
}

#[test]
fn server_accepts_valid_offers() {
    let d = DeflateConfig::default();
    let table: &[(&str, &str, DeflateParams)] = &[
        (
            "permessage-deflate",
            "permessage-deflate",
            params(false, false, 15, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
            params(false, false, 15, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=10",
            params(false, false, 15, 10),
        ),
        (
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=8",
            params(false, false, 8, 15),
        ),
        (
            "permessage-deflate; server_max_window_bits=15",
            "permessage-deflate; server_max_window_bits=15",
            params(false, false, 15, 15),
        ),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            params(true, true, 15, 15),
        ),
        (
            "permessage-deflate; client_max_window_bits=\"9\"; server_max_window_bits=12; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9",
            params(true, false, 12, 9),
        ),
    ];
    for (offer, response, agreed) in table {
        assert_eq!(
            serve(&d, offer),
            Some(((*response).to_owned(), *agreed)),
            "{offer}"
        );
    }
}

#[test]
fn server_applies_its_own_settings() {
    let d = DeflateConfig::default()
        .with_server_no_context_takeover(true)
        .with_client_no_context_takeover(true)
        .with_server_max_window_bits(Some(10))
        .with_client_max_window_bits(Some(11));
    // The client's smaller value wins; ours limits a larger one.
    assert_eq!(
        serve(&d, "permessage-deflate; server_max_window_bits=9; client_max_window_bits"),
        Some((
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11".to_owned(),
            params(true, true, 9, 11)
        ))
    );
    // Without `client_max_window_bits` in the offer the client's window
    // cannot be limited; the offer is still accepted.
    assert_eq!(
        serve(&d, "permessage-deflate; server_max_window_bits=13"),
        Some((
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10".to_owned(),
            params(true, true, 10, 15)
        ))
    );
    assert_eq!(
        serve(&d.clone().with_server_enabled(false), "permessage-deflate"),
        None
    );
}

#[test]
fn server_declines_invalid_offers() {
    let d = DeflateConfig::default();
    for offer in [
        "permessage-deflate; foo",
        "permessage-deflate; foo=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; client_max_window_bits=0",
        "permessage-deflate; client_max_window_bits=256",
        "permessage-deflate; client_max_window_bits=abc",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(serve(&d, offer), None, "{offer}");
    }
}

#[test]
fn server_picks_the_first_acceptable_of_several_offers() {
    let d = DeflateConfig::default();
    assert_eq!(
        serve(
            &d,
            "permessage-deflate; server_max_window_bits=20, permessage-deflate; bogus, \
             permessage-deflate; server_max_window_bits=10, permessage-deflate"
        ),
        Some((
            "permessage-deflate; server_max_window_bits=10".to_owned(),
            params(false, false, 10, 15)
        ))
    );
    assert_eq!(
        serve(
            &d,
            "permessage-deflate; client_no_context_takeover, permessage-deflate"
        ),
        Some((
            "permessage-deflate; client_no_context_takeover".to_owned(),
            params(false, true, 15, 15)
        ))
    );
}

#[test]
fn client_offers_follow_the_config() {
    let offers = |d: DeflateConfig| -> Vec<String> {
        d.client_offers().iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        offers(DeflateConfig::default()),
        ["permessage-deflate; client_max_window_bits"]
    );
    assert_eq!(
        offers(
            DeflateConfig::default()
                .with_server_no_context_takeover(true)
                .with_client_no_context_takeover(true)
                .with_server_max_window_bits(Some(9))
                .with_client_max_window_bits(Some(3))
        ),
        [
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8"
        ]
    );
    assert!(offers(DeflateConfig::default().with_client_enabled(false)).is_empty());
}

fn accept(offer: Parsed, response: &str) -> Result<DeflateParams, NegotiationError> {
    check_response(offer, parse(&header(response), Side::Response)?)
}

#[test]
fn client_accepts_valid_responses() {
    let plain = DeflateConfig::default().offer();
    let asking = DeflateConfig::default()
        .with_server_no_context_takeover(true)
        .with_client_no_context_takeover(true)
        .with_server_max_window_bits(Some(12))
        .with_client_max_window_bits(Some(10))
        .offer();
    let table: &[(&Parsed, &str, DeflateParams)] = &[
        (&plain, "permessage-deflate", params(false, false, 15, 15)),
        // The server may add these unasked.
        (
            &plain,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            params(true, true, 15, 15),
        ),
        (
            &plain,
            "permessage-deflate; server_max_window_bits=8",
            params(false, false, 8, 15),
        ),
        (
            &plain,
            "permessage-deflate; client_max_window_bits=8",
            params(false, false, 15, 8),
        ),
        (
            &asking,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
            params(true, true, 12, 10),
        ),
        (
            &asking,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9",
            params(true, true, 9, 9),
        ),
    ];
    for (offer, response, agreed) in table {
        assert_eq!(accept(**offer, response), Ok(*agreed), "{response}");
    }
}

#[test]
fn client_rejects_invalid_responses() {
    let plain = DeflateConfig::default().offer();
    let no_client_bits = Parsed::default();
    let asking = DeflateConfig::default()
        .with_server_no_context_takeover(true)
        .with_server_max_window_bits(Some(12))
        .with_client_max_window_bits(Some(10))
        .offer();
    let unknown = |p: &str| NegotiationError::UnknownParameter {
        extension: EXTENSION_NAME,
        param: p.to_owned(),
    };
    let dup = |p: &str| NegotiationError::DuplicateParameter {
        extension: EXTENSION_NAME,
        param: p.to_owned(),
    };
    let table: &[(&Parsed, &str, NegotiationError)] = &[
        (&plain, "permessage-deflate; foo", unknown("foo")),
        (
            &plain,
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            dup(CLIENT_NO_CONTEXT_TAKEOVER),
        ),
        (
            &plain,
            "permessage-deflate; server_no_context_takeover=1",
            invalid(SERVER_NO_CONTEXT_TAKEOVER),
        ),
        (
            &plain,
            "permessage-deflate; server_max_window_bits=7",
            invalid(SERVER_MAX_WINDOW_BITS),
        ),
        (
            &plain,
            "permessage-deflate; server_max_window_bits",
            invalid(SERVER_MAX_WINDOW_BITS),
        ),
        // Only an offer may carry it without a value.
        (
            &plain,
            "permessage-deflate; client_max_window_bits",
            invalid(CLIENT_MAX_WINDOW_BITS),
        ),
        (
            &plain,
            "permessage-deflate; client_max_window_bits=16",
            invalid(CLIENT_MAX_WINDOW_BITS),
        ),
        (
            &no_client_bits,
            "permessage-deflate; client_max_window_bits=10",
            not_offered(CLIENT_MAX_WINDOW_BITS),
        ),
        (
            &asking,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=13",
            not_offered(SERVER_MAX_WINDOW_BITS),
        ),
        (
            &asking,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11",
            not_offered(CLIENT_MAX_WINDOW_BITS),
        ),
        (
            &asking,
            "permessage-deflate; server_max_window_bits=12",
            not_granted(SERVER_NO_CONTEXT_TAKEOVER),
        ),
        (
            &asking,
            "permessage-deflate; server_no_context_takeover",
            not_granted(SERVER_MAX_WINDOW_BITS),
        ),
    ];
    for (offer, response, error) in table {
        assert_eq!(accept(**offer, response).as_ref(), Err(error), "{response}");
    }
}

#[test]
fn client_accept_through_the_factory() {
    let d = DeflateConfig::default();
    assert!(
        d.client_accept(&header("permessage-deflate; server_max_window_bits=9"))
            .is_ok()
    );
    assert_eq!(
        d.client_accept(&header("permessage-deflate; client_max_window_bits"))
            .unwrap_err(),
        invalid(CLIENT_MAX_WINDOW_BITS)
    );
    assert_eq!(
        d.client_accept(&header("x-other")).unwrap_err(),
        NegotiationError::UnofferedExtension("x-other".to_owned())
    );
    assert!(matches!(
        d.clone()
            .with_client_enabled(false)
            .client_accept(&header("permessage-deflate")),
        Err(NegotiationError::UnofferedExtension(_))
    ));
}

#[test]
fn every_valid_offer_negotiates_end_to_end() {
    // Whatever a client configures, our server accepts it and our client
    // accepts the server's answer, with the same agreed parameters.
    for bits in [None, Some(8), Some(12), Some(15)] {
        for flags in 0..4u8 {
            let client = DeflateConfig::default()
                .with_server_no_context_takeover(flags & 1 != 0)
                .with_client_no_context_takeover(flags & 2 != 0)
                .with_server_max_window_bits(bits)
                .with_client_max_window_bits(bits);
            let server = DeflateConfig::default().with_server_max_window_bits(Some(11));
            let offers = client.client_offers();
            let offer = parse(&offers[0], Side::Offer).unwrap();
            let (response, _) = server.server_accept(&[&offers[0]]).unwrap();
            let agreed = accept(client.offer(), &response.to_string()).unwrap();
            assert_eq!(agreed, server.respond(offer).0, "{response}");
        }
    }
}
