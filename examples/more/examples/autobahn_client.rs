//! The Autobahn|Testsuite client loop: run every case of a `fuzzingserver`,
//! echoing each message, then ask it to write the reports.
//!
//! ```text
//! cargo run -p examples-more --example autobahn_client -- --url ws://127.0.0.1:9001
//!     --agent NAME [--runtime tokio|async-std|smol] [--max-message-size BYTES]
//! ```
use std::future::Future;

use clap::Parser;
use examples::{Limits, echo, echo_config, fail};
use examples_more::{RuntimeChoice, async_std_runtime};
use ws_session::{ClientResponse, ConnectError, Message, Session};

/// Runs every case of an Autobahn fuzzing server.
#[derive(Debug, Parser)]
struct Cli {
    /// The fuzzing server's URL.
    #[arg(long, default_value = "ws://127.0.0.1:9001")]
    url: String,
    /// The agent name in the reports.
    #[arg(long, default_value = "wsproto")]
    agent: String,
    /// The runtime (and adapter) to connect with.
    #[arg(long, value_enum, default_value = "tokio")]
    runtime: RuntimeChoice,
    #[command(flatten)]
    limits: Limits,
}

fn main() {
    let cli = Cli::parse();
    let url = cli.url.trim_end_matches('/');
    let agent = cli.agent.as_str();
    let config = echo_config(true, cli.limits);
    match cli.runtime {
        RuntimeChoice::Tokio => {
            let connector = &ws_tokio::Connector::new().config(config);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")))
                .block_on(run(
                    |u| async move {
                        let (ws, response) = connector.connect(u).await?;
                        Ok((ws.into_session(), response))
                    },
                    url,
                    agent,
                ));
        }
        RuntimeChoice::AsyncStd | RuntimeChoice::Smol => {
            let runtime = if cli.runtime == RuntimeChoice::AsyncStd {
                async_std_runtime()
            } else {
                ws_async_std::AsyncIoRuntime::new()
            };
            let connector = &ws_async_std::Connector::new()
                .config(config)
                .runtime(runtime);
            let cases = run(
                |u| async move {
                    let (ws, response) = connector.connect(u).await?;
                    Ok((ws.into_session(), response))
                },
                url,
                agent,
            );
            if cli.runtime == RuntimeChoice::AsyncStd {
                async_std::task::block_on(cases);
            } else {
                smol::block_on(cases);
            }
        }
    }
}

/// Runs every case with `connect`, the adapter's connect function.
async fn run<S, C, F>(connect: C, url: &str, agent: &str)
where
    S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin,
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
            let _ = ws.close(None).await;
            println!("reports updated");
        }
        Err(e) => fail(&format!("updateReports: {e}")),
    }
}

async fn case_count<S, C, F>(connect: &C, url: &str) -> u32
where
    S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin,
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
    let _ = ws.close(None).await;
    count
}
