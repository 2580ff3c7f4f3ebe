//! Replays every case of `phonetic_codes.jsonl` (jellyfish 1.x codes, spec 3.1) through
//! `miid_scoring::vectors::check`, the checker `validator-sim vectors` uses.

mod common;

use miid_scoring::vectors;

#[test]
fn phonetic_codes_match_jellyfish() {
    let cases = common::cases("phonetic_codes.jsonl");
    assert!(!cases.is_empty(), "no cases in phonetic_codes.jsonl");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            vectors::check("phonetic_codes.jsonl", case).err().map(|e| format!("case {}: {e}", i + 1))
        })
        .collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    eprintln!("phonetic_codes.jsonl: {} cases x 3 codes all match", cases.len());
}
