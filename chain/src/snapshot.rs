//! [`SnapshotChain`]: a subnet held in a metagraph JSON file, for local runs and tests.
//!
//! The file is re-read on every [`Chain::metagraph`] call, so an operator (or a scenario) can
//! edit it while a miner runs — add a validator, revoke a permit — and the next request sees
//! it. `serve_axon` and `set_weights` change only the in-memory view (and `set_weights` keeps a
//! history a scenario can assert on); the file is never written behind the operator's back.

use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::{Chain, ChainError, Metagraph, WeightsUpdate};
use miid_protocol::Hotkey;

/// The subnet's burn UID (validators send the burn share there, spec validator-round.md 13). A
/// local snapshot rarely lists UID 59, but a validator's weights always carry it, so
/// `set_weights` accepts it like on mainnet, where UID 59 exists.
pub const BURN_UID: u16 = 59;

#[derive(Debug)]
pub struct SnapshotChain {
    source: Source,
    served: Mutex<Vec<(String, String, u16)>>,
    weights: Mutex<Vec<WeightsUpdate>>,
}

#[derive(Debug)]
enum Source {
    File(PathBuf),
    Memory(Mutex<Metagraph>),
}

impl SnapshotChain {
    /// Reads `path` once to validate it, then re-reads it on each call.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ChainError> {
        let path = path.as_ref().to_path_buf();
        read(&path)?;
        Ok(SnapshotChain { source: Source::File(path), served: Mutex::default(), weights: Mutex::default() })
    }

    /// A fixed in-memory metagraph.
    pub fn from_metagraph(m: Metagraph) -> Self {
        SnapshotChain { source: Source::Memory(Mutex::new(m)), served: Mutex::default(), weights: Mutex::default() }
    }

    /// Every `set_weights` call so far, oldest first.
    pub fn weights_history(&self) -> Vec<WeightsUpdate> {
        self.weights.lock().clone()
    }

    fn current(&self) -> Result<Metagraph, ChainError> {
        let mut m = match &self.source {
            Source::File(p) => read(p)?,
            Source::Memory(m) => m.lock().clone(),
        };
        for (hotkey, ip, port) in self.served.lock().iter() {
            if let Some(uid) = m.by_hotkey(hotkey).map(|n| n.uid) {
                let n = m.by_uid_mut(uid).expect("uid just found");
                n.axon.ip = ip.clone();
                n.axon.port = *port;
            }
        }
        Ok(m)
    }
}

fn read(path: &Path) -> Result<Metagraph, ChainError> {
    let bytes =
        std::fs::read(path).map_err(|source| ChainError::SnapshotIo { path: path.display().to_string(), source })?;
    Metagraph::from_json(&bytes)
        .map_err(|reason| ChainError::SnapshotFormat { path: path.display().to_string(), reason })
}

#[async_trait::async_trait]
impl Chain for SnapshotChain {
    fn netuid(&self) -> u16 {
        match &self.source {
            Source::File(p) => read(p).map(|m| m.netuid).unwrap_or(0),
            Source::Memory(m) => m.lock().netuid,
        }
    }

    async fn metagraph(&self) -> Result<Metagraph, ChainError> {
        self.current()
    }

    async fn serve_axon(&self, hotkey: &Hotkey, ip: &str, port: u16) -> Result<(), ChainError> {
        let m = self.current()?;
        if m.by_hotkey(hotkey.ss58()).is_none() {
            return Err(ChainError::NotRegistered { hotkey: hotkey.ss58().to_owned(), netuid: m.netuid });
        }
        let mut served = self.served.lock();
        served.retain(|(h, _, _)| h != hotkey.ss58());
        served.push((hotkey.ss58().to_owned(), ip.to_owned(), port));
        Ok(())
    }

    async fn set_weights(&self, hotkey: &Hotkey, uids: &[u16], weights: &[f64]) -> Result<WeightsUpdate, ChainError> {
        let m = self.current()?;
        let me = m
            .by_hotkey(hotkey.ss58())
            .ok_or_else(|| ChainError::NotRegistered { hotkey: hotkey.ss58().to_owned(), netuid: m.netuid })?;
        if !me.validator_permit {
            return Err(ChainError::Weights(format!("hotkey {} has no validator permit", hotkey.ss58())));
        }
        if uids.len() != weights.len() {
            return Err(ChainError::Weights(format!("{} uids but {} weights", uids.len(), weights.len())));
        }
        if let Some(bad) = uids.iter().find(|u| **u != BURN_UID && m.by_uid(**u).is_none()) {
            return Err(ChainError::Weights(format!("uid {bad} is not in the metagraph")));
        }
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(ChainError::Weights("weights must be finite and non-negative".into()));
        }
        let total: f64 = weights.iter().sum();
        let normalised = if total > 0.0 { weights.iter().map(|w| w / total).collect() } else { weights.to_vec() };
        let update = WeightsUpdate { netuid: m.netuid, block: m.block, uids: uids.to_vec(), weights: normalised };
        self.weights.lock().push(update.clone());
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let p = dir.join("metagraph.json");
        std::fs::write(&p, json).unwrap();
        p
    }

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn graph(permit: bool) -> String {
        format!(
            r#"{{"netuid": 54, "block": 3, "neurons": [
            {{"uid": 0, "hotkey": "{ALICE}", "coldkey": "{ALICE}", "stake": 10.0, "validator_permit": {permit}, "axon": {{"ip": "0.0.0.0", "port": 0}}}},
            {{"uid": 1, "hotkey": "{BOB}", "coldkey": "{BOB}", "stake": 0.0, "validator_permit": false, "axon": {{"ip": "0.0.0.0", "port": 0}}}}]}}"#
        )
    }

    #[tokio::test]
    async fn file_edits_are_seen_and_serve_axon_overlays() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), &graph(true));
        let chain = SnapshotChain::from_file(&p).unwrap();
        let bob = Hotkey::from_uri("//Bob").unwrap();
        chain.serve_axon(&bob, "127.0.0.1", 9000).await.unwrap();
        let m = chain.metagraph().await.unwrap();
        assert_eq!(m.by_uid(1).unwrap().axon, crate::AxonEndpoint { ip: "127.0.0.1".into(), port: 9000 });
        write(dir.path(), &graph(false));
        assert!(!chain.metagraph().await.unwrap().by_uid(0).unwrap().validator_permit);
        let stranger = Hotkey::from_uri("//Eve").unwrap();
        assert!(matches!(chain.serve_axon(&stranger, "1.1.1.1", 1).await, Err(ChainError::NotRegistered { .. })));
    }

    #[tokio::test]
    async fn set_weights_normalises_and_checks_permit() {
        let dir = tempfile::tempdir().unwrap();
        let chain = SnapshotChain::from_file(write(dir.path(), &graph(true))).unwrap();
        let alice = Hotkey::from_uri("//Alice").unwrap();
        let u = chain.set_weights(&alice, &[0, 1], &[1.0, 3.0]).await.unwrap();
        assert_eq!(u.weights, vec![0.25, 0.75]);
        assert_eq!(chain.weights_history().len(), 1);
        assert!(chain.set_weights(&alice, &[7], &[1.0]).await.is_err());
        assert!(chain.set_weights(&alice, &[1, BURN_UID], &[1.0, 1.0]).await.is_ok(), "the burn uid is accepted");
        let bob = Hotkey::from_uri("//Bob").unwrap();
        assert!(matches!(chain.set_weights(&bob, &[0], &[1.0]).await, Err(ChainError::Weights(_))));
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = SnapshotChain::from_file("/nonexistent/metagraph.json").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/metagraph.json"));
    }
}
