//! The beacon's notion of "now".
//!
//! A real beacon publishes round `r` only once its time has come; the mock keeps that rule (the
//! validator's "wait for the round" logic is code under test), but scenarios cannot wait 40
//! minutes of wall time for a reveal. A [`ManualClock`] keeps the rule and lets the test decide
//! when time passes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Where the beacon reads the time, in whole Unix seconds (drand's round arithmetic is in seconds).
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that only moves when told to.
    Manual(ManualClock),
}

impl Clock {
    /// A manual clock starting at `start` (Unix seconds).
    pub fn manual(start: u64) -> (Clock, ManualClock) {
        let m = ManualClock::new(start);
        (Clock::Manual(m.clone()), m)
    }

    /// Current Unix time in seconds.
    pub fn now(&self) -> u64 {
        match self {
            Clock::System => system_now(),
            Clock::Manual(m) => m.now(),
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }

    /// Waits until the clock reads at least `t`, or until `limit` of real time has passed.
    /// Returns whether `t` was reached.
    pub async fn wait_until(&self, t: u64, limit: Duration) -> bool {
        match self {
            Clock::System => {
                let target = UNIX_EPOCH + Duration::from_secs(t);
                let wait = target.duration_since(SystemTime::now()).unwrap_or_default();
                if wait > limit {
                    tokio::time::sleep(limit).await;
                    return system_now() >= t;
                }
                tokio::time::sleep(wait).await;
                // Sleep granularity can wake a hair early; the round is "out" by its whole second.
                while system_now() < t {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                true
            }
            Clock::Manual(m) => {
                let mut rx = m.tx.subscribe();
                let reached = tokio::time::timeout(limit, rx.wait_for(|now| *now >= t)).await;
                matches!(reached, Ok(Ok(_)))
            }
        }
    }
}

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A shared, fast-forwardable clock. Clones share the same time; moving it wakes every request
/// that is long-polling for the next round.
#[derive(Debug, Clone)]
pub struct ManualClock {
    tx: Arc<watch::Sender<u64>>,
}

impl ManualClock {
    pub fn new(start: u64) -> Self {
        ManualClock { tx: Arc::new(watch::Sender::new(start)) }
    }

    /// A manual clock that starts at the current system time.
    pub fn starting_now() -> Self {
        Self::new(system_now())
    }

    pub fn now(&self) -> u64 {
        *self.tx.borrow()
    }

    /// Moves the clock forward by `secs` and returns the new time.
    pub fn advance(&self, secs: u64) -> u64 {
        let mut now = 0;
        self.tx.send_modify(|t| {
            *t = t.saturating_add(secs);
            now = *t;
        });
        now
    }

    /// Sets the clock to `t`. Time never runs backwards for a beacon (a published round cannot be
    /// unpublished), so an earlier `t` is ignored; returns the resulting time.
    pub fn set(&self, t: u64) -> u64 {
        let mut now = 0;
        self.tx.send_modify(|cur| {
            *cur = (*cur).max(t);
            now = *cur;
        });
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let (clock, m) = Clock::manual(1000);
        assert_eq!(clock.now(), 1000);
        assert_eq!(m.advance(5), 1005);
        assert_eq!(clock.now(), 1005);
        assert_eq!(m.set(900), 1005);
        assert_eq!(m.set(2000), 2000);
        assert_eq!(clock.now(), 2000);
    }

    #[tokio::test]
    async fn manual_wait_wakes_on_advance() {
        let (clock, m) = Clock::manual(100);
        let waiter = tokio::spawn({
            let clock = clock.clone();
            async move { clock.wait_until(103, Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        m.advance(3);
        assert!(waiter.await.unwrap());
        assert!(!clock.wait_until(200, Duration::from_millis(20)).await);
    }

    #[test]
    fn system_clock_is_now() {
        let a = Clock::System.now();
        assert!(a > 1_700_000_000);
    }
}
