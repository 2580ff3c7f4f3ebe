//! The per-miner KAV reward (spec `kav-scoring.md` section 8): empty responses (8.1), row padding
//! (8.2), completeness penalties (8.3), name scoring (8.4), DOB and address grading (8.5) and the
//! 70/20/10 quality formula (8.6), as one pure function per miner, [`score_miner`].
//!
//! Why one function: the reference interleaves these steps with one process-global Mersenne
//! Twister. The name scorers re-seed it (3.1, 5.1) and the address grader samples from whatever
//! state the *last* name part left behind (Q5), so the order of the calls is part of the score.
//! [`score_miner`] threads the caller's [`PyRandom`] through the steps in the reference's order:
//! Latin names in seed order, then non-Latin names in seed order, then DOBs (no draws), then
//! addresses (one `sample`).
//!
//! Inputs are the normalised response (1.2, [`crate::normalise()`]) — raw JSON rows in the miner's
//! key order, padded here in place (8.2, Q35: the cheat detector later sees the padded rows) —
//! the round's seeds and query, the transliterations of the non-Latin seeds (3.4, computed once
//! per round by the caller), a [`SeedSource`] for the reference's `hash(s) % 10000`, a
//! [`Geocoder`] and the round's Nominatim cache.
//!
//! Output: the base reward and [`KavMetrics`], the reference's `detailed_metrics` entry for the
//! miner. [`KavMetrics::to_json`] renders the subset the reference vectors record (`per_miner` of
//! `rounds.jsonl`), in their key order; the cross-miner stages ([`crate::cheat`], [`crate::rank`])
//! fill in the penalty and ranking fields afterwards (see [`crate::round`]).
//!
//! Quirks reproduced:
//! - Q2: DOBs and addresses are graded by the *position* of the miner's key (in [`crate::dob`] and
//!   [`crate::address`]).
//! - Q5: address sampling draws from the generator state the name scorers left.
//! - Q7: no seed addresses gives the full 0.7 address component; DOB never gets free credit.
//! - Q8: when no name could be scored the reward is 0, but DOB and address grading (and its
//!   geocoder calls) still run.
//! - Q9: empty name strings stay in the name lists (rule count, missing-last-name ratio,
//!   duplicate-name penalty).
//! - Q28: each row beyond `int(VC·1.2)` is penalised three times (name, DOB and address lists).
//! - Q31: `extra_names_breakdown` keeps only the last key's values.
//! - Q32: every completeness loop also runs over keys that are not seed names.
//! - Q35: rows are padded in place.
//! - 8.1: an empty response is not graded at all (`dob_score`/`address_score` absent).
//!
//! Deliberate choices where the reference would raise on malformed input (no reference vector
//! reaches them): a non-string row element reads as its JSON text (`null` as ""), as in
//! [`crate::dob`] and [`crate::address`]; `str(row)` of a non-list row is rendered Python-style.

use std::borrow::Cow;
use std::collections::HashSet;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::address::{
    AddressGrading, ApiResult, Geocoder, NominatimCache, grade_addresses, py_is_digit, py_is_space, py_split, py_strip,
};
use crate::cheat::{AppliedPenalty, CheatPenalties, address_word_set, py_isalpha, remove_disallowed_unicode};
use crate::dob::{DobGrading, cell, grade_dobs};
use crate::name_quality::{RuleBased, non_latin_quality, variation_quality_with_rng};
use crate::rank::RankingInfo;
use crate::rng::{PyRandom, SeedSource};

/// A miner's normalised response: seed name (or any key the miner sent) → rows, miner order.
pub type Rows = IndexMap<String, Vec<Value>>;

// ---------------------------------------------------------------------------------------------
// Round inputs the per-miner scoring needs.
// ---------------------------------------------------------------------------------------------

/// One seed identity (spec 1.1 item 1), as in the vectors' `seeds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    pub name: String,
    #[serde(default)]
    pub dob: String,
    #[serde(default)]
    pub address: String,
    /// `latin` (exactly) selects the full Latin scorer; anything else the phonetic-only one (Q25).
    #[serde(default)]
    pub script: String,
    #[serde(default)]
    pub label: String,
}

impl Seed {
    /// The script test of 8.4: exact, case-sensitive equality with `latin` (Q25).
    pub fn is_latin(&self) -> bool {
        crate::translit::is_latin_script(&self.script)
    }
}

/// The query parameters scoring reads (spec 1.1 item 2), as in the vectors' `query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub variation_count: u32,
    /// Level → fraction; `{Medium: 1.0}` when absent.
    #[serde(default = "default_targets")]
    pub phonetic_similarity: IndexMap<String, f64>,
    /// Level → fraction; `{Medium: 1.0}` when absent.
    #[serde(default = "default_targets")]
    pub orthographic_similarity: IndexMap<String, f64>,
    /// The raw `rule_based` object (`selected_rules`, `rule_percentage`, ...), or null/absent.
    #[serde(default)]
    pub rule_based: Option<Value>,
}

fn default_targets() -> IndexMap<String, f64> {
    IndexMap::from([("Medium".to_string(), 1.0)])
}

/// What the per-miner scoring needs to know about the round.
#[derive(Debug, Clone, Copy)]
pub struct RoundContext<'a> {
    pub seeds: &'a [Seed],
    pub query: &'a Query,
    /// `transliterations[i]`: the transliterated name of seed i (3.4) when it is not Latin, else
    /// `None`. Computed once per round by the caller ([`crate::round`]).
    pub transliterations: &'a [Option<String>],
}

// ---------------------------------------------------------------------------------------------
// 8.2 Row padding
// ---------------------------------------------------------------------------------------------

/// Row padding of spec 8.2, in place (Q35): for every key with rows, a list row shorter than 3 is
/// filled with `""`, and a non-list row becomes `[str(row) or "", "", ""]`.
pub fn pad_rows(rows: &mut Rows) {
    for list in rows.values_mut() {
        for row in list.iter_mut() {
            match row {
                Value::Array(items) => {
                    while items.len() < 3 {
                        items.push(Value::String(String::new()));
                    }
                }
                other => {
                    let s = crate::pyvalue::str(other);
                    *other = json!([s, "", ""]);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8.3 Completeness penalties
// ---------------------------------------------------------------------------------------------

/// The completeness penalties of spec 8.3 (the `penalties` metrics before the cheat stage).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Completeness {
    /// `P_extra`: extra keys, too many rows, duplicate names, DOBs and addresses (cap 1.0).
    pub extra_names: f64,
    /// `P_missing`: 0.2 per seed name that is not a key (cap 0.9).
    pub missing_names: f64,
    /// `P_addr`: keys with too few non-blank addresses (cap 0.4).
    pub insufficient_addresses: f64,
    /// `P_dob`: keys with too few non-blank DOBs (cap 0.1).
    pub insufficient_dob: f64,
    /// `P_nonletter`: symbol-heavy name variations and keys with digits.
    pub non_letters_in_names: f64,
    /// `min(0.9, Σ)`.
    pub total_penalty: f64,
    /// `extra_names_breakdown.dob_duplicates`: the LAST key's capped DOB duplicate penalty (Q31).
    pub dob_duplicates: f64,
    /// `extra_names_breakdown.address_duplicates`: the LAST key's capped address penalty (Q31).
    pub address_duplicates: f64,
    /// Keys that are not seed names, in the miner's order.
    pub invalid_names: Vec<String>,
    /// Seed names that are not keys, in seed order.
    pub missing: Vec<String>,
}

impl Completeness {
    /// `max(0.1, 1 − total_penalty)`.
    pub fn multiplier(&self) -> f64 {
        f64::max(0.1, 1.0 - self.total_penalty)
    }
}

/// `' '.join(s.split())`.
fn collapse_ws(s: &str) -> String {
    py_split(s).join(" ")
}

fn distinct_count<T: std::hash::Hash + Eq>(items: impl IntoIterator<Item = T>) -> usize {
    items.into_iter().collect::<HashSet<T>>().len()
}

/// The "first section" of an address for the duplicate check (8.3 b4), or `None` when the
/// address is skipped or records nothing.
fn first_section(addr: &str) -> Option<String> {
    let cleaned = remove_disallowed_unicode(addr, true);
    if py_strip(&cleaned).is_empty() {
        return None;
    }
    let trimmed = py_strip(py_strip(&cleaned).trim_start_matches(','));
    if trimmed.is_empty() {
        return None;
    }
    let parts: Vec<&str> = trimmed.split(',').collect();
    let mut f = py_strip(parts[0]).to_string();
    if f.chars().count() < 4 && parts.len() >= 2 {
        f = py_strip(&format!("{} {}", py_strip(parts[0]), py_strip(parts[1]))).to_string();
    }
    let words: Vec<&str> = py_split(&f).into_iter().filter(|w| w.chars().count() > 2).collect();
    let joined = words.join(" ").to_lowercase();
    (!joined.is_empty()).then_some(joined)
}

/// The exact-duplicate form of an address (8.3 b4): whitespace collapsed, lowercased, `,;-` to
/// spaces, whitespace collapsed again.
fn exact_address_key(a: &str) -> String {
    if a.is_ascii() {
        // The words between whitespace and `,;-`, lowercased, joined by one space.
        let mut out = String::with_capacity(a.len());
        for word in a.split(|c: char| py_is_space(c) || matches!(c, ',' | ';' | '-')).filter(|w| !w.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    collapse_ws(&collapse_ws(a).to_lowercase().replace([',', ';', '-'], " "))
}

/// The address duplicate penalty of one key (8.3 b4), capped at 0.5.
fn address_duplicate_penalty(addresses: &[Cow<'_, str>]) -> f64 {
    // Exact duplicates after light normalisation; empty addresses are ignored.
    let exact: Vec<String> = addresses.iter().filter(|a| !a.is_empty()).map(|a| exact_address_key(a)).collect();
    let exact_pen = 0.05 * (exact.len() - distinct_count(exact.iter())) as f64;
    // First-section duplicates.
    let mut counts: IndexMap<String, usize> = IndexMap::new();
    for a in addresses.iter().filter(|a| !py_strip(a).is_empty()) {
        if let Some(f) = first_section(a) {
            *counts.entry(f).or_default() += 1;
        }
    }
    let extra: usize = counts.values().filter(|&&c| c > 1).map(|&c| c - 1).sum();
    f64::min(0.5, exact_pen + 0.05 * extra as f64)
}

/// The DOB duplicate penalty of one key (8.3 b3), capped at 0.1.
fn dob_duplicate_penalty(dobs: &[Cow<'_, str>]) -> f64 {
    let norm: Vec<String> = dobs
        .iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.chars().filter(|c| !matches!(c, ' ' | '-' | '/' | '.')).collect::<String>().to_lowercase())
        .collect();
    f64::min(0.1, 0.05 * (norm.len() - distinct_count(norm.iter())) as f64)
}

/// The completeness penalties of spec 8.3 over a padded response.
///
/// `seed_names` in seed order; `variation_count` is the query's VC. Every loop runs over every
/// key, seed name or not (Q32). Sums are left to right in the spec's order.
pub fn completeness(rows: &Rows, seed_names: &[&str], variation_count: u32) -> Completeness {
    let vc = f64::from(variation_count);
    // (a) Extra names.
    let mut out = Completeness {
        invalid_names: rows.keys().filter(|k| !seed_names.contains(&k.as_str())).cloned().collect(),
        ..Completeness::default()
    };
    let mut p_extra = f64::min(0.7, 0.1 * out.invalid_names.len() as f64);
    // (b) Per-key additions.
    let grace = (vc * 1.2) as usize;
    for list in rows.values() {
        let names: Vec<Cow<'_, str>> = list.iter().map(|r| cell(r, 0)).collect();
        let dobs: Vec<Cow<'_, str>> = list.iter().map(|r| cell(r, 1)).collect();
        let addrs: Vec<Cow<'_, str>> = list.iter().map(|r| cell(r, 2)).collect();
        for len in [names.len(), dobs.len(), addrs.len()] {
            if len > grace {
                p_extra += 0.05 * (len - grace) as f64;
            }
        }
        p_extra += 0.05 * (names.len() - distinct_count(names.iter())) as f64;
        let pen_dob = dob_duplicate_penalty(&dobs);
        let pen_addr = address_duplicate_penalty(&addrs);
        p_extra += pen_dob + pen_addr;
        out.dob_duplicates = pen_dob;
        out.address_duplicates = pen_addr;
    }
    out.extra_names = f64::min(1.0, p_extra);
    // (c) Missing names.
    out.missing = seed_names.iter().filter(|s| !rows.contains_key(**s)).map(|s| s.to_string()).collect();
    out.missing_names = f64::min(0.9, 0.2 * out.missing.len() as f64);
    // (d), (e) Insufficient addresses and DOBs.
    let required = usize::max(1, (vc * 0.8) as usize);
    let (mut addr_total, mut dob_total) = (0.0, 0.0);
    for list in rows.values() {
        let count = |i: usize| list.iter().filter(|r| !py_strip(&cell(r, i)).is_empty()).count();
        let (addresses, dobs) = (count(2), count(1));
        if addresses < required {
            addr_total += f64::min(0.5, 0.1 * (required - addresses) as f64);
        }
        if dobs < required {
            dob_total += f64::min(0.5, 0.1 * (required - dobs) as f64);
        }
    }
    out.insufficient_addresses = f64::min(0.4, addr_total);
    out.insufficient_dob = f64::min(0.1, dob_total);
    // (f) Non-letters in names.
    let mut p_nonletter = 0.0;
    let mut keys_with_digits = 0usize;
    for list in rows.values() {
        let mut has_digit = false;
        for name in list.iter().map(|r| cell(r, 0)).filter(|n| !n.is_empty()) {
            let odd: Vec<char> = name.chars().filter(|&c| !py_isalpha(c) && c != ' ').collect();
            if odd.len() > 2 {
                p_nonletter += 0.05;
            }
            has_digit |= odd.iter().any(|&c| py_is_digit(c));
        }
        keys_with_digits += usize::from(has_digit);
    }
    if !rows.is_empty() && keys_with_digits as f64 / rows.len() as f64 > 0.4 {
        p_nonletter += 0.2;
    }
    out.non_letters_in_names = p_nonletter;
    // (g) Total.
    out.total_penalty = f64::min(
        0.9,
        out.extra_names
            + out.missing_names
            + out.insufficient_addresses
            + out.insufficient_dob
            + out.non_letters_in_names,
    );
    out
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

/// One miner's `detailed_metrics` (spec 1.3), as typed data. The KAV stage fills the completeness,
/// name, DOB, address and reward fields; the round fills `cheat`, `applied` and `ranking_info`.
#[derive(Debug, Clone, PartialEq)]
pub struct KavMetrics {
    /// True for an empty response (8.1): nothing was graded.
    pub empty: bool,
    /// The completeness penalties (for an empty response: `missing_names` = `total_penalty` = 1).
    pub completeness: Completeness,
    /// `completeness_multiplier`: `max(0.1, 1 − total_penalty)`, or 0.0 for an empty response.
    pub completeness_multiplier: f64,
    /// `name_metrics`: seed name → the name scorer's metrics, Latin seeds first, then non-Latin.
    pub name_metrics: IndexMap<String, Value>,
    /// `rule_compliance.overall_score` (8.4, metrics only): present when `rule_based` is truthy
    /// and some scored name has rule metrics; non-Latin names count as 0 (Q31).
    pub rule_compliance_overall: Option<f64>,
    /// `dob_grading` (absent for an empty response).
    pub dob_grading: Option<DobGrading>,
    /// `address_grading` (absent for an empty response).
    pub address_grading: Option<AddressGrading>,
    /// `average_base_score`, when at least one name was scored.
    pub average_base_score: Option<f64>,
    /// `average_quality`: mean name quality (0.0 when none was scored).
    pub average_quality: f64,
    /// `identity_quality`: `0.2·names + 0.1·DOB + 0.7·address` (0 when no name was scored).
    pub identity_quality: f64,
    /// `final_reward`: the base reward, overwritten by the post-penalty reward when a cheat
    /// penalty applied (10 step 3).
    pub final_reward: f64,
    /// The cheat stage's slots and observability fields (`None` before the stage, or when the
    /// detector failed: then nothing is recorded, C9).
    pub cheat: Option<CheatPenalties>,
    /// How the cheat penalties were applied.
    pub applied: Option<AppliedPenalty>,
    /// `ranking_info` of the rank stage.
    pub ranking_info: Option<RankingInfo>,
}

impl KavMetrics {
    /// The `penalties` map in the reference's key order: the completeness penalties, then the
    /// cheat stage's observability fields and non-zero slots (10). `extra_names_breakdown` is left
    /// out (the reference vectors do not record it; see [`Completeness`]).
    pub fn penalties_json(&self) -> Map<String, Value> {
        let c = &self.completeness;
        let mut p = Map::new();
        p.insert("extra_names".into(), json!(c.extra_names));
        p.insert("missing_names".into(), json!(c.missing_names));
        p.insert("insufficient_addresses".into(), json!(c.insufficient_addresses));
        p.insert("insufficient_dob".into(), json!(c.insufficient_dob));
        p.insert("non_letters_in_names".into(), json!(c.non_letters_in_names));
        p.insert("total_penalty".into(), json!(c.total_penalty));
        if let Some(cheat) = &self.cheat {
            p.insert("special_chars_ratio".into(), json!(cheat.special_chars_ratio));
            p.insert("special_char_variations_count".into(), json!(cheat.special_char_variations_count));
            p.insert("total_variations_count".into(), json!(cheat.total_variations_count));
            for (k, v) in cheat.nonzero_slots() {
                p.insert(k.into(), json!(v));
            }
        }
        if let Some(a) = &self.applied {
            if let Some(post) = a.post_total_penalty {
                p.insert("post_total_penalty".into(), json!(post));
            }
            if let Some(overall) = a.overall_total_penalty {
                p.insert("overall_total_penalty".into(), json!(overall));
            }
        }
        p
    }

    /// The metrics the reference vectors record per miner (`per_miner` of `rounds.jsonl`), in
    /// their key order: `completeness_multiplier`, `average_quality`, `dob_score`
    /// (`dob_grading.overall_score`, null when not graded), `address_score`
    /// (`address_grading.overall_score`), `address_api_result` (`address_grading.api_result`:
    /// `false`, a string, or null in the early exits), `penalties`, `ranking_info`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("completeness_multiplier".into(), json!(self.completeness_multiplier));
        m.insert("average_quality".into(), json!(self.average_quality));
        m.insert("dob_score".into(), json!(self.dob_grading.as_ref().map(|d| d.overall_score)));
        m.insert("address_score".into(), json!(self.address_grading.as_ref().map(|a| a.overall_score)));
        m.insert(
            "address_api_result".into(),
            self.address_grading.as_ref().and_then(|a| a.api_result).map_or(Value::Null, ApiResult::to_json),
        );
        m.insert("penalties".into(), Value::Object(self.penalties_json()));
        if let Some(r) = &self.ranking_info {
            m.insert("ranking_info".into(), serde_json::to_value(r).unwrap_or(Value::Null));
        }
        Value::Object(m)
    }
}

/// One miner's KAV outcome: the base reward (8.6) and its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerKav {
    pub reward: f64,
    pub metrics: KavMetrics,
}

// ---------------------------------------------------------------------------------------------
// 8.5 glue
// ---------------------------------------------------------------------------------------------

/// `normalize_address_for_deduplication` (9.1) as a word list, for the geocoder cache key.
fn dedup_words(addr: &str) -> Vec<String> {
    address_word_set(addr).into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// 8.1–8.6 per miner
// ---------------------------------------------------------------------------------------------

/// Left-to-right mean, Python's `sum(xs) / len(xs)`.
fn mean(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |a, x| a + x) / xs.len() as f64
}

/// The metrics of an empty response (8.1).
fn empty_metrics() -> KavMetrics {
    KavMetrics {
        empty: true,
        completeness: Completeness { missing_names: 1.0, total_penalty: 1.0, ..Completeness::default() },
        completeness_multiplier: 0.0,
        name_metrics: IndexMap::new(),
        rule_compliance_overall: None,
        dob_grading: None,
        address_grading: None,
        average_base_score: None,
        average_quality: 0.0,
        identity_quality: 0.0,
        final_reward: 0.0,
        cheat: None,
        applied: None,
        ranking_info: None,
    }
}

/// The per-miner KAV reward of spec 8 (before the cross-miner stages).
///
/// - `rows`: the miner's normalised response; padded in place (8.2, Q35), so the caller can hand
///   the padded map to the cheat detector.
/// - `ctx`: the round's seeds, query and transliterations.
/// - `seeds`: the source of the reference's `hash(s)` (3.1, 5.1).
/// - `rng`: the shared generator (Q5), threaded through the name scorers and the address sample.
/// - `geocoder`, `cache`: the geocoders and the round's Nominatim cache (`None`: cache disabled).
pub fn score_miner(
    rows: &mut Rows,
    ctx: &RoundContext<'_>,
    seeds: &dyn SeedSource,
    rng: &mut PyRandom,
    geocoder: &mut dyn Geocoder,
    cache: Option<&mut NominatimCache>,
) -> MinerKav {
    // 8.1 Empty response.
    if rows.is_empty() {
        return MinerKav { reward: 0.0, metrics: empty_metrics() };
    }
    // 8.2 Padding.
    pad_rows(rows);
    // 8.3 Completeness.
    let seed_names: Vec<&str> = ctx.seeds.iter().map(|s| s.name.as_str()).collect();
    let completeness = completeness(rows, &seed_names, ctx.query.variation_count);
    let multiplier = completeness.multiplier();
    // 8.4 Names.
    let names = score_names(rows, ctx, seeds, rng);
    // 8.5 DOB and address grading, even when no name was scored (Q8).
    let seed_dobs: Vec<String> = ctx.seeds.iter().map(|s| s.dob.clone()).collect();
    let seed_addresses: Vec<String> = ctx.seeds.iter().map(|s| s.address.clone()).collect();
    let dob = grade_dobs(rows, &seed_dobs);
    let address = grade_addresses(rows, &seed_addresses, rng, geocoder, cache, &dedup_words);
    // 8.6 The quality formula.
    let (average_quality, average_base_score, identity_quality, reward) = if names.qualities.is_empty() {
        (0.0, None, 0.0, 0.0)
    } else {
        let avg = mean(&names.qualities);
        let name_comp = 0.2 * avg;
        let dob_comp = if dob.overall_score == 0.0 && seed_dobs.iter().any(|d| !d.is_empty()) {
            0.0
        } else {
            0.1 * dob.overall_score
        };
        let address_comp = if address.overall_score == 0.0 && seed_addresses.iter().any(|a| !a.is_empty()) {
            0.0
        } else {
            0.7 * address.overall_score
        };
        let identity = name_comp + dob_comp + address_comp;
        (avg, Some(mean(&names.bases)), identity, identity * multiplier)
    };
    let metrics = KavMetrics {
        empty: false,
        completeness,
        completeness_multiplier: multiplier,
        name_metrics: names.metrics,
        rule_compliance_overall: names.rule_compliance_overall,
        dob_grading: Some(dob),
        address_grading: Some(address),
        average_base_score,
        average_quality,
        identity_quality,
        final_reward: reward,
        cheat: None,
        applied: None,
        ranking_info: None,
    };
    MinerKav { reward, metrics }
}

// ---------------------------------------------------------------------------------------------
// 8.4 Name scoring
// ---------------------------------------------------------------------------------------------

/// What the name pass of 8.4 produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameScores {
    /// `Q`: final quality of every scored name, Latin seeds first, then non-Latin ones.
    pub qualities: Vec<f64>,
    /// `B`: the matching base scores.
    pub bases: Vec<f64>,
    /// Seed name -> metrics, in scoring order.
    pub metrics: IndexMap<String, Value>,
    /// `rule_compliance.overall_score` (metrics only).
    pub rule_compliance_overall: Option<f64>,
}

/// The name variations of one key (8.4): the first element of each row, lowercased, empty or
/// missing values kept as `""` (Q9).
fn name_variations(list: &[Value]) -> Vec<String> {
    list.iter().map(|r| cell(r, 0).to_lowercase()).collect()
}

/// Name scoring of spec 8.4, threading the shared generator in the reference's order.
///
/// Seeds without a key or with an empty row list are skipped. First the Latin pass, in seed
/// order: [`variation_quality_with_rng`] on the lowercased seed name with `expected_count = VC`
/// and the query's rules. Then the non-Latin pass, in seed order: [`non_latin_quality`] on the
/// seed's transliteration (not lowercased, Q24) with the full VC. A name the reference would
/// raise on is skipped ([`crate::name_quality::NameSkipped`]: excluded from the mean, Q10, Q23),
/// after the same draws. Metrics are stored under the seed name (a later pass overwrites an
/// earlier one, as the reference's dict does).
pub fn score_names(rows: &Rows, ctx: &RoundContext<'_>, seeds: &dyn SeedSource, rng: &mut PyRandom) -> NameScores {
    let query = ctx.query;
    let rule_based = query.rule_based.as_ref().and_then(RuleBased::from_json);
    let mut out = NameScores::default();
    let answered = |seed: &Seed| rows.get(&seed.name).filter(|list| !list.is_empty());
    // Latin pass.
    for seed in ctx.seeds.iter().filter(|s| s.is_latin()) {
        let Some(list) = answered(seed) else { continue };
        let variations = name_variations(list);
        let quality = variation_quality_with_rng(
            &seed.name.to_lowercase(),
            &variations,
            &query.phonetic_similarity,
            &query.orthographic_similarity,
            query.variation_count,
            rule_based.as_ref(),
            seeds,
            rng,
        );
        if let Ok(q) = quality {
            out.qualities.push(q.final_score);
            out.bases.push(q.base_score);
            out.metrics.insert(seed.name.clone(), serde_json::to_value(&q.metrics).unwrap_or(Value::Null));
        }
    }
    // Non-Latin pass.
    for (i, seed) in ctx.seeds.iter().enumerate().filter(|(_, s)| !s.is_latin()) {
        let Some(list) = answered(seed) else { continue };
        let Some(Some(transliterated)) = ctx.transliterations.get(i) else { continue };
        let variations = name_variations(list);
        let quality = non_latin_quality(
            &seed.name,
            transliterated,
            &variations,
            &query.phonetic_similarity,
            query.variation_count,
            seeds,
            rng,
        );
        if let Ok(q) = quality {
            out.qualities.push(q.final_score);
            out.bases.push(q.base_score);
            out.metrics.insert(seed.name.clone(), serde_json::to_value(&q.metrics).unwrap_or(Value::Null));
        }
    }
    // Overall rule compliance (metrics only): the mean rule score over the scored names, the
    // non-Latin ones (which have none) counting as 0 (Q31).
    let rule_score = |m: &Value| m.get("rule_compliance").and_then(|r| r.get("score")).and_then(Value::as_f64);
    if rule_based.is_some() && !out.qualities.is_empty() && out.metrics.values().any(|m| rule_score(m).is_some()) {
        let scores: Vec<f64> = out.metrics.values().map(|m| rule_score(m).unwrap_or(0.0)).collect();
        out.rule_compliance_overall = Some(mean(&scores));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(entries: &[(&str, Vec<Value>)]) -> Rows {
        entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn full_rows(n: usize, name: &str) -> Vec<Value> {
        (0..n)
            .map(|i| {
                json!([
                    format!("{name}{}", (b'a' + i as u8) as char),
                    format!("1990-01-{:02}", i + 1),
                    format!("{i} {name}{} Avenue, Town, Country", (b'a' + i as u8) as char)
                ])
            })
            .collect()
    }

    #[test]
    fn padding_fills_short_rows_and_replaces_non_lists() {
        let mut rows = rows_of(&[("a", vec![json!(["x"]), json!("plain"), json!(null), json!(5)]), ("b", vec![])]);
        pad_rows(&mut rows);
        assert_eq!(
            rows["a"],
            vec![json!(["x", "", ""]), json!(["plain", "", ""]), json!(["None", "", ""]), json!(["5", "", ""])]
        );
        assert!(rows["b"].is_empty());
    }

    #[test]
    fn clean_response_has_no_penalty() {
        let rows = rows_of(&[("john smith", full_rows(10, "jon"))]);
        let c = completeness(&rows, &["john smith"], 10);
        assert_eq!(c.total_penalty, 0.0, "{c:?}");
        assert_eq!(c.multiplier(), 1.0);
    }

    #[test]
    fn extra_missing_and_too_many_rows() {
        // VC = 6: grace int(7.2) = 7, so 8 rows cost 3 × 0.05 (Q28); R = max(1, int(4.8)) = 4.
        let rows = rows_of(&[("john smith", full_rows(8, "jon")), ("extra", full_rows(4, "xavier"))]);
        let c = completeness(&rows, &["john smith", "jane doe"], 6);
        assert_eq!(c.invalid_names, vec!["extra".to_string()]);
        assert_eq!(c.missing, vec!["jane doe".to_string()]);
        assert!((c.extra_names - (0.1 + 0.15)).abs() < 1e-12, "{c:?}");
        assert!((c.missing_names - 0.2).abs() < 1e-12);
        assert_eq!((c.insufficient_addresses, c.insufficient_dob), (0.0, 0.0));
        assert!((c.total_penalty - 0.45).abs() < 1e-12);
    }

    #[test]
    fn duplicates_insufficient_and_non_letters() {
        let row = |n: &str, d: &str, a: &str| json!([n, d, a]);
        let rows = rows_of(&[(
            "john smith",
            vec![
                row("jon smith", "1990-01-01", "12 Baker Street, London, UK"),
                row("jon smith", "1990/01/01", "12 baker street; london, uk"),
                row("j0n-sm1th!", "", ""),
            ],
        )]);
        let c = completeness(&rows, &["john smith"], 10);
        // Names: one duplicate (0.05). DOBs: "19900101" twice (0.05). Addresses: one exact
        // duplicate (0.05: `;` and `,` become spaces); the first sections differ ("baker street"
        // vs "baker street; london": only commas split).
        assert!((c.dob_duplicates - 0.05).abs() < 1e-12);
        assert!((c.address_duplicates - 0.05).abs() < 1e-12, "{c:?}");
        assert!((c.extra_names - 0.15).abs() < 1e-12, "{c:?}");
        // R = 8: 2 addresses -> min(0.5, 0.6); 2 DOBs -> 0.5 capped to 0.1 in total.
        assert!((c.insufficient_addresses - 0.4).abs() < 1e-12);
        assert!((c.insufficient_dob - 0.1).abs() < 1e-12);
        // "j0n-sm1th!" has 4 non-letters (0.05) and digits in the only key (1/1 > 0.4: +0.2).
        assert!((c.non_letters_in_names - 0.25).abs() < 1e-12, "{c:?}");
        assert!((c.total_penalty - 0.9).abs() < 1e-12);
        assert!((c.multiplier() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn exact_address_key_ascii_fast_path() {
        for a in ["12 Baker Street, London, UK", " 12  baker\tstreet;london -uk ", "a,,b--c;;d", "", " , ", "X\u{1c}Y"]
        {
            assert_eq!(
                exact_address_key(a),
                collapse_ws(&collapse_ws(a).to_lowercase().replace([',', ';', '-'], " ")),
                "{a:?}"
            );
        }
    }

    #[test]
    fn empty_response_metrics() {
        let m = empty_metrics();
        let j = m.to_json();
        assert_eq!(j["completeness_multiplier"], json!(0.0));
        assert_eq!(j["dob_score"], Value::Null);
        assert_eq!(j["penalties"]["missing_names"], json!(1.0));
        assert_eq!(j["penalties"]["total_penalty"], json!(1.0));
    }
}
