//! Checkers for the reference scoring vectors (`vectors/README.md`): one pure function per vector
//! file kind, behind one entry point, [`check`], which `validator-sim vectors DIR` calls for every
//! line of every file and the crate's `tests/*_vectors.rs` call for theirs.
//!
//! Why here and not in the tests: the validator-sim must be able to prove, on the machine it runs
//! on, that its scorer still reproduces the reference; keeping the comparison logic in one place
//! means the tests and the CLI cannot drift apart.
//!
//! Tolerances (vectors/README.md): floats within 1e-9 absolute; the reputation stage's
//! `final_rewards` within 1e-12 relative (its rescaling uses pairwise sums). Everything else
//! (codes, strings, booleans, key order, list lengths) must match exactly, with one exception in
//! `rounds`: `ranking_info.global_rank`/`within_top_cap` of miners whose reward ties another's
//! are not compared, because the reference ranks with an unstable sort (Q16).
//!
//! Each checker returns `Err` with a readable description of every mismatch found (the caller
//! adds the case index).

use std::cell::RefCell;
use std::collections::HashMap;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::address::{extract_city_country, looks_like_address, validate_address_region};
use crate::dob::{TOTAL_RANGES, grade_dobs};
use crate::kav::{Query, Seed};
use crate::name_quality::{RuleBased, variation_quality};
use crate::part_score::Targets;
use crate::reputation::RepRecord;
use crate::rng::{SeedSource, TableSeedSource};
use crate::round::{RoundConfig, RoundInput, RoundOutput, RoundState, ScriptedGeocoder, score_round};
use crate::rules::{evaluate, evaluate_rule_compliance, rule_compliance};
use crate::translit::UnidecodeTransliterator;
use crate::{orthographic, phonetic};

/// Absolute tolerance for floats (vectors/README.md).
pub const ABS_TOL: f64 = 1e-9;
/// Relative tolerance for the reputation stage's `final_rewards`.
pub const REL_TOL: f64 = 1e-12;

/// The vector file kinds [`check`] knows, by file stem.
pub const KINDS: [&str; 7] = [
    "phonetic_codes",
    "orthographic",
    "rule_compliance",
    "variation_quality",
    "dob_grading",
    "address_checks",
    "rounds",
];

/// Checks one case (one line) of a vector file against this crate's scorer.
///
/// `file_name` is the vector file's name or path (`rounds.jsonl`, `vectors/rounds.jsonl` or
/// `rounds`); its stem selects the checker. An unknown kind is an error.
pub fn check(file_name: &str, case: &Value) -> Result<(), String> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.strip_suffix(".jsonl").unwrap_or(base);
    match stem {
        "phonetic_codes" => check_phonetic_codes(case),
        "orthographic" => check_orthographic(case),
        "rule_compliance" => check_rule_compliance(case),
        "variation_quality" => check_variation_quality(case),
        "dob_grading" => check_dob_grading(case),
        "address_checks" => check_address_checks(case),
        "rounds" => check_round(case).and_then(RoundComparison::into_result),
        _ => Err(format!("unknown vector file kind {file_name:?} (known: {})", KINDS.join(", "))),
    }
}

// ---------------------------------------------------------------------------------------------
// Field access
// ---------------------------------------------------------------------------------------------

fn field<'a>(case: &'a Value, key: &str) -> Result<&'a Value, String> {
    case.get(key).ok_or_else(|| format!("case has no `{key}`"))
}

fn str_field<'a>(case: &'a Value, key: &str) -> Result<&'a str, String> {
    field(case, key)?.as_str().ok_or_else(|| format!("`{key}` is not a string"))
}

fn f64_field(case: &Value, key: &str) -> Result<f64, String> {
    field(case, key)?.as_f64().ok_or_else(|| format!("`{key}` is not a number"))
}

fn strings(case: &Value, key: &str) -> Result<Vec<String>, String> {
    field(case, key)?
        .as_array()
        .ok_or_else(|| format!("`{key}` is not an array"))?
        .iter()
        .map(|s| s.as_str().map(str::to_owned).ok_or_else(|| format!("non-string in `{key}`")))
        .collect()
}

fn parse<T: DeserializeOwned>(case: &Value, key: &str) -> Result<T, String> {
    serde_json::from_value(field(case, key)?.clone()).map_err(|e| format!("`{key}`: {e}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol || (a.is_nan() && b.is_nan())
}

fn rel_close(got: f64, want: f64, tol: f64) -> bool {
    if want == 0.0 { got == 0.0 } else { ((got - want) / want).abs() <= tol }
}

fn result(failures: Vec<String>) -> Result<(), String> {
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}

// ---------------------------------------------------------------------------------------------
// phonetic_codes, orthographic, rule_compliance
// ---------------------------------------------------------------------------------------------

/// `phonetic_codes.jsonl`: `word` → `soundex`, `metaphone`, `nysiis` (jellyfish 1.x, spec 3.1).
pub fn check_phonetic_codes(case: &Value) -> Result<(), String> {
    let word = str_field(case, "word")?;
    let got = [
        ("soundex", phonetic::soundex(word)),
        ("metaphone", phonetic::metaphone(word)),
        ("nysiis", phonetic::nysiis(word)),
    ];
    let mut failures = Vec::new();
    for (key, code) in got {
        let want = str_field(case, key)?;
        if code != want {
            failures.push(format!("word {word:?}: {key} = {code:?}, expected {want:?}"));
        }
    }
    result(failures)
}

/// `orthographic.jsonl`: `O(original, variation)` = `score` (spec 3.2).
pub fn check_orthographic(case: &Value) -> Result<(), String> {
    let (original, variation) = (str_field(case, "original")?, str_field(case, "variation")?);
    let want = f64_field(case, "score")?;
    let got = orthographic::similarity(original, variation);
    if close(got, want, ABS_TOL) {
        Ok(())
    } else {
        Err(format!("O({original:?}, {variation:?}) = {got}, expected {want}"))
    }
}

/// `rule_compliance.jsonl`: `compliant` (effective rule → compliant variations, in order, key
/// order included) and `ratio` (spec 5.3, 5.4); the scoring wrapper must agree with the evaluator.
pub fn check_rule_compliance(case: &Value) -> Result<(), String> {
    let name = str_field(case, "name")?;
    let variations = strings(case, "variations")?;
    let rules = strings(case, "rules")?;
    let want = field(case, "compliant")?.as_object().ok_or("`compliant` is not an object")?;
    let want_ratio = f64_field(case, "ratio")?;
    let got = evaluate_rule_compliance(name, &variations, &rules);
    let mut failures = Vec::new();

    let got_keys: Vec<&str> = got.compliant.keys().map(String::as_str).collect();
    let want_keys: Vec<&str> = want.keys().map(String::as_str).collect();
    if got_keys != want_keys {
        failures.push(format!("{name:?}: effective rules {got_keys:?}, want {want_keys:?}"));
    }
    for (rule, want_list) in want {
        let want_list: Vec<&str> = want_list
            .as_array()
            .ok_or_else(|| format!("compliant[{rule:?}] is not a list"))?
            .iter()
            .map(|s| s.as_str().unwrap_or_default())
            .collect();
        let got_list: Vec<&str> =
            got.compliant.get(rule).map(|l| l.iter().map(String::as_str).collect()).unwrap_or_default();
        if got_list != want_list {
            // Name the offending variations with the evaluator's verdict for each.
            let detail: Vec<String> = variations
                .iter()
                .filter(|v| got_list.contains(&v.as_str()) != want_list.contains(&v.as_str()))
                .map(|v| format!("{v:?}: got {}", evaluate(rule, name, v)))
                .collect();
            failures
                .push(format!("{name:?} rule {rule}: got {got_list:?}, want {want_list:?} [{}]", detail.join(", ")));
        }
    }
    if !close(got.ratio, want_ratio, ABS_TOL) {
        failures.push(format!("{name:?}: ratio {}, want {want_ratio}", got.ratio));
    }

    // The scoring wrapper must agree with the evaluator it is built on.
    let scored = rule_compliance(name, &variations, &rules, 0.3);
    if !variations.is_empty() && !rules.is_empty() && !got.compliant.is_empty() {
        if scored.compliant_variations_by_rule != got.compliant
            || !close(scored.compliance_ratio_overall_variations, want_ratio, ABS_TOL)
        {
            failures.push(format!("{name:?}: rule_compliance metrics disagree with the evaluator"));
        }
        let distinct = scored.rules_satisfied_by_variation.len() as f64;
        if !close(distinct / variations.len() as f64, want_ratio, ABS_TOL) {
            failures.push(format!("{name:?}: distinct compliant count {distinct} disagrees with ratio"));
        }
    }
    result(failures)
}

// ---------------------------------------------------------------------------------------------
// variation_quality
// ---------------------------------------------------------------------------------------------

/// `variation_quality.jsonl`: `final_score`, `base_score` and every metric, recursively
/// (spec 5.2: numbers within 1e-9; strings, booleans, array lengths and object keys — in order —
/// exactly), with the reference's `hash(s)` replayed from the case's `hash_seeds`. A name the
/// scorer skips (where the reference would raise) is a mismatch: every case was scored.
pub fn check_variation_quality(case: &Value) -> Result<(), String> {
    let name = str_field(case, "name")?;
    let variations = strings(case, "variations")?;
    let phon: Targets = parse(case, "phonetic_similarity")?;
    let orth: Targets = parse(case, "orthographic_similarity")?;
    let expected_count = field(case, "expected_count")?
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("`expected_count` is not a small non-negative integer")?;
    let rule_based = RuleBased::from_json(field(case, "rule_based")?);
    let hashes =
        RecordingSeeds { table: TableSeedSource::from_json(field(case, "hash_seeds")?)?, misses: RefCell::default() };
    let quality = variation_quality(name, &variations, &phon, &orth, expected_count, rule_based.as_ref(), &hashes);
    let mut diffs: Vec<String> =
        hashes.misses.into_inner().into_iter().map(|s| format!("hashed {s:?}, which the reference did not")).collect();
    match quality {
        Err(e) => diffs.push(format!("{name:?}: skipped: {e}")),
        Ok(q) => {
            let none = |_: &str| false;
            diff_json(
                "final_score",
                &Value::from(q.final_score),
                field(case, "final_score")?,
                ABS_TOL,
                &none,
                &mut diffs,
            );
            diff_json("base_score", &Value::from(q.base_score), field(case, "base_score")?, ABS_TOL, &none, &mut diffs);
            let metrics = serde_json::to_value(&q.metrics).map_err(|e| e.to_string())?;
            diff_json("metrics", &metrics, field(case, "metrics")?, ABS_TOL, &none, &mut diffs);
        }
    }
    result(diffs)
}

// ---------------------------------------------------------------------------------------------
// dob_grading, address_checks
// ---------------------------------------------------------------------------------------------

/// `dob_grading.jsonl`: `overall_score`, `found_ranges` (sorted strings) and `total_ranges`
/// (spec 6; DOBs graded by position in the miner's key order, Q2).
pub fn check_dob_grading(case: &Value) -> Result<(), String> {
    let seed_dob = strings(case, "seed_dob")?;
    let variations: IndexMap<String, Vec<Value>> = field(case, "variations")?
        .as_object()
        .ok_or("`variations` is not an object")?
        .iter()
        .map(|(k, rows)| (k.clone(), rows.as_array().cloned().unwrap_or_default()))
        .collect();
    let got = grade_dobs(&variations, &seed_dob);
    let want_ranges = strings(case, "found_ranges")?;
    let want_score = f64_field(case, "overall_score")?;
    let want_total = field(case, "total_ranges")?.as_u64();
    if close(got.overall_score, want_score, ABS_TOL)
        && got.found_ranges == want_ranges
        && want_total == Some(got.total_ranges as u64)
        && got.total_ranges == TOTAL_RANGES
    {
        Ok(())
    } else {
        Err(format!(
            "got {} {:?} (total {}), want {want_score} {want_ranges:?} (total {want_total:?})",
            got.overall_score, got.found_ranges, got.total_ranges
        ))
    }
}

/// `address_checks.jsonl`: `looks_like_address`, `extract_city_country` (two parts when the seed
/// has a comma) and `region_match` (spec 7.1–7.5).
pub fn check_address_checks(case: &Value) -> Result<(), String> {
    let addr = str_field(case, "address")?;
    let seed = str_field(case, "seed_address")?;
    let looks = looks_like_address(addr);
    let want_looks = field(case, "looks_like_address")?.as_bool().ok_or("`looks_like_address` is not a bool")?;
    let (city, country) = extract_city_country(addr, seed.contains(','));
    let want_cc = field(case, "extract_city_country")?;
    let want_cc = (
        want_cc.get(0).and_then(Value::as_str).ok_or("bad `extract_city_country`")?,
        want_cc.get(1).and_then(Value::as_str).ok_or("bad `extract_city_country`")?,
    );
    let region = validate_address_region(addr, seed);
    let want_region = field(case, "region_match")?.as_bool().ok_or("`region_match` is not a bool")?;
    if looks == want_looks && (city.as_str(), country.as_str()) == want_cc && region == want_region {
        Ok(())
    } else {
        Err(format!(
            "{addr:?} [{seed:?}]: got ({looks}, ({city:?}, {country:?}), {region}), \
             want ({want_looks}, {want_cc:?}, {want_region})"
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// rounds
// ---------------------------------------------------------------------------------------------

/// The vectors' `hash_seeds` as a seed source that records misses instead of panicking: a string
/// the reference never hashed means the replay diverged, which must be reported, not crash the
/// CLI. A miss hashes to 0.
struct RecordingSeeds {
    table: TableSeedSource,
    misses: RefCell<Vec<String>>,
}

impl SeedSource for RecordingSeeds {
    fn hash(&self, s: &str) -> i64 {
        self.table.get(s).unwrap_or_else(|| {
            let mut misses = self.misses.borrow_mut();
            if !misses.iter().any(|m| m == s) {
                misses.push(s.to_string());
            }
            0
        })
    }
}

/// A round replayed against its reference outputs, mismatches grouped by stage.
#[derive(Debug, Clone, Default)]
pub struct RoundComparison {
    /// `kav_rewards` / `kav_uids` (1e-9).
    pub kav: Vec<String>,
    /// `per_miner` metrics, one entry per differing value.
    pub per_miner: Vec<String>,
    /// Miners (query positions) whose `per_miner` entry differs.
    pub miners_differing: Vec<usize>,
    /// Number of miners in the round.
    pub miners: usize,
    /// `final_rewards` / `final_uids` (1e-12 relative).
    pub final_rewards: Vec<String>,
    /// `uav_accepted`.
    pub uav_accepted: Vec<String>,
    /// Divergence diagnostics: strings hashed that the reference did not hash, addresses
    /// geocoded that the reference did not ask about.
    pub divergence: Vec<String>,
}

impl RoundComparison {
    pub fn is_match(&self) -> bool {
        self.kav.is_empty()
            && self.per_miner.is_empty()
            && self.final_rewards.is_empty()
            && self.uav_accepted.is_empty()
            && self.divergence.is_empty()
    }

    /// `Ok` when everything matched, else a readable summary (at most 12 lines per stage).
    pub fn into_result(self) -> Result<(), String> {
        if self.is_match() {
            return Ok(());
        }
        let mut parts = Vec::new();
        for (stage, list) in [
            ("kav_rewards", &self.kav),
            ("per_miner", &self.per_miner),
            ("final_rewards", &self.final_rewards),
            ("uav_accepted", &self.uav_accepted),
            ("divergence", &self.divergence),
        ] {
            if list.is_empty() {
                continue;
            }
            let shown: Vec<&str> = list.iter().take(12).map(String::as_str).collect();
            let more =
                if list.len() > shown.len() { format!(" (+{} more)", list.len() - shown.len()) } else { String::new() };
            parts.push(format!("{stage}: {}{more}", shown.join("; ")));
        }
        Err(parts.join(" | "))
    }
}

/// Replays a `rounds.jsonl` case through [`score_round`] (fresh generator and cache, scripted
/// geocoder, `hash_seeds` table), returning the output and the geocoder/hash divergences.
pub fn replay_round(case: &Value) -> Result<(RoundOutput, Vec<String>), String> {
    let seeds: Vec<Seed> = parse(case, "seeds")?;
    let query: Query = parse(case, "query")?;
    let config: RoundConfig = parse(case, "config")?;
    let uav_seed = field(case, "uav_seed")?.as_str();
    let responses = field(case, "responses")?.as_array().ok_or("`responses` is not an array")?;
    let uids: Vec<u16> = parse(case, "uids")?;
    let hotkeys: Vec<String> = parse(case, "hotkeys")?;
    let reputation: HashMap<String, RepRecord> = parse(case, "reputation")?;
    if responses.len() != uids.len() {
        return Err(format!("{} responses but {} uids", responses.len(), uids.len()));
    }
    let hashes =
        RecordingSeeds { table: TableSeedSource::from_json(field(case, "hash_seeds")?)?, misses: RefCell::default() };
    let mut geocoder = ScriptedGeocoder::from_json(field(case, "geocoder")?)?;
    let input = RoundInput {
        seeds: &seeds,
        query: &query,
        config: &config,
        uav_seed,
        responses,
        uids: &uids,
        hotkeys: &hotkeys,
        reputation: &reputation,
    };
    let out = score_round(&input, &hashes, &UnidecodeTransliterator, &mut geocoder, &mut RoundState::default());
    let mut divergence: Vec<String> =
        hashes.misses.into_inner().into_iter().map(|s| format!("hashed {s:?}, which the reference did not")).collect();
    divergence.extend(geocoder.unscripted.iter().map(|a| format!("geocoded {a:?}, which the reference did not")));
    Ok((out, divergence))
}

/// Compares JSON values: numbers within `tol` (absolute), objects with the same keys in the same
/// order, arrays element-wise, everything else exactly. `skip(path)` excludes a path.
fn diff_json(path: &str, got: &Value, want: &Value, tol: f64, skip: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    if skip(path) {
        return;
    }
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap_or(f64::NAN), w.as_f64().unwrap_or(f64::NAN));
            if !close(g, w, tol) {
                out.push(format!("{path}: got {g}, want {w}"));
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            let (gk, wk): (Vec<&String>, Vec<&String>) = (g.keys().collect(), w.keys().collect());
            if gk != wk {
                out.push(format!("{path}: keys {gk:?}, want {wk:?}"));
            }
            for (k, wv) in w {
                if let Some(gv) = g.get(k) {
                    diff_json(&format!("{path}.{k}"), gv, wv, tol, skip, out);
                }
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                out.push(format!("{path}: {} entries, want {}", g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                diff_json(&format!("{path}[{i}]"), gv, wv, tol, skip, out);
            }
        }
        _ => {
            if got != want {
                out.push(format!("{path}: got {got}, want {want}"));
            }
        }
    }
}

fn float_list(case: &Value, key: &str) -> Result<Vec<f64>, String> {
    field(case, key)?
        .as_array()
        .ok_or_else(|| format!("`{key}` is not an array"))?
        .iter()
        .map(|x| x.as_f64().ok_or_else(|| format!("non-number in `{key}`")))
        .collect()
}

/// Compares a replayed round with its reference outputs (see [`RoundComparison`]).
pub fn compare_round(case: &Value, out: &RoundOutput, divergence: Vec<String>) -> Result<RoundComparison, String> {
    let mut cmp = RoundComparison { divergence, ..RoundComparison::default() };
    // KAV stage.
    let want_kav_uids: Vec<u16> = parse(case, "kav_uids")?;
    if out.kav_uids != want_kav_uids {
        cmp.kav.push(format!("kav_uids {:?}, want {want_kav_uids:?}", out.kav_uids));
    }
    let want_kav = float_list(case, "kav_rewards")?;
    if out.kav_rewards.len() != want_kav.len() {
        cmp.kav.push(format!("{} kav_rewards, want {}", out.kav_rewards.len(), want_kav.len()));
    }
    for (i, (g, w)) in out.kav_rewards.iter().zip(&want_kav).enumerate() {
        if !close(*g, *w, ABS_TOL) {
            cmp.kav.push(format!("kav_rewards[{i}] = {g}, want {w}"));
        }
    }
    // Per-miner metrics. Ranks among tied rewards are implementation-defined (Q16).
    let want_pm = field(case, "per_miner")?.as_array().ok_or("`per_miner` is not an array")?;
    cmp.miners = want_pm.len();
    if out.per_miner.len() != want_pm.len() {
        cmp.per_miner.push(format!("{} per_miner entries, want {}", out.per_miner.len(), want_pm.len()));
    }
    let rewards: Vec<f64> = out.penalised_rewards.clone();
    for (i, (m, want)) in out.per_miner.iter().zip(want_pm).enumerate() {
        let tied = rewards.iter().filter(|&&r| r == rewards[i]).count() > 1;
        let skip =
            |p: &str| tied && (p.ends_with(".ranking_info.global_rank") || p.ends_with(".ranking_info.within_top_cap"));
        let before = cmp.per_miner.len();
        diff_json(&format!("miner {i}"), &m.to_json(), want, ABS_TOL, &skip, &mut cmp.per_miner);
        if cmp.per_miner.len() > before {
            cmp.miners_differing.push(i);
        }
    }
    // Reputation stage.
    let want_final_uids: Vec<u16> = parse(case, "final_uids")?;
    if out.final_uids != want_final_uids {
        cmp.final_rewards.push(format!("final_uids {:?}, want {want_final_uids:?}", out.final_uids));
    }
    let want_final = float_list(case, "final_rewards")?;
    if out.final_rewards.len() != want_final.len() {
        cmp.final_rewards.push(format!("{} final_rewards, want {}", out.final_rewards.len(), want_final.len()));
    }
    for (i, (g, w)) in out.final_rewards.iter().zip(&want_final).enumerate() {
        if !rel_close(*g, *w, REL_TOL) {
            cmp.final_rewards.push(format!("final_rewards[{i}] = {g}, want {w}"));
        }
    }
    // UAVs.
    let want_uav = field(case, "uav_accepted")?;
    let got_uav = out.uav_accepted_json();
    if &got_uav != want_uav {
        cmp.uav_accepted.push(format!("got {got_uav}, want {want_uav}"));
    }
    Ok(cmp)
}

/// `rounds.jsonl`: the whole round end to end (vectors/README.md): `kav_rewards`/`kav_uids`,
/// `per_miner`, `final_rewards`/`final_uids`, `uav_accepted`.
pub fn check_round(case: &Value) -> Result<RoundComparison, String> {
    let (out, divergence) = replay_round(case)?;
    compare_round(case, &out, divergence)
}
