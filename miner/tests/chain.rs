//! The `miner` binary pointed at a chain it cannot reach, or with a hotkey that is not
//! registered: it must stop quickly with a message an operator can act on.

mod common;
use common::new_hotkey;
use std::process::Command;
use std::time::{Duration, Instant};

use common::MINER;

#[test]
fn an_unreachable_node_fails_fast_after_the_documented_retries() {
    let dir = tempfile::tempdir().unwrap();
    new_hotkey(dir.path());
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    let started = Instant::now();
    let out = Command::new(MINER)
        .args(["--wallet.path", dir.path().to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .args(["--subtensor.network", &url, "--netuid", "54", "--axon.port", "0"])
        .args(["--subtensor.retries", "3", "--subtensor.backoff_ms", "50", "--subtensor.timeout_secs", "5"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("cannot reach subtensor at {url} after 3 attempt(s)")), "{stderr}");
    assert!(stderr.contains("--subtensor.network"), "the message says what to check: {stderr}");
    // Two retries were logged (attempts 2 and 3), with the backoff doubling.
    assert_eq!(stderr.matches("subtensor unreachable; retrying").count(), 2, "{stderr}");
    assert!(stderr.contains("wait_ms=50") && stderr.contains("wait_ms=100"), "{stderr}");
    // Not a hang: well under one connection timeout per attempt.
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn an_unknown_network_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    new_hotkey(dir.path());
    let out = Command::new(MINER)
        .args(["--wallet.path", dir.path().to_str().unwrap(), "--wallet.name", "m", "--wallet.hotkey", "hk"])
        .args(["--subtensor.network", "mainnet", "--axon.port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expected finney, test, local, or a ws:// or wss:// URL"), "{stderr}");
}
