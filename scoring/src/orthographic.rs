//! Orthographic similarity `O(a, b)` (spec 3.2) and the excessive-repetition filter (3.3).
//!
//! `O` is the reference's `1.0 - (Levenshtein.distance(a, b) / max(len(a), len(b)))` with
//! python-Levenshtein's plain unit-cost distance over code points. `strsim::levenshtein` is the
//! same distance over `char`s (code points), and `strsim::normalized_levenshtein` is the same
//! formula with the same operation order (`1.0 - (d as f64) / (max_len as f64)`), so it is used
//! as is, except for one case where they disagree: for two empty strings strsim returns 1.0,
//! while the reference divides by zero, catches the error and returns **0.0**.

/// Levenshtein distance over Unicode code points, unit cost for insertion, deletion and
/// substitution (python-Levenshtein's `distance`). Also used by the rule evaluators (5.4).
pub fn levenshtein(a: &str, b: &str) -> usize {
    if a.is_ascii() && b.is_ascii() {
        // One byte per code point: the same distance, without decoding or allocating.
        if let Some(d) = levenshtein_short_bytes(a.as_bytes(), b.as_bytes()) {
            return d;
        }
    }
    strsim::levenshtein(a, b)
}

/// Unit-cost Levenshtein distance of two byte strings, on a stack row; `None` when `b` is too
/// long for it.
fn levenshtein_short_bytes(a: &[u8], b: &[u8]) -> Option<usize> {
    const MAX: usize = 128;
    if b.len() >= MAX {
        return None;
    }
    if a.is_empty() {
        return Some(b.len());
    }
    let mut row = [0usize; MAX];
    for (j, cell) in row.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let substitution = diagonal + usize::from(ca != cb);
            row[j + 1] = substitution.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    Some(row[b.len()])
}

/// `O(a, b) = 1 − lev(a, b) / max(len(a), len(b))`, lengths in code points (spec 3.2).
///
/// Two empty strings give 0.0, not 1.0: the reference's division by zero is caught and scored 0.
/// Symmetric, in [0, 1].
pub fn similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    if a.is_ascii() && b.is_ascii() {
        // strsim's formula, with lengths in bytes (= code points here).
        return 1.0 - (levenshtein(a, b) as f64) / (a.len().max(b.len()) as f64);
    }
    strsim::normalized_levenshtein(a, b)
}

/// The reference's `has_excessive_letter_repetition(text)` with its default
/// `max_repetition = 2` (spec 3.3): some character occurs three or more times in a row.
///
/// See [`exceeds_repetition`] for the exact matching rule.
pub fn has_excessive_repetition(text: &str) -> bool {
    exceeds_repetition(text, 2)
}

/// The reference's `re.search(r'(.)\1{' + max_repetition + ',}', text, re.IGNORECASE)`: a run of
/// more than `max_repetition` consecutive characters that are equal ignoring case.
///
/// Reproduced quirks of Python's regex engine:
/// - `.` matches any character except `\n`, so only newline runs are exempt; spaces, digits and
///   punctuation count (`...` is excessive).
/// - The back-reference compares characters by their **simple** lowercase mapping (CPython's
///   `_sre.unicode_tolower`), one code point each: `aAa` and `Kkk` (Kelvin sign) are runs, `İii`
///   is a run (U+0130 lowers to `i` here, not to `i` + U+0307), but `ſss` (long s) and `Σσς`
///   (final sigma) are not, since no case folding happens.
/// - The empty string is never excessive; `max_repetition = 0` flags any non-newline character.
pub fn exceeds_repetition(text: &str, max_repetition: usize) -> bool {
    let mut run_key = None;
    let mut run_len = 0usize;
    for c in text.chars() {
        let key = simple_lowercase(c);
        if c != '\n' && Some(key) == run_key {
            run_len += 1;
        } else {
            // A newline never starts a run ('.' does not match it), and no other character
            // lowercases to '\n', so it can never continue one either.
            run_key = (c != '\n').then_some(key);
            run_len = 1;
        }
        if run_key.is_some() && run_len > max_repetition {
            return true;
        }
    }
    false
}

/// Unicode simple lowercase mapping: the single code point `_sre.unicode_tolower` compares.
/// Rust's `to_lowercase` is the full mapping, which differs only for U+0130 (`i` + U+0307);
/// its first code point is the simple mapping. Checked against CPython 3.11 (Unicode 14) over
/// every code point: the only differences are 55 letters added in Unicode 16, unassigned there.
fn simple_lowercase(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_formula() {
        assert_eq!(similarity("", ""), 0.0);
        assert_eq!(similarity("abc", ""), 0.0);
        assert_eq!(similarity("", "abc"), 0.0);
        assert_eq!(similarity("marek", "marek"), 1.0);
        // 1 - 2/15 with the division rounded first, as in Python.
        assert_eq!(similarity("Mariana Stoica", "Marianna Stoicd"), 1.0 - 2.0 / 15.0);
        assert_eq!(similarity("Mariana Stoica", "Marianna Stoicd"), 0.8666666666666667);
        // Code points, not bytes: one substitution of a two-byte letter.
        assert_eq!(levenshtein("josé", "jose"), 1);
        assert_eq!(similarity("josé", "jose"), 0.75);
        assert_eq!(similarity("иван", "иван"), 1.0);
    }

    #[test]
    fn ascii_fast_path_matches_strsim() {
        let words = ["", "a", "ab", "kitten", "sitting", "marek", "mariana stoica", "marianna stoicd", "xyzzy", "aaaa"];
        for a in words {
            for b in words {
                assert_eq!(levenshtein(a, b), strsim::levenshtein(a, b), "{a:?} {b:?}");
                if !(a.is_empty() && b.is_empty()) {
                    assert_eq!(similarity(a, b), strsim::normalized_levenshtein(a, b), "{a:?} {b:?}");
                }
            }
        }
        let long = "ab".repeat(100);
        assert_eq!(levenshtein(&long, "abc"), strsim::levenshtein(&long, "abc"));
        assert_eq!(levenshtein("abc", &long), strsim::levenshtein("abc", &long));
    }

    #[test]
    fn similarity_is_symmetric() {
        for (a, b) in [("kitten", "sitting"), ("a", "abc"), ("Kavurt Akçay", "Kynurt Aakçay")] {
            assert_eq!(similarity(a, b), similarity(b, a));
        }
    }

    #[test]
    fn repetition_cases_from_the_spec() {
        assert!(!has_excessive_repetition(""));
        assert!(has_excessive_repetition("aaa"));
        assert!(has_excessive_repetition("aAa"));
        assert!(has_excessive_repetition("AAA"));
        assert!(has_excessive_repetition("jo..."));
        assert!(has_excessive_repetition("a   b"));
        assert!(has_excessive_repetition("x111"));
        assert!(!has_excessive_repetition("aab"));
        assert!(!has_excessive_repetition("aabaa"));
        assert!(!has_excessive_repetition("a\n\n\nb"), "newline runs are exempt");
        assert!(has_excessive_repetition("a\n\n\nbbb"));
        assert!(!has_excessive_repetition("aa\naa"));
    }

    #[test]
    fn repetition_uses_simple_lowercase_like_python_re() {
        // Checked with CPython 3.11: re.search(r'(.)\1{2,}', s, re.I)
        assert!(has_excessive_repetition("İii"));
        assert!(has_excessive_repetition("\u{212a}kk"), "Kelvin sign lowercases to k");
        assert!(!has_excessive_repetition("ſss"), "long s is not case-folded");
        assert!(!has_excessive_repetition("Σσς"), "final sigma is its own lowercase");
        assert!(has_excessive_repetition("ÄäÄ"));
    }

    #[test]
    fn max_repetition_parameter() {
        assert!(!exceeds_repetition("aaa", 3));
        assert!(exceeds_repetition("aaaa", 3));
        assert!(!exceeds_repetition("ab", 1));
        assert!(exceeds_repetition("abb", 1));
        assert!(exceeds_repetition("a", 0));
        assert!(!exceeds_repetition("\n", 0));
    }
}
