//! The reconnecting client (`Connector::reconnecting`) against servers
//! that die and come back on the same port: the reconnect within the
//! backoff, the hook on every session, the gap reported, messages queued
//! while down, a close code in the set (reconnect) and one outside it
//! (stop), a clean `stop()`, the typed refusal while down and giving up.

use std::time::Duration;

use futures_channel::oneshot;
use ws_session::reconnect::{End, Offline, SendError};
use ws_session::{
    Backoff, CloseCode, CloseFrame, CloseReason, Decision, Message, ReconnectEvent,
    ReconnectEvents, ReconnectOptions, Session,
};

use crate::{Rt, ServerOptions};

/// Short delays so the test waits little: 50 ms doubling up to 400 ms,
/// half jitter, a fixed seed.
fn options() -> ReconnectOptions {
    ReconnectOptions::new()
        .backoff(
            Backoff::new()
                .initial(Duration::from_millis(50))
                .max(Duration::from_millis(400))
                .jitter(0.5),
        )
        .seed(7)
}

async fn next(events: &mut ReconnectEvents) -> ReconnectEvent {
    events.next_event().await.expect("an event")
}

/// The next event that is not a failed attempt (the server may be down
/// for a few of them).
async fn next_past_failures(events: &mut ReconnectEvents) -> ReconnectEvent {
    loop {
        match next(events).await {
            ReconnectEvent::AttemptFailed { .. } => {}
            other => return other,
        }
    }
}

async fn accept<R: Rt>(listener: &R::Listener) -> Session<R::Server> {
    let tcp = R::accept_tcp(listener).await;
    let (ws, _) = R::accept(tcp, ServerOptions::default(), |_| Decision::accept())
        .await
        .expect("the server handshake");
    ws
}

async fn expect_text<R: Rt>(ws: &mut Session<R::Server>, text: &str) {
    assert_eq!(ws.recv().await.expect("a message"), Message::text(text));
}

fn text(event: ReconnectEvent) -> String {
    match event {
        ReconnectEvent::Message(message) => message.to_text().expect("text").to_owned(),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// The server is killed mid-stream (no close handshake) and restarted on
/// the same port; the restarted one asks its client to come back (1012),
/// then closes for good with a code outside the set (1008).
pub async fn reconnects_to_a_server_restarted_on_the_same_port<R: Rt>() {
    let (listener, url) = R::listen().await;
    let addr: std::net::SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
    let options = options().offline(Offline::Queue(2));
    let (client, mut events) = R::reconnecting(&format!("{url}/feed"), options)
        .unwrap()
        .on_connect(test_support::subscribe_hook())
        .start();

    // The first server: it sees the subscription, sends, and dies when told.
    let (kill, killed) = oneshot::channel::<()>();
    let first = R::spawn(async move {
        let mut ws = accept::<R>(&listener).await;
        expect_text::<R>(&mut ws, "subscribe #0").await;
        ws.send_text("from the first server").await.unwrap();
        let _ = killed.await;
        ws.terminate().await;
        drop(listener);
    });
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Connected { attempts: 1 }
    ));
    assert_eq!(text(next(&mut events).await), "from the first server");
    kill.send(()).unwrap();
    first.await;
    let lost = next(&mut events).await;
    assert!(
        matches!(&lost, ReconnectEvent::Disconnected(e) if e.close_reason() == Some(&CloseReason::Abnormal) || matches!(e, ws_session::Error::Io(_))),
        "{lost:?}"
    );
    // While down, sends wait in the queue for the next session.
    assert!(!client.is_connected());
    client.send_text("queued while down").await.unwrap();
    client.send_text("queued too").await.unwrap();
    assert_eq!(
        client.clone().send_text("one too many").await,
        Err(SendError::QueueFull(2))
    );

    // The same port again.
    let listener = R::listener_from_std(test_support::rebind(addr));
    let second = R::spawn(async move {
        let mut ws = accept::<R>(&listener).await;
        // The hook first, then what was queued.
        expect_text::<R>(&mut ws, "subscribe #1").await;
        expect_text::<R>(&mut ws, "queued while down").await;
        expect_text::<R>(&mut ws, "queued too").await;
        ws.send_text("from the second server").await.unwrap();
        // Come back later: a code in the set.
        ws.close(CloseFrame::new(CloseCode::SERVICE_RESTART, "restarting"))
            .await
            .unwrap();
        // The server closes the TCP connection first (RFC 6455 §7.1.1).
        drop(ws);
        let mut ws = accept::<R>(&listener).await;
        expect_text::<R>(&mut ws, "subscribe #2").await;
        ws.send_text("last words").await.unwrap();
        // Go away for good: a code outside the set.
        ws.close(CloseFrame::new(CloseCode::POLICY_VIOLATION, "banned"))
            .await
            .unwrap();
    });
    let ReconnectEvent::Reconnected { attempts, gap } = next_past_failures(&mut events).await
    else {
        panic!("expected Reconnected");
    };
    assert!(attempts >= 1);
    // At least the shortest first delay (50 ms less half), and well within
    // a few backoff periods.
    assert!(gap >= Duration::from_millis(25), "{gap:?}");
    assert!(gap < Duration::from_secs(10), "{gap:?}");
    assert_eq!(text(next(&mut events).await), "from the second server");
    let restart = next(&mut events).await;
    assert!(
        matches!(&restart, ReconnectEvent::Disconnected(e) if e.close_reason().map(CloseReason::code) == Some(CloseCode::SERVICE_RESTART)),
        "{restart:?}"
    );
    assert!(matches!(
        next_past_failures(&mut events).await,
        ReconnectEvent::Reconnected { .. }
    ));
    assert_eq!(text(next(&mut events).await), "last words");
    let ReconnectEvent::Ended(End::Closed(reason)) = next(&mut events).await else {
        panic!("expected the end");
    };
    assert_eq!(reason.code(), CloseCode::POLICY_VIOLATION);
    assert!(events.next_event().await.is_none());
    second.await;
    assert_eq!(client.send_text("too late").await, Err(SendError::Stopped));
}

/// `stop()` closes the session with 1000, ends the events, and returns
/// once done.
pub async fn stop_closes_cleanly_and_ends_the_events<R: Rt>() {
    let (listener, url) = R::listen().await;
    let (client, mut events) = R::reconnecting(&url, options()).unwrap().start();
    let server = R::spawn(async move {
        let mut ws = accept::<R>(&listener).await;
        ws.send_text("hello").await.unwrap();
        // The client's Close arrives and the handshake completes.
        let end = ws.recv().await.unwrap_err();
        end.close_reason().cloned()
    });
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Connected { .. }
    ));
    assert_eq!(text(next(&mut events).await), "hello");
    client.stop().await;
    let seen = server.await.expect("a close reason");
    assert!(seen.is_clean(), "{seen:?}");
    assert_eq!(seen.code(), CloseCode::NORMAL);
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Ended(End::Stopped)
    ));
    assert!(events.next_event().await.is_none());
    // Stopping again returns at once.
    client.stop().await;
}

/// With `Offline::Fail` a send while down is refused; after
/// `max_attempts` failures in a row the client gives up.
pub async fn refuses_sends_while_down_and_gives_up<R: Rt>() {
    let (listener, url) = R::listen().await;
    let options = options().offline(Offline::Fail).max_attempts(Some(2));
    let (client, mut events) = R::reconnecting(&url, options).unwrap().start();
    let server = R::spawn(async move {
        let mut ws = accept::<R>(&listener).await;
        ws.terminate().await;
        // The listener goes with the task: nothing answers any more.
    });
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Connected { .. }
    ));
    server.await;
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Disconnected(_)
    ));
    assert_eq!(
        client.send_text("nobody listens").await,
        Err(SendError::Disconnected)
    );
    let ReconnectEvent::AttemptFailed {
        attempt, retry_in, ..
    } = next(&mut events).await
    else {
        panic!("expected a failed attempt");
    };
    assert_eq!(attempt, 1);
    // The second delay of the backoff: 100 ms less up to half.
    assert!(retry_in >= Duration::from_millis(50) && retry_in <= Duration::from_millis(100));
    let ReconnectEvent::Ended(End::GaveUp { attempts, error }) = next(&mut events).await else {
        panic!("expected to give up");
    };
    assert_eq!(attempts, 2);
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(events.next_event().await.is_none());
}

/// A hook that fails counts as a failed attempt: the session is dropped,
/// the backoff runs, and the next session's hook runs again.
pub async fn a_failing_hook_is_a_failed_attempt<R: Rt>() {
    let url = crate::echo_server::<R>(ServerOptions::default()).await;
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counted = runs.clone();
    let (client, mut events) = R::reconnecting(&url, options())
        .unwrap()
        .on_connect(move |ws, _| {
            let run = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async move {
                if run == 0 {
                    // Sending on a closed session fails: the hook's error.
                    ws.close(CloseFrame::new(CloseCode::NORMAL, "")).await?;
                }
                ws.send_text(format!("hook run {run}")).await
            })
        })
        .start();
    let ReconnectEvent::AttemptFailed { attempt, error, .. } = next(&mut events).await else {
        panic!("expected the hook's failure");
    };
    assert_eq!(attempt, 1);
    assert!(error.to_string().contains("ended"), "{error}");
    assert!(matches!(
        next(&mut events).await,
        ReconnectEvent::Connected { attempts: 2 }
    ));
    // The echo of the second run's message: it went out on the session.
    assert_eq!(text(next(&mut events).await), "hook run 1");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    client.stop().await;
}
