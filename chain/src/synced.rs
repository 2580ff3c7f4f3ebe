//! [`SyncedChain`]: a metagraph kept in memory and refreshed in the background.
//!
//! Why: a miner checks every request against the metagraph (blacklist, stake priority). Asking a
//! node for 256 neurons on the request path would make latency depend on the node, and a node
//! outage would refuse every validator. With this wrapper requests read the last good metagraph;
//! a background task re-reads it every `every` (the miner's `--metagraph.sync_blocks` × 12 s) and,
//! when the node is down, keeps the old one and retries with exponential backoff until it answers.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::RwLock;

use crate::{Chain, ChainError, Metagraph, Retry, WeightsUpdate};
use miid_protocol::Hotkey;

/// The state of the last sync, for `/health` and the metrics.
#[derive(Debug, Clone)]
pub struct SyncStatus {
    /// When the metagraph in memory was read.
    pub synced_at: SystemTime,
    /// Its block.
    pub block: u64,
    pub neurons: usize,
    /// Failed sync attempts since the last success (0 when healthy).
    pub failures: u32,
    /// Failed sync attempts since start.
    pub total_failures: u64,
    pub last_error: Option<String>,
}

pub struct SyncedChain {
    inner: Arc<dyn Chain>,
    current: RwLock<(Arc<Metagraph>, SyncStatus)>,
}

impl std::fmt::Debug for SyncedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncedChain").field("status", &self.status()).finish()
    }
}

impl SyncedChain {
    /// Reads the metagraph once (failing if the chain cannot give it), then refreshes it every
    /// `every`; a failed refresh is retried after `backoff.delay_before(1..)`. The task stops when
    /// the returned value is dropped.
    pub async fn start(inner: Arc<dyn Chain>, every: Duration, backoff: Retry) -> Result<Arc<Self>, ChainError> {
        let first = inner.metagraph().await?;
        let status = SyncStatus {
            synced_at: SystemTime::now(),
            block: first.block,
            neurons: first.neurons.len(),
            failures: 0,
            total_failures: 0,
            last_error: None,
        };
        let me = Arc::new(SyncedChain { inner, current: RwLock::new((Arc::new(first), status)) });
        tokio::spawn(refresh_loop(Arc::downgrade(&me), every, backoff));
        Ok(me)
    }

    pub fn status(&self) -> SyncStatus {
        self.current.read().1.clone()
    }

    /// The metagraph in memory, without cloning it.
    pub fn snapshot(&self) -> Arc<Metagraph> {
        self.current.read().0.clone()
    }

    /// Re-reads the metagraph now; on failure the old one stays and the error is returned.
    pub async fn sync_now(&self) -> Result<(), ChainError> {
        match self.inner.metagraph().await {
            Ok(m) => {
                let status = SyncStatus {
                    synced_at: SystemTime::now(),
                    block: m.block,
                    neurons: m.neurons.len(),
                    failures: 0,
                    total_failures: self.status().total_failures,
                    last_error: None,
                };
                tracing::debug!(block = m.block, neurons = m.neurons.len(), "metagraph synced");
                *self.current.write() = (Arc::new(m), status);
                Ok(())
            }
            Err(e) => {
                let mut w = self.current.write();
                w.1.failures += 1;
                w.1.total_failures += 1;
                w.1.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }
}

async fn refresh_loop(me: Weak<SyncedChain>, every: Duration, backoff: Retry) {
    let mut wait = every;
    loop {
        let started = Instant::now();
        tokio::time::sleep(wait).await;
        let Some(chain) = me.upgrade() else { return };
        match chain.sync_now().await {
            Ok(()) => wait = every,
            Err(e) => {
                let failures = chain.status().failures;
                // Retry sooner than a full period, backing off; never later than the period.
                wait = backoff.delay_before(failures).max(Duration::from_millis(10)).min(every);
                let retry_in_ms = wait.as_millis() as u64;
                let waited_ms = started.elapsed().as_millis() as u64;
                tracing::warn!(error = %e, failures, retry_in_ms, waited_ms, "metagraph sync failed; keeping the previous metagraph");
            }
        }
    }
}

#[async_trait::async_trait]
impl Chain for SyncedChain {
    fn netuid(&self) -> u16 {
        self.inner.netuid()
    }

    fn sync_status(&self) -> Option<SyncStatus> {
        Some(self.status())
    }

    async fn metagraph(&self) -> Result<Metagraph, ChainError> {
        Ok((*self.snapshot()).clone())
    }

    async fn serve_axon(&self, hotkey: &Hotkey, ip: &str, port: u16) -> Result<(), ChainError> {
        self.inner.serve_axon(hotkey, ip, port).await?;
        // Show the new endpoint without waiting a period (ignore a failed read: the loop retries).
        let _ = self.sync_now().await;
        Ok(())
    }

    async fn set_weights(&self, hotkey: &Hotkey, uids: &[u16], weights: &[f64]) -> Result<WeightsUpdate, ChainError> {
        self.inner.set_weights(hotkey, uids, weights).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SnapshotChain;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    fn graph(block: u64) -> String {
        format!(
            r#"{{"netuid": 54, "block": {block}, "neurons": [{{"uid": 0, "hotkey": "{ALICE}", "axon": {{"ip": "0.0.0.0", "port": 0}}}}]}}"#
        )
    }

    #[tokio::test]
    async fn refreshes_in_the_background_and_keeps_the_last_good_metagraph() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        std::fs::write(&p, graph(1)).unwrap();
        let inner: Arc<dyn Chain> = Arc::new(SnapshotChain::from_file(&p).unwrap());
        let fast = Retry {
            attempts: 1,
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
            timeout: Duration::from_secs(1),
        };
        let chain = SyncedChain::start(inner, Duration::from_millis(30), fast).await.unwrap();
        assert_eq!(chain.metagraph().await.unwrap().block, 1);

        std::fs::write(&p, graph(2)).unwrap();
        wait_until(|| chain.status().block == 2).await;

        // The "node" goes away: requests keep the last metagraph, failures are counted.
        std::fs::write(&p, "not json").unwrap();
        wait_until(|| chain.status().failures >= 2).await;
        assert_eq!(chain.metagraph().await.unwrap().block, 2);
        assert!(chain.status().last_error.unwrap().contains("not valid"));

        // It comes back: the next retry picks it up and clears the failures.
        std::fs::write(&p, graph(3)).unwrap();
        wait_until(|| chain.status().block == 3 && chain.status().failures == 0).await;
    }

    #[tokio::test]
    async fn a_chain_that_cannot_answer_at_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        std::fs::write(&p, graph(1)).unwrap();
        let inner = SnapshotChain::from_file(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        assert!(SyncedChain::start(Arc::new(inner), Duration::from_secs(1), Retry::default()).await.is_err());
    }

    async fn wait_until(cond: impl Fn() -> bool) {
        for _ in 0..500 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition not reached within 5 s");
    }
}
