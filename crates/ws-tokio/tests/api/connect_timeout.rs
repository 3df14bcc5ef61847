//! The handshake scenarios that need tokio's own socket API (a listener
//! with a backlog of one, whose further connects hang). Every other
//! scenario runs on all three runtimes in `tests/scenarios`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;
use ws_tokio::ws_session::proxy::{AttemptOutcome, DialFailure, ProxyConfig};
use ws_tokio::{ConnectError, Connector};

use crate::within;

/// A loopback listener with a backlog of one that never accepts, its queue
/// filled: the kernel drops further SYNs, so a connect to it hangs (no
/// address outside this machine is involved). Keep both values alive.
async fn hanging_listener() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => fillers.push(stream),
            Ok(Err(e)) => panic!("connect failed: {e}"),
            Err(_) => return (listener, fillers),
        }
    }
    panic!("the backlog never filled up")
}

#[tokio::test]
async fn connect_timeout_when_the_listener_never_completes_connections() {
    within(20, async {
        let (listener, _fillers) = hanging_listener().await;
        let addr = listener.local_addr().unwrap();
        let started = Instant::now();
        let err = Connector::new()
            .proxy(ProxyConfig::Direct)
            .connect_timeout(Some(Duration::from_millis(300)))
            .connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        // The error says which address was still connecting.
        let ConnectError::Dial(dial) = &err else {
            panic!("{err:?}")
        };
        let DialFailure::TimedOut { timeout, attempts } = &dial.failure else {
            panic!("{dial:?}")
        };
        assert_eq!(*timeout, Duration::from_millis(300));
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].addr, addr);
        assert!(matches!(attempts[0].outcome, AttemptOutcome::Abandoned));
        assert!(err.to_string().contains("timed out after 300ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}

/// RFC 8305: the name's first address hangs (SYNs dropped), the second
/// answers; the second attempt starts one stagger (250 ms) after the
/// first, while the first is still pending, and wins.
#[tokio::test]
async fn a_hanging_first_address_is_overtaken_after_the_stagger() {
    within(20, async {
        let (hanging, _fillers) = hanging_listener().await;
        let port = hanging.local_addr().unwrap().port();
        // The server on another loopback address, same port.
        let server_addr: SocketAddr = format!("127.0.0.2:{port}").parse().unwrap();
        let server = tokio::net::TcpListener::bind(server_addr).await.unwrap();
        tokio::spawn(async move {
            let (tcp, _) = server.accept().await.unwrap();
            let mut ws = ws_tokio::accept(tcp).await.unwrap();
            while let Ok(message) = ws.recv().await {
                let _ = ws.send_message(message).await;
            }
        });
        let started = Instant::now();
        let (mut ws, _) = Connector::new()
            .proxy(ProxyConfig::Direct)
            .resolve(
                "dual.test",
                ["127.0.0.1".parse().unwrap(), server_addr.ip()],
            )
            .connect(&format!("ws://dual.test:{port}/"))
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
            "{elapsed:?}"
        );
        ws.send_text("overtaken").await.unwrap();
        assert_eq!(ws.recv().await.unwrap().to_text().unwrap(), "overtaken");
    })
    .await;
}

/// The per-attempt timeout: the hanging address is given up after 100 ms
/// (before the stagger), the next one is tried at once and refuses; the
/// error lists both outcomes.
#[tokio::test]
async fn an_attempt_timeout_moves_on_and_every_outcome_is_listed() {
    within(20, async {
        let (hanging, _fillers) = hanging_listener().await;
        let port = hanging.local_addr().unwrap().port();
        let err = Connector::new()
            .proxy(ProxyConfig::Direct)
            .dial_options(
                ws_tokio::ws_session::proxy::DialOptions::default()
                    .attempt_timeout(Some(Duration::from_millis(100))),
            )
            .resolve(
                "dual.test",
                ["127.0.0.1".parse().unwrap(), "127.0.0.3".parse().unwrap()],
            )
            .connect(&format!("ws://dual.test:{port}/"))
            .await
            .unwrap_err();
        let ConnectError::Dial(dial) = &err else {
            panic!("{err:?}")
        };
        let DialFailure::Failed(attempts) = &dial.failure else {
            panic!("{dial:?}")
        };
        assert!(
            matches!(attempts[0].outcome, AttemptOutcome::TimedOut(t) if t == Duration::from_millis(100)),
            "{attempts:?}"
        );
        assert!(
            matches!(&attempts[1].outcome, AttemptOutcome::Failed(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{attempts:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("127.0.0.1:{port} (timed out after 100ms)")),
            "{message}"
        );
    })
    .await;
}
