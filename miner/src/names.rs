//! Name variations that score: a candidate generator and a selector aimed at the validator's
//! name quality (spec kav-scoring.md 4, 5; rules.md).
//!
//! How the validator scores a Latin name, and what follows for the miner:
//! - Rows that satisfy a requested rule leave the similarity pool and count towards the rule
//!   score `q·d` (C compliant rows against `E = max(1, int(rows·p))`, d = rules met / effective
//!   rules). So exactly E rows (or as few as cover every rule) are built by the rule
//!   transformations, preferring one row that satisfies several rules at once; every other
//!   row is checked *not* to satisfy a rule by accident.
//! - The other rows are split into first-word and last-word lists and each list is scored on
//!   its own: the share of variations per similarity bin must match `int(t·n)` per level
//!   (overfilling a level collapses its credit, Q11; a surplus row is better left unmatched),
//!   plus length and uniqueness. So first and last words are chosen separately and then paired.
//! - The phonetic similarity weights three algorithms with weights drawn from a seed the miner
//!   cannot know (a salted hash of the name, Q1): a variation's bin depends only on which of
//!   the three codes match. The selector maximises the *expected* distribution quality over a
//!   fixed sample of the 10,000 possible seeds; orthographic similarity is deterministic.
//! - Non-Latin names are scored phonetic-only against their transliteration (5.5), so their
//!   variations are Latin-script variations of the transliteration.

use std::collections::HashSet;
use std::sync::OnceLock;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use miid_scoring::orthographic;
use miid_scoring::part_score::{ORTHOGRAPHIC_BINS, PHONETIC_BINS, Targets};
use miid_scoring::phonetic::{Algorithm, Codes, Weights};
use miid_scoring::rules;

use crate::query::QuerySpec;

/// How many of the 10,000 phonetic seeds the selector averages over.
const SEED_SAMPLE: usize = 120;

/// Bin index: 0 Light, 1 Medium, 2 Far, 3 none (a gap, below Far, or Q3's 1.0000000000000002).
fn bin_of(x: f64, bins: &miid_scoring::part_score::Bins) -> u8 {
    use miid_scoring::part_score::Level;
    for (i, level) in Level::ORDER.iter().enumerate() {
        let (lo, hi) = bins.range(*level);
        if lo <= x && x <= hi {
            return i as u8;
        }
    }
    3
}

/// `PHON_BIN[s][mask]`: the phonetic bin of a variation whose matching codes are `mask`
/// (bit 0 Soundex, 1 Metaphone, 2 NYSIIS) under the weights of sampled seed `s`.
fn phonetic_bin_table() -> &'static [[u8; 8]] {
    static TABLE: OnceLock<Vec<[u8; 8]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..SEED_SAMPLE)
            .map(|i| {
                let seed = (i * 10_000 / SEED_SAMPLE + 17) as u32;
                let w = Weights::for_seed(seed);
                let mut row = [3u8; 8];
                for (mask, cell) in row.iter_mut().enumerate() {
                    let p = w.score(|alg| mask & alg_bit(alg) != 0);
                    *cell = bin_of(p, &PHONETIC_BINS);
                }
                row
            })
            .collect()
    })
}

fn alg_bit(alg: Algorithm) -> usize {
    match alg {
        Algorithm::Soundex => 1,
        Algorithm::Metaphone => 2,
        Algorithm::Nysiis => 4,
    }
}

fn mask_of(original: &Codes, candidate: &Codes) -> usize {
    Algorithm::REFERENCE_ORDER.iter().filter(|a| original.get(**a) == candidate.get(**a)).map(|a| alg_bit(*a)).sum()
}

/// A single-word candidate for one name part, with what the scorer will see of it.
#[derive(Debug, Clone)]
struct PartCandidate {
    text: String,
    mask: usize,
    /// Orthographic bin (3 for the phonetic-only scorer, which ignores it).
    obin: u8,
    length: f64,
}

/// The scorer's view of a list of candidates: interchangeable candidates share a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Class {
    mask: usize,
    obin: u8,
    len_key: i64,
}

fn level_targets(t: &Targets) -> [f64; 3] {
    let get = |k: &str| t.get(k).copied().unwrap_or(0.0);
    [get("Light"), get("Medium"), get("Far")]
}

/// `distribution_quality` of the scoring crate on bin counts (same arithmetic).
fn dq(counts: &[usize; 4], n: usize, targets: &[f64; 3]) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut q = 0.0;
    let mut matched = 0;
    for level in 0..3 {
        let t = targets[level];
        if t == 0.0 {
            continue;
        }
        let tc = (t * n as f64) as i64;
        if tc > 0 {
            let r = counts[level] as f64 / tc as f64;
            q += t * if r <= 1.0 { r } else { 1.0 - (-(r - 1.0)).exp() };
            matched += counts[level];
        }
    }
    let unmatched = n.saturating_sub(matched);
    if unmatched > 0 {
        q = f64::max(0.0, q - 0.1 * (unmatched as f64 / n as f64));
    }
    q
}

/// Expected value of the similarity + length part of the part score for a multiset of classes.
struct Objective<'a> {
    phon: [f64; 3],
    orth: Option<[f64; 3]>,
    classes: &'a [(Class, f64)],
}

impl Objective<'_> {
    fn value(&self, picks: &[usize]) -> f64 {
        let n = picks.len();
        if n == 0 {
            return 0.0;
        }
        let table = phonetic_bin_table();
        let mut phon = 0.0;
        for row in table {
            let mut counts = [0usize; 4];
            for &p in picks {
                counts[row[self.classes[p].0.mask] as usize] += 1;
            }
            phon += dq(&counts, n, &self.phon);
        }
        phon /= table.len() as f64;
        let sim = match &self.orth {
            Some(ot) => {
                let mut counts = [0usize; 4];
                for &p in picks {
                    counts[self.classes[p].0.obin as usize] += 1;
                }
                (phon + dq(&counts, n, ot)) / 2.0
            }
            None => phon,
        };
        let sim = if sim < 0.2 { sim * 0.1 } else { sim };
        let length = picks.iter().map(|&p| self.classes[p].1).sum::<f64>() / n as f64;
        0.6 * sim + 0.15 * length
    }
}

const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u'];
/// Consonants that sound alike (Soundex classes), for sound-preserving substitutions.
const SOUND_GROUPS: &[&str] = &["bpfv", "cgjkqsxz", "dt", "l", "mn", "r"];
const LETTERS: &str = "abcdefghijklmnoprstuvwyz";

fn is_vowel(c: char) -> bool {
    VOWELS.contains(&c)
}

/// One random edit of `w` (lowercase letters): sound-alike or random substitution, deletion,
/// insertion, doubling or an adjacent swap.
fn random_edit(w: &[char], rng: &mut dyn rand::RngCore) -> Vec<char> {
    let mut c = w.to_vec();
    if c.is_empty() {
        return c;
    }
    let i = rng.random_range(0..c.len());
    match rng.random_range(0..7) {
        0 | 1 => {
            // Sound-alike substitution.
            let ch = c[i];
            let pool: Vec<char> = if is_vowel(ch) {
                VOWELS.iter().copied().chain(['y']).filter(|v| *v != ch).collect()
            } else {
                SOUND_GROUPS
                    .iter()
                    .find(|g| g.contains(ch))
                    .map(|g| g.chars().filter(|x| *x != ch).collect())
                    .unwrap_or_default()
            };
            if let Some(x) = pool.choose(rng) {
                c[i] = *x;
            }
        }
        2 => {
            let letters: Vec<char> = LETTERS.chars().filter(|x| *x != c[i]).collect();
            c[i] = *letters.choose(rng).expect("letters");
        }
        3 if c.len() > 2 => {
            c.remove(i);
        }
        4 => {
            let x = if rng.random_bool(0.5) {
                *VOWELS.choose(rng).expect("vowels")
            } else {
                *LETTERS.chars().collect::<Vec<_>>().choose(rng).expect("letters")
            };
            c.insert(rng.random_range(0..=c.len()), x);
        }
        5 => {
            let ch = c[i];
            c.insert(i, ch);
        }
        _ if c.len() > 1 => {
            let j = if i + 1 < c.len() { i } else { i - 1 };
            c.swap(j, j + 1);
        }
        _ => {}
    }
    c
}

fn is_clean_word(w: &str) -> bool {
    !w.is_empty() && w.chars().all(char::is_alphabetic) && !orthographic::has_excessive_repetition(w)
}

/// Candidates for one name part. `original` is the part as the scorer holds it (lowercased for
/// Latin names, the transliteration as-is for non-Latin ones); `base` is the lowercase word the
/// edits start from.
fn part_candidates(
    original: &str,
    base: &str,
    orthographic_scored: bool,
    rng: &mut dyn rand::RngCore,
) -> Vec<PartCandidate> {
    let original_codes = Codes::of(original);
    let original_len = original.chars().count();
    let start: Vec<char> = base.chars().collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut push = |text: String, out: &mut Vec<PartCandidate>| {
        if !is_clean_word(&text) || !seen.insert(text.clone()) {
            return;
        }
        let lower = text.to_lowercase();
        let mask = mask_of(&original_codes, &Codes::of(&lower));
        let obin = if orthographic_scored {
            bin_of(orthographic::similarity(original, &lower), &ORTHOGRAPHIC_BINS)
        } else {
            3
        };
        let length = miid_scoring::part_score::length_score(original_len, lower.chars().count()).unwrap_or(0.0);
        out.push(PartCandidate { text, mask, obin, length });
    };
    push(base.to_owned(), &mut out);
    let max_depth = usize::max(4, (start.len() * 4).div_ceil(5));
    for _ in 0..600 {
        let depth = rng.random_range(1..=max_depth);
        let mut w = start.clone();
        for _ in 0..depth {
            w = random_edit(&w, rng);
        }
        push(w.into_iter().collect(), &mut out);
    }
    out
}

/// Picks `n` candidates of one part maximising the expected similarity and length score.
fn select_part(
    candidates: &[PartCandidate],
    n: usize,
    phon: &Targets,
    orth: Option<&Targets>,
    rng: &mut dyn rand::RngCore,
) -> Vec<String> {
    if n == 0 || candidates.is_empty() {
        return Vec::new();
    }
    // Group interchangeable candidates.
    let mut classes: Vec<(Class, f64)> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let class = Class { mask: c.mask, obin: c.obin, len_key: (c.length * 1000.0).round() as i64 };
        match classes.iter().position(|(k, _)| *k == class) {
            Some(p) => members[p].push(i),
            None => {
                classes.push((class, c.length));
                members.push(vec![i]);
            }
        }
    }
    let objective = Objective { phon: level_targets(phon), orth: orth.map(level_targets), classes: &classes };
    let available =
        |picks: &[usize], class: usize| picks.iter().filter(|&&p| p == class).count() < members[class].len();
    // Greedy fill, then best-improvement swaps.
    let mut picks: Vec<usize> = Vec::new();
    while picks.len() < n {
        let best = (0..classes.len())
            .filter(|&c| available(&picks, c))
            .map(|c| {
                let mut trial = picks.clone();
                trial.push(c);
                (c, objective.value(&trial))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((c, _)) => picks.push(c),
            None => break,
        }
    }
    let mut current = objective.value(&picks);
    for _ in 0..40 {
        let mut best: Option<(usize, usize, f64)> = None;
        let distinct: Vec<usize> = {
            let mut d = picks.clone();
            d.sort_unstable();
            d.dedup();
            d
        };
        for &out_class in &distinct {
            let pos = picks.iter().position(|&p| p == out_class).expect("picked");
            for in_class in 0..classes.len() {
                if in_class == out_class || !available(&picks, in_class) {
                    continue;
                }
                let mut trial = picks.clone();
                trial[pos] = in_class;
                let v = objective.value(&trial);
                if v > current + 1e-12 && best.is_none_or(|b| v > b.2) {
                    best = Some((pos, in_class, v));
                }
            }
        }
        match best {
            Some((pos, class, v)) => {
                picks[pos] = class;
                current = v;
            }
            None => break,
        }
    }
    // Concrete members of each picked class, at random.
    let mut used: Vec<usize> = vec![0; classes.len()];
    for m in &mut members {
        m.shuffle(rng);
    }
    picks
        .iter()
        .map(|&c| {
            let i = members[c][used[c]];
            used[c] += 1;
            candidates[i].text.clone()
        })
        .collect()
}

/// Whether `name` is written in the Latin script (the validator's label is not sent, so the
/// miner judges by the letters).
pub fn is_latin(name: &str) -> bool {
    name.chars()
        .filter(|c| c.is_alphabetic())
        .all(|c| c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c) || ('\u{1E00}'..='\u{1EFF}').contains(&c))
}

/// The transliteration the validator is assumed to score non-Latin names against (Unidecode;
/// the reference asks an LLM, Q22), whitespace collapsed.
pub fn transliteration(name: &str) -> String {
    miid_scoring::translit::unidecode(name).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rule-transformed versions of `name` (lowercase), each a candidate for one or more rules.
fn rule_candidates(name: &str, rule_ids: &[&str], rng: &mut dyn rand::RngCore) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let s = |c: &[char]| c.iter().collect::<String>();
    for rule in rule_ids {
        match *rule {
            "replace_spaces_with_random_special_characters" => {
                for sep in ["-", "_", "."] {
                    out.push(words.join(sep));
                }
            }
            "replace_double_letters_with_single_letter"
            | "delete_random_letter"
            | "remove_random_vowel"
            | "remove_random_consonant" => {
                for i in 0..chars.len() {
                    let mut c = chars.clone();
                    c.remove(i);
                    out.push(s(&c));
                }
            }
            "replace_random_vowel_with_random_vowel" | "replace_random_consonant_with_random_consonant" => {
                for i in 0..chars.len() {
                    let ch = chars[i];
                    if !ch.is_ascii_alphabetic() {
                        continue;
                    }
                    let pool: Vec<char> = if is_vowel(ch) {
                        VOWELS.iter().copied().filter(|v| *v != ch).collect()
                    } else {
                        "bcdfghjklmnpqrstvwxz".chars().filter(|v| *v != ch).collect()
                    };
                    for _ in 0..2 {
                        let mut c = chars.clone();
                        c[i] = *pool.choose(rng).expect("pool");
                        out.push(s(&c));
                    }
                }
            }
            "swap_adjacent_consonants" | "swap_adjacent_syllables" | "swap_random_letter" => {
                for i in 0..chars.len().saturating_sub(1) {
                    if chars[i] != chars[i + 1] {
                        let mut c = chars.clone();
                        c.swap(i, i + 1);
                        out.push(s(&c));
                    }
                }
            }
            "remove_all_spaces" => out.push(words.concat()),
            "duplicate_random_letter_as_double_letter" | "insert_random_letter" => {
                for i in 0..chars.len() {
                    if chars[i].is_alphabetic() {
                        let mut c = chars.clone();
                        c.insert(i, chars[i]);
                        out.push(s(&c));
                    }
                }
            }
            "add_random_leading_title" => {
                for t in ["mr.", "dr.", "ms.", "prof.", "sir", "mrs."] {
                    out.push(format!("{t} {name}"));
                }
            }
            "add_random_trailing_title" => {
                for t in ["jr.", "sr.", "phd", "md", "iii"] {
                    out.push(format!("{name} {t}"));
                }
            }
            "initial_only_first_name" if words.len() >= 2 => {
                let i: String = words[0].chars().take(1).collect();
                out.push(format!("{i}. {}", words[1..].join(" ")));
                out.push(format!("{i}.{}", words[1..].join(" ")));
            }
            "shorten_name_to_initials" if words.len() >= 2 => {
                let initials: Vec<String> = words.iter().map(|w| w.chars().take(1).collect()).collect();
                out.push(initials.iter().map(|i| format!("{i}.")).collect::<Vec<_>>().join(" "));
                out.push(initials.iter().map(|i| format!("{i}.")).collect::<String>());
                out.push(initials.concat());
            }
            "shorten_name_to_abbreviations" if words.len() >= 2 => {
                for keep in 1..4 {
                    let ws: Vec<String> = words
                        .iter()
                        .map(|w| {
                            let n = w.chars().count();
                            w.chars().take(keep.min(n.saturating_sub(1)).max(1)).collect()
                        })
                        .collect();
                    out.push(ws.join(" "));
                }
            }
            "name_parts_permutations" if words.len() >= 2 => {
                let mut w: Vec<&str> = words.clone();
                w.reverse();
                out.push(w.join(" "));
                w.rotate_left(1);
                out.push(w.join(" "));
            }
            _ => {}
        }
    }
    out
}

fn non_letters(s: &str) -> usize {
    s.chars().filter(|c| !c.is_alphabetic() && *c != ' ').count()
}

/// Rule rows: a set of strings that satisfy the effective rules, as few as cover them all,
/// topped up to `target` with more compliant strings. Returns the rows and the rules met.
fn rule_rows(name: &str, effective: &[&str], target: usize, rng: &mut dyn rand::RngCore) -> Vec<String> {
    let mut pool = rule_candidates(name, effective, rng);
    pool.shuffle(rng);
    let mut seen = HashSet::new();
    let scored: Vec<(String, Vec<usize>)> = pool
        .into_iter()
        .filter(|c| c != name && non_letters(c) <= 2 && seen.insert(c.clone()))
        .map(|c| {
            let met: Vec<usize> = (0..effective.len()).filter(|&r| rules::evaluate(effective[r], name, &c)).collect();
            (c, met)
        })
        .filter(|(_, met)| !met.is_empty())
        .collect();
    let mut uncovered: HashSet<usize> = (0..effective.len()).collect();
    let mut rows: Vec<String> = Vec::new();
    // Cover every rule, the string that meets most uncovered rules first.
    while !uncovered.is_empty() {
        let best = scored
            .iter()
            .filter(|(c, _)| !rows.contains(c))
            .max_by_key(|(_, met)| met.iter().filter(|r| uncovered.contains(r)).count());
        match best {
            Some((c, met)) if met.iter().any(|r| uncovered.contains(r)) => {
                for r in met {
                    uncovered.remove(r);
                }
                rows.push(c.clone());
            }
            _ => break,
        }
    }
    // Covering costs quantity when it needs more rows than the target: keep the covering set
    // only when q·d is better that way (q = max(0.5, 1.5 − 0.5·C/E) above E).
    if rows.len() > target {
        let k = effective.len() as f64;
        let cover_all = f64::max(0.5, 1.5 - 0.5 * rows.len() as f64 / target as f64);
        let met_with_target: HashSet<usize> = rows[..target]
            .iter()
            .flat_map(|r| scored.iter().find(|(c, _)| c == r).map(|(_, m)| m.clone()).unwrap_or_default())
            .collect();
        let partial = met_with_target.len() as f64 / k;
        if partial >= cover_all {
            rows.truncate(target);
        }
    }
    for (c, _) in &scored {
        if rows.len() >= target {
            break;
        }
        if !rows.contains(c) {
            rows.push(c.clone());
        }
    }
    rows
}

/// Writes `word` in the seed's casing style (title case when the seed word is capitalised).
fn cased(word: &str, like: &str) -> String {
    let capital = like.chars().next().is_some_and(char::is_uppercase);
    if !capital {
        return word.to_owned();
    }
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn title_case_like(s: &str, seed_words: &[&str]) -> String {
    let like = seed_words.first().copied().unwrap_or("");
    s.split(' ').map(|w| cased(w, like)).collect::<Vec<_>>().join(" ")
}

/// `spec.variation_count` distinct name variations of `seed_name`.
pub fn variations(seed_name: &str, spec: &QuerySpec, rng: &mut dyn rand::RngCore) -> Vec<String> {
    let vc = spec.variation_count as usize;
    let seed_words: Vec<&str> = seed_name.split_whitespace().collect();
    if seed_words.is_empty() || vc == 0 {
        return Vec::new();
    }
    let latin = is_latin(seed_name);
    let (scored_name, base_name) = if latin {
        let lower = seed_name.to_lowercase();
        (lower.clone(), lower)
    } else {
        let t = transliteration(seed_name);
        (t.clone(), t.to_lowercase())
    };
    let scored_words: Vec<&str> = scored_name.split_whitespace().collect();
    let base_words: Vec<&str> = base_name.split_whitespace().collect();
    if scored_words.is_empty() {
        return Vec::new();
    }

    // Rule rows (Latin only: the phonetic-only scorer has no rules).
    let effective: Vec<&str> = if latin { rules::effective_rules(&scored_name, &spec.rules) } else { Vec::new() };
    let mut rows: Vec<String> = Vec::new();
    if !effective.is_empty() {
        let target = usize::max(1, (vc as f64 * spec.rule_percentage / 100.0) as usize);
        rows = rule_rows(&scored_name, &effective, target.min(vc), rng);
        rows.truncate(vc);
    }
    let n = vc - rows.len();

    // Part lists.
    let first_c = part_candidates(scored_words[0], base_words[0], latin, rng);
    let orth = latin.then_some(&spec.orthographic);
    let mut firsts = select_part(&first_c, n, &spec.phonetic, orth, rng);
    let mut lasts: Vec<String> = if scored_words.len() >= 2 {
        let l = scored_words.len() - 1;
        let c = part_candidates(scored_words[l], base_words[base_words.len() - 1], latin, rng);
        select_part(&c, n, &spec.phonetic, orth, rng)
    } else {
        Vec::new()
    };
    let middle: Vec<&str> =
        if base_words.len() > 2 { base_words[1..base_words.len() - 1].to_vec() } else { Vec::new() };

    // Pair first and last words: distinct full names, never the seed, never a rule row.
    let mut taken: HashSet<String> = rows.iter().cloned().collect();
    taken.insert(base_name.clone());
    let complies = |v: &str| spec.rules.iter().any(|r| rules::evaluate(r, &scored_name, v));
    let mut plain: Vec<String> = Vec::new();
    for attempt in 0..8 {
        plain.clear();
        let mut ok = true;
        for (i, first) in firsts.iter().enumerate() {
            let mut words = vec![first.clone()];
            words.extend(middle.iter().map(|m| (*m).to_owned()));
            if let Some(l) = lasts.get(i) {
                words.push(l.clone());
            }
            let full = words.join(" ");
            if taken.contains(&full) || plain.contains(&full) || (latin && complies(&full)) {
                ok = false;
            }
            plain.push(full);
        }
        if ok || attempt == 7 {
            break;
        }
        lasts.shuffle(rng);
        if attempt % 2 == 1 {
            firsts.shuffle(rng);
        }
    }
    // Any clash left: replace it with a fresh edit so the row count stays right.
    let mut seen: HashSet<String> = taken;
    let mut out: Vec<String> = rows;
    for full in plain {
        let mut candidate = full;
        let mut tries = 0;
        while seen.contains(&candidate) && tries < 50 {
            let chars: Vec<char> = candidate.chars().collect();
            candidate = random_edit(&chars, rng).into_iter().collect();
            tries += 1;
        }
        seen.insert(candidate.clone());
        out.push(candidate);
    }
    out.shuffle(rng);
    if latin {
        out.iter().map(|v| title_case_like(v, &seed_words)).collect()
    } else {
        out.iter().map(|v| title_case_like(v, &["A"])).collect()
    }
}

/// The validator's name quality for these variations, under one phonetic seed source (the
/// validator's salted hash is unknown; pass a random [`miid_scoring::rng::KeyedSeedSource`]
/// per round for an honest estimate). `None` when the validator would skip the name.
pub fn predicted_quality(
    seed_name: &str,
    variations: &[String],
    spec: &QuerySpec,
    seeds: &dyn miid_scoring::rng::SeedSource,
) -> Option<f64> {
    let lowered: Vec<String> = variations.iter().map(|v| v.to_lowercase()).collect();
    if is_latin(seed_name) {
        let rb = miid_scoring::name_quality::RuleBased::from_json(&spec.rule_based_json());
        miid_scoring::name_quality::variation_quality(
            &seed_name.to_lowercase(),
            &lowered,
            &spec.phonetic,
            &spec.orthographic,
            spec.variation_count,
            rb.as_ref(),
            seeds,
        )
        .ok()
        .map(|q| q.final_score)
    } else {
        let t = transliteration(seed_name);
        let mut rng = miid_scoring::rng::PyRandom::new(0);
        miid_scoring::name_quality::non_latin_quality(
            seed_name,
            &t,
            &lowered,
            &spec.phonetic,
            spec.variation_count,
            seeds,
            &mut rng,
        )
        .ok()
        .map(|q| q.final_score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::targets;
    use miid_scoring::rng::KeyedSeedSource;
    use rand::SeedableRng;

    fn spec(vc: u32, phon: &[(&str, f64)], orth: &[(&str, f64)], rules: &[&str], pct: f64) -> QuerySpec {
        QuerySpec {
            variation_count: vc,
            phonetic: targets(phon),
            orthographic: targets(orth),
            rules: rules.iter().map(|r| r.to_string()).collect(),
            rule_percentage: pct,
            ..QuerySpec::default()
        }
    }

    fn mean_quality(name: &str, s: &QuerySpec, runs: u64) -> f64 {
        let mut total = 0.0;
        for i in 0..runs {
            let mut rng = rand::rngs::StdRng::seed_from_u64(i);
            let v = variations(name, s, &mut rng);
            assert_eq!(v.len(), s.variation_count as usize, "{name}: {v:?}");
            let distinct: HashSet<String> = v.iter().map(|x| x.to_lowercase()).collect();
            assert_eq!(distinct.len(), v.len(), "duplicates for {name}: {v:?}");
            assert!(!distinct.contains(&name.to_lowercase()));
            for x in &v {
                assert!(non_letters(x) <= 2, "{x}");
            }
            let seeds = KeyedSeedSource::with_key(i, i * 31 + 7);
            total += predicted_quality(name, &v, s, &seeds).expect("scored");
        }
        total / runs as f64
    }

    #[test]
    fn dq_matches_the_scoring_crate() {
        let t = targets(&[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)]);
        for scores in [vec![0.9, 0.65, 0.4, 0.1, 0.95, 0.7, 0.75], vec![0.85; 5], vec![0.35, 0.0]] {
            let mut counts = [0usize; 4];
            for s in &scores {
                counts[bin_of(*s, &PHONETIC_BINS) as usize] += 1;
            }
            let ours = dq(&counts, scores.len(), &level_targets(&t));
            let theirs = miid_scoring::part_score::distribution_quality(&scores, &PHONETIC_BINS, &t);
            assert_eq!(ours, theirs, "{scores:?}");
        }
    }

    #[test]
    fn rule_rows_meet_every_rule_with_the_expected_count() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let name = "john smith";
        for rules_asked in [
            &["replace_random_consonant_with_random_consonant", "initial_only_first_name"][..],
            &["remove_all_spaces", "replace_double_letters_with_single_letter", "remove_random_vowel"][..],
            &["add_random_trailing_title", "shorten_name_to_initials"][..],
            &["name_parts_permutations"][..],
        ] {
            let effective = rules::effective_rules(name, rules_asked);
            let rows = rule_rows(name, &effective, 3, &mut rng);
            let c = rules::rule_compliance(name, &rows, rules_asked, 1.0);
            assert_eq!(c.num_target_rules_met, effective.len(), "{rules_asked:?}: {rows:?}");
            assert_eq!(c.overall_compliant_unique_variations_count, rows.len(), "{rows:?}");
            // A two-word name has one permutation only.
            let possible = if rules_asked == ["name_parts_permutations"] { 1 } else { 3 };
            assert_eq!(rows.len(), possible, "{rows:?}");
        }
    }

    #[test]
    fn latin_names_score_high_across_query_shapes() {
        let shapes = [
            spec(
                8,
                &[("Light", 0.1), ("Medium", 0.3), ("Far", 0.6)],
                &[("Light", 0.1), ("Medium", 0.5), ("Far", 0.4)],
                &["replace_random_consonant_with_random_consonant", "initial_only_first_name"],
                14.0,
            ),
            spec(15, &[("Medium", 0.5)], &[("Medium", 0.5)], &["replace_random_vowel_with_random_vowel"], 30.0),
            spec(
                12,
                &[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)],
                &[("Light", 0.2), ("Medium", 0.6), ("Far", 0.2)],
                &["delete_random_letter", "swap_adjacent_consonants"],
                25.0,
            ),
            spec(
                10,
                &[("Far", 1.0)],
                &[("Light", 0.7), ("Medium", 0.3)],
                &["add_random_leading_title", "name_parts_permutations", "remove_all_spaces"],
                40.0,
            ),
        ];
        for s in &shapes {
            // Three-word names are capped by the validator's weights (Q12: the third word's
            // weight is left out of the sum).
            for (name, floor) in
                [("John Smith", 0.6), ("Maria Garcia Lopez", 0.45), ("Gionata Boezio", 0.6), ("Al Li", 0.5)]
            {
                let q = mean_quality(name, s, 4);
                assert!(q > floor, "{name} {:?}: {q}", s.phonetic);
            }
        }
    }

    #[test]
    fn non_latin_names_get_latin_variations_of_the_transliteration() {
        let s = spec(
            10,
            &[("Light", 0.3), ("Medium", 0.4), ("Far", 0.3)],
            &[("Medium", 1.0)],
            &["remove_all_spaces"],
            30.0,
        );
        for name in ["Иван Петров", "محمد العلي", "王伟", "李 娜"] {
            let q = mean_quality(name, &s, 3);
            assert!(q > 0.5, "{name}: {q}");
            let mut rng = rand::rngs::StdRng::seed_from_u64(1);
            assert!(variations(name, &s, &mut rng).iter().all(|v| is_latin(v)));
        }
    }

    #[test]
    fn degenerate_input_does_not_panic() {
        let s = spec(6, &[("Medium", 1.0)], &[("Medium", 1.0)], &[], 30.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert!(variations("", &s, &mut rng).is_empty());
        for name in ["A", "ab", "X Y", "!!!", "O'Brien-Smith", "José Ñúñez"] {
            let v = variations(name, &s, &mut rng);
            assert!(v.len() <= 6, "{name}: {v:?}");
        }
    }
}
