//! Criterion benchmark: one whole round through [`miid_scoring::round::score_round`].
//!
//! The round is synthetic and deterministic: 64 miners × 15 Latin seeds × 10 variations (names,
//! DOBs, addresses), a rule-based query, a scripted geocoder answering every address, and
//! reputation for every third hotkey, so every stage runs (names, DOB, address sampling and
//! geocoding, cheat detection, rank cap, reputation). The round is
//! `miid_scoring::synthetic::round_json`, the same one `validator-sim bench` times as its second
//! line. Each iteration starts from a fresh `RoundState`, as the vectors do.
//!
//! Run: `cargo bench -p miid-scoring --bench round -- --warm-up-time 1 --measurement-time 5`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value};

use miid_scoring::kav::{Query, Seed};
use miid_scoring::reputation::RepRecord;
use miid_scoring::rng::KeyedSeedSource;
use miid_scoring::round::{RoundConfig, RoundInput, RoundState, ScriptedGeocoder, score_round};
use miid_scoring::translit::UnidecodeTransliterator;

/// The round's parsed inputs.
struct Inputs {
    seeds: Vec<Seed>,
    query: Query,
    config: RoundConfig,
    responses: Vec<Value>,
    uids: Vec<u16>,
    hotkeys: Vec<String>,
    reputation: HashMap<String, RepRecord>,
    script: Map<String, Value>,
}

fn inputs(miners: usize) -> Inputs {
    fn field<T: serde::de::DeserializeOwned>(round: &Value, k: &str) -> T {
        T::deserialize(&round[k]).unwrap_or_else(|e| panic!("synthetic `{k}`: {e}"))
    }
    let round = miid_scoring::synthetic::round_json(miners);
    Inputs {
        seeds: field(&round, "seeds"),
        query: field(&round, "query"),
        config: field(&round, "config"),
        responses: field(&round, "responses"),
        uids: field(&round, "uids"),
        hotkeys: field(&round, "hotkeys"),
        reputation: field(&round, "reputation"),
        script: field(&round, "geocoder"),
    }
}

fn bench_round(c: &mut Criterion) {
    let inp = inputs(64);
    let input = RoundInput {
        seeds: &inp.seeds,
        query: &inp.query,
        config: &inp.config,
        uav_seed: None,
        responses: &inp.responses,
        uids: &inp.uids,
        hotkeys: &inp.hotkeys,
        reputation: &inp.reputation,
    };
    let seeds = KeyedSeedSource::with_key(1, 2);
    // Sanity: the round is scored in full (addresses geocoded, miners rewarded).
    {
        let mut g = ScriptedGeocoder::new(&inp.script);
        let out = score_round(&input, &seeds, &UnidecodeTransliterator, &mut g, &mut RoundState::default());
        assert!(g.unscripted.is_empty() && !g.calls.is_empty());
        assert!(out.final_rewards.iter().filter(|r| **r > 0.0).count() > 10);
    }
    c.bench_function("score_round/64 miners x 15 seeds x 10 variations", |b| {
        b.iter(|| {
            let mut g = ScriptedGeocoder::new(&inp.script);
            let out =
                score_round(black_box(&input), &seeds, &UnidecodeTransliterator, &mut g, &mut RoundState::default());
            black_box(out.final_rewards)
        })
    });
}

// A round takes about a second: 10 samples keep `--measurement-time 5` honest.
criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_round
}
criterion_main!(benches);
