//! `btauth/1`: the hotkey-signed HTTP request scheme of bittensor 11 (`bittensor.http_auth`).
//!
//! What we followed: the module docstring and code of `bittensor/http_auth.py` in the
//! `bittensor` 11.3.0 wheel, which states the normative payload and points to the
//! signed-requests guide for golden vectors. The signed bytes are the UTF-8 of eight lines
//! joined by `\n`:
//!
//! ```text
//! btauth/1
//! {scheme}            sr25519 (or ed25519)
//! {METHOD}            uppercase
//! {path}              request target as sent, with ?query
//! {sha256_hex(body)}  of the raw body bytes
//! {nonce_ns}          decimal
//! {sender_ss58}
//! {receiver_ss58}     or "-" when unbound
//! ```
//!
//! Headers: `X-Bittensor-Version: 1`, `X-Bittensor-Hotkey`, `X-Bittensor-Nonce`,
//! `X-Bittensor-Signature` (`0x` + hex), `X-Bittensor-Receiver`, and `X-Bittensor-Crypto` only
//! for non-sr25519 keys. Verification order (as the reference): header shape, receiver binding
//! (required by default), freshness (10 s back, 2 s ahead), signature under the declared
//! scheme, then replay of `(hotkey, nonce)` — recorded only after the signature verifies, so
//! forged traffic cannot poison the store. Unlike v10, the body is signed.

use std::collections::{HashSet, VecDeque};

use http::HeaderMap;
use parking_lot::Mutex;

use crate::body_hash::sha256_hex;
use crate::keys::{Hotkey, PublicKey};

pub const PROTOCOL: &str = "btauth/1";
pub const VERSION: &str = "1";

pub mod header {
    pub const VERSION: &str = "x-bittensor-version";
    pub const HOTKEY: &str = "x-bittensor-hotkey";
    pub const RECEIVER: &str = "x-bittensor-receiver";
    pub const NONCE: &str = "x-bittensor-nonce";
    pub const CRYPTO: &str = "x-bittensor-crypto";
    pub const SIGNATURE: &str = "x-bittensor-signature";
}

pub const DEFAULT_MAX_AGE_S: f64 = 10.0;
pub const DEFAULT_ALLOWED_SKEW_S: f64 = 2.0;
const NO_RECEIVER: &str = "-";

/// The key type a request declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crypto {
    Sr25519,
    Ed25519,
}

impl Crypto {
    fn name(self) -> &'static str {
        match self {
            Crypto::Sr25519 => "sr25519",
            Crypto::Ed25519 => "ed25519",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "sr25519" | "1" => Some(Crypto::Sr25519),
            "ed25519" | "0" => Some(Crypto::Ed25519),
            _ => None,
        }
    }
}

/// Why a btauth/1 request was refused (messages never echo the signature or payload).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtAuthError {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    WrongReceiver(String),
    #[error("{0}")]
    Stale(String),
    #[error("signature does not verify against the claimed hotkey")]
    BadSignature,
    #[error("this nonce was already accepted from this hotkey")]
    Replayed,
}

/// The exact bytes that are signed.
pub fn build_payload(
    crypto: Crypto,
    method: &str,
    path: &str,
    body: &[u8],
    nonce_ns: u64,
    sender: &str,
    receiver: Option<&str>,
) -> Vec<u8> {
    [
        PROTOCOL,
        crypto.name(),
        &method.to_ascii_uppercase(),
        path,
        &sha256_hex(body),
        &nonce_ns.to_string(),
        sender,
        receiver.unwrap_or(NO_RECEIVER),
    ]
    .join("\n")
    .into_bytes()
}

/// Signs a request with an sr25519 hotkey; returns the headers to send.
pub fn sign(
    hotkey: &Hotkey,
    method: &str,
    path: &str,
    body: &[u8],
    receiver: Option<&str>,
    nonce_ns: u64,
) -> Vec<(String, String)> {
    let payload = build_payload(Crypto::Sr25519, method, path, body, nonce_ns, hotkey.ss58(), receiver);
    let mut headers = vec![
        ("X-Bittensor-Version".to_owned(), VERSION.to_owned()),
        ("X-Bittensor-Hotkey".to_owned(), hotkey.ss58().to_owned()),
        ("X-Bittensor-Nonce".to_owned(), nonce_ns.to_string()),
        ("X-Bittensor-Signature".to_owned(), hotkey.sign_hex0x(&payload)),
    ];
    if let Some(r) = receiver {
        headers.push(("X-Bittensor-Receiver".to_owned(), r.to_owned()));
    }
    headers
}

/// Whether a request speaks btauth/1 (it carries the version header).
pub fn is_btauth(headers: &HeaderMap) -> bool {
    headers.contains_key(header::VERSION)
}

/// The header part of a btauth/1 request, checked for shape, receiver and freshness — all of
/// which can be decided before the body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtAuthHeaders {
    pub hotkey: String,
    pub nonce_ns: u64,
    pub crypto: Crypto,
    pub signature: Vec<u8>,
    pub receiver: Option<String>,
}

/// Verifier settings (the reference's defaults).
#[derive(Debug, Clone, Copy)]
pub struct BtAuthConfig {
    pub max_age_s: f64,
    pub allowed_skew_s: f64,
    pub require_receiver: bool,
}

impl Default for BtAuthConfig {
    fn default() -> Self {
        BtAuthConfig { max_age_s: DEFAULT_MAX_AGE_S, allowed_skew_s: DEFAULT_ALLOWED_SKEW_S, require_receiver: true }
    }
}

fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl BtAuthHeaders {
    /// Header shape (missing or unparseable values are `Malformed`).
    pub fn parse(headers: &HeaderMap) -> Result<Self, BtAuthError> {
        let m = |s: String| BtAuthError::Malformed(s);
        if get(headers, header::VERSION) != Some(VERSION) {
            return Err(m(format!("missing or unsupported X-Bittensor-Version (expected '{VERSION}')")));
        }
        let hotkey = get(headers, header::HOTKEY)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| m("missing X-Bittensor-Hotkey".into()))?;
        let nonce = get(headers, header::NONCE).ok_or_else(|| m("missing X-Bittensor-Nonce".into()))?;
        let nonce_ns = nonce.parse::<u64>().map_err(|_| m("X-Bittensor-Nonce is not a decimal integer".into()))?;
        let crypto = match get(headers, header::CRYPTO) {
            None => Crypto::Sr25519,
            Some(c) => Crypto::parse(c).ok_or_else(|| m("unsupported X-Bittensor-Crypto".into()))?,
        };
        let raw_sig = get(headers, header::SIGNATURE).ok_or_else(|| m("missing X-Bittensor-Signature".into()))?;
        let signature = hex::decode(raw_sig.strip_prefix("0x").unwrap_or(raw_sig))
            .map_err(|_| m("X-Bittensor-Signature is not hex".into()))?;
        Ok(BtAuthHeaders {
            hotkey: hotkey.to_owned(),
            nonce_ns,
            crypto,
            signature,
            receiver: get(headers, header::RECEIVER).map(str::to_owned),
        })
    }

    /// Receiver binding and freshness.
    pub fn check(&self, own_hotkey: &str, cfg: &BtAuthConfig, now_ns: u64) -> Result<(), BtAuthError> {
        match &self.receiver {
            None if cfg.require_receiver => {
                return Err(BtAuthError::WrongReceiver(
                    "missing X-Bittensor-Receiver: this server requires receiver-bound requests".into(),
                ));
            }
            Some(r) if r != own_hotkey => {
                return Err(BtAuthError::WrongReceiver("request was signed for a different receiving hotkey".into()));
            }
            _ => {}
        }
        let (now, nonce) = (now_ns as i128, self.nonce_ns as i128);
        if (now - nonce) as f64 > cfg.max_age_s * 1e9 {
            return Err(BtAuthError::Stale(format!("nonce is older than the {}s freshness window", cfg.max_age_s)));
        }
        if (nonce - now) as f64 > cfg.allowed_skew_s * 1e9 {
            return Err(BtAuthError::Stale(format!("nonce is more than {}s in the future", cfg.allowed_skew_s)));
        }
        Ok(())
    }

    /// Signature over the body, then replay. Call after [`BtAuthHeaders::check`].
    pub fn verify_body(&self, method: &str, path: &str, body: &[u8], store: &ReplayStore) -> Result<(), BtAuthError> {
        let payload =
            build_payload(self.crypto, method, path, body, self.nonce_ns, &self.hotkey, self.receiver.as_deref());
        let public = PublicKey::from_ss58(&self.hotkey)
            .map_err(|_| BtAuthError::Malformed("invalid hotkey address or signature encoding".into()))?;
        if self.signature.len() != 64 {
            return Err(BtAuthError::Malformed("invalid hotkey address or signature encoding".into()));
        }
        let valid = match self.crypto {
            Crypto::Sr25519 => public.verify(&payload, &self.signature),
            Crypto::Ed25519 => {
                use sp_core::Pair as _;
                let sig = sp_core::ed25519::Signature::from_raw(self.signature.clone().try_into().expect("64 bytes"));
                sp_core::ed25519::Pair::verify(&sig, &payload, &sp_core::ed25519::Public::from_raw(*public.as_bytes()))
            }
        };
        if !valid {
            return Err(BtAuthError::BadSignature);
        }
        if !store.check_and_store(&self.hotkey, self.nonce_ns) {
            return Err(BtAuthError::Replayed);
        }
        Ok(())
    }
}

/// The accepted pairs, and their expiry times in acceptance order.
type Seen = (HashSet<(String, u64)>, VecDeque<(u64, (String, u64))>);

/// Accepted `(hotkey, nonce)` pairs with time-based expiry (`retention` must cover the window).
#[derive(Debug)]
pub struct ReplayStore {
    retention_ns: u64,
    inner: Mutex<Seen>,
}

impl ReplayStore {
    pub fn new(retention_s: f64) -> Self {
        ReplayStore { retention_ns: (retention_s * 1e9) as u64, inner: Mutex::new(Default::default()) }
    }

    /// True (and recorded) if the pair was never seen inside the retention.
    pub fn check_and_store(&self, hotkey: &str, nonce: u64) -> bool {
        let now = crate::now_ns();
        let mut guard = self.inner.lock();
        let (seen, expiry) = &mut *guard;
        while expiry.front().is_some_and(|(t, _)| *t <= now) {
            let (_, key) = expiry.pop_front().expect("front exists");
            seen.remove(&key);
        }
        let key = (hotkey.to_owned(), nonce);
        if seen.contains(&key) {
            return false;
        }
        seen.insert(key.clone());
        expiry.push_back((now + self.retention_ns, key));
        true
    }
}

impl Default for ReplayStore {
    fn default() -> Self {
        ReplayStore::new(60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_map(headers: &[(String, String)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in headers {
            m.insert(http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(), v.parse().unwrap());
        }
        m
    }

    const BODY: &[u8] = br#"{"name": "IdentitySynapse"}"#;

    #[test]
    fn payload_is_eight_newline_joined_lines() {
        let p = build_payload(Crypto::Sr25519, "post", "/IdentitySynapse?x=1", b"", 42, "5A", None);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            "btauth/1\nsr25519\nPOST\n/IdentitySynapse?x=1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n42\n5A\n-"
        );
    }

    #[test]
    fn honest_request_verifies_then_replays_fail() {
        let alice = Hotkey::from_uri("//Alice").unwrap();
        let bob = Hotkey::from_uri("//Bob").unwrap();
        let now = crate::now_ns();
        let h = to_map(&sign(&alice, "POST", "/IdentitySynapse", BODY, Some(bob.ss58()), now));
        let parsed = BtAuthHeaders::parse(&h).unwrap();
        parsed.check(bob.ss58(), &BtAuthConfig::default(), now).unwrap();
        let store = ReplayStore::default();
        parsed.verify_body("POST", "/IdentitySynapse", BODY, &store).unwrap();
        assert_eq!(parsed.verify_body("POST", "/IdentitySynapse", BODY, &store), Err(BtAuthError::Replayed));
    }

    #[test]
    fn altered_body_path_or_receiver_fail() {
        let alice = Hotkey::from_uri("//Alice").unwrap();
        let bob = Hotkey::from_uri("//Bob").unwrap();
        let now = crate::now_ns();
        let parsed =
            BtAuthHeaders::parse(&to_map(&sign(&alice, "POST", "/IdentitySynapse", BODY, Some(bob.ss58()), now)))
                .unwrap();
        let store = ReplayStore::default();
        assert_eq!(parsed.verify_body("POST", "/IdentitySynapse", b"{}", &store), Err(BtAuthError::BadSignature));
        assert_eq!(parsed.verify_body("POST", "/Other", BODY, &store), Err(BtAuthError::BadSignature));
        assert!(matches!(
            parsed.check(alice.ss58(), &BtAuthConfig::default(), now),
            Err(BtAuthError::WrongReceiver(_))
        ));
        // a failed signature did not poison the store
        parsed.verify_body("POST", "/IdentitySynapse", BODY, &store).unwrap();
    }

    #[test]
    fn freshness_window_both_ways() {
        let alice = Hotkey::from_uri("//Alice").unwrap();
        let now = crate::now_ns();
        let cfg = BtAuthConfig { require_receiver: false, ..Default::default() };
        let p = |nonce| BtAuthHeaders::parse(&to_map(&sign(&alice, "POST", "/", b"", None, nonce))).unwrap();
        assert!(matches!(p(now - 11_000_000_000).check("x", &cfg, now), Err(BtAuthError::Stale(_))));
        assert!(matches!(p(now + 3_000_000_000).check("x", &cfg, now), Err(BtAuthError::Stale(_))));
        p(now - 9_000_000_000).check("x", &cfg, now).unwrap();
        assert!(matches!(p(now).check("x", &BtAuthConfig::default(), now), Err(BtAuthError::WrongReceiver(_))));
    }

    #[test]
    fn malformed_headers() {
        let mut h = HeaderMap::new();
        h.insert(header::VERSION, "2".parse().unwrap());
        assert!(matches!(BtAuthHeaders::parse(&h), Err(BtAuthError::Malformed(_))));
        h.insert(header::VERSION, "1".parse().unwrap());
        h.insert(header::HOTKEY, "5Grw".parse().unwrap());
        h.insert(header::NONCE, "abc".parse().unwrap());
        assert!(matches!(BtAuthHeaders::parse(&h), Err(BtAuthError::Malformed(_))));
        h.insert(header::NONCE, "1".parse().unwrap());
        h.insert(header::SIGNATURE, "0xnothex".parse().unwrap());
        assert!(matches!(BtAuthHeaders::parse(&h), Err(BtAuthError::Malformed(_))));
    }
}
