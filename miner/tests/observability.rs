//! `/health` and `/metrics` of a running axon: what an operator's monitoring sees after real
//! requests (one answered, one refused by the blacklist, one to an unknown synapse).

use std::sync::Arc;
use std::time::Duration;

use miid_chain::{Admission, Chain, Metagraph, Neuron, SnapshotChain, SyncedChain};
use miid_miner::engine::SimpleEngine;
use miid_miner::{Axon, AxonConfig, Forwarder};
use miid_protocol::synapse::Generation;
use miid_protocol::v10::{AxonTarget, DendriteSigner};
use miid_protocol::{Hotkey, IdentitySynapse};

fn neuron(uid: u16, key: &Hotkey, permit: bool) -> Neuron {
    Neuron {
        uid,
        hotkey: key.ss58().into(),
        coldkey: key.ss58().into(),
        stake: 100.0,
        validator_permit: permit,
        axon: miid_chain::AxonEndpoint { ip: "0.0.0.0".into(), port: 0 },
    }
}

async fn start(chain: Arc<dyn Chain>, miner: Hotkey) -> (u16, tokio::sync::oneshot::Sender<()>) {
    let axon = Axon::new(
        miner,
        Admission::open(0.0),
        chain,
        Arc::new(Forwarder::new(Box::new(SimpleEngine))),
        AxonConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(axon.serve(listener, async {
        let _ = rx.await;
    }));
    (port, tx)
}

async fn signed_request(port: u16, miner: &Hotkey, caller: Hotkey) -> reqwest::StatusCode {
    let target = AxonTarget { ip: "127.0.0.1".into(), port, hotkey: miner.ss58().into() };
    let mut s = IdentitySynapse::new(Generation::R1, 10.0);
    s.identity = Some(vec![vec!["Ana Lima".into(), "1991-03-03".into(), "Brazil".into()]]);
    s.query_template = Some("Generate 3 variations of {name}".into());
    let req = DendriteSigner::new(caller, "127.0.0.1").sign(&s, Generation::R1, &target, 10.0, miid_protocol::now_ns());
    let mut http = reqwest::Client::new().post(&req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        http = http.header(k, v);
    }
    http.send().await.unwrap().status()
}

#[tokio::test]
async fn metrics_and_health_report_what_happened() {
    let miner = Hotkey::from_uri("//Miner").unwrap();
    let validator = Hotkey::from_uri("//Validator").unwrap();
    let m = Metagraph::new(54, 42, vec![neuron(0, &validator, true), neuron(1, &miner, false)]).unwrap();
    let (port, stop) = start(Arc::new(SnapshotChain::from_metagraph(m)), miner.clone()).await;

    assert_eq!(signed_request(port, &miner, validator).await, 200);
    assert_eq!(signed_request(port, &miner, Hotkey::from_uri("//Stranger").unwrap()).await, 403);
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(reqwest::get(format!("{base}/NoSuchSynapse")).await.unwrap().status(), 404);

    let resp = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    for line in [
        "miid_miner_requests_total 3",
        r#"miid_miner_responses_total{status="200"} 1"#,
        r#"miid_miner_rejections_total{reason="blacklisted"} 1"#,
        r#"miid_miner_rejections_total{reason="unknown_synapse"} 1"#,
        "miid_miner_request_duration_seconds_count 3",
        "miid_miner_s3_submissions_total 0",
        "miid_miner_metagraph_block 42",
        "miid_miner_metagraph_neurons 2",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }

    let health: serde_json::Value = reqwest::get(format!("{base}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["uid"], 1);
    assert_eq!(health["metagraph_block"], 42);
    assert_eq!(health["hotkey"], miner.ss58());
    assert_eq!(health["forwards"], 1);
    let _ = stop.send(());
}

#[tokio::test]
async fn health_shows_a_failing_metagraph_sync() {
    let miner = Hotkey::from_uri("//Miner").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    let m = Metagraph::new(54, 7, vec![neuron(1, &miner, false)]).unwrap();
    std::fs::write(&path, m.to_json_pretty()).unwrap();
    let retry = miid_chain::Retry {
        attempts: 1,
        initial: Duration::from_millis(10),
        max: Duration::from_millis(20),
        timeout: Duration::from_secs(1),
    };
    let synced =
        SyncedChain::start(Arc::new(SnapshotChain::from_file(&path).unwrap()), Duration::from_millis(20), retry)
            .await
            .unwrap();
    let (port, stop) = start(synced.clone(), miner).await;
    std::fs::write(&path, "{").unwrap(); // the "node" stops answering
    for _ in 0..200 {
        if synced.status().failures > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resp = reqwest::get(format!("http://127.0.0.1:{port}/health")).await.unwrap();
    assert_eq!(resp.status(), 200, "the last good metagraph still serves");
    let health: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    assert!(health["sync_failures"].as_u64().unwrap() >= 1);
    assert!(health["last_sync_error"].as_str().unwrap().contains("not valid"), "{health}");
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"miid_miner_errors_total{kind="chain_sync"}"#), "{text}");
    let _ = stop.send(());
}
