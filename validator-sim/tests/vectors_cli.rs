//! `validator-sim vectors DIR` on the reference vectors: every case passes, in the contract's
//! output format. DIR is `$MIID_VECTORS_DIR`, else `../shared/vectors` beside the workspace, else
//! the snapshot in `vectors/`.

use std::path::PathBuf;
use std::process::Command;

fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIID_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/vectors");
    if shared.is_dir() { shared } else { root.join("vectors") }
}

#[test]
fn every_reference_vector_replays() {
    let dir = vectors_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_validator-sim")).arg("vectors").arg(&dir).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{}\n{stdout}\n{}", dir.display(), String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    let total = lines.last().unwrap();
    assert!(total.starts_with("total: ") && total.ends_with(" passed, 0 failed"), "{total}");
    for file in [
        "phonetic_codes.jsonl",
        "orthographic.jsonl",
        "rule_compliance.jsonl",
        "variation_quality.jsonl",
        "dob_grading.jsonl",
        "address_checks.jsonl",
        "rounds.jsonl",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!("{file}: ")) && l.ends_with(" passed, 0 failed")),
            "{file} missing in\n{stdout}"
        );
    }
}

#[test]
fn a_failing_case_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orthographic.jsonl"), r#"{"original": "abc", "variation": "abd", "score": 0.123}"#)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_validator-sim")).arg("vectors").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, "orthographic.jsonl: 0 passed, 1 failed\ntotal: 0 passed, 1 failed\n");
}
