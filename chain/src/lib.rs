//! # miid-chain — what the miner and validator need from the Bittensor chain
//!
//! - [`Chain`]: the trait over a subnet's state (metagraph, registration, `serve_axon`,
//!   `set_weights`). Code above this crate never talks to subtensor directly, so local runs and
//!   tests use [`SnapshotChain`], a metagraph JSON file, with the very same code paths.
//! - [`metagraph`]: the snapshot format (DESIGN.md "Metagraph snapshot file").
//! - [`admission`]: who may call a miner (spec miner-protocol.md 3.1 and 3.2): the reference's
//!   whitelist by default, optional registration / permit / stake gates, an "open" mode for
//!   testnets, priority by stake, and a per-hotkey rate limit.
//! - [`synced`]: a metagraph kept in memory and refreshed in the background (what a miner on a
//!   live chain reads per request), surviving node outages with backoff.
//! - [`subtensor`] (feature `subtensor`): `Subtensor`, the trait against a live node (finney,
//!   test, local, any ws(s) URL) through subxt. It adds subxt's dependency tree (a cold debug
//!   build of this crate with it took 2 min 48 s on the 2-core dev machine), so only the miner
//!   and tools that talk to a real chain enable it.

pub mod admission;
pub mod metagraph;
pub mod retry;
pub mod snapshot;
#[cfg(feature = "subtensor")]
pub mod subtensor;
pub mod synced;

pub use admission::{Admission, AdmissionMode, RateLimiter, Refusal};
pub use metagraph::{AxonEndpoint, Metagraph, Neuron};
pub use retry::Retry;
pub use snapshot::SnapshotChain;
#[cfg(feature = "subtensor")]
pub use subtensor::{Network, Subtensor};
pub use synced::{SyncStatus, SyncedChain};

use miid_protocol::Hotkey;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot read metagraph snapshot {path}: {source}")]
    SnapshotIo { path: String, source: std::io::Error },
    #[error("metagraph snapshot {path} is not valid: {reason}")]
    SnapshotFormat { path: String, reason: String },
    #[error("hotkey {hotkey} is not registered on netuid {netuid}; register it first (btcli subnet register)")]
    NotRegistered { hotkey: String, netuid: u16 },
    #[error("set_weights: {0}")]
    Weights(String),
    #[error("chain unavailable: {0}")]
    Unavailable(String),
}

/// Weights a validator sets: uids with normalised weights (summing to 1 unless all zero).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeightsUpdate {
    pub netuid: u16,
    pub block: u64,
    pub uids: Vec<u16>,
    pub weights: Vec<f64>,
}

/// A subnet's on-chain state as the miner and validator use it.
#[async_trait::async_trait]
pub trait Chain: Send + Sync {
    /// The subnet this chain view is for.
    fn netuid(&self) -> u16;

    /// The current metagraph (reloaded on every call; callers cache as they see fit).
    async fn metagraph(&self) -> Result<Metagraph, ChainError>;

    /// The uid of `hotkey`, if registered.
    async fn uid_of(&self, hotkey: &str) -> Result<Option<u16>, ChainError> {
        Ok(self.metagraph().await?.by_hotkey(hotkey).map(|n| n.uid))
    }

    /// Publishes the axon endpoint of `hotkey` (a miner announcing where validators reach it).
    async fn serve_axon(&self, hotkey: &Hotkey, ip: &str, port: u16) -> Result<(), ChainError>;

    /// How fresh the metagraph is, for implementations that sync it in the background
    /// ([`SyncedChain`]); `None` for ones that read it on every call.
    fn sync_status(&self) -> Option<SyncStatus> {
        None
    }

    /// Sets weights signed by `hotkey` (a validator).
    async fn set_weights(&self, hotkey: &Hotkey, uids: &[u16], weights: &[f64]) -> Result<WeightsUpdate, ChainError>;
}
