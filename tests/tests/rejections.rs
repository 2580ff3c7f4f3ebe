//! Every refusal answers with bittensor's status code and message, and does no work: the
//! miner's forward never runs, and header-level refusals never even read the body.

use std::time::Duration;

use std::sync::Arc;

use miid_miner::Forward;
use miid_protocol::btauth;
use miid_protocol::synapse::{Generation, MinerOutput, RequestView};
use miid_protocol::v10::AxonTarget;
use miid_protocol::{Hotkey, IdentitySynapse};

mod common;
use common::*;

#[tokio::test]
async fn honest_request_is_answered_once_then_its_replay_is_refused() {
    let f = fixture(30).await;
    let r = r1_request(&signer("//Validator"), &f.target, miid_protocol::now_ns());
    let (status, _) = f.send_signed(&r).await;
    assert_eq!(status, 200);
    assert_eq!(f.forwards(), 1);
    let (status, message) = f.send_signed(&r).await;
    assert_eq!(
        (status, message.as_str()),
        (401, "Not Verified with error: Nonce is too old, a newer one was last processed")
    );
    assert_eq!(f.forwards(), 1, "the replay did no work");
    assert_eq!(f.bodies(), 1, "nor read its body");
}

#[tokio::test]
async fn forged_signature_is_401_before_the_body_is_read() {
    let f = fixture(30).await;
    // signed by Eve while claiming to be the validator
    let mut r = r1_request(&signer("//Eve"), &f.target, miid_protocol::now_ns());
    set(&mut r.headers, "bt_header_dendrite_hotkey", Hotkey::from_uri("//Validator").unwrap().ss58());
    let (status, message) = f.send_signed(&r).await;
    assert_eq!(status, 401);
    assert!(message.starts_with("Not Verified with error: Signature mismatch with "), "{message}");
    // a signature made for another axon does not verify here either
    let other = AxonTarget { hotkey: Hotkey::from_uri("//Miner2").unwrap().ss58().into(), ..f.target.clone() };
    let r = r1_request(&signer("//Validator"), &other, miid_protocol::now_ns());
    assert_eq!(f.send_signed(&r).await.0, 401);
    // garbage and missing signatures
    let mut r = r1_request(&signer("//Validator"), &f.target, miid_protocol::now_ns());
    set(&mut r.headers, "bt_header_dendrite_signature", "deadbeef");
    assert_eq!(f.send_signed(&r).await.0, 401);
    r.headers.retain(|(k, _)| k != "bt_header_dendrite_signature");
    assert_eq!(f.send_signed(&r).await, (401, "Not Verified with error: Missing Signature".into()));
    assert_eq!((f.forwards(), f.bodies()), (0, 0));
}

#[tokio::test]
async fn stale_nonce_is_401_with_bittensors_window() {
    let f = fixture(30).await;
    let old = miid_protocol::now_ns() - 20 * 1_000_000_000; // timeout 12 s + 4 s < 20 s
    let r = r1_request(&signer("//Validator"), &f.target, old);
    let (status, message) = f.send_signed(&r).await;
    assert_eq!(status, 401);
    assert!(
        message.starts_with(
            "Not Verified with error: Nonce is too old: acceptable delta is 16.00 seconds but request was 20."
        ),
        "{message}"
    );
    assert_eq!((f.forwards(), f.bodies()), (0, 0));
}

#[tokio::test]
async fn unknown_and_permitless_hotkeys_are_blacklisted() {
    let f = fixture(30).await;
    for uri in ["//Stranger", "//NoPermit"] {
        let r = r1_request(&signer(uri), &f.target, miid_protocol::now_ns());
        assert_eq!(
            f.send_signed(&r).await,
            (403, "Forbidden. Key is blacklisted: Unrecognized hotkey.".into()),
            "{uri}"
        );
    }
    let mut r = r1_request(&signer("//Validator"), &f.target, miid_protocol::now_ns());
    r.headers.retain(|(k, _)| k != "bt_header_dendrite_hotkey");
    assert_eq!(f.send_signed(&r).await, (403, "Forbidden. Key is blacklisted: Missing dendrite or hotkey.".into()));
    assert_eq!((f.forwards(), f.bodies()), (0, 0));
}

#[tokio::test]
async fn oversized_malformed_and_misrouted_requests() {
    let f = fixture(30).await;
    let v = signer("//Validator");
    // oversized: announced by Content-Length
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let (status, message) = f.send(&r.url, &r.headers, vec![b' '; MAX_BODY + 1]).await;
    assert_eq!(status, 413, "{message}");
    // oversized: streamed without a length
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..8).map(|_| Ok(vec![b' '; MAX_BODY / 4])).collect();
    let mut req = f.client.post(&r.url).body(reqwest::Body::wrap_stream(futures_stream(chunks)));
    for (k, val) in &r.headers {
        req = req.header(k, val);
    }
    assert_eq!(req.send().await.unwrap().status().as_u16(), 413);
    // malformed JSON: bittensor's 500 with an error id
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let (status, message) = f.send(&r.url, &r.headers, b"{\"identity\": [[".to_vec()).await;
    assert_eq!(status, 500);
    assert!(message.starts_with("Internal Server Error #"), "{message}");
    // valid JSON of the wrong shape
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    assert_eq!(f.send(&r.url, &r.headers, br#"{"identity": "not a list"}"#.to_vec()).await.0, 500);
    // wrong route
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let url = r.url.replace("/IdentitySynapse", "/Nope");
    let (status, message) = f.send(&url, &r.headers, r.body.clone()).await;
    assert_eq!(
        (status, message.as_str()),
        (404, "Synapse name 'Nope' not found. Available synapses ['Synapse', 'IdentitySynapse']")
    );
    // headers that do not parse
    let mut r = r1_request(&v, &f.target, miid_protocol::now_ns());
    set(&mut r.headers, "timeout", "soon");
    assert_eq!(f.send_signed(&r).await.0, 400);
    assert_eq!(f.forwards(), 0);
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    struct Iter(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Iter {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(chunks.into_iter())
}

#[tokio::test]
async fn v10_leaves_the_body_unsigned_but_btauth_signs_it() {
    let f = fixture(30).await;
    let v = signer("//Validator");
    // v10 (quirk Q1): the body is not covered by the signature; an altered body is accepted.
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let altered = String::from_utf8(r.body.clone()).unwrap().replace("John Smith", "Jane Smith");
    assert_eq!(f.send(&r.url, &r.headers, altered.into_bytes()).await.0, 200);
    assert_eq!(f.forwards(), 1);

    // btauth/1: the same alteration is refused, with no work done.
    let key = Hotkey::from_uri("//Validator").unwrap();
    let body = r1_request(&v, &f.target, 1).body;
    let headers =
        btauth::sign(&key, "POST", "/IdentitySynapse", &body, Some(&f.target.hotkey), miid_protocol::now_ns());
    let altered = String::from_utf8(body.clone()).unwrap().replace("John Smith", "Jane Smith");
    let (status, message) = f.send(&f.target.url(), &headers, altered.into_bytes()).await;
    assert_eq!(
        (status, message.as_str()),
        (401, "Not Verified with error: signature does not verify against the claimed hotkey")
    );
    assert_eq!(f.forwards(), 1);
    // the untouched body is accepted once, then its replay refused
    assert_eq!(f.send(&f.target.url(), &headers, body.clone()).await.0, 200);
    assert_eq!(
        f.send(&f.target.url(), &headers, body.clone()).await,
        (401, "Not Verified with error: this nonce was already accepted from this hotkey".into())
    );
    // stale and mis-addressed btauth requests
    let stale = btauth::sign(
        &key,
        "POST",
        "/IdentitySynapse",
        &body,
        Some(&f.target.hotkey),
        miid_protocol::now_ns() - 30_000_000_000,
    );
    assert_eq!(f.send(&f.target.url(), &stale, body.clone()).await.0, 401);
    let elsewhere = btauth::sign(&key, "POST", "/IdentitySynapse", &body, Some(key.ss58()), miid_protocol::now_ns());
    assert_eq!(f.send(&f.target.url(), &elsewhere, body.clone()).await.0, 401);
    // and admission applies to btauth callers too
    let stranger = Hotkey::from_uri("//Stranger").unwrap();
    let h = btauth::sign(&stranger, "POST", "/IdentitySynapse", &body, Some(&f.target.hotkey), miid_protocol::now_ns());
    assert_eq!(f.send(&f.target.url(), &h, body).await.0, 403);
    assert_eq!(f.forwards(), 2);
}

#[tokio::test]
async fn rate_limit_is_a_503_priority_refusal() {
    let f = fixture(2).await;
    let v = signer("//Validator");
    for _ in 0..2 {
        let r = r1_request(&v, &f.target, miid_protocol::now_ns());
        assert_eq!(f.send_signed(&r).await.0, 200);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let r = r1_request(&v, &f.target, miid_protocol::now_ns());
    let (status, message) = f.send_signed(&r).await;
    assert_eq!(status, 503);
    assert!(message.starts_with("Rate limit exceeded"), "{message}");
    assert_eq!(f.forwards(), 2);
}

/// A forward that takes its time, to fill the miner's only work slot.
struct Slow;

#[async_trait::async_trait]
impl Forward for Slow {
    async fn forward(&self, _: &RequestView, _: std::time::Instant) -> MinerOutput {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        MinerOutput::default()
    }
}

#[tokio::test]
async fn a_request_that_cannot_start_within_its_timeout_is_408() {
    let f = Arc::new(fixture_with(30, 1, Arc::new(Slow)).await);
    let v = signer("//Validator");
    let busy = r1_request(&v, &f.target, miid_protocol::now_ns());
    let f2 = f.clone();
    let first = tokio::spawn(async move { f2.send_signed(&busy).await });
    // wait until the first request holds the only slot (its forward has started)
    for _ in 0..500 {
        if f.forwards() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(f.forwards(), 1, "the first request should be working by now");
    // same validator, later nonce, a 0.5 s timeout: the slot stays busy for longer than that
    let mut s = IdentitySynapse::new(Generation::R1, 0.5);
    s.identity = Some(vec![]);
    s.query_template = Some(String::new());
    let r = v.sign(&s, Generation::R1, &f.target, 0.5, miid_protocol::now_ns());
    assert_eq!(f.send_signed(&r).await, (408, "Response timeout after: 0.5s".into()));
    assert_eq!(first.await.unwrap().0, 200);
    assert_eq!(f.forwards(), 1, "the timed-out request never reached the forward");
}
