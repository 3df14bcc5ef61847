//! The Autobahn|Testsuite client loop: run every case of a `fuzzingserver`,
//! echoing each message, then ask it to write the reports.
//!
//! `cargo run -p examples --example autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME [--runtime tokio|async-std|smol]`
use std::future::Future;

use examples::{Args, RuntimeChoice, conformance_config, echo, fail};
use ws_tokio::ws_session::{ClientResponse, CloseCode, ConnectError, Message, Session};

fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let url = args
        .get("url")
        .unwrap_or("ws://127.0.0.1:9001")
        .trim_end_matches('/')
        .to_owned();
    let agent = args.get("agent").unwrap_or("wsproto").to_owned();
    match args.runtime().unwrap_or_else(|e| fail(&e)) {
        RuntimeChoice::Tokio => {
            let connector = &ws_tokio::Connector::new().config(conformance_config());
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")))
                .block_on(run(
                    |u| async move { connector.connect(&u).await },
                    &url,
                    &agent,
                ));
        }
        RuntimeChoice::AsyncStd => {
            let connector = &ws_async_std::Connector::new().config(conformance_config());
            async_std::task::block_on(run(
                |u| async move { connector.connect(&u).await },
                &url,
                &agent,
            ));
        }
        RuntimeChoice::Smol => {
            let connector = &ws_async_std::Connector::new().config(conformance_config());
            smol::block_on(run(
                |u| async move { connector.connect(&u).await },
                &url,
                &agent,
            ));
        }
    }
}

/// Runs every case with `connect`, the adapter's connect function.
async fn run<S, C, F>(connect: C, url: &str, agent: &str)
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
    C: Fn(String) -> F,
    F: Future<Output = Result<(Session<S>, ClientResponse), ConnectError>>,
{
    let count = case_count(&connect, url).await;
    println!("{count} cases");
    for case in 1..=count {
        match connect(format!("{url}/runCase?case={case}&agent={agent}")).await {
            Ok((mut ws, _)) => echo(&mut ws).await,
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }
    match connect(format!("{url}/updateReports?agent={agent}")).await {
        Ok((mut ws, _)) => {
            let _ = ws.close(CloseCode::NORMAL, "").await;
            println!("reports updated");
        }
        Err(e) => fail(&format!("updateReports: {e}")),
    }
}

async fn case_count<S, C, F>(connect: &C, url: &str) -> u32
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
    C: Fn(String) -> F,
    F: Future<Output = Result<(Session<S>, ClientResponse), ConnectError>>,
{
    let (mut ws, _) = connect(format!("{url}/getCaseCount"))
        .await
        .unwrap_or_else(|e| fail(&format!("getCaseCount: {e}")));
    let count = match ws.recv().await {
        Ok(Message::Text(text)) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| fail(&format!("getCaseCount answered {text:?}, not a number"))),
        other => fail(&format!("getCaseCount: unexpected answer {other:?}")),
    };
    let _ = ws.close(CloseCode::NORMAL, "").await;
    count
}
