//! A firehose client: connects to `firehose send` (bench/loadgen), reads
//! `--messages` binary messages with one library and prints the
//! `RESULT … client_cpu_us_per_msg=…` line of `wsbench::report_firehose`
//! (CPU from the first message to the last). One current-thread tokio
//! runtime, each library used as its README shows a client reading.
//!
//! ```text
//! firehose-client --client ours|tungstenite|fastwebsockets --addr HOST:PORT --messages N
//! ```
use std::future::Future;
use std::time::Instant;

use futures_util::StreamExt;
use wsbench::{arg, num_arg, own_cpu, report_firehose};

/// Reads one message more than `$messages` with `$next` (an expression
/// giving a payload length or an error): the first starts the clock.
macro_rules! count {
    ($messages:expr, $next:expr) => {{
        $next?;
        let (started, cpu0) = (Instant::now(), own_cpu());
        let mut bytes = 0;
        for _ in 0..$messages {
            bytes += $next?;
        }
        std::hint::black_box(bytes);
        report_firehose($messages, started, cpu0);
        Ok(())
    }};
}

async fn ours(addr: &str, messages: usize) -> Result<(), String> {
    let (mut ws, _) = ws_tokio::connect(&format!("ws://{addr}/"))
        .await
        .map_err(|e| e.to_string())?;
    count!(
        messages,
        ws.recv().await.map(|m| m.len()).map_err(|e| e.to_string())
    )
}

async fn tungstenite(addr: &str, messages: usize) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .map_err(|e| e.to_string())?;
    count!(
        messages,
        match ws.next().await {
            Some(Ok(message)) => Ok::<usize, String>(message.len()),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("closed".to_owned()),
        }
    )
}

/// hyper's executor for the client handshake: tokio's spawn.
struct Spawn;

impl<Fut> hyper::rt::Executor<Fut> for Spawn
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn execute(&self, fut: Fut) {
        tokio::task::spawn(fut);
    }
}

async fn fastwebsockets(addr: &str, messages: usize) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = hyper::Request::builder()
        .method("GET")
        .uri(format!("http://{addr}/"))
        .header("Host", addr)
        .header("Upgrade", "websocket")
        .header("Connection", "upgrade")
        .header(
            "Sec-WebSocket-Key",
            fastwebsockets::handshake::generate_key(),
        )
        .header("Sec-WebSocket-Version", "13")
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let (ws, _) = fastwebsockets::handshake::client(&Spawn, request, stream)
        .await
        .map_err(|e| e.to_string())?;
    let mut ws = fastwebsockets::FragmentCollector::new(ws);
    count!(
        messages,
        ws.read_frame()
            .await
            .map(|frame| frame.payload.len())
            .map_err(|e| e.to_string())
    )
}

fn main() {
    let client = arg("client").unwrap_or_default();
    let addr = arg("addr").unwrap_or_else(|| {
        eprintln!("usage: firehose-client --client ours|tungstenite|fastwebsockets --addr HOST:PORT --messages N");
        std::process::exit(2)
    });
    let messages: usize = num_arg("messages", 100_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let result = runtime.block_on(async {
        match client.as_str() {
            "ours" => ours(&addr, messages).await,
            "tungstenite" => tungstenite(&addr, messages).await,
            "fastwebsockets" => fastwebsockets(&addr, messages).await,
            other => Err(format!("unknown client {other:?}")),
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
