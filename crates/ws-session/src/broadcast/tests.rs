use std::sync::{Arc, Mutex};

use super::*;

/// A subscriber with room for `room` messages; records what it took and
/// the close it was asked for.
#[derive(Clone, Default)]
struct Fake {
    room: usize,
    closed: bool,
    log: Arc<Mutex<(Vec<String>, Option<u16>)>>,
}

impl Fake {
    fn with_room(room: usize) -> Self {
        Fake {
            room,
            ..Fake::default()
        }
    }

    fn got(&self) -> Vec<String> {
        self.log.lock().unwrap().0.clone()
    }

    fn close_code(&self) -> Option<u16> {
        self.log.lock().unwrap().1
    }
}

impl Subscriber for Fake {
    fn try_send_prepared(&mut self, message: &PreparedMessage) -> Result<(), TrySendError> {
        if self.closed {
            return Err(TrySendError::Closed);
        }
        let mut log = self.log.lock().unwrap();
        if log.0.len() == self.room {
            return Err(TrySendError::Full);
        }
        log.0
            .push(String::from_utf8_lossy(message.message().as_bytes()).into_owned());
        Ok(())
    }

    fn close_soon(&mut self, code: CloseCode, _reason: &str) {
        self.log.lock().unwrap().1 = Some(code.0);
        self.closed = true;
    }
}

fn text(s: &str) -> PreparedMessage {
    PreparedMessage::text(s.to_owned())
}

#[test]
fn topics_reach_their_subscribers_only_and_publish_all_reaches_each_member_once() {
    let hub = Hub::new(SlowPolicy::Drop);
    let (a, b) = (Fake::with_room(10), Fake::with_room(10));
    let member_a = hub.join(a.clone());
    let member_b = hub.join(b.clone());
    assert!(member_a.subscribe("x"));
    assert!(!member_a.subscribe("x"), "once");
    member_a.subscribe("y");
    member_b.subscribe("y");
    assert_eq!(hub.publish("x", text("1")).delivered, 1);
    assert_eq!(hub.publish("y", text("2")).delivered, 2);
    assert_eq!(hub.publish("nobody", text("3")), Delivery::default());
    assert_eq!(hub.publish_all(text("4")).delivered, 2);
    assert_eq!(a.got(), ["1", "2", "4"]);
    assert_eq!(b.got(), ["2", "4"]);
    assert!(member_a.unsubscribe("y"));
    assert!(!member_a.unsubscribe("y"));
    assert_eq!(hub.subscribers("y"), 1);
    let mut topics = hub.topics();
    topics.sort();
    assert_eq!(topics, ["x", "y"]);
    drop(member_b);
    assert_eq!(
        hub.subscribers("y"),
        0,
        "a dropped member leaves its topics"
    );
    assert_eq!(hub.topics(), ["x"]);
    assert_eq!(hub.stats().members, 1);
    assert_eq!(hub.stats().published, 4);
    assert_eq!(hub.stats().delivered, 5);
}

#[test]
fn drop_policy_skips_a_full_subscriber_and_counts_it() {
    let hub = Hub::new(SlowPolicy::Drop);
    let slow = Fake::with_room(2);
    let fast = Fake::with_room(100);
    let member_slow = hub.join(slow.clone());
    let member_fast = hub.join(fast.clone());
    member_slow.subscribe("t");
    member_fast.subscribe("t");
    for i in 0..5 {
        hub.publish("t", text(&i.to_string()));
    }
    assert_eq!(fast.got().len(), 5);
    assert_eq!(slow.got(), ["0", "1"]);
    assert_eq!((member_slow.delivered(), member_slow.dropped()), (2, 3));
    assert_eq!(hub.stats().dropped, 3);
    assert!(!member_slow.is_gone(), "still subscribed");
    assert_eq!(hub.subscribers("t"), 2);
}

#[test]
fn close_policy_closes_a_full_subscriber_and_removes_it() {
    let hub = Hub::new(SlowPolicy::Close(CloseCode::TRY_AGAIN_LATER));
    let slow = Fake::with_room(1);
    let member_slow = hub.join(slow.clone());
    let member_fast = hub.join(Fake::with_room(100));
    member_slow.subscribe("t");
    member_fast.subscribe("t");
    hub.publish("t", text("a"));
    let delivery = hub.publish("t", text("b"));
    assert_eq!((delivery.delivered, delivery.closed), (1, 1));
    assert_eq!(slow.close_code(), Some(1013));
    assert!(member_slow.is_gone());
    assert_eq!(hub.subscribers("t"), 1);
    assert!(
        !member_slow.subscribe("u"),
        "a closed member takes no topic"
    );
    assert_eq!(hub.publish("t", text("c")).closed, 0);
    assert_eq!(hub.stats().closed, 1);
    let fast = Fake::with_room(1);
    let _member = hub.join(fast.clone());
    hub.close_all(CloseCode::GOING_AWAY, "bye");
    assert_eq!(fast.close_code(), Some(1001));
}

#[test]
fn a_closed_subscriber_is_removed_at_the_next_delivery() {
    let hub = Hub::new(SlowPolicy::Drop);
    let mut closed = Fake::with_room(5);
    closed.closed = true;
    let member = hub.join(closed);
    member.subscribe("t");
    assert_eq!(hub.publish("t", text("a")).closed, 1);
    assert_eq!(hub.subscribers("t"), 0);
    assert_eq!(hub.stats().members, 0);
}

#[test]
fn the_hub_is_a_one_node_backplane() {
    let hub = Hub::new(SlowPolicy::Drop);
    let inbox = Fake::with_room(5);
    let member = hub.join(inbox.clone());
    member.subscribe("t");
    let backplane: &dyn Backplane = &hub;
    futures_executor::block_on(backplane.publish("t", wsproto_core::Message::Text("hi".into())))
        .unwrap();
    assert_eq!(inbox.got(), ["hi"]);
    assert!(backplane.status().connected);
}
