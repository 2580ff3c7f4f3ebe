//! Every round of `rounds.jsonl` replayed end to end through `miid_scoring::round::score_round`
//! (via `vectors::check_round`: fresh generator and cache, the case's `hash_seeds` table, the
//! scripted geocoder, Unidecode transliteration) and compared with everything the reference
//! recorded: `kav_rewards`/`kav_uids` (1e-9), `per_miner` metrics (1e-9, key order included;
//! `global_rank` among tied rewards excepted, Q16), `final_rewards`/`final_uids` (1e-12
//! relative) and `uav_accepted`.

mod common;

use std::collections::BTreeMap;

use miid_scoring::vectors;

#[test]
fn rounds_replay_end_to_end() {
    let rounds = common::cases("rounds.jsonl");
    assert_eq!(rounds.len(), 20);
    let (mut kav_ok, mut final_ok, mut uav_ok, mut rounds_ok) = (0, 0, 0, 0);
    let (mut miners, mut miners_ok) = (0, 0);
    // Which per-miner fields differ, over all rounds (path with the miner index stripped).
    let mut fields: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let (mut bit_exact, mut values): (BTreeMap<&str, usize>, BTreeMap<&str, usize>) = Default::default();
    let mut tied = 0;
    for (r, round) in rounds.iter().enumerate() {
        let (out, divergence) = vectors::replay_round(round).unwrap_or_else(|e| panic!("round {r}: {e}"));
        // Bit-exactness, beyond the tolerances (informational).
        for (key, got) in [("kav_rewards", &out.kav_rewards), ("final_rewards", &out.final_rewards)] {
            let want: Vec<f64> = round[key].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let exact = got.iter().zip(&want).filter(|(g, w)| g.to_bits() == w.to_bits()).count();
            *bit_exact.entry(key).or_default() += exact;
            *values.entry(key).or_default() += want.len();
        }
        tied += out
            .penalised_rewards
            .iter()
            .filter(|&&x| out.penalised_rewards.iter().filter(|&&y| y == x).count() > 1)
            .count();
        let cmp = vectors::compare_round(round, &out, divergence).unwrap_or_else(|e| panic!("round {r}: {e}"));
        kav_ok += usize::from(cmp.kav.is_empty());
        final_ok += usize::from(cmp.final_rewards.is_empty());
        uav_ok += usize::from(cmp.uav_accepted.is_empty());
        miners += cmp.miners;
        miners_ok += cmp.miners - cmp.miners_differing.len();
        for line in &cmp.per_miner {
            let path = line.split(':').next().unwrap_or(line);
            let path = path.split_once('.').map_or(path, |(_, rest)| rest);
            *fields.entry(path.to_string()).or_default() += 1;
        }
        match cmp.into_result() {
            Ok(()) => rounds_ok += 1,
            Err(e) => failures.push(format!("round {r}: {e}")),
        }
    }
    eprintln!(
        "rounds: {rounds_ok}/20 fully match; kav_rewards {kav_ok}/20, per_miner {miners_ok}/{miners} miners, \
         final_rewards {final_ok}/20, uav_accepted {uav_ok}/20"
    );
    eprintln!(
        "bit-exact: kav_rewards {}/{}, final_rewards {}/{}; global_rank not compared for {tied} miners with tied \
         rewards (Q16)",
        bit_exact["kav_rewards"], values["kav_rewards"], bit_exact["final_rewards"], values["final_rewards"]
    );
    if !fields.is_empty() {
        eprintln!("per_miner fields differing (count over miners): {fields:?}");
    }
    assert!(failures.is_empty(), "{} of 20 rounds differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_vector_file_passes_vectors_check() {
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for kind in vectors::KINDS {
        let file = format!("{kind}.jsonl");
        let cases = common::cases(&file);
        let mut pass = 0;
        for (i, case) in cases.iter().enumerate() {
            match vectors::check(&file, case) {
                Ok(()) => pass += 1,
                Err(e) => {
                    if failed.len() < 40 {
                        failed.push(format!("{file} case {i}: {e}"));
                    }
                }
            }
        }
        report.push(format!("{file}: {pass}/{}", cases.len()));
    }
    eprintln!("vectors::check pass counts: {}", report.join(", "));
    assert!(vectors::check("nonsense.jsonl", &serde_json::json!({})).unwrap_err().contains("unknown"));
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
