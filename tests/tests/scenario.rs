//! The main job end to end: the smoke scenario queries two honest miners over loopback and the
//! reference scorer grades their answers, geocoding against a local nominatim-mock.

use miid_scenarios::{Scenario, run};

#[tokio::test]
async fn smoke_round_is_answered_and_scored() {
    let scenario = Scenario::builtin("smoke").unwrap();
    let (report, table) = run(&scenario).await.unwrap();
    assert_eq!(report.answered, 2, "{table}");
    let scores = report.scores.expect("R1 rounds are scored");
    let per_miner = scores["per_miner"].as_array().unwrap();
    assert_eq!(per_miner.len(), 2);
    for m in per_miner {
        // honest answers: complete, DOBs in range, addresses that pass the format and region
        // checks (else no geocoding happens and the result is `false`) and are geocoded; the
        // mock's gazetteer does not know every city the validator's table does, so a sampled
        // address may come back unknown (0.3) rather than found.
        assert_eq!(m["completeness_multiplier"], 1.0, "{m}");
        assert_eq!(m["dob_score"], 1.0, "{m}");
        assert!(["SUCCESS", "FAILED"].contains(&m["address_api_result"].as_str().unwrap_or("not geocoded")), "{m}");
        assert!(m["address_score"].as_f64().unwrap() >= 0.3, "{m}");
        for reward in ["base_reward", "kav_reward", "final_reward"] {
            assert!((0.0..=1.0).contains(&m[reward].as_f64().unwrap()), "{reward}: {m}");
        }
    }
    assert_eq!(scores["uav_accepted"].as_object().unwrap().len(), 2, "both miners' UAVs accepted");
    assert!(table.contains("What the reference validator would pay"));
}
