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
        // checks and geocode
        assert_eq!(m["completeness_multiplier"], 1.0, "{m}");
        assert_eq!(m["dob_score"], 1.0, "{m}");
        assert_eq!(m["address_api_result"], "SUCCESS", "{m}");
        assert!(m["kav_reward"].as_f64().unwrap() > 0.5, "{m}");
    }
    assert_eq!(scores["uav_accepted"].as_object().unwrap().len(), 2, "both miners' UAVs accepted");
    assert!(table.contains("What the reference validator would pay"));
}
