//! How long to wait before the next connection attempt: exponential
//! backoff with jitter, as a pure function of the attempt number and a
//! random value the caller draws (no clock, no RNG inside), and the small
//! seeded generator the reconnecting client draws from.

use std::time::Duration;

/// First delay: long enough that a server restarting does not meet its
/// clients all at once, short enough that a person barely notices.
const DEFAULT_INITIAL: Duration = Duration::from_secs(1);
/// Longest delay: a server down for long is tried once a minute.
const DEFAULT_MAX: Duration = Duration::from_secs(60);
/// Doubling per failed attempt.
const DEFAULT_MULTIPLIER: u32 = 2;
/// Up to half of each delay is taken off at random ("equal jitter"), so
/// clients that lost the same server spread their attempts out.
const DEFAULT_JITTER: f64 = 0.5;

/// Exponential backoff with jitter: before attempt `n` (0 after a loss,
/// counting failed attempts since), wait
/// `min(max, initial × multiplierⁿ) × (1 − jitter × u)` with `u` uniform in
/// `[0, 1)`.
///
/// ```
/// use std::time::Duration;
/// use ws_session::Backoff;
///
/// let backoff = Backoff::new()
///     .initial(Duration::from_millis(100))
///     .max(Duration::from_secs(1))
///     .jitter(0.5);
/// // `random` 0 takes nothing off, u64::MAX almost half.
/// assert_eq!(backoff.delay(0, 0), Duration::from_millis(100));
/// assert_eq!(backoff.delay(3, 0), Duration::from_millis(800));
/// assert_eq!(backoff.delay(9, 0), Duration::from_secs(1));
/// assert!(backoff.delay(3, u64::MAX) >= Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    multiplier: u32,
    jitter: f64,
}

impl Default for Backoff {
    /// 1 s, doubling, at most 60 s, half jitter.
    fn default() -> Self {
        Backoff {
            initial: DEFAULT_INITIAL,
            max: DEFAULT_MAX,
            multiplier: DEFAULT_MULTIPLIER,
            jitter: DEFAULT_JITTER,
        }
    }
}

impl Backoff {
    /// The defaults: 1 s, doubling, at most 60 s, half jitter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The delay before the first attempt after a loss.
    #[must_use]
    pub fn initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The longest delay.
    #[must_use]
    pub fn max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// The factor per failed attempt (1: a constant delay).
    #[must_use]
    pub fn multiplier(mut self, factor: u32) -> Self {
        self.multiplier = factor;
        self
    }

    /// The share of each delay that may be taken off at random, clamped to
    /// `0.0..=1.0` (0: no jitter; 1: "full jitter", anywhere from 0 to the
    /// delay).
    #[must_use]
    pub fn jitter(mut self, share: f64) -> Self {
        self.jitter = if share.is_nan() {
            0.0
        } else {
            share.clamp(0.0, 1.0)
        };
        self
    }

    /// The delay before attempt `attempt` (0-based: failed attempts since
    /// the loss) given `random`, a uniformly random `u64`. A pure
    /// function: the same inputs give the same delay.
    #[must_use]
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let growth = self.multiplier.max(1).saturating_pow(attempt);
        let base = self.initial.saturating_mul(growth).min(self.max);
        // The top 53 bits as a fraction in [0, 1).
        #[allow(clippy::cast_precision_loss)]
        let unit = (random >> 11) as f64 / (1u64 << 53) as f64;
        base.mul_f64(1.0 - self.jitter * unit)
    }
}

/// `SplitMix64` (Steele, Lea and Flood, 2014): a tiny generator, plenty for
/// spreading delays, seeded from the operating system or by a test.
#[derive(Debug, Clone)]
pub(crate) struct JitterRng(u64);

impl JitterRng {
    pub(crate) fn new(seed: u64) -> Self {
        JitterRng(seed)
    }

    /// A seed from the operating system's RNG (a fixed one if it has none:
    /// jitter is not a secret).
    pub(crate) fn from_os() -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        JitterRng(u64::from_le_bytes(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn grows_by_the_multiplier_up_to_the_max_without_jitter() {
        let backoff = Backoff::new()
            .initial(ms(100))
            .max(ms(1000))
            .multiplier(3)
            .jitter(0.0);
        let delays: Vec<Duration> = (0..5).map(|n| backoff.delay(n, u64::MAX)).collect();
        assert_eq!(delays, [ms(100), ms(300), ms(900), ms(1000), ms(1000)]);
        // Huge attempt numbers saturate instead of overflowing.
        assert_eq!(backoff.delay(u32::MAX, 7), ms(1000));
    }

    #[test]
    fn seeded_jitter_is_reproducible_and_stays_in_its_band() {
        let backoff = Backoff::new().initial(ms(100)).max(ms(10_000)).jitter(0.5);
        let draw = |seed| {
            let mut rng = JitterRng::new(seed);
            (0..8)
                .map(|n| backoff.delay(n, rng.next_u64()))
                .collect::<Vec<_>>()
        };
        let first = draw(42);
        assert_eq!(first, draw(42), "the same seed gives the same delays");
        assert_ne!(first, draw(43), "another seed gives others");
        for (n, delay) in first.iter().enumerate() {
            let base = ms(100 * (1 << n)).min(ms(10_000));
            assert!(
                *delay <= base && *delay >= base / 2,
                "{n}: {delay:?} of {base:?}"
            );
        }
        // Jitter actually spreads: not every delay is the base.
        assert!(
            first
                .iter()
                .enumerate()
                .any(|(n, d)| *d < ms(100 * (1 << n)))
        );
    }

    #[test]
    fn full_jitter_reaches_down_to_zero_and_bad_shares_are_clamped() {
        let full = Backoff::new().initial(ms(100)).jitter(7.0);
        assert_eq!(full.delay(0, 0), ms(100));
        assert!(full.delay(0, u64::MAX) < ms(1));
        let none = Backoff::new().initial(ms(100)).jitter(f64::NAN);
        assert_eq!(none.delay(0, u64::MAX), ms(100));
        let constant = Backoff::new().initial(ms(5)).multiplier(0).jitter(0.0);
        assert_eq!(constant.delay(10, 0), ms(5));
    }
}
