//! A whole validator round (miid_validator::runner) against 32 loopback miners: 20 real miners
//! (miid-miner axons with the default engine), 4 that never answer, 4 that answer garbage and 4
//! whose answer is larger than the dendrite accepts. The round must finish once the timeout has
//! passed (nothing waits on the silent miners beyond it), record every failure as the reference
//! does (408 / 422 with an empty default answer), and score every well-behaved miner, with a
//! real geocoder (nominatim-mock) behind the address grading.

use std::sync::Arc;

use serde_json::Value;

use miid_chain::{Admission, AxonEndpoint, Metagraph, Neuron, SnapshotChain};
use miid_miner::engine::SimpleEngine;
use miid_miner::{Axon, AxonConfig, Forwarder};
use miid_protocol::{Hotkey, Scheme};
use miid_validator::Dendrite;
use miid_validator::loopback::{Behaviour, serve};
use miid_validator::round::BatchPolicy;
use miid_validator::runner::{Validator, ValidatorConfig};

const GOOD: usize = 20;
const TIMEOUT: f64 = 3.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_against_32_miners_some_broken() {
    let validator = Hotkey::from_uri("//RoundsValidator").unwrap();
    let mut neurons = vec![Neuron {
        uid: 0,
        hotkey: validator.ss58().to_owned(),
        coldkey: validator.ss58().to_owned(),
        stake: 1000.0,
        validator_permit: true,
        axon: AxonEndpoint { ip: "0.0.0.0".into(), port: 0 },
    }];
    let mut real = Vec::new();
    let mut tasks = Vec::new();
    let mut kinds = vec![None; 1];
    for uid in 1..=32u16 {
        let hotkey = Hotkey::from_uri(&format!("//RoundsMiner{uid}")).unwrap();
        let port = if (uid as usize) <= GOOD {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            real.push((hotkey.clone(), listener, port));
            kinds.push(Some("good"));
            port
        } else {
            let (behaviour, kind) = match (uid as usize - GOOD - 1) / 4 {
                0 => (Behaviour::Silent, "silent"),
                1 => (Behaviour::Garbage, "garbage"),
                _ => (Behaviour::Oversize(2 << 20), "oversize"),
            };
            let (addr, task) = serve(behaviour).await.unwrap();
            tasks.push(task);
            kinds.push(Some(kind));
            addr.port()
        };
        neurons.push(Neuron {
            uid,
            hotkey: hotkey.ss58().to_owned(),
            coldkey: hotkey.ss58().to_owned(),
            stake: 0.0,
            validator_permit: false,
            axon: AxonEndpoint { ip: "127.0.0.1".into(), port },
        });
    }
    let metagraph = Metagraph::new(54, 1, neurons).unwrap();
    let chain = Arc::new(SnapshotChain::from_metagraph(metagraph));
    let forward = Arc::new(Forwarder::new(Box::new(SimpleEngine)));
    for (hotkey, listener, port) in real {
        let cfg = AxonConfig { external_ip: "127.0.0.1".into(), external_port: port, ..AxonConfig::default() };
        let axon = Axon::new(hotkey, Admission::open(0.0), chain.clone(), forward.clone(), cfg);
        tasks.push(tokio::spawn(async move {
            let _ = axon.serve(listener, std::future::pending::<()>()).await;
        }));
    }
    let geocoder = nominatim_mock::spawn(nominatim_mock::Config {
        street_precision: nominatim_mock::StreetPrecision::SynthesizeHouse { bbox_side_m: 8.0 },
        ..Default::default()
    })
    .await
    .unwrap();

    let dendrite = Arc::new(Dendrite::new(validator, "127.0.0.1", Scheme::V10).with_max_response_bytes(1 << 20));
    let state = tempfile::tempdir().unwrap();
    let config = ValidatorConfig {
        batch: BatchPolicy::immediate(150),
        timeout: TIMEOUT,
        adaptive_timeout: false,
        min_round_secs: 0.0,
        post_round_sleep_secs: 0.0,
        seed: Some(11),
        // Photon is only asked when Nominatim fails; nothing listens on the discard port.
        geocoder: Some((geocoder.base_url(), "http://127.0.0.1:9".into(), false)),
        ..ValidatorConfig::default()
    };
    let mut v = Validator::open(chain.clone(), dendrite, config, state.path()).await.unwrap();
    let report = v.run_round().await.unwrap();

    assert_eq!(report.queried, 32, "k = min(#axons − 1, 250) = 32, all available");
    assert_eq!(report.answered, GOOD, "{report:?}");
    // Silent miners time out at TIMEOUT; nothing waits longer (one attempt: only 8 miners
    // returned 422, not more than 50, so there is no retry).
    assert!(report.query_secs >= TIMEOUT - 0.1, "{report:?}");
    assert!(report.query_secs < TIMEOUT + 2.0, "the round waited past the timeout: {report:?}");
    assert_eq!(report.default_answers, 8, "garbage and oversize answers get an empty default answer");
    assert!(report.weights_set, "{report:?}");

    let record: Value =
        serde_json::from_slice(&std::fs::read(state.path().join(&report.results_file)).unwrap()).unwrap();
    let responses = record["responses"].as_object().unwrap();
    assert_eq!(responses.len(), 32);
    let seeds = record["seed_names"].as_array().unwrap().len();
    assert_eq!(seeds, 15);
    for (uid, r) in responses {
        let kind = kinds[uid.parse::<usize>().unwrap()].unwrap();
        let details = &r["scoring_details"];
        match kind {
            "good" => {
                assert!(r["error"].is_null(), "uid {uid}: {}", r["error"]);
                assert_eq!(r["variations"].as_object().unwrap().len(), seeds, "uid {uid}: one entry per seed");
                assert!(details["average_quality"].as_f64().unwrap() > 0.0, "uid {uid} scored: {details}");
                assert!(details["address_score"].as_f64().is_some(), "uid {uid}: addresses graded");
            }
            "silent" => {
                assert_eq!(r["error"]["status_code"], 408, "uid {uid}");
                assert_eq!(details["penalties"]["missing_names"], 1.0, "uid {uid}: an empty answer");
            }
            _ => {
                assert_eq!(r["error"]["status_code"], 422, "uid {uid} ({kind}): {}", r["error"]);
                assert!(r["response_time"].is_null(), "a default answer has no process time (V9)");
                assert_eq!(r["variations"], serde_json::json!({}));
            }
        }
    }
    // The round's bookkeeping: rewards for the 32 miners, the burn on uid 59, weights emitted.
    assert_eq!(record["rewards"].as_object().unwrap().len(), 32);
    let st = v.state();
    assert_eq!(st.rounds_completed, 1);
    assert!(st.scores[59] > 0.0);
    let emitted = &chain.weights_history()[0];
    assert!(emitted.uids.contains(&59));
    assert!(record["uav_data"]["summary"]["total_miners_with_uav"].as_u64().is_some());
    assert!(record["query_labels"]["rule_based"]["selected_rules"].as_array().is_some());

    geocoder.stop().await.unwrap();
    for t in tasks {
        t.abort();
    }
}
