//! One whole round of the reference validator's scoring (spec `kav-scoring.md` section 2 and 14),
//! as one pure function, [`score_round`]: raw miner responses in, KAV rewards, per-miner metrics,
//! final (reputation-stage) rewards and accepted UAVs out.
//!
//! Why one function: the stages feed each other in a fixed order, and two pieces of state cross
//! miners — the reference's process-global Mersenne Twister (address sampling reads the state the
//! name scorers left, Q5) and the Nominatim cache (the first miner to submit an address fixes its
//! score for later ones, Q18). Both are explicit arguments here, so the validator-sim can carry
//! them across rounds exactly as the reference's long-lived process does, and the vectors can
//! start every round from a fresh cache.
//!
//! Pipeline (spec 2):
//! 1. normalise every response (1.2) and collect the accepted UAVs;
//! 2. transliterate every non-Latin seed once (3.4, through a [`Transliterator`]);
//! 3. per miner, in query order, the KAV reward of section 8 ([`crate::kav::score_miner`]);
//! 4. cross-miner cheat penalties over the padded responses and the *processed* (transliterated)
//!    seed names (9–10, Q15);
//! 5. the blended rank cap (11);
//! 6. with UAV grading on (the default, Q33) the reputation stage (13: burn UID 59 appended);
//!    otherwise the KAV-only burn (12).
//!
//! The geocoders are a [`Geocoder`] trait object; [`ScriptedGeocoder`] replays the reference
//! vectors' scripted answers (vectors/README.md), purely from their JSON.
//!
//! Deviations, all inherited from the stages: Q1 (the string hash comes from a [`SeedSource`]),
//! Q16 (rank ties broken by query order), Q22 (deterministic transliteration).

use std::collections::HashMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::address::{Geocoder, NominatimAnswer, NominatimCache, PhotonAnswer};
use crate::cheat::{DetectorError, run_cheat_stage};
use crate::kav::{KavMetrics, Query, RoundContext, Rows, Seed, score_miner};
use crate::normalise::{AcceptedUav, normalise};
use crate::rank::{KavOnlyOutcome, RankConfig, blended_rank_cap, kav_only_burn};
use crate::reputation::{RepRecord, ReputationConfig, ReputationOutcome, apply_reputation_rewards};
use crate::rng::{PyRandom, SeedSource};
use crate::translit::Transliterator;

/// Validator configuration (spec 1.1 item 5), as in the vectors' `config`; absent fields take
/// the production defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundConfig {
    pub burn_fraction: f64,
    pub top_miner_cap: usize,
    pub quality_threshold: f64,
    pub decay_rate: f64,
    pub blend_factor: f64,
    pub kav_weight: f64,
    pub uav_weight: f64,
    /// `nominatim_cache_enabled` (default true): off means the cache is neither read nor written.
    pub nominatim_cache_enabled: bool,
    /// `UAV_grading` (default true, and in the reference it can only be switched on, Q33).
    pub uav_grading: bool,
}

impl Default for RoundConfig {
    fn default() -> Self {
        RoundConfig {
            burn_fraction: 0.70,
            top_miner_cap: 50,
            quality_threshold: 0.6,
            decay_rate: 0.05,
            blend_factor: 0.7,
            kav_weight: 0.20,
            uav_weight: 0.80,
            nominatim_cache_enabled: true,
            uav_grading: true,
        }
    }
}

impl RoundConfig {
    pub fn rank(&self) -> RankConfig {
        RankConfig {
            top_miner_cap: self.top_miner_cap,
            quality_threshold: self.quality_threshold,
            decay_rate: self.decay_rate,
            blend_factor: self.blend_factor,
        }
    }

    pub fn reputation(&self) -> ReputationConfig {
        ReputationConfig { burn_fraction: self.burn_fraction, kav_weight: self.kav_weight, uav_weight: self.uav_weight }
    }
}

/// Everything a round is scored from (spec 1.1).
#[derive(Debug, Clone, Copy)]
pub struct RoundInput<'a> {
    /// The seed identities, in seed order.
    pub seeds: &'a [Seed],
    pub query: &'a Query,
    pub config: &'a RoundConfig,
    /// The round's UAV seed name (one of the High Risk seeds), if any.
    pub uav_seed: Option<&'a str>,
    /// Each queried miner's raw `variations` (before 1.2), in query order, miner key order kept;
    /// `null` for a miner that did not answer.
    pub responses: &'a [Value],
    /// The queried UIDs, aligned with `responses`.
    pub uids: &'a [u16],
    /// The metagraph's hotkeys, indexed by UID.
    pub hotkeys: &'a [String],
    /// The reputation snapshot, hotkey → record (empty on the first round).
    pub reputation: &'a HashMap<String, RepRecord>,
}

/// The state the reference keeps across miners and rounds in its long-lived process.
#[derive(Debug, Clone)]
pub struct RoundState {
    /// The process-global generator (Appendix A). Its state when a round starts only matters for a
    /// miner whose address grading runs before any name was scored in the process.
    pub rng: PyRandom,
    /// The process-wide Nominatim LRU cache (7.8).
    pub cache: NominatimCache,
}

impl Default for RoundState {
    /// A fresh process: generator seeded with 0 (the reference's start-up seed is OS entropy,
    /// which nothing can reproduce), empty cache.
    fn default() -> Self {
        RoundState { rng: PyRandom::new(0), cache: NominatimCache::new() }
    }
}

/// What a round produces.
#[derive(Debug, Clone)]
pub struct RoundOutput {
    /// The KAV stage's rewards: cheat penalties and rank cap applied, burn skipped (UAV path).
    pub kav_rewards: Vec<f64>,
    pub kav_uids: Vec<u16>,
    /// Per-miner metrics in query order ([`KavMetrics::to_json`] is the vectors' `per_miner`).
    pub per_miner: Vec<KavMetrics>,
    /// The final reward vector (reputation stage, or KAV-only burn), UID 59 appended.
    pub final_rewards: Vec<f64>,
    pub final_uids: Vec<u16>,
    /// UID → seed names whose UAV was accepted, in query order (only miners with one).
    pub uav_accepted: IndexMap<u16, Vec<String>>,
    /// Every miner's accepted UAVs (for the upload to the MIID server), in query order.
    pub accepted_uavs: Vec<Vec<AcceptedUav>>,
    /// The padded, normalised responses the later stages saw.
    pub responses: Vec<Rows>,
    /// The processed seed names given to the cheat detector (non-Latin ones transliterated).
    pub processed_seed_names: Vec<String>,
    /// The base rewards of 8.6, before the cheat stage.
    pub base_rewards: Vec<f64>,
    /// The post-cheat-penalty rewards (the rank stage's input).
    pub penalised_rewards: Vec<f64>,
    /// Set when the cheat detector would have raised in the reference (rewards then unchanged).
    pub cheat_error: Option<DetectorError>,
    /// The reputation stage's outcome (UAV grading on).
    pub reputation: Option<ReputationOutcome>,
    /// The KAV-only outcome (UAV grading off).
    pub kav_only: Option<KavOnlyOutcome>,
}

impl RoundOutput {
    /// `uav_accepted` as the vectors write it: `{"uid": [seed, ...]}`.
    pub fn uav_accepted_json(&self) -> Value {
        Value::Object(
            self.uav_accepted
                .iter()
                .map(|(uid, seeds)| (uid.to_string(), Value::from(seeds.clone())))
                .collect::<Map<String, Value>>(),
        )
    }
}

/// Scores one round (spec 2 and 14).
///
/// - `seeds`: the source of the reference's `hash(s)` (a keyed hash in production, the vectors'
///   `hash_seeds` table in tests);
/// - `transliterator`: the Latin form of non-Latin seed names (3.4; the deterministic default is
///   [`crate::translit::UnidecodeTransliterator`], Q22);
/// - `geocoder`: Nominatim and Photon;
/// - `state`: the generator and the cache, carried across rounds by the caller.
///
/// # Panics
/// If `responses` and `uids` differ in length (a fatal error in the reference too, 8).
pub fn score_round(
    input: &RoundInput<'_>,
    seeds: &dyn SeedSource,
    transliterator: &dyn Transliterator,
    geocoder: &mut dyn Geocoder,
    state: &mut RoundState,
) -> RoundOutput {
    assert_eq!(input.responses.len(), input.uids.len(), "one response per queried UID");
    // 1. Normalisation and UAVs.
    let normalised: Vec<_> =
        input.responses.iter().map(|v| normalise(Some(v).filter(|v| !v.is_null()), input.uav_seed)).collect();
    let mut uav_accepted = IndexMap::new();
    for (uid, n) in input.uids.iter().zip(&normalised) {
        if !n.accepted_uavs.is_empty() {
            uav_accepted.insert(*uid, n.accepted_uavs.iter().map(|u| u.seed.clone()).collect());
        }
    }
    let accepted_uavs: Vec<Vec<AcceptedUav>> = normalised.iter().map(|n| n.accepted_uavs.clone()).collect();
    let mut responses: Vec<Rows> = normalised.into_iter().map(|n| n.rows).collect();

    // 2. Transliteration, once per round.
    let transliterations: Vec<Option<String>> =
        input.seeds.iter().map(|s| (!s.is_latin()).then(|| transliterator.transliterate(&s.name, &s.script))).collect();
    let processed_seed_names: Vec<String> =
        input.seeds.iter().zip(&transliterations).map(|(s, t)| t.clone().unwrap_or_else(|| s.name.clone())).collect();

    // 3. Per-miner KAV rewards, in query order (the generator and the cache cross miners).
    let ctx = RoundContext { seeds: input.seeds, query: input.query, transliterations: &transliterations };
    let mut base_rewards = Vec::with_capacity(responses.len());
    let mut per_miner = Vec::with_capacity(responses.len());
    for rows in &mut responses {
        let cache = input.config.nominatim_cache_enabled.then_some(&mut state.cache);
        let kav = score_miner(rows, &ctx, seeds, &mut state.rng, geocoder, cache);
        base_rewards.push(kav.reward);
        per_miner.push(kav.metrics);
    }

    // 4. Cheat penalties.
    let totals: Vec<f64> = per_miner.iter().map(|m| m.completeness.total_penalty).collect();
    let cheat = run_cheat_stage(&responses, &base_rewards, &processed_seed_names, &totals);
    if cheat.error.is_none() {
        for (i, m) in per_miner.iter_mut().enumerate() {
            m.cheat = Some(cheat.penalties[i].clone());
            m.applied = Some(cheat.applied[i]);
            if cheat.applied[i].post_total_penalty.is_some() {
                m.final_reward = cheat.applied[i].reward;
            }
        }
    }

    // 5. Rank cap; the quality is each miner's `final_reward` metric (equal to the reward).
    let quality: Vec<f64> = per_miner.iter().map(|m| m.final_reward).collect();
    let rank = blended_rank_cap(&cheat.rewards, &quality, &input.config.rank());
    for (m, info) in per_miner.iter_mut().zip(&rank.ranking) {
        m.ranking_info = Some(info.clone());
    }

    // 6. Reputation stage (UAV grading on) or the KAV-only burn.
    let (final_rewards, final_uids, reputation, kav_only) = if input.config.uav_grading {
        let rep = apply_reputation_rewards(
            &rank.rewards,
            input.uids,
            input.hotkeys,
            input.reputation,
            &input.config.reputation(),
        );
        (rep.rewards.clone(), rep.uids.clone(), Some(rep), None)
    } else {
        let k = kav_only_burn(&rank, input.uids, input.config.burn_fraction);
        (k.rewards.clone(), k.uids.clone(), None, Some(k))
    };

    RoundOutput {
        kav_rewards: rank.rewards,
        kav_uids: input.uids.to_vec(),
        per_miner,
        final_rewards,
        final_uids,
        uav_accepted,
        accepted_uavs,
        responses,
        processed_seed_names,
        base_rewards,
        penalised_rewards: cheat.rewards,
        cheat_error: cheat.error,
        reputation,
        kav_only,
    }
}

// ---------------------------------------------------------------------------------------------
// Scripted geocoder (vectors/README.md, `geocoder` of rounds.jsonl)
// ---------------------------------------------------------------------------------------------

/// Replays the reference vectors' scripted geocoder answers, per address:
/// `{"results": [...]}` is Nominatim's JSON body, `{"error": "timeout"}` a timeout,
/// `{"error": "api"}` (any other error) a connection error; `"photon"` is Photon's answer
/// (`found`, `empty` or `timeout`).
///
/// The script holds exactly the addresses the reference asked about. A question about any other
/// address means the replay diverged from the reference (a different address sample, Q5, or a
/// different cache state): it is answered as an API error / empty Photon result and recorded in
/// [`ScriptedGeocoder::unscripted`] so the caller can report it.
#[derive(Debug, Clone)]
pub struct ScriptedGeocoder<'a> {
    script: &'a Map<String, Value>,
    /// Addresses asked about that the script does not hold, in call order (`photon:` prefixed
    /// for Photon calls).
    pub unscripted: Vec<String>,
    /// Every call made, in order (`nominatim:` or `photon:` + address).
    pub calls: Vec<String>,
}

impl<'a> ScriptedGeocoder<'a> {
    pub fn new(script: &'a Map<String, Value>) -> Self {
        ScriptedGeocoder { script, unscripted: Vec::new(), calls: Vec::new() }
    }

    /// From a round's `geocoder` value (must be a JSON object).
    pub fn from_json(script: &'a Value) -> Result<Self, String> {
        script.as_object().map(Self::new).ok_or_else(|| "geocoder is not a JSON object".to_string())
    }
}

impl Geocoder for ScriptedGeocoder<'_> {
    fn nominatim(&mut self, address: &str) -> NominatimAnswer {
        self.calls.push(format!("nominatim:{address}"));
        let Some(entry) = self.script.get(address) else {
            self.unscripted.push(address.to_string());
            return NominatimAnswer::ApiError;
        };
        match entry.get("error") {
            Some(Value::String(e)) if e == "timeout" => NominatimAnswer::Timeout,
            Some(_) => NominatimAnswer::ApiError,
            None => match entry.get("results") {
                Some(body) => NominatimAnswer::Body(body.clone()),
                None => NominatimAnswer::ApiError,
            },
        }
    }

    fn photon(&mut self, address: &str) -> PhotonAnswer {
        self.calls.push(format!("photon:{address}"));
        match self.script.get(address).and_then(|e| e.get("photon")).and_then(Value::as_str) {
            Some("found") => PhotonAnswer::Found,
            Some("empty") => PhotonAnswer::Empty,
            Some("timeout") => PhotonAnswer::Timeout,
            Some(_) => PhotonAnswer::Error,
            None => {
                self.unscripted.push(format!("photon:{address}"));
                PhotonAnswer::Empty
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::KeyedSeedSource;
    use crate::translit::UnidecodeTransliterator;
    use serde_json::json;

    const LATIN: [&str; 6] = ["jon smith", "jhon smyth", "john smit", "joh smith", "jonn smith", "johm smitt"];
    const CYRILLIC: [&str; 6] =
        ["ivan petrov", "ivan petroff", "iwan petrov", "ivan petrow", "ivann petrov", "yvan petrov"];

    fn seeds() -> Vec<Seed> {
        serde_json::from_value(json!([
            {"name": "John Smith", "dob": "1990-05-26", "address": "", "script": "latin", "label": "positive"},
            {"name": "Иван Петров", "dob": "1985-1-2", "address": "", "script": "cyrillic", "label": "High Risk"}
        ]))
        .unwrap()
    }

    fn query() -> Query {
        serde_json::from_value(json!({"variation_count": 6, "rule_based": null})).unwrap()
    }

    #[test]
    fn scripted_geocoder_replays_and_records_misses() {
        let script = json!({
            "a": {"results": [], "photon": "found"},
            "b": {"error": "timeout", "photon": "timeout"},
            "c": {"error": "api", "photon": "empty"}
        });
        let mut g = ScriptedGeocoder::from_json(&script).unwrap();
        assert_eq!(g.nominatim("a"), NominatimAnswer::Body(json!([])));
        assert_eq!(g.nominatim("b"), NominatimAnswer::Timeout);
        assert_eq!(g.nominatim("c"), NominatimAnswer::ApiError);
        assert_eq!(
            (g.photon("a"), g.photon("b"), g.photon("c")),
            (PhotonAnswer::Found, PhotonAnswer::Timeout, PhotonAnswer::Empty)
        );
        assert!(g.unscripted.is_empty());
        assert_eq!(g.nominatim("zzz"), NominatimAnswer::ApiError);
        assert_eq!(g.photon("zzz"), PhotonAnswer::Empty);
        assert_eq!(g.unscripted, vec!["zzz".to_string(), "photon:zzz".to_string()]);
    }

    /// No seed addresses (Q7: full address credit, no geocoder call), one honest miner, one
    /// empty response, one that did not answer; both the reputation and the KAV-only paths.
    #[test]
    fn small_round_both_paths() {
        let (seeds, query) = (seeds(), query());
        let rows: Vec<Value> = (0..6).map(|i| json!([LATIN[i], format!("1990-05-{}", 20 + i), ""])).collect();
        let cyr: Vec<Value> = (0..6).map(|i| json!([CYRILLIC[i], "1985-01-02", ""])).collect();
        let responses = vec![json!({"John Smith": rows, "Иван Петров": cyr}), json!({}), Value::Null];
        let uids = [3u16, 4, 5];
        let hotkeys: Vec<String> = (0..6).map(|i| format!("hk{i}")).collect();
        let reputation =
            HashMap::from([("hk4".to_string(), RepRecord { rep_score: Some(10.0), rep_tier: Some("Gold".into()) })]);
        let script = Map::new();
        for uav_grading in [true, false] {
            let config = RoundConfig { uav_grading, quality_threshold: 0.1, ..RoundConfig::default() };
            let input = RoundInput {
                seeds: &seeds,
                query: &query,
                config: &config,
                uav_seed: None,
                responses: &responses,
                uids: &uids,
                hotkeys: &hotkeys,
                reputation: &reputation,
            };
            let mut geocoder = ScriptedGeocoder::new(&script);
            let out = score_round(
                &input,
                &KeyedSeedSource::with_key(1, 2),
                &UnidecodeTransliterator,
                &mut geocoder,
                &mut RoundState::default(),
            );
            assert!(geocoder.calls.is_empty(), "no seed address: no geocoding");
            assert_eq!(out.processed_seed_names[1], "Ivan Petrov");
            let m = &out.per_miner[0];
            assert_eq!(m.address_grading.as_ref().unwrap().overall_score, 1.0);
            assert_eq!(m.name_metrics.len(), 2, "a Latin and a non-Latin name were scored");
            // No addresses sent: insufficient addresses (0.4) and the cyrillic key's repeated DOB
            // (0.1) cost half the reward; the address component itself is the free 0.7 (Q7).
            assert!((m.completeness_multiplier - 0.5).abs() < 1e-12, "{:?}", m.completeness);
            assert!(m.identity_quality > 0.7);
            assert_eq!(out.base_rewards[0], m.identity_quality * m.completeness_multiplier);
            assert!(out.per_miner[1].empty && out.per_miner[2].empty);
            assert_eq!(out.base_rewards[1..], [0.0, 0.0]);
            assert_eq!(*out.final_uids.last().unwrap(), 59);
            if uav_grading {
                assert_eq!(out.reputation.as_ref().unwrap().mode.as_str(), "configured");
                assert!((out.final_rewards.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            } else {
                assert_eq!(out.final_rewards.len(), 4);
                assert_eq!(out.final_rewards[3], 0.7);
                assert!((out.final_rewards[0] - 0.3).abs() < 1e-12, "the only qualified miner keeps 30%");
            }
        }
    }
}
