//! # Name-transformation rules: catalogue, evaluators and the rule-compliance score
//!
//! A MIID query asks that about p% of a seed's name variations follow one to three
//! "rule-based transformations" (spec `rules.md`, `kav-scoring.md` 5.3–5.4). The reference
//! validator checks each variation against each requested rule with a small, loose
//! predicate, and turns the result into a quantity × diversity score that weighs 20% of the
//! name score. Rule-compliant variations are also pulled out of the similarity pool, so the
//! predicates must be reproduced *exactly*, looseness included: a miner that trusts a
//! "stricter" evaluator would mis-predict both the rule score and the similarity pool.
//!
//! What is here:
//! - the catalogue ([`CATALOGUE`], [`CATEGORIES`], [`description`], [`rule_sentence`],
//!   [`description_keywords`]) that validators use to write and check the query text;
//! - the 22 evaluators ([`evaluate`], [`evaluator`]), one per rule id, each a pure predicate
//!   over (original, variation) working on Unicode code points;
//! - the impossible-rule filter ([`is_effective`], [`effective_rules`]);
//! - [`evaluate_rule_compliance`] (rules.md 4: per-rule compliant variations and the ratio
//!   the vectors call `ratio`) and [`rule_compliance`] (kav-scoring 5.3: the q × d score with
//!   the reference's metric fields).
//!
//! ## Quirks reproduced (all are "reproduce" in the spec; none of the rule quirks is "deviate")
//! - R1 / Q38: `replace_spaces_with_random_special_characters` accepts plain space removal and
//!   up to S + 1 arbitrary edits; no special character is required.
//! - R2: `swap_adjacent_syllables` is the two-character adjacent swap of `swap_random_letter`.
//! - R3 / Q38: `insert_random_letter` accepts any inserted character (digits, punctuation, a
//!   doubled letter); `duplicate_random_letter_as_double_letter` accepts a doubled space.
//! - R4: `delete_random_letter` accepts deleting a space.
//! - R5: the double-letter precondition counts any repeated character (space, punctuation),
//!   while the evaluator accepts only a repeated letter, so such a rule stays effective but
//!   unsatisfiable.
//! - R6: rules that cannot apply for reasons other than rules.md 4.1 stay effective and lower
//!   the diversity factor (e.g. vowel rules on a vowel-less name).
//! - R7 / Q14: with no effective rule the score is 1.0 (quantity 1, diversity 1, zero counts).
//! - R8 / Q9: E counts the rows submitted (empty strings and duplicates included), not the
//!   requested variation count.
//! - R12: `shorten_name_to_abbreviations` is case-insensitive for one-word names and
//!   case-sensitive for multi-word names.
//! - The per-evaluator case table of rules.md 8 (some lowercase, some do not; the
//!   vowel/consonant removal rules compare lengths on the raw strings but content on the
//!   lowercased ones; title rules make the exact `o == v` test before lowercasing).
//! - Duplicated variations are evaluated (and listed) once per occurrence; the ratio and C
//!   count distinct strings only.
//! - A rule id without an evaluator (none of the 22 here) stays effective with an empty list.
//!
//! Not applicable here: R9 (the similarity-pool removal happens in the name-quality step, which
//! uses [`RuleCompliance::compliant_set`]), R10 (query validation), R11 (non-Latin seeds skip
//! rule scoring upstream).
//!
//! ## Conventions (rules.md 0)
//! Lengths are in code points; `lower` is the full Unicode lowercase mapping
//! (`str::to_lowercase`, final sigma included); "letter" is general category L*
//! (Python `isalpha`, not Rust's broader `is_alphabetic`); a vowel is one of the ASCII `aeiou`;
//! word splitting is Python's `str.split()` (Unicode whitespace plus U+001C..U+001F);
//! Levenshtein is the plain insert/delete/substitute distance over code points.
//!
//! Known, accepted difference: the letter test uses the Unicode 16 tables of
//! `unicode-general-category` and lowercasing uses the standard library's tables, while the
//! reference runs on Unicode 14/15; only characters assigned or recategorised since then could
//! be judged differently.

use indexmap::{IndexMap, IndexSet};
use serde::Serialize;
use unicode_general_category::{GeneralCategory, get_general_category};

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------

/// Rule categories, in catalogue order (rules.md 1). Only selectable rules belong to one.
pub const CATEGORIES: [&str; 6] = [
    "character_replacement",
    "character_swapping",
    "character_removal",
    "character_insertion",
    "name_formatting",
    "structure_change",
];

/// One entry of the rule catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The rule id, exactly as it appears in query labels, metrics and vectors.
    pub id: &'static str,
    /// The category for selectable rules; `None` for the three never-requested rules.
    pub category: Option<&'static str>,
    /// The description text. For the non-selectable rules this is the text that is commented
    /// out in the reference; [`description`] does not return it (it falls back instead).
    pub description: &'static str,
    /// Whether the query generator can request the rule.
    pub selectable: bool,
}

const fn sel(id: &'static str, category: &'static str, description: &'static str) -> RuleInfo {
    RuleInfo { id, category: Some(category), description, selectable: true }
}

const fn unsel(id: &'static str, description: &'static str) -> RuleInfo {
    RuleInfo { id, category: None, description, selectable: false }
}

/// The 22 rule ids the evaluator knows: first the 19 selectable ones in flattened catalogue
/// order (the population rules are sampled from, rules.md 2.1), then the three that have an
/// evaluator but are never requested.
pub const CATALOGUE: [RuleInfo; 22] = [
    sel(
        "replace_spaces_with_random_special_characters",
        "character_replacement",
        "Replace spaces with special characters",
    ),
    sel(
        "replace_double_letters_with_single_letter",
        "character_replacement",
        "Replace double letters with a single letter",
    ),
    sel(
        "replace_random_vowel_with_random_vowel",
        "character_replacement",
        "Replace random vowels with different vowels",
    ),
    sel(
        "replace_random_consonant_with_random_consonant",
        "character_replacement",
        "Replace random consonants with different consonants",
    ),
    sel("swap_adjacent_consonants", "character_swapping", "Swap adjacent consonants"),
    sel("swap_adjacent_syllables", "character_swapping", "Swap adjacent syllables"),
    sel("swap_random_letter", "character_swapping", "Swap random adjacent letters"),
    sel("delete_random_letter", "character_removal", "Delete a random letter"),
    sel("remove_random_vowel", "character_removal", "Remove a random vowel"),
    sel("remove_random_consonant", "character_removal", "Remove a random consonant"),
    sel("remove_all_spaces", "character_removal", "Remove all spaces"),
    sel("duplicate_random_letter_as_double_letter", "character_insertion", "Duplicate a random letter"),
    sel("insert_random_letter", "character_insertion", "Insert a random letter"),
    sel("add_random_leading_title", "character_insertion", "Add a title prefix (Mr., Dr., etc.)"),
    sel("add_random_trailing_title", "character_insertion", "Add a title suffix (Jr., PhD, etc.)"),
    sel("initial_only_first_name", "name_formatting", "Use first name initial with last name"),
    sel("shorten_name_to_initials", "name_formatting", "Convert name to initials"),
    sel("shorten_name_to_abbreviations", "name_formatting", "Abbreviate name parts"),
    sel("name_parts_permutations", "structure_change", "Reorder name parts"),
    unsel(
        "replace_random_special_character_with_random_special_character",
        "Replace special characters with different ones",
    ),
    unsel("remove_random_special_character", "Remove a random special character"),
    unsel("remove_title", "Remove title (Mr., Dr., etc.)"),
];

/// The 19 selectable rule ids in flattened catalogue order (the sampling population).
pub fn selectable_rules() -> Vec<&'static str> {
    CATALOGUE.iter().filter(|r| r.selectable).map(|r| r.id).collect()
}

/// The catalogue entry of a rule id, if it is one of the 22.
pub fn rule_info(rule: &str) -> Option<&'static RuleInfo> {
    CATALOGUE.iter().find(|r| r.id == rule)
}

/// The selectable rules of a category, in catalogue order; empty for an unknown category.
pub fn rules_in_category(category: &str) -> Vec<&'static str> {
    CATALOGUE.iter().filter(|r| r.category == Some(category)).map(|r| r.id).collect()
}

/// The description used in query text. Rules without an (enabled) description — unknown ids
/// and the three non-selectable rules — get `Apply the <id> transformation`, as the reference.
pub fn description(rule: &str) -> String {
    match rule_info(rule) {
        Some(info) if info.selectable => info.description.to_string(),
        _ => format!("Apply the {rule} transformation"),
    }
}

/// The rule sentence of the query text (rules.md 2.2) for the descriptions `d1, d2, …` of the
/// selected rules in order. Note the comma before "and" even with two rules.
pub fn rule_sentence<S: AsRef<str>>(descriptions: &[S]) -> String {
    let d: Vec<&str> = descriptions.iter().map(AsRef::as_ref).collect();
    match d.len() {
        0 => String::new(),
        1 => format!("Additionally, generate variations that: {}.", d[0]),
        n => format!(
            "Additionally, generate variations that perform these transformations: {}, and {}.",
            d[..n - 1].join(", "),
            d[n - 1]
        ),
    }
}

/// The keywords a validator looks for in an LLM-written query to decide whether a description
/// is present (rules.md 2.6): lowercase, delete parenthesised parts (shortest match), delete
/// every character that is neither a word character nor whitespace, split into words, drop the
/// stop-words `a an the to of and with etc`.
pub fn description_keywords(description: &str) -> Vec<String> {
    const STOP: [&str; 8] = ["a", "an", "the", "to", "of", "and", "with", "etc"];
    let lowered = description.to_lowercase();
    let mut no_parens = String::new();
    let mut rest = lowered.as_str();
    while let Some(open) = rest.find('(') {
        match rest[open..].find(')') {
            Some(close) => {
                no_parens.push_str(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    no_parens.push_str(rest);
    let cleaned: String = no_parens.chars().filter(|&c| is_word_char(c) || is_py_space(c)).collect();
    split_words(&cleaned).into_iter().filter(|w| !STOP.contains(w)).map(str::to_string).collect()
}

/// Titles for `remove_title` and `add_random_leading_title`, in the reference's order.
pub const TITLES: [&str; 24] = [
    "Mr.", "Mrs.", "Ms.", "Mr", "Mrs", "Ms", "Miss", "Dr.", "Dr", "Prof.", "Prof", "Sir", "Lady", "Lord", "Dame",
    "Master", "Mistress", "Rev.", "Hon.", "Capt.", "Col.", "Lt.", "Sgt.", "Maj.",
];

/// Suffixes for `add_random_trailing_title`, in the reference's order (`Esq` without the dot
/// is not one; the one-letter `V` is).
pub const SUFFIXES: [&str; 10] = ["Jr.", "Sr.", "III", "IV", "V", "PhD", "MD", "Esq.", "Jr", "Sr"];

/// The 26 ASCII "special characters" (apostrophe, slash, backslash, quotes, tilde, backtick
/// are not among them).
pub const SPECIAL_CHARS: &str = "!@#$%^&*()_+-=[]{}|;:,.<>?";

// ---------------------------------------------------------------------------------------------
// Character classes and string helpers (rules.md 0)
// ---------------------------------------------------------------------------------------------

/// Python `str.isalpha` for one character: general category Lu, Ll, Lt, Lm or Lo. Rust's
/// `char::is_alphabetic` is broader (combining vowel signs, letter numbers) and would turn
/// some non-letters into consonants.
fn is_alpha(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// One of the five ASCII lowercase vowels; nothing else (not `y`, not `A`, not `é`).
fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// A letter whose lowercase form is not a vowel (`y`, `ñ`, `é`, Cyrillic… are consonants).
/// The reference tests `c.lower() not in "aeiou"`, a substring test; a multi-code-point
/// lowercase (`İ` → `i̇`) is never a substring of `aeiou`, so it is a consonant too.
fn is_consonant(c: char) -> bool {
    if !is_alpha(c) {
        return false;
    }
    let lowered: String = c.to_lowercase().collect();
    !"aeiou".contains(lowered.as_str())
}

fn is_special(c: char) -> bool {
    SPECIAL_CHARS.contains(c)
}

/// Python's `str.isspace`: Unicode whitespace plus the information separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python regex `\w` on `str` (only used for description keywords, which are ASCII).
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Python `str.split()` without argument.
fn split_words(s: &str) -> Vec<&str> {
    s.split(is_py_space).filter(|w| !w.is_empty()).collect()
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn lower_chars(s: &str) -> Vec<char> {
    s.to_lowercase().chars().collect()
}

/// `s` with position `i` removed.
fn delete_at(s: &[char], i: usize) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len().saturating_sub(1));
    out.extend_from_slice(&s[..i]);
    out.extend_from_slice(&s[i + 1..]);
    out
}

/// Classic Levenshtein distance over code points (insert, delete, substitute cost 1).
fn lev(a: &[char], b: &[char]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn has_adjacent_equal(s: &[char]) -> bool {
    s.windows(2).any(|w| w[0] == w[1])
}

// ---------------------------------------------------------------------------------------------
// Evaluators (rules.md 5, kav-scoring 5.4). Each takes (original, variation) as given.
// ---------------------------------------------------------------------------------------------

/// 5.1 — case-sensitive. o has a space, v has none, o ≠ v, |len(v) − len(o)| ≤ S and
/// lev(o without spaces, v) ≤ S + 1 (S = spaces in o). Never checks that a special character
/// was used (R1): `johnsmith` passes.
fn replace_spaces_with_random_special_characters(o: &str, v: &str) -> bool {
    if !o.contains(' ') || v.contains(' ') || o == v {
        return false;
    }
    let spaces = o.chars().filter(|&c| c == ' ').count();
    let (oc, vc) = (o.chars().count(), v.chars().count());
    if oc.abs_diff(vc) > spaces {
        return false;
    }
    let stripped: Vec<char> = o.chars().filter(|&c| c != ' ').collect();
    lev(&stripped, &chars(v)) <= spaces + 1
}

/// 5.2 — lowercases. Some doubled *letter* of lower(o), deleted once, gives lower(v).
fn replace_double_letters_with_single_letter(o: &str, v: &str) -> bool {
    let ol = lower_chars(o);
    if !has_adjacent_equal(&ol) {
        return false;
    }
    let vl = lower_chars(v);
    if vl.len() + 1 != ol.len() {
        return false;
    }
    (0..ol.len() - 1).any(|i| ol[i] == ol[i + 1] && is_alpha(ol[i]) && delete_at(&ol, i) == vl)
}

/// Shared shape of 5.3 / 5.4 / 5.5: `original` must contain a `class` character; equal
/// lengths, different strings; at least one class→class substitution and at most one other.
fn replace_within_class(ol: &[char], vl: &[char], class: fn(char) -> bool) -> bool {
    if !ol.iter().any(|&c| class(c)) || ol == vl || ol.len() != vl.len() {
        return false;
    }
    let (mut within, mut other) = (0usize, 0usize);
    for (&a, &b) in ol.iter().zip(vl) {
        if a != b {
            if class(a) && class(b) {
                within += 1;
            } else {
                other += 1;
            }
        }
    }
    within >= 1 && other <= 1
}

/// 5.3 — lowercases. Vowel→vowel changes ≥ 1 and other changes ≤ 1 (`i → y` is "other").
fn replace_random_vowel_with_random_vowel(o: &str, v: &str) -> bool {
    replace_within_class(&lower_chars(o), &lower_chars(v), is_vowel)
}

/// 5.4 — lowercases. Consonant→consonant changes ≥ 1 and other changes ≤ 1.
fn replace_random_consonant_with_random_consonant(o: &str, v: &str) -> bool {
    replace_within_class(&lower_chars(o), &lower_chars(v), is_consonant)
}

/// 5.5 (not selectable) — case-sensitive. Special→special changes ≥ 1, other changes ≤ 1.
fn replace_random_special_character_with_random_special_character(o: &str, v: &str) -> bool {
    replace_within_class(&chars(o), &chars(v), is_special)
}

/// 5.6 — case-sensitive. Exactly two differing positions, adjacent, crossed. Any two
/// characters qualify (`johns mith`). Also the check for `swap_adjacent_syllables` (R2).
fn swap_random_letter(o: &str, v: &str) -> bool {
    let (oc, vc) = (chars(o), chars(v));
    if oc.len() != vc.len() || oc == vc {
        return false;
    }
    let diff: Vec<usize> = (0..oc.len()).filter(|&i| oc[i] != vc[i]).collect();
    diff.len() == 2 && diff[1] == diff[0] + 1 && oc[diff[0]] == vc[diff[1]] && oc[diff[1]] == vc[diff[0]]
}

/// 5.7 — lowercases. Swapping some adjacent consonant pair of lower(o) gives lower(v).
fn swap_adjacent_consonants(o: &str, v: &str) -> bool {
    let ol = lower_chars(o);
    let pair = |i: usize| is_consonant(ol[i]) && is_consonant(ol[i + 1]);
    if !(0..ol.len().saturating_sub(1)).any(pair) {
        return false;
    }
    let vl = lower_chars(v);
    if ol.len() != vl.len() || ol == vl {
        return false;
    }
    (0..ol.len() - 1).filter(|&i| pair(i)).any(|i| {
        let mut swapped = ol.clone();
        swapped.swap(i, i + 1);
        swapped == vl
    })
}

/// 5.8 — case-sensitive. One character deleted, any character, a space included (R4).
fn delete_random_letter(o: &str, v: &str) -> bool {
    let (oc, vc) = (chars(o), chars(v));
    vc.len() + 1 == oc.len() && lev(&oc, &vc) == 1
}

/// Shared shape of 5.9 / 5.10: lower(o) contains a `class` character, the *raw* length of v is
/// one less than that of o, and deleting one `class` position of lower(o) gives lower(v).
fn remove_one_of_class(o: &str, v: &str, class: fn(char) -> bool) -> bool {
    let ol = lower_chars(o);
    if !ol.iter().any(|&c| class(c)) {
        return false;
    }
    if v.chars().count() + 1 != o.chars().count() {
        return false;
    }
    let vl = lower_chars(v);
    (0..ol.len()).any(|i| class(ol[i]) && delete_at(&ol, i) == vl)
}

/// 5.9 — length test on raw strings, comparison on lowercase.
fn remove_random_vowel(o: &str, v: &str) -> bool {
    remove_one_of_class(o, v, is_vowel)
}

/// 5.10 — as 5.9 with consonants; deleting a space is not a consonant removal.
fn remove_random_consonant(o: &str, v: &str) -> bool {
    remove_one_of_class(o, v, is_consonant)
}

/// 5.11 (not selectable) — case-sensitive. Deleting one special character of o gives v.
fn remove_random_special_character(o: &str, v: &str) -> bool {
    let oc = chars(o);
    if !oc.iter().any(|&c| is_special(c)) {
        return false;
    }
    let vc = chars(v);
    if vc.len() + 1 != oc.len() {
        return false;
    }
    (0..oc.len()).any(|i| is_special(oc[i]) && delete_at(&oc, i) == vc)
}

/// 5.12 (not selectable) — lowercases. o starts with "title ", and v is the rest within
/// Levenshtein distance 2.
fn remove_title(o: &str, v: &str) -> bool {
    let ol = o.to_lowercase();
    let prefixes: Vec<String> = TITLES.iter().map(|t| format!("{} ", t.to_lowercase())).collect();
    if !prefixes.iter().any(|p| ol.starts_with(p.as_str())) {
        return false;
    }
    let vl = v.to_lowercase();
    if ol == vl {
        return false;
    }
    let vlc = chars(&vl);
    prefixes.iter().filter(|p| ol.starts_with(p.as_str())).any(|p| {
        let rest = &ol[p.len()..];
        rest == vl || lev(&vlc, &chars(rest)) <= 2
    })
}

/// 5.13 — case-sensitive. v is o with every ASCII space deleted.
fn remove_all_spaces(o: &str, v: &str) -> bool {
    o.contains(' ') && v == o.replace(' ', "")
}

/// 5.14 — lowercases. Doubling some character of lower(o) — any character, a space included
/// (R3) — gives lower(v).
fn duplicate_random_letter_as_double_letter(o: &str, v: &str) -> bool {
    let (ol, vl) = (lower_chars(o), lower_chars(v));
    if vl.len() != ol.len() + 1 {
        return false;
    }
    (0..ol.len()).any(|i| vl[..=i] == ol[..=i] && vl[i + 1] == ol[i] && vl[i + 2..] == ol[i + 1..])
}

/// 5.15 — case-sensitive. One character inserted, any character (R3).
fn insert_random_letter(o: &str, v: &str) -> bool {
    let (oc, vc) = (chars(o), chars(v));
    vc.len() == oc.len() + 1 && lev(&oc, &vc) == 1
}

/// 5.16 — exact `o == v` rejection, then lowercase. v = "title " + (o within distance 2).
fn add_random_leading_title(o: &str, v: &str) -> bool {
    if o == v {
        return false;
    }
    let (ol, vl) = (o.to_lowercase(), v.to_lowercase());
    let olc = chars(&ol);
    TITLES.iter().any(|t| {
        let prefix = format!("{} ", t.to_lowercase());
        match vl.strip_prefix(prefix.as_str()) {
            Some(rest) => rest == ol || lev(&olc, &chars(rest)) <= 2,
            None => false,
        }
    })
}

/// 5.17 — exact `o == v` rejection, then lowercase. v = (o within distance 2) + " suffix".
fn add_random_trailing_title(o: &str, v: &str) -> bool {
    if o == v {
        return false;
    }
    let (ol, vl) = (o.to_lowercase(), v.to_lowercase());
    let olc = chars(&ol);
    SUFFIXES.iter().any(|s| {
        let ending = format!(" {}", s.to_lowercase());
        if vl == format!("{ol}{ending}") {
            return true;
        }
        match vl.strip_suffix(ending.as_str()) {
            Some(rest) => lev(&olc, &chars(rest)) <= 2,
            None => false,
        }
    })
}

/// 5.18 — lowercases the candidates and v. `c1.c2.…cn.`, `c1. c2. … cn.` or `c1c2…cn`.
fn shorten_name_to_initials(o: &str, v: &str) -> bool {
    if o == v {
        return false;
    }
    let words = split_words(o);
    if words.len() < 2 {
        return false;
    }
    let initials: Vec<String> = words.iter().filter_map(|w| w.chars().next()).map(String::from).collect();
    let vl = v.to_lowercase();
    let candidates = [
        initials.iter().map(|c| format!("{c}.")).collect::<String>(),
        initials.iter().map(|c| format!("{c}.")).collect::<Vec<_>>().join(" "),
        initials.concat(),
    ];
    candidates.iter().any(|c| c.to_lowercase() == vl)
}

/// 5.19 — case-sensitive. Same words (as a multiset, ≥ 2 of them) in a different order.
fn name_parts_permutations(o: &str, v: &str) -> bool {
    let (ow, vw) = (split_words(o), split_words(v));
    if ow.len() < 2 || ow.len() != vw.len() {
        return false;
    }
    // Python sorts str by code point; UTF-8 byte order is the same order.
    let (mut os, mut vs) = (ow.clone(), vw.clone());
    os.sort_unstable();
    vs.sort_unstable();
    os == vs && ow != vw
}

/// 5.20 — lowercases both sides. `<initial>. <rest>` or `<initial>.<rest>`.
fn initial_only_first_name(o: &str, v: &str) -> bool {
    let words = split_words(o);
    if words.len() < 2 {
        return false;
    }
    let Some(initial) = words[0].chars().next() else { return false };
    let rest = words[1..].join(" ");
    let vl = v.to_lowercase();
    format!("{initial}. {rest}").to_lowercase() == vl || format!("{initial}.{rest}").to_lowercase() == vl
}

/// 5.21 — mixed case (R12). One word: v one word, shorter, lower(o) starts with lower(v).
/// Several words: same count, each v-word strictly shorter than and a case-sensitive prefix of
/// the corresponding o-word.
fn shorten_name_to_abbreviations(o: &str, v: &str) -> bool {
    if o == v {
        return false;
    }
    let (ow, vw) = (split_words(o), split_words(v));
    match ow.len() {
        0 => false,
        1 => {
            vw.len() == 1
                && vw[0].chars().count() < ow[0].chars().count()
                && ow[0].to_lowercase().starts_with(&vw[0].to_lowercase())
        }
        n => {
            vw.len() == n && ow.iter().zip(&vw).all(|(a, b)| b.chars().count() < a.chars().count() && a.starts_with(b))
        }
    }
}

/// An evaluator: `(original, variation) -> compliant`.
pub type Evaluator = fn(&str, &str) -> bool;

/// The evaluator for a rule id, or `None` for an id the reference does not know.
pub fn evaluator(rule: &str) -> Option<Evaluator> {
    Some(match rule {
        "replace_spaces_with_random_special_characters" => replace_spaces_with_random_special_characters,
        "replace_double_letters_with_single_letter" => replace_double_letters_with_single_letter,
        "replace_random_vowel_with_random_vowel" => replace_random_vowel_with_random_vowel,
        "replace_random_consonant_with_random_consonant" => replace_random_consonant_with_random_consonant,
        "replace_random_special_character_with_random_special_character" => {
            replace_random_special_character_with_random_special_character
        }
        "swap_random_letter" | "swap_adjacent_syllables" => swap_random_letter,
        "swap_adjacent_consonants" => swap_adjacent_consonants,
        "delete_random_letter" => delete_random_letter,
        "remove_random_vowel" => remove_random_vowel,
        "remove_random_consonant" => remove_random_consonant,
        "remove_random_special_character" => remove_random_special_character,
        "remove_title" => remove_title,
        "remove_all_spaces" => remove_all_spaces,
        "duplicate_random_letter_as_double_letter" => duplicate_random_letter_as_double_letter,
        "insert_random_letter" => insert_random_letter,
        "add_random_leading_title" => add_random_leading_title,
        "add_random_trailing_title" => add_random_trailing_title,
        "shorten_name_to_initials" => shorten_name_to_initials,
        "name_parts_permutations" => name_parts_permutations,
        "initial_only_first_name" => initial_only_first_name,
        "shorten_name_to_abbreviations" => shorten_name_to_abbreviations,
        _ => return None,
    })
}

/// Whether `variation` satisfies `rule` for `original`, exactly as the reference evaluator
/// (case handling per rules.md 8). Unknown rules are never satisfied.
pub fn evaluate(rule: &str, original: &str, variation: &str) -> bool {
    evaluator(rule).is_some_and(|f| f(original, variation))
}

// ---------------------------------------------------------------------------------------------
// Effective rules and compliance (rules.md 4 and 6, kav-scoring 5.3)
// ---------------------------------------------------------------------------------------------

/// Whether `rule` survives the impossible-rule filter for `original` (rules.md 4.1). Only four
/// structural tests exist; every other rule is always effective, even when unsatisfiable (R6).
pub fn is_effective(rule: &str, original: &str) -> bool {
    match rule {
        "name_parts_permutations"
        | "initial_only_first_name"
        | "shorten_name_to_initials"
        | "shorten_name_to_abbreviations" => split_words(original).len() >= 2,
        "replace_spaces_with_random_special_characters" | "remove_all_spaces" => original.contains(' '),
        // Any repeated character counts here, not only letters (R5).
        "replace_double_letters_with_single_letter" => has_adjacent_equal(&lower_chars(original)),
        "swap_adjacent_consonants" => {
            let ol = lower_chars(original);
            ol.windows(2).any(|w| is_consonant(w[0]) && is_consonant(w[1]) && w[0] != w[1])
        }
        _ => true,
    }
}

/// The rules that survive [`is_effective`], in the given order (duplicates kept).
pub fn effective_rules<'a, S: AsRef<str>>(original: &str, rules: &'a [S]) -> Vec<&'a str> {
    rules.iter().map(AsRef::as_ref).filter(|r| is_effective(r, original)).collect()
}

/// Result of [`evaluate_rule_compliance`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Effective rule → compliant variations, in variation order, duplicates kept. Keys are the
    /// effective rules in request order (a rule requested twice is one key).
    pub compliant: IndexMap<String, Vec<String>>,
    /// Distinct compliant strings / number of variations submitted (0 when nothing was evaluated).
    pub ratio: f64,
}

/// rules.md 4 (`evaluate_rule_compliance`): which variations satisfy which effective rule.
/// Returns an empty map and ratio 0 when there are no variations or no effective rule.
pub fn evaluate_rule_compliance<V: AsRef<str>, R: AsRef<str>>(
    original: &str,
    variations: &[V],
    rules: &[R],
) -> Evaluation {
    let effective = effective_rules(original, rules);
    let mut compliant: IndexMap<String, Vec<String>> = IndexMap::new();
    if variations.is_empty() || effective.is_empty() {
        return Evaluation { compliant, ratio: 0.0 };
    }
    for rule in &effective {
        compliant.entry((*rule).to_string()).or_default();
    }
    let mut distinct: IndexSet<&str> = IndexSet::new();
    for variation in variations.iter().map(AsRef::as_ref) {
        // Iterating the effective list (not the map) mirrors the reference: a rule requested
        // twice appends a compliant variation twice to its one list.
        for rule in &effective {
            if evaluate(rule, original, variation) {
                compliant.get_mut(*rule).expect("key inserted above").push(variation.to_string());
                distinct.insert(variation);
            }
        }
    }
    let ratio = distinct.len() as f64 / variations.len() as f64;
    Evaluation { compliant, ratio }
}

/// kav-scoring 5.3 result, with the reference's metric names (serialises as its metrics map).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCompliance {
    /// Effective rule → compliant variations (in order, duplicates kept).
    pub compliant_variations_by_rule: IndexMap<String, Vec<String>>,
    /// Distinct compliant variation → the rules it satisfied (first-seen order, no duplicates).
    pub rules_satisfied_by_variation: IndexMap<String, Vec<String>>,
    /// Distinct compliant strings / rows submitted (the vectors' `ratio`).
    pub compliance_ratio_overall_variations: f64,
    /// C: distinct compliant strings.
    pub overall_compliant_unique_variations_count: usize,
    /// E = max(1, int(rows · target)); 0 on the two early-return paths.
    pub expected_compliant_variations_count: usize,
    /// q.
    pub quantity_score: f64,
    /// d.
    pub rule_diversity_factor: f64,
    /// Effective rules with at least one compliant variation.
    pub num_target_rules_met: usize,
    /// Number of requested rules, before filtering.
    pub total_target_rules: usize,
    /// q × d, the rule score that weighs 0.2 in the name score.
    pub score: f64,
}

impl RuleCompliance {
    /// The distinct compliant strings (name-quality removes every copy of these from the
    /// similarity pool, kav-scoring 5.2 step 2).
    pub fn compliant_set(&self) -> IndexSet<&str> {
        self.rules_satisfied_by_variation.keys().map(String::as_str).collect()
    }

    fn constant(score: f64, total_target_rules: usize) -> Self {
        RuleCompliance {
            compliant_variations_by_rule: IndexMap::new(),
            rules_satisfied_by_variation: IndexMap::new(),
            compliance_ratio_overall_variations: 0.0,
            overall_compliant_unique_variations_count: 0,
            expected_compliant_variations_count: 0,
            quantity_score: score,
            rule_diversity_factor: score,
            num_target_rules_met: 0,
            total_target_rules,
            score,
        }
    }
}

/// Quantity score for r = C / E: 0 if r ≤ 0, r up to 1, then `max(0.5, 1.5 − 0.5·r)`
/// (overshooting the target costs at most half).
pub fn quantity_score(ratio: f64) -> f64 {
    if ratio <= 0.0 {
        0.0
    } else if ratio <= 1.0 {
        ratio
    } else {
        f64::max(0.5, 1.5 - 0.5 * ratio)
    }
}

/// kav-scoring 5.3 / rules.md 6: `rule_compliance(name, variations, rules, target_fraction)`
/// with `target_fraction = rule_percentage / 100`.
///
/// - No variations or no rules: score 0 (all metrics zero).
/// - No effective rule: score 1.0 with quantity and diversity 1 and zero counts (R7 / Q14).
/// - Otherwise `q · d` with C distinct compliant strings, `E = max(1, int(rows · target))`
///   counting every submitted row (R8), and d = rules met / effective rules (0 when C = 0).
pub fn rule_compliance<V: AsRef<str>, R: AsRef<str>>(
    name: &str,
    variations: &[V],
    rules: &[R],
    target_fraction: f64,
) -> RuleCompliance {
    if variations.is_empty() || rules.is_empty() {
        return RuleCompliance::constant(0.0, rules.len());
    }
    let Evaluation { compliant, ratio } = evaluate_rule_compliance(name, variations, rules);
    if compliant.is_empty() {
        return RuleCompliance::constant(1.0, rules.len());
    }
    let mut by_variation: IndexMap<String, Vec<String>> = IndexMap::new();
    for (rule, list) in &compliant {
        for variation in list {
            let rules_of = by_variation.entry(variation.clone()).or_default();
            if !rules_of.contains(rule) {
                rules_of.push(rule.clone());
            }
        }
    }
    let count = by_variation.len();
    // int() truncates; the product is non-negative for any sane target.
    let expected = ((variations.len() as f64 * target_fraction) as usize).max(1);
    let quantity = quantity_score(count as f64 / expected as f64);
    let (met, diversity) = if count == 0 {
        (0, 0.0)
    } else {
        let met = compliant.values().filter(|l| !l.is_empty()).count();
        (met, met as f64 / compliant.len() as f64)
    };
    RuleCompliance {
        compliant_variations_by_rule: compliant,
        rules_satisfied_by_variation: by_variation,
        compliance_ratio_overall_variations: ratio,
        overall_compliant_unique_variations_count: count,
        expected_compliant_variations_count: expected,
        quantity_score: quantity,
        rule_diversity_factor: diversity,
        num_target_rules_met: met,
        total_target_rules: rules.len(),
        score: quantity * diversity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes(rule: &str, o: &str, v: &str) {
        assert!(evaluate(rule, o, v), "{rule}: {o:?} -> {v:?} should comply");
    }
    fn no(rule: &str, o: &str, v: &str) {
        assert!(!evaluate(rule, o, v), "{rule}: {o:?} -> {v:?} should not comply");
    }

    /// The verified examples of rules.md 5.22, computed with the reference evaluator.
    #[test]
    fn verified_examples_of_the_spec() {
        let table: &[(&str, &str, &str, bool)] = &[
            ("replace_spaces_with_random_special_characters", "john smith", "john-smith", true),
            ("replace_spaces_with_random_special_characters", "john smith", "johnsmith", true),
            ("replace_spaces_with_random_special_characters", "john smith", "john--smith", true),
            ("replace_spaces_with_random_special_characters", "john smith", "jon-smith", true),
            ("replace_spaces_with_random_special_characters", "john smith", "john_smyth", true),
            ("replace_spaces_with_random_special_characters", "john smith", "john smith", false),
            ("replace_spaces_with_random_special_characters", "john smith", "john---smith", false),
            ("replace_double_letters_with_single_letter", "anna lee", "ana lee", true),
            ("replace_double_letters_with_single_letter", "anna lee", "anna le", true),
            ("replace_double_letters_with_single_letter", "anna lee", "ann lee", false),
            ("replace_double_letters_with_single_letter", "Anna Lee", "ana lee", true),
            ("replace_random_vowel_with_random_vowel", "john smith", "jahn smith", true),
            ("replace_random_vowel_with_random_vowel", "john smith", "jahn smyth", true),
            ("replace_random_vowel_with_random_vowel", "john smith", "jahn smoth", true),
            ("replace_random_vowel_with_random_vowel", "john smith", "jahn smitt", true),
            ("replace_random_vowel_with_random_vowel", "john smith", "jahn smett", true),
            ("replace_random_consonant_with_random_consonant", "john smith", "john smitt", true),
            ("replace_random_consonant_with_random_consonant", "john smith", "joha smith", false),
            ("replace_random_consonant_with_random_consonant", "john smith", "john smyth", false),
            ("replace_random_consonant_with_random_consonant", "john smith", "john-smitt", true),
            ("swap_random_letter", "john smith", "jonh smith", true),
            ("swap_random_letter", "john smith", "johns mith", true),
            ("swap_random_letter", "john smith", "john smiht", true),
            ("swap_random_letter", "john smith", "Jonh smith", false),
            ("swap_random_letter", "john smith", "smith john", false),
            ("swap_adjacent_consonants", "john smith", "jonh smith", true),
            ("swap_adjacent_consonants", "john smith", "jhon smith", false),
            ("swap_adjacent_consonants", "john smith", "john msith", true),
            ("swap_adjacent_syllables", "john smith", "smith john", false),
            ("swap_adjacent_syllables", "john smith", "jhon smith", true),
            ("delete_random_letter", "john smith", "jon smith", true),
            ("delete_random_letter", "john smith", "johnsmith", true),
            ("delete_random_letter", "john smith", "jonh smith", false),
            ("remove_random_vowel", "john smith", "jhn smith", true),
            ("remove_random_vowel", "john smith", "jon smith", false),
            ("remove_random_consonant", "john smith", "jon smith", true),
            ("remove_random_consonant", "john smith", "john smth", false),
            ("remove_random_consonant", "john smith", "johnsmith", false),
            ("remove_all_spaces", "john smith", "johnsmith", true),
            ("remove_all_spaces", "john smith", "JohnSmith", false),
            ("duplicate_random_letter_as_double_letter", "john smith", "johhn smith", true),
            ("duplicate_random_letter_as_double_letter", "john smith", "john  smith", true),
            ("duplicate_random_letter_as_double_letter", "john smith", "johnn smith", true),
            ("duplicate_random_letter_as_double_letter", "john smith", "jxohn smith", false),
            ("insert_random_letter", "john smith", "johnx smith", true),
            ("insert_random_letter", "john smith", "john1 smith", true),
            ("insert_random_letter", "john smith", "johhn smith", true),
            ("add_random_leading_title", "john smith", "mr john smith", true),
            ("add_random_leading_title", "john smith", "dr. jon smith", true),
            ("add_random_leading_title", "john smith", "sir jon smyth", true),
            ("add_random_leading_title", "john smith", "king john smith", false),
            ("add_random_leading_title", "john smith", "mr. j. smith", false),
            ("add_random_trailing_title", "john smith", "john smith jr.", true),
            ("add_random_trailing_title", "john smith", "john smith phd", true),
            ("add_random_trailing_title", "john smith", "jon smith iii", true),
            ("add_random_trailing_title", "john smith", "john smith v", true),
            ("add_random_trailing_title", "john smith", "john smith esq", false),
            ("shorten_name_to_initials", "john smith", "j.s.", true),
            ("shorten_name_to_initials", "john smith", "j. s.", true),
            ("shorten_name_to_initials", "john smith", "js", true),
            ("shorten_name_to_initials", "john smith", "j.s", false),
            ("shorten_name_to_initials", "john smith", "J.S.", true),
            ("name_parts_permutations", "john smith", "smith john", true),
            ("name_parts_permutations", "john smith", "smith  john", true),
            ("name_parts_permutations", "john smith", "Smith John", false),
            ("name_parts_permutations", "john smith", "smith jon", false),
            ("initial_only_first_name", "john smith", "j. smith", true),
            ("initial_only_first_name", "john smith", "j.smith", true),
            ("initial_only_first_name", "john smith", "j smith", false),
            ("initial_only_first_name", "john smith", "J. Smith", true),
            ("shorten_name_to_abbreviations", "john smith", "jo sm", true),
            ("shorten_name_to_abbreviations", "john smith", "j s", true),
            ("shorten_name_to_abbreviations", "john smith", "jo smith", false),
            ("shorten_name_to_abbreviations", "john smith", "Jo Sm", false),
            ("shorten_name_to_abbreviations", "john", "jo", true),
            ("shorten_name_to_abbreviations", "John", "jo", true),
            ("remove_title", "mr john smith", "john smith", true),
            ("remove_random_special_character", "john-smith", "johnsmith", true),
            ("replace_random_special_character_with_random_special_character", "john-smith", "john_smith", true),
        ];
        for &(rule, o, v, want) in table {
            assert_eq!(evaluate(rule, o, v), want, "{rule}: {o:?} -> {v:?}");
        }
    }

    #[test]
    fn replace_spaces_is_loose() {
        yes("replace_spaces_with_random_special_characters", "ana maria lopez", "ana#maria$lopez");
        no("replace_spaces_with_random_special_characters", "anamaria", "ana-maria"); // o has no space
        no("replace_spaces_with_random_special_characters", "john smith", "jo-hn smith"); // v has a space
    }

    #[test]
    fn double_letters_need_a_letter_pair() {
        yes("replace_double_letters_with_single_letter", "ALLAN POE", "alan poe");
        // Only a doubled space: the rule is effective (R5) but never satisfied.
        assert!(is_effective("replace_double_letters_with_single_letter", "jo  smith"));
        no("replace_double_letters_with_single_letter", "jo  smith", "jo smith");
        no("replace_double_letters_with_single_letter", "john smith", "jon smith");
    }

    #[test]
    fn vowel_and_consonant_replacement() {
        yes("replace_random_vowel_with_random_vowel", "MARIA", "maria".replace('i', "e").as_str());
        no("replace_random_vowel_with_random_vowel", "bcd", "bcf"); // no vowel in o
        no("replace_random_vowel_with_random_vowel", "maria", "mbrib"); // no vowel→vowel change
        no("replace_random_vowel_with_random_vowel", "maria", "maria");
        yes("replace_random_consonant_with_random_consonant", "Yáñez", "yáñes");
        yes("replace_random_consonant_with_random_consonant", "john smith", "jxhn smiht"); // 1 other, 2 consonant
        no("replace_random_consonant_with_random_consonant", "john smith", "jxhn smxtt"); // 2 others
    }

    #[test]
    fn special_character_rules() {
        no("replace_random_special_character_with_random_special_character", "john smith", "john-smith");
        no("replace_random_special_character_with_random_special_character", "john-smith", "john'smith");
        no("remove_random_special_character", "john-smith", "john-smit");
        yes("remove_random_special_character", "o'neil-smith", "o'neilsmith");
    }

    #[test]
    fn swaps() {
        yes("swap_adjacent_syllables", "Anna", "Anan");
        no("swap_random_letter", "john smith", "ojhn msith"); // two swaps
        yes("swap_adjacent_consonants", "JOHN SMITH", "jonh smith"); // lowercases
        no("swap_adjacent_consonants", "anna lee", "anna lee");
    }

    #[test]
    fn deletions() {
        yes("delete_random_letter", "Anna", "Ana");
        no("delete_random_letter", "Anna", "ana"); // case-sensitive
        yes("remove_random_vowel", "ANNA", "nna");
        no("remove_random_vowel", "bcd", "bc");
        yes("remove_random_consonant", "Yáñez", "yáez");
        no("remove_random_consonant", "aeiou", "aeio");
    }

    #[test]
    fn titles() {
        yes("remove_title", "Dr. John Smith", "jon smith");
        no("remove_title", "john smith", "john smith");
        no("remove_title", "mr john smith", "MR JOHN SMITH"); // equal after lowercasing
        no("remove_title", "mr john smith", "smith");
        yes("add_random_leading_title", "John Smith", "Mr. John Smith");
        no("add_random_leading_title", "mr john", "mr john"); // exact o == v
        yes("add_random_trailing_title", "John Smith", "John Smith Jr.");
        no("add_random_trailing_title", "john smith", "john smith king");
        no("add_random_trailing_title", "john smith", "johnny smithers phd"); // 4 edits
    }

    #[test]
    fn insertions() {
        yes("duplicate_random_letter_as_double_letter", "JOHN", "jjohn");
        yes("duplicate_random_letter_as_double_letter", "john", "johnn");
        no("duplicate_random_letter_as_double_letter", "john", "johxn");
        yes("insert_random_letter", "john", "jo-hn");
        no("insert_random_letter", "john", "JOHNN");
    }

    #[test]
    fn formatting_and_structure() {
        yes("shorten_name_to_initials", "Ana María López", "A. M. L.");
        no("shorten_name_to_initials", "john", "j.");
        no("shorten_name_to_initials", "john smith", "j.s.m.");
        yes("initial_only_first_name", "ana maria lopez", "a. maria lopez");
        no("initial_only_first_name", "ana maria lopez", "a. lopez");
        yes("name_parts_permutations", "ana maria lopez", "lopez ana maria");
        no("name_parts_permutations", "ana ana", "ana ana");
        no("name_parts_permutations", "john smith", "john smith jr");
        yes("shorten_name_to_abbreviations", "Maria Lopez", "Ma Lo");
        no("shorten_name_to_abbreviations", "john", "john");
        no("shorten_name_to_abbreviations", "john", "jo hn");
        no("shorten_name_to_abbreviations", "john smith", "jo");
    }

    #[test]
    fn unknown_rule_is_never_satisfied() {
        assert!(evaluator("make_it_rhyme").is_none());
        no("make_it_rhyme", "john", "john");
        assert!(is_effective("make_it_rhyme", "john"));
    }

    #[test]
    fn python_letter_and_space_classes() {
        assert!(is_consonant('y') && is_consonant('ñ') && is_consonant('é') && is_consonant('Ж'));
        assert!(!is_consonant('A') && !is_consonant('1') && !is_consonant(' '));
        assert!(!is_alpha('\u{93E}')); // Devanagari vowel sign AA: Mc, Alphabetic but not isalpha
        assert!(is_consonant('İ')); // lowercases to two code points, not in "aeiou"
        assert_eq!(split_words("a\u{1f}b \u{a0} c"), vec!["a", "b", "c"]);
    }

    #[test]
    fn effective_rule_filter() {
        let rules = [
            "name_parts_permutations",
            "remove_all_spaces",
            "replace_double_letters_with_single_letter",
            "swap_adjacent_consonants",
            "delete_random_letter",
        ];
        assert_eq!(effective_rules("maria", &rules), vec!["delete_random_letter"]);
        assert_eq!(
            effective_rules("Anna Lee", &rules),
            vec![
                "name_parts_permutations",
                "remove_all_spaces",
                "replace_double_letters_with_single_letter",
                "delete_random_letter"
            ]
        );
        assert!(is_effective("swap_adjacent_consonants", "john smith"));
    }

    /// rules.md 5.22 whole-evaluation examples.
    #[test]
    fn whole_evaluations() {
        let e =
            evaluate_rule_compliance("maria", &["mria", "maria"], &["name_parts_permutations", "remove_all_spaces"]);
        assert!(e.compliant.is_empty());
        assert_eq!(e.ratio, 0.0);

        let e = evaluate_rule_compliance(
            "anna lee",
            &["ana lee", "anna le", "ann lee"],
            &["replace_double_letters_with_single_letter", "swap_adjacent_consonants", "remove_random_vowel"],
        );
        let want: IndexMap<String, Vec<String>> = [
            ("replace_double_letters_with_single_letter", vec!["ana lee", "anna le"]),
            ("remove_random_vowel", vec!["anna le", "ann lee"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(e.compliant, want);
        assert_eq!(e.ratio, 1.0);

        let all: Vec<&str> = CATALOGUE.iter().map(|r| r.id).collect();
        let vars = [
            "johnsmith",
            "john_smith",
            "jon smith",
            "smith john",
            "j. smith",
            "j.smith",
            "j.s.",
            "js",
            "jo sm",
            "john smith jr",
            "dr john smith",
            "jhon smith",
            "john smiht",
            "johnn smith",
        ];
        let e = evaluate_rule_compliance("john smith", &vars, &all);
        assert_eq!(e.ratio, 1.0);
        // 21 keys: "john smith" has no double letter, so that rule is not effective.
        assert_eq!(e.compliant.len(), 21);
        let rc = rule_compliance("john smith", &vars, &all, 0.3);
        assert_eq!(
            rc.rules_satisfied_by_variation["john smiht"],
            vec![
                "replace_random_consonant_with_random_consonant",
                "swap_adjacent_consonants",
                "swap_adjacent_syllables",
                "swap_random_letter"
            ]
        );
        assert!(rc.rules_satisfied_by_variation["johnsmith"].contains(&"remove_all_spaces".to_string()));
    }

    /// The verified score examples of rules.md 6.
    #[test]
    fn scores() {
        let vars = [
            "jon smith",
            "jhon smith",
            "smith john",
            "j. smith",
            "jahn smith",
            "johnny smith",
            "john smyth",
            "jonathan smith",
            "jon smyth",
            "j smith",
        ];
        let rc = rule_compliance(
            "john smith",
            &vars,
            &["name_parts_permutations", "initial_only_first_name", "remove_all_spaces"],
            0.25,
        );
        assert_eq!(rc.overall_compliant_unique_variations_count, 2);
        assert_eq!(rc.expected_compliant_variations_count, 2);
        assert_eq!(rc.quantity_score, 1.0);
        assert_eq!(rc.num_target_rules_met, 2);
        assert!((rc.score - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(rc.total_target_rules, 3);

        let rc = rule_compliance(
            "john smith",
            &vars,
            &["replace_random_vowel_with_random_vowel", "delete_random_letter"],
            0.20,
        );
        assert_eq!(rc.compliant_set().into_iter().collect::<Vec<_>>(), vec!["jahn smith", "jon smith"]);
        assert_eq!(rc.score, 1.0);

        let rc = rule_compliance(
            "anna lee",
            &["ana lee", "anna le", "ann lee", "anne lee"],
            &["replace_double_letters_with_single_letter", "swap_adjacent_consonants"],
            0.5,
        );
        assert_eq!((rc.overall_compliant_unique_variations_count, rc.expected_compliant_variations_count), (2, 2));
        assert_eq!((rc.score, rc.total_target_rules), (1.0, 2));

        assert_eq!(quantity_score(2.0), 0.5);
        assert_eq!(quantity_score(1.2), 0.9);
        assert_eq!(quantity_score(5.0), 0.5);
        assert_eq!(quantity_score(0.0), 0.0);
    }

    #[test]
    fn early_returns() {
        let none: [&str; 0] = [];
        let rc = rule_compliance("john smith", &none, &["delete_random_letter"], 0.3);
        assert_eq!((rc.score, rc.total_target_rules), (0.0, 1));
        let rc = rule_compliance("john smith", &["jon smith"], &none, 0.3);
        assert_eq!(rc.score, 0.0);
        // No effective rule: free 1.0 (R7 / Q14).
        let rc = rule_compliance("maria", &["mria"], &["remove_all_spaces", "shorten_name_to_initials"], 0.3);
        assert_eq!((rc.score, rc.quantity_score, rc.rule_diversity_factor), (1.0, 1.0, 1.0));
        assert_eq!((rc.expected_compliant_variations_count, rc.total_target_rules), (0, 2));
        // Nothing compliant: d = 0; E counts every row, "" and duplicates included (R8).
        let rc = rule_compliance(
            "john smith",
            &["", "", "x", "y", "jon smith", "jon smith", "", ""],
            &["delete_random_letter", "remove_all_spaces"],
            0.5,
        );
        assert_eq!(rc.expected_compliant_variations_count, 4);
        assert_eq!(rc.overall_compliant_unique_variations_count, 1);
        assert_eq!(rc.compliant_variations_by_rule["delete_random_letter"], vec!["jon smith", "jon smith"]);
        assert_eq!((rc.quantity_score, rc.rule_diversity_factor, rc.score), (0.25, 0.5, 0.125));
        let rc = rule_compliance("john smith", &["x"], &["delete_random_letter"], 0.3);
        assert_eq!((rc.score, rc.rule_diversity_factor, rc.expected_compliant_variations_count), (0.0, 0.0, 1));
    }

    #[test]
    fn catalogue() {
        assert_eq!(selectable_rules().len(), 19);
        let sizes: Vec<usize> = CATEGORIES.iter().map(|c| rules_in_category(c).len()).collect();
        assert_eq!(sizes, vec![4, 3, 4, 4, 3, 1]);
        assert!(rules_in_category("nope").is_empty());
        assert!(CATALOGUE.iter().all(|r| evaluator(r.id).is_some()));
        assert_eq!(description("swap_adjacent_consonants"), "Swap adjacent consonants");
        assert_eq!(description("remove_title"), "Apply the remove_title transformation");
        assert_eq!(description("x"), "Apply the x transformation");
        assert_eq!(
            rule_sentence(&["Abbreviate name parts"]),
            "Additionally, generate variations that: Abbreviate name parts."
        );
        assert_eq!(
            rule_sentence(&[description("add_random_trailing_title"), description("shorten_name_to_initials")]),
            "Additionally, generate variations that perform these transformations: Add a title suffix (Jr., PhD, etc.), and Convert name to initials."
        );
        assert_eq!(
            rule_sentence(&[
                "Replace spaces with special characters",
                "Use first name initial with last name",
                "Remove a random vowel"
            ]),
            "Additionally, generate variations that perform these transformations: Replace spaces with special characters, Use first name initial with last name, and Remove a random vowel."
        );
        assert_eq!(rule_sentence::<&str>(&[]), "");
    }

    /// rules.md 2.6 keyword table.
    #[test]
    fn keywords() {
        let kw = |r: &str| description_keywords(&description(r));
        assert_eq!(
            kw("replace_random_vowel_with_random_vowel"),
            ["replace", "random", "vowels", "different", "vowels"]
        );
        assert_eq!(kw("add_random_leading_title"), ["add", "title", "prefix"]);
        assert_eq!(
            kw("replace_double_letters_with_single_letter"),
            ["replace", "double", "letters", "single", "letter"]
        );
        assert_eq!(kw("initial_only_first_name"), ["use", "first", "name", "initial", "last", "name"]);
        assert_eq!(kw("delete_random_letter"), ["delete", "random", "letter"]);
    }
}
