//! `recv()` is cancellation-safe: dropping it inside `select!` at any point
//! loses no message.

mod common;

use common::within;
use ws_tokio::{CloseCode, Config, DeflateConfig, Message};

fn payload(i: usize) -> Vec<u8> {
    // Large enough that a message spans several reads.
    (0..100_000).map(|j| ((i * 31 + j) % 251) as u8).collect()
}

const COUNT: usize = 60;

#[tokio::test]
async fn dropping_recv_in_select_loses_nothing() {
    within(30, async {
        let config = Config::default().with_compression(DeflateConfig::default());
        let (mut client, mut server) = ws_tokio::pair(config).await.unwrap();
        let sender = tokio::spawn(async move {
            for i in 0..COUNT {
                server.send_binary(payload(i)).await.unwrap();
            }
            let _ = server.recv().await;
        });
        let mut received = Vec::new();
        let mut cancelled = 0usize;
        while received.len() < COUNT {
            tokio::select! {
                biased;
                // Ready on its second poll: recv is cancelled whenever it
                // has to wait, in the middle of reads and frames.
                () = tokio::task::yield_now() => cancelled += 1,
                message = client.recv() => received.push(message.unwrap()),
            }
        }
        assert!(cancelled > 0);
        for (i, message) in received.into_iter().enumerate() {
            assert_eq!(message, Message::Binary(payload(i).into()), "message {i}");
        }
        client.close(CloseCode::NORMAL, "").await.unwrap();
        sender.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn dropping_split_recv_in_select_loses_nothing() {
    within(30, async {
        let (client, mut server) = ws_tokio::pair(Config::default()).await.unwrap();
        let sender = tokio::spawn(async move {
            for i in 0..COUNT {
                server.send_binary(payload(i)).await.unwrap();
            }
            let _ = server.recv().await;
        });
        let (mut reader, mut writer) = client.split();
        let mut received = Vec::new();
        while received.len() < COUNT {
            tokio::select! {
                biased;
                () = tokio::task::yield_now() => {}
                message = reader.recv() => received.push(message.unwrap()),
            }
        }
        for (i, message) in received.into_iter().enumerate() {
            assert_eq!(message, Message::Binary(payload(i).into()), "message {i}");
        }
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        sender.await.unwrap();
    })
    .await;
}
