//! The API tests of the protocol core, one binary (one link instead of
//! fourteen): each module is one concern, driven through the public API by
//! an in-memory client/server pair on a virtual clock (`util`).
//!
//! The tests that count heap allocations stay separate programs
//! (`allocations`, `deflate_memory`, `pinning`, `prepared_allocations`):
//! their counting global allocator sees every thread of its binary.

#[path = "../util/mod.rs"]
mod util;

mod close;
mod deflate;
mod footprint;
mod handshake;
mod heartbeat;
mod limits;
mod masked_split;
mod messages;
mod prepared;
mod raw_and_streaming;
mod readme_defaults;
mod safe_defaults;
mod split;
mod violations;
