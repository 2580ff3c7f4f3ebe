//! Chain info and drand's chain hash.
//!
//! Clients address a beacon by its chain hash (URLs, tlock stanzas `-> tlock {round} {hash}`), so
//! the hash must be derived exactly as drand derives it or tlock ciphertexts made against this mock
//! would name a chain no drand client recognises.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only scheme this beacon speaks.
pub const SCHEME_ID: &str = "bls-unchained-g1-rfc9380";
/// Beacon ID reported in `metadata.beaconID`; quicknet's, so clients that look for it are content.
pub const DEFAULT_BEACON_ID: &str = "quicknet";

/// The public description of a chain, the fields drand's chain hash covers plus the scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    /// Compressed group public key (96 bytes on G2 for this scheme).
    pub public_key: Vec<u8>,
    /// Seconds between rounds.
    pub period: u32,
    /// Unix time of round 1.
    pub genesis_time: i64,
    /// drand's `GenesisSeed` (printed as `groupHash`).
    pub group_hash: [u8; 32],
    pub scheme_id: String,
    pub beacon_id: String,
}

/// `/info` exactly as drand's HTTP API v1 prints it (field order included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoJson {
    pub public_key: String,
    pub period: u64,
    pub genesis_time: i64,
    pub hash: String,
    #[serde(rename = "groupHash")]
    pub group_hash: String,
    #[serde(rename = "schemeID")]
    pub scheme_id: String,
    pub metadata: InfoMetadata,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoMetadata {
    #[serde(rename = "beaconID")]
    pub beacon_id: String,
}

/// A group hash for a mock chain: a real drand chain's genesis seed hashes its founding group,
/// which a one-key mock does not have, so this binds the seed to the key and schedule instead
/// (distinct mock chains then get distinct chain hashes even with equal keys).
pub fn default_group_hash(public_key: &[u8], period: u32, genesis_time: i64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"drand-mock genesis seed");
    h.update(public_key);
    h.update(period.to_be_bytes());
    h.update(genesis_time.to_be_bytes());
    h.finalize().into()
}

impl ChainInfo {
    /// A chain of this crate's scheme with [`default_group_hash`] and [`DEFAULT_BEACON_ID`].
    pub fn new(public_key: &[u8], period: u32, genesis_time: i64) -> Self {
        ChainInfo {
            public_key: public_key.to_vec(),
            period,
            genesis_time,
            group_hash: default_group_hash(public_key, period, genesis_time),
            scheme_id: SCHEME_ID.to_string(),
            beacon_id: DEFAULT_BEACON_ID.to_string(),
        }
    }

    /// drand's chain hash (`drand/drand` `common/chain/info.go`, `Info.Hash`):
    /// `sha256(period seconds as u32 BE ‖ genesis as i64 BE ‖ public key ‖ genesis seed ‖ beacon ID)`,
    /// the beacon ID left out when it is the default one (`""` or `"default"`) for backward
    /// compatibility. The scheme is *not* hashed.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.period.to_be_bytes());
        h.update(self.genesis_time.to_be_bytes());
        h.update(&self.public_key);
        h.update(self.group_hash);
        if !(self.beacon_id.is_empty() || self.beacon_id == "default") {
            h.update(self.beacon_id.as_bytes());
        }
        h.finalize().into()
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash())
    }

    pub fn to_json(&self) -> InfoJson {
        InfoJson {
            public_key: hex::encode(&self.public_key),
            period: u64::from(self.period),
            genesis_time: self.genesis_time,
            hash: self.hash_hex(),
            group_hash: hex::encode(self.group_hash),
            scheme_id: self.scheme_id.clone(),
            metadata: InfoMetadata { beacon_id: self.beacon_id.clone() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quicknet() -> ChainInfo {
        ChainInfo {
            public_key: hex::decode("83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a").unwrap(),
            period: 3,
            genesis_time: 1_692_803_367,
            group_hash: hex::decode("f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e").unwrap().try_into().unwrap(),
            scheme_id: SCHEME_ID.into(),
            beacon_id: "quicknet".into(),
        }
    }

    #[test]
    fn quicknet_chain_hash() {
        assert_eq!(quicknet().hash_hex(), "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971");
    }

    #[test]
    fn quicknet_info_json_matches_drand() {
        // As https://api.drand.sh/52db9ba7…e971/info prints it.
        let expected = r#"{"public_key":"83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a","period":3,"genesis_time":1692803367,"hash":"52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971","groupHash":"f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e","schemeID":"bls-unchained-g1-rfc9380","metadata":{"beaconID":"quicknet"}}"#;
        assert_eq!(serde_json::to_string(&quicknet().to_json()).unwrap(), expected);
        let back: InfoJson = serde_json::from_str(expected).unwrap();
        assert_eq!(back, quicknet().to_json());
    }

    #[test]
    fn default_beacon_id_is_not_hashed() {
        let mut a = quicknet();
        a.beacon_id = "default".into();
        let mut b = quicknet();
        b.beacon_id = String::new();
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), quicknet().hash());
    }

    #[test]
    fn mock_chains_differ_by_schedule() {
        let pk = [0x11u8; 96];
        assert_ne!(ChainInfo::new(&pk, 3, 1000).hash(), ChainInfo::new(&pk, 3, 1003).hash());
        assert_ne!(ChainInfo::new(&pk, 3, 1000).hash(), ChainInfo::new(&pk, 30, 1000).hash());
        assert_eq!(ChainInfo::new(&pk, 3, 1000).hash(), ChainInfo::new(&pk, 3, 1000).hash());
    }
}
