//! `validator-sim score` end to end: the first reference round, stripped of its outputs, scores
//! to the reference's rewards; the table has a row per miner; bad input fails clearly.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIID_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/vectors");
    if shared.is_dir() { shared } else { root.join("vectors") }
}

/// The first round of rounds.jsonl, and the same without its reference outputs.
fn first_round() -> (Value, Value) {
    let text = std::fs::read_to_string(vectors_dir().join("rounds.jsonl")).unwrap();
    let full: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut stripped = full.clone();
    let obj = stripped.as_object_mut().unwrap();
    for k in ["kav_rewards", "kav_uids", "per_miner", "final_rewards", "final_uids", "uav_accepted"] {
        obj.remove(k);
    }
    (full, stripped)
}

fn score(round: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("round.json");
    std::fs::write(&path, round).unwrap();
    Command::new(env!("CARGO_BIN_EXE_validator-sim"))
        .arg("score")
        .arg("--round")
        .arg(&path)
        .args(extra)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what} length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-9, "{what}[{i}] = {g}, want {w}");
    }
}

#[test]
fn json_report_reproduces_the_reference_rewards() {
    let (full, stripped) = first_round();
    let out = score(&stripped.to_string(), &["--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_close(&floats(&report["kav_rewards"]), &floats(&full["kav_rewards"]), "kav_rewards");
    assert_close(&floats(&report["final_rewards"]), &floats(&full["final_rewards"]), "final_rewards");
    assert_eq!(report["kav_uids"], full["kav_uids"]);
    assert_eq!(report["final_uids"], full["final_uids"]);
    assert_eq!(report["uav_accepted"], full["uav_accepted"]);
    assert_eq!(report["seed_source"], "hash_seeds");
    assert_eq!(report["geocoder"], "scripted");
    assert_eq!(report["warnings"], Value::Array(vec![]), "no divergence from the reference");
    let per_miner = report["per_miner"].as_array().unwrap();
    assert_eq!(per_miner.len(), full["uids"].as_array().unwrap().len());
    for (got, want) in per_miner.iter().zip(full["per_miner"].as_array().unwrap()) {
        for k in ["completeness_multiplier", "average_quality"] {
            assert!((got[k].as_f64().unwrap() - want[k].as_f64().unwrap()).abs() <= 1e-9, "{k}");
        }
        assert_eq!(got["address_api_result"], want["address_api_result"]);
    }

    // A full vector line (outputs included) scores the same: the outputs are ignored.
    let again = score(&full.to_string(), &["--json"]);
    assert!(again.status.success());
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["final_rewards"], report["final_rewards"]);
}

#[test]
fn table_has_one_row_per_miner() {
    let (full, stripped) = first_round();
    let out = score(&serde_json::to_string_pretty(&stripped).unwrap(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].trim_start().starts_with("uid") && lines[0].contains("final"), "{}", lines[0]);
    let uids: Vec<u64> = full["uids"].as_array().unwrap().iter().map(|u| u.as_u64().unwrap()).collect();
    let rows: Vec<&str> = lines[1..]
        .iter()
        .copied()
        .filter(|l| l.split_whitespace().next().is_some_and(|w| w.parse::<u64>().is_ok()))
        .collect();
    assert_eq!(rows.len(), uids.len(), "{stdout}");
    for (row, uid) in rows.iter().zip(&uids) {
        assert_eq!(row.split_whitespace().next().unwrap(), uid.to_string());
    }
    assert!(stdout.contains("burn uid 59"), "{stdout}");
}

#[test]
fn malformed_input_fails_clearly() {
    let cases: [(&str, &str); 5] = [
        ("{\"seeds\": [", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("{\"seeds\": [], \"query\": {\"variation_count\": 3}}", "no `responses`"),
        ("{}\n{}\n", "2 JSON lines"),
        (
            r#"{"seeds": [], "query": {"variation_count": 3}, "responses": [{}], "uids": [], "hotkeys": []}"#,
            "1 responses but 0 uids",
        ),
    ];
    for (input, want) in cases {
        let out = score(input, &["--json"]);
        assert!(!out.status.success(), "{input:?} must fail");
        assert!(out.stdout.is_empty(), "no report for {input:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{input:?}: stderr {stderr:?} should say {want:?}");
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_validator-sim"))
        .args(["score", "--round", "/nonexistent/round.json"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/round.json"));
}
