//! Real clients against our server behind axum and behind bare hyper,
//! over HTTP/1.1: Python `websockets` and Node `ws` (the interop suite's
//! peers, installed by it), in the suite's scenarios: text, binary, large,
//! fragmented, permessage-deflate, both close directions, pings, and TLS
//! (axum).

use http_servers_tests::adapters::{AxumServer, HyperServer};
use interop_tests::{Direction, Peer, Scenario};

fn run<A: interop_tests::OurServer<test_support::Tokio>>(peer: Peer, scenario: Scenario) {
    interop_tests::run_with::<test_support::Tokio, A>(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        peer,
        Direction::OurServer,
        scenario,
    );
}

macro_rules! peer_tests {
    ($adapter:ty, $peer:expr, $($name:ident: $scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run::<$adapter>($peer, Scenario::$scenario);
            }
        )*
    };
}

mod axum_route {
    use super::*;

    mod python {
        use super::*;
        peer_tests!(AxumServer, Peer::Python,
            text: Text, binary: Binary, large: Large, fragmented: Fragmented,
            deflate: Deflate, close_ours: CloseOurs, close_theirs: CloseTheirs,
            ping_theirs: PingTheirs, tls: Tls);
    }

    mod node {
        use super::*;
        peer_tests!(AxumServer, Peer::Node,
            text: Text, binary: Binary, large: Large, fragmented: Fragmented,
            deflate: Deflate, close_ours: CloseOurs, close_theirs: CloseTheirs,
            ping_theirs: PingTheirs, tls: Tls);
    }
}

mod bare_hyper {
    use super::*;

    mod python {
        use super::*;
        peer_tests!(HyperServer, Peer::Python,
            text: Text, large: Large, deflate: Deflate, close_theirs: CloseTheirs);
    }

    mod node {
        use super::*;
        peer_tests!(HyperServer, Peer::Node,
            text: Text, large: Large, deflate: Deflate, close_theirs: CloseTheirs);
    }
}
