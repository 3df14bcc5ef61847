//! Attack-shaped tests (issue 6): raw TCP attackers on loopback against
//! our server and our client, once per adapter.
//!
//! ```text
//!  attacker (std TcpStream, hand-built frames) ──► our echo server ◄── bystander (our client)
//!  raw malicious server (std TcpListener)      ◄── our client           keeps echoing
//!                          heap meter: live bytes sampled every 1 ms
//! ```
//!
//! Each attack is a generic function over [`Adapter`] in
//! [`server_attacks`] or [`client_attacks`]; [`attack_tests!`] turns them
//! into `#[test]`s for one adapter. Every attack asserts:
//!
//! - its outcome: the close code read back from the bytes the attacker
//!   receives (or the HTTP status, or the socket closing) and the reason
//!   our endpoint recorded;
//! - that the heap grew by no more than [`heap::allowance`], computed from
//!   the [`Config`](ws_session::Config) under test ([`harness::config`]:
//!   the defaults, permessage-deflate on), or for the attacks by many
//!   connections ([`crowd_attacks`]) a bound per attacking connection;
//! - that a bystander connection on the same server kept echoing with no
//!   pause over [`harness::MAX_GAP`], and still closes cleanly.
//!
//! Every limit is the default; every timeout is the default divided by
//! [`harness::TIME_SCALE`] (20: the heartbeat pings every 1 s, a message
//! must be finished within 1.5 s), so a whole adapter's attacks take
//! seconds. `cargo test -p adversarial-tests -- --nocapture` prints each
//! attack's figures, the heap per attacking connection among them.
#![forbid(unsafe_code)]
// This package drives real sockets in real time: reading the clock and
// sleeping between an attacker's bytes is its job (the workspace bans both
// for the sans-IO core, which is told the time).
#![allow(clippy::disallowed_methods)]
// Every function here is a test or a test helper: panicking is how it
// reports a failure.
#![allow(clippy::missing_panics_doc)]

pub mod adapter;
pub mod client_attacks;
pub mod crowd_attacks;
pub mod faults;
pub mod harness;
pub mod heap;
pub mod peer;
pub mod scene;
pub mod server_attacks;
pub mod wire;

pub use adapter::{Adapter, AsyncStd, Smol, Tokio};

/// One `#[test]` per attack for the adapter type `$adapter`, in a module
/// named `$name`.
#[macro_export]
macro_rules! attack_tests {
    ($name:ident, $adapter:ty) => {
        mod $name {
            use $crate::{client_attacks, crowd_attacks, server_attacks};

            #[test]
            fn continuation_flood_empty() {
                server_attacks::continuation_flood_empty::<$adapter>();
            }
            #[test]
            fn continuation_flood_bytes() {
                server_attacks::continuation_flood_bytes::<$adapter>();
            }
            #[test]
            fn huge_declared_length() {
                server_attacks::huge_declared_length::<$adapter>();
            }
            #[test]
            fn slowloris() {
                server_attacks::slowloris::<$adapter>();
            }
            #[test]
            fn header_flood() {
                server_attacks::header_flood::<$adapter>();
            }
            #[test]
            fn compression_bomb() {
                server_attacks::compression_bomb::<$adapter>();
            }
            #[test]
            fn ping_flood() {
                server_attacks::ping_flood::<$adapter>();
            }
            #[test]
            fn never_reading_client() {
                server_attacks::never_reading_client::<$adapter>();
            }
            #[test]
            fn half_open_client() {
                server_attacks::half_open_client::<$adapter>();
            }
            #[test]
            fn crowd_deflate_amplification() {
                crowd_attacks::deflate_amplification::<$adapter>();
            }
            #[test]
            fn crowd_deflate_amplification_within_a_budget() {
                crowd_attacks::deflate_amplification_within_a_budget::<$adapter>();
            }
            #[test]
            fn crowd_announced_but_unsent() {
                crowd_attacks::announced_but_unsent::<$adapter>();
            }
            #[test]
            fn crowd_slowloris() {
                crowd_attacks::slowloris_crowd::<$adapter>();
            }
            #[test]
            fn compression_bomb_to_client() {
                client_attacks::compression_bomb_to_client::<$adapter>();
            }
            #[test]
            fn never_reading_server() {
                client_attacks::never_reading_server::<$adapter>();
            }
            #[test]
            fn half_open_server() {
                client_attacks::half_open_server::<$adapter>();
            }
        }
    };
}
