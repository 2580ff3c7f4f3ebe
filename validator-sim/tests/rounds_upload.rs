//! Results upload (validator-round 14.2) against a local upload server: every record arrives
//! signed by the validator hotkey over the reference's message; a failed upload keeps the round's
//! reward allocation pending and the next record carries both; the reply's `rep_cache` becomes
//! the reputation snapshot that pays the UAV pool in the following round.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

use miid_chain::SnapshotChain;
use miid_protocol::{Hotkey, PublicKey, Scheme};
use miid_validator::Dendrite;
use miid_validator::loopback::{Behaviour, spawn};
use miid_validator::round::BatchPolicy;
use miid_validator::runner::{Validator, ValidatorConfig};
use miid_validator::upload::parse_signed_text;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

#[derive(Clone)]
struct Server {
    seen: Seen,
    reply: Value,
}

async fn receive(State(s): State<Server>, Path(hotkey): Path<String>, Json(body): Json<Value>) -> impl IntoResponse {
    let n = {
        let mut seen = s.seen.lock().unwrap();
        seen.push((hotkey, body));
        seen.len()
    };
    if n == 1 {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": "busy"})))
    } else if n == 2 {
        (StatusCode::OK, Json(s.reply.clone()))
    } else {
        (StatusCode::OK, Json(json!({"status": "ok"})))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_signed_uploaded_and_bring_back_reputation() {
    let validator = Hotkey::from_uri("//UploadValidator").unwrap();
    let miners = spawn(&validator, &[Behaviour::Instant; 3]).await.unwrap();
    let hk = |uid: u16| miners.metagraph.by_uid(uid).unwrap().hotkey.clone();
    let server = Server {
        seen: Seen::default(),
        reply: json!({"rep_cache": {hk(1): {"rep_score": 10.0, "rep_tier": "Gold"}, hk(2): {"rep_score": 1.0}},
                      "rep_snapshot_version": "snap-2"}),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/upload_data/{hotkey}", post(receive)).with_state(server.clone());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let config = ValidatorConfig {
        batch: BatchPolicy::immediate(150),
        timeout: 10.0,
        adaptive_timeout: false,
        seeds: 6,
        min_round_secs: 0.0,
        post_round_sleep_secs: 0.0,
        seed: Some(9),
        upload: Some(url),
        ..ValidatorConfig::default()
    };
    let chain = Arc::new(SnapshotChain::from_metagraph(miners.metagraph.clone()));
    let dendrite = Arc::new(Dendrite::new(validator.clone(), "127.0.0.1", Scheme::V10));
    let mut v = Validator::open(chain, dendrite, config, dir.path()).await.unwrap();

    let r1 = v.run_round().await.unwrap();
    assert_eq!(r1.uploaded, Some(false));
    assert_eq!(v.state().pending_allocations.len(), 1, "kept for the next record");
    let r2 = v.run_round().await.unwrap();
    assert_eq!(r2.uploaded, Some(true));
    assert!(v.state().pending_allocations.is_empty());
    assert_eq!(v.state().reputation.version.as_deref(), Some("snap-2"));
    // Round 2 had no reputation: everything burned. Round 3 pays the UAV pool by reputation.
    assert_eq!(v.state().history[1].rewards[..3], [0.0, 0.0, 0.0]);
    v.run_round().await.unwrap();
    let h3 = &v.state().history[2];
    let reward = |uid: u16| h3.rewards[h3.uids.iter().position(|u| *u == uid).unwrap()];
    assert!(reward(1) > reward(2) && reward(2) > 0.0 && reward(3) == 0.0, "{h3:?}");

    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].1["reward_allocation"]["pending_count"], 1);
    assert_eq!(seen[1].1["reward_allocation"]["pending_count"], 2, "the failed round's allocation is resent");
    assert_eq!(seen[2].1["reward_allocation"]["pending_count"], 1);
    let public = PublicKey::from_ss58(validator.ss58()).unwrap();
    for (hotkey, record) in &seen {
        assert_eq!(hotkey, validator.ss58());
        let (line, ss58, sig) = parse_signed_text(record["signature"].as_str().unwrap()).unwrap();
        assert_eq!(ss58, validator.ss58());
        assert!(public.verify(line.as_bytes(), &sig), "signature verifies");
        let expected_head = format!(
            "Hotkey: <Keypair (address={})> \n timestamp: {} \n query_template: ",
            validator.ss58(),
            record["timestamp"].as_str().unwrap()
        );
        assert!(line.contains(&expected_head), "{line}");
        assert!(line.contains(" \n query_labels: {'variation_count': "), "{line}");
    }
    task.abort();
}
