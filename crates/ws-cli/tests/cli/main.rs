//! The `wsp` binary driven as a subprocess, one test binary: client mode,
//! server mode, the interactive line editor on a pseudo-terminal, and
//! real peers (Python `websockets`, Node `ws`), and the README's flag table
//! against the command line. `support` holds the process and server helpers
//! they share.

mod support;

mod client;
mod interactive;
mod peers;
mod readme;
mod server;
