//! # miid-validator — a simulated MIID validator
//!
//! It queries miners the way mainnet MIID validators do, so a miner operator sees what a real
//! validator would see:
//!
//! - [`dendrite`]: the signed HTTP client (Bittensor v10 headers by default, btauth/1 on
//!   request) and bittensor's reading of answers (503/408/422 and the miner's own codes).
//! - [`query`]: building R1 requests as the reference does ([`seeds`], [`seed_data`],
//!   [`template`], [`image`]) and R2 (five image variations) requests.
//! - [`round`]: choosing the miners to ask, concurrent batched queries, and the per-miner table.
//! - [`runner`]: the validator loop — rounds, scoring, moving average, weights, results records,
//!   post-validation scheduling — over the durable [`state`].
//! - [`vectors`]: replaying the reference vectors through `miid-scoring`.
//!
//! Scoring lives in `miid-scoring`; this crate does the I/O around it.

pub mod dendrite;
pub mod geocoder;
pub mod image;
pub mod loopback;
pub mod postval;
pub mod query;
pub mod results;
pub mod round;
pub mod runner;
pub mod score;
pub mod seed_data;
pub mod seeds;
pub mod state;
pub mod template;
pub mod upload;
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
    /// R1: how many seed identities (`seed_names.sample_size`, reference 15).
    pub seeds: usize,
    /// R1: variations asked per seed; 0 = drawn 6..15 as the reference does.
    pub variations: usize,
    /// R1: which template form (reference without an LLM: the template fallback).
    pub mode: query::TemplateMode,
    /// R1: base images for the image request; `None` = no image request.
    pub image_dir: Option<std::path::PathBuf>,
    /// Seeds the reference's global generator (and the name source); `None` = fresh entropy.
    pub seed: Option<u64>,
    /// R2: the base image (standard base64) and its file name.
    pub base_image_b64: String,
    pub image_filename: String,
}

impl Default for QuerySpec {
    fn default() -> Self {
        QuerySpec {
            seeds: 15,
            variations: 0,
            mode: query::TemplateMode::Fallback,
            image_dir: None,
            seed: None,
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
    /// R1: the seeds and query parameters as the scorer reads them.
    #[serde(skip)]
    pub r1: Option<query::R1Query>,
    /// Hotkeys indexed by uid, from the metagraph the round was sent over.
    #[serde(skip)]
    pub hotkeys: Vec<String>,
}

impl QueryRound {
    /// The round as the scorer reads it (R1 only: R2 answers are graded after the reveal).
    /// Miners whose answer did not arrive or parse count as `null` responses, as on mainnet.
    pub fn round_spec(&self) -> Option<score::RoundSpec> {
        let r1 = self.r1.as_ref()?;
        let responses = self
            .results
            .iter()
            .map(|m| {
                m.variations.as_ref().map_or(serde_json::Value::Null, |v| serde_json::to_value(v).unwrap_or_default())
            })
            .collect();
        Some(score::RoundSpec {
            seeds: r1.seeds.clone(),
            query: r1.params.clone(),
            config: miid_scoring::round::RoundConfig::default(),
            uav_seed: r1.uav_seed.clone(),
            responses,
            uids: self.results.iter().map(|m| m.uid).collect(),
            hotkeys: self.hotkeys.clone(),
            reputation: Default::default(),
            hash_seeds: None,
            geocoder: None,
        })
    }
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
    let mut rng = match spec.seed {
        Some(s) => rand::rngs::StdRng::seed_from_u64(s),
        None => rand::rngs::StdRng::from_os_rng(),
    };
    let (request, uav_seed, r1) = match config.generation {
        Generation::R1 => {
            let mut global = miid_scoring::rng::PyRandom::new(rand::Rng::random::<u64>(&mut rng) as u128);
            let opts = query::R1Options {
                sample_size: spec.seeds,
                variation_count: (spec.variations > 0).then_some(spec.variations as u32),
                mode: spec.mode,
                image_dir: spec.image_dir.clone(),
                ..query::R1Options::default()
            };
            let mut writer = template::CannedWriter::new(rand::Rng::random(&mut rng));
            let mut cycle = 0;
            let q = query::build_r1(&opts, &own, &mut global, &mut rng, Some(&mut writer), &mut cycle, config.timeout);
            (q.synapse.clone(), q.uav_seed.clone(), Some(q))
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
            (s, None, None)
        }
    };
    tracing::info!(generation = ?config.generation, miners = targets.len(), transport = %dendrite.transport(), "querying");
    let results = round::query_miners(&dendrite, targets, &request, config).await;
    let max_uid = metagraph.neurons.iter().map(|n| n.uid as usize).max().unwrap_or(0);
    let mut hotkeys = vec![String::new(); max_uid + 1];
    for n in &metagraph.neurons {
        hotkeys[n.uid as usize] = n.hotkey.clone();
    }
    Ok(QueryRound { generation: config.generation, uav_seed, request, results, r1, hotkeys })
}
