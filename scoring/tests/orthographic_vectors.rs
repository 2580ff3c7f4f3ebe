//! Replays every case of `orthographic.jsonl` (spec 3.2, tolerance 1e-9) through
//! `miid_scoring::vectors::check`, the checker `validator-sim vectors` uses.

mod common;

use miid_scoring::vectors;

#[test]
fn orthographic_scores_match_the_reference() {
    let cases = common::cases("orthographic.jsonl");
    assert!(!cases.is_empty(), "no cases in orthographic.jsonl");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            vectors::check("orthographic.jsonl", case).err().map(|e| format!("case {}: {e}", i + 1))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    eprintln!("orthographic.jsonl: all {} cases match", cases.len());
}
