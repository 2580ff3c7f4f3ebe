//! Post-validation scheduled by the validator loop: an R1 round with an image request (base
//! image from a folder, drand target from the round arithmetic on a drand-mock), miners that
//! timelock their images to the target round and upload them to an s3-mock, the submissions
//! recorded as pending; nothing runs before the reveal; once the beacon is fast-forwarded past
//! the target round the checks run, their verdicts land in the durable state, and the pending
//! entry is gone.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

use drand_mock::{BeaconKey, Clock, DrandMock, MockConfig};
use miid_chain::{AxonEndpoint, Metagraph, Neuron, SnapshotChain};
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{SubmissionKey, path_signature, sign_submission};
use miid_protocol::{Generation, Hotkey, Scheme};
use miid_tlock::{ChainKey, Format};
use miid_validator::Dendrite;
use miid_validator::postval::FetchConfig;
use miid_validator::round::BatchPolicy;
use miid_validator::runner::{Validator, ValidatorConfig};

const AK: &str = "AKIDVALIDATOR";
const SK: &str = "validator-secret";
const BUCKET: &str = "yanez-miid-sn54";
const DELAY: u64 = 60;

fn png(tag: &str) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[0, 0, 0, 13]);
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    v.extend_from_slice(tag.as_bytes());
    v
}

/// A miner that answers the names (loopback stand-in) and, for each requested image variation,
/// uploads a timelocked PNG and reports it; with `upload == false` it reports without uploading.
async fn image_miner(key: Hotkey, chain: ChainKey, s3: String, upload: bool) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = move |body: Bytes| {
        let (key, s3) = (key.clone(), s3.clone());
        async move {
            let request: Value = serde_json::from_slice(&body).unwrap();
            let mut answer = miid_validator::loopback::answer(&request);
            let img = &request["image_request"];
            let cid = img["challenge_id"].as_str().unwrap().to_owned();
            let target = img["target_drand_round"].as_u64().unwrap();
            let ps = path_signature(&key, &cid);
            let mut subs = Vec::new();
            for (i, v) in img["variation_requests"].as_array().unwrap().iter().enumerate() {
                let vt = v["type"].as_str().unwrap();
                let s3_key = SubmissionKey::for_image(
                    Some(&cid),
                    key.ss58(),
                    &ps,
                    img["image_filename"].as_str().unwrap(),
                    vt,
                    Generation::R1,
                    1_800_000_000 + i as u64,
                )
                .unwrap()
                .render();
                let pt = png(&format!("{}-{i}", key.ss58()));
                if upload {
                    let ct = miid_tlock::encrypt(Format::Mainnet, &chain, target, &pt, &mut rand::rng()).unwrap();
                    let r = reqwest::Client::new()
                        .put(format!("{s3}/{BUCKET}/{s3_key}"))
                        .header("content-type", "application/octet-stream")
                        .body(ct)
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success());
                }
                let hash = sha256_hex(&pt);
                subs.push(
                    json!({"s3_key": s3_key, "image_hash": hash, "signature": sign_submission(&key, &cid, &hash),
                                 "variation_type": vt, "path_signature": ps}),
                );
            }
            answer["s3_submissions"] = Value::Array(subs);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], answer.to_string()).into_response()
        }
    };
    let app = Router::new().route("/IdentitySynapse", post(handler));
    (port, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_post_validated_after_the_reveal() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (clock, _manual) = Clock::manual(now);
    let drand = DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(b"validator-sim rounds post-validation beacon key material")),
        period: 3,
        genesis: Some(now - 300),
        clock,
        next_round_wait: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let s3 = s3_mock::bind(
        "127.0.0.1:0",
        s3_mock::Config {
            data_dir: data.path().to_path_buf(),
            access_key: AK.into(),
            secret_key: SK.into(),
            public_write: vec![BUCKET.into()],
            buckets: vec![],
            domain: None,
        },
    )
    .await
    .unwrap();
    let chain_key = miid_tlock::client::Client::connect(&drand.url(), None).await.unwrap().chain_key();

    let validator = Hotkey::from_uri("//PostvalValidator").unwrap();
    let honest = Hotkey::from_uri("//PostvalHonest").unwrap();
    let liar = Hotkey::from_uri("//PostvalLiar").unwrap();
    let (p1, t1) = image_miner(honest.clone(), chain_key, s3.endpoint(), true).await;
    let (p2, t2) = image_miner(liar.clone(), chain_key, s3.endpoint(), false).await;
    let neuron = |uid: u16, k: &Hotkey, port: u16, permit: bool| Neuron {
        uid,
        hotkey: k.ss58().to_owned(),
        coldkey: k.ss58().to_owned(),
        stake: 0.0,
        validator_permit: permit,
        axon: AxonEndpoint { ip: if port == 0 { "0.0.0.0" } else { "127.0.0.1" }.into(), port },
    };
    let metagraph = Metagraph::new(
        54,
        1,
        vec![neuron(0, &validator, 0, true), neuron(1, &honest, p1, false), neuron(2, &liar, p2, false)],
    )
    .unwrap();
    let chain = Arc::new(SnapshotChain::from_metagraph(metagraph));
    let images = tempfile::tempdir().unwrap();
    std::fs::write(images.path().join("a1b2c3d4e5f6_m_doc.png"), png("base")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = ValidatorConfig {
        batch: BatchPolicy::immediate(150),
        timeout: 20.0,
        adaptive_timeout: false,
        seeds: 6,
        min_round_secs: 0.0,
        post_round_sleep_secs: 0.0,
        seed: Some(3),
        image_dir: Some(images.path().to_path_buf()),
        reveal_delay_s: DELAY,
        beacon: Some(drand.url()),
        postval: Some(FetchConfig::private(&s3.endpoint(), BUCKET, AK, SK)),
        postval_wait: Duration::from_secs(2),
        ..ValidatorConfig::default()
    };
    let dendrite = Arc::new(Dendrite::new(validator, "127.0.0.1", Scheme::V10));
    let mut v = Validator::open(chain, dendrite, config, state.path()).await.unwrap();
    let report = v.run_round().await.unwrap();
    assert_eq!(report.answered, 2, "{report:?}");

    let pending = v.state().pending_postval.clone();
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p.round, 1);
    assert_eq!(p.miners.len(), 2);
    let sched = drand.mock().schedule();
    assert!(p.target_drand_round > drand.mock().current_round(), "the reveal is in the future");
    assert_eq!(p.reveal_timestamp as u64, sched.time_of(p.target_drand_round));
    assert!(p.challenge_id.as_deref().unwrap().starts_with("challenge_"));

    // Before the reveal nothing is due.
    assert_eq!(v.run_due_postval().await.unwrap(), 0);
    assert_eq!(v.state().pending_postval.len(), 1);

    // Fast-forward the beacon past the target round.
    drand.advance(DELAY + 6);
    assert_eq!(v.run_due_postval().await.unwrap(), 1);
    let st = v.state().clone();
    assert!(st.pending_postval.is_empty());
    let rec = &st.postval_results[0];
    let per_miner = p.miners[0].submissions.len();
    assert_eq!(rec.checked, 2 * per_miner);
    assert_eq!(rec.passed, per_miner, "the honest miner's images pass, the liar's are missing: {:?}", rec.checks);
    for c in &rec.checks {
        let ok = c["ok"].as_bool().unwrap();
        assert_eq!(ok, c["miner_hotkey"] == honest.ss58(), "{c}");
        if !ok {
            assert!(c["failures"].to_string().contains("missing"), "{c}");
        }
    }
    // Durable: a validator reopened on the same directory sees the same results.
    let on_disk: Value = serde_json::from_slice(&std::fs::read(state.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(on_disk["postval_results"][0]["passed"], per_miner);
    assert_eq!(on_disk["pending_postval"], json!([]));
    t1.abort();
    t2.abort();
}
