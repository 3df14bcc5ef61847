//! WebSockets served from real axum and hyper servers, one test binary
//! (one link of axum, hyper, h2 and the peers' installer instead of
//! seven): each module is one suite.

mod chromium;
mod h2_client;
mod h2_client_async_io;
mod http1;
mod http2;
mod lifecycle;
mod peers;
