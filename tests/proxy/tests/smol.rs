//! Every reach case on smol (`ws-async-std`).
proxy_tests::reach_tests!(proxy_tests::Smol);
