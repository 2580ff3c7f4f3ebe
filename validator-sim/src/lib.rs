//! # miid-validator — a simulated MIID validator
//!
//! It queries miners the way mainnet MIID validators do, so a miner operator sees what a real
//! validator would see:
//!
//! - [`dendrite`]: the signed HTTP client (Bittensor v10 headers by default, btauth/1 on
//!   request) and bittensor's reading of answers (503/408/422 and the miner's own codes).
//! - [`query`]: building R1 (names, DOB, addresses, UAV) and R2 (five image variations)
//!   requests.
//! - [`round`]: choosing the miners to ask, concurrent batched queries, and the per-miner table.
//! - [`vectors`]: replaying the reference vectors through `miid-scoring`.
//!
//! Scoring lives in `miid-scoring`; this crate does the I/O around it.

pub mod dendrite;
pub mod geocoder;
pub mod postval;
pub mod query;
pub mod round;
pub mod score;
pub mod vectors;

use std::sync::Arc;

use rand::SeedableRng;
use serde::Serialize;

use miid_chain::Chain;
use miid_protocol::synapse::{Generation, IdentitySynapse};

pub use dendrite::{Dendrite, DendriteResponse};
pub use round::{MinerResult, RoundConfig};

/// What to ask in a round.
#[derive(Debug, Clone)]
pub struct QuerySpec {
    /// R1: how many seed identities.
    pub seeds: usize,
    /// R1: variations asked per seed.
    pub variations: usize,
    /// R2: the base image (standard base64) and its file name.
    pub base_image_b64: String,
    pub image_filename: String,
}

impl Default for QuerySpec {
    fn default() -> Self {
        QuerySpec {
            seeds: 5,
            variations: 8,
            base_image_b64: query::TINY_PNG_B64.to_owned(),
            image_filename: "a1b2c3d4e5f6_m_doc.png".to_owned(),
        }
    }
}

/// One round's request and answers.
#[derive(Debug, Clone, Serialize)]
pub struct QueryRound {
    pub generation: Generation,
    pub uav_seed: Option<String>,
    pub request: IdentitySynapse,
    pub results: Vec<MinerResult>,
}

/// Builds a request, queries every target miner of `chain`'s metagraph, and collects answers.
pub async fn query_round(
    chain: &dyn Chain,
    dendrite: Arc<Dendrite>,
    config: &RoundConfig,
    spec: &QuerySpec,
) -> anyhow::Result<QueryRound> {
    let metagraph = chain.metagraph().await?;
    let own = dendrite.hotkey().ss58().to_owned();
    let targets = round::targets(&metagraph, &own);
    if targets.is_empty() {
        anyhow::bail!("the metagraph lists no serving miners to query (axon ip 0.0.0.0 or only validators)");
    }
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let (request, uav_seed) = match config.generation {
        Generation::R1 => {
            let q = query::r1_query(spec.seeds, spec.variations, config.timeout, &mut rng);
            (q.synapse, Some(q.uav_seed))
        }
        Generation::R2 => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
            let s = query::r2_query(
                &spec.base_image_b64,
                &spec.image_filename,
                &own,
                now,
                miid_protocol::drand::Schedule::default(),
                config.timeout,
                &mut rng,
            );
            (s, None)
        }
    };
    tracing::info!(generation = ?config.generation, miners = targets.len(), transport = %dendrite.transport(), "querying");
    let results = round::query_miners(&dendrite, targets, &request, config).await;
    Ok(QueryRound { generation: config.generation, uav_seed, request, results })
}
