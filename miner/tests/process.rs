//! The `miner` binary as an operator runs it: wallet subcommands, then the axon as a process
//! answering a signed request, then a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use miid_protocol::synapse::Generation;
use miid_protocol::v10::{AxonTarget, DendriteSigner};
use miid_protocol::{Hotkey, IdentitySynapse};

const MINER: &str = env!("CARGO_BIN_EXE_miner");

fn wallet(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(MINER)
        .args(["wallet"])
        .args(args)
        .args(["--wallet.path", dir.to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .output()
        .unwrap()
}

#[tokio::test]
async fn wallet_then_serve_then_stop() {
    let dir = tempfile::tempdir().unwrap();
    let created = wallet(dir.path(), &["new-hotkey"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let ss58 = String::from_utf8(created.stdout).unwrap().lines().next().unwrap().to_owned();
    let shown = wallet(dir.path(), &["show"]);
    assert_eq!(String::from_utf8(shown.stdout).unwrap().lines().next().unwrap(), ss58);
    assert!(!wallet(dir.path(), &["new-hotkey"]).status.success(), "no silent overwrite");

    let validator = Hotkey::from_uri("//Validator").unwrap();
    let metagraph = dir.path().join("metagraph.json");
    std::fs::write(
        &metagraph,
        format!(
            r#"{{"netuid": 54, "block": 1, "neurons": [
            {{"uid": 0, "hotkey": "{v}", "coldkey": "{v}", "stake": 10.0, "validator_permit": true, "axon": {{"ip": "0.0.0.0", "port": 0}}}},
            {{"uid": 1, "hotkey": "{ss58}", "coldkey": "{ss58}", "stake": 0.0, "validator_permit": false, "axon": {{"ip": "0.0.0.0", "port": 0}}}}]}}"#,
            v = validator.ss58()
        ),
    )
    .unwrap();
    let mut child = Command::new(MINER)
        .args(["--wallet.path", dir.path().to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .args(["--metagraph", metagraph.to_str().unwrap(), "--axon.ip", "127.0.0.1", "--axon.port", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.strip_prefix("axon listening on ").unwrap().split(' ').next().unwrap();
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();

    let target = AxonTarget { ip: "127.0.0.1".into(), port, hotkey: ss58.clone() };
    let mut s = IdentitySynapse::new(Generation::R1, 10.0);
    s.identity = Some(vec![vec!["Ana Lima".into(), "1991-03-03".into(), "Brazil".into()]]);
    s.query_template = Some("Generate 4 variations of {name}".into());
    let req =
        DendriteSigner::new(validator, "127.0.0.1").sign(&s, Generation::R1, &target, 10.0, miid_protocol::now_ns());
    let mut http = reqwest::Client::new().post(&req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        http = http.header(k, v);
    }
    let resp = http.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let answer = IdentitySynapse::parse_answer(Generation::R1, &resp.bytes().await.unwrap()).unwrap();
    assert_eq!(answer.variations.unwrap()["Ana Lima"].rows().len(), 4);

    // SIGTERM stops it cleanly
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn unregistered_hotkey_refuses_to_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    assert!(wallet(dir.path(), &["new-hotkey"]).status.success());
    let metagraph = dir.path().join("metagraph.json");
    std::fs::write(&metagraph, r#"{"netuid": 54, "block": 1, "neurons": []}"#).unwrap();
    let out = Command::new(MINER)
        .args(["--wallet.path", dir.path().to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .args(["--metagraph", metagraph.to_str().unwrap(), "--axon.port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not registered"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
