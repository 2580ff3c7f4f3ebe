//! One query round: pick the miners to ask from the metagraph, send them the signed request
//! concurrently in batches, and collect what each answered (spec validator-round.md; the
//! targeting and batching of miner-protocol.md 1.7).

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use rand::seq::SliceRandom;
use serde::Serialize;

use miid_chain::Metagraph;
use miid_protocol::synapse::{Generation, IdentitySynapse, S3Submission, Variations};
use miid_protocol::v10::AxonTarget;
use miid_scoring::rng::PyRandom;

use crate::dendrite::Dendrite;

/// UIDs with a validator permit and more stake than this are validators, not queried.
pub const VALIDATOR_STAKE_THRESHOLD: f64 = 40_960.0;

#[derive(Debug, Clone)]
pub struct RoundConfig {
    pub generation: Generation,
    pub timeout: f64,
    /// At most this many miners are sampled per round (reference: 250).
    pub sample_size: usize,
    /// Miners queried concurrently (reference: 150).
    pub batch_size: usize,
}

impl Default for RoundConfig {
    fn default() -> Self {
        RoundConfig { generation: Generation::R2, timeout: 1200.0, sample_size: 250, batch_size: 150 }
    }
}

/// What one miner answered, as the round reports it.
#[derive(Debug, Clone, Serialize)]
pub struct MinerResult {
    pub uid: u16,
    pub hotkey: String,
    pub status_code: i64,
    pub status_message: String,
    pub process_time: f64,
    /// R1: the answer's `variations`, in the miner's key order (null unless status 200).
    pub variations: Option<Variations>,
    /// The answer's `s3_submissions` (null unless status 200).
    pub s3_submissions: Option<Vec<S3Submission>>,
    /// The validator replaced a failed answer by an empty default one (10.3).
    pub default_answer: bool,
}

/// The miners a validator queries: serving axons, not itself, not validators.
pub fn targets(metagraph: &Metagraph, own_hotkey: &str) -> Vec<(u16, AxonTarget)> {
    metagraph
        .neurons
        .iter()
        .filter(|n| n.axon.is_serving() && n.hotkey != own_hotkey)
        .filter(|n| !(n.validator_permit && n.stake > VALIDATOR_STAKE_THRESHOLD))
        .map(|n| (n.uid, AxonTarget { ip: n.axon.ip.clone(), port: n.axon.port, hotkey: n.hotkey.clone() }))
        .collect()
}

/// Queries up to `sample_size` of `targets` (randomly sampled) with `synapse`.
pub async fn query_miners(
    dendrite: &Arc<Dendrite>,
    mut targets: Vec<(u16, AxonTarget)>,
    synapse: &IdentitySynapse,
    config: &RoundConfig,
) -> Vec<MinerResult> {
    targets.shuffle(&mut rand::rng());
    targets.truncate(config.sample_size.max(1));
    targets.sort_by_key(|(uid, _)| *uid);
    let mut results = Vec::with_capacity(targets.len());
    for batch in targets.chunks(config.batch_size.max(1)) {
        let calls = batch.iter().map(|(uid, target)| {
            let dendrite = dendrite.clone();
            async move {
                let r = dendrite.call(target, synapse, config.generation, config.timeout).await;
                tracing::info!(uid, hotkey = %target.hotkey, status = r.status_code, message = %r.status_message, secs = r.process_time, "dendrite <-- answer");
                let (variations, s3_submissions) = match r.synapse {
                    Some(s) => (s.variations, s.s3_submissions),
                    None => (None, None),
                };
                MinerResult {
                    uid: *uid,
                    hotkey: target.hotkey.clone(),
                    status_code: r.status_code,
                    status_message: r.status_message,
                    process_time: r.process_time,
                    variations,
                    s3_submissions,
                    default_answer: false,
                }
            }
        });
        results.extend(join_all(calls).await);
    }
    results
}

/// The reference's miner sampling (validator-round 3): `k = min(#axons − 1, sample_size)`, the
/// available UIDs (serving, and not a validator with more than `vpermit_tao_limit` stake) in UID
/// order, `k` of them drawn without replacement from the global generator; the draw order is the
/// query order. The validator itself is not excluded (V2).
pub fn sample_targets(
    metagraph: &Metagraph,
    sample_size: usize,
    vpermit_tao_limit: f64,
    global: &mut PyRandom,
) -> Vec<(u16, AxonTarget)> {
    let mut neurons: Vec<_> = metagraph.neurons.iter().collect();
    neurons.sort_by_key(|n| n.uid);
    let available: Vec<_> = neurons
        .into_iter()
        .filter(|n| n.axon.is_serving() && !(n.validator_permit && n.stake > vpermit_tao_limit))
        .collect();
    let k = metagraph.neurons.len().saturating_sub(1).min(sample_size).min(available.len());
    global
        .sample_indices(available.len(), k)
        .into_iter()
        .map(|i| {
            let n = available[i];
            (n.uid, AxonTarget { ip: n.axon.ip.clone(), port: n.axon.port, hotkey: n.hotkey.clone() })
        })
        .collect()
}

/// How a round's batches are sent (validator-round 10.2–10.3).
#[derive(Debug, Clone)]
pub struct BatchPolicy {
    /// Miners queried concurrently (reference 150).
    pub batch_size: usize,
    /// Wait after building the synapse (reference 3 s).
    pub wait_before_query: Duration,
    /// Wait before each batch (reference 3 s).
    pub wait_before_batch: Duration,
    /// Wait between batches (reference 2 s).
    pub wait_between_batches: Duration,
    /// Attempts per batch (reference 3).
    pub attempts: usize,
    /// Retries happen only when more than this many miners of a batch returned 422 (50).
    pub retry_threshold: usize,
    /// Back-off unit before attempt `a + 1`: `unit · (a + 1)` (reference 5 s).
    pub retry_backoff: Duration,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        BatchPolicy {
            batch_size: 150,
            wait_before_query: Duration::from_secs(3),
            wait_before_batch: Duration::from_secs(3),
            wait_between_batches: Duration::from_secs(2),
            attempts: 3,
            retry_threshold: 50,
            retry_backoff: Duration::from_secs(5),
        }
    }
}

impl BatchPolicy {
    /// No waits (tests, benchmarks): the reference's retry rule kept.
    pub fn immediate(batch_size: usize) -> Self {
        BatchPolicy {
            batch_size,
            wait_before_query: Duration::ZERO,
            wait_before_batch: Duration::ZERO,
            wait_between_batches: Duration::ZERO,
            retry_backoff: Duration::ZERO,
            ..BatchPolicy::default()
        }
    }
}

async fn call_one(
    dendrite: &Dendrite,
    uid: u16,
    target: &AxonTarget,
    synapse: &IdentitySynapse,
    generation: Generation,
    timeout: f64,
) -> MinerResult {
    let r = dendrite.call(target, synapse, generation, timeout).await;
    tracing::debug!(uid, status = r.status_code, message = %r.status_message, secs = r.process_time, "dendrite <-- answer");
    let (variations, s3_submissions) = match r.synapse {
        Some(s) => (s.variations, s.s3_submissions),
        None => (None, None),
    };
    MinerResult {
        uid,
        hotkey: target.hotkey.clone(),
        status_code: r.status_code,
        status_message: r.status_message,
        process_time: r.process_time,
        variations,
        s3_submissions,
        default_answer: false,
    }
}

/// Queries `targets` in query order, batch by batch, with the reference's retries and default
/// answers (10.2–10.3): attempt `a` uses `timeout · (1 + 0.1·a)`; 422 answers are retried only
/// when more than `retry_threshold` miners of the batch returned one, otherwise (and after the
/// last attempt) they get an empty default answer. Results are in query order.
pub async fn query_batches(
    dendrite: &Dendrite,
    targets: &[(u16, AxonTarget)],
    synapse: &IdentitySynapse,
    generation: Generation,
    timeout: f64,
    policy: &BatchPolicy,
) -> Vec<MinerResult> {
    tokio::time::sleep(policy.wait_before_query).await;
    let mut results = Vec::with_capacity(targets.len());
    for (b, batch) in targets.chunks(policy.batch_size.max(1)).enumerate() {
        if b > 0 {
            tokio::time::sleep(policy.wait_between_batches).await;
        }
        tokio::time::sleep(policy.wait_before_batch).await;
        let mut answers: Vec<Option<MinerResult>> = vec![None; batch.len()];
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        for attempt in 0..policy.attempts.max(1) {
            let t = timeout * (1.0 + 0.1 * attempt as f64);
            let calls = pending.iter().map(|&i| call_one(dendrite, batch[i].0, &batch[i].1, synapse, generation, t));
            let got = join_all(calls).await;
            let mut retry = Vec::new();
            for (&i, r) in pending.iter().zip(got) {
                if r.status_code == 422 {
                    retry.push(i);
                }
                answers[i] = Some(r);
            }
            if attempt + 1 == policy.attempts.max(1) {
                // The last attempt's answers are kept as they are.
                break;
            }
            if retry.len() <= policy.retry_threshold {
                for &i in &retry {
                    if let Some(r) = answers[i].as_mut() {
                        // An empty default answer, process time unknown (V9).
                        r.default_answer = true;
                        r.variations = matches!(generation, Generation::R1).then(Default::default);
                        r.s3_submissions = None;
                        r.process_time = f64::NAN;
                    }
                }
                break;
            }
            tracing::info!(failed = retry.len(), attempt, "more than the threshold returned 422: retrying them");
            tokio::time::sleep(policy.retry_backoff * (attempt as u32 + 1)).await;
            pending = retry;
        }
        results.extend(answers.into_iter().flatten());
    }
    results
}

/// A fixed-width table of a round's answers, for the terminal.
pub fn table(results: &[MinerResult], uav_seed: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:>4}  {:<12}  {:>6}  {:>8}  {:>5}  {:>5}  {:>3}  {:>6}  {}\n",
        "uid", "hotkey", "status", "time_s", "seeds", "rows", "uav", "images", "message"
    ));
    for r in results {
        let seeds = r.variations.as_ref().map_or(0, |v| v.len());
        let rows: usize = r.variations.as_ref().map_or(0, |v| v.values().map(|s| s.rows().len()).sum());
        let uav = match (uav_seed, &r.variations) {
            (Some(seed), Some(v)) if v.get(seed).and_then(|s| s.uav()).is_some() => "yes",
            _ => "no",
        };
        let images = r.s3_submissions.as_ref().map_or(0, Vec::len);
        let short = if r.hotkey.len() > 12 { format!("{}…", &r.hotkey[..11]) } else { r.hotkey.clone() };
        let mut message = r.status_message.clone();
        if message.chars().count() > 60 {
            message = message.chars().take(59).collect::<String>() + "…";
        }
        out.push_str(&format!(
            "{:>4}  {:<12}  {:>6}  {:>8.3}  {:>5}  {:>5}  {:>3}  {:>6}  {}\n",
            r.uid, short, r.status_code, r.process_time, seeds, rows, uav, images, message
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_skip_self_unserved_and_validators() {
        let m = Metagraph::from_json(br#"{"netuid": 54, "block": 1, "neurons": [
            {"uid": 0, "hotkey": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "stake": 50000.0, "validator_permit": true, "axon": {"ip": "10.0.0.1", "port": 1}},
            {"uid": 1, "hotkey": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "stake": 1.0, "validator_permit": false, "axon": {"ip": "10.0.0.2", "port": 2}},
            {"uid": 2, "hotkey": "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y", "stake": 1.0, "validator_permit": false, "axon": {"ip": "0.0.0.0", "port": 0}},
            {"uid": 3, "hotkey": "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy", "stake": 100000.0, "validator_permit": true, "axon": {"ip": "10.0.0.4", "port": 4}},
            {"uid": 4, "hotkey": "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw", "stake": 100000.0, "validator_permit": false, "axon": {"ip": "10.0.0.5", "port": 5}}
        ]}"#).unwrap();
        let t: Vec<u16> =
            targets(&m, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").into_iter().map(|(u, _)| u).collect();
        assert_eq!(t, vec![1, 4]);
    }

    fn neuron(uid: u16, ip: &str, permit: bool, stake: f64) -> miid_chain::Neuron {
        let hotkey = miid_protocol::Hotkey::from_uri(&format!("//Sample{uid}")).unwrap().ss58().to_owned();
        miid_chain::Neuron {
            uid,
            hotkey: hotkey.clone(),
            coldkey: hotkey,
            stake,
            validator_permit: permit,
            axon: miid_chain::AxonEndpoint { ip: ip.into(), port: 1000 + uid },
        }
    }

    /// Section 3: k = min(#axons − 1, sample_size); big validators and unserved axons are not
    /// available; a small validator is (V2); the draw is reproducible.
    #[test]
    fn reference_sampling() {
        let m = Metagraph::new(
            54,
            1,
            vec![
                neuron(0, "10.0.0.1", true, 50_000.0), // big validator: never queried
                neuron(1, "10.0.0.2", true, 10.0),     // small validator: queried (V2)
                neuron(2, "0.0.0.0", false, 0.0),      // not serving
                neuron(3, "10.0.0.4", false, 0.0),
                neuron(4, "10.0.0.5", false, 0.0),
            ],
        )
        .unwrap();
        for seed in 0..20 {
            let t: Vec<u16> =
                sample_targets(&m, 250, 40_960.0, &mut PyRandom::new(seed)).into_iter().map(|(u, _)| u).collect();
            // k = min(5 − 1, 250) = 4, but only 3 are available.
            let mut sorted = t.clone();
            sorted.sort();
            assert_eq!(sorted, vec![1, 3, 4], "seed {seed}");
        }
        // All five available: one is left out at random, in random order.
        let all = Metagraph::new(54, 1, (0..5).map(|u| neuron(u, "10.0.0.9", false, 0.0)).collect()).unwrap();
        let mut left_out = std::collections::HashSet::new();
        for seed in 0..40 {
            let t: Vec<u16> =
                sample_targets(&all, 250, 40_960.0, &mut PyRandom::new(seed)).into_iter().map(|(u, _)| u).collect();
            assert_eq!(t.len(), 4);
            left_out.insert((0..5).find(|u| !t.contains(u)).unwrap());
        }
        assert!(left_out.len() > 2, "{left_out:?}");
        let a = sample_targets(&all, 2, 40_960.0, &mut PyRandom::new(7));
        let b = sample_targets(&all, 2, 40_960.0, &mut PyRandom::new(7));
        assert_eq!(a.iter().map(|x| x.0).collect::<Vec<_>>(), b.iter().map(|x| x.0).collect::<Vec<_>>());
        assert_eq!(a.len(), 2, "sample_size bounds k");
    }
}
