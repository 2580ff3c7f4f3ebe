//! Query parameters and the query template text (spec validator-round.md 4, 6, 7, 8).
//!
//! - [`draw_params`]: variation count, the two similarity distributions and the rule percentage,
//!   drawn from the reference's global generator in its order; [`draw_rules`] the 1–3 rules.
//! - Template cores in the reference's three forms: the template fallback (6.2, what a validator
//!   without an LLM sends), text from a [`TemplateWriter`] (6.3, "LLM-written"), and the exception
//!   fallback of default-query mode (6.4).
//! - [`static_validate`]: the validator's own checks of a template (6.6) and the hints it appends
//!   (6.5); the suffixes: address/DOB (6.8), UAV (7) and image (9.5) blocks.
//! - [`adaptive_timeout`] (8).

use indexmap::IndexMap;
use serde_json::{Value, json};

use miid_scoring::kav;
use miid_scoring::rng::PyRandom;
use miid_scoring::rules;

/// The similarity distributions and their weights (section 4), in the reference's order.
pub const DISTRIBUTIONS: &[(&[(&str, f64)], f64)] = &[
    (&[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)], 0.25),
    (&[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)], 0.20),
    (&[("Light", 0.1), ("Medium", 0.3), ("Far", 0.6)], 0.15),
    (&[("Light", 0.5), ("Medium", 0.5)], 0.12),
    (&[("Light", 0.1), ("Medium", 0.5), ("Far", 0.4)], 0.10),
    (&[("Medium", 1.0)], 0.08),
    (&[("Light", 0.7), ("Medium", 0.3)], 0.05),
    (&[("Far", 1.0)], 0.03),
    (&[("Light", 1.0)], 0.02),
];

/// A similarity distribution, level → fraction in key order.
pub type Distribution = Vec<(String, f64)>;

/// The query labels (section 4): what the template asks for, as stored and scored.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryLabels {
    pub variation_count: u32,
    pub phonetic: Distribution,
    pub orthographic: Distribution,
    pub rule_percentage: u32,
    pub selected_rules: Vec<String>,
}

impl QueryLabels {
    pub fn rule_descriptions(&self) -> Vec<String> {
        self.selected_rules.iter().map(|r| rules::description(r)).collect()
    }

    /// The labels as the results record stores them (4, rules.md 2.3).
    pub fn to_json(&self) -> Value {
        let dist = |d: &Distribution| Value::Object(d.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
        let descriptions: serde_json::Map<String, Value> =
            self.selected_rules.iter().map(|r| (r.clone(), json!(rules::description(r)))).collect();
        json!({
            "variation_count": self.variation_count,
            "phonetic_similarity": dist(&self.phonetic),
            "orthographic_similarity": dist(&self.orthographic),
            "rule_based": {
                "rule_percentage": self.rule_percentage,
                "selected_rules": self.selected_rules,
                "rule_descriptions": descriptions,
                "percentage": self.rule_percentage,
            },
        })
    }

    /// The labels as the scorer reads them.
    pub fn to_query(&self) -> kav::Query {
        let map = |d: &Distribution| d.iter().cloned().collect::<IndexMap<String, f64>>();
        kav::Query {
            variation_count: self.variation_count,
            phonetic_similarity: map(&self.phonetic),
            orthographic_similarity: map(&self.orthographic),
            rule_based: Some(self.to_json()["rule_based"].clone()),
        }
    }
}

fn distribution(d: &[(&str, f64)]) -> Distribution {
    d.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Python's `random.choices(population, weights)[0]` index: one `random()` against the
/// cumulative weights, `bisect_right`.
pub fn weighted_index(global: &mut PyRandom, weights: &[f64]) -> usize {
    let mut cum = Vec::with_capacity(weights.len());
    let mut acc = 0.0;
    for w in weights {
        acc += w;
        cum.push(acc);
    }
    let x = global.random() * acc;
    let hi = weights.len() - 1;
    cum[..hi].partition_point(|c| *c <= x).min(hi)
}

fn draw_distribution(global: &mut PyRandom) -> Distribution {
    let weights: Vec<f64> = DISTRIBUTIONS.iter().map(|(_, w)| *w).collect();
    distribution(DISTRIBUTIONS[weighted_index(global, &weights)].0)
}

/// Section 4 steps 1–4: `(vc, phonetic, orthographic, p)`.
pub fn draw_params(global: &mut PyRandom) -> (u32, Distribution, Distribution, u32) {
    let vc = global.randint(6, 15) as u32;
    let phonetic = draw_distribution(global);
    let orthographic = draw_distribution(global);
    let p = global.randint(10, 60) as u32;
    (vc, phonetic, orthographic, p)
}

/// Section 4 step 5 (rules.md 2.1): `n` = 1..3, then `n` distinct selectable rules in draw order.
pub fn draw_rules(global: &mut PyRandom) -> Vec<String> {
    let n = global.randint(1, 3) as usize;
    let population = rules::selectable_rules();
    global.sample(&population, n).into_iter().map(str::to_owned).collect()
}

/// `30% Light, 40% Medium, 30% Far` (section 4).
pub fn spec_text(d: &Distribution) -> String {
    d.iter().map(|(level, f)| format!("{}% {level}", (f * 100.0).trunc() as i64)).collect::<Vec<_>>().join(", ")
}

/// `{'Medium': 0.5}`: Python's dict rendering (exception fallback, 6.4).
pub fn py_dict(d: &Distribution) -> String {
    let items: Vec<String> = d.iter().map(|(k, v)| format!("'{k}': {}", miid_protocol::pyfmt::py_float(*v))).collect();
    format!("{{{}}}", items.join(", "))
}

/// The template fallback core (6.2).
pub fn fallback_core(l: &QueryLabels) -> String {
    format!(
        "The following name is the seed name to generate variations for: {{name}}. Generate {} variations of the name {{name}}, ensuring phonetic similarity: {}, and orthographic similarity: {}, and also include {}% of variations that follow: {}",
        l.variation_count,
        spec_text(&l.phonetic),
        spec_text(&l.orthographic),
        l.rule_percentage,
        rules::rule_sentence(&l.rule_descriptions())
    )
}

/// The exception-fallback core (6.4): dict-rendered specs and a final extra period.
pub fn exception_core(l: &QueryLabels) -> String {
    format!(
        "The following name is the seed name to generate variations for: {{name}}. Generate {} variations of the name {{name}}, ensuring phonetic similarity: {}, and orthographic similarity: {}, and also include {}% of variations that follow: {}.",
        l.variation_count,
        py_dict(&l.phonetic),
        py_dict(&l.orthographic),
        l.rule_percentage,
        rules::rule_sentence(&l.rule_descriptions())
    )
}

/// The generation prompt sent to the query-writing LLM (6.3), with the reference's indentation.
pub fn generation_prompt(l: &QueryLabels) -> String {
    let (vc, phon, orth, p) =
        (l.variation_count, spec_text(&l.phonetic), spec_text(&l.orthographic), l.rule_percentage);
    let rules = rules::rule_sentence(&l.rule_descriptions());
    let body = format!(
        "You are to produce a *natural-language request template* (NOT a code snippet, NOT a SQL statement).

PURPOSE CONTEXT:
You are helping generate name variation prompts for testing a sanctions screening system. Regulators expect these systems to detect obfuscated or misspelled names. Your task is to create a human-readable *query prompt* describing how to generate such name variations, not an executable program.

TASK INSTRUCTIONS:
Create one natural-language prompt that instructs a model to:
1. Generate exactly {vc} variations of a target identity represented by {{name}}.
2. Ensure the generated variations reflect:
- Phonetic similarity (sound-alike names) based on: {phon}
- Orthographic similarity (visual similarity) based on: {orth}
3. Make sure approximately {p}% of all generated variations follow the rule-based transformations below (as a group, not per rule):
{rules}

IMPORTANT FORMATTING REQUIREMENTS:
1. The output must be a single, natural-language prompt that uses {{name}} as the placeholder for the target name.
2. It must include both the similarity requirements (phonetic and orthographic) AND the rule-based transformation requirements.
3. Do **not** include any SQL, pseudocode, code syntax, table references, or structured data.
4. Do **not** calculate totals, percentages, or perform any computation.
5. Do **not** add extra transformations beyond the listed rules.
6. The response must look like a human instruction for generating name variations, not a technical query or script.

CRITICAL OUTPUT RULE:
Return **only** the natural-language prompt. Do not explain, analyze, or describe it.

Example format to follow:
Generate {vc} variations of {{name}}. ensuring phonetic similarity ({phon}) and orthographic similarity ({orth}). Approximately {p}% of the total {vc} variations should follow these rule-based transformations: {rules}.

YOUR RESPONSE (prompt only):"
    );
    let mut lines = body.lines();
    let mut out = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str("        ");
            out.push_str(line);
        }
    }
    out
}

/// Writes a template core from the generation prompt (6.3): an LLM backend.
pub trait TemplateWriter: Send {
    /// A name for the results record (`model_used`).
    fn model(&self) -> String;
    /// The reply to `prompt` for a round with `labels`; `global` is never drawn from (an LLM's
    /// randomness is its own), `rng` is the writer's.
    fn write(&mut self, prompt: &str, labels: &QueryLabels) -> Result<String, String>;
}

/// An offline stand-in for the query-writing LLM: replies in the phrasings LLMs produce for the
/// 6.3 prompt — the prompt's example line, free paraphrases, and (as real LLMs do now and then)
/// replies that drop a requirement, so the static checks and hints of 6.5/6.6 get exercised.
#[derive(Debug)]
pub struct CannedWriter {
    rng: rand::rngs::StdRng,
}

impl CannedWriter {
    pub fn new(seed: u64) -> Self {
        use rand::SeedableRng;
        CannedWriter { rng: rand::rngs::StdRng::seed_from_u64(seed) }
    }
}

impl TemplateWriter for CannedWriter {
    fn model(&self) -> String {
        "canned-llm-style".into()
    }

    fn write(&mut self, _prompt: &str, l: &QueryLabels) -> Result<String, String> {
        use rand::Rng;
        let (vc, phon, orth, p) =
            (l.variation_count, spec_text(&l.phonetic), spec_text(&l.orthographic), l.rule_percentage);
        let descriptions = l.rule_descriptions();
        let rules = rules::rule_sentence(&descriptions);
        let lower_rules = descriptions.iter().map(|d| d.to_lowercase()).collect::<Vec<_>>().join("; ");
        Ok(match self.rng.random_range(0..6) {
            0 => format!(
                "Generate {vc} variations of {{name}}. ensuring phonetic similarity ({phon}) and orthographic similarity ({orth}). Approximately {p}% of the total {vc} variations should follow these rule-based transformations: {rules}."
            ),
            1 => format!(
                "Please create {vc} alternative spellings of the name {{name}} for sanctions-screening tests. The set should sound like the original with a phonetic similarity mix of {phon}, and look like it with an orthographic similarity mix of {orth}. As a group, about {p}% of the variations should apply these transformations: {lower_rules}."
            ),
            2 => format!(
                "Produce exactly {vc} name variations for {{name}}: phonetic similarity {phon}; orthographic similarity {orth}. Roughly {p}% of them should follow the rule-based transformations below. {rules}"
            ),
            3 => format!(
                // Drops the orthographic mix, as LLMs sometimes do.
                "Generate {vc} variations of {{name}} that sound alike ({phon} phonetic similarity). Make about {p}% of them follow: {rules}"
            ),
            4 => format!(
                // Per-rule wording: the ambiguity check fires.
                "Write {vc} variations of {{name}} with phonetic similarity {phon} and orthographic similarity {orth}. Apply {p}% of the variations per rule: {lower_rules} ({p}% per transformation)."
            ),
            _ => format!(
                // Forgets the count and the rules.
                "Create several variations of {{name}}, with phonetic similarity {phon} and orthographic similarity {orth}."
            ),
        })
    }
}

/// The outcome of the static checks (6.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Structurally valid (contains `{name}`).
    pub valid: bool,
    /// The reason when invalid.
    pub message: Option<String>,
    pub issues: Vec<String>,
}

/// The ambiguity clarification (6.6 item 3.5).
pub fn ambiguity_sentence(p: u32) -> String {
    format!(
        "We want {p}% of the name variations to be rule-based. Each variation should have at least one transformation rule applied\u{2014}some may have only one rule, while others may have multiple. Importantly, all listed rules must be represented across the set of rule-based name variations."
    )
}

fn similarity_issue(template: &str, lower: &str, d: &Distribution, what: &str) -> Option<String> {
    let mut tokens = Vec::new();
    for (level, f) in d {
        let pct = format!("{}%", (f * 100.0).trunc() as i64);
        tokens.push(format!("{pct} {level}"));
        if !(template.contains(&pct) && lower.contains(&level.to_lowercase())) {
            return Some(format!("{what} similarity: {}.", tokens.join(", ")));
        }
    }
    None
}

/// The reference's static checks of a template against its labels (6.6), in order.
pub fn static_validate(template: &str, l: &QueryLabels) -> Validation {
    if template.is_empty() {
        return Validation { valid: false, message: Some("Query template is empty".into()), issues: vec![] };
    }
    if !template.contains("{name}") {
        return Validation {
            valid: false,
            message: Some("Query template must contain at least one {name} placeholder".into()),
            issues: vec!["Here is the name that you should generate variations of: {name}".into()],
        };
    }
    let lower = template.to_lowercase();
    let mut issues = Vec::new();
    let vc = l.variation_count.to_string();
    if !template.contains(&vc) {
        issues.push(format!("Exact number of variations: {vc}."));
    }
    issues.extend(similarity_issue(template, &lower, &l.phonetic, "Phonetic"));
    issues.extend(similarity_issue(template, &lower, &l.orthographic, "Orthographic"));
    let p = l.rule_percentage;
    let pct = format!("{p}%");
    let mut rule_parts = Vec::new();
    if !lower.contains(&pct) {
        rule_parts.push(format!("Approximately {p}% of the variations should follow rule-based transformations."));
    }
    let missing: Vec<String> = l
        .rule_descriptions()
        .into_iter()
        .filter(|d| !rules::description_keywords(d).iter().all(|k| lower.contains(k.as_str())))
        .collect();
    if !missing.is_empty() {
        rule_parts.push(format!("Apply these rule-based transformations: {}.", missing.join("; ")));
    }
    if !rule_parts.is_empty() {
        issues.push(rule_parts.join(" "));
    }
    let ambiguous = [" per", " for each", " of each", " per rule", " per transformation"]
        .iter()
        .any(|suffix| lower.contains(&format!("{pct}{suffix}")));
    if lower.matches(&pct).count() > 1 && ambiguous {
        issues.push(ambiguity_sentence(p));
    }
    Validation { valid: true, message: None, issues }
}

/// Appends `\n[VALIDATION HINTS]: …` for `issues` (6.5), deduplicated, first occurrence kept.
pub fn append_hints(template: &str, issues: &[String]) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for i in issues {
        if !unique.contains(&i.as_str()) {
            unique.push(i);
        }
    }
    if unique.is_empty() {
        return template.to_owned();
    }
    let section = format!("\n[VALIDATION HINTS]: {}", unique.join("; "));
    if template.contains(&section) { template.to_owned() } else { format!("{template}{section}") }
}

/// The address/DOB suffix and the additional-context block (6.8); the exception fallback omits
/// the year+month line.
pub fn address_dob_suffix(exception_fallback: bool) -> String {
    let mut s = String::from(
        " The following address is the seed country/city to generate address variations for: {address}. Generate unique real addresses within the specified country/city for each variation. ",
    );
    s.push_str(" The following date of birth is the seed DOB to generate variations for: {dob}.");
    s.push_str("\n\n[ADDITIONAL CONTEXT]:");
    s.push_str("\n- Address variations should be realistic addresses within the specified country/city");
    s.push_str(
        "\n- DOB variations ATLEAST one in each category (±1 day, ±3 days, ±30 days, ±90 days, ±365 days, year+month only)",
    );
    if !exception_fallback {
        s.push_str("\n- For year+month, generate the exact DOB without day");
    }
    s.push_str("\n- Each variation must have a different, realistic address and DOB");
    s
}

/// The UAV block for `seed` (section 7, text of 6.9).
pub fn uav_block(seed: &str) -> String {
    format!(
        r#"

[UAV REQUIREMENTS - Phase 3]:
Return variations in the NEW structure. For the seed "{seed}" ONLY, use this structure:
{{
  "{seed}": {{
    "variations": [["name_var", "dob_var", "addr_var"], ...],  # Your normal variations
    "uav": {{
      "address": "address_variant",  # REQUIRED: Address that looks valid but may fail validation
      "label": "explanation",        # REQUIRED: Why this could be a valid address
      "latitude": float,              # REQUIRED: Latitude coordinates
      "longitude": float              # REQUIRED: Longitude coordinates
    }}
  }}
}}

For all OTHER seeds, use the standard structure (variations only):
{{
  "other_seed_name": [["name_var", "dob_var", "addr_var"], ...]
}}

UAV = Unknown Attack Vector: An address from the seed's country/city/region that looks legitimate but might fail geocoding.
Examples: "123 Main Str" (typo), "456 Oak Av" (abbreviation), "789 1st St" (missing direction)
Label examples: "Common typo", "Local abbreviation", "Missing street direction"
"#
    )
}

/// The adaptive timeout (section 8): `clamp(base + 20·seeds + 10·vc, 120, max) + extension`.
pub fn adaptive_timeout(base: f64, seeds: usize, vc: u32, max: f64, extension: f64) -> f64 {
    let t = base + 20.0 * seeds as f64 + 10.0 * vc as f64;
    t.max(120.0).min(max) + extension
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_labels() -> QueryLabels {
        QueryLabels {
            variation_count: 12,
            phonetic: distribution(&[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)]),
            orthographic: distribution(&[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)]),
            rule_percentage: 25,
            selected_rules: vec!["replace_random_vowel_with_random_vowel".into(), "delete_random_letter".into()],
        }
    }

    /// The four candidates of the 6.6 example table, with their exact issues.
    #[test]
    fn spec_6_6_examples() {
        let l = example_labels();
        let v = static_validate(
            "Generate 12 variations of the name {name}. Include phonetic similarity (30% Light, 40% Medium, 30% Far) and orthographic similarity (Light 20%, Medium 60%, Far 20%). About 25% should: replace random vowels with different vowels and delete a random letter.",
            &l,
        );
        assert!(v.valid && v.issues.is_empty(), "{v:?}");
        let second =
            "Create ten variations of {name} that sound alike (Light 30%) and look alike. 25% per rule: swap vowels.";
        let v = static_validate(second, &l);
        assert_eq!(
            v.issues,
            [
                "Exact number of variations: 12.",
                "Phonetic similarity: 30% Light, 40% Medium.",
                "Orthographic similarity: 20% Light.",
                "Apply these rule-based transformations: Replace random vowels with different vowels; Delete a random letter."
            ]
        );
        assert_eq!(
            append_hints(second, &v.issues),
            "Create ten variations of {name} that sound alike (Light 30%) and look alike. 25% per rule: swap vowels.\n[VALIDATION HINTS]: Exact number of variations: 12.; Phonetic similarity: 30% Light, 40% Medium.; Orthographic similarity: 20% Light.; Apply these rule-based transformations: Replace random vowels with different vowels; Delete a random letter."
        );
        let v = static_validate("Create 12 variations of John Smith.", &l);
        assert!(!v.valid);
        assert_eq!(v.issues, ["Here is the name that you should generate variations of: {name}"]);
        let v = static_validate(
            "Generate 12 name variations of {name}: 30% Light, 40% Medium, 30% Far phonetic; 20% Light, 60% Medium, 20% Far orthographic. Apply to 25% of them (25% per transformation): Replace random vowels with different vowels; Delete a random letter.",
            &l,
        );
        assert_eq!(v.issues, [ambiguity_sentence(25)]);
        assert!(!static_validate("", &l).valid);
    }

    #[test]
    fn fallback_template_always_passes_and_matches_6_9() {
        let l = QueryLabels {
            variation_count: 8,
            phonetic: distribution(&[("Light", 0.1), ("Medium", 0.3), ("Far", 0.6)]),
            orthographic: distribution(&[("Light", 0.1), ("Medium", 0.5), ("Far", 0.4)]),
            rule_percentage: 14,
            selected_rules: vec![
                "replace_random_consonant_with_random_consonant".into(),
                "initial_only_first_name".into(),
            ],
        };
        let t = fallback_core(&l) + &address_dob_suffix(false);
        assert!(t.starts_with("The following name is the seed name to generate variations for: {name}. Generate 8 variations of the name {name}, ensuring phonetic similarity: 10% Light, 30% Medium, 60% Far, and orthographic similarity: 10% Light, 50% Medium, 40% Far, and also include 14% of variations that follow: Additionally, generate variations that perform these transformations: Replace random consonants with different consonants, and Use first name initial with last name. The following address is the seed country/city to generate address variations for: {address}. Generate unique real addresses within the specified country/city for each variation.  The following date of birth is the seed DOB to generate variations for: {dob}.\n\n[ADDITIONAL CONTEXT]:\n- Address variations"), "{t}");
        assert!(t.ends_with("- Each variation must have a different, realistic address and DOB"));
        assert!(static_validate(&t, &l).issues.is_empty());
        let uav = uav_block("michael lawson");
        assert!(uav.starts_with("\n\n[UAV REQUIREMENTS - Phase 3]:\nReturn variations in the NEW structure. For the seed \"michael lawson\" ONLY"));
        assert!(uav.contains("{\n  \"michael lawson\": {\n    \"variations\""));
        assert!(uav.ends_with("\"Missing street direction\"\n"));
    }

    #[test]
    fn weighted_draws_follow_the_table() {
        let mut g = PyRandom::new(11);
        let weights: Vec<f64> = DISTRIBUTIONS.iter().map(|(_, w)| *w).collect();
        let mut counts = [0usize; 9];
        for _ in 0..20_000 {
            counts[weighted_index(&mut g, &weights)] += 1;
        }
        for (c, w) in counts.iter().zip(&weights) {
            let f = *c as f64 / 20_000.0;
            assert!((f - w).abs() < 0.015, "{f} vs {w}");
        }
        assert_eq!(spec_text(&distribution(DISTRIBUTIONS[6].0)), "70% Light, 30% Medium");
        assert_eq!(py_dict(&distribution(&[("Medium", 0.5)])), "{'Medium': 0.5}");
    }

    #[test]
    fn timeout_range() {
        assert_eq!(adaptive_timeout(360.0, 15, 6, 900.0, 900.0), 1620.0);
        assert_eq!(adaptive_timeout(360.0, 15, 15, 900.0, 900.0), 1710.0);
        assert_eq!(adaptive_timeout(0.0, 1, 1, 900.0, 0.0), 120.0);
    }

    #[test]
    fn prompt_is_indented_like_the_reference() {
        let p = generation_prompt(&example_labels());
        assert!(p.starts_with("You are to produce a *natural-language request template*"));
        assert!(p.contains("\n        PURPOSE CONTEXT:\n"));
        assert!(p.contains("\n\n        TASK INSTRUCTIONS:"));
        assert!(p.contains("should follow these rule-based transformations: Additionally, generate variations that perform these transformations: Replace random vowels with different vowels, and Delete a random letter.."));
    }
}
