//! Every reach case on async-std (`ws-async-std`).
proxy_tests::reach_tests!(proxy_tests::AsyncStd);
