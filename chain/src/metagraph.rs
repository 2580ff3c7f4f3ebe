//! The metagraph snapshot: the part of a subnet's state that admission, priority and query
//! targeting need.
//!
//! File format (a stable contract, DESIGN.md):
//! `{"netuid": u16, "block": u64, "neurons": [{"uid", "hotkey", "coldkey", "stake" (TAO),
//! "validator_permit", "axon": {"ip", "port"}}]}`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Where a neuron's axon listens, as published on chain. `0.0.0.0` means "not serving".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AxonEndpoint {
    pub ip: String,
    pub port: u16,
}

impl AxonEndpoint {
    pub fn is_serving(&self) -> bool {
        self.ip != "0.0.0.0" && !self.ip.is_empty() && self.port != 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neuron {
    pub uid: u16,
    pub hotkey: String,
    #[serde(default)]
    pub coldkey: String,
    /// Stake in TAO (what the Python SDK calls `S[uid]`).
    #[serde(default)]
    pub stake: f64,
    #[serde(default)]
    pub validator_permit: bool,
    pub axon: AxonEndpoint,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metagraph {
    pub netuid: u16,
    pub block: u64,
    pub neurons: Vec<Neuron>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Metagraph {
    pub fn new(netuid: u16, block: u64, neurons: Vec<Neuron>) -> Result<Self, String> {
        let mut m = Metagraph { netuid, block, neurons, index: HashMap::new() };
        m.reindex()?;
        Ok(m)
    }

    /// Parses and validates a snapshot: hotkeys must be valid SS58 and unique, uids unique.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let mut m: Metagraph = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        m.reindex()?;
        Ok(m)
    }

    fn reindex(&mut self) -> Result<(), String> {
        self.index.clear();
        let mut uids = std::collections::HashSet::new();
        for (i, n) in self.neurons.iter().enumerate() {
            miid_protocol::PublicKey::from_ss58(&n.hotkey).map_err(|e| format!("neuron uid {}: {e}", n.uid))?;
            if !uids.insert(n.uid) {
                return Err(format!("uid {} appears twice", n.uid));
            }
            if self.index.insert(n.hotkey.clone(), i).is_some() {
                return Err(format!("hotkey {} appears twice", n.hotkey));
            }
            if !n.stake.is_finite() || n.stake < 0.0 {
                return Err(format!("neuron uid {}: stake must be a non-negative number", n.uid));
            }
        }
        Ok(())
    }

    pub fn by_hotkey(&self, hotkey: &str) -> Option<&Neuron> {
        self.index.get(hotkey).map(|&i| &self.neurons[i])
    }

    pub fn by_uid(&self, uid: u16) -> Option<&Neuron> {
        self.neurons.iter().find(|n| n.uid == uid)
    }

    pub fn by_uid_mut(&mut self, uid: u16) -> Option<&mut Neuron> {
        self.neurons.iter_mut().find(|n| n.uid == uid)
    }

    /// Stake of `hotkey` in TAO; 0 when unknown (never an error — spec Q4).
    pub fn stake_of(&self, hotkey: &str) -> f64 {
        self.by_hotkey(hotkey).map_or(0.0, |n| n.stake)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("metagraph serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Metagraph {
        Metagraph::from_json(
            br#"{"netuid": 54, "block": 7, "neurons": [
            {"uid": 0, "hotkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "coldkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "stake": 5000.0, "validator_permit": true, "axon": {"ip": "0.0.0.0", "port": 0}},
            {"uid": 1, "hotkey": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "coldkey": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "stake": 1.5, "validator_permit": false, "axon": {"ip": "127.0.0.1", "port": 8091}}
        ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn lookups_and_stake() {
        let m = sample();
        assert_eq!(m.by_hotkey("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty").unwrap().uid, 1);
        assert_eq!(m.stake_of("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), 5000.0);
        assert_eq!(m.stake_of("5Unknown"), 0.0);
        assert!(!m.by_uid(0).unwrap().axon.is_serving());
        assert!(m.by_uid(1).unwrap().axon.is_serving());
    }

    #[test]
    fn invalid_snapshots_are_refused_with_the_reason() {
        let dup = br#"{"netuid": 1, "block": 1, "neurons": [
            {"uid": 0, "hotkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "axon": {"ip": "1.2.3.4", "port": 1}},
            {"uid": 0, "hotkey": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "axon": {"ip": "1.2.3.4", "port": 1}}]}"#;
        assert!(Metagraph::from_json(dup).unwrap_err().contains("uid 0 appears twice"));
        let bad = br#"{"netuid": 1, "block": 1, "neurons": [{"uid": 0, "hotkey": "nope", "axon": {"ip": "1.2.3.4", "port": 1}}]}"#;
        assert!(Metagraph::from_json(bad).unwrap_err().contains("invalid SS58"));
        assert!(Metagraph::from_json(b"{}").is_err());
    }
}
