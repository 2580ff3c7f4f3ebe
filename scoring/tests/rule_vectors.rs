//! Replays every case of `rule_compliance.jsonl` (vectors/README.md) through
//! `miid_scoring::vectors::check`: `name`, `variations`, `rules` → `compliant` (effective rule →
//! compliant variations, in order; key order included) and `ratio` (distinct compliant strings /
//! rows, within 1e-9), and the scoring wrapper `rule_compliance` must agree with the evaluator.

mod common;

use miid_scoring::vectors;

#[test]
fn rule_compliance_vectors() {
    let cases = common::cases("rule_compliance.jsonl");
    assert!(!cases.is_empty(), "no rule_compliance cases found");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| vectors::check("rule_compliance.jsonl", case).err().map(|e| format!("case {i}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{} failures over {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
    eprintln!("{} rule_compliance cases passed", cases.len());
}
