//! The one handshake scenario that needs tokio's own socket API (a
//! listener with a backlog of one). Every other scenario runs on all three
//! runtimes in `tests/scenarios`.

use std::time::Duration;

use tokio::time::Instant;
use ws_tokio::{ConnectError, Connector};

use crate::within;

#[tokio::test]
async fn connect_timeout_when_the_listener_never_completes_connections() {
    within(20, async {
        // A loopback listener with a backlog of one that never accepts: once
        // its queue is full the kernel drops further SYNs, so a connect
        // hangs (no address outside this machine is involved).
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        let _listener = socket.listen(1).unwrap();
        let mut fillers = Vec::new();
        let mut full = false;
        for _ in 0..16 {
            match tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            {
                Ok(Ok(stream)) => fillers.push(stream),
                Ok(Err(e)) => panic!("connect failed: {e}"),
                Err(_) => {
                    full = true;
                    break;
                }
            }
        }
        assert!(full, "the backlog never filled up");
        let started = Instant::now();
        let err = Connector::new()
            .connect_timeout(Some(Duration::from_millis(300)))
            .connect(&format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectError::ConnectTimeout { .. }),
            "{err:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    })
    .await;
}
