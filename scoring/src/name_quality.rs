//! Name-level quality: one seed name against the miner's name variations for it (spec
//! `kav-scoring.md` 5.1, 5.2 and 5.5).
//!
//! - [`get_name_part_weights`] (5.1): the random first/last weights, re-seeded from the name.
//! - [`variation_quality`] (5.2): Latin names. Rule compliance first (5.3, [`crate::rules`]),
//!   then the rule-compliant strings are pulled out, the rest is split into first- and last-name
//!   lists and scored with the full part score (section 4, [`crate::part_score`]), and the
//!   final score is `0.8·base + 0.2·rule` (or `base` alone when an empty rule list was asked).
//! - [`variation_quality_phonetic_only`] / [`non_latin_quality`] (5.5): transliterated
//!   non-Latin names, phonetic-only part scores over all variations, no rules.
//!
//! Every function exists in two forms: a pure one that takes only the [`SeedSource`], and a
//! `_with_rng` one that threads the caller's [`PyRandom`] — the reference's process-global
//! generator — and leaves it in the reference's final state, which the address sample reads
//! later (Q5). Every draw here follows a re-seed, so the *incoming* state never matters; the
//! order of re-seeds is the reference's: the part weights (after rule compliance, before the
//! parts), then the first-name part, then the last-name part (see [`crate::part_score`] for the
//! order inside a part).
//!
//! The caller prepares the inputs as the reference does (8.4): Latin seed names and all
//! variations are lowercased, empty or missing variations are `""` and kept; a non-Latin name is
//! its transliteration (3.4, [`crate::translit`]), not lowercased (Q24).
//!
//! ## Quirks reproduced
//! - Q9: empty variations stay in the list: they count in `variation_count`, in the rule
//!   evaluator's expected count, and as *missing* in the missing-last-name ratio, but never in a
//!   part list.
//! - Q10: with `expected_base == 0` (rule percentage 100) a non-empty part list makes the
//!   reference crash; the name is skipped ([`NameSkipped`]). Otherwise `base` becomes 1.0.
//! - Q12: for 3+ word names the "last" weight is the *second* word's, while the last-name score
//!   is computed on the *final* word, and the two weights do not sum to 1.
//! - Q13: without rules (no `rule_based`, or no `selected_rules` key) the rule weight 0.2 still
//!   applies with a rule score of 0, capping the name at 0.8.
//! - Q14: selected rules none of which applies to the name score 1.0, and the expected count is
//!   still reduced by the rule percentage.
//! - 5.2 step 2: every copy of a rule-compliant string leaves the similarity pool; a single-word
//!   variation feeds the first-name list only; middle words are ignored.
//! - Q23: an empty transliteration gives an empty first part, and the name is skipped as soon as
//!   it has a non-empty variation.
//! - Q24: the transliterated name is hashed and split as-is.
//! - 5.5 metrics: `scoring_method` is written `phonetic_only` and then overwritten (in place, so
//!   it keeps its position) by the caller's `phonetic_only_with_llm_transliteration`.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::part_score::{PartScore, PartScoreError, Targets, part_score, part_score_phonetic_only};
use crate::rng::{PyRandom, SeedSource};
use crate::rules::{RuleCompliance, rule_compliance};

/// Weight of the rule-compliance score in the final name score (5.2 step 5).
pub const RULE_COMPLIANCE_WEIGHT: f64 = 0.20;

/// The rule percentage used when `rule_based` has none (5.2 step 1).
pub const DEFAULT_RULE_PERCENTAGE: f64 = 30.0;

/// `scoring_method` as the phonetic-only scorer writes it (5.5).
pub const PHONETIC_ONLY: &str = "phonetic_only";

/// `scoring_method` after the reference's caller overwrote it for a non-Latin seed (5.5).
pub const PHONETIC_ONLY_WITH_TRANSLITERATION: &str = "phonetic_only_with_llm_transliteration";

/// The first/last weights of 5.1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartWeights {
    /// Normalised weight of the first word (1.0 for a single-word name).
    pub first: f64,
    /// Normalised weight of the *second* word (Q12; 0.0 for a single-word name).
    pub last: f64,
}

/// The query's `rule_based` object as 5.2 reads it. `None` where the reference's `rule_based` is
/// falsy (absent, null or an empty object).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleBased {
    /// `selected_rules`: `None` when the key is absent; an empty list when it is null or empty.
    pub selected_rules: Option<Vec<String>>,
    /// `rule_percentage` (default 30).
    pub rule_percentage: f64,
}

impl RuleBased {
    /// Reads the query's `rule_based` value. Null, an empty object and anything that is not an
    /// object give `None` (the reference's falsy `rule_based`). A `selected_rules` that is not a
    /// list reads as an empty list, non-string rules are dropped, and a missing or non-numeric
    /// `rule_percentage` reads as 30 (the generator always writes a list and a number).
    pub fn from_json(value: &Value) -> Option<RuleBased> {
        let obj = value.as_object().filter(|o| !o.is_empty())?;
        let selected_rules = obj.get("selected_rules").map(|rules| match rules {
            Value::Array(list) => list.iter().filter_map(|r| r.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        });
        let rule_percentage = obj.get("rule_percentage").and_then(Value::as_f64).unwrap_or(DEFAULT_RULE_PERCENTAGE);
        Some(RuleBased { selected_rules, rule_percentage })
    }

    /// The rules to evaluate: `selected_rules` when it is a non-empty list.
    fn rules(&self) -> Option<&[String]> {
        self.selected_rules.as_deref().filter(|r| !r.is_empty())
    }

    /// `selected_rules` is present but empty or null: the final score is the base score alone.
    fn asked_for_no_rules(&self) -> bool {
        self.selected_rules.as_ref().is_some_and(Vec::is_empty)
    }
}

/// A name's quality: the reference's `(final, base, metrics)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality<M = NameMetrics> {
    pub final_score: f64,
    pub base_score: f64,
    pub metrics: M,
}

/// The `rule_compliance` entry of the Latin metrics: the rule score and the evaluator's metrics
/// (an empty object when no rule list was evaluated).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleComplianceEntry {
    pub score: f64,
    #[serde(serialize_with = "rule_metrics_or_empty")]
    pub metrics: Option<RuleCompliance>,
}

fn rule_metrics_or_empty<S: Serializer>(metrics: &Option<RuleCompliance>, s: S) -> Result<S::Ok, S::Error> {
    match metrics {
        Some(m) => m.serialize(s),
        None => serde_json::Map::new().serialize(s),
    }
}

/// Metrics of a Latin name (5.2), in the reference's key order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NameMetrics {
    pub first_name: PartScore,
    pub base_score: f64,
    pub final_score: f64,
    /// All variations given, empty strings included.
    pub variation_count: usize,
    /// Variations left in the similarity pool (every copy of a compliant string removed).
    pub non_rule_compliant_variations_count: usize,
    /// Distinct rule-compliant strings.
    pub rule_compliant_variations_count: usize,
    /// Present when the name has two or more words; its score includes the missing-last-name
    /// penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<PartScore>,
    /// Present when `rule_based` is truthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_compliance: Option<RuleComplianceEntry>,
}

/// What the reference's non-Latin caller adds to the metrics (5.5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransliterationInfo {
    pub original_name: String,
    pub transliterated_name: String,
    /// Always true (the reference writes it unconditionally).
    pub transliteration_success: bool,
}

/// Metrics of a phonetic-only name (5.5), in the reference's key order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhoneticOnlyMetrics {
    pub first_name: PartScore,
    pub final_score: f64,
    pub base_score: f64,
    /// All variations given, empty strings included.
    pub variation_count: usize,
    /// [`PHONETIC_ONLY`], or [`PHONETIC_ONLY_WITH_TRANSLITERATION`] from [`non_latin_quality`].
    pub scoring_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<PartScore>,
    /// Added by [`non_latin_quality`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transliteration: Option<TransliterationInfo>,
}

/// Which part made the reference raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamePart {
    First,
    Last,
}

/// The reference raised while scoring this name, and its caller skips the name (Q10, Q23).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameSkipped {
    pub part: NamePart,
    pub cause: PartScoreError,
}

impl fmt::Display for NameSkipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            NamePart::First => "first",
            NamePart::Last => "last",
        };
        write!(f, "name skipped while scoring its {part} name: {}", self.cause)
    }
}

impl std::error::Error for NameSkipped {}

/// Python's `str.split()` (whitespace = Unicode White_Space plus U+001C..U+001F).
fn py_split(s: &str) -> Vec<&str> {
    s.split(|c: char| c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)).filter(|w| !w.is_empty()).collect()
}

/// 5.1 `get_name_part_weights(full_name)`: re-seeds `rng` from `H(full_name)`, then for 2+ words
/// draws one `uniform(0.8, 1.2)` per word, in word order, and returns the normalised weights of
/// the first and the **second** word (Q12). Fewer than 2 words: 1.0 / 0.0, no draw.
pub fn get_name_part_weights(full_name: &str, seeds: &(impl SeedSource + ?Sized), rng: &mut PyRandom) -> PartWeights {
    rng.seed_from_string(seeds, full_name);
    let words = py_split(full_name);
    if words.len() < 2 {
        return PartWeights { first: 1.0, last: 0.0 };
    }
    let lengths: Vec<usize> = words.iter().map(|w| w.chars().count()).collect();
    let total = lengths.iter().sum::<usize>() as f64;
    let weights: Vec<f64> = lengths.iter().map(|&l| (l as f64 / total) * rng.uniform(0.8, 1.2)).collect();
    let sum = weights.iter().fold(0.0, |acc, w| acc + w);
    PartWeights { first: weights[0] / sum, last: weights[1] / sum }
}

/// The seed's first part (the whole name when it has fewer than 2 words) and last part (the
/// final word, 2+ words only) (5.2 step 2).
fn name_parts(name: &str) -> (&str, Option<&str>) {
    let words = py_split(name);
    if words.len() < 2 { (name, None) } else { (words[0], Some(words[words.len() - 1])) }
}

/// Splits variations into first- and last-name lists (5.2 step 2): 2+ words give their first
/// and final word, 1 word goes to the first list only, 0 words to neither.
fn split_variations<'a>(variations: impl IntoIterator<Item = &'a str>) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for v in variations {
        let words = py_split(v);
        match words.len() {
            0 => {}
            1 => first.push(words[0]),
            n => {
                first.push(words[0]);
                last.push(words[n - 1]);
            }
        }
    }
    (first, last)
}

/// The missing-last-name penalty (5.2 step 3): `score · (1 − (total − with_last) / total)` when
/// some of the `total` variations gave no last name.
fn missing_last_penalty(score: f64, with_last: usize, total: usize) -> f64 {
    if with_last < total {
        let missing_ratio = (total - with_last) as f64 / total as f64;
        score * (1.0 - missing_ratio)
    } else {
        score
    }
}

/// 5.2 `variation_quality` for a Latin name, with a private generator (the result does not
/// depend on any incoming generator state). See [`variation_quality_with_rng`].
///
/// # Errors
/// [`NameSkipped`] where the reference raises and skips the name.
pub fn variation_quality<S: AsRef<str>>(
    name: &str,
    variations: &[S],
    phon_targets: &Targets,
    orth_targets: &Targets,
    expected_count: u32,
    rule_based: Option<&RuleBased>,
    seeds: &(impl SeedSource + ?Sized),
) -> Result<Quality, NameSkipped> {
    let mut rng = PyRandom::new(0);
    variation_quality_with_rng(
        name,
        variations,
        phon_targets,
        orth_targets,
        expected_count,
        rule_based,
        seeds,
        &mut rng,
    )
}

/// 5.2 `variation_quality(name, variations, phon_targets, orth_targets, expected_count,
/// rule_based)` for a Latin name, threading the reference's global generator `rng`.
///
/// 1. Rule compliance when `rule_based` has a non-empty `selected_rules` list, with
///    `target = rule_percentage / 100`; otherwise rule score 0, target 0, no compliant strings.
/// 2. The part weights (5.1) of `name`; the variations without a compliant string, split into
///    first/last lists.
/// 3. Part scores with `expected_base = expected_count · (1 − target)`; the last-name score
///    takes the missing-last-name penalty over the non-compliant variations.
/// 4. `base = w_first·first + w_last·last` (or `first`), 1.0 when `expected_base == 0`.
/// 5. `final = base` when `selected_rules` is present but empty or null, else
///    `0.8·base + 0.2·rule`.
///
/// # Errors
/// [`NameSkipped`] where the reference raises and skips the name (Q10, Q23); `rng` is then left
/// where the reference's generator was when it raised.
#[allow(clippy::too_many_arguments)]
pub fn variation_quality_with_rng<S: AsRef<str>>(
    name: &str,
    variations: &[S],
    phon_targets: &Targets,
    orth_targets: &Targets,
    expected_count: u32,
    rule_based: Option<&RuleBased>,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<Quality, NameSkipped> {
    let variations: Vec<&str> = variations.iter().map(AsRef::as_ref).collect();

    // Step 1: rule compliance.
    let (rule_score, rule_metrics, target) = match rule_based.and_then(RuleBased::rules) {
        Some(rules) => {
            let target = rule_based.map_or(DEFAULT_RULE_PERCENTAGE, |r| r.rule_percentage) / 100.0;
            let compliance = rule_compliance(name, &variations, rules, target);
            (compliance.score, Some(compliance), target)
        }
        None => (0.0, None, 0.0),
    };
    let compliant = rule_metrics.as_ref().map(RuleCompliance::compliant_set).unwrap_or_default();

    // Step 2: weights, then the split of the non-compliant variations.
    let non_rule: Vec<&str> = variations.iter().copied().filter(|v| !compliant.contains(v)).collect();
    let weights = get_name_part_weights(name, seeds, rng);
    let (first_name, last_name) = name_parts(name);
    let (first_list, last_list) = split_variations(non_rule.iter().copied());

    // Step 3: part scores.
    let expected_base = f64::from(expected_count) * (1.0 - target);
    let first = part_score(first_name, &first_list, phon_targets, orth_targets, expected_base, seeds, rng)
        .map_err(|cause| NameSkipped { part: NamePart::First, cause })?;
    let last = match last_name {
        Some(last_name) => {
            let mut last = part_score(last_name, &last_list, phon_targets, orth_targets, expected_base, seeds, rng)
                .map_err(|cause| NameSkipped { part: NamePart::Last, cause })?;
            last.score = missing_last_penalty(last.score, last_list.len(), non_rule.len());
            Some(last)
        }
        None => None,
    };

    // Step 4: base score.
    let mut base = match &last {
        Some(last) => weights.first * first.score + weights.last * last.score,
        None => first.score,
    };
    if expected_base == 0.0 {
        base = 1.0;
    }

    // Step 5: final score.
    let (base_weight, rule_weight) = if rule_based.is_some_and(RuleBased::asked_for_no_rules) {
        (1.0, 0.0)
    } else {
        (1.0 - RULE_COMPLIANCE_WEIGHT, RULE_COMPLIANCE_WEIGHT)
    };
    let final_score = base_weight * base + rule_weight * rule_score;

    let metrics = NameMetrics {
        first_name: first,
        base_score: base,
        final_score,
        variation_count: variations.len(),
        non_rule_compliant_variations_count: non_rule.len(),
        rule_compliant_variations_count: compliant.len(),
        last_name: last,
        rule_compliance: rule_based.map(|_| RuleComplianceEntry { score: rule_score, metrics: rule_metrics.clone() }),
    };
    Ok(Quality { final_score, base_score: base, metrics })
}

/// 5.5 phonetic-only quality with a private generator. See
/// [`variation_quality_phonetic_only_with_rng`].
///
/// # Errors
/// [`NameSkipped`] where the reference raises and skips the name.
pub fn variation_quality_phonetic_only<S: AsRef<str>>(
    name: &str,
    variations: &[S],
    phon_targets: &Targets,
    expected_count: u32,
    seeds: &(impl SeedSource + ?Sized),
) -> Result<Quality<PhoneticOnlyMetrics>, NameSkipped> {
    let mut rng = PyRandom::new(0);
    variation_quality_phonetic_only_with_rng(name, variations, phon_targets, expected_count, seeds, &mut rng)
}

/// 5.5 `calculate_variation_quality_phonetic_only(name, variations, phon_targets,
/// expected_count)`: no rules, no orthography. The part weights of `name` (as given, Q24), then
/// phonetic-only part scores (4.7) over **all** variations with the full `expected_count`; the
/// missing-last-name penalty counts every variation (empty ones as missing);
/// `final = base = w_first·first + w_last·last`, or `first` alone for a one-word name.
/// `scoring_method` is [`PHONETIC_ONLY`] and there is no `transliteration` entry; see
/// [`non_latin_quality`] for what the reference's caller adds.
///
/// # Errors
/// [`NameSkipped`] where the reference raises (an empty name with a non-empty variation, Q23;
/// `expected_count == 0` with variations, Q10).
pub fn variation_quality_phonetic_only_with_rng<S: AsRef<str>>(
    name: &str,
    variations: &[S],
    phon_targets: &Targets,
    expected_count: u32,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<Quality<PhoneticOnlyMetrics>, NameSkipped> {
    let variations: Vec<&str> = variations.iter().map(AsRef::as_ref).collect();
    let weights = get_name_part_weights(name, seeds, rng);
    let (first_name, last_name) = name_parts(name);
    let (first_list, last_list) = split_variations(variations.iter().copied());

    let first = part_score_phonetic_only(first_name, &first_list, phon_targets, expected_count, seeds, rng)
        .map_err(|cause| NameSkipped { part: NamePart::First, cause })?;
    let last = match last_name {
        Some(last_name) => {
            let mut last = part_score_phonetic_only(last_name, &last_list, phon_targets, expected_count, seeds, rng)
                .map_err(|cause| NameSkipped { part: NamePart::Last, cause })?;
            last.score = missing_last_penalty(last.score, last_list.len(), variations.len());
            Some(last)
        }
        None => None,
    };
    let score = match &last {
        Some(last) => weights.first * first.score + weights.last * last.score,
        None => first.score,
    };
    let metrics = PhoneticOnlyMetrics {
        first_name: first,
        final_score: score,
        base_score: score,
        variation_count: variations.len(),
        scoring_method: PHONETIC_ONLY,
        last_name: last,
        transliteration: None,
    };
    Ok(Quality { final_score: score, base_score: score, metrics })
}

/// A non-Latin seed as the reference's caller scores it (5.5): the phonetic-only quality of the
/// transliterated name, with `transliteration` added to the metrics and `scoring_method`
/// overwritten with [`PHONETIC_ONLY_WITH_TRANSLITERATION`]. `variations` are the miner's name
/// strings, lowercased, empty ones kept; `expected_count` is the query's `variation_count`.
///
/// # Errors
/// As [`variation_quality_phonetic_only_with_rng`]: the name is skipped.
#[allow(clippy::too_many_arguments)]
pub fn non_latin_quality<S: AsRef<str>>(
    original_name: &str,
    transliterated_name: &str,
    variations: &[S],
    phon_targets: &Targets,
    expected_count: u32,
    seeds: &(impl SeedSource + ?Sized),
    rng: &mut PyRandom,
) -> Result<Quality<PhoneticOnlyMetrics>, NameSkipped> {
    let mut quality = variation_quality_phonetic_only_with_rng(
        transliterated_name,
        variations,
        phon_targets,
        expected_count,
        seeds,
        rng,
    )?;
    quality.metrics.transliteration = Some(TransliterationInfo {
        original_name: original_name.to_string(),
        transliterated_name: transliterated_name.to_string(),
        transliteration_success: true,
    });
    quality.metrics.scoring_method = PHONETIC_ONLY_WITH_TRANSLITERATION;
    Ok(quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part_score::PartScoreError;
    use crate::rng::TableSeedSource;

    fn seeds(entries: &[(&str, i64)]) -> TableSeedSource {
        TableSeedSource::new(entries.iter().map(|&(k, v)| (k.to_string(), v)))
    }

    fn targets(pairs: &[(&str, f64)]) -> Targets {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn part_weights_appendix_a() {
        let mut rng = PyRandom::new(0);
        for (seed, first, last) in [
            (0, 0.45207929874304953, 0.5479207012569504),
            (1, 0.3748670605382782, 0.6251329394617219),
            (42, 0.5104592761659555, 0.4895407238340445),
        ] {
            let w = get_name_part_weights("john smith", &seeds(&[("john smith", seed)]), &mut rng);
            assert_eq!((w.first, w.last), (first, last), "seed {seed}");
        }
        // Word lengths (2, 2, 4), seed 0: the "last" weight is the second word's (Q12).
        let w = get_name_part_weights("ab cd efgh", &seeds(&[("ab cd efgh", 0)]), &mut rng);
        assert_eq!((w.first, w.last), (0.2723623845743657, 0.264082853016142));
        // One word: no draw after the re-seed.
        let w = get_name_part_weights("madonna", &seeds(&[("madonna", 5)]), &mut rng);
        assert_eq!((w.first, w.last), (1.0, 0.0));
        assert_eq!(rng.random(), PyRandom::new(5).random());
    }

    #[test]
    fn rule_based_from_json() {
        use serde_json::json;
        assert_eq!(RuleBased::from_json(&json!(null)), None);
        assert_eq!(RuleBased::from_json(&json!({})), None);
        assert_eq!(
            RuleBased::from_json(&json!({"selected_rules": null})),
            Some(RuleBased { selected_rules: Some(vec![]), rule_percentage: 30.0 })
        );
        assert_eq!(
            RuleBased::from_json(&json!({"selected_rules": ["remove_all_spaces"], "rule_percentage": 40})),
            Some(RuleBased { selected_rules: Some(vec!["remove_all_spaces".into()]), rule_percentage: 40.0 })
        );
        assert_eq!(
            RuleBased::from_json(&json!({"rule_percentage": 40})),
            Some(RuleBased { selected_rules: None, rule_percentage: 40.0 })
        );
    }

    /// Every hashed string gets seed 0 (full phonetic match exactly 1.0).
    fn all_zero(names: &[&str]) -> TableSeedSource {
        TableSeedSource::new(names.iter().map(|n| (n.to_string(), 0)))
    }

    #[test]
    fn no_rules_caps_at_point_eight_and_empty_rules_do_not() {
        let s = all_zero(&["john", "john smith", "smith"]);
        let t = targets(&[("Light", 1.0)]);
        let vars = ["john smith"];
        let q = variation_quality("john smith", &vars, &t, &t, 1, None, &s).unwrap();
        assert_eq!(q.final_score, 0.8 * q.base_score);
        assert!(q.metrics.rule_compliance.is_none());
        let empty = RuleBased { selected_rules: Some(vec![]), rule_percentage: 30.0 };
        let q2 = variation_quality("john smith", &vars, &t, &t, 1, Some(&empty), &s).unwrap();
        assert_eq!(q2.final_score, q2.base_score);
        let json = serde_json::to_value(&q2.metrics).unwrap();
        assert_eq!(json["rule_compliance"], serde_json::json!({"score": 0.0, "metrics": {}}));
    }

    #[test]
    fn missing_last_names_are_penalised_and_empty_strings_count() {
        let s = all_zero(&["john", "john smith", "smith", "jon"]);
        let t = targets(&[("Light", 1.0)]);
        let q = variation_quality("john smith", &["john smith", "jon", ""], &t, &t, 3, None, &s).unwrap();
        let first = &q.metrics.first_name;
        assert_eq!(first.metrics.as_ref().unwrap().count.actual, 2);
        // last list has 1 of 3 non-rule variations: factor 1 − 2/3.
        let last = q.metrics.last_name.as_ref().unwrap();
        let unpenalised = {
            let mut rng = PyRandom::new(0);
            part_score("smith", &["smith"], &t, &t, 3.0, &s, &mut rng).unwrap().score
        };
        assert_eq!(last.score, unpenalised * (1.0 - 2.0 / 3.0));
        assert_eq!(q.metrics.variation_count, 3);
        assert_eq!(q.metrics.non_rule_compliant_variations_count, 3);
    }

    #[test]
    fn phonetic_only_and_non_latin_metrics() {
        let s = all_zero(&["Ivan Petrov", "Ivan", "Petrov", "иван", "петров"]);
        let t = targets(&[("Light", 1.0)]);
        let mut rng = PyRandom::new(0);
        let q =
            non_latin_quality("Иван Петров", "Ivan Petrov", &["ivan petrov", "иван петров", ""], &t, 3, &s, &mut rng)
                .unwrap();
        assert_eq!(q.final_score, q.base_score);
        let json = serde_json::to_value(&q.metrics).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "first_name",
                "final_score",
                "base_score",
                "variation_count",
                "scoring_method",
                "last_name",
                "transliteration"
            ]
        );
        assert_eq!(json["scoring_method"], PHONETIC_ONLY_WITH_TRANSLITERATION);
        assert_eq!(json["first_name"]["metrics"]["count"]["expected"], serde_json::json!(3));
        assert!(json["first_name"]["metrics"]["similarity"].get("orthographic").is_none());
    }

    #[test]
    fn unscorable_names_are_skipped() {
        // Q23: an empty transliteration with a non-empty variation.
        let s = all_zero(&["", "ivan"]);
        let t = targets(&[("Light", 1.0)]);
        let err = variation_quality_phonetic_only("", &["ivan"], &t, 3, &s).unwrap_err();
        assert_eq!(err, NameSkipped { part: NamePart::First, cause: PartScoreError::EmptyOriginalPart });
        // ...but with only empty variations nothing raises.
        assert_eq!(variation_quality_phonetic_only("", &[""], &t, 3, &s).unwrap().final_score, 0.0);
        // Q10: rule percentage 100 with a non-compliant variation.
        let s = all_zero(&["john smith", "john", "smith", "zzz"]);
        let rb = RuleBased { selected_rules: Some(vec!["remove_all_spaces".into()]), rule_percentage: 100.0 };
        let err = variation_quality("john smith", &["zzz"], &t, &t, 3, Some(&rb), &s).unwrap_err();
        assert_eq!(err.cause, PartScoreError::ZeroExpectedCount);
        // With only compliant variations the base is 1.0.
        let q = variation_quality("john smith", &["johnsmith"], &t, &t, 3, Some(&rb), &s).unwrap();
        assert_eq!(q.base_score, 1.0);
    }
}
