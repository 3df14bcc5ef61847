//! Code written the way tokio-tungstenite users write it, compiled and run
//! against ws-tokio. Only the `use` lines differ from a tokio-tungstenite
//! program: `connect_async` and `accept_async` are imported under those
//! names, `Message` and `IntoClientRequest` from `ws_tokio`.

use futures_util::{SinkExt, StreamExt, TryStreamExt, future};
use tokio::net::{TcpListener, TcpStream};
use ws_tokio::http::HeaderValue;
use ws_tokio::{IntoClientRequest, Message, accept as accept_async, connect as connect_async};

use crate::within;

/// tokio-tungstenite's echo server, as its examples write it.
async fn accept_connection(stream: TcpStream) {
    let _addr = stream
        .peer_addr()
        .expect("connected streams should have a peer address");
    let ws_stream = accept_async(stream)
        .await
        .expect("Error during the websocket handshake occurred");
    let (write, read) = ws_stream.split();
    // We should not forward messages other than text or binary.
    read.try_filter(|msg| future::ready(msg.is_text() || msg.is_binary()))
        .forward(write)
        .await
        .expect("Failed to forward messages");
}

async fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("Failed to bind");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(accept_connection(stream));
        }
    });
    format!("ws://{addr}/")
}

#[tokio::test]
async fn split_send_and_next_as_in_tokio_tungstenite() {
    within(20, async {
        let url = echo_server().await;
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("x-client", HeaderValue::from_static("switcher"));
        let (ws_stream, response) = connect_async(request).await.expect("Failed to connect");
        assert_eq!(response.status(), 101);

        let (mut write, mut read) = ws_stream.split();
        write.send(Message::Text("hello".into())).await.unwrap();
        write
            .send(Message::Binary(vec![1, 2, 3].into()))
            .await
            .unwrap();
        write.send(Message::Ping(vec![7].into())).await.unwrap();

        // The echoes come back in order; the pong to our ping (sent by the
        // server's session itself) comes whenever it was written.
        let mut echoes = Vec::new();
        let mut pong = None;
        while echoes.len() < 2 || pong.is_none() {
            match read.next().await.unwrap().unwrap() {
                Message::Pong(payload) => pong = Some(payload),
                other => echoes.push(other),
            }
        }
        assert_eq!(
            echoes,
            [Message::text("hello"), Message::binary(vec![1, 2, 3])]
        );
        assert_eq!(pong.unwrap(), vec![7]);

        write.send(Message::Close(None)).await.unwrap();
        let mut saw_close = false;
        while let Some(message) = read.next().await {
            saw_close |= message.unwrap().is_close();
        }
        assert!(saw_close, "the server's Close is in the stream");
    })
    .await;
}

#[tokio::test]
async fn a_read_loop_that_matches_every_variant() {
    within(20, async {
        let url = echo_server().await;
        let (mut ws_stream, _) = connect_async(&url).await.unwrap();
        ws_stream.send(Message::text("first")).await.unwrap();
        ws_stream.send(Message::text("last")).await.unwrap();
        let mut texts = Vec::new();
        while let Some(msg) = ws_stream.next().await {
            match msg.unwrap() {
                Message::Text(text) => {
                    texts.push(text.as_str().to_owned());
                    if text == "last" {
                        ws_stream.close(None).await.unwrap();
                    }
                }
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                Message::Close(frame) => {
                    assert_eq!(frame.unwrap().code, ws_tokio::CloseCode::NORMAL);
                }
            }
        }
        assert_eq!(texts, ["first", "last"]);
    })
    .await;
}
