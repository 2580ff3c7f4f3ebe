//! `miner tlock encrypt` (DESIGN.md contract) against a local beacon: the bytes it writes open
//! with the target round's signature, in both formats, and only with that round's.

use std::io::Write;
use std::process::{Command, Stdio};

use drand_mock::{BeaconKey, Clock, DrandMock, MockConfig};

const MINER: &str = env!("CARGO_BIN_EXE_miner");

fn encrypt(beacon: &str, round: u64, format: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut child = Command::new(MINER)
        .args(["tlock", "encrypt", "--round", &round.to_string(), "--beacon", beacon, "--format", format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(plaintext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[tokio::test]
async fn encrypts_to_the_beacon_round_in_both_formats() {
    let (clock, _manual) = Clock::manual(1_700_000_100);
    let mock = DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(b"miner tlock cli test, 32+ bytes of ikm")),
        period: 3,
        genesis: Some(1_700_000_000),
        clock,
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap();
    let key = miid_tlock::ChainKey { public_key: mock.mock().public_key(), chain_hash: mock.mock().chain_hash() };
    let target = mock.mock().current_round() + 5;
    let plaintext = b"\x89PNG\r\n\x1a\n an image, say".to_vec();
    let url = mock.url();
    for (format, expect) in [("mainnet", miid_tlock::Format::Mainnet), ("age", miid_tlock::Format::Age { armor: true })]
    {
        let url = url.clone();
        let pt = plaintext.clone();
        let ct = tokio::task::spawn_blocking(move || encrypt(&url, target, format, &pt)).await.unwrap();
        assert_eq!(miid_tlock::round_of(&ct).unwrap(), (expect, target), "{format}");
        if format == "age" {
            assert!(ct.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
        }
        let sig = |r: u64| -> [u8; 48] {
            hex::decode(mock.mock().beacon_unchecked(r).signature).unwrap().try_into().unwrap()
        };
        assert_eq!(miid_tlock::decrypt(&ct, &key, &sig(target)).unwrap(), plaintext, "{format}");
        assert!(miid_tlock::decrypt(&ct, &key, &sig(target - 1)).is_err(), "{format}: another round's signature");
    }
}

#[test]
fn unreachable_beacon_is_a_clear_error() {
    let out = Command::new(MINER)
        .args(["tlock", "encrypt", "--round", "5", "--beacon", "http://127.0.0.1:9"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the chain info"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
