//! Cross-miner cheat detection and its application to the rewards (spec `cheat-detection.md`,
//! `kav-scoring.md` 9–10), as pure functions over the round's normalised responses and the
//! per-miner base rewards.
//!
//! Why it is here: a miner's KAV reward is multiplied by `1 − min(1, Σ penalties)` before the rank
//! cap, and a penalty that pushes it under the quality threshold zeroes it. The validator-sim must
//! therefore reproduce every slot exactly, including the reference's odd behaviour.
//!
//! Pipeline ([`detect`], then [`apply_penalties`]; [`run_cheat_stage`] does both):
//! 1. per miner (cheat-detection 4): special-character abuse over every key (4.1), within-miner
//!    address duplicates over every key (4.2), per-seed name sets, address word sets and the
//!    response signature over the *processed* seed names (4.3);
//! 2. reward buckets over miners with base reward > 0: exact (15-decimal string) and near
//!    (`round(r·10000)`, half-to-even) (5);
//! 3. collusion (6), duplication inside buckets (7), signature copies (8), cross-group similarity
//!    (9) and cross-miner address similarity (10), each slot combined by `max`;
//! 4. `post = min(1, collusion + duplication + signature + special + address)`, `reward · (1 − post)`
//!    (11).
//!
//! Input shape: each miner's `seed -> rows` map as produced by [`crate::normalise()`] (raw JSON rows),
//! padded (8.2) or not: rows are read through the padding rule (a non-list row is
//! `[str(row) or "", "", ""]`, a short list is filled with `""`), so both give the same result.
//! An empty map is an empty response (reward 0, no per-seed data). `uids` are not an input: the
//! reference passes them only for logging.
//!
//! Quirks reproduced (cheat-detection 16): C1/Q15 (per-seed checks and the signature use the
//! processed — transliterated — seed names, so non-Latin seeds keyed by their original script are
//! invisible to them), C2 (collusion on identical scores alone), C3 (buckets and signature copies
//! use the base reward; reward-0 miners are never bucketed), C4 (Jaccard of two empty sets is 1),
//! C5/Q29 (punctuation deleted without a space before address word splitting; only words longer
//! than 3 characters), C6, C7 (sum capped at 1), C8 (max overlap and max Jaccard from different
//! partners), C10 (whole-response checks include non-seed keys), C11/Q27 (`k`→`c`, accents
//! dropped), and C9 in outcome: where the reference would raise, [`detect`] returns an error and
//! [`run_cheat_stage`] leaves every reward unchanged.
//!
//! Deviations and approximations, all outside what a well-formed response (rows of strings) can
//! reach:
//! - A truthy non-string name or address element (the reference would raise on `.strip()` or on
//!   iterating it) is reported as [`DetectorError::NonStringElement`], i.e. C9's "no penalties".
//! - `str(row)` for a non-list row is rendered Python-style for null/bools/numbers/strings and with
//!   a close approximation of Python's `repr` for objects.
//! - Per-seed averages are summed in seed order (the reference iterates a set intersection, whose
//!   order only affects the last bit of the average).
//! - Unidecode (address step 6) is [`crate::translit::unidecode`], Python Unidecode 1.4.0's tables
//!   (checked against them character by character in `tests/translit.rs`).
//! - Unicode categories come from `unicode-general-category` (Unicode 15/16) where the reference's
//!   Python uses Unicode 14; only characters assigned since then can differ.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use unicode_general_category::{GeneralCategory as Gc, get_general_category};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

// ---------------------------------------------------------------------------------------------
// Character classes (spec 0: Python's str predicates).
// ---------------------------------------------------------------------------------------------

/// Python `str.isspace`: Rust's White_Space plus U+001C..U+001F (spec 0).
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.isalpha`: general category Lu, Ll, Lt, Lm or Lo.
pub fn py_isalpha(c: char) -> bool {
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter | Gc::LowercaseLetter | Gc::TitlecaseLetter | Gc::ModifierLetter | Gc::OtherLetter
    )
}

/// Python `str.isalnum`: a letter or a character with a numeric type. Over Unicode 14 this is
/// exactly categories L* plus Nd, Nl, No (checked against CPython 3.11).
pub fn py_isalnum(c: char) -> bool {
    py_isalpha(c) || matches!(get_general_category(c), Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

// ---------------------------------------------------------------------------------------------
// 3.1 / 3.2: name canonical form and normalised sets.
// ---------------------------------------------------------------------------------------------

fn variation_replacement(c: char) -> Option<&'static str> {
    Some(match c {
        '0' | '%' | '°' | 'ö' => "o",
        '1' | '!' | '|' => "i",
        '2' => "z",
        '3' | '€' | 'ë' => "e",
        '4' | '@' | 'ä' => "a",
        '5' | '$' | '§' => "s",
        '6' | '9' => "g",
        '7' | '+' => "t",
        '8' => "b",
        '#' => "h",
        '&' => "and",
        'k' | '(' | '¢' => "c",
        _ => return None,
    })
}

/// `normalize_variation(t)` in aggressive mode (cheat-detection 3.1): strip, lowercase, delete
/// whitespace, apply the look-alike table (`&` → `and`, `k` → `c`, digits and symbols to letters),
/// keep only `a`–`z`. No replacement produces a character that another entry would map, so the
/// table is order-independent.
///
/// `normalize_variation("J0hn $mith") == "johnsmith"`; a Cyrillic name gives `""`.
pub fn normalize_variation(t: &str) -> String {
    let lowered = py_strip(t).to_lowercase();
    let mut out = String::with_capacity(lowered.len());
    for c in lowered.chars().filter(|&c| !py_isspace(c)) {
        match variation_replacement(c) {
            Some(rep) => out.push_str(rep),
            None if c.is_ascii_lowercase() => out.push(c),
            None => {}
        }
    }
    out
}

/// `normalized_set(list)` (3.2): the canonical forms of the non-empty strings. May contain `""`.
pub fn normalized_set<'a, I>(items: I) -> BTreeSet<String>
where
    I: IntoIterator<Item = &'a str>,
{
    items.into_iter().filter(|s| !s.is_empty()).map(normalize_variation).collect()
}

// ---------------------------------------------------------------------------------------------
// 3.3 / 3.4: disallowed Unicode and address word sets.
// ---------------------------------------------------------------------------------------------

fn in_disallowed_range(c: char) -> bool {
    let cp = c as u32;
    (0x1D00..=0x1DBF).contains(&cp)
        || (0xA720..=0xA7FF).contains(&cp)
        || (0x10780..=0x107BF).contains(&cp)
        || (0x2070..=0x209F).contains(&cp)
        || matches!(cp, 0xB2 | 0xB3 | 0xB9 | 0xBC | 0xBD | 0xBE)
}

/// `remove_disallowed_unicode(t, keep_comma)` (3.3): keeps letters of category Lu, Ll, Lt, Lo
/// (not Lm) outside the phonetic-extension, Latin Extended-D/F and super/subscript ranges, the
/// ASCII space, ASCII digits and (when `keep_comma`) the comma. Everything else is dropped.
///
/// `("Jöhn£ Smith² 3rd, ok", true)` → `"Jöhn Smith 3rd, ok"`.
pub fn remove_disallowed_unicode(t: &str, keep_comma: bool) -> String {
    t.chars()
        .filter(|&c| {
            if c.is_ascii() {
                // ASCII letters are Lu/Ll; no other ASCII character is a letter.
                return c.is_ascii_alphanumeric() || c == ' ' || (keep_comma && c == ',');
            }
            if in_disallowed_range(c) {
                return false;
            }
            matches!(
                get_general_category(c),
                Gc::UppercaseLetter | Gc::LowercaseLetter | Gc::TitlecaseLetter | Gc::OtherLetter
            ) || c == ' '
                || c.is_ascii_digit()
                || (keep_comma && c == ',')
        })
        .collect()
}

const ADDRESS_STOP_WORDS: &[&str] = &[
    "area",
    "district",
    "subdistrict",
    "sub",
    "residential",
    "street",
    "avenue",
    "road",
    "boulevard",
    "drive",
    "lane",
    "way",
    "city",
    "town",
    "village",
    "province",
    "region",
    "state",
    "county",
    "postal",
    "zip",
    "code",
    "country",
    "dawha",
    "qasabah",
];

/// `normalize_address_for_deduplication(addr)` (cheat-detection 3.4): the set of distinct long
/// words of an address. Commas and punctuation are deleted without a space (`Street,Moscow` gives
/// `streetmoscow`, quirk C5), digits and words of at most 3 characters vanish, administrative words
/// are dropped case-sensitively after Unidecode (which may reintroduce capitals: `Bei Jing`).
///
/// `Apartment 5, 12 Tverskaya Street, Moscow 125009, Russia` → {apartment, tverskaya, moscow, russia}.
pub fn address_word_set(addr: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for_each_address_word(addr, |w| {
        if !set.contains(w) {
            set.insert(w.to_owned());
        }
    });
    set
}

/// Calls `f` on every word of [`address_word_set`] (possibly more than once).
fn for_each_address_word(addr: &str, mut f: impl FnMut(&str)) {
    if !addr.is_ascii() {
        for w in &address_word_set_unicode(addr) {
            f(w);
        }
        return;
    }
    // ASCII: step 2 keeps letters, digits and spaces; NFKD, the punctuation of step 4 and
    // Unidecode change nothing; digit runs and spaces separate words, every other character is
    // deleted without a space (C5). So the words are the letter runs, lowercased.
    let mut word = [0u8; 64];
    let mut len = 0usize;
    let mut long: Vec<u8> = Vec::new();
    let emit = |word: &[u8], f: &mut dyn FnMut(&str)| {
        // ASCII letters only, so valid UTF-8 and one character per byte.
        let w = std::str::from_utf8(word).expect("ASCII");
        if w.len() > 3 && !ADDRESS_STOP_WORDS.contains(&w) {
            f(w);
        }
    };
    for b in addr.bytes() {
        if b.is_ascii_alphabetic() {
            let b = b.to_ascii_lowercase();
            if len < word.len() {
                word[len] = b;
            } else {
                if len == word.len() {
                    long.clear();
                    long.extend_from_slice(&word);
                }
                long.push(b);
            }
            len += 1;
        } else if b == b' ' || b.is_ascii_digit() {
            if len > word.len() {
                emit(&long, &mut f);
            } else if len > 0 {
                emit(&word[..len], &mut f);
            }
            len = 0;
        }
    }
    if len > word.len() {
        emit(&long, &mut f);
    } else if len > 0 {
        emit(&word[..len], &mut f);
    }
}

/// [`address_word_set`] step by step (any input).
fn address_word_set_unicode(addr: &str) -> BTreeSet<String> {
    if py_strip(addr).is_empty() {
        return BTreeSet::new();
    }
    // Step 2.
    let t = remove_disallowed_unicode(addr, false);
    // Step 3: NFKD, drop combining characters, lowercase.
    let decomposed: String = t.nfkd().filter(|&c| canonical_combining_class(c) == 0).collect();
    let t = decomposed.to_lowercase();
    // Step 4.
    let t: String = t.chars().map(|c| if "-:,.;!?(){}[]\"'/|*_=+<>@#^&".contains(c) { ' ' } else { c }).collect();
    // Step 5: collapse whitespace runs, strip " -:" from both ends.
    let mut collapsed = String::with_capacity(t.len());
    let mut in_ws = false;
    for c in t.chars() {
        if py_isspace(c) {
            if !in_ws {
                collapsed.push(' ');
            }
            in_ws = true;
        } else {
            collapsed.push(c);
            in_ws = false;
        }
    }
    let t = collapsed.trim_matches([' ', '-', ':']);
    // Step 6.
    let t = crate::translit::unidecode(t);
    // Step 7: digit runs and commas to spaces (the text is ASCII now).
    let mut spaced = String::with_capacity(t.len());
    let mut in_digits = false;
    for c in t.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                spaced.push(' ');
            }
            in_digits = true;
        } else {
            spaced.push(if c == ',' { ' ' } else { c });
            in_digits = false;
        }
    }
    // Steps 8-10.
    spaced.split(' ').filter(|w| w.chars().count() > 3 && !ADDRESS_STOP_WORDS.contains(w)).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// 3.5 / 3.6: set similarity and the response signature.
// ---------------------------------------------------------------------------------------------

/// Overlap coefficient `|a∩b| / min(|a|, |b|)`; 0 if either set is empty (3.5).
pub fn overlap<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count();
    inter as f64 / a.len().min(b.len()) as f64
}

/// Jaccard index; 1.0 when both sets are empty (quirk C4), 0 when exactly one is (3.5).
pub fn jaccard<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> f64 {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        _ => {
            let inter = a.intersection(b).count();
            let union = a.len() + b.len() - inter;
            inter as f64 / union as f64
        }
    }
}

/// The response signature (3.6): for each seed name in code-point order, `lower(name)` then the
/// sorted normalised set of its non-empty name variations, joined with `|`, hashed with 64-bit
/// djb2 over code points, rendered as 16 lowercase hex digits.
///
/// `{"john smith": ["jon smith", "Jhon Smyth"]}` → `9623336a11df7941`; `{}` → `0000000000001505`.
pub fn signature<S: AsRef<str>>(entries: &IndexMap<String, Vec<S>>) -> String {
    let mut names: Vec<&String> = entries.keys().collect();
    names.sort();
    let mut parts: Vec<String> = Vec::new();
    for name in names {
        parts.push(name.to_lowercase());
        parts.extend(normalized_set(entries[name].iter().map(AsRef::as_ref)));
    }
    let joined = parts.join("|");
    let mut h: u64 = 5381;
    for c in joined.chars() {
        h = h.wrapping_mul(33).wrapping_add(c as u64);
    }
    format!("{h:016x}")
}

/// Number of characters of a name variation that count towards special-character abuse (4.1):
/// not alphanumeric, not whitespace, not `.`, `-` or `'`.
pub fn special_char_count(v: &str) -> usize {
    v.chars().filter(|&c| !py_isalnum(c) && !py_isspace(c) && !matches!(c, '.' | '-' | '\'')).count()
}

// ---------------------------------------------------------------------------------------------
// Reading rows (8.2 padding semantics).
// ---------------------------------------------------------------------------------------------

/// Why the detector would have raised in the reference (quirk C9: all cheat penalties are then
/// skipped for the round).
#[derive(Debug, Clone, PartialEq)]
pub enum DetectorError {
    /// `responses` and `rewards` differ in length.
    LengthMismatch { responses: usize, rewards: usize },
    /// A truthy non-string name or address element (miner index, key).
    NonStringElement { miner: usize, key: String },
}

impl fmt::Display for DetectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectorError::LengthMismatch { responses, rewards } => {
                write!(f, "{responses} responses but {rewards} rewards")
            }
            DetectorError::NonStringElement { miner, key } => {
                write!(f, "miner {miner}: non-string name or address under key {key:?}")
            }
        }
    }
}

impl std::error::Error for DetectorError {}

/// One padded row's name and address (elements 0 and 2) as the detector reads them: `None` for an
/// empty or falsy element, `Err` for a truthy non-string (the reference would raise).
struct RowView<'a> {
    name: Option<Cow<'a, str>>,
    address: Option<&'a str>,
}

fn element(v: Option<&Value>) -> Result<Option<&str>, ()> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok((!s.is_empty()).then_some(s.as_str())),
        Some(other) if crate::pyvalue::truthy(other) => Err(()),
        Some(_) => Ok(None),
    }
}

fn read_row(row: &Value) -> Result<RowView<'_>, ()> {
    match row {
        Value::Array(items) => {
            Ok(RowView { name: element(items.first())?.map(Cow::Borrowed), address: element(items.get(2))? })
        }
        other => {
            let s = crate::pyvalue::str(other);
            Ok(RowView { name: (!s.is_empty()).then_some(Cow::Owned(s)), address: None })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The detector.
// ---------------------------------------------------------------------------------------------

/// One miner's cheat-detection outcome: the five penalty slots (each combined by `max` inside the
/// slot) and the special-character observability fields (cheat-detection 11 step 1).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheatPenalties {
    /// Section 6 (metrics key `collusion`).
    pub collusion: f64,
    /// Sections 7 and 9 (metrics key `duplication`).
    pub duplication: f64,
    /// Section 8 (metrics key `signature_copy`).
    pub signature_copy: f64,
    /// Section 4.1 (metrics key `special_chars`).
    pub special_chars: f64,
    /// Sections 4.2 and 10 (metrics key `post_address_duplication`).
    pub address_duplication: f64,
    /// `special_chars_ratio` (0 when the miner has no name variation).
    pub special_chars_ratio: f64,
    /// `special_char_variations_count`.
    pub special_char_variations_count: usize,
    /// `total_variations_count`: the miner's non-empty name variations over every key.
    pub total_variations_count: usize,
    /// The response signature (3.6), when the miner has per-seed data (for logs).
    pub signature: Option<String>,
}

impl CheatPenalties {
    /// The plain left-to-right sum of the five slots (cheat-detection 11 step 2; may exceed 1).
    pub fn sum(&self) -> f64 {
        self.collusion + self.duplication + self.signature_copy + self.special_chars + self.address_duplication
    }

    /// The non-zero slots under their metrics keys, in the reference's order.
    pub fn nonzero_slots(&self) -> Vec<(&'static str, f64)> {
        [
            ("collusion", self.collusion),
            ("duplication", self.duplication),
            ("signature_copy", self.signature_copy),
            ("special_chars", self.special_chars),
            ("post_address_duplication", self.address_duplication),
        ]
        .into_iter()
        .filter(|(_, v)| *v != 0.0)
        .collect()
    }
}

/// Per-seed data of one miner (4.3), over the round's distinct processed seed names (in their
/// order of first appearance, which is the reference's insertion order). Strings are interned
/// round-wide, so a set is a sorted, deduplicated `Vec<u32>`: set sizes and intersections, all the
/// similarity measures read, are those of the string sets.
struct SeedData {
    /// distinct processed seed index -> (name set, union of the distinct non-empty address word
    /// sets), `None` where the miner has no rows for that seed.
    seeds: Vec<Option<(Vec<u32>, Vec<u32>)>>,
    signature: String,
}

/// Round-wide string interner.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(s.to_owned(), id);
        id
    }
}

/// `|a ∩ b|` of two sorted, deduplicated id lists.
fn intersection_len(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// [`overlap`] over id sets.
fn overlap_ids(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    intersection_len(a, b) as f64 / a.len().min(b.len()) as f64
}

/// [`jaccard`] over id sets.
fn jaccard_ids(a: &[u32], b: &[u32]) -> f64 {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        _ => {
            let inter = intersection_len(a, b);
            let union = a.len() + b.len() - inter;
            inter as f64 / union as f64
        }
    }
}

fn sorted_ids(mut ids: Vec<u32>) -> Vec<u32> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn raise(slot: &mut f64, value: f64) {
    if value > *slot {
        *slot = value;
    }
}

/// Average overlap and Jaccard of the name sets over the common seeds (in `a`'s seed order);
/// `None` when there is no common seed.
fn average_similarity(a: &SeedData, b: &SeedData) -> Option<(f64, f64)> {
    let mut n = 0usize;
    let (mut so, mut sj) = (0.0, 0.0);
    for (set_a, set_b) in a.seeds.iter().zip(&b.seeds) {
        if let (Some((set_a, _)), Some((set_b, _))) = (set_a, set_b) {
            so += overlap_ids(set_a, set_b);
            sj += jaccard_ids(set_a, set_b);
            n += 1;
        }
    }
    (n > 0).then(|| (so / n as f64, sj / n as f64))
}

/// Reward rendered with exactly 15 decimals (Python `f"{r:.15f}"`), the exact-bucket key (5).
pub fn exact_bucket_key(reward: f64) -> String {
    format!("{reward:.15}")
}

/// `round(reward · 10000)` half-to-even, the near-bucket key (5).
pub fn near_bucket_key(reward: f64) -> i64 {
    (reward * 10000.0).round_ties_even() as i64
}

/// Runs the detector over one round (cheat-detection 2–10) and returns each miner's penalty
/// slots, in query order.
///
/// - `responses[i]`: miner i's normalised map (empty for an empty/failed response);
/// - `rewards[i]`: its base reward (8.6), which the bucket and signature checks use (C3);
/// - `processed_seed_names`: the round's seed names in seed order, non-Latin ones replaced by
///   their transliteration (C1).
pub fn detect<M>(
    responses: &[M],
    rewards: &[f64],
    processed_seed_names: &[String],
) -> Result<Vec<CheatPenalties>, DetectorError>
where
    M: Borrow<IndexMap<String, Vec<Value>>>,
{
    if responses.len() != rewards.len() {
        return Err(DetectorError::LengthMismatch { responses: responses.len(), rewards: rewards.len() });
    }
    let n = responses.len();
    let mut out = vec![CheatPenalties::default(); n];
    let mut seed_data: Vec<Option<SeedData>> = Vec::with_capacity(n);

    // The distinct processed seed names, in order of first appearance.
    let mut distinct_seeds: IndexMap<&str, ()> = IndexMap::with_capacity(processed_seed_names.len());
    for seed in processed_seed_names {
        distinct_seeds.insert(seed.as_str(), ());
    }
    let mut words = Interner::default();
    let mut normalised = Interner::default();
    // address -> its word set as interned ids (empty: no word), computed once per round.
    let mut address_sets: HashMap<&str, Vec<u32>> = HashMap::new();

    // 4. Per-miner pass.
    for (i, response) in responses.iter().enumerate() {
        let map = response.borrow();
        let pen = &mut out[i];
        let mut views: IndexMap<&str, Vec<RowView<'_>>> = IndexMap::with_capacity(map.len());
        for (key, rows) in map {
            let mut v = Vec::with_capacity(rows.len());
            for row in rows {
                v.push(read_row(row).map_err(|()| DetectorError::NonStringElement { miner: i, key: key.clone() })?);
            }
            views.insert(key.as_str(), v);
        }
        if views.is_empty() {
            seed_data.push(None);
            continue;
        }

        // 4.1 Special characters, over every key.
        let (mut total, mut special) = (0usize, 0usize);
        for rows in views.values() {
            for name in rows.iter().filter_map(|r| r.name.as_deref()) {
                total += 1;
                if special_char_count(name) > 2 {
                    special += 1;
                }
            }
        }
        if total > 0 {
            let ratio = special as f64 / total as f64;
            pen.special_chars_ratio = ratio;
            pen.special_char_variations_count = special;
            pen.total_variations_count = total;
            if ratio > 0.5 {
                pen.special_chars = f64::min(1.0, (ratio - 0.5) / 0.5);
            }
        }

        // Every address's word set, once.
        for rows in views.values() {
            for addr in rows.iter().filter_map(|r| r.address) {
                address_sets.entry(addr).or_insert_with(|| {
                    let mut ids = Vec::new();
                    for_each_address_word(addr, |w| ids.push(words.id(w)));
                    sorted_ids(ids)
                });
            }
        }

        // 4.2 Within-miner address duplicates, over every key.
        let sets: Vec<&[u32]> = views
            .values()
            .flat_map(|rows| rows.iter().filter_map(|r| r.address))
            .map(|a| address_sets[a].as_slice())
            .filter(|s| !s.is_empty())
            .collect();
        let distinct: std::collections::HashSet<&[u32]> = sets.iter().copied().collect();
        let dups = sets.len() - distinct.len();
        if dups > 0 {
            pen.address_duplication = f64::min(0.2, 0.2 * dups as f64 / sets.len() as f64);
        }

        // 4.3 Per-seed data over the processed seed names.
        let mut per_seed: Vec<Option<(Vec<u32>, Vec<u32>)>> = vec![None; distinct_seeds.len()];
        let mut entries: IndexMap<String, Vec<&str>> = IndexMap::new();
        for (k, &seed) in distinct_seeds.keys().enumerate() {
            let Some(rows) = views.get(seed) else { continue };
            if rows.is_empty() {
                continue;
            }
            let vars: Vec<&str> = rows.iter().filter_map(|r| r.name.as_deref()).collect();
            let name_ids = sorted_ids(
                vars.iter().filter(|s| !s.is_empty()).map(|v| normalised.id(&normalize_variation(v))).collect(),
            );
            // The union of the distinct non-empty word sets is the union of all of them.
            let addr_ids = sorted_ids(
                rows.iter().filter_map(|r| r.address).flat_map(|a| address_sets[a].iter().copied()).collect(),
            );
            per_seed[k] = Some((name_ids, addr_ids));
            entries.insert(seed.to_owned(), vars);
        }
        if entries.is_empty() {
            seed_data.push(None);
        } else {
            let signature = signature(&entries);
            pen.signature = Some(signature.clone());
            seed_data.push(Some(SeedData { seeds: per_seed, signature }));
        }
    }

    // 5. Reward buckets over miners with reward > 0, in first-appearance order.
    let mut exact: IndexMap<String, Vec<usize>> = IndexMap::new();
    let mut near: IndexMap<i64, Vec<usize>> = IndexMap::new();
    for (i, &r) in rewards.iter().enumerate() {
        if r > 0.0 {
            exact.entry(exact_bucket_key(r)).or_default().push(i);
            near.entry(near_bucket_key(r)).or_default().push(i);
        }
    }

    // 6. Collusion.
    for members in exact.values() {
        if members.len() > 5 && rewards[members[0]] < 0.95 {
            for &m in members {
                raise(&mut out[m].collusion, 0.75);
            }
        }
    }

    // 7. Duplication inside buckets: exact buckets first, then near ones.
    let buckets = exact.values().map(|m| (m, 0.75, 0.70)).chain(near.values().map(|m| (m, 0.80, 0.70)));
    for (members, t_o, t_j) in buckets {
        if members.len() < 2 {
            continue;
        }
        let kept: Vec<usize> = members.iter().copied().filter(|&m| seed_data[m].is_some()).collect();
        if kept.len() < 2 {
            continue;
        }
        for &m in &kept {
            let (mut max_o, mut max_j) = (0.0f64, 0.0f64);
            let dm = seed_data[m].as_ref().unwrap();
            for &o in kept.iter().filter(|&&o| o != m) {
                if let Some((ov, jac)) = average_similarity(dm, seed_data[o].as_ref().unwrap()) {
                    max_o = max_o.max(ov);
                    max_j = max_j.max(jac);
                }
            }
            if max_o > t_o || max_j > t_j {
                let po = f64::max(0.0, (max_o - t_o) / f64::max(1e-6, 1.0 - t_o));
                let pj = f64::max(0.0, (max_j - t_j) / f64::max(1e-6, 1.0 - t_j));
                let pen = f64::min(1.0, f64::max(po, pj));
                raise(&mut out[m].duplication, pen);
            }
        }
    }

    // 8. Signature copies.
    let mut by_signature: IndexMap<&str, Vec<usize>> = IndexMap::new();
    for (i, d) in seed_data.iter().enumerate() {
        if let Some(d) = d {
            by_signature.entry(d.signature.as_str()).or_default().push(i);
        }
    }
    for members in by_signature.values().filter(|m| m.len() > 1) {
        let paid: Vec<usize> = members.iter().copied().filter(|&m| rewards[m] > 0.0).collect();
        if paid.len() >= 2 {
            for m in paid {
                raise(&mut out[m].signature_copy, 0.8);
            }
        }
    }

    // 9 and 10. All pairs of miners with per-seed data.
    let with_data: Vec<usize> = (0..n).filter(|&i| seed_data[i].is_some()).collect();
    for (a_pos, &a) in with_data.iter().enumerate() {
        for &b in &with_data[a_pos + 1..] {
            let (da, db) = (seed_data[a].as_ref().unwrap(), seed_data[b].as_ref().unwrap());
            let (ov, jac) = average_similarity(da, db).unwrap_or((0.0, 0.0));
            if ov > 0.95 || jac > 0.90 {
                raise(&mut out[a].duplication, 0.5);
                raise(&mut out[b].duplication, 0.5);
            }
            for (sa, sb) in da.seeds.iter().zip(&db.seeds) {
                let (Some((_, words_a)), Some((_, words_b))) = (sa, sb) else { continue };
                if words_a.is_empty() || words_b.is_empty() {
                    continue;
                }
                let jac = jaccard_ids(words_a, words_b);
                if jac > 0.7 {
                    let pen = f64::min(0.6, 0.8 * jac);
                    raise(&mut out[a].address_duplication, pen);
                    raise(&mut out[b].address_duplication, pen);
                }
            }
        }
    }

    Ok(out)
}

/// One miner's reward after the cheat penalties (cheat-detection 11).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AppliedPenalty {
    /// `reward · (1 − post)`, or the unchanged reward when no slot is set. This also becomes the
    /// miner's `final_reward` metric, which the rank stage reads as its quality.
    pub reward: f64,
    /// `post_total_penalty = min(1, Σ slots)`, only when the sum is > 0.
    pub post_total_penalty: Option<f64>,
    /// `overall_total_penalty = 1 − (1 − completeness total_penalty)·(1 − post)`, only when > 0.
    pub overall_total_penalty: Option<f64>,
}

/// Applies the penalty slots to the base rewards (cheat-detection 11, kav-scoring 10).
/// `completeness_total_penalty[i]` is miner i's completeness `total_penalty` (1.0 for an empty
/// response), used only for the `overall_total_penalty` metric.
pub fn apply_penalties(
    rewards: &[f64],
    completeness_total_penalty: &[f64],
    penalties: &[CheatPenalties],
) -> Vec<AppliedPenalty> {
    rewards
        .iter()
        .enumerate()
        .map(|(i, &reward)| {
            let sum = penalties.get(i).map_or(0.0, CheatPenalties::sum);
            if sum > 0.0 {
                let post = f64::min(1.0, sum);
                let total = completeness_total_penalty.get(i).copied().unwrap_or(0.0);
                AppliedPenalty {
                    reward: reward * (1.0 - post),
                    post_total_penalty: Some(post),
                    overall_total_penalty: Some(1.0 - (1.0 - total) * (1.0 - post)),
                }
            } else {
                AppliedPenalty { reward, post_total_penalty: None, overall_total_penalty: None }
            }
        })
        .collect()
}

/// The whole cheat stage of one round (kav-scoring 9–10).
#[derive(Debug, Clone, PartialEq)]
pub struct CheatStage {
    /// Rewards after the penalties (the rank stage's `r` and `q`).
    pub rewards: Vec<f64>,
    /// Per-miner slots (all zero when the detector failed).
    pub penalties: Vec<CheatPenalties>,
    /// Per-miner application details.
    pub applied: Vec<AppliedPenalty>,
    /// Set when the reference's detector would have raised: rewards are then unchanged (C9).
    pub error: Option<DetectorError>,
}

/// [`detect`] then [`apply_penalties`]; on a detector error every reward is left unchanged and no
/// penalty metric is recorded (quirk C9 — callers should log `error` loudly).
pub fn run_cheat_stage<M>(
    responses: &[M],
    base_rewards: &[f64],
    processed_seed_names: &[String],
    completeness_total_penalty: &[f64],
) -> CheatStage
where
    M: Borrow<IndexMap<String, Vec<Value>>>,
{
    match detect(responses, base_rewards, processed_seed_names) {
        Ok(penalties) => {
            let applied = apply_penalties(base_rewards, completeness_total_penalty, &penalties);
            CheatStage { rewards: applied.iter().map(|a| a.reward).collect(), penalties, applied, error: None }
        }
        Err(e) => CheatStage {
            rewards: base_rewards.to_vec(),
            penalties: vec![CheatPenalties::default(); base_rewards.len()],
            applied: base_rewards
                .iter()
                .map(|&reward| AppliedPenalty { reward, post_total_penalty: None, overall_total_penalty: None })
                .collect(),
            error: Some(e),
        },
    }
}

/// Per-miner signature groups, for diagnostics: signature -> miner indices (only miners with
/// per-seed data).
pub fn signature_groups(penalties: &[CheatPenalties]) -> HashMap<String, Vec<usize>> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, p) in penalties.iter().enumerate() {
        if let Some(s) = &p.signature {
            groups.entry(s.clone()).or_default().push(i);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> BTreeSet<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalize_variation_examples() {
        assert_eq!(normalize_variation("José-Müller 3rd"), "josmllererd");
        assert_eq!(normalize_variation("J0hn $mith"), "johnsmith");
        assert_eq!(normalize_variation("Ива́н"), "");
        assert_eq!(normalize_variation("Kate O'Neil"), "cateoneil");
        assert_eq!(normalize_variation("  A & B\t"), "aandb");
        assert_eq!(normalize_variation("ÄËÖ"), "aeo");
    }

    #[test]
    fn remove_disallowed_unicode_examples() {
        assert_eq!(remove_disallowed_unicode("Jöhn£ Smith² 3rd, ok", true), "Jöhn Smith 3rd, ok");
        assert_eq!(remove_disallowed_unicode("ʰJohn ꞎ x₁", false), "John  x");
        assert_eq!(remove_disallowed_unicode("a,b", false), "ab");
        assert_eq!(remove_disallowed_unicode("o\u{308}\t\n", false), "o");
    }

    #[test]
    fn address_word_set_examples() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Apartment 5, 12 Tverskaya Street, Moscow 125009, Russia",
                &["apartment", "tverskaya", "moscow", "russia"],
            ),
            (
                "Apartment 5,12 Tverskaya Street,Moscow 125009,Russia",
                &["apartment", "tverskaya", "streetmoscow", "russia"],
            ),
            ("Apt. 7, 44 Baker Street, London NW1, United Kingdom", &["baker", "london", "united", "kingdom"]),
            ("ул. Тверская 12, Москва, Россия", &["tverskaia", "moskva", "rossiia"]),
            ("北京市朝阳区建国路88号, 北京, China", &["Zhao", "Yang", "Jian", "Jing", "china"]),
            ("1 A Road, X, Y", &[]),
            ("   ", &[]),
        ];
        for (addr, want) in cases {
            assert_eq!(address_word_set(addr), set(want), "{addr}");
            assert_eq!(address_word_set_unicode(addr), set(want), "{addr}");
        }
        for addr in [
            "Apt. 7, 44 Baker-Street; London NW1 (United Kingdom)",
            "12\tMain  St.,Springfield:IL 62704 USA",
            " -:Road:- ",
            "Supercalifragilisticexpialidociousandevenlongerthansixtyfourlettersinarow 5, Town x",
            "a1b2c3dddd4eeee_ffff|gggg*hhhh",
            "",
        ] {
            assert_eq!(address_word_set(addr), address_word_set_unicode(addr), "{addr}");
        }
    }

    #[test]
    fn set_similarity() {
        let e = BTreeSet::<String>::new();
        assert_eq!(jaccard(&e, &e), 1.0);
        assert_eq!(jaccard(&e, &set(&["a"])), 0.0);
        assert_eq!(overlap(&e, &e), 0.0);
        assert_eq!(overlap(&set(&["a", "b"]), &set(&["a", "b", "c"])), 1.0);
        assert!((jaccard(&set(&["a", "b"]), &set(&["a", "b", "c"])) - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn signature_vectors() {
        let mut m = IndexMap::new();
        m.insert("john smith".to_string(), vec!["jon smith", "Jhon Smyth"]);
        assert_eq!(signature(&m), "9623336a11df7941");
        assert_eq!(signature(&IndexMap::<String, Vec<&str>>::new()), "0000000000001505");
    }

    #[test]
    fn special_characters() {
        assert_eq!(special_char_count("j@hn $m!th#"), 4);
        assert_eq!(special_char_count("j%n sm^th&"), 3);
        assert_eq!(special_char_count("o'brien-smith jr."), 0);
        assert_eq!(special_char_count("x²"), 0, "superscript two is numeric, hence alphanumeric");
    }

    #[test]
    fn bucket_keys() {
        assert_eq!(exact_bucket_key(0.8), "0.800000000000000");
        assert_eq!(near_bucket_key(0.61234), 6123);
        assert_eq!(near_bucket_key(0.61229), 6123);
        assert_eq!(near_bucket_key(0.00005), 0, "half to even");
    }

    #[test]
    fn non_list_rows_are_padded_like_the_reference() {
        let mut m: IndexMap<String, Vec<Value>> = IndexMap::new();
        m.insert("x".into(), vec![Value::String("a$$$".into()), serde_json::json!(["b", "", ""])]);
        let p = detect(&[m], &[0.5], &["x".to_string()]).unwrap();
        assert_eq!(p[0].total_variations_count, 2);
        assert_eq!(p[0].special_char_variations_count, 1);
        assert_eq!(
            crate::pyvalue::str(&serde_json::json!({"a": [1, "x'"], "b": null})),
            "{'a': [1, \"x'\"], 'b': None}"
        );
        assert_eq!(crate::pyvalue::str(&serde_json::json!(2.0)), "2.0");
    }

    #[test]
    fn hostile_input_raises_like_the_reference() {
        let mut m: IndexMap<String, Vec<Value>> = IndexMap::new();
        m.insert("x".into(), vec![serde_json::json!([5, "", ""])]);
        let stage = run_cheat_stage(&[m.clone(), m], &[0.5, 0.5], &["x".to_string()], &[0.0, 0.0]);
        assert!(stage.error.is_some());
        assert_eq!(stage.rewards, vec![0.5, 0.5]);
        // Falsy non-strings are skipped, not fatal.
        let mut m: IndexMap<String, Vec<Value>> = IndexMap::new();
        m.insert("x".into(), vec![serde_json::json!([0, null, false]), serde_json::json!(["ok"])]);
        assert!(detect(&[m], &[0.5], &["x".to_string()]).is_ok());
        assert!(matches!(
            detect::<IndexMap<String, Vec<Value>>>(&[], &[1.0], &[]),
            Err(DetectorError::LengthMismatch { .. })
        ));
    }
}
