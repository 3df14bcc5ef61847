//! A memory budget shared by many connections (a server's): incoming data
//! that would take the budget over its limit is refused instead of
//! buffered.
//!
//! Every connection made from a [`Config`](crate::Config) that carries a
//! [`MemoryBudget`] charges it for the input it holds: bytes received and
//! not yet handed to the application (a partial frame, a message being
//! reassembled or inflated, whole frames not yet taken with
//! `poll_event`). The charge is checked *before* the bytes are buffered
//! (before a read is appended, before a compressed frame is inflated), and
//! falls back as messages are handed over, and to zero when the
//! connection ends or is dropped. A connection whose input would take the
//! budget over its limit fails with close 1013 (try again later) and
//! [`ProtocolError::MemoryBudgetExceeded`](crate::ProtocolError::MemoryBudgetExceeded):
//! the server sheds the connection that asks for more, and keeps serving
//! the others.
//!
//! What is counted is payload bytes held, not allocator capacity: the
//! buffers that hold them grow ahead of their contents (inflated data by
//! half, reassembled data by doubling), so up to about twice the budget
//! can be allocated, plus per connection the 64 KiB a partial frame's
//! buffer is reserved ahead. A message once handed to the application is the application's
//! to account for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A limit on the bytes of input that all the connections sharing it may
/// hold at once. Clones share one counter; give one to every connection
/// of a server through [`Config::with_memory_budget`](crate::Config::with_memory_budget).
///
/// ```
/// use wsproto_core::{Config, MemoryBudget};
///
/// let budget = MemoryBudget::new(256 << 20); // 256 MiB for every session together
/// let config = Config::default().with_memory_budget(budget.clone());
/// assert_eq!(budget.used(), 0);
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Shared>,
}

struct Shared {
    limit: usize,
    used: AtomicUsize,
}

impl std::fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit())
            .field("used", &self.used())
            .finish()
    }
}

impl MemoryBudget {
    /// A budget of `bytes`, shared by every clone.
    #[must_use]
    pub fn new(bytes: usize) -> Self {
        MemoryBudget {
            inner: Arc::new(Shared {
                limit: bytes,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The limit, in bytes.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// Bytes charged right now by all the connections sharing it.
    #[must_use]
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Acquire)
    }

    /// Bytes that may still be charged.
    #[must_use]
    pub fn available(&self) -> usize {
        self.limit().saturating_sub(self.used())
    }

    /// Charges `n` more bytes if that keeps the total within the limit.
    fn try_charge(&self, n: usize) -> bool {
        self.inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n)
                    .filter(|&total| total <= self.inner.limit)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.inner.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// One connection's charge against an optional budget; released when
/// dropped.
#[derive(Debug, Default)]
pub(crate) struct Charge {
    budget: Option<MemoryBudget>,
    held: usize,
}

impl Charge {
    pub(crate) fn new(budget: Option<MemoryBudget>) -> Self {
        Charge { budget, held: 0 }
    }

    /// Whether there is a budget to charge (callers skip computing what
    /// to charge when there is not: the receive path's hot loop).
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.budget.is_some()
    }

    /// Sets the charge to `bytes`: `false` (and the charge unchanged) when
    /// growing to it would take the budget over its limit.
    pub(crate) fn set(&mut self, bytes: usize) -> bool {
        let Some(budget) = &self.budget else {
            return true;
        };
        if bytes > self.held {
            if !budget.try_charge(bytes - self.held) {
                return false;
            }
        } else {
            budget.release(self.held - bytes);
        }
        self.held = bytes;
        true
    }

    /// How many more bytes than `held` this connection may hold now
    /// (`usize::MAX` without a budget).
    pub(crate) fn room(&self) -> usize {
        self.budget
            .as_ref()
            .map_or(usize::MAX, MemoryBudget::available)
    }

    /// Bytes charged now.
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// The budget's limit, for the error.
    pub(crate) fn limit(&self) -> usize {
        self.budget.as_ref().map_or(usize::MAX, MemoryBudget::limit)
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_shared_refused_over_the_limit_and_released_on_drop() {
        let budget = MemoryBudget::new(100);
        let mut a = Charge::new(Some(budget.clone()));
        let mut b = Charge::new(Some(budget.clone()));
        assert!(a.set(60));
        assert!(!b.set(41), "60 + 41 is over 100");
        assert_eq!(budget.used(), 60);
        assert!(b.set(40));
        assert_eq!((budget.used(), budget.available()), (100, 0));
        assert!(a.set(10));
        assert_eq!(budget.used(), 50);
        drop(b);
        assert_eq!(budget.used(), 10);
        drop(a);
        assert_eq!(budget.used(), 0);
        let mut free = Charge::new(None);
        assert!(free.set(usize::MAX));
        assert_eq!(free.room(), usize::MAX);
    }
}
