//! The proxy scenarios on smol.

proxy_tests::proxy_tests!(proxy_tests::Smol);
