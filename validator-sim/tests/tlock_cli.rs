//! `validator-sim tlock decrypt` (DESIGN.md contract): it waits for the ciphertext's round on the
//! beacon, verifies the signature, and writes the plaintext; a round that never comes within the
//! timeout is an error, not a hang.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use drand_mock::{BeaconKey, Clock, DrandMock, MockConfig, RunningMock};

const VALIDATOR: &str = env!("CARGO_BIN_EXE_validator-sim");

async fn beacon() -> RunningMock {
    let (clock, _manual) = Clock::manual(1_700_000_100);
    DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(b"validator tlock cli test, 32+ bytes")),
        period: 3,
        genesis: Some(1_700_000_000),
        clock,
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap()
}

fn spawn_decrypt(url: &str, timeout: &str, ct: &[u8]) -> std::process::Child {
    let mut child = Command::new(VALIDATOR)
        .args(["tlock", "decrypt", "--beacon", url, "--timeout", timeout])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ct).unwrap();
    child
}

#[tokio::test]
async fn waits_for_the_round_then_decrypts_both_formats() {
    let mock = beacon().await;
    let key = miid_tlock::ChainKey { public_key: mock.mock().public_key(), chain_hash: mock.mock().chain_hash() };
    for format in [miid_tlock::Format::Mainnet, miid_tlock::Format::Age { armor: true }] {
        let target = mock.mock().current_round() + 2;
        let ct = miid_tlock::encrypt(format, &key, target, b"the plaintext", &mut rand::rng()).unwrap();
        let child = spawn_decrypt(&mock.url(), "30", &ct);
        // the round is not out yet: the command waits until the beacon moves on
        tokio::time::sleep(Duration::from_millis(300)).await;
        mock.advance_rounds(2);
        let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        assert!(out.status.success(), "{format:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, b"the plaintext");
    }
}

#[tokio::test]
async fn a_round_that_does_not_come_in_time_is_an_error() {
    let mock = beacon().await;
    let key = miid_tlock::ChainKey { public_key: mock.mock().public_key(), chain_hash: mock.mock().chain_hash() };
    let ct = miid_tlock::encrypt(
        miid_tlock::Format::Mainnet,
        &key,
        mock.mock().current_round() + 100,
        b"x",
        &mut rand::rng(),
    )
    .unwrap();
    let child = spawn_decrypt(&mock.url(), "1", &ct);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing half-decrypted");
    let tampered = {
        let target = mock.mock().current_round();
        let mut ct =
            miid_tlock::encrypt(miid_tlock::Format::Mainnet, &key, target, b"secret", &mut rand::rng()).unwrap();
        let n = ct.len();
        ct[n - 20] ^= 1;
        ct
    };
    let child = spawn_decrypt(&mock.url(), "5", &tampered);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(!out.status.success(), "a tampered ciphertext is refused");
    assert!(out.stdout.is_empty());
}
