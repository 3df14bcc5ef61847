//! The runtime-neutral session without tokio, one test binary: each module
//! brings the small runtime its case needs (std threads and
//! `futures-executor`) over the in-memory pipe.

mod batch;
mod broadcast;
mod neutral;
