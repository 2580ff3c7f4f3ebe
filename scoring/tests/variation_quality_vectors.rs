//! Replays `variation_quality.jsonl` (reference outputs of 5.2, format in vectors/README.md)
//! through [`miid_scoring::name_quality::variation_quality`], via `miid_scoring::vectors::check`
//! (the checker `validator-sim vectors` uses): every case's `final_score`, `base_score` and every
//! metric, recursively (numbers within 1e-9, strings, booleans, array lengths and object keys —
//! in order — exactly). The reference's `hash(s)` is replayed from the case's `hash_seeds`; a
//! string the reference did not hash, or a skipped name, is a failure.

mod common;

use miid_scoring::vectors;

#[test]
fn variation_quality_matches_the_reference() {
    let cases = common::cases("variation_quality.jsonl");
    assert!(!cases.is_empty(), "no cases");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            let name = case["name"].as_str().unwrap_or("?");
            vectors::check("variation_quality.jsonl", case).err().map(|e| format!("case {i} ({name:?}): {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
