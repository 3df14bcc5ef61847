//! One attack's setting: the adapter's runtime, our echo server, a
//! bystander echoing through it, and the heap meter; and the checks every
//! attack ends with.

use std::future::Future;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ws_session::{Config, Session};

use crate::adapter::Adapter;
use crate::harness::{Bystander, ServerUnderTest, config, run_client};
use crate::heap::{HeapMeter, HeapReport};
use crate::peer::RawServer;

/// The setting of one attack.
#[derive(Debug)]
pub struct Scene<A: Adapter> {
    /// The adapter and its runtime.
    pub adapter: A,
    /// Our echo server.
    pub server: ServerUnderTest,
    bystander: Bystander,
    meter: Option<HeapMeter>,
    started: Instant,
    attack: &'static str,
}

/// What an attack measured, printed with `--nocapture`.
#[derive(Debug)]
pub struct Figures {
    /// Heap growth and its allowance.
    pub heap: HeapReport,
    /// The allowance computed from the config.
    pub allowance: usize,
    /// How long the attack took to reach its outcome.
    pub took: Duration,
    /// Echoes the bystander completed in all.
    pub echoes: u64,
}

impl<A: Adapter> Scene<A> {
    /// Starts the runtime, the server (with [`config`]) and the bystander.
    #[must_use]
    pub fn new(attack: &'static str) -> Self {
        Self::with_config(attack, config())
    }

    /// As [`new`](Self::new), with the server configured by `server_config`
    /// (the bystander keeps [`config`]).
    #[must_use]
    pub fn with_config(attack: &'static str, server_config: Config) -> Self {
        let adapter = A::start();
        let server = ServerUnderTest::start(&adapter, server_config);
        let bystander = Bystander::start(&adapter, &server);
        Scene {
            adapter,
            server,
            bystander,
            meter: None,
            started: Instant::now(),
            attack,
        }
    }

    /// The attack starts now: the heap meter takes its baseline and the
    /// bystander's pauses count from here.
    pub fn attack_starts(&mut self) {
        self.bystander.attack_starts();
        self.meter = Some(HeapMeter::start());
        self.started = Instant::now();
    }

    /// Runs `script` on our client connected to the malicious `server`
    /// (see [`run_client`]).
    pub fn client_against<F, Fut, T>(
        &self,
        server: &RawServer,
        config: &Config,
        script: F,
    ) -> Receiver<T>
    where
        F: FnOnce(Session<A::Stream>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send,
        T: Send + 'static,
    {
        run_client(&self.adapter, server.url(), config.clone(), script)
    }

    /// How long since the attack started.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The attack has reached its outcome: checks the heap stayed within
    /// `allowance`, the bystander was unaffected and still closes cleanly,
    /// and prints the figures.
    ///
    /// # Panics
    /// If any check fails, or [`attack_starts`](Self::attack_starts) was
    /// not called.
    pub fn finish(mut self, allowance: usize, outcome: &str) -> Figures {
        let took = self.elapsed();
        let heap = self
            .meter
            .take()
            .expect("attack_starts was called")
            .finish();
        let bystander = self.bystander.assert_unaffected(self.attack);
        eprintln!(
            "[{}] {}: {outcome}; heap +{} KiB at peak (allowance {} KiB), RSS +{} KiB; \
             bystander {} echoes, longest pause {:?}; took {took:?}",
            A::NAME,
            self.attack,
            heap.growth() / 1024,
            allowance / 1024,
            heap.rss_growth() / 1024,
            bystander.rounds,
            bystander.max_gap,
        );
        heap.assert_within(allowance, self.attack);
        let echoes = self.bystander.finish();
        assert!(echoes > 0);
        Figures {
            heap,
            allowance,
            took,
            echoes,
        }
    }
}
