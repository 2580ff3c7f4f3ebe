//! Loads hotkey files written by the Python `bittensor-wallet` 4.1.1 package (see
//! `tests/fixtures/wallets/README.md`) and checks that our reader derives the same keys.

use std::path::{Path, PathBuf};

use miid_protocol::keys::PublicKey;
use miid_protocol::wallet::load_hotkey;

/// Root key of substrate's well-known dev phrase, as bittensor-wallet regenerated it.
const MNEMONIC_SS58: &str = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV";
const MNEMONIC_PUBLIC: &str = "46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a";
const RANDOM_SS58: &str = "5CMgzTwa1xg2ZHG3TeSbLAZXJgGP5Q5McxKQgnwri2HtfLX9";

fn wallets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wallets")
}

fn json_of(file: &str) -> serde_json::Value {
    let path = wallets_dir().join("fixture/hotkeys").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_field<'a>(doc: &'a serde_json::Value, key: &str) -> &'a str {
    doc[key].as_str().unwrap_or_else(|| panic!("missing {key} in {doc}"))
}

/// Loads `fixture/{name}` and checks address, public key and a sign/verify round trip.
fn check(name: &str, expected_ss58: &str) {
    let key = load_hotkey(&wallets_dir(), "fixture", name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let doc = json_of(name);
    let pubdoc = json_of(&format!("{name}pub.txt"));

    assert_eq!(key.ss58(), str_field(&doc, "ss58Address"), "{name}: ss58 vs file");
    assert_eq!(key.ss58(), str_field(&pubdoc, "ss58Address"), "{name}: ss58 vs pub.txt");
    assert_eq!(key.ss58(), expected_ss58, "{name}: ss58 vs literal");
    assert_eq!(doc["cryptoType"], 1, "{name}: cryptoType");

    let public_hex = format!("0x{}", hex::encode(key.public().as_bytes()));
    for field in ["publicKey", "accountId"] {
        assert_eq!(public_hex, str_field(&doc, field), "{name}: {field}");
        assert_eq!(public_hex, str_field(&pubdoc, field), "{name}: pub.txt {field}");
    }
    assert_eq!(key.public().to_ss58(), expected_ss58);
    assert_eq!(PublicKey::from_ss58(expected_ss58).unwrap(), key.public());

    // The package's privateKey is the 64-byte expanded secret: ours must be the same bytes.
    assert_eq!(
        format!("0x{}", hex::encode(key.expanded_secret())),
        str_field(&doc, "privateKey"),
        "{name}: privateKey"
    );

    let msg = b"1754000000123456789.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.2f5c1e2a-6b7d-11f0-9a3e-0242ac110002.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
    let sig = key.sign(msg);
    assert!(key.public().verify(msg, &sig), "{name}: own signature verifies");
    assert!(PublicKey::from_ss58(expected_ss58).unwrap().verify(msg, &sig));
    assert!(!key.public().verify(b"another message", &sig), "{name}: wrong message rejected");
    let mut bad = sig;
    bad[0] ^= 1;
    assert!(!key.public().verify(msg, &bad), "{name}: tampered signature rejected");
}

#[test]
fn mnemonic_hotkey_written_by_bittensor_wallet_loads() {
    check("default", MNEMONIC_SS58);
    let doc = json_of("default");
    assert_eq!(
        str_field(&doc, "secretPhrase"),
        "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
    );
    assert_eq!(str_field(&doc, "publicKey"), format!("0x{MNEMONIC_PUBLIC}"));
}

#[test]
fn random_hotkey_written_by_bittensor_wallet_loads() {
    check("random", RANDOM_SS58);
}

#[test]
fn both_fixtures_are_different_keys() {
    let a = load_hotkey(&wallets_dir(), "fixture", "default").unwrap();
    let b = load_hotkey(&wallets_dir(), "fixture", "random").unwrap();
    assert_ne!(a.ss58(), b.ss58());
    let sig = a.sign(b"x");
    assert!(!b.public().verify(b"x", &sig));
}

#[test]
fn seed_alone_and_phrase_alone_give_the_same_key() {
    // bittensor-wallet files carry both secretSeed and secretPhrase; older or hand-made files may
    // carry only one. Each alone must derive the address the package stated.
    for name in ["default", "random"] {
        let doc = json_of(name);
        let stated = str_field(&doc, "ss58Address").to_owned();
        for drop in ["secretSeed", "secretPhrase"] {
            let mut partial = doc.clone();
            partial.as_object_mut().unwrap().remove(drop);
            let dir = tempfile::tempdir().unwrap();
            let hk = dir.path().join("w/hotkeys");
            std::fs::create_dir_all(&hk).unwrap();
            std::fs::write(hk.join("h"), serde_json::to_vec(&partial).unwrap()).unwrap();
            let key = load_hotkey(dir.path(), "w", "h").unwrap_or_else(|e| panic!("{name} without {drop}: {e}"));
            assert_eq!(key.ss58(), stated, "{name} without {drop}");
        }
    }
}
