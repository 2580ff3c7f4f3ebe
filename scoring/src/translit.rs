//! Transliteration of non-Latin seed names (spec `kav-scoring.md` 3.4, Q22, Q24, Q25).
//!
//! Before scoring any miner, the reference transliterates every seed whose script is not exactly
//! `latin` once, and scores that seed with the phonetic-only scorer (5.5) against the
//! transliteration. Its procedure asks a local LLM (`tinyllama:latest`, then `llama3.1:latest`,
//! five attempts each), cleans the raw answer, accepts it if it is made of Latin letters only, and
//! otherwise falls back to Python's `Unidecode`.
//!
//! What is here:
//! - [`is_latin_script`]: the script test, exact equality with `latin` (Q25).
//! - [`unidecode()`]: Python `Unidecode` 1.4.0, character for character (the fallback, and the
//!   deterministic transliterator of Q22). Also what address normalisation (9.1) needs.
//! - [`clean_transliteration_output`] and [`is_valid_transliteration`]: steps 2 and 3 of 3.4, for
//!   a pluggable model-backed transliterator that wants to behave like the reference's.
//! - [`transliterate_with_attempts`]: the whole 3.4 procedure given the raw answers of the
//!   attempts (first accepted cleaned answer, else the Unidecode fallback).
//! - [`Transliterator`], with the deterministic default [`UnidecodeTransliterator`], and
//!   [`scoring_name`], which picks the name a seed is scored under.
//!
//! ## Quirks reproduced / deviations
//! - **Q22 (deviate):** the reference's LLM is non-deterministic; the default here is the
//!   reference's own deterministic fallback, Unidecode, behind the [`Transliterator`] interface.
//!   This is a known scoring difference whenever the reference's LLM would have answered.
//! - Q24: the transliteration is used as-is, not lowercased (it is hashed for the part weights and
//!   split into parts unchanged).
//! - Q25: the script test is exact string equality, so `Latin` goes through transliteration.
//! - The fallback output is not validated (it may contain backticks, digits, trailing spaces:
//!   `محمد علي` → ``mHmd `ly``, `习近平` → `Xi Jin Ping `).
//! - Q23 is the scorer's business: an empty transliteration makes the name unscorable there.
//!
//! ## Unidecode compatibility
//! The `unidecode` crate (0.3.0) ports Perl's `Text::Unidecode` 1.23 tables, from which Python's
//! `Unidecode` descends, but the two have drifted. Compared over every code point against Python
//! `Unidecode` 1.4.0 (the reference's requirement is unpinned; 1.4.0 is current), the crate
//! differs on 22,069 BMP code points and knows nothing above U+FFFF:
//! - 21,374 where the crate answers `[?]` or `[?] ` (unknown character) and Python answers `""`
//!   (Python's tables have no `[?]` at all) — handled by one rule: a crate answer containing `[?]`
//!   becomes `""`;
//! - 695 other BMP differences, e.g. the C1 controls U+0080..U+009F (the crate reads them as
//!   Windows-1252: `€` for U+0080, Python gives `""`), `¼` (`1/4` vs Python's ` 1/4`), `Ŋ`/`ŋ`
//!   (swapped in the crate and in Python before 1.4), modifier tone letters, Hiragana/Katakana
//!   `し ち っ つ` (`si ti tu` vs `shi chi tsu`), Greek `ϴ ϵ`, letterlike symbols (`℃` → `degC`);
//! - 918 code points above U+FFFF that Python transliterates (mathematical alphanumerics
//!   U+1D400..U+1D7FF, enclosed alphanumerics U+1F100.., a few others) where the crate gives `""`.
//!
//! The last two groups are the table `OVERRIDES` (1,613 entries, generated from Python's
//! tables; Python wins where they differ, as the reference runs Python). The test
//! `tests/translit.rs` replays `tests/fixtures/unidecode_python.jsonl` (every code point of the
//! blocks of the scripts the validator uses, made with Python `Unidecode` 1.4.0, see
//! `tests/fixtures/gen_unidecode_python.py`). Unidecode 1.3.x differs from 1.4.0 on 27 code
//! points (`Ŋ ŋ`, `℃ ℉ ℞ ℣`, chess and card symbols, U+1D6D5), none of them in a name script
//! except `Ŋ ŋ`.

use std::borrow::Cow;

/// The only script value scored as Latin (Q25: exact, case-sensitive).
pub const LATIN_SCRIPT: &str = "latin";

/// The models the reference asks, in order (3.4 step 1), each up to [`ATTEMPTS_PER_MODEL`] times.
pub const MODELS: [&str; 2] = ["tinyllama:latest", "llama3.1:latest"];

/// Attempts per model (3.4 step 1).
pub const ATTEMPTS_PER_MODEL: usize = 5;

/// The reference's generation options: temperature 0.1, top_p 0.9, at most 50 tokens.
pub const TEMPERATURE: f64 = 0.1;
/// See [`TEMPERATURE`].
pub const TOP_P: f64 = 0.9;
/// See [`TEMPERATURE`].
pub const MAX_TOKENS: u32 = 50;

/// Lines containing one of these (case-insensitively) are instructions echoed by the model, not
/// the answer (3.4 step 2.1).
const META_KEYWORDS: [&str; 5] = ["output only", "do not", "end of output", "input", "latin script"];

/// Whole words deleted from the answer, case-insensitively (3.4 step 2.2).
const SCRIPT_WORDS: [&str; 4] = ["latin", "cyrillic", "arabic", "chinese"];

/// Whether a seed of this script is scored as a Latin name (5.2) rather than transliterated and
/// scored phonetic-only (5.5). Exact equality with `latin`: the generator's occasional `Latin`
/// is *not* Latin here (Q25).
pub fn is_latin_script(script: &str) -> bool {
    script == LATIN_SCRIPT
}

/// The reference's prompt for one attempt (3.4 step 1).
pub fn prompt(name: &str, script: &str) -> String {
    format!("Transliterate this {script} name to Latin script, output only the name:\n{name}")
}

/// Python `Unidecode` 1.4.0 `unidecode(s)`: each character replaced by its ASCII transliteration
/// (ASCII unchanged, unknown characters dropped). No context: the string is the concatenation of
/// the per-character answers, which is why CJK names end with a space (`习近平` → `Xi Jin Ping `).
pub fn unidecode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(unidecode_char(c));
        }
    }
    out
}

/// Python `Unidecode` 1.4.0 of one character: the `unidecode` crate's table, with Python's
/// answer where the two differ (see the module docs).
pub fn unidecode_char(c: char) -> &'static str {
    let cp = c as u32;
    if let Ok(i) = OVERRIDES.binary_search_by_key(&cp, |&(k, _)| k) {
        return OVERRIDES[i].1;
    }
    if cp > 0xFFFF {
        // Every supplementary-plane character Python knows is in OVERRIDES.
        return "";
    }
    let s = unidecode::unidecode_char(c);
    // The crate's "unknown character" marker; Python's tables have none and answer "".
    if s.contains("[?]") { "" } else { s }
}

/// 3.4 step 2: extracts the name from a model's raw answer.
///
/// 1. The first line (Python `splitlines`, each stripped) that is non-empty, contains none of
///    the echoed-instruction keywords (case-insensitive) and has a character in `A–Z`, `a–z` or
///    U+00C0..U+00FF; none gives `""`.
/// 2. The whole words `latin`, `cyrillic`, `arabic`, `chinese` are deleted (case-insensitive).
/// 3. Every character other than `A–Z`, `a–z`, U+00C0..U+00FF, whitespace, `-`, `'` is deleted.
/// 4. Spaces and hyphens are stripped from both ends.
/// 5. Whitespace runs become one space, and the result is stripped.
pub fn clean_transliteration_output(raw: &str) -> String {
    let line = py_splitlines(raw)
        .into_iter()
        .map(py_strip)
        .filter(|l| !l.is_empty())
        .find(|l| {
            let lower = l.to_lowercase();
            !META_KEYWORDS.iter().any(|k| lower.contains(k)) && l.chars().any(is_kept_letter)
        })
        .unwrap_or("");
    let mut text = line.to_string();
    for word in SCRIPT_WORDS {
        text = delete_word_ignore_case(&text, word);
    }
    let text: String = text.chars().filter(|&c| is_kept_letter(c) || py_is_space(c) || c == '-' || c == '\'').collect();
    let text = text.trim_matches([' ', '-']);
    text.split(py_is_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// 3.4 step 3: an answer is accepted when it is non-empty and made only of `A–Z`, `a–z`,
/// U+00C0..U+00FF (which includes `×` and `÷`), whitespace, `-` and `'`.
pub fn is_valid_transliteration(cleaned: &str) -> bool {
    // Python's `re.match(r"^[...]+$")`: `$` also matches before one final "\n", which the
    // character class allows anyway.
    !cleaned.is_empty() && cleaned.chars().all(|c| is_kept_letter(c) || py_is_space(c) || c == '-' || c == '\'')
}

/// The whole 3.4 procedure for one seed name, given the raw answers of the model attempts in the
/// order they were made (at most 10 in the reference: 5 per model): the first answer whose
/// cleaned form is accepted, else the Unidecode fallback (not validated). With no attempts at all
/// this is [`unidecode()`].
pub fn transliterate_with_attempts<I, S>(name: &str, attempts: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    attempts
        .into_iter()
        .map(|raw| clean_transliteration_output(raw.as_ref()))
        .find(|cleaned| is_valid_transliteration(cleaned))
        .unwrap_or_else(|| unidecode(name))
}

/// Where non-Latin seed names get their Latin form (3.4). Pluggable because the reference's
/// answer comes from an LLM (Q22); implementations must be deterministic for reproducible scores.
pub trait Transliterator {
    /// The Latin-script name `name` (written in `script`) is scored under.
    fn transliterate(&self, name: &str, script: &str) -> String;
}

/// The deterministic default (Q22): the reference's own fallback, Python-compatible
/// [`unidecode()`], as if every model attempt had failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnidecodeTransliterator;

impl Transliterator for UnidecodeTransliterator {
    fn transliterate(&self, name: &str, _script: &str) -> String {
        unidecode(name)
    }
}

impl<T: Transliterator + ?Sized> Transliterator for &T {
    fn transliterate(&self, name: &str, script: &str) -> String {
        (**self).transliterate(name, script)
    }
}

/// The name a seed is scored under: itself when its script is exactly `latin`, else its
/// transliteration, unchanged (not lowercased, Q24).
pub fn scoring_name<'a>(name: &'a str, script: &str, transliterator: &(impl Transliterator + ?Sized)) -> Cow<'a, str> {
    if is_latin_script(script) { Cow::Borrowed(name) } else { Cow::Owned(transliterator.transliterate(name, script)) }
}

/// `[A-Za-zÀ-ÿ]`: ASCII letters and U+00C0..=U+00FF.
fn is_kept_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || ('\u{C0}'..='\u{FF}').contains(&c)
}

/// Python's `str.isspace` / regex `\s`: Unicode White_Space plus U+001C..U+001F.
fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Python's `str.strip()`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// Python's `str.splitlines()`: breaks at `\n`, `\r`, `\r\n`, `\v`, `\f`, U+001C..U+001E,
/// U+0085, U+2028, U+2029; no empty last piece for a trailing break.
fn py_splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut iter = s.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let is_break = matches!(
            c,
            '\n' | '\r' | '\u{B}' | '\u{C}' | '\u{1C}' | '\u{1D}' | '\u{1E}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if is_break {
            lines.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' && iter.peek().is_some_and(|&(_, n)| n == '\n') {
                iter.next();
                end += 1;
            }
            start = end;
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

/// Python's regex `\w` on `str`: alphanumeric (letters, and characters with a numeric type) or `_`.
fn py_is_word(c: char) -> bool {
    use unicode_general_category::{GeneralCategory::*, get_general_category};
    c == '_'
        || matches!(
            get_general_category(c),
            UppercaseLetter
                | LowercaseLetter
                | TitlecaseLetter
                | ModifierLetter
                | OtherLetter
                | DecimalNumber
                | LetterNumber
                | OtherNumber
        )
}

/// Whether `c` matches the ASCII lowercase pattern letter `p` under Python's `re.IGNORECASE`
/// (Unicode): equal simple lowercase, plus the engine's extra equivalences `i`/`ı` and `s`/`ſ`
/// (and `K`, the Kelvin sign, which lowercases to `k`).
fn ignore_case_eq(c: char, p: char) -> bool {
    let mut lower = c.to_lowercase();
    // Simple lowercase: the full mapping's first character when it is a single character;
    // U+0130 (İ) lowercases to "i̇" fully and to "i" simply.
    let simple = match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ if c == '\u{130}' => 'i',
        _ => c,
    };
    simple == p || (p == 'i' && simple == '\u{131}') || (p == 's' && simple == '\u{17F}')
}

/// `re.sub(rf"\b{word}\b", "", text, flags=re.IGNORECASE)` for an ASCII lowercase `word`:
/// deletes every non-overlapping occurrence, left to right, bounded by `\w`/non-`\w` transitions.
fn delete_word_ignore_case(text: &str, word: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let pat: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let fits = i + pat.len() <= chars.len()
            && chars[i..i + pat.len()].iter().zip(&pat).all(|(&c, &p)| ignore_case_eq(c, p))
            // The pattern starts and ends with a word character, so `\b` means "no word
            // character just outside".
            && (i == 0 || !py_is_word(chars[i - 1]))
            && chars.get(i + pat.len()).is_none_or(|&c| !py_is_word(c));
        if fits {
            i += pat.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Python `Unidecode` 1.4.0 answers that the `unidecode` 0.3.0 crate does not give (beyond the
/// `[?]` → `""` rule), sorted by code point. Generated by comparing the crate's table with
/// Python's for every code point (see the module docs).
#[rustfmt::skip]
static OVERRIDES: &[(u32, &str)] = &[
    (0x0080, ""), (0x0082, ""), (0x0083, ""), (0x0084, ""), (0x0085, ""), (0x0086, ""),
    (0x0087, ""), (0x0088, ""), (0x0089, ""), (0x008A, ""), (0x008B, ""), (0x008C, ""),
    (0x008E, ""), (0x0091, ""), (0x0092, ""), (0x0093, ""), (0x0094, ""), (0x0095, ""),
    (0x0096, ""), (0x0097, ""), (0x0098, ""), (0x0099, ""), (0x009A, ""), (0x009B, ""),
    (0x009C, ""), (0x009E, ""), (0x009F, ""), (0x00BC, " 1/4"), (0x00BD, " 1/2"), (0x00BE, " 3/4"),
    (0x014A, "NG"), (0x014B, "ng"), (0x02E5, ""), (0x02E6, ""), (0x02E7, ""), (0x02E8, ""),
    (0x02E9, ""), (0x02EA, ""), (0x02EB, ""), (0x02EF, ""), (0x02F0, ""), (0x02F1, ""),
    (0x02F2, ""), (0x02F3, ""), (0x02F4, ""), (0x02F5, ""), (0x02F6, ""), (0x02F7, ""),
    (0x02F8, ""), (0x02F9, ""), (0x02FA, ""), (0x02FB, ""), (0x02FC, ""), (0x02FD, ""),
    (0x02FE, ""), (0x02FF, ""), (0x03F4, ""), (0x03F5, ""), (0x03F6, ""), (0x03F7, ""),
    (0x03F8, ""), (0x03F9, ""), (0x03FC, ""), (0x03FD, ""), (0x03FE, ""), (0x03FF, ""),
    (0x0404, "Ie"), (0x042A, "'"), (0x044A, "'"), (0x0589, ":"), (0x05B0, ""), (0x05BA, "o"),
    (0x05BC, ""), (0x05BE, "-"), (0x05C3, "."), (0x05C6, "n"), (0x05C7, "o"), (0x05D0, "A"),
    (0x05D7, "H"), (0x05D8, "T"), (0x05DA, "KH"), (0x05DB, "KH"), (0x05E5, "TS"), (0x05E6, "TS"),
    (0x05E7, "k"), (0x05E9, "SH"), (0x05EF, "YYY"), (0x05F1, "OY"), (0x05F2, "EY"), (0x06FF, ""),
    (0x0AF0, ""), (0x0AF1, ""), (0x0AF9, ""), (0x13F5, ""), (0x13F8, ""), (0x13F9, ""),
    (0x13FA, ""), (0x13FB, ""), (0x13FC, ""), (0x13FD, ""), (0x1D00, "A"), (0x1D01, "AE"),
    (0x1D02, "ae"), (0x1D03, "B"), (0x1D04, "C"), (0x1D05, "D"), (0x1D06, "D"), (0x1D07, "E"),
    (0x1D08, "e"), (0x1D09, "i"), (0x1D0A, "J"), (0x1D0B, "K"), (0x1D0C, "L"), (0x1D0D, "M"),
    (0x1D0E, "N"), (0x1D0F, "O"), (0x1D11, "O"), (0x1D13, "O"), (0x1D14, "Oe"), (0x1D15, "Ou"),
    (0x1D18, "P"), (0x1D19, "R"), (0x1D1A, "R"), (0x1D1B, "T"), (0x1D1C, "U"), (0x1D1D, "u"),
    (0x1D1E, "u"), (0x1D1F, "m"), (0x1D20, "V"), (0x1D21, "W"), (0x1D22, "Z"), (0x1D2C, "A"),
    (0x1D2D, "AE"), (0x1D2E, "B"), (0x1D2F, "B"), (0x1D30, "D"), (0x1D31, "E"), (0x1D32, "E"),
    (0x1D33, "G"), (0x1D34, "H"), (0x1D35, "I"), (0x1D36, "J"), (0x1D37, "K"), (0x1D38, "L"),
    (0x1D39, "M"), (0x1D3A, "N"), (0x1D3B, "N"), (0x1D3C, "O"), (0x1D3D, "Ou"), (0x1D3E, "P"),
    (0x1D3F, "R"), (0x1D40, "T"), (0x1D41, "U"), (0x1D42, "W"), (0x1D43, "a"), (0x1D44, "a"),
    (0x1D45, "a"), (0x1D46, "ae"), (0x1D47, "b"), (0x1D48, "d"), (0x1D49, "e"), (0x1D4B, "e"),
    (0x1D4C, "e"), (0x1D4D, "g"), (0x1D4E, "i"), (0x1D4F, "k"), (0x1D50, "m"), (0x1D52, "o"),
    (0x1D56, "p"), (0x1D57, "t"), (0x1D58, "u"), (0x1D59, "u"), (0x1D5A, "m"), (0x1D5B, "v"),
    (0x1D5D, "b"), (0x1D5E, "g"), (0x1D5F, "d"), (0x1D60, "f"), (0x1D62, "i"), (0x1D63, "r"),
    (0x1D64, "u"), (0x1D65, "v"), (0x1D66, "b"), (0x1D67, "g"), (0x1D68, "r"), (0x1D69, "f"),
    (0x1D6C, "b"), (0x1D6D, "d"), (0x1D6E, "f"), (0x1D6F, "m"), (0x1D70, "n"), (0x1D71, "p"),
    (0x1D72, "r"), (0x1D73, "r"), (0x1D74, "s"), (0x1D75, "t"), (0x1D76, "z"), (0x1D77, "g"),
    (0x1D7D, "p"), (0x1D80, "b"), (0x1D81, "d"), (0x1D82, "f"), (0x1D83, "g"), (0x1D84, "k"),
    (0x1D85, "l"), (0x1D86, "m"), (0x1D87, "n"), (0x1D88, "p"), (0x1D89, "r"), (0x1D8A, "s"),
    (0x1D8C, "v"), (0x1D8D, "x"), (0x1D8E, "z"), (0x1E9B, "S"), (0x1E9C, ""), (0x1E9D, ""),
    (0x1E9E, "SS"), (0x1E9F, ""), (0x1EFA, ""), (0x1EFB, ""), (0x1EFC, ""), (0x1EFD, ""),
    (0x1EFE, ""), (0x1EFF, ""), (0x2047, "??"), (0x204A, "&"), (0x204E, "*"), (0x2052, "%"),
    (0x2053, "~"), (0x2057, "''''"), (0x205F, " "), (0x2071, "i"), (0x2090, "a"), (0x2091, "e"),
    (0x2092, "o"), (0x2093, "x"), (0x2095, "h"), (0x2096, "k"), (0x2097, "l"), (0x2098, "m"),
    (0x2099, "n"), (0x209A, "p"), (0x209B, "s"), (0x209C, "t"), (0x20B0, "Pf"), (0x20B1, "P"),
    (0x20B2, "G"), (0x20B3, "A"), (0x20B4, "UAH"), (0x20B5, "C|"), (0x20B6, "L"), (0x20B7, "Sm"),
    (0x20B8, "T"), (0x20B9, "Rs"), (0x20BA, "L"), (0x20BB, "M"), (0x20BC, "m"), (0x20BD, "R"),
    (0x20BE, "l"), (0x20BF, "BTC"), (0x2100, " a/c "), (0x2101, " a/s "), (0x2102, "C"),
    (0x2103, "degC"), (0x2105, " c/o "), (0x2106, " c/u "), (0x2109, "degF"), (0x210A, "g"),
    (0x210B, "H"), (0x210C, "H"), (0x210D, "H"), (0x210E, "h"), (0x2110, "I"), (0x2111, "I"),
    (0x2112, "L"), (0x2113, "l"), (0x2115, "N"), (0x2116, "No. "), (0x2117, "(p)"), (0x2119, "P"),
    (0x211A, "Q"), (0x211B, "R"), (0x211C, "R"), (0x211D, "R"), (0x211F, "R/"), (0x2120, "(sm)"),
    (0x2121, "TEL"), (0x2122, "(tm)"), (0x2123, "V/"), (0x2124, "Z"), (0x2126, "ohm"),
    (0x2128, "Z"), (0x212A, "K"), (0x212B, "A"), (0x212C, "B"), (0x212D, "C"), (0x212E, "e"),
    (0x212F, "e"), (0x2130, "E"), (0x2131, "F"), (0x2132, "F"), (0x2133, "M"), (0x2134, "o"),
    (0x2139, "i"), (0x213B, "FAX"), (0x2145, "D"), (0x2146, "d"), (0x2147, "e"), (0x2148, "i"),
    (0x2149, "j"), (0x214D, "A/S"), (0x214E, "F"), (0x2150, " 1/7 "), (0x2151, " 1/9 "),
    (0x2152, " 1/10 "), (0x2189, " 0/3 "), (0x2212, "-"), (0x2215, "/"), (0x2216, "\\"),
    (0x2217, "*"), (0x2223, "|"), (0x2236, ":"), (0x223C, "~"), (0x2264, "<="), (0x2265, ">="),
    (0x2266, "<="), (0x2267, ">="), (0x2303, "^"), (0x2329, "<"), (0x232A, "> "), (0x2460, "1"),
    (0x2461, "2"), (0x2462, "3"), (0x2463, "4"), (0x2464, "5"), (0x2465, "6"), (0x2466, "7"),
    (0x2467, "8"), (0x2468, "9"), (0x2469, "10"), (0x246A, "11"), (0x246B, "12"), (0x246C, "13"),
    (0x246D, "14"), (0x246E, "15"), (0x246F, "16"), (0x2470, "17"), (0x2471, "18"), (0x2472, "19"),
    (0x2473, "20"), (0x2474, "(1)"), (0x2475, "(2)"), (0x2476, "(3)"), (0x2477, "(4)"),
    (0x2478, "(5)"), (0x2479, "(6)"), (0x247A, "(7)"), (0x247B, "(8)"), (0x247C, "(9)"),
    (0x247D, "(10)"), (0x247E, "(11)"), (0x247F, "(12)"), (0x2480, "(13)"), (0x2481, "(14)"),
    (0x2482, "(15)"), (0x2483, "(16)"), (0x2484, "(17)"), (0x2485, "(18)"), (0x2486, "(19)"),
    (0x2487, "(20)"), (0x2488, "1."), (0x2489, "2."), (0x248A, "3."), (0x248B, "4."),
    (0x248C, "5."), (0x248D, "6."), (0x248E, "7."), (0x248F, "8."), (0x2490, "9."), (0x2491, "10."),
    (0x2492, "11."), (0x2493, "12."), (0x2494, "13."), (0x2495, "14."), (0x2496, "15."),
    (0x2497, "16."), (0x2498, "17."), (0x2499, "18."), (0x249A, "19."), (0x249B, "20."),
    (0x249C, "(a)"), (0x249D, "(b)"), (0x249E, "(c)"), (0x249F, "(d)"), (0x24A0, "(e)"),
    (0x24A1, "(f)"), (0x24A2, "(g)"), (0x24A3, "(h)"), (0x24A4, "(i)"), (0x24A5, "(j)"),
    (0x24A6, "(k)"), (0x24A7, "(l)"), (0x24A8, "(m)"), (0x24A9, "(n)"), (0x24AA, "(o)"),
    (0x24AB, "(p)"), (0x24AC, "(q)"), (0x24AD, "(r)"), (0x24AE, "(s)"), (0x24AF, "(t)"),
    (0x24B0, "(u)"), (0x24B1, "(v)"), (0x24B2, "(w)"), (0x24B3, "(x)"), (0x24B4, "(y)"),
    (0x24B5, "(z)"), (0x24B6, "A"), (0x24B7, "B"), (0x24B8, "C"), (0x24B9, "D"), (0x24BA, "E"),
    (0x24BB, "F"), (0x24BC, "G"), (0x24BD, "H"), (0x24BE, "I"), (0x24BF, "J"), (0x24C0, "K"),
    (0x24C1, "L"), (0x24C2, "M"), (0x24C3, "N"), (0x24C4, "O"), (0x24C5, "P"), (0x24C6, "Q"),
    (0x24C7, "R"), (0x24C8, "S"), (0x24C9, "T"), (0x24CA, "U"), (0x24CB, "V"), (0x24CC, "W"),
    (0x24CD, "X"), (0x24CE, "Y"), (0x24CF, "Z"), (0x24D0, "a"), (0x24D1, "b"), (0x24D2, "c"),
    (0x24D3, "d"), (0x24D4, "e"), (0x24D5, "f"), (0x24D6, "g"), (0x24D7, "h"), (0x24D8, "i"),
    (0x24D9, "j"), (0x24DA, "k"), (0x24DB, "l"), (0x24DC, "m"), (0x24DD, "n"), (0x24DE, "o"),
    (0x24DF, "p"), (0x24E0, "q"), (0x24E1, "r"), (0x24E2, "s"), (0x24E3, "t"), (0x24E4, "u"),
    (0x24E5, "v"), (0x24E6, "w"), (0x24E7, "x"), (0x24E8, "y"), (0x24E9, "z"), (0x24EA, "0"),
    (0x24EB, "11"), (0x24EC, "12"), (0x24ED, "13"), (0x24EE, "14"), (0x24EF, "15"), (0x24F0, "16"),
    (0x24F1, "17"), (0x24F2, "18"), (0x24F3, "19"), (0x24F4, "20"), (0x24F5, "1"), (0x24F6, "2"),
    (0x24F7, "3"), (0x24F8, "4"), (0x24F9, "5"), (0x24FA, "6"), (0x24FB, "7"), (0x24FC, "8"),
    (0x24FD, "9"), (0x24FE, "10"), (0x24FF, "0"), (0x25F4, "#"), (0x25F5, "#"), (0x25F6, "#"),
    (0x25F7, "#"), (0x25F8, ""), (0x25F9, ""), (0x25FA, ""), (0x25FB, ""), (0x25FC, ""),
    (0x25FD, ""), (0x25FE, ""), (0x25FF, ""), (0x2654, "white king"), (0x2655, "white queen"),
    (0x2656, "white rook"), (0x2657, "white bishop"), (0x2658, "white knight"),
    (0x2659, "white pawn"), (0x265A, "black king"), (0x265B, "black queen"), (0x265C, "black rook"),
    (0x265D, "black bishop"), (0x265E, "black knight"), (0x265F, "black pawn"), (0x2660, "spades"),
    (0x2661, "hearts"), (0x2662, "diamonds"), (0x2663, "clubs"), (0x2664, "spades"),
    (0x2665, "hearts"), (0x2666, "diamonds"), (0x2667, "clubs"), (0x266F, "#"), (0x2731, "*"),
    (0x2758, "|"), (0x275C, "'"), (0x275D, "\""), (0x275E, "\""), (0x275F, ","), (0x2760, ",,"),
    (0x2762, "!"), (0x27E6, "["), (0x27E8, "<"), (0x27E9, "> "), (0x2983, "{"), (0x2984, "} "),
    (0x2A74, "::="), (0x2A75, "=="), (0x2A76, "==="), (0x2C60, "L"), (0x2C61, "l"), (0x2C62, "L"),
    (0x2C63, "P"), (0x2C64, "R"), (0x2C65, "a"), (0x2C66, "t"), (0x2C67, "H"), (0x2C68, "h"),
    (0x2C69, "K"), (0x2C6A, "k"), (0x2C6B, "Z"), (0x2C6C, "z"), (0x2C6E, "M"), (0x2C6F, "A"),
    (0x2E00, "r"), (0x2E01, "r."), (0x2E06, "T"), (0x2E07, "T."), (0x2E09, "s"), (0x2E0B, "[]"),
    (0x2E0C, "\\"), (0x2E0D, "/"), (0x2E0F, "__"), (0x2E12, ">"), (0x2E13, "%"), (0x2E16, ">"),
    (0x2E17, "="), (0x2E19, "/"), (0x2E1A, "-"), (0x2E1B, "~"), (0x2E1C, "\\"), (0x2E1D, "/"),
    (0x2E1E, "~"), (0x2E1F, "~"), (0x2E20, "|-"), (0x2E21, "-|"), (0x2E26, "<="), (0x2E27, "=>"),
    (0x2E28, "(("), (0x2E29, "))"), (0x2E2C, "::"), (0x2E2E, "?"), (0x2E2F, "'"), (0x2E30, "o"),
    (0x2E31, "."), (0x2E32, ","), (0x2E33, "."), (0x2E34, ","), (0x2E35, ";"), (0x2E3A, "----"),
    (0x2E3B, "------"), (0x2E3C, "x"), (0x2E3D, "|"), (0x2E40, "="), (0x2E41, ","), (0x2E42, "\""),
    (0x2E43, "`--"), (0x3057, "shi"), (0x3061, "chi"), (0x3063, "tsu"), (0x3064, "tsu"),
    (0x30A0, "="), (0x30B7, "shi"), (0x30C1, "chi"), (0x30C3, "tsu"), (0x30C4, "tsu"),
    (0x30FB, "*"), (0x30FC, "-"), (0x30FF, ""), (0x3251, "21"), (0x3252, "22"), (0x3253, "23"),
    (0x3254, "24"), (0x3255, "25"), (0x3256, "26"), (0x3257, "27"), (0x3258, "28"), (0x3259, "29"),
    (0x325A, "30"), (0x325B, "31"), (0x325C, "32"), (0x325D, "33"), (0x325E, "34"), (0x325F, "35"),
    (0x32B1, "36"), (0x32B2, "37"), (0x32B3, "38"), (0x32B4, "39"), (0x32B5, "40"), (0x32B6, "41"),
    (0x32B7, "42"), (0x32B8, "43"), (0x32B9, "44"), (0x32BA, "45"), (0x32BB, "46"), (0x32BC, "47"),
    (0x32BD, "48"), (0x32BE, "49"), (0x32BF, "50"), (0x32CC, "Hg"), (0x32CD, "erg"), (0x32CE, "eV"),
    (0x32CF, "LTD"), (0x3371, "hPa"), (0x3377, "dm"), (0x3378, "dm^2"), (0x3379, "dm^3"),
    (0x337A, "IU"), (0x3382, "uA"), (0x338C, "uF"), (0x338D, "ug"), (0x3395, "ul"), (0x339B, "um"),
    (0x33A3, "mm^3"), (0x33B2, "us"), (0x33B6, "uV"), (0x33BC, "uW"), (0x33DE, "V/m"),
    (0x33DF, "A/m"), (0xFB1D, "i"), (0xFB1F, "AY"), (0xFB21, "A"), (0xFB24, "KH"), (0xFB27, "r"),
    (0xFB2A, "SH"), (0xFB2B, "S"), (0xFB2C, "SH"), (0xFB2D, "S"), (0xFB30, "A"), (0xFB3A, "KH"),
    (0xFB3B, "KH"), (0xFB3E, "m"), (0xFB41, "s"), (0xFB46, "TS"), (0xFB47, "k"), (0xFB49, "SH"),
    (0xFB4B, "o"), (0xFB4C, "v"), (0xFB4D, "KH"), (0xFB4E, "f"), (0xFB4F, "EL"), (0xFDF0, ""),
    (0xFDF1, ""), (0xFDF2, ""), (0xFDF3, ""), (0xFDF4, ""), (0xFDF5, ""), (0xFDF6, ""),
    (0xFDF7, ""), (0xFDF8, ""), (0xFDF9, ""), (0xFDFA, ""), (0xFDFB, ""), (0xFDFC, ""),
    (0xFDFD, ""), (0x1D400, "A"), (0x1D401, "B"), (0x1D402, "C"), (0x1D403, "D"), (0x1D404, "E"),
    (0x1D405, "F"), (0x1D406, "G"), (0x1D407, "H"), (0x1D408, "I"), (0x1D409, "J"), (0x1D40A, "K"),
    (0x1D40B, "L"), (0x1D40C, "M"), (0x1D40D, "N"), (0x1D40E, "O"), (0x1D40F, "P"), (0x1D410, "Q"),
    (0x1D411, "R"), (0x1D412, "S"), (0x1D413, "T"), (0x1D414, "U"), (0x1D415, "V"), (0x1D416, "W"),
    (0x1D417, "X"), (0x1D418, "Y"), (0x1D419, "Z"), (0x1D41A, "a"), (0x1D41B, "b"), (0x1D41C, "c"),
    (0x1D41D, "d"), (0x1D41E, "e"), (0x1D41F, "f"), (0x1D420, "g"), (0x1D421, "h"), (0x1D422, "i"),
    (0x1D423, "j"), (0x1D424, "k"), (0x1D425, "l"), (0x1D426, "m"), (0x1D427, "n"), (0x1D428, "o"),
    (0x1D429, "p"), (0x1D42A, "q"), (0x1D42B, "r"), (0x1D42C, "s"), (0x1D42D, "t"), (0x1D42E, "u"),
    (0x1D42F, "v"), (0x1D430, "w"), (0x1D431, "x"), (0x1D432, "y"), (0x1D433, "z"), (0x1D434, "A"),
    (0x1D435, "B"), (0x1D436, "C"), (0x1D437, "D"), (0x1D438, "E"), (0x1D439, "F"), (0x1D43A, "G"),
    (0x1D43B, "H"), (0x1D43C, "I"), (0x1D43D, "J"), (0x1D43E, "K"), (0x1D43F, "L"), (0x1D440, "M"),
    (0x1D441, "N"), (0x1D442, "O"), (0x1D443, "P"), (0x1D444, "Q"), (0x1D445, "R"), (0x1D446, "S"),
    (0x1D447, "T"), (0x1D448, "U"), (0x1D449, "V"), (0x1D44A, "W"), (0x1D44B, "X"), (0x1D44C, "Y"),
    (0x1D44D, "Z"), (0x1D44E, "a"), (0x1D44F, "b"), (0x1D450, "c"), (0x1D451, "d"), (0x1D452, "e"),
    (0x1D453, "f"), (0x1D454, "g"), (0x1D456, "i"), (0x1D457, "j"), (0x1D458, "k"), (0x1D459, "l"),
    (0x1D45A, "m"), (0x1D45B, "n"), (0x1D45C, "o"), (0x1D45D, "p"), (0x1D45E, "q"), (0x1D45F, "r"),
    (0x1D460, "s"), (0x1D461, "t"), (0x1D462, "u"), (0x1D463, "v"), (0x1D464, "w"), (0x1D465, "x"),
    (0x1D466, "y"), (0x1D467, "z"), (0x1D468, "A"), (0x1D469, "B"), (0x1D46A, "C"), (0x1D46B, "D"),
    (0x1D46C, "E"), (0x1D46D, "F"), (0x1D46E, "G"), (0x1D46F, "H"), (0x1D470, "I"), (0x1D471, "J"),
    (0x1D472, "K"), (0x1D473, "L"), (0x1D474, "M"), (0x1D475, "N"), (0x1D476, "O"), (0x1D477, "P"),
    (0x1D478, "Q"), (0x1D479, "R"), (0x1D47A, "S"), (0x1D47B, "T"), (0x1D47C, "U"), (0x1D47D, "V"),
    (0x1D47E, "W"), (0x1D47F, "X"), (0x1D480, "Y"), (0x1D481, "Z"), (0x1D482, "a"), (0x1D483, "b"),
    (0x1D484, "c"), (0x1D485, "d"), (0x1D486, "e"), (0x1D487, "f"), (0x1D488, "g"), (0x1D489, "h"),
    (0x1D48A, "i"), (0x1D48B, "j"), (0x1D48C, "k"), (0x1D48D, "l"), (0x1D48E, "m"), (0x1D48F, "n"),
    (0x1D490, "o"), (0x1D491, "p"), (0x1D492, "q"), (0x1D493, "r"), (0x1D494, "s"), (0x1D495, "t"),
    (0x1D496, "u"), (0x1D497, "v"), (0x1D498, "w"), (0x1D499, "x"), (0x1D49A, "y"), (0x1D49B, "z"),
    (0x1D49C, "A"), (0x1D49E, "C"), (0x1D49F, "D"), (0x1D4A2, "G"), (0x1D4A5, "J"), (0x1D4A6, "K"),
    (0x1D4A9, "N"), (0x1D4AA, "O"), (0x1D4AB, "P"), (0x1D4AC, "Q"), (0x1D4AE, "S"), (0x1D4AF, "T"),
    (0x1D4B0, "U"), (0x1D4B1, "V"), (0x1D4B2, "W"), (0x1D4B3, "X"), (0x1D4B4, "Y"), (0x1D4B5, "Z"),
    (0x1D4B6, "a"), (0x1D4B7, "b"), (0x1D4B8, "c"), (0x1D4B9, "d"), (0x1D4BB, "f"), (0x1D4BD, "h"),
    (0x1D4BE, "i"), (0x1D4BF, "j"), (0x1D4C0, "k"), (0x1D4C1, "l"), (0x1D4C2, "m"), (0x1D4C3, "n"),
    (0x1D4C5, "p"), (0x1D4C6, "q"), (0x1D4C7, "r"), (0x1D4C8, "s"), (0x1D4C9, "t"), (0x1D4CA, "u"),
    (0x1D4CB, "v"), (0x1D4CC, "w"), (0x1D4CD, "x"), (0x1D4CE, "y"), (0x1D4CF, "z"), (0x1D4D0, "A"),
    (0x1D4D1, "B"), (0x1D4D2, "C"), (0x1D4D3, "D"), (0x1D4D4, "E"), (0x1D4D5, "F"), (0x1D4D6, "G"),
    (0x1D4D7, "H"), (0x1D4D8, "I"), (0x1D4D9, "J"), (0x1D4DA, "K"), (0x1D4DB, "L"), (0x1D4DC, "M"),
    (0x1D4DD, "N"), (0x1D4DE, "O"), (0x1D4DF, "P"), (0x1D4E0, "Q"), (0x1D4E1, "R"), (0x1D4E2, "S"),
    (0x1D4E3, "T"), (0x1D4E4, "U"), (0x1D4E5, "V"), (0x1D4E6, "W"), (0x1D4E7, "X"), (0x1D4E8, "Y"),
    (0x1D4E9, "Z"), (0x1D4EA, "a"), (0x1D4EB, "b"), (0x1D4EC, "c"), (0x1D4ED, "d"), (0x1D4EE, "e"),
    (0x1D4EF, "f"), (0x1D4F0, "g"), (0x1D4F1, "h"), (0x1D4F2, "i"), (0x1D4F3, "j"), (0x1D4F4, "k"),
    (0x1D4F5, "l"), (0x1D4F6, "m"), (0x1D4F7, "n"), (0x1D4F8, "o"), (0x1D4F9, "p"), (0x1D4FA, "q"),
    (0x1D4FB, "r"), (0x1D4FC, "s"), (0x1D4FD, "t"), (0x1D4FE, "u"), (0x1D4FF, "v"), (0x1D500, "w"),
    (0x1D501, "x"), (0x1D502, "y"), (0x1D503, "z"), (0x1D504, "A"), (0x1D505, "B"), (0x1D507, "D"),
    (0x1D508, "E"), (0x1D509, "F"), (0x1D50A, "G"), (0x1D50D, "J"), (0x1D50E, "K"), (0x1D50F, "L"),
    (0x1D510, "M"), (0x1D511, "N"), (0x1D512, "O"), (0x1D513, "P"), (0x1D514, "Q"), (0x1D516, "S"),
    (0x1D517, "T"), (0x1D518, "U"), (0x1D519, "V"), (0x1D51A, "W"), (0x1D51B, "X"), (0x1D51C, "Y"),
    (0x1D51E, "a"), (0x1D51F, "b"), (0x1D520, "c"), (0x1D521, "d"), (0x1D522, "e"), (0x1D523, "f"),
    (0x1D524, "g"), (0x1D525, "h"), (0x1D526, "i"), (0x1D527, "j"), (0x1D528, "k"), (0x1D529, "l"),
    (0x1D52A, "m"), (0x1D52B, "n"), (0x1D52C, "o"), (0x1D52D, "p"), (0x1D52E, "q"), (0x1D52F, "r"),
    (0x1D530, "s"), (0x1D531, "t"), (0x1D532, "u"), (0x1D533, "v"), (0x1D534, "w"), (0x1D535, "x"),
    (0x1D536, "y"), (0x1D537, "z"), (0x1D538, "A"), (0x1D539, "B"), (0x1D53B, "D"), (0x1D53C, "E"),
    (0x1D53D, "F"), (0x1D53E, "G"), (0x1D540, "I"), (0x1D541, "J"), (0x1D542, "K"), (0x1D543, "L"),
    (0x1D544, "M"), (0x1D546, "O"), (0x1D54A, "S"), (0x1D54B, "T"), (0x1D54C, "U"), (0x1D54D, "V"),
    (0x1D54E, "W"), (0x1D54F, "X"), (0x1D550, "Y"), (0x1D552, "a"), (0x1D553, "b"), (0x1D554, "c"),
    (0x1D555, "d"), (0x1D556, "e"), (0x1D557, "f"), (0x1D558, "g"), (0x1D559, "h"), (0x1D55A, "i"),
    (0x1D55B, "j"), (0x1D55C, "k"), (0x1D55D, "l"), (0x1D55E, "m"), (0x1D55F, "n"), (0x1D560, "o"),
    (0x1D561, "p"), (0x1D562, "q"), (0x1D563, "r"), (0x1D564, "s"), (0x1D565, "t"), (0x1D566, "u"),
    (0x1D567, "v"), (0x1D568, "w"), (0x1D569, "x"), (0x1D56A, "y"), (0x1D56B, "z"), (0x1D56C, "A"),
    (0x1D56D, "B"), (0x1D56E, "C"), (0x1D56F, "D"), (0x1D570, "E"), (0x1D571, "F"), (0x1D572, "G"),
    (0x1D573, "H"), (0x1D574, "I"), (0x1D575, "J"), (0x1D576, "K"), (0x1D577, "L"), (0x1D578, "M"),
    (0x1D579, "N"), (0x1D57A, "O"), (0x1D57B, "P"), (0x1D57C, "Q"), (0x1D57D, "R"), (0x1D57E, "S"),
    (0x1D57F, "T"), (0x1D580, "U"), (0x1D581, "V"), (0x1D582, "W"), (0x1D583, "X"), (0x1D584, "Y"),
    (0x1D585, "Z"), (0x1D586, "a"), (0x1D587, "b"), (0x1D588, "c"), (0x1D589, "d"), (0x1D58A, "e"),
    (0x1D58B, "f"), (0x1D58C, "g"), (0x1D58D, "h"), (0x1D58E, "i"), (0x1D58F, "j"), (0x1D590, "k"),
    (0x1D591, "l"), (0x1D592, "m"), (0x1D593, "n"), (0x1D594, "o"), (0x1D595, "p"), (0x1D596, "q"),
    (0x1D597, "r"), (0x1D598, "s"), (0x1D599, "t"), (0x1D59A, "u"), (0x1D59B, "v"), (0x1D59C, "w"),
    (0x1D59D, "x"), (0x1D59E, "y"), (0x1D59F, "z"), (0x1D5A0, "A"), (0x1D5A1, "B"), (0x1D5A2, "C"),
    (0x1D5A3, "D"), (0x1D5A4, "E"), (0x1D5A5, "F"), (0x1D5A6, "G"), (0x1D5A7, "H"), (0x1D5A8, "I"),
    (0x1D5A9, "J"), (0x1D5AA, "K"), (0x1D5AB, "L"), (0x1D5AC, "M"), (0x1D5AD, "N"), (0x1D5AE, "O"),
    (0x1D5AF, "P"), (0x1D5B0, "Q"), (0x1D5B1, "R"), (0x1D5B2, "S"), (0x1D5B3, "T"), (0x1D5B4, "U"),
    (0x1D5B5, "V"), (0x1D5B6, "W"), (0x1D5B7, "X"), (0x1D5B8, "Y"), (0x1D5B9, "Z"), (0x1D5BA, "a"),
    (0x1D5BB, "b"), (0x1D5BC, "c"), (0x1D5BD, "d"), (0x1D5BE, "e"), (0x1D5BF, "f"), (0x1D5C0, "g"),
    (0x1D5C1, "h"), (0x1D5C2, "i"), (0x1D5C3, "j"), (0x1D5C4, "k"), (0x1D5C5, "l"), (0x1D5C6, "m"),
    (0x1D5C7, "n"), (0x1D5C8, "o"), (0x1D5C9, "p"), (0x1D5CA, "q"), (0x1D5CB, "r"), (0x1D5CC, "s"),
    (0x1D5CD, "t"), (0x1D5CE, "u"), (0x1D5CF, "v"), (0x1D5D0, "w"), (0x1D5D1, "x"), (0x1D5D2, "y"),
    (0x1D5D3, "z"), (0x1D5D4, "A"), (0x1D5D5, "B"), (0x1D5D6, "C"), (0x1D5D7, "D"), (0x1D5D8, "E"),
    (0x1D5D9, "F"), (0x1D5DA, "G"), (0x1D5DB, "H"), (0x1D5DC, "I"), (0x1D5DD, "J"), (0x1D5DE, "K"),
    (0x1D5DF, "L"), (0x1D5E0, "M"), (0x1D5E1, "N"), (0x1D5E2, "O"), (0x1D5E3, "P"), (0x1D5E4, "Q"),
    (0x1D5E5, "R"), (0x1D5E6, "S"), (0x1D5E7, "T"), (0x1D5E8, "U"), (0x1D5E9, "V"), (0x1D5EA, "W"),
    (0x1D5EB, "X"), (0x1D5EC, "Y"), (0x1D5ED, "Z"), (0x1D5EE, "a"), (0x1D5EF, "b"), (0x1D5F0, "c"),
    (0x1D5F1, "d"), (0x1D5F2, "e"), (0x1D5F3, "f"), (0x1D5F4, "g"), (0x1D5F5, "h"), (0x1D5F6, "i"),
    (0x1D5F7, "j"), (0x1D5F8, "k"), (0x1D5F9, "l"), (0x1D5FA, "m"), (0x1D5FB, "n"), (0x1D5FC, "o"),
    (0x1D5FD, "p"), (0x1D5FE, "q"), (0x1D5FF, "r"), (0x1D600, "s"), (0x1D601, "t"), (0x1D602, "u"),
    (0x1D603, "v"), (0x1D604, "w"), (0x1D605, "x"), (0x1D606, "y"), (0x1D607, "z"), (0x1D608, "A"),
    (0x1D609, "B"), (0x1D60A, "C"), (0x1D60B, "D"), (0x1D60C, "E"), (0x1D60D, "F"), (0x1D60E, "G"),
    (0x1D60F, "H"), (0x1D610, "I"), (0x1D611, "J"), (0x1D612, "K"), (0x1D613, "L"), (0x1D614, "M"),
    (0x1D615, "N"), (0x1D616, "O"), (0x1D617, "P"), (0x1D618, "Q"), (0x1D619, "R"), (0x1D61A, "S"),
    (0x1D61B, "T"), (0x1D61C, "U"), (0x1D61D, "V"), (0x1D61E, "W"), (0x1D61F, "X"), (0x1D620, "Y"),
    (0x1D621, "Z"), (0x1D622, "a"), (0x1D623, "b"), (0x1D624, "c"), (0x1D625, "d"), (0x1D626, "e"),
    (0x1D627, "f"), (0x1D628, "g"), (0x1D629, "h"), (0x1D62A, "i"), (0x1D62B, "j"), (0x1D62C, "k"),
    (0x1D62D, "l"), (0x1D62E, "m"), (0x1D62F, "n"), (0x1D630, "o"), (0x1D631, "p"), (0x1D632, "q"),
    (0x1D633, "r"), (0x1D634, "s"), (0x1D635, "t"), (0x1D636, "u"), (0x1D637, "v"), (0x1D638, "w"),
    (0x1D639, "x"), (0x1D63A, "y"), (0x1D63B, "z"), (0x1D63C, "A"), (0x1D63D, "B"), (0x1D63E, "C"),
    (0x1D63F, "D"), (0x1D640, "E"), (0x1D641, "F"), (0x1D642, "G"), (0x1D643, "H"), (0x1D644, "I"),
    (0x1D645, "J"), (0x1D646, "K"), (0x1D647, "L"), (0x1D648, "M"), (0x1D649, "N"), (0x1D64A, "O"),
    (0x1D64B, "P"), (0x1D64C, "Q"), (0x1D64D, "R"), (0x1D64E, "S"), (0x1D64F, "T"), (0x1D650, "U"),
    (0x1D651, "V"), (0x1D652, "W"), (0x1D653, "X"), (0x1D654, "Y"), (0x1D655, "Z"), (0x1D656, "a"),
    (0x1D657, "b"), (0x1D658, "c"), (0x1D659, "d"), (0x1D65A, "e"), (0x1D65B, "f"), (0x1D65C, "g"),
    (0x1D65D, "h"), (0x1D65E, "i"), (0x1D65F, "j"), (0x1D660, "k"), (0x1D661, "l"), (0x1D662, "m"),
    (0x1D663, "n"), (0x1D664, "o"), (0x1D665, "p"), (0x1D666, "q"), (0x1D667, "r"), (0x1D668, "s"),
    (0x1D669, "t"), (0x1D66A, "u"), (0x1D66B, "v"), (0x1D66C, "w"), (0x1D66D, "x"), (0x1D66E, "y"),
    (0x1D66F, "z"), (0x1D670, "A"), (0x1D671, "B"), (0x1D672, "C"), (0x1D673, "D"), (0x1D674, "E"),
    (0x1D675, "F"), (0x1D676, "G"), (0x1D677, "H"), (0x1D678, "I"), (0x1D679, "J"), (0x1D67A, "K"),
    (0x1D67B, "L"), (0x1D67C, "M"), (0x1D67D, "N"), (0x1D67E, "O"), (0x1D67F, "P"), (0x1D680, "Q"),
    (0x1D681, "R"), (0x1D682, "S"), (0x1D683, "T"), (0x1D684, "U"), (0x1D685, "V"), (0x1D686, "W"),
    (0x1D687, "X"), (0x1D688, "Y"), (0x1D689, "Z"), (0x1D68A, "a"), (0x1D68B, "b"), (0x1D68C, "c"),
    (0x1D68D, "d"), (0x1D68E, "e"), (0x1D68F, "f"), (0x1D690, "g"), (0x1D691, "h"), (0x1D692, "i"),
    (0x1D693, "j"), (0x1D694, "k"), (0x1D695, "l"), (0x1D696, "m"), (0x1D697, "n"), (0x1D698, "o"),
    (0x1D699, "p"), (0x1D69A, "q"), (0x1D69B, "r"), (0x1D69C, "s"), (0x1D69D, "t"), (0x1D69E, "u"),
    (0x1D69F, "v"), (0x1D6A0, "w"), (0x1D6A1, "x"), (0x1D6A2, "y"), (0x1D6A3, "z"), (0x1D6A4, "i"),
    (0x1D6A5, "j"), (0x1D6A8, "Alpha"), (0x1D6A9, "Beta"), (0x1D6AA, "Gamma"), (0x1D6AB, "Delta"),
    (0x1D6AC, "Epsilon"), (0x1D6AD, "Zeta"), (0x1D6AE, "Eta"), (0x1D6AF, "Theta"),
    (0x1D6B0, "Iota"), (0x1D6B1, "Kappa"), (0x1D6B2, "Lamda"), (0x1D6B3, "Mu"), (0x1D6B4, "Nu"),
    (0x1D6B5, "Xi"), (0x1D6B6, "Omicron"), (0x1D6B7, "Pi"), (0x1D6B8, "Rho"), (0x1D6B9, "Theta"),
    (0x1D6BA, "Sigma"), (0x1D6BB, "Tau"), (0x1D6BC, "Upsilon"), (0x1D6BD, "Phi"), (0x1D6BE, "Chi"),
    (0x1D6BF, "Psi"), (0x1D6C0, "Omega"), (0x1D6C1, "nabla"), (0x1D6C2, "alpha"), (0x1D6C3, "beta"),
    (0x1D6C4, "gamma"), (0x1D6C5, "delta"), (0x1D6C6, "epsilon"), (0x1D6C7, "zeta"),
    (0x1D6C8, "eta"), (0x1D6C9, "theta"), (0x1D6CA, "iota"), (0x1D6CB, "kappa"), (0x1D6CC, "lamda"),
    (0x1D6CD, "mu"), (0x1D6CE, "nu"), (0x1D6CF, "xi"), (0x1D6D0, "omicron"), (0x1D6D1, "pi"),
    (0x1D6D2, "rho"), (0x1D6D3, "sigma"), (0x1D6D4, "sigma"), (0x1D6D5, "tau"),
    (0x1D6D6, "upsilon"), (0x1D6D7, "phi"), (0x1D6D8, "chi"), (0x1D6D9, "psi"), (0x1D6DA, "omega"),
    (0x1D7CE, "0"), (0x1D7CF, "1"), (0x1D7D0, "2"), (0x1D7D1, "3"), (0x1D7D2, "4"), (0x1D7D3, "5"),
    (0x1D7D4, "6"), (0x1D7D5, "7"), (0x1D7D6, "8"), (0x1D7D7, "9"), (0x1D7D8, "0"), (0x1D7D9, "1"),
    (0x1D7DA, "2"), (0x1D7DB, "3"), (0x1D7DC, "4"), (0x1D7DD, "5"), (0x1D7DE, "6"), (0x1D7DF, "7"),
    (0x1D7E0, "8"), (0x1D7E1, "9"), (0x1D7E2, "0"), (0x1D7E3, "1"), (0x1D7E4, "2"), (0x1D7E5, "3"),
    (0x1D7E6, "4"), (0x1D7E7, "5"), (0x1D7E8, "6"), (0x1D7E9, "7"), (0x1D7EA, "8"), (0x1D7EB, "9"),
    (0x1D7EC, "0"), (0x1D7ED, "1"), (0x1D7EE, "2"), (0x1D7EF, "3"), (0x1D7F0, "4"), (0x1D7F1, "5"),
    (0x1D7F2, "6"), (0x1D7F3, "7"), (0x1D7F4, "8"), (0x1D7F5, "9"), (0x1D7F6, "0"), (0x1D7F7, "1"),
    (0x1D7F8, "2"), (0x1D7F9, "3"), (0x1D7FA, "4"), (0x1D7FB, "5"), (0x1D7FC, "6"), (0x1D7FD, "7"),
    (0x1D7FE, "8"), (0x1D7FF, "9"), (0x1F100, "0."), (0x1F101, "0,"), (0x1F102, "1,"),
    (0x1F103, "2,"), (0x1F104, "3,"), (0x1F105, "4,"), (0x1F106, "5,"), (0x1F107, "6,"),
    (0x1F108, "7,"), (0x1F109, "8,"), (0x1F10A, "9,"), (0x1F110, "(A)"), (0x1F111, "(B)"),
    (0x1F112, "(C)"), (0x1F113, "(D)"), (0x1F114, "(E)"), (0x1F115, "(F)"), (0x1F116, "(G)"),
    (0x1F117, "(H)"), (0x1F118, "(I)"), (0x1F119, "(J)"), (0x1F11A, "(K)"), (0x1F11B, "(L)"),
    (0x1F11C, "(M)"), (0x1F11D, "(N)"), (0x1F11E, "(O)"), (0x1F11F, "(P)"), (0x1F120, "(Q)"),
    (0x1F121, "(R)"), (0x1F122, "(S)"), (0x1F123, "(T)"), (0x1F124, "(U)"), (0x1F125, "(V)"),
    (0x1F126, "(W)"), (0x1F127, "(X)"), (0x1F128, "(Y)"), (0x1F129, "(Z)"), (0x1F12A, "<S>"),
    (0x1F12B, "(C)"), (0x1F12C, "(R)"), (0x1F130, "[A]"), (0x1F131, "[B]"), (0x1F132, "[C]"),
    (0x1F133, "[D]"), (0x1F134, "[E]"), (0x1F135, "[F]"), (0x1F136, "[G]"), (0x1F137, "[H]"),
    (0x1F138, "[I]"), (0x1F139, "[J]"), (0x1F13A, "[K]"), (0x1F13B, "[L]"), (0x1F13C, "[M]"),
    (0x1F13D, "[N]"), (0x1F13E, "[O]"), (0x1F13F, "[P]"), (0x1F140, "[Q]"), (0x1F141, "[R]"),
    (0x1F142, "[S]"), (0x1F143, "[T]"), (0x1F144, "[U]"), (0x1F145, "[V]"), (0x1F146, "[W]"),
    (0x1F147, "[X]"), (0x1F148, "[Y]"), (0x1F149, "[Z]"), (0x1F150, "(A)"), (0x1F151, "(B)"),
    (0x1F152, "(C)"), (0x1F153, "(D)"), (0x1F154, "(E)"), (0x1F155, "(F)"), (0x1F156, "(G)"),
    (0x1F157, "(H)"), (0x1F158, "(I)"), (0x1F159, "(J)"), (0x1F15A, "(K)"), (0x1F15B, "(L)"),
    (0x1F15C, "(M)"), (0x1F15D, "(N)"), (0x1F15E, "(O)"), (0x1F15F, "(P)"), (0x1F160, "(Q)"),
    (0x1F161, "(R)"), (0x1F162, "(S)"), (0x1F163, "(T)"), (0x1F164, "(U)"), (0x1F165, "(V)"),
    (0x1F166, "(W)"), (0x1F167, "(X)"), (0x1F168, "(Y)"), (0x1F169, "(Z)"), (0x1F16A, "(mc)"),
    (0x1F16B, "(md)"), (0x1F16C, "(mr)"), (0x1F170, "[A]"), (0x1F171, "[B]"), (0x1F172, "[C]"),
    (0x1F173, "[D]"), (0x1F174, "[E]"), (0x1F175, "[F]"), (0x1F176, "[G]"), (0x1F177, "[H]"),
    (0x1F178, "[I]"), (0x1F179, "[J]"), (0x1F17A, "[K]"), (0x1F17B, "[L]"), (0x1F17C, "[M]"),
    (0x1F17D, "[N]"), (0x1F17E, "[O]"), (0x1F17F, "[P]"), (0x1F180, "[Q]"), (0x1F181, "[R]"),
    (0x1F182, "[S]"), (0x1F183, "[T]"), (0x1F184, "[U]"), (0x1F185, "[V]"), (0x1F186, "[W]"),
    (0x1F187, "[X]"), (0x1F188, "[Y]"), (0x1F189, "[Z]"), (0x1F190, "DJ"), (0x1F191, "[CL]"),
    (0x1F192, "[COOL]"), (0x1F193, "[FREE]"), (0x1F194, "[ID]"), (0x1F195, "[NEW]"),
    (0x1F196, "[NG]"), (0x1F197, "[OK]"), (0x1F198, "[SOS]"), (0x1F199, "[UP!]"), (0x1F19A, "[VS]"),
    (0x1F19B, "[3D]"), (0x1F19C, "[2nd-Scr]"), (0x1F19D, "[2K]"), (0x1F19E, "[4K]"),
    (0x1F19F, "[8K]"), (0x1F1A0, "[5.1]"), (0x1F1A1, "[7.1]"), (0x1F1A2, "[22.2]"),
    (0x1F1A3, "[60P]"), (0x1F1A4, "[120P]"), (0x1F1A5, "[d]"), (0x1F1A6, "[HC]"),
    (0x1F1A7, "[HDR]"), (0x1F1A8, "[Hi-res]"), (0x1F1A9, "[Lossless]"), (0x1F1AA, "[SHV]"),
    (0x1F1AB, "[UHD]"), (0x1F1AC, "[VOD]"), (0x1F1AD, "(m)"), (0x1F670, "et"), (0x1F671, "et"),
    (0x1F672, "et"), (0x1F673, "et"), (0x1F674, "&"), (0x1F675, "&"), (0x1F676, "\""),
    (0x1F677, "\""), (0x1F678, ",,"), (0x1F679, "!?"), (0x1F67A, "!?"), (0x1F67B, "!?"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(unidecode("Алексей Цыденов"), "Aleksei Tsydenov");
        assert_eq!(unidecode("习近平"), "Xi Jin Ping ");
        assert_eq!(unidecode("محمد علي"), "mHmd `ly");
    }

    #[test]
    fn overrides_are_sorted_and_unique() {
        assert!(OVERRIDES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(OVERRIDES.len(), 1613);
    }

    #[test]
    fn python_differences() {
        assert_eq!(unidecode("\u{80}"), "");
        assert_eq!(unidecode("Ŋŋ"), "NGng");
        assert_eq!(unidecode("¼"), " 1/4");
        assert_eq!(unidecode("\u{3400}"), "", "crate's [?] becomes empty");
        assert_eq!(unidecode("𝐀"), "A");
        assert_eq!(unidecode("\u{20000}"), "");
        assert_eq!(unidecode("abc"), "abc");
    }

    #[test]
    fn script_test_is_exact() {
        assert!(is_latin_script("latin"));
        assert!(!is_latin_script("Latin"));
        assert!(!is_latin_script("cyrillic"));
        let t = UnidecodeTransliterator;
        assert_eq!(scoring_name("Иван Петров", "cyrillic", &t), "Ivan Petrov");
        assert_eq!(scoring_name("Ivan", "latin", &t), "Ivan");
        assert_eq!(scoring_name("Ивaн", "Latin", &t), "Ivan");
    }

    #[test]
    fn cleaning_follows_the_steps() {
        // Meta lines skipped, first line with a Latin letter taken.
        assert_eq!(
            clean_transliteration_output("Here is the Latin script version:\n\n  Ivan Petrov  \nmore"),
            "Ivan Petrov"
        );
        assert_eq!(clean_transliteration_output("Input: Иван\nIvan"), "Ivan");
        // Script words removed as whole words only; disallowed characters deleted; ends stripped.
        assert_eq!(clean_transliteration_output("Cyrillic: Latinov"), "Latinov");
        assert_eq!(clean_transliteration_output("- Ivan (Latin) Petrov! -"), "Ivan Petrov");
        assert_eq!(clean_transliteration_output("Ivan\t  O'Neil-Smith 2"), "Ivan O'Neil-Smith");
        assert_eq!(clean_transliteration_output("Иван\n12345"), "");
        assert_eq!(clean_transliteration_output("José ×"), "José ×");
        // Python's IGNORECASE: dotless i and long s match i and s.
        assert_eq!(clean_transliteration_output("LATıN Ivan"), "Ivan");
        assert_eq!(clean_transliteration_output("a\r\nb"), "a");
    }

    #[test]
    fn validation_and_fallback() {
        assert!(is_valid_transliteration("Ivan O'Neil-Smith"));
        assert!(!is_valid_transliteration(""));
        assert!(!is_valid_transliteration("Ivan2"));
        assert_eq!(transliterate_with_attempts("Иван", ["Иван", "Sure! Ivan"]), "Sure Ivan");
        assert_eq!(transliterate_with_attempts("Иван", ["Иван", "42"]), "Ivan");
        assert_eq!(transliterate_with_attempts("محمد علي", Vec::<String>::new()), "mHmd `ly");
        assert_eq!(
            prompt("Иван", "cyrillic"),
            "Transliterate this cyrillic name to Latin script, output only the name:\nИван"
        );
    }

    #[test]
    fn splitlines_like_python() {
        assert_eq!(py_splitlines("a\nb\r\nc\rd\u{2028}e\n"), ["a", "b", "c", "d", "e"]);
        assert_eq!(py_splitlines(""), Vec::<&str>::new());
        assert_eq!(py_splitlines("\n\n"), ["", ""]);
    }
}
