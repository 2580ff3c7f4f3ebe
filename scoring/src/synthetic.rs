//! A synthetic, deterministic round in the reference vectors' `rounds.jsonl` shape, for
//! benchmarks and load tests: it exercises every stage of [`crate::round::score_round`] (names,
//! DOBs, address sampling and scripted geocoding, cheat detection, rank cap, reputation) at a
//! chosen number of miners, without any data file. `vectors::replay_round` and the
//! validator-sim's `score` read it like any vector round.

use serde_json::{Map, Value, json};

use crate::round::RoundConfig;

/// SplitMix64: the synthetic round's deterministic generator.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FIRST: [&str; 15] = [
    "Johanna",
    "Marcello",
    "Theodore",
    "Isabella",
    "Frederik",
    "Annalise",
    "Benedikt",
    "Carolina",
    "Dominik",
    "Eleonora",
    "Gabriel",
    "Henrietta",
    "Leopold",
    "Margarete",
    "Valentin",
];
const LAST: [&str; 15] = [
    "Hoffmann",
    "Rossetti",
    "Blackwood",
    "Fernandez",
    "Lindqvist",
    "Moreau",
    "Schneider",
    "Castellano",
    "Novak",
    "Bianchi",
    "Delacroix",
    "Kowalski",
    "Brennan",
    "Albrecht",
    "Sorensen",
];
/// (city, country): cities of population ≥ 15000 that geonames places in the country.
const PLACES: [(&str, &str); 8] = [
    ("Berlin", "Germany"),
    ("Paris", "France"),
    ("Madrid", "Spain"),
    ("Rome", "Italy"),
    ("Lisbon", "Portugal"),
    ("Vienna", "Austria"),
    ("Warsaw", "Poland"),
    ("Dublin", "Ireland"),
];
const STREETS: [&str; 12] = [
    "Lindenbaum",
    "Chestnut",
    "Riverside",
    "Highfield",
    "Meadowbrook",
    "Kingsbridge",
    "Oakmont",
    "Silverlake",
    "Foxglove",
    "Harborview",
    "Stonegate",
    "Willowmere",
];
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// `edits` random single-letter edits (substitute, delete, insert, swap) of a name part.
fn mutate(rng: &mut Mix, word: &str, edits: usize) -> String {
    let mut w: Vec<u8> = word.to_ascii_lowercase().into_bytes();
    for _ in 0..edits {
        let i = rng.below(w.len());
        match rng.below(4) {
            0 => w[i] = LETTERS[rng.below(26)],
            1 if w.len() > 3 => {
                w.remove(i);
            }
            2 => w.insert(i, LETTERS[rng.below(26)]),
            _ if i + 1 < w.len() => w.swap(i, i + 1),
            _ => w[i] = LETTERS[rng.below(26)],
        }
    }
    let mut s = String::from_utf8(w).expect("ASCII");
    if let Some(first) = s.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    s
}

/// The synthetic round, as a rounds.jsonl-shaped JSON value: `miners` miners (uids from 0, skipping 59 and 63), 15 Latin
/// seeds with DOBs and country addresses, 10 variations each, rule-based query; personas: mostly
/// honest of varying strength (1–4 edits per part), every 16th empty, every 16th silent, every
/// 16th a copy of its neighbour (collusion), every 7th missing a seed; every address scripted
/// with a place-rank-30 result (area bands vary) and a Photon hit; every third hotkey has a
/// reputation. Scoring it exercises every stage of `score_round`.
pub fn round_json(miners: usize) -> Value {
    const SEEDS: usize = 15;
    const VARIATIONS: usize = 10;
    let mut rng = Mix(0x5EED_0054);
    let seeds: Vec<Value> = (0..SEEDS)
        .map(|s| {
            json!({
                "name": format!("{} {}", FIRST[s], LAST[(s * 7) % LAST.len()]),
                "dob": format!("{}-{:02}-{:02}", 1960 + (s * 3) % 40, 1 + s % 12, 1 + (s * 5) % 28),
                "address": PLACES[s % PLACES.len()].1,
                "script": "latin",
                "label": if s == 0 { "High Risk" } else { "positive" },
            })
        })
        .collect();
    let uids: Vec<u16> = (0u16..).filter(|u| *u != 59 && *u != 63).take(miners).collect();
    let max_uid = uids.iter().copied().max().unwrap_or(0);
    let hotkeys: Vec<String> = (0..=max_uid).map(|u| format!("5SyntheticHotkey{u:04}")).collect();
    let mut script = Map::new();
    let mut responses: Vec<Value> = Vec::with_capacity(miners);
    for m in 0..uids.len() {
        match m % 16 {
            5 => {
                responses.push(json!({}));
                continue;
            }
            11 => {
                responses.push(Value::Null);
                continue;
            }
            15 => {
                let copy = responses[m - 1].clone();
                responses.push(copy);
                continue;
            }
            _ => {}
        }
        let edits = 1 + m % 4;
        let mut response = Map::new();
        for (s, seed) in seeds.iter().enumerate() {
            if m % 7 == 3 && s == SEEDS - 1 {
                continue;
            }
            let name = seed["name"].as_str().expect("name");
            let (first, last) = name.split_once(' ').expect("two parts");
            let (city, country) = PLACES[s % PLACES.len()];
            let rows: Vec<Value> = (0..VARIATIONS)
                .map(|v| {
                    let variant = format!("{} {}", mutate(&mut rng, first, edits), mutate(&mut rng, last, edits));
                    let dob =
                        format!("{}-{:02}-{:02}", 1960 + (s * 3) % 40, 1 + (s + v % 3) % 12, 1 + (v * 3 + m) % 28);
                    let street = STREETS[(m * 5 + s * 3 + v) % STREETS.len()];
                    let address =
                        format!("{} {street} Avenue, Old Town Quarter, {city}, {country}", 100 + m * 1000 + s * 10 + v);
                    let side = [0.0001, 0.0003, 0.001, 0.004][(m + v) % 4];
                    script.insert(
                        address.clone(),
                        json!({
                            "results": [{
                                "place_rank": 30,
                                "name": street,
                                "display_name": address,
                                "boundingbox": ["48.0", format!("{}", 48.0 + side), "11.0", format!("{}", 11.0 + side)],
                            }],
                            "photon": "found",
                        }),
                    );
                    json!([variant, dob, address])
                })
                .collect();
            response.insert(name.to_string(), Value::Array(rows));
        }
        responses.push(Value::Object(response));
    }
    let reputation: Map<String, Value> = hotkeys
        .iter()
        .enumerate()
        .filter(|(u, _)| u % 3 == 0)
        .map(|(u, h)| {
            let tier = ["Diamond", "Gold", "Silver", "Bronze", "Neutral"][u % 5];
            (h.clone(), json!({"rep_score": 0.5 + (u % 10) as f64, "rep_tier": tier}))
        })
        .collect();
    let round = json!({
        "seeds": seeds,
        "query": {
            "variation_count": VARIATIONS,
            "phonetic_similarity": {"Light": 0.3, "Medium": 0.4, "Far": 0.3},
            "orthographic_similarity": {"Light": 0.3, "Medium": 0.4, "Far": 0.3},
            "rule_based": {"selected_rules": ["replace_double_letters_with_single_letter", "remove_random_vowel"], "rule_percentage": 30},
        },
        "config": RoundConfig::default(),
        "uav_seed": null,
        "responses": responses,
        "uids": uids,
        "hotkeys": hotkeys,
        "reputation": reputation,
        "geocoder": script,
    });
    round
}
