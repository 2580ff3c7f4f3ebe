//! The part score: how well a miner's variations of one name part (first or last name) fit the
//! query (spec `kav-scoring.md` section 4).
//!
//! A part score mixes four components — similarity distribution (60%), count (15%), uniqueness
//! (10%) and length (15%) — over the list of single-word variations that name-level scoring
//! (section 5, [`crate::name_quality`]) extracted for that part. Two variants exist: the full one
//! for Latin names ([`part_score`], phonetic and orthographic similarity, 4.6) and the
//! phonetic-only one for transliterated non-Latin names ([`part_score_phonetic_only`], 4.7).
//!
//! The phonetic similarity `P` re-seeds the caller's [`PyRandom`] on every call (3.1), so the
//! calls are made in the reference's order and the generator is left where the reference leaves
//! its process-global one (the address sample reads it later, Q5): the uniqueness test
//! `P(v, u)`, then `P(part, v)` for every unique variation, then `P(part, v)` again for every
//! variation while building the metrics (the last re-seed, from the original part).
//!
//! ## Quirks reproduced
//! - 4.1: the bins have gaps (phonetic (0.79, 0.80), (0.59, 0.60); orthographic (0.69, 0.70),
//!   (0.49, 0.50)); a value in a gap, below Far, or a full phonetic match of
//!   1.0000000000000002 (Q3) matches no bin and is penalised as unmatched.
//! - 4.2: the count counts every variation passed in, filtered ones included; the tolerance uses
//!   Python's float floor division `expected // 10`; `lower` is at least 1.
//! - 4.3: the repetition filter only counts (`filtered`), the uniqueness denominator keeps the
//!   filtered items; the duplicate test is `P(v, u)` with `v` first (Q4), so it re-seeds from
//!   the candidate.
//! - 4.5 / Q11: `int(t · n)` truncates in double precision (0.3·3 → 0); a level whose target
//!   count is 0 does not count its scores as matched; one variation over a target collapses the
//!   level's credit (`1 − e^−(r−1)`).
//! - 4.6 / Q34: phonetic and orthographic quality are averaged 50/50; a similarity below 0.2 is
//!   multiplied by 0.1.
//! - Q10: `expected_count == 0` with variations makes the reference crash while building the
//!   metrics (`actual_count` unassigned); reported as [`PartScoreError::ZeroExpectedCount`] so
//!   the caller skips the name, after the same generator draws the reference made.
//! - Q23: an empty original part makes the length score (or the metrics' length ratio) divide by
//!   zero; reported as [`PartScoreError::EmptyOriginalPart`], again after the same draws.
//! - The metrics list every input variation, filtered and duplicate ones included.

use std::fmt;

use indexmap::IndexMap;
use serde::{Serialize, Serializer};

use crate::orthographic;
use crate::phonetic::{Codes, similarity_codes};
use crate::rng::{PyRandom, SeedSource};

/// Similarity-level targets of a query: level name (`Light`, `Medium`, `Far`) → fraction.
/// Other keys are ignored (4.5).
pub type Targets = IndexMap<String, f64>;

/// Weight of the similarity component (4.6).
pub const SIMILARITY_WEIGHT: f64 = 0.60;
/// Weight of the count component (4.6).
pub const COUNT_WEIGHT: f64 = 0.15;
/// Weight of the uniqueness component (4.6).
pub const UNIQUENESS_WEIGHT: f64 = 0.10;
/// Weight of the length component (4.6).
pub const LENGTH_WEIGHT: f64 = 0.15;
/// A similarity below this is multiplied by [`LOW_SIMILARITY_FACTOR`] (4.6).
pub const MIN_SIMILARITY: f64 = 0.2;
/// See [`MIN_SIMILARITY`].
pub const LOW_SIMILARITY_FACTOR: f64 = 0.1;
/// A variation whose combined similarity to a kept one exceeds this is a duplicate (4.3).
pub const DUPLICATE_THRESHOLD: f64 = 0.99;

/// A similarity level, in the fixed order the distribution quality visits them (4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Light,
    Medium,
    Far,
}

impl Level {
    /// Light, Medium, Far: the reference's dictionary order.
    pub const ORDER: [Level; 3] = [Level::Light, Level::Medium, Level::Far];

    /// The key used in query targets.
    pub fn name(self) -> &'static str {
        match self {
            Level::Light => "Light",
            Level::Medium => "Medium",
            Level::Far => "Far",
        }
    }
}

/// Inclusive ranges of the three levels (4.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bins {
    pub light: (f64, f64),
    pub medium: (f64, f64),
    pub far: (f64, f64),
}

impl Bins {
    /// The inclusive range of `level`.
    pub fn range(&self, level: Level) -> (f64, f64) {
        match level {
            Level::Light => self.light,
            Level::Medium => self.medium,
            Level::Far => self.far,
        }
    }
}

/// Phonetic bins: Light [0.80, 1.00], Medium [0.60, 0.79], Far [0.30, 0.59] (4.1).
pub const PHONETIC_BINS: Bins = Bins { light: (0.80, 1.00), medium: (0.60, 0.79), far: (0.30, 0.59) };

/// Orthographic bins: Light [0.70, 1.00], Medium [0.50, 0.69], Far [0.20, 0.49] (4.1).
pub const ORTHOGRAPHIC_BINS: Bins = Bins { light: (0.70, 1.00), medium: (0.50, 0.69), far: (0.20, 0.49) };

/// The expected variation count of a part, as the reference holds it: an integer on the
/// phonetic-only path (the query's `variation_count`), a float on the Latin path
/// (`expected_count · (1 − rule_percentage)`). Only the metrics' JSON shows the difference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExpectedCount {
    Int(u32),
    Float(f64),
}

impl ExpectedCount {
    /// The count as a double.
    pub fn value(self) -> f64 {
        match self {
            ExpectedCount::Int(n) => f64::from(n),
            ExpectedCount::Float(x) => x,
        }
    }
}

impl From<u32> for ExpectedCount {
    fn from(n: u32) -> Self {
        ExpectedCount::Int(n)
    }
}

impl From<f64> for ExpectedCount {
    fn from(x: f64) -> Self {
        ExpectedCount::Float(x)
    }
}

/// Why the reference raised while scoring a part; the caller then skips the whole name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartScoreError {
    /// `expected_count == 0` with variations (Q10): the metrics read an unassigned count.
    ZeroExpectedCount,
    /// The original part is empty (Q23): a length ratio divides by zero.
    EmptyOriginalPart,
}

impl fmt::Display for PartScoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartScoreError::ZeroExpectedCount => {
                f.write_str("expected count is 0 but variations were given (the reference's metrics crash, Q10)")
            }
            PartScoreError::EmptyOriginalPart => {
                f.write_str("the original name part is empty (the reference divides by zero, Q23)")
            }
        }
    }
}

impl std::error::Error for PartScoreError {}

/// `similarity` metrics (4.8); `orthographic` is absent in the phonetic-only variant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimilarityMetrics {
    /// Phonetic distribution quality.
    pub phonetic: f64,
    /// Orthographic distribution quality (full variant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orthographic: Option<f64>,
    /// The similarity component after the < 0.2 rule.
    pub combined: f64,
}

/// `count` metrics (4.8).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountMetrics {
    /// Number of variations passed in (filtered ones included).
    pub actual: usize,
    pub expected: ExpectedCount,
    pub score: f64,
}

/// `uniqueness` metrics (4.8).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UniquenessMetrics {
    pub unique_count: usize,
    /// Number of variations passed in (filtered ones included).
    pub total_count: usize,
    pub score: f64,
}

/// `length` metrics (4.8).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LengthMetrics {
    pub score: f64,
}

/// One entry of the `variations` metrics list (4.8), for every input variation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariationMetrics {
    pub variation: String,
    /// `P(part, variation)`.
    pub phonetic_score: f64,
    /// `O(part, variation)` (full variant only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orthographic_score: Option<f64>,
    /// `len(variation) / len(part)`.
    pub length_ratio: f64,
}

/// The metrics of a scored part (4.8), in the reference's key order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartMetrics {
    pub similarity: SimilarityMetrics,
    pub count: CountMetrics,
    pub uniqueness: UniquenessMetrics,
    pub length: LengthMetrics,
    pub variations: Vec<VariationMetrics>,
}

/// A part's score and metrics; serialises as the reference's `{"score", "metrics"}`, with
/// `metrics` an empty object when there were no variations.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartScore {
    pub score: f64,
    #[serde(serialize_with = "metrics_or_empty")]
    pub metrics: Option<PartMetrics>,
}

impl PartScore {
    /// The result for an empty variation list: 0.0 with empty metrics.
    pub fn empty() -> Self {
        PartScore { score: 0.0, metrics: None }
    }
}

fn metrics_or_empty<S: Serializer>(metrics: &Option<PartMetrics>, s: S) -> Result<S::Ok, S::Error> {
    match metrics {
        Some(m) => m.serialize(s),
        None => serde_json::Map::new().serialize(s),
    }
}

/// Python's float floor division `x // y` (`float_floor_div`): `(x − fmod(x, y)) / y`, adjusted
/// to the nearest integer, so it can differ from `floor(x / y)` when `x / y` rounds up to an
/// integer.
fn py_floordiv(x: f64, y: f64) -> f64 {
    let m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv += 1.0;
        }
        floordiv
    } else {
        0.0_f64.copysign(x / y)
    }
}

/// Count score (4.2) for `actual` variations against a non-zero `expected` (0 gives 1.0; the
/// reference's crash in that case is the caller's business, Q10).
///
/// `tolerance = min(0.4, 0.2 + 0.05·(expected // 10))`, `range = expected·tolerance`, in range
/// `[max(1, expected − range), expected + range]` gives 1.0, otherwise `exp(−deviation/expected)`
/// with the distance to the violated bound.
pub fn count_score(actual: usize, expected: f64) -> f64 {
    if expected == 0.0 {
        return 1.0;
    }
    let tolerance = f64::min(0.2 + 0.05 * py_floordiv(expected, 10.0), 0.4);
    let range = expected * tolerance;
    let lower = f64::max(1.0, expected - range);
    let upper = expected + range;
    let actual = actual as f64;
    if lower <= actual && actual <= upper {
        1.0
    } else {
        let deviation = if actual < lower { lower - actual } else { actual - upper };
        (-deviation / expected).exp()
    }
}

/// Length score of one variation (4.4): `min(lv/lo, lo/lv) · (1 − min(1, |lv − lo| / lo))`,
/// lengths in code points. `None` when `lo` is 0 (the reference divides by zero, Q23).
pub fn length_score(original_len: usize, variation_len: usize) -> Option<f64> {
    if original_len == 0 {
        return None;
    }
    let (lo, lv) = (original_len as f64, variation_len as f64);
    let ratio = f64::min(lv / lo, lo / lv);
    let diff = original_len.abs_diff(variation_len) as f64;
    Some(ratio * (1.0 - f64::min(1.0, diff / lo)))
}

/// Distribution quality `DQ(scores, bins, targets)` (4.5).
///
/// For Light, Medium, Far in that order, with `t` the level's target (missing or 0: skipped):
/// `c` scores in the inclusive range, `tc = int(t·n)`; if `tc > 0`, add `t·mq` with `r = c/tc`,
/// `mq = r` up to 1 and `1 − e^−(r−1)` above, and count `c` as matched. Finally subtract
/// `0.1·(unmatched/n)`, floored at 0.
pub fn distribution_quality(scores: &[f64], bins: &Bins, targets: &Targets) -> f64 {
    let n = scores.len();
    let mut quality = 0.0;
    let mut matched = 0usize;
    for level in Level::ORDER {
        let target = targets.get(level.name()).copied().unwrap_or(0.0);
        if target == 0.0 {
            continue;
        }
        let (lower, upper) = bins.range(level);
        let count = scores.iter().filter(|&&s| lower <= s && s <= upper).count();
        // Python's int(): truncation toward zero of the double product.
        let target_count = (target * n as f64) as i64;
        if target_count > 0 {
            let ratio = count as f64 / target_count as f64;
            let match_quality = if ratio <= 1.0 { ratio } else { 1.0 - (-(ratio - 1.0)).exp() };
            quality += target * match_quality;
            matched += count;
        }
    }
    // The bins are disjoint, so matched <= n.
    let unmatched = n.saturating_sub(matched);
    if unmatched > 0 {
        let penalty = 0.1 * (unmatched as f64 / n as f64);
        quality = f64::max(0.0, quality - penalty);
    }
    quality
}

/// The full part score (4.2–4.6, metrics 4.8) of `original` against `variations`, with the
/// phonetic and orthographic targets of the query.
///
/// `rng` plays the reference's global generator and is left in its final state (see the module
/// docs). An empty `variations` gives 0.0 with empty metrics and draws nothing.
///
/// # Errors
/// Where the reference raises and the caller skips the name: [`PartScoreError`].
pub fn part_score<S: AsRef<str>>(
    original: &str,
    variations: &[S],
    phon_targets: &Targets,
    orth_targets: &Targets,
    expected_count: impl Into<ExpectedCount>,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<PartScore, PartScoreError> {
    score_part(original, variations, phon_targets, Some(orth_targets), expected_count.into(), seeds, rng)
}

/// The phonetic-only part score (4.7) used for transliterated non-Latin names: the duplicate
/// test is `P(v, u) > 0.99`, no orthographic similarity, `sim = phonetic quality`; otherwise as
/// [`part_score`].
///
/// # Errors
/// As [`part_score`].
pub fn part_score_phonetic_only<S: AsRef<str>>(
    original: &str,
    variations: &[S],
    phon_targets: &Targets,
    expected_count: impl Into<ExpectedCount>,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<PartScore, PartScoreError> {
    score_part(original, variations, phon_targets, None, expected_count.into(), seeds, rng)
}

/// Both variants: `orth_targets` is `None` for the phonetic-only one.
fn score_part<S: AsRef<str>>(
    original: &str,
    variations: &[S],
    phon_targets: &Targets,
    orth_targets: Option<&Targets>,
    expected: ExpectedCount,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<PartScore, PartScoreError> {
    if variations.is_empty() {
        return Ok(PartScore::empty());
    }
    let variations: Vec<&str> = variations.iter().map(AsRef::as_ref).collect();
    let full = orth_targets.is_some();

    // 4.2 Count. With expected == 0 the reference gives 1.0 but never assigns the actual count,
    // which the metrics then read (Q10, raised below at the same point).
    let expected_value = expected.value();
    let count = (expected_value != 0.0).then(|| count_score(variations.len(), expected_value));

    // 4.3 Uniqueness and the repetition filter.
    let codes: Vec<Codes> = variations.iter().map(|v| Codes::of(v)).collect();
    let mut unique: Vec<usize> = Vec::new();
    let mut filtered = 0usize;
    for (i, v) in variations.iter().enumerate() {
        if orthographic::has_excessive_repetition(v) {
            filtered += 1;
            continue;
        }
        // First hit stops the scan (the reference breaks out of its loop).
        let duplicate = unique.iter().any(|&u| {
            let p = similarity_codes(v, &codes[i], &codes[u], seeds, rng);
            let combined = if full { p * 0.7 + orthographic::similarity(v, variations[u]) * 0.3 } else { p };
            combined > DUPLICATE_THRESHOLD
        });
        if !duplicate {
            unique.push(i);
        }
    }
    let filter_penalty = if filtered > 0 { f64::min(0.2, filtered as f64 * 0.05) } else { 0.0 };
    let uniqueness = unique.len() as f64 / variations.len() as f64;

    // 4.4 Length.
    let original_len = original.chars().count();
    let mut length_sum = 0.0;
    for &u in &unique {
        length_sum +=
            length_score(original_len, variations[u].chars().count()).ok_or(PartScoreError::EmptyOriginalPart)?;
    }
    let length = if unique.is_empty() { 0.0 } else { length_sum / unique.len() as f64 };

    // 4.5 / 4.6 Similarity distributions over the unique variations.
    let original_codes = Codes::of(original);
    let phonetic_scores: Vec<f64> =
        unique.iter().map(|&u| similarity_codes(original, &original_codes, &codes[u], seeds, rng)).collect();
    let phonetic_quality = distribution_quality(&phonetic_scores, &PHONETIC_BINS, phon_targets);
    let orthographic_quality = orth_targets.map(|targets| {
        let scores: Vec<f64> = unique.iter().map(|&u| orthographic::similarity(original, variations[u])).collect();
        distribution_quality(&scores, &ORTHOGRAPHIC_BINS, targets)
    });
    let mut similarity = match orthographic_quality {
        Some(oq) => (phonetic_quality + oq) / 2.0,
        None => phonetic_quality,
    };
    if similarity < MIN_SIMILARITY {
        similarity *= LOW_SIMILARITY_FACTOR;
    }

    let count_value = count.unwrap_or(1.0);
    let mut score = SIMILARITY_WEIGHT * similarity
        + COUNT_WEIGHT * count_value
        + UNIQUENESS_WEIGHT * uniqueness
        + LENGTH_WEIGHT * length;
    if filter_penalty > 0.0 {
        score = f64::max(0.0, score * (1.0 - filter_penalty));
    }

    // 4.8 Metrics. The reference builds them in key order: the count entry raises first (Q10),
    // then each variation's entry calls P, O, and divides by the part length (Q23).
    if count.is_none() {
        return Err(PartScoreError::ZeroExpectedCount);
    }
    let mut variation_metrics = Vec::with_capacity(variations.len());
    for (i, v) in variations.iter().enumerate() {
        let phonetic_score = similarity_codes(original, &original_codes, &codes[i], seeds, rng);
        let orthographic_score = full.then(|| orthographic::similarity(original, v));
        if original_len == 0 {
            return Err(PartScoreError::EmptyOriginalPart);
        }
        variation_metrics.push(VariationMetrics {
            variation: v.to_string(),
            phonetic_score,
            orthographic_score,
            length_ratio: v.chars().count() as f64 / original_len as f64,
        });
    }
    let metrics = PartMetrics {
        similarity: SimilarityMetrics {
            phonetic: phonetic_quality,
            orthographic: orthographic_quality,
            combined: similarity,
        },
        count: CountMetrics { actual: variations.len(), expected, score: count_value },
        uniqueness: UniquenessMetrics { unique_count: unique.len(), total_count: variations.len(), score: uniqueness },
        length: LengthMetrics { score: length },
        variations: variation_metrics,
    };
    Ok(PartScore { score, metrics: Some(metrics) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phonetic::Weights;
    use crate::rng::TableSeedSource;

    fn targets(pairs: &[(&str, f64)]) -> Targets {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    /// Every string hashes to seed 0, whose full phonetic match sums to exactly 1.0.
    fn seed_zero(names: &[&str]) -> TableSeedSource {
        TableSeedSource::new(names.iter().map(|n| (n.to_string(), 0)))
    }

    #[test]
    fn worked_example_4_9() {
        let seeds = seed_zero(&["john", "jon", "joan", "jack", "ron"]);
        let mut rng = PyRandom::new(12345);
        let result = part_score(
            "john",
            &["jon", "joan", "jack", "ron"],
            &targets(&[("Light", 0.5), ("Far", 0.5)]),
            &targets(&[("Light", 0.5), ("Medium", 0.25), ("Far", 0.25)]),
            4.0,
            &seeds,
            &mut rng,
        )
        .unwrap();
        let m = result.metrics.as_ref().unwrap();
        assert_eq!(m.similarity.phonetic, 0.45);
        assert_eq!(m.similarity.orthographic, Some(1.0));
        assert_eq!(m.similarity.combined, 0.725);
        assert_eq!(m.count.score, 1.0);
        assert_eq!(m.uniqueness.score, 1.0);
        assert_eq!(m.length.score, 0.78125);
        assert_eq!(result.score, 0.8021874999999999);
        let p: Vec<f64> = m.variations.iter().map(|v| v.phonetic_score).collect();
        assert_eq!(p, [1.0, 1.0, 0.0, 0.0]);
        let o: Vec<f64> = m.variations.iter().map(|v| v.orthographic_score.unwrap()).collect();
        assert_eq!(o, [0.75, 0.75, 0.25, 0.5]);
        // The generator is left as the last metrics call left it: re-seeded from "john".
        let mut expected = PyRandom::new(0);
        Weights::draw(&mut expected);
        assert_eq!(rng.random(), expected.random());
    }

    #[test]
    fn worked_example_metrics_json_shape() {
        let seeds = seed_zero(&["john", "jon", "joan", "jack", "ron"]);
        let result = part_score(
            "john",
            &["jon", "joan"],
            &targets(&[("Light", 1.0)]),
            &targets(&[("Light", 1.0)]),
            2.0,
            &seeds,
            &mut PyRandom::new(0),
        )
        .unwrap();
        let json = serde_json::to_value(&result).unwrap();
        let keys: Vec<&str> = json["metrics"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["similarity", "count", "uniqueness", "length", "variations"]);
        assert_eq!(json["metrics"]["count"]["expected"], serde_json::json!(2.0));
        let empty = serde_json::to_value(PartScore::empty()).unwrap();
        assert_eq!(empty, serde_json::json!({"score": 0.0, "metrics": {}}));
    }

    #[test]
    fn phonetic_only_duplicates_share_all_codes() {
        // 4.3: in the phonetic-only variant `jon` after `john` is a duplicate.
        let seeds = seed_zero(&["john", "jon"]);
        let result = part_score_phonetic_only(
            "john",
            &["john", "jon"],
            &targets(&[("Light", 1.0)]),
            2u32,
            &seeds,
            &mut PyRandom::new(0),
        )
        .unwrap();
        let m = result.metrics.unwrap();
        assert_eq!(m.uniqueness.unique_count, 1);
        assert_eq!(m.similarity.orthographic, None);
        assert!(m.variations.iter().all(|v| v.orthographic_score.is_none()));
        let json = serde_json::to_value(&m.count).unwrap();
        assert_eq!(json["expected"], serde_json::json!(2));
    }

    #[test]
    fn distribution_quality_edge_cases() {
        let light = targets(&[("Light", 1.0)]);
        // Q3: 1.0000000000000002 is outside Light and unmatched.
        assert_eq!(distribution_quality(&[1.0000000000000002], &PHONETIC_BINS, &light), 0.0);
        // Gap values are unmatched.
        assert_eq!(distribution_quality(&[0.795], &PHONETIC_BINS, &targets(&[("Medium", 1.0)])), 0.0);
        // int(0.3·3) = 0: the level is skipped and its scores count as unmatched.
        let q = distribution_quality(&[0.9, 0.9, 0.9], &PHONETIC_BINS, &targets(&[("Light", 0.3), ("Medium", 0.7)]));
        assert_eq!(q, 0.0);
        // Q11: one over the target of 4.
        let q = distribution_quality(&[0.9; 5], &PHONETIC_BINS, &targets(&[("Light", 0.8)]));
        assert_eq!(q, 0.8 * (1.0 - (-0.25f64).exp()));
        // Unknown levels are ignored; empty scores give 0.
        assert_eq!(distribution_quality(&[], &PHONETIC_BINS, &light), 0.0);
        assert_eq!(distribution_quality(&[0.9], &PHONETIC_BINS, &targets(&[("Heavy", 1.0)])), 0.0);
    }

    #[test]
    fn count_score_tolerance() {
        assert_eq!(count_score(4, 4.0), 1.0);
        // expected 4: tolerance 0.2, lower 3.2, deviation 3.2 − 3 in doubles.
        let lower: f64 = 4.0 - 4.0 * 0.2;
        assert_eq!(count_score(3, 4.0), (-(lower - 3.0) / 4.0).exp());
        // expected 15: tolerance 0.25, range [11.25, 18.75].
        assert_eq!(count_score(11, 15.0), (-0.25f64 / 15.0).exp());
        assert_eq!(count_score(19, 15.0), (-0.25f64 / 15.0).exp());
        // lower bound is at least 1.
        assert_eq!(count_score(0, 0.5), (-1.0f64 / 0.5).exp());
        assert_eq!(count_score(7, 0.0), 1.0);
        // tolerance caps at 0.4 from expected 40.
        assert_eq!(count_score(24, 40.0), 1.0);
        assert_eq!(py_floordiv(29.999999999999996, 10.0), 2.0);
        assert_eq!(py_floordiv(8.55, 10.0), 0.0);
        assert_eq!(py_floordiv(20.0, 10.0), 2.0);
    }

    #[test]
    fn length_scores() {
        assert_eq!(length_score(4, 3), Some(0.5625));
        assert_eq!(length_score(4, 4), Some(1.0));
        assert_eq!(length_score(4, 8), Some(0.0));
        assert_eq!(length_score(0, 3), None);
    }

    #[test]
    fn crashes_are_reported_after_the_same_draws() {
        let seeds = seed_zero(&["ab", "cd", ""]);
        let t = targets(&[("Medium", 1.0)]);
        assert_eq!(
            part_score("ab", &["cd"], &t, &t, 0.0, &seeds, &mut PyRandom::new(0)),
            Err(PartScoreError::ZeroExpectedCount)
        );
        assert_eq!(
            part_score("", &["cd"], &t, &t, 3.0, &seeds, &mut PyRandom::new(0)),
            Err(PartScoreError::EmptyOriginalPart)
        );
        // All filtered: the length loop is skipped, the metrics' first length ratio raises after
        // one P call seeded from the (empty) part.
        let mut rng = PyRandom::new(7);
        assert_eq!(part_score("", &["aaa"], &t, &t, 3.0, &seeds, &mut rng), Err(PartScoreError::EmptyOriginalPart));
        let mut expected = PyRandom::new(0);
        Weights::draw(&mut expected);
        assert_eq!(rng.random(), expected.random());
        // No variations: nothing raises, nothing is drawn.
        assert_eq!(part_score::<&str>("", &[], &t, &t, 0.0, &seeds, &mut PyRandom::new(0)), Ok(PartScore::empty()));
    }

    #[test]
    fn repetition_filter_penalises_and_keeps_denominator() {
        let seeds = seed_zero(&["john", "jon", "joooon"]);
        let t = targets(&[("Light", 1.0)]);
        let r = part_score("john", &["jon", "joooon"], &t, &t, 2.0, &seeds, &mut PyRandom::new(0)).unwrap();
        let m = r.metrics.as_ref().unwrap();
        assert_eq!(m.uniqueness.unique_count, 1);
        assert_eq!(m.uniqueness.total_count, 2);
        assert_eq!(m.variations.len(), 2);
        let unpenalised = SIMILARITY_WEIGHT * m.similarity.combined
            + COUNT_WEIGHT * m.count.score
            + UNIQUENESS_WEIGHT * m.uniqueness.score
            + LENGTH_WEIGHT * m.length.score;
        assert_eq!(r.score, unpenalised * (1.0 - 0.05));
    }
}
