//! The default text engine: name, DOB and address variations without a model.
//!
//! It is simple but honest: every row belongs to a seed the validator sent, every name is a
//! real edit of the seed name (never the seed itself, never a duplicate), every DOB is a valid
//! date near the seed's (spread over the reference's grading ranges), every address is a
//! street address in the seed's own country. The LLM-backed engine that aims at the
//! validator's phonetic/orthographic targets is a separate engine behind the same trait.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use miid_protocol::synapse::{Seed, Uav};

/// Produces the rows of one seed.
pub trait TextEngine: Send + Sync {
    /// `count` rows of `[name, dob, address]` for `seed`.
    fn variations(&self, seed: &Seed, count: usize, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>>;
    /// An address in the seed's country that looks legitimate but may fail geocoding.
    fn uav(&self, seed: &Seed, rng: &mut dyn rand::RngCore) -> Uav;
}

/// Rule-based engine (no model, no network).
#[derive(Debug, Default, Clone)]
pub struct SimpleEngine;

impl TextEngine for SimpleEngine {
    fn variations(&self, seed: &Seed, count: usize, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>> {
        let names = name_variations(&seed.name, count, rng);
        let addresses = addresses_in(&seed.address, names.len(), rng);
        names
            .into_iter()
            .zip(addresses)
            .enumerate()
            .map(|(i, (name, address))| vec![name, dob_variation(&seed.dob, i), address])
            .collect()
    }

    fn uav(&self, seed: &Seed, rng: &mut dyn rand::RngCore) -> Uav {
        let (city, country) = city_and_country(&seed.address, rng);
        let number = rng.random_range(10..999);
        let street = STREETS.choose(rng).expect("streets");
        Uav {
            address: format!("{number} {street} Str, {city}, {country}"),
            label: "Street suffix written as 'Str' (a common typo) so geocoders may not resolve it".into(),
            latitude: None,
            longitude: None,
        }
    }
}

/// How many variations a query asks for: the `Exact number of variations: N` hint when the
/// validator added one, else the number before "variations" (digits or a word), else 10.
pub fn requested_count(query_template: &str) -> usize {
    const WORDS: &[(&str, usize)] = &[
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
        ("twenty", 20),
    ];
    let lower = query_template.to_lowercase();
    if let Some(i) = lower.find("exact number of variations:") {
        let rest = &lower[i + "exact number of variations:".len()..];
        let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<usize>() {
            return n.clamp(1, 50);
        }
    }
    let words: Vec<&str> = lower.split(|c: char| c.is_whitespace()).collect();
    for pair in words.windows(2).chain(words.windows(3)) {
        let (Some(first), Some(last)) = (pair.first(), pair.last()) else { continue };
        if !last.starts_with("variation") {
            continue;
        }
        if let Ok(n) = first.parse::<usize>() {
            return n.clamp(1, 50);
        }
        if let Some((_, n)) = WORDS.iter().find(|(w, _)| w == first) {
            return *n;
        }
    }
    10
}

const VOWELS: &[char] = &['a', 'e', 'i', 'o', 'u'];

/// Up to `count` distinct edits of `name` (one edit to one part of the name each).
pub fn name_variations(name: &str, count: usize, rng: &mut dyn rand::RngCore) -> Vec<String> {
    let parts: Vec<&str> = name.split_whitespace().collect();
    if parts.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    let original = name.to_lowercase();
    let mut attempts = 0;
    while out.len() < count && attempts < count * 50 {
        attempts += 1;
        let which = rng.random_range(0..parts.len());
        // Short names (two-character CJK names, say) run out of single edits: then combine two.
        let edited = if attempts > count * 10 {
            let once = edit_word(parts[which], rng);
            edit_word(&once, rng)
        } else {
            edit_word(parts[which], rng)
        };
        if edited.is_empty() {
            continue;
        }
        let candidate: Vec<&str> =
            parts.iter().enumerate().map(|(i, p)| if i == which { edited.as_str() } else { p }).collect();
        let candidate = candidate.join(" ");
        if candidate.to_lowercase() != original && !out.iter().any(|o| o.eq_ignore_ascii_case(&candidate)) {
            out.push(candidate);
        }
    }
    out
}

/// One random edit: substitute a vowel, delete, double, or swap adjacent letters.
fn edit_word(word: &str, rng: &mut dyn rand::RngCore) -> String {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 2 {
        return format!("{word}{word}");
    }
    let mut c = chars.clone();
    match rng.random_range(0..4) {
        0 => {
            let vowel_positions: Vec<usize> =
                (0..c.len()).filter(|&i| VOWELS.contains(&c[i].to_ascii_lowercase())).collect();
            if let Some(&i) = vowel_positions.choose(rng) {
                let replacement = *VOWELS
                    .iter()
                    .filter(|v| **v != c[i].to_ascii_lowercase())
                    .collect::<Vec<_>>()
                    .choose(rng)
                    .expect("vowels");
                c[i] = if c[i].is_uppercase() { replacement.to_ascii_uppercase() } else { *replacement };
            } else {
                c.remove(rng.random_range(1..c.len()));
            }
        }
        1 if c.len() > 3 => {
            c.remove(rng.random_range(1..c.len()));
        }
        2 => {
            let i = rng.random_range(1..c.len());
            c.insert(i, c[i].to_lowercase().next().unwrap_or(c[i]));
        }
        _ => {
            let i = rng.random_range(1..c.len());
            c.swap(i - 1, i);
            if c[0].is_lowercase() && chars[0].is_uppercase() {
                c[0] = c[0].to_uppercase().next().unwrap_or(c[0]);
                c[1] = c[1].to_lowercase().next().unwrap_or(c[1]);
            }
        }
    }
    c.into_iter().collect()
}

/// Offsets spread over the reference's DOB grading ranges (±1, ±3, ±30, ±90, ±365 days), then
/// a year-month form.
const DOB_OFFSETS: &[i64] = &[1, -3, 30, -90, 365, i64::MIN, -1, 3, -30, 90, -365];

/// The `i`-th DOB variation of a `YYYY-MM-DD` seed; an unparseable seed is returned unchanged.
pub fn dob_variation(seed: &str, i: usize) -> String {
    let Some(days) = parse_ymd(seed).map(|(y, m, d)| days_from_civil(y, m, d)) else {
        return seed.to_owned();
    };
    match DOB_OFFSETS[i % DOB_OFFSETS.len()] {
        i64::MIN => {
            let (y, m, _) = civil_from_days(days);
            format!("{y:04}-{m:02}")
        }
        off => {
            let extra = (i / DOB_OFFSETS.len()) as i64; // later rounds move a little further out
            let (y, m, d) = civil_from_days(days + off + off.signum() * extra);
            format!("{y:04}-{m:02}-{d:02}")
        }
    }
}

fn parse_ymd(s: &str) -> Option<(i64, u32, u32)> {
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

const STREETS: &[&str] = &[
    "Main", "Oak", "Park", "Station", "Church", "Market", "Garden", "River", "Hill", "Lake", "King", "Queen",
    "Victoria", "Mill", "School", "Bridge",
];
const SUFFIXES: &[&str] = &["Street", "Road", "Avenue", "Lane", "Boulevard"];

/// A few real cities per country, so addresses name a place inside the seed's country.
const CITIES: &[(&str, &[&str])] = &[
    ("united states", &["Springfield", "Denver", "Austin", "Portland"]),
    ("usa", &["Springfield", "Denver", "Austin", "Portland"]),
    ("united kingdom", &["London", "Manchester", "Leeds", "Bristol"]),
    ("canada", &["Toronto", "Calgary", "Ottawa", "Halifax"]),
    ("australia", &["Sydney", "Melbourne", "Perth", "Adelaide"]),
    ("germany", &["Berlin", "Hamburg", "Munich", "Cologne"]),
    ("france", &["Paris", "Lyon", "Marseille", "Toulouse"]),
    ("spain", &["Madrid", "Barcelona", "Valencia", "Seville"]),
    ("italy", &["Rome", "Milan", "Naples", "Turin"]),
    ("portugal", &["Lisbon", "Porto", "Braga", "Coimbra"]),
    ("netherlands", &["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"]),
    ("russia", &["Moscow", "Kazan", "Novosibirsk", "Yekaterinburg"]),
    ("ukraine", &["Kyiv", "Lviv", "Odesa", "Kharkiv"]),
    ("poland", &["Warsaw", "Krakow", "Gdansk", "Wroclaw"]),
    ("turkey", &["Istanbul", "Ankara", "Izmir", "Bursa"]),
    ("iran", &["Tehran", "Isfahan", "Shiraz", "Tabriz"]),
    ("iraq", &["Baghdad", "Basra", "Mosul", "Erbil"]),
    ("syria", &["Damascus", "Aleppo", "Homs", "Latakia"]),
    ("egypt", &["Cairo", "Alexandria", "Giza", "Luxor"]),
    ("saudi arabia", &["Riyadh", "Jeddah", "Mecca", "Dammam"]),
    ("united arab emirates", &["Dubai", "Abu Dhabi", "Sharjah", "Ajman"]),
    ("pakistan", &["Karachi", "Lahore", "Islamabad", "Peshawar"]),
    ("india", &["Mumbai", "Delhi", "Bangalore", "Chennai"]),
    ("china", &["Beijing", "Shanghai", "Guangzhou", "Chengdu"]),
    ("japan", &["Tokyo", "Osaka", "Nagoya", "Sapporo"]),
    ("south korea", &["Seoul", "Busan", "Incheon", "Daegu"]),
    ("north korea", &["Pyongyang", "Hamhung", "Chongjin", "Wonsan"]),
    ("vietnam", &["Hanoi", "Da Nang", "Haiphong", "Hue"]),
    ("indonesia", &["Jakarta", "Surabaya", "Bandung", "Medan"]),
    ("philippines", &["Manila", "Cebu City", "Davao City", "Quezon City"]),
    ("brazil", &["Sao Paulo", "Rio de Janeiro", "Brasilia", "Salvador"]),
    ("mexico", &["Mexico City", "Guadalajara", "Monterrey", "Puebla"]),
    ("argentina", &["Buenos Aires", "Cordoba", "Rosario", "Mendoza"]),
    ("colombia", &["Bogota", "Medellin", "Cali", "Barranquilla"]),
    ("venezuela", &["Caracas", "Maracaibo", "Valencia", "Barquisimeto"]),
    ("cuba", &["Havana", "Santiago de Cuba", "Camaguey", "Holguin"]),
    ("nigeria", &["Lagos", "Abuja", "Kano", "Ibadan"]),
    ("kenya", &["Nairobi", "Mombasa", "Kisumu", "Nakuru"]),
    ("south africa", &["Johannesburg", "Cape Town", "Durban", "Pretoria"]),
    ("ethiopia", &["Addis Ababa", "Dire Dawa", "Gondar", "Mekelle"]),
    ("morocco", &["Casablanca", "Rabat", "Marrakesh", "Fez"]),
    ("afghanistan", &["Kabul", "Kandahar", "Herat", "Mazar-i-Sharif"]),
    ("belarus", &["Minsk", "Gomel", "Brest", "Grodno"]),
    ("myanmar", &["Yangon", "Mandalay", "Naypyidaw", "Bago"]),
    ("sudan", &["Khartoum", "Omdurman", "Port Sudan", "Kassala"]),
    ("somalia", &["Mogadishu", "Hargeisa", "Kismayo", "Baidoa"]),
    ("libya", &["Tripoli", "Benghazi", "Misrata", "Sabha"]),
    ("yemen", &["Sanaa", "Aden", "Taiz", "Hodeidah"]),
    ("lebanon", &["Beirut", "Tripoli", "Sidon", "Tyre"]),
    ("israel", &["Tel Aviv", "Jerusalem", "Haifa", "Beersheba"]),
    ("greece", &["Athens", "Thessaloniki", "Patras", "Heraklion"]),
    ("sweden", &["Stockholm", "Gothenburg", "Malmo", "Uppsala"]),
    ("norway", &["Oslo", "Bergen", "Trondheim", "Stavanger"]),
];

/// `(city, country)` for an address in the seed's country: the seed's own city when it names
/// one (`City, Country`), else a city of that country from the geonames table the validator
/// checks regions against (so the region check passes), else a known city, else the country.
fn city_and_country(seed_address: &str, rng: &mut dyn rand::RngCore) -> (String, String) {
    let parts: Vec<&str> = seed_address.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let country = parts.last().copied().unwrap_or(seed_address).to_owned();
    if parts.len() >= 2 {
        return (parts[parts.len() - 2].to_owned(), country);
    }
    // Well-known cities first (any geocoder knows them), as long as the validator's region
    // table agrees they are in this country; else any one-word city of that table (the
    // validator reads the city back as the words before the country).
    let key = country.to_lowercase();
    let known: Vec<&str> = CITIES
        .iter()
        .filter(|(c, _)| *c == key)
        .flat_map(|(_, cities)| cities.iter().copied())
        .filter(|city| miid_scoring::geonames::city_in_country(city, &country))
        .collect();
    if let Some(city) = known.choose(rng) {
        return ((*city).to_owned(), country);
    }
    if let Some(c) = miid_scoring::geonames::find_country(&country) {
        let names: Vec<&String> =
            miid_scoring::geonames::city_names(c.iso).iter().filter(|n| !n.trim().contains(' ')).collect();
        if let Some(name) = names.choose(rng) {
            return (title_case(name.trim()), country);
        }
    }
    let key = country.to_lowercase();
    let city = CITIES
        .iter()
        .find(|(c, _)| *c == key)
        .and_then(|(_, cities)| cities.choose(rng))
        .map(|c| (*c).to_owned())
        .unwrap_or_else(|| format!("{country} City Centre"));
    (city, country)
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// `n` street addresses in the seed's country, complete enough for the validator's format check
/// (spec 7.1: at least 30 word characters, a digit, two commas) and with distinct first sections
/// (the street), which the validator's completeness check treats as duplicates otherwise (8.3).
pub fn addresses_in(seed_address: &str, n: usize, rng: &mut dyn rand::RngCore) -> Vec<String> {
    let mut streets: Vec<(&str, &str)> = STREETS.iter().flat_map(|s| SUFFIXES.iter().map(move |x| (*s, *x))).collect();
    streets.shuffle(rng);
    let mut used_names = std::collections::HashSet::new();
    // Prefer streets whose names are not used yet: "Mill Road" and "Mill Lane" share a word.
    streets.sort_by_key(|(s, _)| !used_names.insert(*s));
    (0..n)
        .map(|i| {
            let (city, country) = city_and_country(seed_address, rng);
            let (street, suffix) = streets[i % streets.len()];
            let number = rng.random_range(1..500);
            let flat = rng.random_range(1..60);
            let postcode = rng.random_range(10_000..99_999);
            let address = format!("{number} {street} {suffix}, Apartment {flat}, {postcode} {city}, {country}");
            if miid_scoring::address::looks_like_address(&address) {
                address
            } else {
                // Short names all round: lengthen the unit section (the validator wants 30 word
                // characters); the street stays the distinct first section.
                format!(
                    "{number} {street} {suffix}, Apartment {flat} Building {}, {postcode} {city}, {country}",
                    flat % 7 + 1
                )
            }
        })
        .collect()
}

/// One street address in the seed's country (see [`addresses_in`]).
pub fn address_in(seed_address: &str, rng: &mut dyn rand::RngCore) -> String {
    addresses_in(seed_address, 1, rng).pop().expect("one address")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn counts_from_templates() {
        assert_eq!(requested_count("Generate 15 variations of the name {name}"), 15);
        assert_eq!(requested_count("Create ten variations of {name} that sound alike"), 10);
        assert_eq!(
            requested_count("Create ten variations.\n[VALIDATION HINTS]: Exact number of variations: 12.; x"),
            12
        );
        assert_eq!(requested_count("Generate 8 name variations of {name}"), 8);
        assert_eq!(requested_count("nothing here"), 10);
    }

    #[test]
    fn names_are_distinct_edits_never_the_seed() {
        let mut r = rng();
        for name in ["John Smith", "Maria Garcia Lopez", "Иван Петров", "李小龙", "王伟", "Al"] {
            let v = name_variations(name, 10, &mut r);
            // two-character names have few distinct edits, even combined
            assert!(v.len() >= 8, "{name}: {v:?}");
            let mut seen = std::collections::HashSet::new();
            for n in &v {
                assert_ne!(n.to_lowercase(), name.to_lowercase());
                assert!(seen.insert(n.to_lowercase()), "duplicate {n}");
                assert_eq!(n.split_whitespace().count(), name.split_whitespace().count());
            }
        }
    }

    #[test]
    fn dobs_are_valid_and_near() {
        assert_eq!(dob_variation("1990-01-01", 0), "1990-01-02");
        assert_eq!(dob_variation("1990-01-01", 1), "1989-12-29");
        assert_eq!(dob_variation("1990-01-01", 5), "1990-01");
        assert_eq!(dob_variation("2000-02-28", 0), "2000-02-29");
        assert_eq!(dob_variation("not a date", 3), "not a date");
        for i in 0..40 {
            let v = dob_variation("1985-12-31", i);
            assert!(v.len() == 7 || parse_ymd(&v).is_some(), "{v}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for d in -800_000..-799_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn addresses_stay_in_the_seed_country() {
        let mut r = rng();
        assert!(address_in("Spain", &mut r).ends_with(", Spain"));
        let a = address_in("Springfield, United States", &mut r);
        assert!(a.ends_with(" Springfield, United States"), "{a}");
        for country in [
            "United States",
            "Spain",
            "United Kingdom",
            "Germany",
            "France",
            "Italy",
            "Russia",
            "Ukraine",
            "Syria",
            "Egypt",
            "China",
            "Japan",
            "South Korea",
            "Pakistan",
            "India",
            "Brazil",
            "Peru",
            "Iran",
            "Cuba",
        ] {
            for a in addresses_in(country, 40, &mut r) {
                assert!(miid_scoring::address::looks_like_address(&a), "{a}");
                assert!(
                    miid_scoring::address::validate_address_region(&a, country),
                    "{a} not in {country} for the validator"
                );
            }
        }
        let many = addresses_in("Germany", 12, &mut r);
        let firsts: std::collections::HashSet<&str> = many.iter().map(|a| a.split(',').next().unwrap()).collect();
        assert_eq!(firsts.len(), 12, "distinct first sections: {many:?}");
        assert!(address_in("Atlantis", &mut r).ends_with(" Atlantis City Centre, Atlantis"));
        let uav = SimpleEngine.uav(&Seed { name: "A".into(), dob: "x".into(), address: "Germany".into() }, &mut r);
        assert!(uav.address.contains(" Str, ") && uav.address.ends_with(", Germany"));
    }
}
