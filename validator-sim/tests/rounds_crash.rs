//! `validator-sim run` killed mid-round: the process aborts right after a journal commit (the
//! `--crash-after` hook, no destructors or flushes, like kill -9), is restarted, and the state
//! must show every round exactly once — no round lost, none counted twice — with the moving
//! average equal to the one recomputed from the recorded per-round rewards.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use miid_validator::loopback::{Behaviour, spawn};

struct Setup {
    _dir: tempfile::TempDir,
    wallet: PathBuf,
    metagraph: PathBuf,
    state: PathBuf,
}

fn setup(miners: &miid_validator::loopback::Miners, dir: tempfile::TempDir) -> Setup {
    let metagraph = dir.path().join("metagraph.json");
    std::fs::write(&metagraph, miners.metagraph.to_json_pretty()).unwrap();
    Setup { wallet: dir.path().join("wallets"), metagraph, state: dir.path().join("state"), _dir: dir }
}

async fn run(s: &Setup, extra: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_validator-sim"));
    cmd.arg("run")
        .arg("--metagraph")
        .arg(&s.metagraph)
        .arg("--wallet.path")
        .arg(&s.wallet)
        .args(["--wallet.name", "v", "--wallet.hotkey", "h"])
        .arg("--state-dir")
        .arg(&s.state)
        .args(["--seed", "7", "--fixed-timeout", "--timeout", "10", "--no-waits"])
        .args(["--min-round-secs", "0", "--post-round-sleep", "0", "--seeds", "6"])
        .args(extra)
        .env("RUST_LOG", "info");
    cmd.output().await.unwrap()
}

fn state(s: &Setup) -> Value {
    serde_json::from_slice(&std::fs::read(s.state.join("state.json")).unwrap()).unwrap()
}

/// The EMA over the recorded rounds, from zero (13.1).
fn replayed_scores(state: &Value) -> Vec<f64> {
    let n = state["scores"].as_array().unwrap().len();
    let mut scores = vec![0.0; n];
    for h in state["history"].as_array().unwrap() {
        let uids: Vec<u16> = serde_json::from_value(h["uids"].clone()).unwrap();
        let rewards: Vec<f64> = serde_json::from_value(h["rewards"].clone()).unwrap();
        miid_scoring::reputation::update_scores(&mut scores, &rewards, &uids, 0.15).unwrap();
    }
    scores
}

fn assert_consistent(s: &Setup, rounds: u64) {
    let st = state(s);
    assert_eq!(st["rounds_completed"], rounds);
    assert!(st["journal"].is_null(), "no round left in flight: {}", st["journal"]);
    let hist: Vec<u64> = st["history"].as_array().unwrap().iter().map(|h| h["round"].as_u64().unwrap()).collect();
    assert_eq!(hist, (1..=rounds).collect::<Vec<_>>(), "each round exactly once");
    for h in st["history"].as_array().unwrap() {
        assert_eq!(h["weights_set"], true, "round {}: {}", h["round"], h["weights_error"]);
        let record: Value =
            serde_json::from_slice(&std::fs::read(s.state.join(h["results_file"].as_str().unwrap())).unwrap()).unwrap();
        assert_eq!(record["Weights"]["Did_it_set_weights"], true);
        assert!(record["Weights"]["uids"].as_array().unwrap().contains(&Value::from(59)), "burn uid weighted");
    }
    let scores: Vec<f64> = serde_json::from_value(st["scores"].clone()).unwrap();
    let expected = replayed_scores(&st);
    for (uid, (a, b)) in scores.iter().zip(&expected).enumerate() {
        assert!((a - b).abs() < 1e-12, "uid {uid}: stored {a}, replayed {b}");
    }
    assert!(scores[59] > 0.0, "the burn accumulates on uid 59");
    assert!(scores[1..=4].iter().any(|s| *s > 0.0) || scores[59] > 0.0);
}

fn assert_aborted(out: &Output, phase: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the crash hook must kill the process; stderr: {err}");
    assert!(err.contains("crash hook"), "{err}");
    assert!(err.contains("journal: round scored and committed"), "{phase}: {err}");
}

/// A wallet with a fresh validator hotkey, four instant stand-in miners, the metagraph file.
async fn new_setup() -> (Setup, miid_validator::loopback::Miners) {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("wallets");
    let hotkey = miid_protocol::wallet::create_hotkey(&wallet, "v", "h", false).unwrap().hotkey;
    let miners = spawn(&hotkey, &[Behaviour::Instant; 4]).await.unwrap();
    (setup(&miners, dir), miners)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_scores_and_weights_resumes_without_losing_or_doubling() {
    let (s, _miners) = new_setup().await;
    let out = run(&s, &["--rounds", "3", "--crash-after", "scored", "--crash-round", "2"]).await;
    assert_aborted(&out, "scored");
    let st = state(&s);
    assert_eq!(st["rounds_completed"], 2, "round 2's scores were committed");
    assert_eq!(st["journal"]["round"], 2);
    assert_eq!(st["journal"]["phase"], "scored");
    assert_eq!(st["history"][1]["weights_set"], false);

    let out = run(&s, &["--rounds", "1"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resuming an unfinished round"), "{err}");
    assert_consistent(&s, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_weights_before_journal_clear_sets_them_again_once() {
    let (s, _miners) = new_setup().await;
    let out = run(&s, &["--rounds", "2", "--crash-after", "weights-set", "--crash-round", "1"]).await;
    assert!(!out.status.success());
    assert_eq!(state(&s)["journal"]["round"], 1);
    let out = run(&s, &["--rounds", "1"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_consistent(&s, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_restarts_continue_the_count() {
    let (s, _miners) = new_setup().await;
    for _ in 0..2 {
        let out = run(&s, &["--rounds", "1"]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_consistent(&s, 2);
    // The validator's answers were scored: the stand-ins answered every seed.
    let st = state(&s);
    assert!(st["history"].as_array().unwrap().iter().all(|h| h["answered"] == 4 && h["queried"] == 4), "{st}");
    assert!(Path::new(&s.state.join("results/round_000002.json")).exists());
}
