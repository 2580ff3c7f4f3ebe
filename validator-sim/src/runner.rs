//! The validator loop (spec validator-round.md 1–3, 10–14): sample miners, build the query, send
//! it in batches, score, update the moving average, set weights with the burn, write the results
//! record, and post-validate image submissions once their drand round is out — with every effect
//! committed to the durable [`crate::state`] through its round journal.
//!
//! One round ([`Validator::run_round`]):
//! 1. metagraph resync (1.5: a changed hotkey resets its score; the score vector covers the
//!    burn UID 59 even when the local metagraph is smaller, so the burn share is kept as on
//!    mainnet);
//! 2. the round's global generator (seeded from `--seed` and the round number, so a round re-run
//!    after a crash asks the same query), miner sampling (3), the query (4–9);
//! 3. concurrent batches with the adaptive timeout (8, 10);
//! 4. scoring with `miid_scoring::round::score_round` (KAV, cheat penalties, rank cap, reputation
//!    stage with the snapshot, burn), off the async runtime (the geocoders block);
//! 5. moving average, the planned weights, the results record, pending post-validations —
//!    committed as journal phase `Scored`;
//! 6. `set_weights` through the [`Chain`] trait, then the journal is cleared (committed).
//!
//! [`Validator::open`] replays a journal left by a crash (sets the planned weights once more)
//! without re-scoring the round.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::SeedableRng;
use serde::Serialize;

use miid_chain::{Chain, Metagraph};
use miid_protocol::Hotkey;
use miid_protocol::drand::{R1_REVEAL_DELAY_S, Schedule};
use miid_protocol::synapse::Generation;
use miid_scoring::address::{Geocoder, NominatimAnswer, PhotonAnswer};
use miid_scoring::reputation::{BURN_UID, RepRecord, scores_to_weights, update_scores};
use miid_scoring::rng::{KeyedSeedSource, PyRandom};
use miid_scoring::round::{RoundInput, RoundOutput, RoundState, score_round};
use miid_scoring::translit::UnidecodeTransliterator;

use crate::dendrite::Dendrite;
use crate::postval::{BeaconSource, Challenge, FetchConfig, MinerSubmissions, PostValidator};
use crate::query::{self, R1Options, TemplateMode};
use crate::round::{self, BatchPolicy, MinerResult};
use crate::state::{Journal, PendingMiner, PendingPostval, Phase, PostvalRecord, Reputation, RoundSummary, StateDir};
use crate::{results, template};

/// Where the validator stops itself on purpose (crash tests): right after a journal commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CrashPoint {
    /// After the `Scored` commit, before weights are set.
    Scored,
    /// After weights were set, before the journal is cleared.
    WeightsSet,
}

/// Everything a validator run is configured with; defaults are the reference's (section 0).
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    pub generation: Generation,
    /// `neuron.sample_size`: miners per round (upper bound).
    pub sample_size: usize,
    pub batch: BatchPolicy,
    /// `neuron.timeout`: the adaptive timeout's base (R1) or the timeout (R2).
    pub timeout: f64,
    /// Compute the R1 timeout as the reference does (8); otherwise `timeout` is used as is.
    pub adaptive_timeout: bool,
    pub max_request_timeout: f64,
    /// The Phase 4 extension (900 s).
    pub image_timeout_extension: f64,
    pub vpermit_tao_limit: f64,
    /// R1 query options (seeds per round, variation count override, template form, images).
    pub seeds: usize,
    pub variation_count: Option<u32>,
    pub template_mode: TemplateMode,
    pub image_dir: Option<PathBuf>,
    /// Reference 4320 s (V13).
    pub reveal_delay_s: u64,
    pub scoring: miid_scoring::round::RoundConfig,
    /// `neuron.moving_average_alpha`.
    pub alpha: f64,
    /// The chain's `min_allowed_weights` and `max_weight_limit` (local defaults 1 and 1.0).
    pub min_allowed_weights: usize,
    pub max_weight_limit: f64,
    /// `spec_version` sent with the weights (V14: 0).
    pub spec_version: u64,
    /// Minimum round duration (1.3: 360 s, then 5 s more).
    pub min_round_secs: f64,
    pub post_round_sleep_secs: f64,
    /// Seeds the generators (query draws, names, the scorer's string hash); `None` = entropy.
    pub seed: Option<u64>,
    /// Reputation snapshot: a JSON file or an http(s) URL, re-read before every round.
    pub reputation_source: Option<String>,
    /// Nominatim and Photon base URLs; `None` = no geocoder (every lookup fails, addresses score
    /// as unverifiable).
    pub geocoder: Option<(String, String, bool)>,
    /// drand HTTP API (timing of image requests, reveal of post-validations).
    pub beacon: Option<String>,
    /// Where to fetch submissions for post-validation; `None` = post-validation off (the
    /// submissions are still recorded as pending).
    pub postval: Option<FetchConfig>,
    /// How long one post-validation waits for a round's beacon.
    pub postval_wait: Duration,
    /// The MIID upload server (14.2): each record is signed and POSTed to
    /// `{upload}/upload_data/{hotkey}`; a reply's `rep_cache` is the next round's reputation.
    pub upload: Option<String>,
    /// Round summaries kept in the state (older rounds stay in their results records).
    pub history_limit: usize,
    /// Reproduce V1 (scores restart at zero after a restart) instead of resuming them.
    pub reset_scores_on_start: bool,
    /// Test hook: abort the process at this point of this round (any round when `None`).
    pub crash_after: Option<(CrashPoint, Option<u64>)>,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        ValidatorConfig {
            generation: Generation::R1,
            sample_size: 250,
            batch: BatchPolicy::default(),
            timeout: 360.0,
            adaptive_timeout: true,
            max_request_timeout: 900.0,
            image_timeout_extension: 900.0,
            vpermit_tao_limit: 40_960.0,
            seeds: 15,
            variation_count: None,
            template_mode: TemplateMode::Fallback,
            image_dir: None,
            reveal_delay_s: R1_REVEAL_DELAY_S,
            scoring: miid_scoring::round::RoundConfig::default(),
            alpha: 0.15,
            min_allowed_weights: 1,
            max_weight_limit: 1.0,
            spec_version: 0,
            min_round_secs: 360.0,
            post_round_sleep_secs: 5.0,
            seed: None,
            reputation_source: None,
            geocoder: None,
            beacon: None,
            postval: None,
            postval_wait: Duration::from_secs(30),
            upload: None,
            history_limit: 1000,
            reset_scores_on_start: false,
            crash_after: None,
        }
    }
}

/// What a finished round reports.
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    pub round: u64,
    pub queried: usize,
    pub answered: usize,
    pub default_answers: usize,
    pub timeout: f64,
    pub query_secs: f64,
    pub score_secs: f64,
    pub weights_set: bool,
    pub weights_error: Option<String>,
    pub results_file: String,
    /// The upload's outcome (`None` without an upload server).
    pub uploaded: Option<bool>,
}

/// Every lookup fails: no geocoder configured.
struct NoGeocoder;

impl Geocoder for NoGeocoder {
    fn nominatim(&mut self, _: &str) -> NominatimAnswer {
        NominatimAnswer::ApiError
    }
    fn photon(&mut self, _: &str) -> PhotonAnswer {
        PhotonAnswer::Error
    }
}

/// A running validator: chain, dendrite, configuration, durable state.
pub struct Validator {
    chain: Arc<dyn Chain>,
    dendrite: Arc<Dendrite>,
    hotkey: Hotkey,
    config: ValidatorConfig,
    dir: StateDir,
    state: crate::state::ValidatorState,
    scoring_state: Option<RoundState>,
    seeds: KeyedSeedSource,
    beacon: Option<Arc<miid_tlock::client::Client>>,
    postval: Option<PostValidator>,
    http: reqwest::Client,
}

impl Validator {
    /// Loads (or creates) the state in `state_dir` and replays an unfinished round's weights.
    pub async fn open(
        chain: Arc<dyn Chain>,
        dendrite: Arc<Dendrite>,
        config: ValidatorConfig,
        state_dir: impl Into<PathBuf>,
    ) -> anyhow::Result<Self> {
        let hotkey = dendrite.hotkey().clone();
        let metagraph = chain.metagraph().await.context("reading the metagraph")?;
        if metagraph.by_hotkey(hotkey.ss58()).is_none() {
            anyhow::bail!(
                "validator hotkey {} is not registered on netuid {} (1.1: a reference validator exits)",
                hotkey.ss58(),
                metagraph.netuid
            );
        }
        let dir = StateDir::open(state_dir)?;
        let mut state = dir.load(hotkey.ss58())?;
        if config.reset_scores_on_start {
            // V1: the reference saves fresh zero scores before loading them.
            state.scores.iter_mut().for_each(|s| *s = 0.0);
        }
        let seeds = match config.seed {
            Some(s) => KeyedSeedSource::with_key(s, s.rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15),
            None => KeyedSeedSource::random(),
        };
        let beacon = match &config.beacon {
            Some(url) => Some(Arc::new(
                miid_tlock::client::Client::connect(url, None)
                    .await
                    .with_context(|| format!("cannot read the drand chain info at {url}"))?,
            )),
            None => None,
        };
        let postval = match (&config.postval, &beacon) {
            (Some(fetch), Some(client)) => Some(PostValidator::new(
                fetch.clone(),
                BeaconSource::Drand { client: client.clone(), wait: config.postval_wait },
            )?),
            (Some(_), None) => anyhow::bail!("post-validation needs a drand beacon (--beacon URL)"),
            _ => None,
        };
        let mut v = Validator {
            chain,
            dendrite,
            hotkey,
            config,
            dir,
            state,
            scoring_state: Some(RoundState::default()),
            seeds,
            beacon,
            postval,
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
        };
        v.replay_journal().await?;
        Ok(v)
    }

    /// The durable state as last committed.
    pub fn state(&self) -> &crate::state::ValidatorState {
        &self.state
    }

    pub fn state_dir(&self) -> &std::path::Path {
        &self.dir.dir
    }

    /// Finishes a round whose scores were committed but whose weights may not have been set.
    async fn replay_journal(&mut self) -> anyhow::Result<()> {
        let Some(j) = self.state.journal.clone() else { return Ok(()) };
        tracing::warn!(round = j.round, phase = ?j.phase, "resuming an unfinished round: setting its planned weights");
        self.set_weights_and_finish(&j).await;
        Ok(())
    }

    fn crash_if(&self, point: CrashPoint, round: u64) {
        if let Some((p, r)) = self.config.crash_after
            && p == point
            && r.is_none_or(|r| r == round)
        {
            tracing::error!(round, ?point, "crash hook: aborting the process");
            std::process::abort();
        }
    }

    async fn set_weights_and_finish(&mut self, j: &Journal) {
        let metagraph = self.chain.metagraph().await;
        let (uids, weights): (Vec<u16>, Vec<f64>) = j
            .uids
            .iter()
            .zip(&j.weights)
            .filter(|(u, _)| **u == BURN_UID || metagraph.as_ref().is_ok_and(|m| m.by_uid(**u).is_some()))
            .map(|(u, w)| (*u, *w as f64))
            .unzip();
        let outcome = if uids.is_empty() {
            Err("no weights to set (all scores zero)".to_owned())
        } else {
            self.chain.set_weights(&self.hotkey, &uids, &weights).await.map(|_| ()).map_err(|e| e.to_string())
        };
        match &outcome {
            Ok(()) => tracing::info!(round = j.round, uids = uids.len(), "weights set"),
            Err(e) => {
                tracing::warn!(round = j.round, error = %e, "set_weights failed (recorded; the reference only logs it)")
            }
        }
        self.crash_if(CrashPoint::WeightsSet, j.round);
        if let Some(h) = self.state.history.iter_mut().find(|h| h.round == j.round) {
            h.weights_set = outcome.is_ok();
            h.weights_error = outcome.as_ref().err().cloned();
            let path = self.dir.dir.join(&h.results_file);
            if let Ok(bytes) = std::fs::read(&path)
                && let Ok(mut record) = serde_json::from_slice::<serde_json::Value>(&bytes)
            {
                record["Weights"] = serde_json::json!({
                    "spec_version": self.config.spec_version,
                    "hotkey": self.hotkey.ss58(),
                    "timestamp": h.timestamp,
                    "dendrite_timeout": record["request_synapse"]["dendrite_timeout"],
                    "Did_it_set_weights": outcome.is_ok(),
                    "uids": if outcome.is_ok() { serde_json::json!(j.uids) } else { serde_json::json!([]) },
                    "weights": if outcome.is_ok() { serde_json::json!(j.weights) } else { serde_json::json!([]) },
                });
                let _ = self.dir.write_results(j.round, &record);
            }
        }
        self.state.journal = None;
        if let Err(e) = self.dir.save(&self.state) {
            tracing::error!(error = %e, "could not commit the finished round");
        }
    }

    /// Score vector length: every UID of the metagraph and the burn UID.
    fn resync(&mut self, metagraph: &Metagraph) -> Vec<String> {
        let n = metagraph.neurons.iter().map(|x| x.uid as usize + 1).max().unwrap_or(0).max(BURN_UID as usize + 1);
        let mut hotkeys = vec![String::new(); n];
        for x in &metagraph.neurons {
            hotkeys[x.uid as usize] = x.hotkey.clone();
        }
        if self.state.scores.len() < n {
            self.state.scores.resize(n, 0.0);
        }
        for (uid, h) in hotkeys.iter().enumerate() {
            if self.state.hotkeys.get(uid).is_some_and(|old| old != h) {
                self.state.scores[uid] = 0.0;
            }
        }
        self.state.hotkeys = hotkeys.clone();
        hotkeys
    }

    async fn load_reputation(&mut self) {
        let Some(src) = self.config.reputation_source.clone() else { return };
        let text = if src.starts_with("http://") || src.starts_with("https://") {
            match self.http.get(&src).send().await.and_then(|r| r.error_for_status()) {
                Ok(r) => r.text().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else {
            std::fs::read_to_string(&src).map_err(|e| e.to_string())
        };
        match text.and_then(|t| parse_reputation(&t)) {
            Ok(rep) => self.state.reputation = rep,
            Err(e) => {
                tracing::warn!(source = %src, error = %e, "reputation snapshot unavailable; keeping the last one")
            }
        }
    }

    fn round_seed(&self, round: u64) -> Option<u64> {
        self.config.seed.map(|s| s.wrapping_mul(1_000_003).wrapping_add(round))
    }

    /// The drand schedule: the beacon's, else quicknet's (9.4 fallback).
    fn schedule(&self) -> Schedule {
        self.beacon.as_ref().map_or_else(Schedule::default, |c| Schedule {
            genesis: c.info().genesis_time.max(0) as u64,
            period: u64::from(c.info().period.max(1)),
        })
    }

    /// Runs one round (module docs) and commits it.
    pub async fn run_round(&mut self) -> anyhow::Result<RoundReport> {
        let round_no = self.state.rounds_completed + 1;
        let metagraph = self.chain.metagraph().await.context("reading the metagraph")?;
        let hotkeys = self.resync(&metagraph);
        self.load_reputation().await;
        let round_seed = self.round_seed(round_no);
        let mut global = PyRandom::new(round_seed.unwrap_or_else(rand::random::<u64>) as u128);
        let mut names = match round_seed {
            Some(s) => rand::rngs::StdRng::seed_from_u64(s ^ 0x5eed),
            None => rand::rngs::StdRng::from_os_rng(),
        };

        // 3. Miners, in query order.
        let targets =
            round::sample_targets(&metagraph, self.config.sample_size, self.config.vpermit_tao_limit, &mut global);
        let own = self.hotkey.ss58().to_owned();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();

        // 4–9. The query.
        let (request, r1, timeout) = match self.config.generation {
            Generation::R1 => {
                let opts = R1Options {
                    sample_size: self.config.seeds,
                    variation_count: self.config.variation_count,
                    mode: self.config.template_mode,
                    image_dir: self.config.image_dir.clone(),
                    schedule: self.schedule(),
                    reveal_delay_s: self.config.reveal_delay_s,
                    today: chrono::Utc::now().date_naive(),
                    now,
                };
                let mut writer = template::CannedWriter::new(rand::Rng::random(&mut names));
                let mut cycle = self.state.image_cycle;
                let mut q = query::build_r1(&opts, &own, &mut global, &mut names, Some(&mut writer), &mut cycle, 0.0);
                self.state.image_cycle = cycle;
                let timeout = if self.config.adaptive_timeout {
                    let ext = if q.synapse.image_request.is_some() { self.config.image_timeout_extension } else { 0.0 };
                    template::adaptive_timeout(
                        self.config.timeout,
                        q.identities.len(),
                        q.labels.variation_count,
                        self.config.max_request_timeout,
                        ext,
                    )
                } else {
                    self.config.timeout
                };
                q.synapse.timeout = timeout;
                (q.synapse.clone(), Some(q), timeout)
            }
            Generation::R2 => {
                let image = self
                    .config
                    .image_dir
                    .as_deref()
                    .and_then(|d| crate::image::list_images(d).ok())
                    .and_then(|v| v.into_iter().next());
                let (b64, name) = match image {
                    Some(p) => {
                        use base64::Engine as _;
                        let bytes = std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
                        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("base.png").to_owned();
                        (base64::engine::general_purpose::STANDARD.encode(bytes), name)
                    }
                    None => (query::TINY_PNG_B64.to_owned(), "a1b2c3d4e5f6_m_doc.png".to_owned()),
                };
                let s = query::r2_query(&b64, &name, &own, now, self.schedule(), self.config.timeout, &mut names);
                (s, None, self.config.timeout)
            }
        };
        let uav_seed = r1.as_ref().and_then(|q| q.uav_seed.clone());

        // 10. Batches.
        let started = Instant::now();
        tracing::info!(round = round_no, miners = targets.len(), timeout, "querying");
        let results = round::query_batches(
            &self.dendrite,
            &targets,
            &request,
            self.config.generation,
            timeout,
            &self.config.batch,
        )
        .await;
        let query_secs = started.elapsed().as_secs_f64();
        let queried: Vec<u16> = results.iter().map(|r| r.uid).collect();

        // 11–12. Scoring.
        let score_started = Instant::now();
        let (output, rewards, reward_uids) = match &r1 {
            Some(q) => {
                let out = self.score(q, &results, &hotkeys).await?;
                let (r, u) = (out.final_rewards.clone(), out.final_uids.clone());
                (Some(out), r, u)
            }
            None => {
                // R2 answers are graded after the reveal (post-validation): the round pays the burn.
                let mut u = queried.clone();
                u.push(BURN_UID);
                let mut r = vec![0.0; queried.len()];
                r.push(1.0);
                (None, r, u)
            }
        };
        let score_secs = score_started.elapsed().as_secs_f64();

        // 13.1 Moving average; 13.2 the weights to set.
        update_scores(&mut self.state.scores, &rewards, &reward_uids, self.config.alpha)
            .map_err(|e| anyhow::anyhow!("score update: {e}"))?;
        let (w_uids, w_values) =
            scores_to_weights(&self.state.scores, self.config.min_allowed_weights, self.config.max_weight_limit);

        // 14. The results record, with every unacknowledged allocation.
        let timestamp = chrono::Local::now().format("%Y-%m-%d_%H-%M-%S").to_string();
        // Without an upload server there is nobody to acknowledge them: only this round's.
        let this_allocation =
            results::allocation(&timestamp, self.state.reputation.version.as_deref(), output.as_ref());
        let mut allocations = Vec::new();
        if self.config.scoring.uav_grading
            && let Some(a) = this_allocation
        {
            if self.config.upload.is_some() {
                self.state.pending_allocations.push(a);
                allocations.clone_from(&self.state.pending_allocations);
            } else {
                allocations.push(a);
            }
        }
        let record = results::record(&results::RecordInput {
            timestamp: &timestamp,
            r1: r1.as_ref(),
            request: &request,
            timeout,
            results: &results,
            metagraph: &metagraph,
            output: output.as_ref(),
            rewards: &rewards,
            reward_uids: &reward_uids,
            scores: &self.state.scores,
            queried: &queried,
            uav_grading: self.config.scoring.uav_grading,
            rep_version: self.state.reputation.version.as_deref(),
            uav_seed: uav_seed.as_deref(),
            allocations: &allocations,
        });
        let results_file = self.dir.write_results(round_no, &record)?;

        // Post-validations to run after the reveal.
        if let Some(img) = &request.image_request {
            let miners: Vec<PendingMiner> = results
                .iter()
                .filter_map(|r| {
                    let subs = r.s3_submissions.clone().filter(|s| !s.is_empty())?;
                    Some(PendingMiner { uid: r.uid, hotkey: r.hotkey.clone(), submissions: subs })
                })
                .collect();
            if !miners.is_empty() {
                self.state.pending_postval.push(PendingPostval {
                    round: round_no,
                    challenge_id: img.challenge_id.clone(),
                    target_drand_round: img.target_drand_round,
                    reveal_timestamp: img.reveal_timestamp,
                    miners,
                });
            }
        }

        // Commit: phase Scored.
        let answered = results.iter().filter(|r| r.status_code == 200).count();
        let default_answers = results.iter().filter(|r| r.default_answer).count();
        self.state.history.push(RoundSummary {
            round: round_no,
            timestamp,
            uids: reward_uids,
            rewards,
            answered,
            queried: queried.len(),
            weights_set: false,
            weights_error: None,
            results_file: results_file.clone(),
        });
        // The state keeps the latest summaries; the results records keep every round.
        let excess = self.state.history.len().saturating_sub(self.config.history_limit.max(1));
        self.state.history.drain(..excess);
        self.state.rounds_completed = round_no;
        let journal = Journal { round: round_no, phase: Phase::Scored, uids: w_uids, weights: w_values };
        self.state.journal = Some(journal.clone());
        self.dir.save(&self.state)?;
        tracing::info!(round = round_no, answered, queried = queried.len(), "journal: round scored and committed");
        self.crash_if(CrashPoint::Scored, round_no);

        // 13.2 Set weights, then clear the journal.
        self.set_weights_and_finish(&journal).await;
        let uploaded = self.upload(&results_file).await;
        let h = self.state.history.last().expect("just pushed");
        Ok(RoundReport {
            round: round_no,
            queried: queried.len(),
            answered,
            default_answers,
            timeout,
            query_secs,
            score_secs,
            weights_set: h.weights_set,
            weights_error: h.weights_error.clone(),
            results_file,
            uploaded,
        })
    }

    /// 14.2: sign and upload the record; on success adopt the reply's reputation snapshot and
    /// clear the pending allocations (committed); on failure keep them for the next record.
    async fn upload(&mut self, results_file: &str) -> Option<bool> {
        let base = self.config.upload.clone()?;
        let path = self.dir.dir.join(results_file);
        let mut record: serde_json::Value = match std::fs::read(&path).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(r)) => r,
            _ => {
                tracing::warn!(file = %path.display(), "cannot read the results record to upload it");
                return Some(false);
            }
        };
        match crate::upload::upload(&self.http, &base, &self.hotkey, &mut record).await {
            Ok(rep) => {
                if let Some(rep) = rep {
                    tracing::info!(version = ?rep.version, miners = rep.records.len(), "reputation snapshot from the upload reply");
                    self.state.reputation = rep;
                }
                self.state.pending_allocations.clear();
                if let Err(e) = self.dir.save(&self.state) {
                    tracing::error!(error = %e, "could not commit the upload outcome");
                }
                Some(true)
            }
            Err(e) => {
                tracing::warn!(error = %e, pending = self.state.pending_allocations.len(), "upload failed; allocations stay pending");
                Some(false)
            }
        }
    }

    /// Scores an R1 round off the async runtime (the HTTP geocoders block).
    async fn score(
        &mut self,
        q: &query::R1Query,
        results: &[MinerResult],
        hotkeys: &[String],
    ) -> anyhow::Result<RoundOutput> {
        let responses: Vec<serde_json::Value> = results
            .iter()
            .map(|m| {
                m.variations.as_ref().map_or(serde_json::Value::Null, |v| serde_json::to_value(v).unwrap_or_default())
            })
            .collect();
        let uids: Vec<u16> = results.iter().map(|r| r.uid).collect();
        let seeds_list = q.seeds.clone();
        let query = q.params.clone();
        let uav_seed = q.uav_seed.clone();
        let config = self.config.scoring;
        let hotkeys = hotkeys.to_vec();
        let reputation: HashMap<String, RepRecord> = self.state.reputation.records.clone();
        let geocoder = self.config.geocoder.clone();
        let seeds = self.seeds;
        let mut state = self.scoring_state.take().unwrap_or_default();
        let (out, state) = tokio::task::spawn_blocking(move || -> anyhow::Result<(RoundOutput, RoundState)> {
            let input = RoundInput {
                seeds: &seeds_list,
                query: &query,
                config: &config,
                uav_seed: uav_seed.as_deref(),
                responses: &responses,
                uids: &uids,
                hotkeys: &hotkeys,
                reputation: &reputation,
            };
            let out = match geocoder {
                Some((n, p, rate_limit)) => {
                    let mut g = crate::geocoder::HttpGeocoder::from_urls(&n, &p, rate_limit)?;
                    score_round(&input, &seeds, &UnidecodeTransliterator, &mut g, &mut state)
                }
                None => score_round(&input, &seeds, &UnidecodeTransliterator, &mut NoGeocoder, &mut state),
            };
            Ok((out, state))
        })
        .await??;
        self.scoring_state = Some(state);
        Ok(out)
    }

    /// Runs the post-validations whose drand round the beacon has published; returns how many
    /// rounds were checked. Without a beacon or S3 configuration nothing is due.
    pub async fn run_due_postval(&mut self) -> anyhow::Result<usize> {
        let (Some(client), Some(pv)) = (&self.beacon, &self.postval) else { return Ok(0) };
        if self.state.pending_postval.is_empty() {
            return Ok(0);
        }
        let latest = client.latest().await.context("asking the beacon for its latest round")?.round;
        let (due, waiting): (Vec<_>, Vec<_>) =
            self.state.pending_postval.clone().into_iter().partition(|p| p.target_drand_round <= latest);
        if due.is_empty() {
            return Ok(0);
        }
        let mut records = Vec::new();
        for p in &due {
            let challenge = Challenge {
                challenge_id: p.challenge_id.clone(),
                target_drand_round: p.target_drand_round,
                reveal_timestamp: p.reveal_timestamp,
            };
            let miners: Vec<MinerSubmissions> = p
                .miners
                .iter()
                .map(|m| MinerSubmissions { hotkey: m.hotkey.clone(), submissions: m.submissions.clone() })
                .collect();
            let checks = pv.check_all(&challenge, &miners).await;
            let passed = checks.iter().filter(|c| c.ok).count();
            tracing::info!(round = p.round, checked = checks.len(), passed, "post-validation");
            records.push(PostvalRecord {
                round: p.round,
                challenge_id: p.challenge_id.clone(),
                target_drand_round: p.target_drand_round,
                beacon_round: latest,
                checked: checks.len(),
                passed,
                checks: checks.iter().map(|c| serde_json::to_value(c).unwrap_or_default()).collect(),
            });
        }
        let n = records.len();
        self.state.pending_postval = waiting;
        self.state.postval_results.extend(records);
        self.dir.save(&self.state)?;
        Ok(n)
    }

    /// Runs `rounds` rounds (forever when `None`), keeping the minimum round time, running due
    /// post-validations after each round. An error inside a round is logged and the loop goes on
    /// (1.2), unless `stop_on_error`.
    pub async fn run(&mut self, rounds: Option<u64>, stop_on_error: bool) -> anyhow::Result<Vec<RoundReport>> {
        let mut reports = Vec::new();
        let mut done = 0;
        while rounds.is_none_or(|n| done < n) {
            let started = Instant::now();
            match self.run_round().await {
                Ok(r) => {
                    tracing::info!(
                        round = r.round,
                        answered = r.answered,
                        queried = r.queried,
                        weights_set = r.weights_set,
                        "round done"
                    );
                    reports.push(r);
                }
                Err(e) if !stop_on_error => tracing::error!(error = %format!("{e:#}"), "round failed"),
                Err(e) => return Err(e),
            }
            if let Err(e) = self.run_due_postval().await {
                tracing::warn!(error = %format!("{e:#}"), "post-validation");
            }
            done += 1;
            if rounds.is_none_or(|n| done < n) {
                let min = Duration::from_secs_f64(self.config.min_round_secs.max(0.0));
                if let Some(rest) = min.checked_sub(started.elapsed()) {
                    tokio::time::sleep(rest).await;
                }
                tokio::time::sleep(Duration::from_secs_f64(self.config.post_round_sleep_secs.max(0.0))).await;
            }
        }
        Ok(reports)
    }
}

/// A reputation snapshot: `{hotkey: {rep_score, rep_tier}}`, or the MIID server's upload reply
/// `{"rep_cache": {...}, "rep_snapshot_version": ...}`.
pub fn parse_reputation(text: &str) -> Result<Reputation, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let (cache, version) = match v.get("rep_cache") {
        Some(c) => {
            (c.clone(), v.get("rep_snapshot_version").map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)))
        }
        None => (v, None),
    };
    let records: HashMap<String, RepRecord> =
        serde_json::from_value(cache).map_err(|e| format!("expected hotkey → {{rep_score, rep_tier}}: {e}"))?;
    Ok(Reputation { version, records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reputation_formats() {
        let r = parse_reputation(r#"{"5A": {"rep_score": 10, "rep_tier": "Gold"}}"#).unwrap();
        assert_eq!(r.records["5A"].rep_tier.as_deref(), Some("Gold"));
        let r = parse_reputation(r#"{"rep_cache": {"5B": {"rep_score": 1.5}}, "rep_snapshot_version": "v7"}"#).unwrap();
        assert_eq!((r.version.as_deref(), r.records["5B"].rep_score), (Some("v7"), Some(1.5)));
        assert!(parse_reputation("[1]").unwrap_err().contains("hotkey"));
    }
}
