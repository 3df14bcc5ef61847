//! A client `Connection` (default or raw mode, optional permessage-deflate,
//! small limits) driven by arbitrary peer bytes, time and commands; the
//! oracle is in `wsproto_fuzz::connection`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wsproto_core::Role;

fuzz_target!(|data: &[u8]| wsproto_fuzz::connection::run(Role::Client, data));
