//! DOB grading (spec section 6) reproduces every case of `dob_grading.jsonl`, which grades
//! DOBs by position in the miner's key order (Q2). The comparison lives in
//! `miid_scoring::vectors::check`, the checker `validator-sim vectors` uses.

mod common;

use miid_scoring::vectors;

#[test]
fn dob_grading_matches_the_reference() {
    let cases = common::cases("dob_grading.jsonl");
    assert!(!cases.is_empty());
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| vectors::check("dob_grading.jsonl", case).err().map(|e| format!("case {i}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
