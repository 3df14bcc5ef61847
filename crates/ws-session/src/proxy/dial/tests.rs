//! The race under a virtual clock: connects are fakes that succeed, fail or
//! hang at set virtual times; the executor advances the clock to the next
//! timer whenever everything waits.

use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use super::*;

/// A virtual clock and the timers waiting on it.
#[derive(Debug)]
struct Clock {
    now: Mutex<Instant>,
    waiting: Mutex<Vec<(Instant, Waker)>>,
}

#[derive(Debug, Clone)]
struct VirtualRuntime(Arc<Clock>);

#[derive(Debug)]
struct VirtualTimer {
    clock: Arc<Clock>,
    deadline: Instant,
}

impl Timer for VirtualTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
    }

    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if *self.clock.now.lock().unwrap() >= self.deadline {
            return Poll::Ready(());
        }
        self.clock
            .waiting
            .lock()
            .unwrap()
            .push((self.deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Runtime for VirtualRuntime {
    fn now(&self) -> Instant {
        *self.0.now.lock().unwrap()
    }
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(VirtualTimer {
            clock: self.0.clone(),
            deadline,
        })
    }
    fn spawn(&self, _: Pin<Box<dyn Future<Output = ()> + Send>>) {
        unreachable!("dialing spawns nothing")
    }
}

impl VirtualRuntime {
    fn new() -> Self {
        #[allow(clippy::disallowed_methods)] // one reading to start the virtual clock
        let start = Instant::now();
        VirtualRuntime(Arc::new(Clock {
            now: Mutex::new(start),
            waiting: Mutex::default(),
        }))
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + use<> {
        let mut timer = self.new_timer(self.now() + d);
        std::future::poll_fn(move |cx| timer.as_mut().poll_expired(cx))
    }

    /// Runs `future`, advancing the clock to the earliest waiting timer
    /// whenever it is pending. Panics if it waits on nothing.
    fn run<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            let waiting = std::mem::take(&mut *self.0.waiting.lock().unwrap());
            let next = waiting
                .iter()
                .map(|(deadline, _)| *deadline)
                .min()
                .expect("the dial waits on no timer: it would hang");
            let now = {
                let mut now = self.0.now.lock().unwrap();
                *now = (*now).max(next);
                *now
            };
            // Wake what is due (FuturesUnordered polls only woken attempts);
            // the rest wait on.
            let (due, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|(d, _)| *d <= now);
            self.0.waiting.lock().unwrap().extend(later);
            for (_, waker) in due {
                waker.wake();
            }
        }
    }
}

/// What a fake connect to an address does, after a virtual delay.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Connect(u64),
    Refuse(u64),
    Hang,
}

/// A dial to `addrs` whose fates are given; returns the result (the address
/// connected to, and the virtual milliseconds it took) and when each
/// attempt started.
/// An address and a virtual time in milliseconds.
type At = (SocketAddr, u64);

fn race_with(addrs: &[(&str, Fate)], options: DialOptions) -> (Result<At, DialError>, Vec<At>) {
    let runtime = VirtualRuntime::new();
    let start = runtime.now();
    let ms = |at: Instant| u64::try_from(at.duration_since(start).as_millis()).unwrap();
    let fates: Vec<(SocketAddr, Fate)> = addrs
        .iter()
        .map(|(a, f)| (a.parse().unwrap(), *f))
        .collect();
    let started = Arc::new(Mutex::new(Vec::new()));
    let list: Vec<SocketAddr> = fates.iter().map(|(a, _)| *a).collect();
    let result = runtime.run(dial_addrs(
        &runtime,
        "example.test:443",
        &list,
        &options,
        |addr| {
            let fate = fates.iter().find(|(a, _)| *a == addr).unwrap().1;
            started.lock().unwrap().push((addr, ms(runtime.now())));
            let runtime = runtime.clone();
            async move {
                match fate {
                    Fate::Connect(d) => runtime.sleep(Duration::from_millis(d)).await,
                    Fate::Refuse(d) => {
                        runtime.sleep(Duration::from_millis(d)).await;
                        return Err(io::Error::from(io::ErrorKind::ConnectionRefused));
                    }
                    Fate::Hang => std::future::pending().await,
                }
                Ok(addr)
            }
        },
    ));
    let result = result.map(|(stream, addr)| {
        assert_eq!(stream, addr);
        (addr, ms(runtime.now()))
    });
    let started = started.lock().unwrap().clone();
    (result, started)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn families_alternate_from_the_first_ones() {
    let list = ["[::1]:1", "[::2]:1", "[::3]:1", "10.0.0.1:1", "10.0.0.2:1"].map(addr);
    assert_eq!(
        interleave(&list),
        ["[::1]:1", "10.0.0.1:1", "[::2]:1", "10.0.0.2:1", "[::3]:1"].map(addr)
    );
    let list = ["10.0.0.1:1", "[::1]:1", "[::2]:1"].map(addr);
    assert_eq!(
        interleave(&list),
        ["10.0.0.1:1", "[::1]:1", "[::2]:1"].map(addr)
    );
    assert!(interleave(&[]).is_empty());
}

#[test]
fn an_address_that_hangs_costs_one_stagger() {
    let (result, started) = race_with(
        &[
            ("[2001:db8::1]:443", Fate::Hang),
            ("192.0.2.1:443", Fate::Connect(10)),
        ],
        DialOptions::default(),
    );
    assert_eq!(result.unwrap(), (addr("192.0.2.1:443"), 260));
    assert_eq!(
        started,
        [(addr("[2001:db8::1]:443"), 0), (addr("192.0.2.1:443"), 250)]
    );
}

#[test]
fn a_failure_starts_the_next_attempt_at_once() {
    let (result, started) = race_with(
        &[
            ("[2001:db8::1]:443", Fate::Refuse(20)),
            ("192.0.2.1:443", Fate::Hang),
            ("[2001:db8::2]:443", Fate::Connect(5)),
        ],
        DialOptions::default().stagger(Duration::from_millis(100)),
    );
    // ::1 fails at 20 ms: 192.0.2.1 starts then; the stagger starts ::2 at 120.
    assert_eq!(
        started.iter().map(|s| s.1).collect::<Vec<_>>(),
        [0, 20, 120]
    );
    assert_eq!(result.unwrap(), (addr("[2001:db8::2]:443"), 125));
}

#[test]
fn the_first_to_connect_wins_even_if_started_later() {
    let (result, _) = race_with(
        &[
            ("192.0.2.1:443", Fate::Connect(1000)),
            ("[2001:db8::1]:443", Fate::Connect(100)),
        ],
        DialOptions::default(),
    );
    assert_eq!(result.unwrap(), (addr("[2001:db8::1]:443"), 350));
}

#[test]
fn when_all_fail_the_error_lists_each_address() {
    let (result, started) = race_with(
        &[
            ("[2001:db8::1]:443", Fate::Refuse(5)),
            ("192.0.2.1:443", Fate::Refuse(7)),
        ],
        DialOptions::default(),
    );
    assert_eq!(started.iter().map(|s| s.1).collect::<Vec<_>>(), [0, 5]);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    let DialFailure::Failed(attempts) = &error.failure else {
        panic!("{error:?}")
    };
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        error.to_string(),
        format!(
            "could not connect to example.test:443: every address failed: [2001:db8::1]:443 ({refused}); 192.0.2.1:443 ({refused})",
            refused = io::Error::from(io::ErrorKind::ConnectionRefused)
        )
    );
}

#[test]
fn per_attempt_timeouts() {
    let (result, started) = race_with(
        &[
            ("[2001:db8::1]:443", Fate::Hang),
            ("192.0.2.1:443", Fate::Hang),
        ],
        DialOptions::default().attempt_timeout(Some(Duration::from_secs(1))),
    );
    assert_eq!(started.iter().map(|s| s.1).collect::<Vec<_>>(), [0, 250]);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    assert!(error.to_string().ends_with(
        "every address failed: [2001:db8::1]:443 (timed out after 1s); 192.0.2.1:443 (timed out after 1s)"
    ), "{error}");
}

#[test]
fn the_overall_timeout_names_what_was_still_running_and_what_never_started() {
    let hanging = [
        "[2001:db8::1]:1",
        "192.0.2.1:1",
        "[2001:db8::2]:1",
        "192.0.2.2:1",
    ]
    .map(|a| (a, Fate::Hang));
    let (result, started) = race_with(
        &hanging,
        DialOptions::default().timeout(Some(Duration::from_millis(600))),
    );
    assert_eq!(started.len(), 3, "started at 0, 250 and 500 ms");
    let error = result.unwrap_err();
    let DialFailure::TimedOut { timeout, attempts } = &error.failure else {
        panic!("{error:?}")
    };
    assert_eq!(*timeout, Duration::from_millis(600));
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome.to_string()).collect();
    assert_eq!(
        outcomes,
        [
            "still connecting",
            "still connecting",
            "still connecting",
            "not tried"
        ]
    );
}

#[test]
fn resolution_literals_and_empty_answers() {
    let runtime = VirtualRuntime::new();
    let options = DialOptions::default();
    let connect = |addr: SocketAddr| async move { Ok::<_, io::Error>(addr) };
    let unused = |_: String, _: u16| async { panic!("an IP address is not resolved") };
    let dialled = runtime
        .run(dial(&runtime, "[::1]", 80, &options, unused, connect))
        .unwrap();
    assert_eq!(dialled.1, addr("[::1]:80"));
    let resolver = |host: String, port| async move {
        assert_eq!((host.as_str(), port), ("db.test", 5432));
        Ok(vec![addr("192.0.2.9:5432")])
    };
    let dialled = runtime
        .run(dial(&runtime, "db.test", 5432, &options, resolver, connect))
        .unwrap();
    assert_eq!(dialled.1, addr("192.0.2.9:5432"));
    let empty = |_: String, _| async { Ok(Vec::new()) };
    let error = runtime
        .run(dial(&runtime, "db.test", 1, &options, empty, connect))
        .unwrap_err();
    assert!(matches!(error.failure, DialFailure::NoAddresses), "{error}");
    let failing =
        |_: String, _| async { Err(io::Error::new(io::ErrorKind::NotFound, "no such host")) };
    let error = runtime
        .run(dial(&runtime, "db.test", 1, &options, failing, connect))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not connect to db.test:1: resolving the name failed: no such host"
    );
    let slow = |_: String, _| std::future::pending::<io::Result<Vec<SocketAddr>>>();
    let options = options.timeout(Some(Duration::from_secs(2)));
    let error = runtime
        .run(dial(&runtime, "db.test", 1, &options, slow, connect))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not connect to db.test:1: timed out after 2s resolving the name"
    );
}
