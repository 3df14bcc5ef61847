//! A whole WebSocket conversation between a client and a server, in memory,
//! driven by hand: the sans-IO core needs no runtime, no sockets and no
//! clock. Every byte that crosses the "wire" is printed.
//!
//! Run: `cargo run -p wsproto-core --example conversation`

use std::time::{Duration, Instant};

use wsproto_core::handshake::{AcceptOptions, ClientBuilder, Progress, ServerHandshake};
use wsproto_core::{CloseCode, Config, Connection, DeflateConfig, Event, MaskRng, Message};

fn show(direction: &str, bytes: &[u8]) {
    let hex: Vec<String> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 24 { " …" } else { "" };
    println!(
        "  {direction} {:>4} bytes  {}{more}",
        bytes.len(),
        hex.join(" ")
    );
}

/// Moves everything one side wants to send to the other side.
fn pump(from: &mut Connection, to: &mut Connection, now: Instant, direction: &str) {
    loop {
        let bytes = from.poll_transmit().to_vec();
        if bytes.is_empty() {
            return;
        }
        from.advance_transmit(bytes.len());
        show(direction, &bytes);
        to.handle_data(now, &bytes);
    }
}

fn events(name: &str, conn: &mut Connection) {
    while let Some(event) = conn.poll_event() {
        match event {
            Event::Message(Message::Text(text)) => println!("  {name} got text: {:?}", &*text),
            Event::Message(Message::Binary(data)) => {
                println!("  {name} got {} binary bytes", data.len());
            }
            other => println!("  {name} event: {other:?}"),
        }
    }
}

#[allow(clippy::disallowed_methods)] // an example's clock: the core itself never reads one
fn start() -> Instant {
    Instant::now()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::default()
        .with_compression(DeflateConfig::default())
        .with_ping_interval(Some(Duration::from_secs(30)))
        .with_ping_timeout(Duration::from_secs(10));
    let t0 = start();
    let mut now = t0;

    println!("1. handshake (HTTP/1.1 upgrade, permessage-deflate offered)");
    let mut client_hs = ClientBuilder::new("ws://localhost/chat")?
        .subprotocol("chat.v1")
        .build([0x5a; 16], &config)?;
    println!(
        "{}",
        String::from_utf8_lossy(client_hs.request_bytes()).trim_end()
    );
    let mut server_hs = ServerHandshake::new(&config);
    let Progress::Complete(request) = server_hs.handle_data(client_hs.request_bytes())? else {
        unreachable!("the whole request was given")
    };
    println!(
        "  server sees path {} and subprotocols {:?}",
        request.request().uri(),
        request.subprotocols()
    );
    let mut accepted = request.accept(&AcceptOptions::new().subprotocol("chat.v1"))?;
    println!(
        "{}",
        String::from_utf8_lossy(&accepted.response_bytes()).trim_end()
    );
    let Progress::Complete(upgrade) = client_hs.handle_data(&accepted.response_bytes())? else {
        unreachable!("the whole response was given")
    };
    let mut server = accepted.into_connection(config.clone(), now);
    let mut client = upgrade.into_connection(config, MaskRng::from_seed([7; 32]), now);
    println!(
        "  negotiated: {:?}",
        client.extension_names().collect::<Vec<_>>()
    );

    println!("\n2. messages (client frames are masked; the JSON is compressed)");
    client.send_text("{\"user\":\"ada\",\"text\":\"hello, hello, hello, hello!\"}")?;
    pump(&mut client, &mut server, now, "client → server");
    events("server", &mut server);
    server.send_binary(vec![42u8; 4096])?;
    pump(&mut server, &mut client, now, "server → client");
    events("client", &mut client);

    println!("\n3. heartbeat: 30 s pass, the client pings, the server answers by itself");
    now += Duration::from_secs(30);
    println!(
        "  client's next deadline was {:?} from start",
        client.poll_timeout().map(|t| t - t0)
    );
    client.handle_timeout(now);
    pump(&mut client, &mut server, now, "client → server");
    events("server", &mut server);
    pump(&mut server, &mut client, now, "server → client");
    events("client", &mut client);

    println!("\n4. close handshake, started by the client");
    client.close(now, CloseCode::NORMAL, "done")?;
    pump(&mut client, &mut server, now, "client → server");
    events("server", &mut server);
    pump(&mut server, &mut client, now, "server → client");
    events("server", &mut server);
    events("client", &mut client);
    println!(
        "  server closes the TCP connection first: {}",
        server.should_close_transport()
    );
    client.handle_eof(now);
    println!(
        "  client then closes its side too: {}",
        client.should_close_transport()
    );
    println!(
        "  client close_reason: {}",
        client.close_reason().expect("ended")
    );
    Ok(())
}
