//! UAV acceptance reproduces the reference validator on every round of the reference vectors.

use std::collections::BTreeMap;

use serde_json::Value;

#[test]
fn uav_acceptance_matches_the_reference_rounds() {
    let data = include_str!("fixtures/uav_acceptance.jsonl");
    let mut rounds = 0;
    for (i, line) in data.lines().enumerate() {
        let case: Value = serde_json::from_str(line).unwrap();
        let uav_seed = case["uav_seed"].as_str();
        let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (uid, response) in case["uids"].as_array().unwrap().iter().zip(case["responses"].as_array().unwrap()) {
            let response = (!response.is_null()).then_some(response);
            let n = miid_scoring::normalise(response, uav_seed);
            if !n.accepted_uavs.is_empty() {
                got.insert(uid.to_string(), n.accepted_uavs.iter().map(|u| u.seed.clone()).collect());
            }
        }
        let want: BTreeMap<String, Vec<String>> = serde_json::from_value(case["uav_accepted"].clone()).unwrap();
        assert_eq!(got, want, "round {i}");
        rounds += 1;
    }
    assert_eq!(rounds, 20);
}
