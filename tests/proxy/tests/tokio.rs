//! The proxy scenarios on tokio.

proxy_tests::proxy_tests!(proxy_tests::Tokio);
