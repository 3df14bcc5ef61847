//! The `wsp` binary driven as a subprocess, one test binary: client mode,
//! server mode, the interactive line editor on a pseudo-terminal, real
//! peers (Python `websockets`, Node `ws`), `--proxy` through pproxy, and
//! the README's flag table against the command line. `support` holds the
//! process and server helpers they share.

mod support;

mod client;
mod interactive;
mod peers;
mod proxy;
mod readme;
mod server;
