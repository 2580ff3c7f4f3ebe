//! `validator-sim score` and `validator-sim bench`: score one round the way the reference
//! validator would, and tell a miner operator what each miner would get and why.
//!
//! A round is given as JSON in the shape of a `rounds.jsonl` line (vectors/README.md): `seeds`,
//! `query`, `config` (optional, production defaults), `uav_seed` (optional), raw miner
//! `responses`, `uids`, `hotkeys` (uid → hotkey), `reputation` (optional) and, optionally,
//! `hash_seeds` and `geocoder`. A full vector line is accepted too; its reference outputs
//! (`kav_rewards`, `per_miner`, ...) are ignored.
//!
//! Two inputs decide reproducibility, and both fall back to what production does:
//! - the seed source (the reference's per-process salted `hash(s)`, Q1): the file's `hash_seeds`
//!   table when present, else a fresh random key, like a freshly started validator. A string
//!   missing from the table is hashed with the fallback key and reported, rather than aborting;
//! - the geocoders: the file's scripted `geocoder` answers when present (unless a live geocoder
//!   is asked for explicitly), else HTTP clients ([`crate::geocoder`]). An address missing from
//!   the script is answered as an API error / empty Photon result and reported.
//!
//! The scoring itself is `miid_scoring::round::score_round`; this module parses, reports and
//! measures. The synthetic 64-miner round of [`synthetic_round`] is the one the criterion bench
//! `scoring/benches/round.rs` builds (same generator, kept in step by hand: a bench cannot share
//! code with this crate without a dependency cycle).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use miid_scoring::address::Geocoder;
use miid_scoring::kav::{KavMetrics, Query, Seed};
use miid_scoring::reputation::RepRecord;
use miid_scoring::rng::{KeyedSeedSource, SeedSource, TableSeedSource};
use miid_scoring::round::{RoundConfig, RoundInput, RoundOutput, RoundState, ScriptedGeocoder, score_round};
use miid_scoring::translit::UnidecodeTransliterator;

/// Why a round file could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("the round is empty (expected one JSON object, a rounds.jsonl line)")]
    Empty,
    #[error(
        "the input holds {0} JSON lines; `score` takes one round (pick one, e.g. `sed -n 1p rounds.jsonl > round.json`)"
    )]
    SeveralRounds(usize),
    #[error("the round is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("the round must be a JSON object (a rounds.jsonl line), found {0}")]
    NotObject(&'static str),
    #[error("the round has no `{0}` field")]
    Missing(&'static str),
    #[error("`{field}` is malformed: {why}")]
    Field { field: &'static str, why: String },
    #[error("{responses} responses but {uids} uids: the lists must align (one response per queried uid)")]
    Lengths { responses: usize, uids: usize },
    #[error("the round has no scripted `geocoder` and no live geocoder was given")]
    NoGeocoder,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One round to score, parsed.
#[derive(Debug, Clone)]
pub struct RoundSpec {
    pub seeds: Vec<Seed>,
    pub query: Query,
    pub config: RoundConfig,
    pub uav_seed: Option<String>,
    /// Raw miner responses (before 1.2), aligned with `uids`; `null` = no answer.
    pub responses: Vec<Value>,
    pub uids: Vec<u16>,
    /// Hotkeys indexed by uid.
    pub hotkeys: Vec<String>,
    pub reputation: HashMap<String, RepRecord>,
    /// The file's `hash_seeds`, if any.
    pub hash_seeds: Option<TableSeedSource>,
    /// The file's scripted geocoder answers, if any.
    pub geocoder: Option<Map<String, Value>>,
}

impl RoundSpec {
    /// Parses a round from text: one JSON object (surrounding whitespace allowed).
    pub fn parse(text: &str) -> Result<Self, ScoreError> {
        if text.trim().is_empty() {
            return Err(ScoreError::Empty);
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v) => Self::from_json(&v),
            Err(e) => {
                // A whole rounds.jsonl passed by mistake deserves a precise message.
                let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
                if lines.len() > 1 && lines.iter().all(|l| serde_json::from_str::<Value>(l).is_ok()) {
                    Err(ScoreError::SeveralRounds(lines.len()))
                } else {
                    Err(ScoreError::NotJson(e))
                }
            }
        }
    }

    /// Reads and parses a round file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}: not a scorable round", path.display()))
    }

    /// From a parsed JSON object.
    pub fn from_json(v: &Value) -> Result<Self, ScoreError> {
        let obj = v.as_object().ok_or_else(|| ScoreError::NotObject(kind(v)))?;
        fn req<'a>(obj: &'a Map<String, Value>, key: &'static str) -> Result<&'a Value, ScoreError> {
            obj.get(key).ok_or(ScoreError::Missing(key))
        }
        fn typed<T: serde::de::DeserializeOwned>(value: &Value, field: &'static str) -> Result<T, ScoreError> {
            T::deserialize(value).map_err(|e| ScoreError::Field { field, why: e.to_string() })
        }
        /// An optional field: absent or null → `None`.
        fn opt<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
            obj.get(key).filter(|v| !v.is_null())
        }
        let seeds: Vec<Seed> = typed(req(obj, "seeds")?, "seeds")?;
        let query: Query = typed(req(obj, "query")?, "query")?;
        let config: RoundConfig = opt(obj, "config").map(|c| typed(c, "config")).transpose()?.unwrap_or_default();
        let uav_seed = match opt(obj, "uav_seed") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(ScoreError::Field {
                    field: "uav_seed",
                    why: format!("expected a string, found {}", kind(other)),
                });
            }
        };
        let responses = match req(obj, "responses")? {
            Value::Array(a) => a.clone(),
            other => {
                return Err(ScoreError::Field {
                    field: "responses",
                    why: format!("expected an array, found {}", kind(other)),
                });
            }
        };
        let uids: Vec<u16> = typed(req(obj, "uids")?, "uids")?;
        if uids.len() != responses.len() {
            return Err(ScoreError::Lengths { responses: responses.len(), uids: uids.len() });
        }
        let hotkeys: Vec<String> = typed(req(obj, "hotkeys")?, "hotkeys")?;
        let reputation: HashMap<String, RepRecord> =
            opt(obj, "reputation").map(|r| typed(r, "reputation")).transpose()?.unwrap_or_default();
        let hash_seeds = opt(obj, "hash_seeds")
            .map(|h| TableSeedSource::from_json(h).map_err(|why| ScoreError::Field { field: "hash_seeds", why }))
            .transpose()?;
        let geocoder = match opt(obj, "geocoder") {
            None => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(other) => {
                return Err(ScoreError::Field {
                    field: "geocoder",
                    why: format!("expected an object (address → scripted answer), found {}", kind(other)),
                });
            }
        };
        Ok(RoundSpec { seeds, query, config, uav_seed, responses, uids, hotkeys, reputation, hash_seeds, geocoder })
    }

    /// The scorer's view of the round.
    pub fn input(&self) -> RoundInput<'_> {
        RoundInput {
            seeds: &self.seeds,
            query: &self.query,
            config: &self.config,
            uav_seed: self.uav_seed.as_deref(),
            responses: &self.responses,
            uids: &self.uids,
            hotkeys: &self.hotkeys,
            reputation: &self.reputation,
        }
    }

    /// The hotkey of `uid`, if the table has one.
    pub fn hotkey(&self, uid: u16) -> Option<&str> {
        self.hotkeys.get(uid as usize).map(String::as_str)
    }
}

/// The file's `hash_seeds` with a keyed fallback that records what it had to hash itself.
struct Seeds<'a> {
    table: Option<&'a TableSeedSource>,
    fallback: KeyedSeedSource,
    misses: RefCell<Vec<String>>,
}

impl SeedSource for Seeds<'_> {
    fn hash(&self, s: &str) -> i64 {
        match self.table {
            None => self.fallback.hash(s),
            Some(t) => t.get(s).unwrap_or_else(|| {
                let mut misses = self.misses.borrow_mut();
                if !misses.iter().any(|m| m == s) {
                    misses.push(s.to_string());
                }
                self.fallback.hash(s)
            }),
        }
    }
}

/// A scored round with where its randomness and geocoding came from.
#[derive(Debug, Clone)]
pub struct Scored {
    pub output: RoundOutput,
    /// `hash_seeds` or `keyed`.
    pub seed_source: &'static str,
    /// `scripted` or `live`.
    pub geocoder: &'static str,
    /// Geocoder calls made (cache hits make none).
    pub geocoder_calls: usize,
    /// Addresses asked about that the script does not hold (`photon:` prefixed for Photon).
    pub unscripted: Vec<String>,
    /// Strings hashed that `hash_seeds` does not hold (hashed with the fallback key).
    pub unhashed: Vec<String>,
}

/// Counts calls through to a live geocoder.
struct Counting<'a> {
    inner: &'a mut dyn Geocoder,
    calls: usize,
}

impl Geocoder for Counting<'_> {
    fn nominatim(&mut self, address: &str) -> miid_scoring::address::NominatimAnswer {
        self.calls += 1;
        self.inner.nominatim(address)
    }
    fn photon(&mut self, address: &str) -> miid_scoring::address::PhotonAnswer {
        self.calls += 1;
        self.inner.photon(address)
    }
}

/// Scores `spec` from a fresh validator state (new generator, empty Nominatim cache, as in the
/// vectors). `live`: a geocoder to use instead of the file's script (required when the file has
/// none). `fallback`: the seed source for strings `hash_seeds` lacks, or for all strings when the
/// file has no table ([`KeyedSeedSource::random`] in production).
pub fn score(
    spec: &RoundSpec,
    live: Option<&mut dyn Geocoder>,
    fallback: KeyedSeedSource,
) -> Result<Scored, ScoreError> {
    let seeds = Seeds { table: spec.hash_seeds.as_ref(), fallback, misses: RefCell::default() };
    let seed_source = if spec.hash_seeds.is_some() { "hash_seeds" } else { "keyed" };
    let input = spec.input();
    let translit = UnidecodeTransliterator;
    let mut state = RoundState::default();
    let (output, geocoder, geocoder_calls, unscripted) = match (live, &spec.geocoder) {
        (Some(g), _) => {
            let mut g = Counting { inner: g, calls: 0 };
            let out = score_round(&input, &seeds, &translit, &mut g, &mut state);
            (out, "live", g.calls, Vec::new())
        }
        (None, Some(script)) => {
            let mut g = ScriptedGeocoder::new(script);
            let out = score_round(&input, &seeds, &translit, &mut g, &mut state);
            (out, "scripted", g.calls.len(), g.unscripted)
        }
        (None, None) => return Err(ScoreError::NoGeocoder),
    };
    Ok(Scored { output, seed_source, geocoder, geocoder_calls, unscripted, unhashed: seeds.misses.into_inner() })
}

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

/// `5Hotk…0001`: enough of a hotkey to recognise it in a table.
pub fn short_hotkey(h: &str) -> String {
    let chars: Vec<char> = h.chars().collect();
    if chars.len() <= 11 {
        h.to_string()
    } else {
        format!("{}…{}", chars[..5].iter().collect::<String>(), chars[chars.len() - 4..].iter().collect::<String>())
    }
}

/// Why a miner got what it got, in a few words (empty response, missing names, cheat slots,
/// rank-cap qualification, reputation).
fn notes(spec: &RoundSpec, out: &RoundOutput, i: usize) -> Vec<String> {
    let m: &KavMetrics = &out.per_miner[i];
    let mut n = Vec::new();
    if m.empty {
        n.push(if spec.responses[i].is_null() { "no answer".into() } else { "empty response".into() });
    }
    if !m.empty && !m.completeness.missing.is_empty() {
        n.push(format!("missing {}", m.completeness.missing.len()));
    }
    if !m.completeness.invalid_names.is_empty() {
        n.push(format!("{} extra key(s)", m.completeness.invalid_names.len()));
    }
    if let Some(c) = &m.cheat {
        for (slot, v) in c.nonzero_slots() {
            n.push(format!("{slot} {v:.2}"));
        }
    }
    if let Some(r) = &m.ranking_info
        && !m.empty
        && !r.is_qualified_for_ranking
    {
        if !r.meets_quality_threshold {
            n.push(format!("below quality threshold {}", spec.config.quality_threshold));
        } else {
            n.push("outside top cap".into());
        }
    }
    if let Some(rep) = out.reputation.as_ref().and_then(|r| r.metrics.get(i)) {
        if rep.is_new_miner {
            n.push("no reputation".into());
        } else if rep.uav_reward > 0.0 {
            n.push(format!("rep {} ×{}", rep.rep_tier, rep.tier_multiplier));
        }
    }
    if out.uav_accepted.contains_key(&spec.uids[i]) {
        n.push("UAV accepted".into());
    }
    n
}

/// The per-miner table: what the validator gives each miner, and why.
pub fn table(spec: &RoundSpec, scored: &Scored) -> String {
    let out = &scored.output;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>4}  {:<11}  {:>6}  {:>5}  {:>5}  {:>5}  {:>5}  {:<13}  {:>5}  {:>6}  {:>6}  notes",
        "uid", "hotkey", "reward", "compl", "pen", "names", "dob", "address", "cheat", "kav", "final"
    );
    for (i, m) in out.per_miner.iter().enumerate() {
        let uid = spec.uids[i];
        let hotkey = spec.hotkey(uid).map_or_else(|| "?".to_string(), short_hotkey);
        let dob = m.dob_grading.as_ref().map_or_else(|| "-".to_string(), |d| format!("{:.3}", d.overall_score));
        let address = m.address_grading.as_ref().map_or_else(
            || "-".to_string(),
            |a| match a.api_result.map(|r| r.to_json()) {
                Some(Value::String(r)) => format!("{:.2} {}", a.overall_score, r),
                Some(_) => format!("{:.2} rejected", a.overall_score),
                None => format!("{:.2}", a.overall_score),
            },
        );
        let cheat = m.applied.and_then(|a| a.post_total_penalty).map_or_else(|| "-".to_string(), |p| format!("{p:.3}"));
        let _ = writeln!(
            s,
            "{:>4}  {:<11}  {:>6.4}  {:>5.3}  {:>5.3}  {:>5.3}  {:>5}  {:<13}  {:>5}  {:>6.4}  {:>6.4}  {}",
            uid,
            hotkey,
            out.base_rewards[i],
            m.completeness_multiplier,
            m.completeness.total_penalty,
            m.average_quality,
            dob,
            address,
            cheat,
            out.kav_rewards[i],
            out.final_rewards[i],
            notes(spec, out, i).join(", ")
        );
    }
    let burn = out.final_rewards.last().copied().unwrap_or(0.0);
    let mode = out.reputation.as_ref().map_or("kav-only burn", |r| r.mode.as_str());
    let _ = writeln!(s, "burn uid 59: {burn:.4} ({mode})");
    let _ = writeln!(
        s,
        "reward = KAV base reward (8.6) = names·0.2 + dob·0.1 + address·0.7, × completeness; address \"rejected\" = a format/region check failed (no geocoding); cheat = post penalty; \
         kav = after cheat penalties and rank cap; final = after the reputation stage (weights before normalisation on chain)"
    );
    let _ = writeln!(
        s,
        "seed source: {}; geocoder: {} ({} calls)",
        scored.seed_source, scored.geocoder, scored.geocoder_calls
    );
    if let Some(e) = &out.cheat_error {
        let _ = writeln!(s, "warning: the cheat detector would have raised ({e}); rewards left unpenalised");
    }
    for w in warnings(scored) {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

/// Divergence warnings: strings not in `hash_seeds`, addresses not in the script.
pub fn warnings(scored: &Scored) -> Vec<String> {
    let mut w = Vec::new();
    if !scored.unhashed.is_empty() {
        w.push(format!(
            "{} string(s) not in hash_seeds were hashed with a random key (e.g. {:?})",
            scored.unhashed.len(),
            scored.unhashed[0]
        ));
    }
    if !scored.unscripted.is_empty() {
        w.push(format!(
            "{} geocoder question(s) not in the script were answered as errors (e.g. {:?})",
            scored.unscripted.len(),
            scored.unscripted[0]
        ));
    }
    w
}

/// The full JSON report: rewards of both stages, per-miner metrics (the vectors' `per_miner`
/// fields plus rewards and the reputation metrics), diagnostics.
pub fn report_json(spec: &RoundSpec, scored: &Scored) -> Value {
    let out = &scored.output;
    let per_miner: Vec<Value> = out
        .per_miner
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let uid = spec.uids[i];
            let mut e = Map::new();
            e.insert("uid".into(), json!(uid));
            e.insert("hotkey".into(), json!(spec.hotkey(uid)));
            e.insert("base_reward".into(), json!(out.base_rewards[i]));
            e.insert("penalised_reward".into(), json!(out.penalised_rewards[i]));
            e.insert("kav_reward".into(), json!(out.kav_rewards[i]));
            e.insert("final_reward".into(), json!(out.final_rewards[i]));
            e.insert("empty".into(), json!(m.empty));
            if let Value::Object(metrics) = m.to_json() {
                e.extend(metrics);
            }
            e.insert("identity_quality".into(), json!(m.identity_quality));
            e.insert(
                "name_metrics".into(),
                Value::Object(m.name_metrics.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            );
            let rep = out
                .reputation
                .as_ref()
                .and_then(|r| r.metrics.get(i))
                .map(|r| serde_json::to_value(r).unwrap_or(Value::Null));
            e.insert("reputation".into(), rep.unwrap_or(Value::Null));
            e.insert("accepted_uavs".into(), json!(out.uav_accepted.get(&uid).cloned().unwrap_or_default()));
            e.insert("notes".into(), json!(notes(spec, out, i)));
            Value::Object(e)
        })
        .collect();
    json!({
        "seed_source": scored.seed_source,
        "geocoder": scored.geocoder,
        "geocoder_calls": scored.geocoder_calls,
        "kav_uids": out.kav_uids,
        "kav_rewards": out.kav_rewards,
        "final_uids": out.final_uids,
        "final_rewards": out.final_rewards,
        "uav_accepted": out.uav_accepted_json(),
        "burn_mode": out.reputation.as_ref().map(|r| r.mode.as_str()),
        "cheat_detector_error": out.cheat_error.as_ref().map(ToString::to_string),
        "per_miner": per_miner,
        "warnings": warnings(scored),
        "unscripted_addresses": scored.unscripted,
        "unhashed_strings": scored.unhashed,
    })
}

// ---------------------------------------------------------------------------------------------
// Bench
// ---------------------------------------------------------------------------------------------

/// The reference vectors' directory: `$MIID_VECTORS_DIR`, else `shared/vectors` beside the
/// workspace, else the workspace's `vectors/` snapshot (the resolution of
/// `tests/vectors_cli.rs`).
pub fn default_vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIID_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/vectors");
    if shared.is_dir() { shared } else { root.join("vectors") }
}

/// Every round of a rounds.jsonl (a directory means its `rounds.jsonl`).
pub fn load_rounds(path: &Path) -> anyhow::Result<(PathBuf, Vec<RoundSpec>)> {
    use anyhow::Context;
    let file = if path.is_dir() { path.join("rounds.jsonl") } else { path.to_path_buf() };
    // `a/../b` → `b` for display; an unresolvable path keeps its spelling for the error.
    let file = file.canonicalize().unwrap_or(file);
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let rounds = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| RoundSpec::parse(l).with_context(|| format!("{} line {}", file.display(), i + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if rounds.is_empty() {
        anyhow::bail!("{} holds no rounds", file.display());
    }
    Ok((file, rounds))
}

/// Throughput of repeated scoring.
#[derive(Debug, Clone)]
pub struct BenchResult {
    pub label: String,
    pub rounds: usize,
    pub elapsed: Duration,
}

impl BenchResult {
    pub fn rounds_per_second(&self) -> f64 {
        self.rounds as f64 / self.elapsed.as_secs_f64()
    }

    pub fn ms_per_round(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e3 / self.rounds as f64
    }
}

impl std::fmt::Display for BenchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rounds in {:.2} s: {:.1} rounds/s ({:.3} ms/round)",
            self.label,
            self.rounds,
            self.elapsed.as_secs_f64(),
            self.rounds_per_second(),
            self.ms_per_round()
        )
    }
}

/// Scores `rounds` (each from a fresh state, scripted geocoder) in passes until `budget` has
/// elapsed; at least one full pass. Rounds without a script or `hash_seeds` use a fixed key.
pub fn bench_rounds(label: &str, rounds: &[RoundSpec], budget: Duration) -> anyhow::Result<BenchResult> {
    let start = Instant::now();
    let mut n = 0usize;
    loop {
        for spec in rounds {
            let scored = score(spec, None, KeyedSeedSource::with_key(1, 2))?;
            std::hint::black_box(&scored.output.final_rewards);
            n += 1;
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    Ok(BenchResult { label: label.to_string(), rounds: n, elapsed: start.elapsed() })
}

/// The synthetic round of [`miid_scoring::synthetic::round_json`] (`miners` miners, 15 seeds ×
/// 10 variations, every stage exercised), parsed.
pub fn synthetic_round(miners: usize) -> RoundSpec {
    RoundSpec::from_json(&miid_scoring::synthetic::round_json(miners)).expect("the synthetic round is well-formed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_round_exercises_every_stage() {
        assert_eq!(synthetic_round(64).uids.len(), 64);
        // 17 miners cover every persona and keep the debug-build test quick.
        let spec = synthetic_round(17);
        assert!(!spec.uids.contains(&59) && !spec.uids.contains(&63));
        let a = score(&spec, None, KeyedSeedSource::with_key(1, 2)).unwrap();
        let b = score(&spec, None, KeyedSeedSource::with_key(1, 2)).unwrap();
        assert_eq!(a.output.final_rewards, b.output.final_rewards, "deterministic");
        assert!(a.unscripted.is_empty(), "{:?}", a.unscripted);
        let out = &a.output;
        // Honest miners' addresses pass the heuristics and the region check and geocode.
        let honest = &out.per_miner[0];
        let addr = honest.address_grading.as_ref().unwrap();
        assert!(addr.overall_score > 0.3, "{:?}", addr);
        assert!(out.per_miner[5].empty && out.per_miner[11].empty);
        assert!(
            out.per_miner[15]
                .cheat
                .as_ref()
                .is_some_and(|c| c.collusion > 0.0 || c.duplication > 0.0 || c.signature_copy > 0.0)
        );
        assert!(out.final_rewards.iter().filter(|r| **r > 0.0).count() > 3);
        assert!(a.geocoder_calls > 0);
    }

    #[test]
    fn malformed_rounds_say_what_is_wrong() {
        let err = |t: &str| RoundSpec::parse(t).unwrap_err().to_string();
        assert!(err("").contains("empty"));
        assert!(err("[1]").contains("must be a JSON object"));
        assert!(err("{\"seeds\": []").contains("not valid JSON"));
        assert!(err("{}\n{}\n").contains("2 JSON lines"));
        assert!(err("{\"query\": {}}").contains("no `seeds`"));
        let e =
            err(r#"{"seeds": [], "query": {"variation_count": 3}, "responses": [{}], "uids": [1, 2], "hotkeys": []}"#);
        assert!(e.contains("1 responses but 2 uids"), "{e}");
        let e = err(
            r#"{"seeds": [], "query": {"variation_count": 3}, "responses": [], "uids": [], "hotkeys": [], "geocoder": 3}"#,
        );
        assert!(e.contains("`geocoder` is malformed"), "{e}");
    }
}
