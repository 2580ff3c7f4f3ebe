//! One query round: pick the miners to ask from the metagraph, send them the signed request
//! concurrently in batches, and collect what each answered (spec validator-round.md; the
//! targeting and batching of miner-protocol.md 1.7).

use std::sync::Arc;

use futures::future::join_all;
use rand::seq::SliceRandom;
use serde::Serialize;

use miid_chain::Metagraph;
use miid_protocol::synapse::{Generation, IdentitySynapse, S3Submission, Variations};
use miid_protocol::v10::AxonTarget;

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
                }
            }
        });
        results.extend(join_all(calls).await);
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
}
