//! Every reach case on tokio (`ws-tokio`).
proxy_tests::reach_tests!(proxy_tests::Tokio);
