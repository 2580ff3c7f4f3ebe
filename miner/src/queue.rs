//! A priority gate in front of the miner's work: at most `slots` requests work at once, and
//! waiting requests are admitted by stake (highest first, then arrival order). This is where
//! the reference's "priority = stake" (spec 3.2) actually changes something: when several
//! validators' requests wait for the GPU, the larger stake goes first.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

#[derive(Debug)]
struct Waiter {
    priority: f64,
    seq: u64,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiter {
    /// Max-heap: higher priority first, then lower sequence number (earlier arrival).
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.total_cmp(&other.priority).then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug)]
struct State {
    free: usize,
    seq: u64,
    waiting: BinaryHeap<Waiter>,
}

/// The gate. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PriorityGate {
    state: Arc<Mutex<State>>,
}

/// Holding one of these is the right to work; dropping it admits the next waiter.
#[derive(Debug)]
pub struct Permit {
    state: Arc<Mutex<State>>,
}

impl PriorityGate {
    pub fn new(slots: usize) -> Self {
        PriorityGate { state: Arc::new(Mutex::new(State { free: slots.max(1), seq: 0, waiting: BinaryHeap::new() })) }
    }

    /// Waits for a slot. Cancelling the future (e.g. by a timeout) gives up the place in line.
    pub async fn acquire(&self, priority: f64) -> Permit {
        let rx = {
            let mut s = self.state.lock();
            if s.free > 0 && s.waiting.is_empty() {
                s.free -= 1;
                return Permit { state: self.state.clone() };
            }
            let (tx, rx) = oneshot::channel();
            s.seq += 1;
            let seq = s.seq;
            s.waiting.push(Waiter { priority, seq, wake: tx });
            rx
        };
        // The sender is only dropped after it was used to hand over a slot.
        let _ = rx.await;
        Permit { state: self.state.clone() }
    }

    /// Requests currently waiting.
    pub fn waiting(&self) -> usize {
        self.state.lock().waiting.len()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.state.lock();
        // Hand the slot to the best waiter still listening; a waiter that gave up (its receiver
        // dropped) is skipped.
        while let Some(w) = s.waiting.pop() {
            if w.wake.send(()).is_ok() {
                return;
            }
        }
        s.free += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn higher_stake_goes_first_and_cancelled_waiters_are_skipped() {
        let gate = PriorityGate::new(1);
        let first = gate.acquire(0.0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut handles = Vec::new();
        for (name, prio) in [("low", 1.0), ("high", 100.0), ("mid", 10.0)] {
            let (g, o) = (gate.clone(), order.clone());
            handles.push(tokio::spawn(async move {
                let _p = g.acquire(prio).await;
                o.lock().push(name);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // a waiter that times out leaves the line
        let g = gate.clone();
        assert!(tokio::time::timeout(Duration::from_millis(5), g.acquire(1000.0)).await.is_err());
        assert_eq!(gate.waiting(), 4);
        drop(first);
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(*order.lock(), vec!["high", "mid", "low"]);
        // all slots returned
        let _again = tokio::time::timeout(Duration::from_millis(50), gate.acquire(0.0)).await.unwrap();
    }
}
