//! The Autobahn|Testsuite client loop: run every case of a `fuzzingserver`,
//! echoing each message, then ask it to write the reports.
//!
//! `cargo run -p examples --example autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME [--runtime tokio|async-std]`
use examples::{Args, RuntimeChoice, async_std_unavailable, conformance_config, fail};
use ws_tokio::{Connector, Message};

fn main() {
    let args = Args::parse().unwrap_or_else(|e| fail(&e));
    let url = args
        .get("url")
        .unwrap_or("ws://127.0.0.1:9001")
        .trim_end_matches('/')
        .to_owned();
    let agent = args.get("agent").unwrap_or("ws-tokio").to_owned();
    match args.runtime().unwrap_or_else(|e| fail(&e)) {
        RuntimeChoice::Tokio => {}
        RuntimeChoice::AsyncStd => async_std_unavailable(),
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("cannot start tokio: {e}")));
    runtime.block_on(run(&url, &agent));
}

async fn run(url: &str, agent: &str) {
    let connector = Connector::new().config(conformance_config());
    let count = case_count(&connector, url).await;
    println!("{count} cases");
    for case in 1..=count {
        let case_url = format!("{url}/runCase?case={case}&agent={agent}");
        match connector.connect(&case_url).await {
            Ok((mut ws, _)) => {
                while let Ok(message) = ws.recv().await {
                    if ws.send_message(message).await.is_err() {
                        break;
                    }
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }
    let report_url = format!("{url}/updateReports?agent={agent}");
    match connector.connect(&report_url).await {
        Ok((mut ws, _)) => {
            let _ = ws.close(ws_tokio::CloseCode::NORMAL, "").await;
            println!("reports updated");
        }
        Err(e) => fail(&format!("updateReports: {e}")),
    }
}

async fn case_count(connector: &Connector, url: &str) -> u32 {
    let (mut ws, _) = connector
        .connect(&format!("{url}/getCaseCount"))
        .await
        .unwrap_or_else(|e| fail(&format!("getCaseCount: {e}")));
    let count = match ws.recv().await {
        Ok(Message::Text(text)) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| fail(&format!("getCaseCount answered {text:?}, not a number"))),
        other => fail(&format!("getCaseCount: unexpected answer {other:?}")),
    };
    let _ = ws.close(ws_tokio::CloseCode::NORMAL, "").await;
    count
}
