//! Epistula, both forms, on the miner's IdentitySynapse route: honest requests answered; every
//! refusal 401 (403 for admission) with no work done; a request with no scheme told which
//! schemes are accepted.

use miid_protocol::epistula::{sign_simple, sign_v2};
use miid_protocol::{Hotkey, now_ns};

mod common;
use common::*;

fn key(uri: &str) -> Hotkey {
    Hotkey::from_uri(uri).unwrap()
}

fn body(f: &Fixture) -> Vec<u8> {
    r1_request(&signer("//Validator"), &f.target, now_ns()).body
}

/// (what, headers, body sent, expected status)
type Case = (&'static str, Vec<(String, String)>, Vec<u8>, u16);

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn v2_honest_then_every_refusal() {
    let f = fixture(100).await;
    let url = f.target.url();
    let b = body(&f);
    let validator = key("//Validator");
    let now_ms = now_ns() / 1_000_000;

    let honest = sign_v2(&validator, &b, Some(&f.target.hotkey), now_ms, &uuid());
    assert_eq!(f.send(&url, &honest, b.clone()).await.0, 200);
    assert_eq!(f.forwards(), 1);

    let cases: Vec<Case> = vec![
        ("replay", honest.clone(), b.clone(), 401),
        (
            "altered body",
            sign_v2(&validator, &b, Some(&f.target.hotkey), now_ms, &uuid()),
            b"{\"identity\": []}".to_vec(),
            401,
        ),
        ("stale", sign_v2(&validator, &b, Some(&f.target.hotkey), now_ms - 60_000, &uuid()), b.clone(), 401),
        ("wrong receiver", sign_v2(&validator, &b, Some(key("//Miner2").ss58()), now_ms, &uuid()), b.clone(), 401),
        ("unknown signer", sign_v2(&key("//Stranger"), &b, Some(&f.target.hotkey), now_ms, &uuid()), b.clone(), 403),
        (
            "signer without permit",
            sign_v2(&key("//NoPermit"), &b, Some(&f.target.hotkey), now_ms, &uuid()),
            b.clone(),
            403,
        ),
    ];
    for (name, headers, sent, want) in cases {
        assert_eq!(f.send(&url, &headers, sent).await.0, want, "{name}");
    }
    let mut malformed = sign_v2(&validator, &b, Some(&f.target.hotkey), now_ms, &uuid());
    set(&mut malformed, "Epistula-Request-Signature", "0x1234");
    let (status, message) = f.send(&url, &malformed, b.clone()).await;
    assert_eq!(status, 401, "{message}");
    assert!(message.starts_with("Not Verified with error: "), "{message}");
    assert_eq!(f.forwards(), 1, "no refused request did any work");
}

#[tokio::test]
async fn simple_form_honest_then_every_refusal() {
    let f = fixture(100).await;
    let url = f.target.url();
    let b = body(&f);
    let validator = key("//Validator");
    let now = now_ns();

    let honest = sign_simple(&validator, &b, now);
    assert_eq!(f.send(&url, &honest, b.clone()).await.0, 200);
    let cases: Vec<Case> = vec![
        ("replay", honest.clone(), b.clone(), 401),
        ("altered body", sign_simple(&validator, &b, now + 1), b"{}".to_vec(), 401),
        ("stale", sign_simple(&validator, &b, now - 120_000_000_000), b.clone(), 401),
        ("unknown signer", sign_simple(&key("//Stranger"), &b, now + 2), b.clone(), 403),
        ("signer without permit", sign_simple(&key("//NoPermit"), &b, now + 3), b.clone(), 403),
    ];
    for (name, headers, sent, want) in cases {
        assert_eq!(f.send(&url, &headers, sent).await.0, want, "{name}");
    }
    let mut malformed = sign_simple(&validator, &b, now + 4);
    set(&mut malformed, "X-Epistula-Signature", "nothex");
    assert_eq!(f.send(&url, &malformed, b.clone()).await.0, 401);
    assert_eq!(f.forwards(), 1);
}

#[tokio::test]
async fn no_scheme_is_401_naming_the_accepted_ones() {
    let f = fixture(100).await;
    let (status, message) = f.send(&f.target.url(), &[], body(&f)).await;
    assert_eq!(status, 401);
    for scheme in ["v10", "btauth/1", "Epistula v2", "Epistula simple form"] {
        assert!(message.contains(scheme), "{message}");
    }
    assert_eq!(f.forwards(), 0);
}
