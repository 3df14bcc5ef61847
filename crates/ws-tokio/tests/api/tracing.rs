//! With the `tracing` feature, the connect, handshake and close events are
//! emitted with what a person needs: run with
//! `cargo test -p ws-tokio --features tracing --test api`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};
use ws_tokio::{Acceptor, CloseCode, CloseFrame, Decision};

use crate::{listen, within};

/// Records every event as `LEVEL message key=value…`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

impl Recorder {
    fn has(&self, level: Level, parts: &[&str]) -> bool {
        let level = level.to_string();
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with(&level) && parts.iter().all(|p| l.contains(p)))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn connect_handshake_and_close_are_traced() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let (mut ws, _) = Acceptor::new().accept(tcp).await.unwrap();
            while ws.recv().await.is_ok() {}
        });
        let (mut ws, _) = ws_tokio::connect(&format!("{url}/traced")).await.unwrap();
        ws.close(CloseFrame::new(CloseCode::NORMAL, "done"))
            .await
            .unwrap();
        server.await.unwrap();
    })
    .await;
    assert!(recorder.has(Level::DEBUG, &["WebSocket connecting", "host=127.0.0.1"]));
    assert!(recorder.has(Level::DEBUG, &["client handshake done", "101"]));
    assert!(recorder.has(Level::DEBUG, &["server handshake done", "/traced"]));
    assert!(recorder.has(Level::DEBUG, &["Close sent", "code=1000", "done"]));
    assert!(recorder.has(Level::DEBUG, &["Close received", "code=1000"]));
    assert!(recorder.has(Level::DEBUG, &["closed cleanly", "code=1000"]));
}

#[tokio::test(flavor = "current_thread")]
async fn failures_are_warnings_that_say_what_happened() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    within(10, async {
        let (listener, url) = listen().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = Acceptor::new()
                .accept_with(tcp, |_| {
                    Decision::reject(ws_tokio::http::StatusCode::FORBIDDEN, "no entry")
                })
                .await;
        });
        assert!(ws_tokio::connect(&url).await.is_err());
        server.await.unwrap();
        // A port nobody listens on: bind one, learn it, close it.
        let (closed, closed_url) = listen().await;
        drop(closed);
        assert!(ws_tokio::connect(&closed_url).await.is_err());
    })
    .await;
    assert!(recorder.has(Level::WARN, &["client handshake failed", "403"]));
    assert!(recorder.has(Level::WARN, &["server handshake failed", "403"]));
    assert!(recorder.has(Level::WARN, &["connect failed", "127.0.0.1"]));
}
