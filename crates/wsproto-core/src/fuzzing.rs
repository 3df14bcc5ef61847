//! Internal consistency checks for the fuzz targets (`fuzz/`), compiled only
//! under `cfg(fuzzing)` (set by cargo-fuzz). Not part of the public API.

use crate::Connection;

/// Panics if `conn`'s internal bookkeeping is inconsistent: the send-queue
/// byte count against what is actually queued, nothing queued after our Close,
/// and the receive buffer holding at most the rest of one frame (or less than
/// one header between frames).
pub fn check_invariants(conn: &Connection) {
    conn.check_invariants();
}
