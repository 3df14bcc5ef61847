//! Connecting well (RFC 8305): every address of a name is tried, a new
//! attempt starting 250 ms after the last (or at once when it fails), and
//! a failure lists every address and what became of it. The addresses
//! are given to the connector (`resolve`, curl's `--resolve`), so the
//! tests do not depend on the machine's resolver.

use std::net::IpAddr;
use std::time::Duration;

use ws_session::ConnectError;
use ws_session::proxy::{AttemptOutcome, DialFailure, ProxyConfig};

use crate::{ClientOptions, Rt, ServerOptions, connect_with, echo_server, finishes_within};

/// A port nothing listens on (a listener bound and dropped).
async fn closed_port<R: Rt>() -> u16 {
    let (listener, url) = R::listen().await;
    drop(listener);
    url.rsplit(':').next().unwrap().parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Options that reach `name` at `addrs`, with no proxy whatever the
/// environment says.
fn resolving(name: &str, addrs: &[&str]) -> ClientOptions {
    ClientOptions {
        resolve: vec![(name.to_owned(), addrs.iter().map(|a| ip(a)).collect())],
        proxy: Some(ProxyConfig::Direct),
        connect_timeout: Some(Duration::from_secs(10)),
        ..ClientOptions::default()
    }
}

/// Scenario (see the module docs): the name resolves to an address that
/// is not routed (TEST-NET-1: dropped, or unreachable at once), then to
/// one that refuses, then to the server; the connection is made within a
/// few staggers.
pub async fn unreachable_first_addresses_still_connect<R: Rt>() {
    let url = echo_server::<R>(ServerOptions::default()).await;
    let port = url.rsplit(':').next().unwrap();
    let options = resolving("dual.test", &["192.0.2.1", "127.0.0.2", "127.0.0.1"]);
    let connect = connect_with::<R>(format!("ws://dual.test:{port}/"), options);
    let connected = finishes_within(Duration::from_secs(5), connect)
        .await
        .expect("connected within 5 s (two staggers of 250 ms at most)");
    let (mut ws, response) = connected.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(
        response.url().map(ToString::to_string).as_deref(),
        Some(format!("ws://dual.test:{port}/").as_str())
    );
    ws.send_text("dual").await.unwrap();
    assert_eq!(ws.recv().await.unwrap().to_text().unwrap(), "dual");
}

/// Scenario (see the module docs): every address refuses; the error
/// names the host and lists each address with its failure.
pub async fn every_address_refused_lists_each_one<R: Rt>() {
    let port = closed_port::<R>().await;
    let options = resolving("nowhere.test", &["127.0.0.2", "127.0.0.3"]);
    let err = connect_with::<R>(format!("ws://nowhere.test:{port}/"), options)
        .await
        .unwrap_err();
    let message = err.to_string();
    let ConnectError::Dial(dial) = err else {
        panic!("{err:?}")
    };
    assert_eq!(dial.target, format!("nowhere.test:{port}"));
    let DialFailure::Failed(attempts) = &dial.failure else {
        panic!("{dial:?}")
    };
    let tried: Vec<String> = attempts.iter().map(|a| a.addr.to_string()).collect();
    assert_eq!(
        tried,
        [format!("127.0.0.2:{port}"), format!("127.0.0.3:{port}")]
    );
    assert!(
        attempts
            .iter()
            .all(|a| matches!(&a.outcome, AttemptOutcome::Failed(e) if e.kind() == std::io::ErrorKind::ConnectionRefused)),
        "{attempts:?}"
    );
    assert!(
        message.contains(&format!("could not connect to nowhere.test:{port}"))
            && message.contains(&format!("127.0.0.3:{port}")),
        "{message}"
    );
}
