//! Rank cap (spec kav-scoring 11) and reputation stage (13) against every round of the reference
//! vectors (`vectors/rounds.jsonl`).
//!
//! - Rank cap in isolation: `per_miner[i].ranking_info` records the stage's inputs
//!   (`initial_reward` = post-penalty reward, `quality_score`) and outputs, so the stage is replayed
//!   from them and compared with `final_blended_reward`, the flags and `kav_rewards` (absolute
//!   1e-9). `global_rank` is compared except among tied rewards: the reference's unstable sort
//!   orders ties arbitrarily (Q16; we break them by query order).
//! - Reputation stage: the reference's `kav_rewards`/`kav_uids`, `reputation`, `hotkeys` and
//!   `config` in, `final_rewards`/`final_uids` out (relative 1e-12 per the spec; in fact bit-exact).

mod common;

use std::collections::HashMap;

use miid_scoring::rank::{RankConfig, blended_rank_cap};
use miid_scoring::reputation::{RepRecord, ReputationConfig, apply_reputation_rewards};
use serde_json::Value;

/// The float list under `"key": [...]` of a raw JSON line, parsed with Rust's correctly rounded
/// `str::parse`: serde_json without its `float_roundtrip` feature may be one ULP off, which would
/// hide (or fake) bit-exactness.
fn exact_f64s(line: &str, key: &str) -> Vec<f64> {
    let start = line.find(&format!("\"{key}\": [")).unwrap_or_else(|| panic!("no {key}")) + key.len() + 5;
    let end = start + line[start..].find(']').unwrap();
    line[start..end].split(',').map(|x| x.trim().parse().unwrap()).collect()
}

/// Every scalar float under `"key": ` in a raw JSON line, in order of appearance (the per-miner
/// entries appear in query order), parsed exactly as [`exact_f64s`] does.
fn exact_scalars(line: &str, key: &str) -> Vec<f64> {
    let pat = format!("\"{key}\": ");
    line.match_indices(&pat)
        .map(|(at, _)| {
            let rest = &line[at + pat.len()..];
            let end = rest.find([',', '}']).unwrap();
            rest[..end].trim().parse().unwrap()
        })
        .collect()
}

/// The raw lines of rounds.jsonl, aligned with `common::cases`.
fn raw_lines() -> Vec<String> {
    let text = std::fs::read_to_string(common::vectors_dir().join("rounds.jsonl")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
}

fn u16s(v: &Value) -> Vec<u16> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u16).collect()
}

#[test]
fn rank_cap_matches_reference_rounds() {
    let rounds = common::cases("rounds.jsonl");
    let lines = raw_lines();
    assert_eq!(rounds.len(), 20);
    let (mut miners, mut ranks_compared, mut qualified, mut exact) = (0, 0, 0, 0);
    for (r, round) in rounds.iter().enumerate() {
        let c = &round["config"];
        let cfg = RankConfig {
            top_miner_cap: c["top_miner_cap"].as_u64().unwrap() as usize,
            quality_threshold: c["quality_threshold"].as_f64().unwrap(),
            decay_rate: c["decay_rate"].as_f64().unwrap(),
            blend_factor: c["blend_factor"].as_f64().unwrap(),
        };
        let info: Vec<&Value> = round["per_miner"].as_array().unwrap().iter().map(|m| &m["ranking_info"]).collect();
        let rewards = exact_scalars(&lines[r], "initial_reward");
        let quality = exact_scalars(&lines[r], "quality_score");
        assert_eq!((rewards.len(), quality.len()), (info.len(), info.len()), "round {r}");
        let out = blended_rank_cap(&rewards, &quality, &cfg);
        let kav = exact_f64s(&lines[r], "kav_rewards");
        assert_eq!(u16s(&round["kav_uids"]), u16s(&round["uids"]), "round {r}: the KAV stage skips the burn");
        assert_eq!(kav.len(), out.rewards.len(), "round {r}");
        for (i, want) in info.iter().enumerate() {
            let got = &out.ranking[i];
            let ctx = format!("round {r} miner {i}");
            assert!((out.rewards[i] - kav[i]).abs() <= 1e-9, "{ctx}: {} vs {}", out.rewards[i], kav[i]);
            assert!((got.final_blended_reward - want["final_blended_reward"].as_f64().unwrap()).abs() <= 1e-9, "{ctx}");
            assert_eq!(got.meets_quality_threshold, want["meets_quality_threshold"].as_bool().unwrap(), "{ctx}");
            assert_eq!(got.is_qualified_for_ranking, want["is_qualified_for_ranking"].as_bool().unwrap(), "{ctx}");
            if got.is_qualified_for_ranking {
                qualified += 1;
                exact += usize::from(out.rewards[i].to_bits() == kav[i].to_bits());
            }
            let tied = rewards.iter().filter(|&&x| x == rewards[i]).count() > 1;
            if !tied {
                assert_eq!(got.global_rank as u64, want["global_rank"].as_u64().unwrap(), "{ctx}");
                assert_eq!(got.within_top_cap, want["within_top_cap"].as_bool().unwrap(), "{ctx}");
                ranks_compared += 1;
            }
            miners += 1;
        }
    }
    eprintln!(
        "rank cap: {miners} miners in 20 rounds, global_rank compared for {ranks_compared} untied ones, \
         {exact} of {qualified} qualified rewards bit-exact"
    );
}

#[test]
fn reputation_stage_matches_reference_rounds() {
    let rounds = common::cases("rounds.jsonl");
    let lines = raw_lines();
    assert_eq!(rounds.len(), 20);
    assert_eq!(lines.len(), 20);
    let (mut values, mut bit_exact) = (0, 0usize);
    for (r, round) in rounds.iter().enumerate() {
        let c = &round["config"];
        let cfg = ReputationConfig {
            burn_fraction: c["burn_fraction"].as_f64().unwrap(),
            kav_weight: c["kav_weight"].as_f64().unwrap(),
            uav_weight: c["uav_weight"].as_f64().unwrap(),
        };
        let hotkeys: Vec<String> = serde_json::from_value(round["hotkeys"].clone()).unwrap();
        let rep: HashMap<String, RepRecord> = serde_json::from_value(round["reputation"].clone()).unwrap();
        let kav = exact_f64s(&lines[r], "kav_rewards");
        assert_eq!(kav.len(), round["kav_rewards"].as_array().unwrap().len());
        let out = apply_reputation_rewards(&kav, &u16s(&round["kav_uids"]), &hotkeys, &rep, &cfg);
        assert_eq!(out.uids, u16s(&round["final_uids"]), "round {r}");
        let want = exact_f64s(&lines[r], "final_rewards");
        assert_eq!(want.len(), round["final_rewards"].as_array().unwrap().len());
        assert_eq!(out.rewards.len(), want.len(), "round {r}");
        for (i, (&g, &w)) in out.rewards.iter().zip(&want).enumerate() {
            let ok = if w == 0.0 { g == 0.0 } else { ((g - w) / w).abs() <= 1e-12 };
            assert!(ok, "round {r} entry {i}: got {g}, want {w} (mode {:?})", out.mode);
            values += 1;
            bit_exact += usize::from(g.to_bits() == w.to_bits());
        }
        assert_eq!(out.metrics.len() + 1, want.len());
    }
    eprintln!("reputation: {values} values in 20 rounds, {bit_exact} bit-exact");
    // Pure IEEE arithmetic in the reference's order (numpy pairwise sums, `x · (target / total)`):
    // every value is reproduced exactly, more than the 1e-12 the spec asks for.
    assert_eq!(bit_exact, values);
}
