//! drand's HTTP API v1 over loopback, checked with a plain HTTP client and both verifiers.

use std::time::Duration;

use drand_mock::{Beacon, BeaconKey, Clock, DrandMock, InfoJson, MockConfig, RunningMock, verify_beacon};
use drand_verify::{G2PubkeyRfc, Pubkey};

const GENESIS: u64 = 1_700_000_001;

/// A beacon on a manual clock at `GENESIS + 30` (round 11), period 3.
async fn start(next_round_wait: Option<Duration>) -> RunningMock {
    let (clock, _m) = Clock::manual(GENESIS + 30);
    DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(b"drand-mock http tests, 32+ bytes of ikm")),
        period: 3,
        genesis: Some(GENESIS),
        clock,
        next_round_wait,
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap()
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

fn check_beacon(b: &Beacon, pk: &[u8]) {
    let sig = hex::decode(&b.signature).unwrap();
    verify_beacon(pk, b.round, &sig).unwrap();
    assert!(G2PubkeyRfc::from_variable(pk).unwrap().verify(b.round, b"", &sig).unwrap());
    assert_eq!(hex::decode(&b.randomness).unwrap(), drand_verify::derive_randomness(&sig).to_vec());
}

#[tokio::test]
async fn info_json_has_drand_fields() {
    let m = start(None).await;
    let resp = get(&format!("{}/info", m.url())).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["public_key", "period", "genesis_time", "hash", "groupHash", "schemeID", "metadata"]);
    assert_eq!(v["period"], 3);
    assert_eq!(v["genesis_time"], GENESIS);
    assert_eq!(v["schemeID"], "bls-unchained-g1-rfc9380");
    assert_eq!(v["metadata"]["beaconID"], "quicknet");
    assert_eq!(v["hash"], m.chain_hash_hex());
    assert_eq!(v["public_key"], hex::encode(m.mock().public_key()));
    assert_eq!(v["public_key"].as_str().unwrap().len(), 192);
    assert_eq!(v["groupHash"].as_str().unwrap().len(), 64);
    // The printed hash is the drand hash of the printed fields.
    let info: InfoJson = serde_json::from_str(&text).unwrap();
    let recomputed = drand_mock::ChainInfo {
        public_key: hex::decode(&info.public_key).unwrap(),
        period: info.period as u32,
        genesis_time: info.genesis_time,
        group_hash: hex::decode(&info.group_hash).unwrap().try_into().unwrap(),
        scheme_id: info.scheme_id.clone(),
        beacon_id: info.metadata.beacon_id.clone(),
    };
    assert_eq!(recomputed.hash_hex(), info.hash);
}

#[tokio::test]
async fn latest_and_specific_rounds() {
    let m = start(None).await;
    let pk = m.mock().public_key();
    let resp = get(&format!("{}/public/latest", m.url())).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["round", "randomness", "signature"]);
    let latest: Beacon = serde_json::from_str(&text).unwrap();
    assert_eq!(latest.round, 11);
    check_beacon(&latest, &pk);

    for r in [1u64, 5, 11] {
        let resp = get(&format!("{}/public/{r}", m.url())).await;
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        let b: Beacon = resp.json().await.unwrap();
        assert_eq!(b.round, r);
        check_beacon(&b, &pk);
    }
    // drand answers round 0 with the latest beacon.
    let zero: Beacon = get(&format!("{}/public/0", m.url())).await.json().await.unwrap();
    assert_eq!(zero, latest);
}

#[tokio::test]
async fn future_rounds_are_refused() {
    let m = start(Some(Duration::from_millis(200))).await;
    // Two or more rounds ahead: 404 at once, empty body, cacheable until the round's time.
    let resp = get(&format!("{}/public/13", m.url())).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["cache-control"], "public, must-revalidate, max-age=6");
    assert!(resp.bytes().await.unwrap().is_empty());
    let far = get(&format!("{}/public/{}", m.url(), u64::MAX)).await;
    assert_eq!(far.status(), 404);
    // The next round waits (here 200 ms) and is refused when it does not come.
    let started = std::time::Instant::now();
    let resp = get(&format!("{}/public/12", m.url())).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["cache-control"], "must-revalidate, no-cache, max-age=0");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn next_round_long_polls_until_published() {
    let m = start(Some(Duration::from_secs(20))).await;
    let url = format!("{}/public/12", m.url());
    let pending = tokio::spawn(async move { reqwest::get(url).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "round 12 must not be served before its time");
    assert_eq!(m.advance(3), 12);
    let resp = tokio::time::timeout(Duration::from_secs(5), pending).await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    let b: Beacon = resp.json().await.unwrap();
    assert_eq!(b.round, 12);
    check_beacon(&b, &m.mock().public_key());
}

#[tokio::test]
async fn malformed_rounds_are_bad_requests() {
    let m = start(None).await;
    for bad in ["abc", "-1", "+1", "1.5", "18446744073709551616", "0x1"] {
        let resp = get(&format!("{}/public/{bad}", m.url())).await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn chain_hash_prefixed_routes() {
    let m = start(None).await;
    let base = format!("{}/{}", m.url(), m.chain_hash_hex());
    let info: InfoJson = get(&format!("{base}/info")).await.json().await.unwrap();
    assert_eq!(info.hash, m.chain_hash_hex());
    let plain: InfoJson = get(&format!("{}/info", m.url())).await.json().await.unwrap();
    assert_eq!(info, plain);
    let latest: Beacon = get(&format!("{base}/public/latest")).await.json().await.unwrap();
    assert_eq!(latest.round, 11);
    let r7: Beacon = get(&format!("{base}/public/7")).await.json().await.unwrap();
    assert_eq!(r7, m.mock().beacon_unchecked(7));
    assert_eq!(get(&format!("{base}/public/13")).await.status(), 404);
    assert_eq!(get(&format!("{base}/public/x")).await.status(), 400);
    // Upper-case hex names the same chain (drand decodes the hex).
    let upper = format!("{}/{}/info", m.url(), m.chain_hash_hex().to_uppercase());
    assert_eq!(get(&upper).await.status(), 200);
}

#[tokio::test]
async fn unknown_chain_hash() {
    let m = start(None).await;
    // quicknet's hash: valid hex, another chain.
    let other = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";
    for path in ["info", "public/latest", "public/3"] {
        let resp = get(&format!("{}/{other}/{path}", m.url())).await;
        assert_eq!(resp.status(), 404, "{path}");
    }
    // Not hex at all: drand refuses to decode it.
    assert_eq!(get(&format!("{}/nothex/info", m.url())).await.status(), 400);
}

#[tokio::test]
async fn fast_forward_clock() {
    let m = start(None).await;
    assert_eq!(m.mock().current_round(), 11);
    // 40 minutes (a MIID reveal delay) in no wall time.
    assert_eq!(m.advance(2400), 811);
    let latest: Beacon = get(&format!("{}/public/latest", m.url())).await.json().await.unwrap();
    assert_eq!(latest.round, 811);
    assert_eq!(get(&format!("{}/public/811", m.url())).await.status(), 200);
    assert_eq!(m.advance_rounds(5), 816);
    assert_eq!(m.manual_clock().unwrap().now(), GENESIS + 815 * 3);

    // The same over HTTP, for a beacon running as a separate process.
    let client = reqwest::Client::new();
    let v: serde_json::Value =
        client.post(format!("{}/admin/advance?rounds=4", m.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["round"], 820);
    let v: serde_json::Value =
        client.post(format!("{}/admin/advance?secs=3", m.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["round"], 821);
    assert_eq!(v["now"], GENESIS + 820 * 3);
    let bad = client.post(format!("{}/admin/advance", m.url())).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn system_clock_beacon() {
    let m = DrandMock::new(MockConfig::default()).unwrap().spawn("127.0.0.1:0").await.unwrap();
    let s = m.mock().schedule();
    assert_eq!(s.genesis % 3, 0);
    let latest: Beacon = get(&format!("{}/public/latest", m.url())).await.json().await.unwrap();
    let now = Clock::System.now();
    assert!(latest.round >= 1 && latest.round <= s.round_at(now));
    check_beacon(&latest, &m.mock().public_key());
    // No manual clock: the admin route is not there.
    let resp = reqwest::Client::new().post(format!("{}/admin/advance?secs=1", m.url())).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    m.shutdown().await;
}

#[tokio::test]
async fn binary_prints_url_and_hash_then_serves() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("beacon.key");
    let key = BeaconKey::generate().unwrap();
    key.save(&key_path).unwrap();

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_drand-mock"))
        .args(["--listen", "127.0.0.1:0", "--period", "3", "--genesis", "1700000001", "--key"])
        .arg(&key_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let read = async {
        let url = lines.next_line().await.unwrap().unwrap();
        let hash = lines.next_line().await.unwrap().unwrap();
        let pk = lines.next_line().await.unwrap().unwrap();
        (url, hash, pk)
    };
    let (url, hash, pk) = tokio::time::timeout(Duration::from_secs(30), read).await.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(pk, hex::encode(key.public_key()));
    let info: InfoJson = get(&format!("{url}/{hash}/info")).await.json().await.unwrap();
    assert_eq!(info.hash, hash);
    assert_eq!(info.genesis_time, 1_700_000_001);
    let latest: Beacon = get(&format!("{url}/public/latest")).await.json().await.unwrap();
    check_beacon(&latest, &key.public_key());
    assert_eq!(hex::decode(&latest.signature).unwrap(), key.sign(latest.round));

    // SIGTERM ends it cleanly.
    let pid = child.id().unwrap();
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
}
