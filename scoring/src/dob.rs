//! DOB grading (spec kav-scoring.md section 6): how many of the six date-distance categories a
//! miner's DOB variations cover, per seed, averaged over the graded seeds.
//!
//! The reference parses dates with Python's `datetime.strptime(s, "%Y-%m-%d")` (and `"%Y-%m"`),
//! whose regular expression is reproduced here rather than a general date parser, because its
//! leniency is part of the score: non-padded fields, a day written as space + digit
//! (`1993-05- 6`), but no surrounding whitespace and no year 0.
//!
//! Quirks reproduced:
//! - Q2: the key at position k of the miner's map is graded against `seed_dob[k]`, whatever
//!   seed the key names; extra or reordered keys meet the wrong seed DOB.
//! - Q7: no seed DOBs (or no graded key) gives 0.0.
//! - Q36: the exact seed date counts as "±1 day"; duplicates do not matter here (8.3 penalises).
//!
//! Spec choice kept although Python differs: the spec says ASCII digits only. Python 3.11's
//! `strptime` also accepts other decimal digits (`١٩٩٣-05-26` parses); the vectors do not
//! exercise this, and we follow the spec.
//!
//! A non-string row element reads as its JSON text, `null` as "" (the reference would raise on
//! it; normalised rows from real miners are strings).

use std::borrow::Cow;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// Number of categories a name can find (`total_ranges`).
pub const TOTAL_RANGES: usize = 6;

/// Element `i` of a row as text: the string itself, "" for a missing element or `null`, the
/// JSON text for any other value. A row that is not a list has no elements.
pub(crate) fn cell(row: &Value, i: usize) -> Cow<'_, str> {
    match row.as_array().and_then(|r| r.get(i)) {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(s)) => Cow::Borrowed(s),
        Some(v) => Cow::Owned(v.to_string()),
    }
}

/// A calendar date (proleptic Gregorian, year 1..=9999 as in Python's `datetime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

impl Date {
    /// Days since 0001-01-01 (Python's `toordinal() - 1`).
    pub fn ordinal(self) -> i64 {
        let y = i64::from(self.year) - 1;
        let mut days = y * 365 + y / 4 - y / 100 + y / 400;
        for m in 1..self.month {
            days += i64::from(days_in_month(self.year, m));
        }
        days + i64::from(self.day) - 1
    }
}

/// `%Y`: exactly four ASCII digits.
fn take_year(s: &[u8]) -> Option<(i32, &[u8])> {
    let (y, rest) = s.split_at_checked(4)?;
    y.iter().all(u8::is_ascii_digit).then(|| (y.iter().fold(0i32, |a, d| a * 10 + i32::from(d - b'0')), rest))
}

/// `%m`: `1[0-2]|0[1-9]|[1-9]`, first matching alternative. Every string the later branches
/// could rescue fails anyway, because a `-` must follow.
fn take_month(s: &[u8]) -> Option<(u32, &[u8])> {
    match s {
        [b'1', d @ b'0'..=b'2', rest @ ..] => Some((10 + u32::from(d - b'0'), rest)),
        [b'0', d @ b'1'..=b'9', rest @ ..] => Some((u32::from(d - b'0'), rest)),
        [d @ b'1'..=b'9', rest @ ..] => Some((u32::from(d - b'0'), rest)),
        _ => None,
    }
}

/// `%d`: `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]`, first matching alternative (the match is not
/// anchored; leftover text is an error afterwards).
fn take_day(s: &[u8]) -> Option<(u32, &[u8])> {
    match s {
        [b'3', d @ b'0'..=b'1', rest @ ..] => Some((30 + u32::from(d - b'0'), rest)),
        [t @ b'1'..=b'2', d @ b'0'..=b'9', rest @ ..] => Some((u32::from(t - b'0') * 10 + u32::from(d - b'0'), rest)),
        [b'0', d @ b'1'..=b'9', rest @ ..] => Some((u32::from(d - b'0'), rest)),
        [d @ b'1'..=b'9', rest @ ..] => Some((u32::from(d - b'0'), rest)),
        [b' ', d @ b'1'..=b'9', rest @ ..] => Some((u32::from(d - b'0'), rest)),
        _ => None,
    }
}

fn take_dash(s: &[u8]) -> Option<&[u8]> {
    s.strip_prefix(b"-")
}

/// `datetime.strptime(s, "%Y-%m-%d")`, or `None` where it raises.
pub fn parse_date(s: &str) -> Option<Date> {
    let (year, rest) = take_year(s.as_bytes())?;
    let (month, rest) = take_month(take_dash(rest)?)?;
    let (day, rest) = take_day(take_dash(rest)?)?;
    (rest.is_empty() && year >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
}

/// `datetime.strptime(s, "%Y-%m")` → (year, month), or `None` where it raises.
pub fn parse_year_month(s: &str) -> Option<(i32, u32)> {
    let (year, rest) = take_year(s.as_bytes())?;
    let (month, rest) = take_month(take_dash(rest)?)?;
    (rest.is_empty() && year >= 1).then_some((year, month))
}

/// A DOB category: the reference's internal key and its display label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Day1,
    Days3,
    Days30,
    Days90,
    Days365,
    YearMonth,
    OutsideRange,
    InvalidYearMonth,
    InvalidFormat,
}

impl Category {
    /// The internal key counted in `found_ranges` (`None` for the three non-scoring outcomes).
    pub fn key(self) -> Option<&'static str> {
        match self {
            Category::Day1 => Some("1"),
            Category::Days3 => Some("3"),
            Category::Days30 => Some("30"),
            Category::Days90 => Some("90"),
            Category::Days365 => Some("365"),
            Category::YearMonth => Some("year_month"),
            _ => None,
        }
    }

    /// The reference's label in `category_classifications`.
    pub fn label(self) -> &'static str {
        match self {
            Category::Day1 => "±1 day",
            Category::Days3 => "±3 days",
            Category::Days30 => "±30 days",
            Category::Days90 => "±90 days",
            Category::Days365 => "±365 days",
            Category::YearMonth => "Year+Month only",
            Category::OutsideRange => "Outside range",
            Category::InvalidYearMonth => "Invalid year-month",
            Category::InvalidFormat => "Invalid format",
        }
    }
}

/// Classify one non-empty DOB variation against the parsed seed DOB (section 6 table).
pub fn classify(variation: &str, seed: Date) -> Category {
    if let Some(d) = parse_date(variation) {
        let diff = (d.ordinal() - seed.ordinal()).abs();
        return match diff {
            0..=1 => Category::Day1,
            2..=3 => Category::Days3,
            4..=30 => Category::Days30,
            31..=90 => Category::Days90,
            91..=365 => Category::Days365,
            _ => Category::OutsideRange,
        };
    }
    match parse_year_month(variation) {
        Some((y, m)) if y == seed.year && m == seed.month => Category::YearMonth,
        Some(_) => Category::InvalidYearMonth,
        None => Category::InvalidFormat,
    }
}

/// Per-name entry of `category_classifications`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NameClassification {
    /// Category label → the DOB variations in it (labels in first-seen order).
    Graded { categories: IndexMap<&'static str, Vec<String>>, score: f64 },
    /// The seed DOB did not parse.
    InvalidSeed { error: &'static str, score: f64 },
}

/// The result of [`grade_dobs`] (the `dob_grading` metrics of 1.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DobGrading {
    pub overall_score: f64,
    /// The union of found keys over all names, sorted as strings.
    pub found_ranges: Vec<String>,
    pub total_ranges: usize,
    /// Miner key → classification, for the keys that were graded, in the miner's order.
    pub category_classifications: IndexMap<String, NameClassification>,
}

/// DOB grading of spec 6 over a miner's (padded) rows in the miner's key order.
///
/// The key at position k is graded against `seed_dob[k]` (Q2); keys with no rows, beyond the
/// seed list, or whose seed DOB is empty are skipped. A name's score is the number of distinct
/// categories found divided by 6; the overall score is the mean over graded names.
pub fn grade_dobs(variations: &IndexMap<String, Vec<Value>>, seed_dob: &[String]) -> DobGrading {
    let mut found: Vec<&'static str> = Vec::new();
    let mut name_scores: Vec<f64> = Vec::new();
    let mut classifications = IndexMap::new();
    for (k, (key, rows)) in variations.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let Some(seed) = seed_dob.get(k).filter(|s| !s.is_empty()) else {
            continue;
        };
        let dobs: Vec<Cow<'_, str>> =
            rows.iter().filter(|r| r.as_array().is_some_and(|a| a.len() > 1)).map(|r| cell(r, 1)).collect();
        if dobs.is_empty() {
            continue;
        }
        let Some(seed_date) = parse_date(seed) else {
            classifications
                .insert(key.clone(), NameClassification::InvalidSeed { error: "Invalid seed DOB format", score: 0.0 });
            name_scores.push(0.0);
            continue;
        };
        let mut categories: IndexMap<&'static str, Vec<String>> = IndexMap::new();
        let mut keys: Vec<&'static str> = Vec::new();
        for dob in dobs.iter().filter(|d| !d.is_empty()) {
            let cat = classify(dob, seed_date);
            categories.entry(cat.label()).or_default().push(dob.to_string());
            if let Some(k) = cat.key()
                && !keys.contains(&k)
            {
                keys.push(k);
            }
        }
        let score = keys.len() as f64 / TOTAL_RANGES as f64;
        name_scores.push(score);
        for k in keys {
            if !found.contains(&k) {
                found.push(k);
            }
        }
        classifications.insert(key.clone(), NameClassification::Graded { categories, score });
    }
    let overall_score = if name_scores.is_empty() {
        0.0
    } else {
        name_scores.iter().fold(0.0, |a, s| a + s) / name_scores.len() as f64
    };
    found.sort_unstable();
    DobGrading {
        overall_score,
        found_ranges: found.into_iter().map(String::from).collect(),
        total_ranges: TOTAL_RANGES,
        category_classifications: classifications,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parser_matches_strptime() {
        let ok = ["1993-05-26", "1993-5-26", "1993-05- 6", "1993-5-6", "2000-02-29", "0001-01-01"];
        for s in ok {
            assert!(parse_date(s).is_some(), "{s}");
        }
        let bad = [
            " 1993-05-06",
            "1993-05-06 ",
            "0000-01-01",
            "1993-02-29",
            "1993-13-01",
            "1993-00-01",
            "1993-05-32",
            "1993-05-00",
            "93-05-06",
            "19930-5-06",
            "1993/05/06",
            "1993-05-0",
            "1993-05-  6",
            "١٩٩٣-05-26",
        ];
        for s in bad {
            assert!(parse_date(s).is_none(), "{s}");
        }
        assert_eq!(parse_date("1993-05- 6"), Some(Date { year: 1993, month: 5, day: 6 }));
        assert_eq!(parse_year_month("1993-05"), Some((1993, 5)));
        assert_eq!(parse_year_month("1993-5"), Some((1993, 5)));
        assert_eq!(parse_year_month("1993-05-06"), None);
        assert_eq!(parse_year_month("0000-05"), None);
    }

    #[test]
    fn ordinal_matches_python() {
        // date(1993, 5, 26).toordinal() - 1 == 727708
        assert_eq!(Date { year: 1993, month: 5, day: 26 }.ordinal(), 727_708);
        assert_eq!(Date { year: 1, month: 1, day: 1 }.ordinal(), 0);
    }

    #[test]
    fn spec_example_finds_all_six() {
        let rows: Vec<Value> =
            ["1993-05-26", "1993-05-27", "1993-05-29", "1993-06-20", "1993-08-20", "1994-05-20", "1993-05"]
                .iter()
                .map(|d| json!(["n", d, ""]))
                .collect();
        let v: IndexMap<String, Vec<Value>> = [("x".to_string(), rows)].into_iter().collect();
        let g = grade_dobs(&v, &["1993-5-26".to_string()]);
        assert_eq!(g.overall_score, 1.0);
        assert_eq!(g.found_ranges, ["1", "3", "30", "365", "90", "year_month"]);
    }

    #[test]
    fn invalid_seed_and_positional_seeds() {
        let v: IndexMap<String, Vec<Value>> = [
            ("a".to_string(), vec![json!(["n", "1990-01-01", ""])]),
            ("b".to_string(), vec![json!(["n", "1990-01-01", ""])]),
        ]
        .into_iter()
        .collect();
        let g = grade_dobs(&v, &["1990/01/01".to_string(), "1990-01-02".to_string()]);
        assert_eq!(g.overall_score, (0.0 + 1.0 / 6.0) / 2.0);
        assert_eq!(g.found_ranges, ["1"]);
        assert!(matches!(g.category_classifications["a"], NameClassification::InvalidSeed { .. }));
        assert_eq!(grade_dobs(&v, &[]).overall_score, 0.0);
    }
}
