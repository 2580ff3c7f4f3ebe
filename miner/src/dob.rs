//! DOB variations: unique dates near the seed's, covering every category the validator grades
//! (spec kav-scoring.md 6: ±1, ±3, ±30, ±90, ±365 days and year+month only).
//!
//! The DOB score is the share of the six categories a seed's variations cover, so the first six
//! rows take one category each; later rows stay inside the ranges and never repeat a value
//! (duplicates cost a completeness penalty, 8.3).

/// The `count` DOB variations of a `YYYY-MM-DD` seed: distinct, in the grading ranges, the six
/// categories first. An unparseable seed gives the seed itself on every row (the validator
/// cannot grade it either).
pub fn variations(seed: &str, count: usize) -> Vec<String> {
    let Some(days) = parse_ymd(seed).map(|(y, m, d)| days_from_civil(y, m, d)) else {
        return vec![seed.to_owned(); count];
    };
    let mut out: Vec<String> = Vec::with_capacity(count);
    let mut i = 0;
    while out.len() < count && i < 10_000 {
        let v = dob_variation_days(days, i);
        if !out.contains(&v) {
            out.push(v);
        }
        i += 1;
    }
    out
}

/// Offsets spread over the reference's DOB grading ranges (±1, ±3, ±30, ±90, ±365 days), then
/// a year-month form.
const DOB_OFFSETS: &[i64] = &[1, -3, 30, -90, 365, i64::MIN, -1, 3, -30, 90, -365];

/// The `i`-th DOB variation of a `YYYY-MM-DD` seed; an unparseable seed is returned unchanged.
pub fn dob_variation(seed: &str, i: usize) -> String {
    match parse_ymd(seed).map(|(y, m, d)| days_from_civil(y, m, d)) {
        Some(days) => dob_variation_days(days, i),
        None => seed.to_owned(),
    }
}

fn dob_variation_days(days: i64, i: usize) -> String {
    let offset = match DOB_OFFSETS.get(i) {
        Some(off) => *off,
        // Later rows: 2, -2, 3, -3, ... days — every one inside a graded range (up to ±365).
        None => {
            let t = (i - DOB_OFFSETS.len()) as i64;
            let magnitude = (2 + t / 2).min(365);
            if t % 2 == 0 { magnitude } else { -magnitude }
        }
    };
    match offset {
        i64::MIN => {
            let (y, m, _) = civil_from_days(days);
            format!("{y:04}-{m:02}")
        }
        off => {
            let (y, m, d) = civil_from_days(days + off);
            format!("{y:04}-{m:02}-{d:02}")
        }
    }
}

pub(crate) fn parse_ymd(s: &str) -> Option<(i64, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d) && days_in_month(y, m) >= d).then_some((y, m, d))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use miid_scoring::dob::{Category, classify, parse_date};

    #[test]
    fn dobs_are_valid_and_near() {
        assert_eq!(dob_variation("1990-01-01", 0), "1990-01-02");
        assert_eq!(dob_variation("1990-01-01", 1), "1989-12-29");
        assert_eq!(dob_variation("1990-01-01", 5), "1990-01");
        assert_eq!(dob_variation("2000-02-28", 0), "2000-02-29");
        assert_eq!(dob_variation("not a date", 3), "not a date");
    }

    #[test]
    fn every_category_once_then_distinct_values_in_range() {
        for seed in ["1990-01-01", "1985-12-31", "2000-02-29", "1970-07-07"] {
            let parsed = parse_date(seed).unwrap();
            for count in [6, 10, 15, 30] {
                let v = variations(seed, count);
                assert_eq!(v.len(), count);
                let distinct: std::collections::HashSet<&String> = v.iter().collect();
                assert_eq!(distinct.len(), count, "{v:?}");
                let cats: std::collections::HashSet<Category> = v.iter().map(|d| classify(d, parsed)).collect();
                assert_eq!(cats.len(), 6, "{seed} {count}: {v:?}");
                assert!(cats.iter().all(|c| c.key().is_some()), "{v:?}");
            }
        }
        assert_eq!(variations("garbage", 2), ["garbage", "garbage"]);
    }

    #[test]
    fn civil_round_trip() {
        for d in -800_000..-799_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
