//! The mio event loop over the sans-IO core, end to end on loopback: many
//! connections open at once, each echo comes back to its sender, the
//! heartbeat (the core's `poll_timeout` driving the poll's timeout) reaches
//! every connection, and every close completes; a malformed upgrade gets
//! the core's 400 reply.
use std::io::{Read, Write};
use std::time::Duration;

use examples_more::event_loop::{run_clients, serve};
use wsproto_core::Config;

fn listener() -> (std::net::TcpListener, std::net::SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[test]
fn serves_many_connections_with_heartbeat_and_clean_closes() {
    let (listener, addr) = listener();
    let config = Config::default().with_ping_interval(Some(Duration::from_millis(20)));
    let count = 40;
    let server = std::thread::spawn(move || serve(listener, &config, Some(count)));
    let report = run_clients(addr, count).unwrap();
    let stats = server.join().unwrap().unwrap();
    assert_eq!(report.echoes_matched, count);
    assert!(report.pings >= count, "{report:?}");
    assert_eq!(report.clean, count);
    assert_eq!(stats.accepted, count);
    assert_eq!(stats.max_open, count, "all connections were open at once");
    assert_eq!(stats.echoed, count);
    assert!(stats.pongs >= count, "{stats:?}");
    assert_eq!((stats.clean, stats.unclean), (count, 0));
}

#[test]
fn a_request_that_is_not_an_upgrade_is_answered_400() {
    let (listener, addr) = listener();
    let server = std::thread::spawn(move || serve(listener, &Config::default(), Some(1)));
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    let stats = server.join().unwrap().unwrap();
    assert_eq!((stats.clean, stats.unclean, stats.max_open), (0, 1, 0));
}
