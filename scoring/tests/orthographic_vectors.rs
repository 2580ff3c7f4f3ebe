//! Replays every case of `orthographic.jsonl` (spec 3.2, tolerance 1e-9).

mod common;

use miid_scoring::orthographic;

#[test]
fn orthographic_scores_match_the_reference() {
    let cases = common::cases("orthographic.jsonl");
    assert!(!cases.is_empty(), "no cases in orthographic.jsonl");
    let mut failures = Vec::new();
    for (line, case) in cases.iter().enumerate() {
        let field = |k: &str| case[k].as_str().unwrap_or_else(|| panic!("case {}: no string `{k}`", line + 1));
        let (original, variation) = (field("original"), field("variation"));
        let want = case["score"].as_f64().unwrap_or_else(|| panic!("case {}: no `score`", line + 1));
        let got = orthographic::similarity(original, variation);
        if !common::close(got, want, 1e-9) {
            failures.push(format!("case {} O({original:?}, {variation:?}) = {got}, expected {want}", line + 1));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    eprintln!("orthographic.jsonl: all {} cases match", cases.len());
}
