//! The async-std/smol adapter's own API tests, in one binary. The
//! session's behaviour is tested once for every runtime in
//! `tests/scenarios`.
//!
//! - `switcher`: code written as an async-tungstenite user writes it, on
//!   async-std and on smol;
//! - `serve`: the accept loop on both executors, and the socket options
//!   it sets.

mod serve;
mod switcher;

use std::future::Future;
use std::time::Duration;

/// Every await here is bounded: a hang is a failure, not a stuck run.
async fn within<F: Future>(seconds: u64, future: F) -> F::Output {
    futures_lite::future::or(future, async move {
        async_io::Timer::after(Duration::from_secs(seconds)).await;
        panic!("timed out after {seconds} s")
    })
    .await
}
