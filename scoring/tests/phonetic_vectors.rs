//! Replays every case of `phonetic_codes.jsonl` (jellyfish 1.x codes, spec 3.1).

mod common;

use miid_scoring::phonetic;

#[test]
fn phonetic_codes_match_jellyfish() {
    let cases = common::cases("phonetic_codes.jsonl");
    assert!(!cases.is_empty(), "no cases in phonetic_codes.jsonl");
    let mut failures = Vec::new();
    for (line, case) in cases.iter().enumerate() {
        let word = case["word"].as_str().unwrap_or_else(|| panic!("case {}: no `word`", line + 1));
        let got = [
            ("soundex", phonetic::soundex(word)),
            ("metaphone", phonetic::metaphone(word)),
            ("nysiis", phonetic::nysiis(word)),
        ];
        for (field, code) in got {
            let want = case[field].as_str().unwrap_or_else(|| panic!("case {} {word:?}: no `{field}`", line + 1));
            if code != want {
                failures.push(format!("case {} word {word:?}: {field} = {code:?}, expected {want:?}", line + 1));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} codes differ:\n{}", failures.len(), cases.len() * 3, failures.join("\n"));
    eprintln!("phonetic_codes.jsonl: {} cases x 3 codes all match", cases.len());
}
