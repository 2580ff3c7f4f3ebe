//! `validator-sim run --subtensor.network URL` uses the same Subtensor client as the miner: with
//! no node behind the URL it gives up after the configured attempts with an error that names the
//! endpoint, instead of hanging or running against nothing.

use std::process::Command;

#[test]
fn unreachable_node_fails_with_a_readable_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_validator-sim"))
        .args(["run", "--subtensor.network", &url, "--subtensor.retries", "2", "--rounds", "1"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "must not run without a chain: {stderr}");
    assert!(stderr.contains("cannot reach the node"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "names the endpoint: {stderr}");
}
