//! Replays every case of `rule_compliance.jsonl` (vectors/README.md): `name`, `variations`,
//! `rules` → `compliant` (effective rule → compliant variations, in order; key order included)
//! and `ratio` (distinct compliant strings / rows, within 1e-9).

mod common;

use miid_scoring::rules::{evaluate, evaluate_rule_compliance, rule_compliance};
use serde_json::Value;

fn strings(v: &Value, field: &str, idx: usize) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap_or_else(|| panic!("case {idx}: `{field}` is not an array"))
        .iter()
        .map(|s| s.as_str().unwrap_or_else(|| panic!("case {idx}: non-string in `{field}`")).to_string())
        .collect()
}

#[test]
fn rule_compliance_vectors() {
    let cases = common::cases("rule_compliance.jsonl");
    assert!(!cases.is_empty(), "no rule_compliance cases found");
    let mut failures = Vec::new();
    for (idx, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().expect("name");
        let variations = strings(case, "variations", idx);
        let rules = strings(case, "rules", idx);
        let want = case["compliant"].as_object().expect("compliant");
        let want_ratio = case["ratio"].as_f64().expect("ratio");

        let got = evaluate_rule_compliance(name, &variations, &rules);

        let got_keys: Vec<&str> = got.compliant.keys().map(String::as_str).collect();
        let want_keys: Vec<&str> = want.keys().map(String::as_str).collect();
        if got_keys != want_keys {
            failures.push(format!("case {idx} ({name:?}): effective rules {got_keys:?}, want {want_keys:?}"));
        }
        for (rule, want_list) in want {
            let want_list: Vec<&str> =
                want_list.as_array().expect("list").iter().map(|s| s.as_str().unwrap()).collect();
            let got_list: Vec<&str> =
                got.compliant.get(rule).map(|l| l.iter().map(String::as_str).collect()).unwrap_or_default();
            if got_list != want_list {
                // Name the offending variations with the evaluator's verdict for each.
                let detail: Vec<String> = variations
                    .iter()
                    .filter(|v| got_list.contains(&v.as_str()) != want_list.contains(&v.as_str()))
                    .map(|v| format!("{v:?}: got {}", evaluate(rule, name, v)))
                    .collect();
                failures.push(format!(
                    "case {idx} ({name:?}) rule {rule}: got {got_list:?}, want {want_list:?} [{}]",
                    detail.join(", ")
                ));
            }
        }
        if !common::close(got.ratio, want_ratio, 1e-9) {
            failures.push(format!("case {idx} ({name:?}): ratio {}, want {want_ratio}", got.ratio));
        }

        // The scoring wrapper must agree with the evaluator it is built on.
        let scored = rule_compliance(name, &variations, &rules, 0.3);
        if !variations.is_empty() && !rules.is_empty() && !got.compliant.is_empty() {
            if scored.compliant_variations_by_rule != got.compliant
                || !common::close(scored.compliance_ratio_overall_variations, want_ratio, 1e-9)
            {
                failures.push(format!("case {idx} ({name:?}): rule_compliance metrics disagree with the evaluator"));
            }
            let distinct = scored.rules_satisfied_by_variation.len() as f64;
            if !common::close(distinct / variations.len() as f64, want_ratio, 1e-9) {
                failures
                    .push(format!("case {idx} ({name:?}): distinct compliant count {distinct} disagrees with ratio"));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures over {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
    eprintln!("{} rule_compliance cases passed", cases.len());
}
