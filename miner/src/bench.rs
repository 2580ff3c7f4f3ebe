//! `miner bench`: how the default engine's answers would score, on the queries of the reference
//! rounds (`vectors/rounds.jsonl`, format in `vectors/README.md`).
//!
//! For every round it renders the query as the reference's template fallback (validator-round.md
//! 6.2 + 6.8 + the UAV block), parses it back with [`crate::query`] as the miner would, answers
//! every seed with the engine (timed: one answer = all seeds of the query), and scores the
//! answer with the scoring crate's per-miner KAV path against the round's *true* labels, with
//! a random phonetic seed source (the validator's salted hash is unknown) and an honest
//! scripted geocoder: an address geocodes when its city is a real city of its country in the
//! validator's own geonames table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::SeedableRng;
use serde_json::{Value, json};

use miid_protocol::synapse::Seed;
use miid_scoring::address::{Geocoder, NominatimAnswer, PhotonAnswer};
use miid_scoring::kav::{self, RoundContext};
use miid_scoring::rng::{KeyedSeedSource, PyRandom};

use crate::engine::TextEngine;
use crate::query::QuerySpec;

/// `miner bench` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The rounds file (JSON lines with `seeds` and `query`).
    #[arg(long, default_value = "vectors/rounds.jsonl")]
    pub rounds: PathBuf,
    /// Answers per round (each with fresh randomness and a fresh phonetic seed source).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Seed of the miner's randomness, for reproducible figures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Geocodes an address when its city is one the validator's geonames table places in its
/// country; answers like Nominatim does for a house (rank 30, a 10 m box).
#[derive(Debug, Default)]
pub struct HonestGeocoder {
    pub calls: usize,
}

impl HonestGeocoder {
    fn known(address: &str) -> bool {
        for two_parts in [false, true] {
            let (city, _) = miid_scoring::address::extract_city_country(address, two_parts);
            if !city.is_empty() {
                return true;
            }
        }
        // A region the country table does not hold (Crimea): a real city named just before it.
        let parts: Vec<&str> = address.split(',').map(str::trim).collect();
        let Some(place) = parts.len().checked_sub(2).map(|i| parts[i]) else { return false };
        let city: String =
            place.split_whitespace().filter(|w| !w.chars().any(|c| c.is_ascii_digit())).collect::<Vec<_>>().join(" ");
        !city.is_empty()
            && miid_scoring::geonames::countries()
                .iter()
                .any(|c| miid_scoring::geonames::city_in_country(&city, c.name))
    }
}

impl Geocoder for HonestGeocoder {
    fn nominatim(&mut self, address: &str) -> NominatimAnswer {
        self.calls += 1;
        if !Self::known(address) {
            return NominatimAnswer::Body(json!([]));
        }
        NominatimAnswer::Body(json!([{
            "place_rank": 30,
            "name": "",
            "display_name": address,
            "boundingbox": ["40.0", "40.0001", "10.0", "10.0001"],
        }]))
    }

    fn photon(&mut self, address: &str) -> PhotonAnswer {
        if Self::known(address) { PhotonAnswer::Found } else { PhotonAnswer::Empty }
    }
}

/// The reference's template-fallback text for a query (6.2), with the address/DOB suffix and
/// the UAV block, as a validator without an LLM sends it.
pub fn fallback_template(query: &kav::Query, uav_seed: Option<&str>) -> String {
    let spec = |t: &indexmap::IndexMap<String, f64>| {
        t.iter().map(|(l, f)| format!("{}% {l}", (f * 100.0) as i64)).collect::<Vec<_>>().join(", ")
    };
    let rb = query.rule_based.as_ref();
    let rules: Vec<String> = rb
        .and_then(|r| r.get("selected_rules"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(miid_scoring::rules::description).collect())
        .unwrap_or_default();
    let pct = rb.and_then(|r| r.get("rule_percentage")).and_then(Value::as_f64).unwrap_or(30.0);
    let mut t = format!(
        "The following name is the seed name to generate variations for: {{name}}. Generate {} variations of the name {{name}}, ensuring phonetic similarity: {}, and orthographic similarity: {}, and also include {}% of variations that follow: {}",
        query.variation_count,
        spec(&query.phonetic_similarity),
        spec(&query.orthographic_similarity),
        pct as i64,
        miid_scoring::rules::rule_sentence(&rules),
    );
    t.push_str(" The following address is the seed country/city to generate address variations for: {address}. Generate unique real addresses within the specified country/city for each variation. ");
    t.push_str(" The following date of birth is the seed DOB to generate variations for: {dob}.");
    t.push_str("\n\n[ADDITIONAL CONTEXT]:\n- Address variations should be realistic addresses within the specified country/city\n- DOB variations ATLEAST one in each category (±1 day, ±3 days, ±30 days, ±90 days, ±365 days, year+month only)\n- For year+month, generate the exact DOB without day\n- Each variation must have a different, realistic address and DOB");
    if let Some(seed) = uav_seed {
        t.push_str(&format!("\n\n[UAV REQUIREMENTS - Phase 3]:\nReturn variations in the NEW structure. For the seed \"{seed}\" ONLY, use this structure:\n"));
    }
    t
}

/// One round of the rounds file, as the bench needs it.
struct Round {
    seeds: Vec<kav::Seed>,
    query: kav::Query,
    uav_seed: Option<String>,
}

fn load(path: &Path) -> anyhow::Result<Vec<Round>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
        let seeds = serde_json::from_value(v.get("seeds").cloned().unwrap_or(Value::Null))
            .with_context(|| format!("{}:{}: bad `seeds`", path.display(), i + 1))?;
        let query = serde_json::from_value(v.get("query").cloned().unwrap_or(Value::Null))
            .with_context(|| format!("{}:{}: bad `query`", path.display(), i + 1))?;
        let uav_seed = v.get("uav_seed").and_then(Value::as_str).map(str::to_owned);
        out.push(Round { seeds, query, uav_seed });
    }
    if out.is_empty() {
        bail!("{}: no rounds", path.display());
    }
    Ok(out)
}

/// Totals over all answers.
#[derive(Debug, Default)]
pub struct Figures {
    pub answers: usize,
    pub exact_parses: usize,
    pub completeness: Vec<f64>,
    pub name_quality: Vec<f64>,
    pub dob: Vec<f64>,
    pub address_checks: usize,
    pub address_passed: usize,
    pub region_passed: usize,
    /// Rows of seeds whose country no address can pass (see [`crate::address::solvable`]).
    pub unsolvable_rows: usize,
    pub address_score: Vec<f64>,
    /// The address score on rounds where every seed is solvable.
    pub address_score_solvable: Vec<f64>,
    pub reward: Vec<f64>,
    pub latency: Vec<Duration>,
    /// Seeds answered in all answers together.
    pub seeds: usize,
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 }
}

/// Whether the parsed spec equals the round's labels.
fn same_labels(spec: &QuerySpec, q: &kav::Query) -> bool {
    let close = |a: &indexmap::IndexMap<String, f64>, b: &indexmap::IndexMap<String, f64>| {
        a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| (v - w).abs() < 1e-9))
    };
    let rules: Vec<String> = q
        .rule_based
        .as_ref()
        .and_then(|r| r.get("selected_rules"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let pct = q.rule_based.as_ref().and_then(|r| r.get("rule_percentage")).and_then(Value::as_f64).unwrap_or(30.0);
    spec.variation_count == q.variation_count
        && close(&spec.phonetic, &q.phonetic_similarity)
        && close(&spec.orthographic, &q.orthographic_similarity)
        && spec.rules == rules
        && spec.rule_percentage == pct
}

/// Runs the bench with `engine` and returns the figures.
pub fn measure(engine: &dyn TextEngine, args: &BenchArgs) -> anyhow::Result<Figures> {
    let rounds = load(&args.rounds)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut f = Figures::default();
    for round in &rounds {
        let template = fallback_template(&round.query, round.uav_seed.as_deref());
        let transliterations: Vec<Option<String>> =
            round.seeds.iter().map(|s| (!s.is_latin()).then(|| crate::names::transliteration(&s.name))).collect();
        let ctx = RoundContext { seeds: &round.seeds, query: &round.query, transliterations: &transliterations };
        for r in 0..args.repeat {
            let started = Instant::now();
            let spec = crate::query::parse(&template);
            let mut rows: kav::Rows = indexmap::IndexMap::new();
            for seed in &round.seeds {
                let s = Seed { name: seed.name.clone(), dob: seed.dob.clone(), address: seed.address.clone() };
                let answer = engine.variations(&s, &spec, &mut rng);
                rows.insert(seed.name.clone(), answer.into_iter().map(|row| json!(row)).collect());
            }
            f.latency.push(started.elapsed());
            f.seeds += round.seeds.len();
            f.answers += 1;
            f.exact_parses += usize::from(same_labels(&spec, &round.query));

            for seed in &round.seeds {
                for row in rows.get(&seed.name).map(Vec::as_slice).unwrap_or_default() {
                    let a = row.get(2).and_then(Value::as_str).unwrap_or("");
                    let c = crate::address::check(a, &seed.address);
                    f.address_checks += 1;
                    f.address_passed += usize::from(c.looks_like_address);
                    f.region_passed += usize::from(c.passed());
                    f.unsolvable_rows += usize::from(!crate::address::solvable(&seed.address));
                }
            }
            let seeds = KeyedSeedSource::with_key(args.seed ^ (r as u64) << 32, f.answers as u64);
            let mut py = PyRandom::new(f.answers as u128);
            let mut geocoder = HonestGeocoder::default();
            let mut cache = miid_scoring::address::NominatimCache::new();
            let kav = kav::score_miner(&mut rows, &ctx, &seeds, &mut py, &mut geocoder, Some(&mut cache));
            let m = &kav.metrics;
            f.completeness.push(m.completeness_multiplier);
            f.name_quality.push(m.average_quality);
            f.dob.push(m.dob_grading.as_ref().map_or(0.0, |d| d.overall_score));
            let address_score = m.address_grading.as_ref().map_or(0.0, |a| a.overall_score);
            f.address_score.push(address_score);
            if round.seeds.iter().all(|s| crate::address::solvable(&s.address)) {
                f.address_score_solvable.push(address_score);
            }
            f.reward.push(kav.reward);
        }
    }
    Ok(f)
}

/// `miner bench`: prints the figures.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let f = measure(&crate::engine::SimpleEngine, &args)?;
    let mut lat: Vec<Duration> = f.latency.clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
    let mean_lat = lat.iter().sum::<Duration>() / lat.len() as u32;
    let seeds_per_query = "all seeds of the round";
    println!(
        "answers: {} ({} rounds x {} repeats), one answer = {seeds_per_query}",
        f.answers,
        f.answers / args.repeat.max(1),
        args.repeat
    );
    println!("query parsed exactly (template fallback form): {}/{}", f.exact_parses, f.answers);
    println!("completeness multiplier: mean {:.4}", mean(&f.completeness));
    println!("name quality: mean {:.4}", mean(&f.name_quality));
    println!("DOB score: mean {:.4}", mean(&f.dob));
    println!(
        "address heuristics: {}/{} pass ({:.1}%), heuristics+region: {}/{} ({:.1}%), address score (honest geocoder): mean {:.4}",
        f.address_passed,
        f.address_checks,
        100.0 * f.address_passed as f64 / f.address_checks.max(1) as f64,
        f.region_passed,
        f.address_checks,
        100.0 * f.region_passed as f64 / f.address_checks.max(1) as f64,
        mean(&f.address_score)
    );
    println!(
        "  rows of seeds no address can pass (e.g. Antarctica): {}; address score on the {} answers without such seeds: mean {:.4}",
        f.unsolvable_rows,
        f.address_score_solvable.len(),
        mean(&f.address_score_solvable)
    );
    println!("KAV reward before cross-miner stages: mean {:.4}", mean(&f.reward));
    println!(
        "latency per answer: mean {:.1} ms, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        mean_lat.as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        lat.last().expect("answers").as_secs_f64() * 1e3
    );
    let per_seed = lat.iter().sum::<Duration>().as_secs_f64() / f.seeds.max(1) as f64;
    println!(
        "per seed: {:.2} ms ({:.1} seeds per answer on average); a 15-seed query: {:.1} ms",
        per_seed * 1e3,
        f.seeds as f64 / f.answers.max(1) as f64,
        per_seed * 15e3
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds_file() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../vectors/rounds.jsonl")
    }

    #[test]
    fn fallback_template_parses_back_to_the_labels() {
        let rounds = load(&rounds_file()).unwrap();
        let mut exact = 0;
        for r in &rounds {
            let spec = crate::query::parse(&fallback_template(&r.query, r.uav_seed.as_deref()));
            assert_eq!(spec.uav_seed, r.uav_seed);
            assert_eq!(spec.variation_count, r.query.variation_count);
            exact += usize::from(same_labels(&spec, &r.query));
        }
        // The rendering truncates (int(0.57·100) = 56), so not every label survives the text.
        assert!(exact * 2 >= rounds.len(), "{exact}/{}", rounds.len());
    }

    #[test]
    fn the_default_engine_scores_on_the_reference_rounds() {
        let args = BenchArgs { rounds: rounds_file(), repeat: 1, seed: 3 };
        let f = measure(&crate::engine::SimpleEngine, &args).unwrap();
        assert_eq!(f.answers, 20);
        assert_eq!(mean(&f.completeness), 1.0);
        assert_eq!(mean(&f.dob), 1.0);
        assert_eq!(f.region_passed, f.address_checks - f.unsolvable_rows);
        assert!(f.unsolvable_rows > 0, "the rounds include Antarctica");
        assert!(mean(&f.name_quality) > 0.6, "{}", mean(&f.name_quality));
        assert!(!f.address_score_solvable.is_empty());
        assert!(mean(&f.address_score_solvable) > 0.95, "{:?}", f.address_score_solvable);
    }

    #[test]
    fn bad_rounds_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(&p, "{not json\n").unwrap();
        assert!(load(&p).is_err());
        std::fs::write(&p, "").unwrap();
        assert!(load(&p).is_err());
        assert!(load(&dir.path().join("missing")).is_err());
    }
}
