//! The proxy scenarios on async-std.

proxy_tests::proxy_tests!(proxy_tests::AsyncStd);
