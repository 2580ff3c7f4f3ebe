//! btauth/1 against the reference implementation: requests signed by bittensor 11.3.0's
//! `http_auth.sign` (fixtures/btauth_python_vectors.json, made with that package) have the
//! payload bytes we build, verify with our verifier, and our signer emits the same headers.

use http::{HeaderMap, HeaderName};
use miid_protocol::Hotkey;
use miid_protocol::btauth::{self, BtAuthConfig, BtAuthHeaders, Crypto, ReplayStore};
use serde_json::Value;

#[test]
fn python_signed_requests_verify_here() {
    let v: Value = serde_json::from_str(include_str!("fixtures/btauth_python_vectors.json")).unwrap();
    let alice = Hotkey::from_uri("//Alice").unwrap();
    for case in v["cases"].as_array().unwrap() {
        let body = case["body"].as_str().unwrap().as_bytes();
        let path = case["path"].as_str().unwrap();
        let nonce = case["nonce"].as_u64().unwrap();
        let receiver = case["receiver"].as_str();
        let payload = btauth::build_payload(Crypto::Sr25519, "post", path, body, nonce, alice.ss58(), receiver);
        assert_eq!(String::from_utf8(payload).unwrap(), case["payload"].as_str().unwrap());

        let mut headers = HeaderMap::new();
        for (k, val) in case["headers"].as_object().unwrap() {
            headers.insert(
                HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
                val.as_str().unwrap().parse().unwrap(),
            );
        }
        let parsed = BtAuthHeaders::parse(&headers).unwrap();
        let cfg = BtAuthConfig { require_receiver: receiver.is_some(), ..Default::default() };
        parsed.check(receiver.unwrap_or("x"), &cfg, nonce + 1).unwrap();
        parsed.verify_body("POST", path, body, &ReplayStore::default()).unwrap();
        assert!(parsed.verify_body("POST", path, b"tampered", &ReplayStore::default()).is_err());

        let ours = btauth::sign(&alice, "POST", path, body, receiver, nonce);
        let names: Vec<&str> = ours.iter().map(|(k, _)| k.as_str()).collect();
        let theirs: Vec<&str> = case["headers"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, theirs);
    }
}
