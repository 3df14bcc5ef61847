//! Every interop scenario with both peers, both directions, through
//! `ws-async-std` under async-std.

interop_tests::interop_tests!(test_support::AsyncStd);
