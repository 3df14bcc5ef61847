//! The demo: a chat server and three members in one process, on loopback.
//! It shows messages going round, the server's heartbeat ping answered by
//! each member's session, the negotiated permessage-deflate and the bytes it
//! saves, and a clean close (code 1000) seen from both ends; then it exits.
//!
//! Run: `cargo run -p examples --example chat`
//!
//! The logic lives in `examples::chat` (runtime-neutral, over
//! `ws_session::Session`); this file only picks tokio.
use std::sync::Arc;

use examples::chat::{Script, Transcript, run_tokio};
use examples::fail;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let transcript = Arc::new(Transcript::new(true));
    if let Err(e) = run_tokio(&Script::demo(), transcript).await {
        fail(&e);
    }
    println!("done: every session ended with a completed close handshake");
}
