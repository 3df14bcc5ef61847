//! Every interop scenario with both peers, both directions, through
//! `ws-async-std` under smol.

interop_tests::interop_tests!(test_support::Smol);
