//! Across rounds: the reputation snapshot is read from an HTTP endpoint before every round and
//! pays the UAV pool; a miner whose hotkey changes in the metagraph loses its accumulated score
//! (validator-round 1.5); the moving average decays everyone else by 0.85.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde_json::json;

use miid_chain::SnapshotChain;
use miid_protocol::{Hotkey, Scheme};
use miid_validator::Dendrite;
use miid_validator::loopback::{Behaviour, spawn};
use miid_validator::round::BatchPolicy;
use miid_validator::runner::{Validator, ValidatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reputation_endpoint_and_hotkey_change() {
    let validator = Hotkey::from_uri("//ResyncValidator").unwrap();
    let miners = spawn(&validator, &[Behaviour::Instant; 3]).await.unwrap();
    let hk = |uid: u16| miners.metagraph.by_uid(uid).unwrap().hotkey.clone();
    let snapshot = json!({"rep_cache": {hk(1): {"rep_score": 10.0, "rep_tier": "Gold"},
                                        hk(2): {"rep_score": 10.0, "rep_tier": "Gold"},
                                        hk(3): {"rep_score": 2.55}},
                          "rep_snapshot_version": "v42"});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rep", listener.local_addr().unwrap());
    let body = snapshot.to_string();
    let server = tokio::spawn(async move {
        let app = Router::new().route("/rep", get(move || async move { body }));
        axum::serve(listener, app).await.unwrap();
    });

    let dir = tempfile::tempdir().unwrap();
    let metagraph_file = dir.path().join("metagraph.json");
    std::fs::write(&metagraph_file, miners.metagraph.to_json_pretty()).unwrap();
    let chain = Arc::new(SnapshotChain::from_file(&metagraph_file).unwrap());
    let config = ValidatorConfig {
        batch: BatchPolicy::immediate(150),
        timeout: 10.0,
        adaptive_timeout: false,
        seeds: 6,
        min_round_secs: 0.0,
        post_round_sleep_secs: 0.0,
        seed: Some(5),
        reputation_source: Some(url),
        ..ValidatorConfig::default()
    };
    let dendrite = Arc::new(Dendrite::new(validator, "127.0.0.1", Scheme::V10));
    let mut v = Validator::open(chain, dendrite, config, dir.path().join("state")).await.unwrap();
    v.run_round().await.unwrap();
    let s1 = v.state().scores.clone();
    assert_eq!(v.state().reputation.version.as_deref(), Some("v42"));
    // No geocoder: nobody qualifies for KAV, so the miners share the UAV pool (24%) by reputation
    // and the burn gets 76% (no_kav mode).
    assert!((s1[59] - 0.15 * 0.76).abs() < 1e-12, "{}", s1[59]);
    assert!(s1[1] > 0.0 && (s1[1] - s1[2]).abs() < 1e-15 && s1[3] < s1[1], "{:?}", &s1[..4]);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(v.state_dir().join("results/round_000001.json")).unwrap()).unwrap();
    assert_eq!(record["reward_allocation"]["rep_snapshot_version"], "v42");

    // uid 2 is re-registered by another hotkey.
    let mut m = miners.metagraph.clone();
    m.by_uid_mut(2).unwrap().hotkey = Hotkey::from_uri("//Newcomer").unwrap().ss58().to_owned();
    std::fs::write(&metagraph_file, m.to_json_pretty()).unwrap();
    v.run_round().await.unwrap();
    let s2 = v.state().scores.clone();
    // The newcomer has no reputation and its predecessor's score was reset: 0.
    assert_eq!(s2[2], 0.0, "a changed hotkey starts from zero");
    // uid 1 (same reputation, same pool shape minus uid 2) keeps 0.85 of its old score plus more.
    assert!(s2[1] > 0.85 * s1[1], "{} vs {}", s2[1], s1[1]);
    assert_eq!(v.state().hotkeys[2], m.by_uid(2).unwrap().hotkey);
    server.abort();
}
