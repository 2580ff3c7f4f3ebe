//! Query understanding: what the validator's `query_template` asks for, as structured data.
//!
//! The template comes in three forms (spec validator-round.md 6): the template fallback (fixed
//! text with `30% Light, 40% Medium` specs and the verbatim rule sentence), the exception
//! fallback (Python dict renderings `{'Medium': 0.5}`), and free text written by an LLM, possibly
//! followed by `[VALIDATION HINTS]` that restate what the text left out. The scoring reads the
//! labels (count, level distributions, rules, rule percentage), not the text, so the miner does
//! best by recovering the labels exactly; where it cannot, [`QuerySpec::confidence`] says so and
//! the caller may ask an LLM (see [`crate::llm`]) or fall back to the defaults.
//!
//! Nothing here panics on odd text: unknown phrasing gives defaults, a warning and a lower
//! confidence.

use std::sync::OnceLock;

use miid_scoring::part_score::Targets;
use regex::Regex;

/// What a query asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    /// Rows per seed.
    pub variation_count: u32,
    /// Phonetic level → fraction (`Light`, `Medium`, `Far`).
    pub phonetic: Targets,
    /// Orthographic level → fraction.
    pub orthographic: Targets,
    /// Rule ids (spec rules.md 1), in the order the text names them.
    pub rules: Vec<String>,
    /// Percentage of rows that should follow the rules.
    pub rule_percentage: f64,
    /// The seed named in the UAV block, if any.
    pub uav_seed: Option<String>,
    /// 1.0 when every field was read from the text; lower for each field that fell back to a
    /// default or looked inconsistent.
    pub confidence: f64,
    /// What fell back or looked odd, for logs.
    pub notes: Vec<String>,
    /// Which fields were read from the text (the others hold defaults).
    pub found: Found,
}

/// Which fields of a [`QuerySpec`] the text gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Found {
    pub count: bool,
    pub phonetic: bool,
    pub orthographic: bool,
    pub rules: bool,
    pub rule_percentage: bool,
}

/// Below this the caller should try a second opinion (an LLM) before trusting the parse.
pub const LOW_CONFIDENCE: f64 = 0.75;

/// Defaults when the text says nothing: the reference's default-query labels (validator-round.md 4).
pub const DEFAULT_COUNT: u32 = 10;
pub const DEFAULT_RULE_PERCENTAGE: f64 = 30.0;

impl Default for QuerySpec {
    fn default() -> Self {
        QuerySpec {
            variation_count: DEFAULT_COUNT,
            phonetic: targets(&[("Medium", 1.0)]),
            orthographic: targets(&[("Medium", 1.0)]),
            rules: Vec::new(),
            rule_percentage: DEFAULT_RULE_PERCENTAGE,
            uav_seed: None,
            confidence: 1.0,
            notes: Vec::new(),
            found: Found::default(),
        }
    }
}

impl QuerySpec {
    /// The `rule_based` label as the scoring crate reads it.
    pub fn rule_based_json(&self) -> serde_json::Value {
        serde_json::json!({"selected_rules": self.rules, "rule_percentage": self.rule_percentage})
    }

    /// The query labels in the scoring crate's form.
    pub fn to_scoring_query(&self) -> miid_scoring::kav::Query {
        miid_scoring::kav::Query {
            variation_count: self.variation_count,
            phonetic_similarity: self.phonetic.clone(),
            orthographic_similarity: self.orthographic.clone(),
            rule_based: Some(self.rule_based_json()),
        }
    }

    fn lower_confidence(&mut self, factor: f64, note: impl Into<String>) {
        self.confidence *= factor;
        self.notes.push(note.into());
    }
}

/// Level → fraction from pairs.
pub fn targets(pairs: &[(&str, f64)]) -> Targets {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// Which similarity a run of level percentages describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Phonetic,
    Orthographic,
}

/// One `30% Light` (or `Light 30%`, `'Light': 0.3`) found in the text.
#[derive(Debug, Clone, Copy)]
struct LevelPct {
    start: usize,
    end: usize,
    level: &'static str,
    fraction: f64,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

fn level_name(s: &str) -> &'static str {
    match s.to_ascii_lowercase().as_str() {
        "light" => "Light",
        "medium" => "Medium",
        _ => "Far",
    }
}

/// Every level percentage in `text`, in text order, overlapping matches dropped.
fn level_percentages(text: &str) -> Vec<LevelPct> {
    static PCT_LEVEL: OnceLock<Regex> = OnceLock::new();
    static LEVEL_PCT: OnceLock<Regex> = OnceLock::new();
    static DICT: OnceLock<Regex> = OnceLock::new();
    let pct_level = re(
        &PCT_LEVEL,
        r"(?i)(\d{1,3}(?:\.\d+)?)\s*%\s*(?:of\s+(?:them\s+)?(?:as\s+)?|as\s+|are\s+|is\s+)?\b(light|medium|far)\b",
    );
    let level_pct = re(&LEVEL_PCT, r"(?i)\b(light|medium|far)\b\s*(?:[:=(\-]|at|of)?\s*(\d{1,3}(?:\.\d+)?)\s*%");
    let dict = re(&DICT, r#"(?i)['"](light|medium|far)['"]\s*:\s*(\d+(?:\.\d+)?)"#);
    let mut found: Vec<LevelPct> = Vec::new();
    for c in pct_level.captures_iter(text) {
        let m = c.get(0).expect("match");
        if let Ok(p) = c[1].parse::<f64>() {
            found.push(LevelPct { start: m.start(), end: m.end(), level: level_name(&c[2]), fraction: p / 100.0 });
        }
    }
    for c in level_pct.captures_iter(text) {
        let m = c.get(0).expect("match");
        if let Ok(p) = c[2].parse::<f64>() {
            found.push(LevelPct { start: m.start(), end: m.end(), level: level_name(&c[1]), fraction: p / 100.0 });
        }
    }
    for c in dict.captures_iter(text) {
        let m = c.get(0).expect("match");
        if let Ok(f) = c[2].parse::<f64>() {
            found.push(LevelPct { start: m.start(), end: m.end(), level: level_name(&c[1]), fraction: f });
        }
    }
    found.sort_by_key(|p| (p.start, std::cmp::Reverse(p.end)));
    let mut out: Vec<LevelPct> = Vec::new();
    for p in found {
        if out.last().is_none_or(|last| p.start >= last.end) {
            out.push(p);
        }
    }
    out
}

const PHONETIC_WORDS: &[&str] = &["phonetic", "sound", "pronunciation"];
const ORTHOGRAPHIC_WORDS: &[&str] = &["orthographic", "visual", "spelling", "look", "written"];

/// The last similarity keyword in `gap` and how far its end is from the end of `gap`.
fn last_kind(gap: &str) -> Option<(Kind, usize)> {
    let lower = gap.to_lowercase();
    let find = |words: &[&str]| words.iter().filter_map(|w| lower.rfind(w).map(|i| i + w.len())).max();
    let best = match (find(PHONETIC_WORDS), find(ORTHOGRAPHIC_WORDS)) {
        (Some(p), Some(o)) => Some(if p > o { (Kind::Phonetic, p) } else { (Kind::Orthographic, o) }),
        (Some(p), None) => Some((Kind::Phonetic, p)),
        (None, Some(o)) => Some((Kind::Orthographic, o)),
        (None, None) => None,
    };
    best.map(|(k, end)| (k, lower.len() - end))
}

/// The first similarity keyword in `gap` and where it starts.
fn first_kind(gap: &str) -> Option<(Kind, usize)> {
    let lower = gap.to_lowercase();
    let find = |words: &[&str]| words.iter().filter_map(|w| lower.find(w)).min();
    match (find(PHONETIC_WORDS), find(ORTHOGRAPHIC_WORDS)) {
        (Some(p), Some(o)) => Some(if p < o { (Kind::Phonetic, p) } else { (Kind::Orthographic, o) }),
        (Some(p), None) => Some((Kind::Phonetic, p)),
        (None, Some(o)) => Some((Kind::Orthographic, o)),
        (None, None) => None,
    }
}

/// Text between two level percentages that keeps them in one run (`, `, ` and `, parentheses).
fn joins_run(gap: &str) -> bool {
    let words: Vec<&str> = gap
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '&' | '+' | '/' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    gap.len() <= 16 && words.iter().all(|w| matches!(w.to_lowercase().as_str(), "and" | "or"))
}

/// Where a clause ends: the keyword of an earlier clause must not claim a run after it.
fn after_last_separator(gap: &str) -> &str {
    let cut = [";", ". ", "\n", "?"].iter().filter_map(|s| gap.rfind(s).map(|i| i + s.len())).max().unwrap_or(0);
    &gap[cut..]
}

fn before_first_separator(gap: &str) -> &str {
    let cut = [";", ". ", "\n", "?"].iter().filter_map(|s| gap.find(s)).min().unwrap_or(gap.len());
    &gap[..cut]
}

/// Runs of level percentages with the similarity each describes, in text order.
fn similarity_runs(text: &str) -> Vec<(Kind, Targets, usize)> {
    let pcts = level_percentages(text);
    let mut runs: Vec<Vec<LevelPct>> = Vec::new();
    for p in pcts {
        match runs.last_mut() {
            Some(run) if joins_run(&text[run.last().expect("non-empty").end..p.start]) => run.push(p),
            _ => runs.push(vec![p]),
        }
    }
    let mut out = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let start = run[0].start;
        let end = run.last().expect("non-empty").end;
        let prev_end = if i == 0 { 0 } else { runs[i - 1].last().expect("non-empty").end };
        let next_start = runs.get(i + 1).map_or(text.len(), |r| r[0].start);
        let before = after_last_separator(&text[prev_end..start]);
        let after = before_first_separator(&text[end..next_start]);
        // The keyword before the run names it ("phonetic similarity: 30% Light"); else the
        // one after it ("30% Light phonetic").
        let Some(kind) = last_kind(before).or_else(|| first_kind(after)).map(|(k, _)| k) else { continue };
        let mut t = Targets::new();
        for p in run {
            t.entry(p.level.to_owned()).or_insert(p.fraction);
        }
        out.push((kind, t, start));
    }
    out
}

/// Start of the `[VALIDATION HINTS]` section, if any (its content restates the labels).
fn hints_start(text: &str) -> Option<usize> {
    text.find("[VALIDATION HINTS]")
}

/// The part of the template that describes names: everything before the address/DOB suffix
/// and the UAV/image blocks (their percentages and words must not be read as name specs).
pub fn name_section(text: &str) -> &str {
    let cut = [
        "The following address is the seed country/city",
        "[ADDITIONAL CONTEXT]",
        "[UAV REQUIREMENTS",
        "[IMAGE VARIATION REQUIREMENTS]",
    ]
    .iter()
    .filter_map(|m| text.find(m))
    .min()
    .unwrap_or(text.len());
    &text[..cut]
}

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("dozen", 12),
];

fn parse_count(text: &str) -> Option<u32> {
    static HINT: OnceLock<Regex> = OnceLock::new();
    static NEAR: OnceLock<Regex> = OnceLock::new();
    let hint = re(&HINT, r"(?i)exact number of variations:\s*(\d+)");
    if let Some(c) = hint.captures(text) {
        return c[1].parse().ok();
    }
    // "Generate 8 variations", "8 name variations", "exactly eight distinct variations".
    let near = re(
        &NEAR,
        r"(?i)\b(\d{1,3}|dozen|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)\s+(?:(?:unique|distinct|different|alternative|alternate|name|total|spelling|new)\s+){0,3}(?:variations|variants|versions|alternatives|spellings)\b",
    );
    let c = near.captures(text)?;
    let w = c[1].to_lowercase();
    w.parse().ok().or_else(|| NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v))
}

/// The rule percentage: the hint sentence first, then a percentage next to rule words.
fn parse_rule_percentage(text: &str, level_spans: &[(usize, usize)]) -> Option<f64> {
    static HINT: OnceLock<Regex> = OnceLock::new();
    static PCT: OnceLock<Regex> = OnceLock::new();
    let hint = re(
        &HINT,
        r"(?i)(?:approximately\s+(\d{1,3}(?:\.\d+)?)%\s+of\s+the\s+variations\s+should\s+follow|we\s+want\s+(\d{1,3}(?:\.\d+)?)%\s+of\s+the\s+name\s+variations)",
    );
    if let Some(c) = hint.captures_iter(text).last() {
        let m = c.get(1).or_else(|| c.get(2)).expect("one group");
        return m.as_str().parse().ok();
    }
    let pct = re(&PCT, r"(\d{1,3}(?:\.\d+)?)\s*%");
    let mut standalone = Vec::new();
    for c in pct.captures_iter(text) {
        let m = c.get(0).expect("match");
        if level_spans.iter().any(|&(s, e)| m.start() >= s && m.start() < e) {
            continue;
        }
        let Ok(v) = c[1].parse::<f64>() else { continue };
        let from = text.floor_char_boundary(m.start().saturating_sub(80));
        let to = text.ceil_char_boundary((m.end() + 80).min(text.len()));
        let window = text[from..to].to_lowercase();
        let window_ok = |w: &str| window.contains(w);
        if ["rule", "transformation", "follow"].iter().any(|w| window_ok(w)) {
            return Some(v);
        }
        standalone.push(v);
    }
    standalone.first().copied()
}

/// Words an LLM uses for a rule when it paraphrases the description (all must occur in one
/// clause); the validator's own keyword lists (rules.md 2.6) are tried first.
const RULE_ALIASES: &[(&str, &[&[&str]])] = &[
    ("replace_spaces_with_random_special_characters", &[&["space", "special"]]),
    ("replace_double_letters_with_single_letter", &[&["double", "single"]]),
    ("replace_random_vowel_with_random_vowel", &[&["vowel", "replac"], &["vowel", "substitut"], &["vowel", "swap"]]),
    (
        "replace_random_consonant_with_random_consonant",
        &[&["consonant", "replac"], &["consonant", "substitut"], &["consonant", "different"]],
    ),
    ("swap_adjacent_consonants", &[&["swap", "consonant"], &["transpos", "consonant"]]),
    ("swap_adjacent_syllables", &[&["syllable"]]),
    ("swap_random_letter", &[&["swap", "letter"], &["transpos", "letter"]]),
    ("delete_random_letter", &[&["delet", "letter"], &["drop", "letter"], &["omit", "letter"]]),
    ("remove_random_vowel", &[&["remov", "vowel"], &["drop", "vowel"], &["omit", "vowel"]]),
    ("remove_random_consonant", &[&["remov", "consonant"], &["drop", "consonant"], &["omit", "consonant"]]),
    ("remove_all_spaces", &[&["remov", "space"], &["no space"], &["without space"]]),
    ("duplicate_random_letter_as_double_letter", &[&["duplicat", "letter"], &["doubl", "letter"]]),
    ("insert_random_letter", &[&["insert", "letter"], &["add", "extra letter"]]),
    ("add_random_leading_title", &[&["title", "prefix"], &["leading title"], &["mr."]]),
    ("add_random_trailing_title", &[&["title", "suffix"], &["trailing title"], &["jr."]]),
    ("initial_only_first_name", &[&["first name", "initial"], &["first", "initial", "last"]]),
    ("shorten_name_to_initials", &[&["initials"]]),
    ("shorten_name_to_abbreviations", &[&["abbreviat"]]),
    ("name_parts_permutations", &[&["reorder"], &["permut"], &["order of", "name"], &["rearrang"]]),
];

/// The rules the text names, in text order. Exact descriptions (fallback sentence, hints)
/// first; then clause-level keyword matches for paraphrases.
fn parse_rules(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    let mut exact_spans: Vec<(usize, usize)> = Vec::new();
    for id in miid_scoring::rules::selectable_rules() {
        let desc = miid_scoring::rules::description(id).to_lowercase();
        for (pos, m) in lower.match_indices(&desc) {
            if !found.iter().any(|(_, f)| *f == id) {
                found.push((pos, id));
            }
            exact_spans.push((pos, pos + m.len()));
        }
    }
    // Paraphrases: clauses of the name section, split where one instruction ends.
    let mut offset = 0;
    for clause in lower.split_inclusive([';', ',', '.', '\n', ':']) {
        let start = offset;
        offset += clause.len();
        // A clause inside a verbatim description says nothing more ("Replace double letters
        // with a single letter" is no request to duplicate letters).
        if exact_spans.iter().any(|&(s, e)| start < e && s < offset) {
            continue;
        }
        for (id, alternatives) in RULE_ALIASES {
            if found.iter().any(|(_, f)| f == id) {
                continue;
            }
            let keywords = miid_scoring::rules::description_keywords(&miid_scoring::rules::description(id));
            let by_keywords = keywords.iter().all(|k| clause.contains(k.as_str()));
            let by_alias = alternatives.iter().any(|words| words.iter().all(|w| clause.contains(w)));
            if by_keywords || by_alias {
                found.push((start, id));
            }
        }
    }
    found.sort_by_key(|(p, _)| *p);
    let mut out: Vec<String> = Vec::new();
    for (_, id) in found {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    out
}

/// Parses a template. Never fails: what it cannot read falls back to the defaults, with a
/// warning and a lower confidence.
pub fn parse(template: &str) -> QuerySpec {
    let mut spec = QuerySpec { uav_seed: uav_seed(template), ..QuerySpec::default() };
    let names = name_section(template);
    let hints_at = hints_start(names);

    match parse_count(names) {
        Some(n) if (1..=100).contains(&n) => {
            spec.variation_count = n;
            spec.found.count = true;
        }
        Some(n) => spec.lower_confidence(0.5, format!("variation count {n} out of range; using {DEFAULT_COUNT}")),
        None => spec.lower_confidence(0.5, format!("no variation count found; using {DEFAULT_COUNT}")),
    }

    let runs = similarity_runs(names);
    for kind in [Kind::Phonetic, Kind::Orthographic] {
        let mut merged: Option<Targets> = None;
        // Body first, then hints (which restate the labels, so they win on a conflict).
        for (k, t, at) in &runs {
            if *k != kind {
                continue;
            }
            let in_hints = hints_at.is_some_and(|h| *at >= h);
            match &mut merged {
                None => merged = Some(t.clone()),
                Some(m) if in_hints => {
                    for (level, f) in t {
                        m.insert(level.clone(), *f);
                    }
                }
                Some(_) => {}
            }
        }
        let label = if kind == Kind::Phonetic { "phonetic" } else { "orthographic" };
        let Some(mut t) = merged else {
            spec.lower_confidence(0.6, format!("no {label} distribution found; using 100% Medium"));
            continue;
        };
        // Keep the reference's key order.
        t.sort_by_cached_key(|k, _| ["Light", "Medium", "Far"].iter().position(|l| l == k));
        let sum: f64 = t.values().sum();
        if (sum - 1.0).abs() > 0.02 {
            spec.lower_confidence(0.8, format!("{label} distribution sums to {sum:.2}"));
        }
        match kind {
            Kind::Phonetic => (spec.phonetic, spec.found.phonetic) = (t, true),
            Kind::Orthographic => (spec.orthographic, spec.found.orthographic) = (t, true),
        }
    }

    spec.rules = parse_rules(names);
    spec.found.rules = !spec.rules.is_empty();
    let level_spans: Vec<(usize, usize)> = level_percentages(names).iter().map(|p| (p.start, p.end)).collect();
    match parse_rule_percentage(names, &level_spans) {
        Some(p) if (0.0..=100.0).contains(&p) => {
            spec.rule_percentage = p;
            spec.found.rule_percentage = true;
        }
        _ if spec.rules.is_empty() => {}
        _ => spec.lower_confidence(0.8, "no rule percentage found; using 30%"),
    }
    let lower = names.to_lowercase();
    if spec.rules.is_empty() && (lower.contains("transformation") || lower.contains("rule")) {
        spec.lower_confidence(0.7, "the text mentions rules but none was recognised");
    }
    if spec.confidence < 1.0 {
        tracing::warn!(confidence = spec.confidence, notes = ?spec.notes, "query template only partly understood");
    }
    spec
}

/// The seed named in the UAV block (`For the seed "NAME" ONLY`).
pub fn uav_seed(template: &str) -> Option<String> {
    let start = template.find("For the seed \"")? + "For the seed \"".len();
    let len = template[start..].find('"')?;
    Some(template[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUFFIX: &str = " The following address is the seed country/city to generate address variations for: {address}. Generate unique real addresses within the specified country/city for each variation.  The following date of birth is the seed DOB to generate variations for: {dob}.\n\n[ADDITIONAL CONTEXT]:\n- Address variations should be realistic addresses within the specified country/city\n- DOB variations ATLEAST one in each category (±1 day, ±3 days, ±30 days, ±90 days, ±365 days, year+month only)\n- For year+month, generate the exact DOB without day\n- Each variation must have a different, realistic address and DOB";

    const UAV: &str = "\n\n[UAV REQUIREMENTS - Phase 3]:\nReturn variations in the NEW structure. For the seed \"michael lawson\" ONLY, use this structure:\n{\n  \"michael lawson\": {\n    \"variations\": [[\"name_var\", \"dob_var\", \"addr_var\"], ...],  # Your normal variations\n    \"uav\": {\n      \"address\": \"address_variant\",  # REQUIRED: Address that looks valid but may fail validation\n      \"label\": \"explanation\",        # REQUIRED: Why this could be a valid address\n      \"latitude\": float,              # REQUIRED: Latitude coordinates\n      \"longitude\": float              # REQUIRED: Longitude coordinates\n    }\n  }\n}\n\nUAV = Unknown Attack Vector: An address from the seed's country/city/region that looks legitimate but might fail geocoding.\nExamples: \"123 Main Str\" (typo), \"456 Oak Av\" (abbreviation), \"789 1st St\" (missing direction)\nLabel examples: \"Common typo\", \"Local abbreviation\", \"Missing street direction\"\n";

    struct Case {
        what: &'static str,
        text: String,
        count: u32,
        phon: &'static [(&'static str, f64)],
        orth: &'static [(&'static str, f64)],
        rules: &'static [&'static str],
        pct: f64,
    }

    fn fallback(vc: u32, phon: &str, orth: &str, p: u32, rules: &[&str]) -> String {
        let descs: Vec<String> = rules.iter().map(|r| miid_scoring::rules::description(r)).collect();
        format!(
            "The following name is the seed name to generate variations for: {{name}}. Generate {vc} variations of the name {{name}}, ensuring phonetic similarity: {phon}, and orthographic similarity: {orth}, and also include {p}% of variations that follow: {}",
            miid_scoring::rules::rule_sentence(&descs)
        )
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                what: "6.9 complete example",
                text: fallback(
                    8,
                    "10% Light, 30% Medium, 60% Far",
                    "10% Light, 50% Medium, 40% Far",
                    14,
                    &["replace_random_consonant_with_random_consonant", "initial_only_first_name"],
                ) + SUFFIX
                    + UAV,
                count: 8,
                phon: &[("Light", 0.1), ("Medium", 0.3), ("Far", 0.6)],
                orth: &[("Light", 0.1), ("Medium", 0.5), ("Far", 0.4)],
                rules: &["replace_random_consonant_with_random_consonant", "initial_only_first_name"],
                pct: 14.0,
            },
            Case {
                what: "6.9 second core",
                text: fallback(11, "70% Light, 30% Medium", "20% Light, 60% Medium, 20% Far", 13, &[
                    "shorten_name_to_abbreviations",
                ]) + SUFFIX,
                count: 11,
                phon: &[("Light", 0.7), ("Medium", 0.3)],
                orth: &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
                rules: &["shorten_name_to_abbreviations"],
                pct: 13.0,
            },
            Case {
                what: "6.9 third core",
                text: fallback(13, "100% Medium", "100% Medium", 59, &[
                    "add_random_trailing_title",
                    "shorten_name_to_initials",
                ]) + SUFFIX,
                count: 13,
                phon: &[("Medium", 1.0)],
                orth: &[("Medium", 1.0)],
                rules: &["add_random_trailing_title", "shorten_name_to_initials"],
                pct: 59.0,
            },
            Case {
                what: "exception fallback (python dicts)",
                text: "The following name is the seed name to generate variations for: {name}. Generate 15 variations of the name {name}, ensuring phonetic similarity: {'Medium': 0.5}, and orthographic similarity: {'Medium': 0.5}, and also include 30% of variations that follow: Additionally, generate variations that perform these transformations: Swap adjacent consonants, Delete a random letter, and Reorder name parts..".to_owned() + SUFFIX,
                count: 15,
                phon: &[("Medium", 0.5)],
                orth: &[("Medium", 0.5)],
                rules: &["swap_adjacent_consonants", "delete_random_letter", "name_parts_permutations"],
                pct: 30.0,
            },
            Case {
                what: "6.6 first LLM candidate (no hints)",
                text: "Generate 12 variations of the name {name}. Include phonetic similarity (30% Light, 40% Medium, 30% Far) and orthographic similarity (Light 20%, Medium 60%, Far 20%). About 25% should: replace random vowels with different vowels and delete a random letter.".to_owned() + SUFFIX,
                count: 12,
                phon: &[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)],
                orth: &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
                rules: &["replace_random_vowel_with_random_vowel", "delete_random_letter"],
                pct: 25.0,
            },
            Case {
                what: "6.6 second LLM candidate with its hints",
                text: "Create ten variations of {name} that sound alike (Light 30%) and look alike. 25% per rule: swap vowels.\n[VALIDATION HINTS]: Exact number of variations: 12.; Phonetic similarity: 30% Light, 40% Medium.; Orthographic similarity: 20% Light.; Apply these rule-based transformations: Replace random vowels with different vowels; Delete a random letter.".to_owned() + SUFFIX,
                count: 12,
                // The hint is a prefix (quirk): Far is not recoverable from this text.
                phon: &[("Light", 0.3), ("Medium", 0.4)],
                orth: &[("Light", 0.2)],
                rules: &["replace_random_vowel_with_random_vowel", "delete_random_letter"],
                pct: 25.0,
            },
            Case {
                what: "6.6 fourth LLM candidate (keywords after the numbers)",
                text: "Generate 12 name variations of {name}: 30% Light, 40% Medium, 30% Far phonetic; 20% Light, 60% Medium, 20% Far orthographic. Apply to 25% of them (25% per transformation): Replace random vowels with different vowels; Delete a random letter.\n[VALIDATION HINTS]: We want 25% of the name variations to be rule-based. Each variation should have at least one transformation rule applied—some may have only one rule, while others may have multiple. Importantly, all listed rules must be represented across the set of rule-based name variations.".to_owned() + SUFFIX,
                count: 12,
                phon: &[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)],
                orth: &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
                rules: &["replace_random_vowel_with_random_vowel", "delete_random_letter"],
                pct: 25.0,
            },
            Case {
                what: "LLM example-format line (6.3)",
                text: "Generate 9 variations of {name}. ensuring phonetic similarity (20% Light, 60% Medium, 20% Far) and orthographic similarity (50% Light, 50% Medium). Approximately 40% of the total 9 variations should follow these rule-based transformations: Additionally, generate variations that: Add a title prefix (Mr., Dr., etc.)..".to_owned() + SUFFIX + UAV,
                count: 9,
                phon: &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
                orth: &[("Light", 0.5), ("Medium", 0.5)],
                rules: &["add_random_leading_title"],
                pct: 40.0,
            },
            Case {
                what: "a dozen",
                text: "Write a dozen alternative spellings of {name}: sound-alike 100% Medium, visually 100% Far.".to_owned(),
                count: 12,
                phon: &[("Medium", 1.0)],
                orth: &[("Far", 1.0)],
                rules: &[],
                pct: 30.0,
            },
            Case {
                what: "paraphrased rules",
                text: "Please produce exactly 7 distinct variations of {name}. Sound-alike: 100% Far. Visual similarity: 70% Light, 30% Medium. Around 20% of the variations should drop a vowel, and some should reorder the name parts.".to_owned(),
                count: 7,
                phon: &[("Far", 1.0)],
                orth: &[("Light", 0.7), ("Medium", 0.3)],
                rules: &["remove_random_vowel", "name_parts_permutations"],
                pct: 20.0,
            },
        ]
    }

    #[test]
    fn every_template_form_of_the_spec() {
        for c in cases() {
            let s = parse(&c.text);
            assert_eq!(s.variation_count, c.count, "{}", c.what);
            assert_eq!(s.phonetic, targets(c.phon), "{}", c.what);
            assert_eq!(s.orthographic, targets(c.orth), "{}", c.what);
            assert_eq!(s.rules, c.rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(), "{}", c.what);
            assert_eq!(s.rule_percentage, c.pct, "{}", c.what);
        }
    }

    #[test]
    fn uav_seed_is_read_from_the_block() {
        let s = parse(&(fallback(8, "100% Medium", "100% Medium", 20, &["remove_all_spaces"]) + SUFFIX + UAV));
        assert_eq!(s.uav_seed.as_deref(), Some("michael lawson"));
        assert_eq!(s.confidence, 1.0, "{:?}", s.notes);
        assert_eq!(parse("Generate 8 variations of {name}").uav_seed, None);
    }

    #[test]
    fn every_generated_fallback_round_parses_exactly() {
        // Every distribution of validator-round.md 4 and every selectable rule, in the template
        // fallback form.
        let dists: &[&[(&str, f64)]] = &[
            &[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)],
            &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
            &[("Light", 0.1), ("Medium", 0.3), ("Far", 0.6)],
            &[("Light", 0.5), ("Medium", 0.5)],
            &[("Light", 0.1), ("Medium", 0.5), ("Far", 0.4)],
            &[("Medium", 1.0)],
            &[("Light", 0.7), ("Medium", 0.3)],
            &[("Far", 1.0)],
            &[("Light", 1.0)],
        ];
        let render = |d: &[(&str, f64)]| {
            d.iter().map(|(l, f)| format!("{}% {l}", (f * 100.0).round() as u32)).collect::<Vec<_>>().join(", ")
        };
        let rules = miid_scoring::rules::selectable_rules();
        for (i, p) in dists.iter().enumerate() {
            for (j, o) in dists.iter().enumerate() {
                let picked: Vec<&str> =
                    (0..1 + (i + j) % 3).map(|k| rules[(i * 7 + j * 3 + k * 5) % rules.len()]).collect();
                let vc = 6 + ((i + j) % 10) as u32;
                let pct = 10 + ((i * 9 + j) % 51) as u32;
                let s = parse(&(fallback(vc, &render(p), &render(o), pct, &picked) + SUFFIX + UAV));
                assert_eq!(s.variation_count, vc);
                assert_eq!(s.phonetic, targets(p));
                assert_eq!(s.orthographic, targets(o));
                assert_eq!(s.rules, picked, "{p:?} {o:?}");
                assert_eq!(s.rule_percentage, f64::from(pct));
                assert_eq!(s.confidence, 1.0, "{:?}", s.notes);
            }
        }
    }

    #[test]
    fn validator_sim_default_template() {
        let t = "The following name is the seed name to generate variations for: {name}. Generate 9 variations of the name {name}, ensuring phonetic similarity: {'Medium': 0.5}, and orthographic similarity: {'Medium': 0.5}, and also include 30% of variations that follow: Additionally, generate variations that perform these transformations: Replace random vowels with different vowels. The following address is the seed country/city to generate address variations for: {address}.";
        let s = parse(t);
        assert_eq!(s.variation_count, 9);
        assert_eq!(s.phonetic, targets(&[("Medium", 0.5)]));
        assert_eq!(s.rules, ["replace_random_vowel_with_random_vowel"]);
        assert_eq!(s.rule_percentage, 30.0);
    }

    #[test]
    fn unknown_text_gives_defaults_and_low_confidence() {
        for t in ["", "hello", "%%%% 999% Light ;;; {'Far': x}", "Generate 0 variations", "\u{0}\u{10FFFF}"] {
            let s = parse(t);
            assert_eq!(s.variation_count, DEFAULT_COUNT, "{t:?}");
            assert!(s.confidence < LOW_CONFIDENCE, "{t:?}: {}", s.confidence);
        }
    }
}
