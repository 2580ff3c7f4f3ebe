//! `miner doctor` against a local setup: s3-mock and drand-mock on loopback, a metagraph
//! snapshot, a wallet and a model file. Everything passes; then a wrong S3 secret, a beacon whose
//! clock is an hour off, a missing model and an unregistered hotkey each fail with a fix.

mod common;

use drand_mock::{Clock, DrandMock, MockConfig, RunningMock};

use common::MINER;
const AK: &str = "doctor-access";
const SK: &str = "doctor-secret-key";
const BUCKET: &str = "miid-doctor";

struct Setup {
    dir: tempfile::TempDir,
    s3: s3_mock::S3Mock,
    hotkey: String,
}

async fn setup(registered: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");
    let hotkey = common::new_hotkey(&wallets);
    let v = miid_protocol::Hotkey::from_uri("//Validator").unwrap();
    let mine = if registered {
        format!(r#",{{"uid": 1, "hotkey": "{hotkey}", "axon": {{"ip": "0.0.0.0", "port": 0}}}}"#)
    } else {
        String::new()
    };
    std::fs::write(
        dir.path().join("metagraph.json"),
        format!(
            r#"{{"netuid": 54, "block": 9, "neurons": [{{"uid": 0, "hotkey": "{}", "validator_permit": true, "stake": 1000.0, "axon": {{"ip": "0.0.0.0", "port": 0}}}}{mine}]}}"#,
            v.ss58()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("model.safetensors"), b"not really weights, but present").unwrap();
    let s3 = s3_mock::bind(
        "127.0.0.1:0",
        s3_mock::Config {
            data_dir: dir.path().join("s3"),
            access_key: AK.into(),
            secret_key: SK.into(),
            buckets: vec![BUCKET.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Setup { dir, s3, hotkey }
}

async fn drand(clock: Clock) -> RunningMock {
    DrandMock::new(MockConfig { clock, ..Default::default() }).unwrap().spawn("127.0.0.1:0").await.unwrap()
}

async fn doctor(s: &Setup, drand_url: &str, secret: &str, model: &str) -> (bool, String) {
    let mut cmd = tokio::process::Command::new(MINER);
    cmd.arg("doctor")
        .args(["--wallet.path", s.dir.path().join("wallets").to_str().unwrap(), "--wallet.name", "m"])
        .args(["--wallet.hotkey", "hk", "--netuid", "54", "--axon.ip", "127.0.0.1", "--axon.port", "0"])
        .args(["--metagraph", s.dir.path().join("metagraph.json").to_str().unwrap()])
        .args(["--s3.endpoint", &s.s3.endpoint(), "--s3.path_style", "true", "--s3.bucket", BUCKET])
        .args(["--s3.region", "us-east-1", "--s3.access_key", AK, "--s3.secret_key", secret])
        .args(["--drand.beacon", drand_url, "--doctor.timeout_secs", "5"])
        .args(["--model.path", s.dir.path().join(model).to_str().unwrap()])
        .env("RUST_LOG", "warn");
    let out = cmd.output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find(|l| l[l.char_indices().nth(2).map_or(0, |(i, _)| i)..].starts_with(name))
        .unwrap_or_else(|| panic!("no {name} line in\n{text}"))
}

#[tokio::test]
async fn a_healthy_local_setup_passes_every_check() {
    let s = setup(true).await;
    let beacon = drand(Clock::System).await;
    let (ok, text) = doctor(&s, &beacon.url(), SK, "model.safetensors").await;
    assert!(ok, "{text}");
    for name in ["configuration", "wallet", "axon port", "model files", "S3", "drand", "clock", "chain"] {
        assert!(line(&text, name).starts_with('✓'), "{name}:\n{text}");
    }
    assert!(line(&text, "wallet").contains(&s.hotkey));
    assert!(line(&text, "S3").contains("credentials accepted"), "{text}");
    assert!(line(&text, "drand").contains("signature verified"), "{text}");
    assert!(line(&text, "chain").contains("uid 1 on netuid 54"), "{text}");
    assert!(text.contains("8 passed, 0 failed"), "{text}");
}

#[tokio::test]
async fn each_broken_part_fails_with_what_to_do() {
    let s = setup(false).await;
    // A beacon whose clock is an hour ahead of ours: our clock looks an hour behind.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (clock, _manual) = Clock::manual(now + 3600);
    let beacon = DrandMock::new(MockConfig { clock, genesis: Some(now - 600), ..Default::default() })
        .unwrap()
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let (ok, text) = doctor(&s, &beacon.url(), "wrong-secret", "missing.bin").await;
    assert!(!ok, "{text}");
    let s3 = line(&text, "S3");
    assert!(s3.starts_with('✗') && s3.contains("credentials refused"), "{text}");
    let clock_line = line(&text, "clock");
    // 3600 s at 3 s a round; one less if a round boundary passes while the doctor starts.
    assert!(clock_line.starts_with('✗'), "{text}");
    assert!(clock_line.contains("+1200 round(s)") || clock_line.contains("+1199 round(s)"), "{text}");
    assert!(text.contains("timedatectl set-ntp true"), "{text}");
    assert!(line(&text, "model files").starts_with('✗'), "{text}");
    let chain = line(&text, "chain");
    assert!(chain.starts_with('✗') && chain.contains("not registered"), "{text}");
    assert!(text.contains("btcli subnets register --netuid 54 --wallet.name m --wallet.hotkey hk"), "{text}");
    assert!(line(&text, "drand").starts_with('✓'), "the beacon itself is fine:\n{text}");
    assert!(text.contains("4 passed, 4 failed"), "{text}");

    // A drand URL where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (ok, text) = doctor(&s, &format!("http://127.0.0.1:{port}"), SK, "model.safetensors").await;
    assert!(!ok);
    assert!(line(&text, "drand").starts_with('✗'), "{text}");
    assert!(line(&text, "clock").starts_with('-'), "{text}");
}
