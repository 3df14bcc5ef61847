//! Every interop scenario with both peers, both directions, through
//! `ws-tokio`.

interop_tests::interop_tests!(test_support::Tokio);
