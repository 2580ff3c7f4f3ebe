//! The Bittensor v10 axon/dendrite scheme (bittensor 10.5.0; spec miner-protocol.md section 1).
//!
//! The dendrite (validator) signs, with its hotkey,
//! `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}` and sends it with the other
//! `bt_header_*` headers. For `IdentitySynapse` the body hash is a constant (quirk Q1), so the
//! signature proves *who* sent a request and *when*, never *what*. The axon (miner) checks, in
//! bittensor's order: nonce present, nonce freshness (first request of a `(hotkey, uuid)`) or
//! strict monotonicity (later ones), signature present (Q3: always required), signature valid;
//! then stores the nonce.

use std::collections::HashMap;

use http::HeaderMap;
use parking_lot::Mutex;
use serde_json::Value;

use crate::body_hash::IDENTITY_SYNAPSE_BODY_HASH;
use crate::keys::{Hotkey, PublicKey, parse_sig_hex0x};
use crate::pyfmt::{py_float, to_python_json};
use crate::status::AxonError;
use crate::synapse::{Generation, IdentitySynapse, TerminalInfo};
use crate::{IDENTITY_SYNAPSE_NAME, IDENTITY_SYNAPSE_ROUTE};

/// Header names (lowercase, as they travel).
pub mod header {
    pub const NAME: &str = "name";
    pub const TIMEOUT: &str = "timeout";
    pub const AXON_IP: &str = "bt_header_axon_ip";
    pub const AXON_PORT: &str = "bt_header_axon_port";
    pub const AXON_HOTKEY: &str = "bt_header_axon_hotkey";
    pub const AXON_STATUS_CODE: &str = "bt_header_axon_status_code";
    pub const AXON_STATUS_MESSAGE: &str = "bt_header_axon_status_message";
    pub const AXON_PROCESS_TIME: &str = "bt_header_axon_process_time";
    pub const AXON_VERSION: &str = "bt_header_axon_version";
    pub const AXON_NONCE: &str = "bt_header_axon_nonce";
    pub const AXON_UUID: &str = "bt_header_axon_uuid";
    pub const AXON_SIGNATURE: &str = "bt_header_axon_signature";
    pub const DENDRITE_IP: &str = "bt_header_dendrite_ip";
    pub const DENDRITE_PORT: &str = "bt_header_dendrite_port";
    pub const DENDRITE_VERSION: &str = "bt_header_dendrite_version";
    pub const DENDRITE_NONCE: &str = "bt_header_dendrite_nonce";
    pub const DENDRITE_UUID: &str = "bt_header_dendrite_uuid";
    pub const DENDRITE_HOTKEY: &str = "bt_header_dendrite_hotkey";
    pub const DENDRITE_SIGNATURE: &str = "bt_header_dendrite_signature";
    pub const INPUT_OBJ_IDENTITY: &str = "bt_header_input_obj_identity";
    pub const INPUT_OBJ_QUERY_TEMPLATE: &str = "bt_header_input_obj_query_template";
    pub const HEADER_SIZE: &str = "header_size";
    pub const TOTAL_SIZE: &str = "total_size";
    pub const COMPUTED_BODY_HASH: &str = "computed_body_hash";
}

/// bittensor 10.5.0 as an SDK version int (major·10⁶ + minor·10³ + patch): R2 validators.
pub const BITTENSOR_VERSION: u64 = 10_005_000;
/// bittensor 10.0.0, what R1 validators ran.
pub const BITTENSOR_VERSION_R1: u64 = 10_000_000;

/// The SDK version a validator of `generation` sends in `bt_header_dendrite_version`.
pub fn sdk_version(generation: Generation) -> u64 {
    match generation {
        Generation::R1 => BITTENSOR_VERSION_R1,
        Generation::R2 => BITTENSOR_VERSION,
    }
}
/// The version from which the freshness window applies to first requests (7.2.0).
pub const V_7_2_0: u64 = 7_002_000;
/// Fixed part of the freshness window, on top of the request's own timeout.
pub const NONCE_WINDOW_BASE_NS: u64 = 4_000_000_000;
/// The validator timeout of R2 (and the default a dendrite uses here).
pub const DEFAULT_TIMEOUT_S: f64 = 1200.0;

/// The v10 fields of a request, read from its headers (the axon reads nothing else before
/// authenticating).
#[derive(Debug, Clone, PartialEq)]
pub struct V10Headers {
    pub timeout: f64,
    pub dendrite_hotkey: Option<String>,
    pub dendrite_nonce: Option<u64>,
    pub dendrite_version: Option<u64>,
    pub dendrite_uuid: Option<String>,
    pub dendrite_signature: Option<String>,
    pub dendrite_ip: Option<String>,
    pub axon_hotkey: Option<String>,
    pub computed_body_hash: Option<String>,
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| ()),
    }
}

impl V10Headers {
    /// Parses the headers as bittensor's `Synapse.from_headers` does; a value of the wrong type
    /// is a 400 `Improperly formatted request`.
    pub fn parse(headers: &HeaderMap) -> Result<Self, AxonError> {
        let bad = || AxonError::bad_headers(&describe_headers(headers));
        let s = |name| header_str(headers, name).map_err(|_| bad()).map(|o| o.map(str::to_owned));
        let int = |name| -> Result<Option<u64>, AxonError> {
            match header_str(headers, name).map_err(|_| bad())? {
                None => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| bad()),
            }
        };
        let timeout = match header_str(headers, header::TIMEOUT).map_err(|_| bad())? {
            None => 120.0,
            Some(t) => t.trim().parse::<f64>().ok().filter(|t| t.is_finite() && *t >= 0.0).ok_or_else(bad)?,
        };
        Ok(V10Headers {
            timeout,
            dendrite_hotkey: s(header::DENDRITE_HOTKEY)?,
            dendrite_nonce: int(header::DENDRITE_NONCE)?,
            dendrite_version: int(header::DENDRITE_VERSION)?,
            dendrite_uuid: s(header::DENDRITE_UUID)?,
            dendrite_signature: s(header::DENDRITE_SIGNATURE)?,
            dendrite_ip: s(header::DENDRITE_IP)?,
            axon_hotkey: s(header::AXON_HOTKEY)?,
            computed_body_hash: s(header::COMPUTED_BODY_HASH)?,
        })
    }

    /// The exact message the dendrite signed, as the axon rebuilds it: with the axon's *own*
    /// hotkey, and Python's `None` for absent parts.
    pub fn signed_message(&self, own_hotkey: &str) -> String {
        let or_none = |o: &Option<String>| o.clone().unwrap_or_else(|| "None".into());
        format!(
            "{}.{}.{}.{}.{}",
            self.dendrite_nonce.map(|n| n.to_string()).unwrap_or_else(|| "None".into()),
            or_none(&self.dendrite_hotkey),
            own_hotkey,
            or_none(&self.dendrite_uuid),
            self.computed_body_hash.clone().unwrap_or_default(),
        )
    }
}

/// Bittensor prints the whole header dict in its 400 message; we print the names only (values
/// may be large or sensitive).
fn describe_headers(headers: &HeaderMap) -> String {
    let names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    format!("{names:?}")
}

/// The message a dendrite signs.
pub fn message(nonce: u64, dendrite_hotkey: &str, axon_hotkey: &str, uuid: &str, body_hash: &str) -> String {
    format!("{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}")
}

/// Last accepted nonce per endpoint key `"{hotkey}:{uuid}"` (the axon's replay state).
#[derive(Debug, Default)]
pub struct NonceTracker {
    last: Mutex<HashMap<String, u64>>,
}

impl NonceTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bittensor's nonce rules (spec 1.5.2, checks 1–3), without storing.
    fn check(&self, key: &str, h: &V10Headers, now_ns: u64) -> Result<u64, String> {
        let nonce = h.dendrite_nonce.ok_or("Missing Nonce")?;
        let stored = self.last.lock().get(key).copied();
        if h.dendrite_version.is_some_and(|v| v >= V_7_2_0) && stored.is_none() {
            // Python computes `now - 4e9 - timeout * 1e9` as int - int - float: same rounding here.
            let allowed = now_ns.saturating_sub(NONCE_WINDOW_BASE_NS) as f64 - h.timeout * 1e9;
            if (nonce as f64) <= allowed {
                let age = (now_ns as f64 - nonce as f64) / 1e9;
                return Err(format!(
                    "Nonce is too old: acceptable delta is {:.2} seconds but request was {:.2} seconds old",
                    4.0 + h.timeout,
                    age
                ));
            }
        }
        if stored.is_some_and(|s| nonce <= s) {
            return Err("Nonce is too old, a newer one was last processed".into());
        }
        Ok(nonce)
    }

    /// Stores `nonce` if it is still newer than what is stored: the atomic half of the check,
    /// so two concurrent copies of one request cannot both pass.
    fn store(&self, key: String, nonce: u64) -> bool {
        let mut last = self.last.lock();
        match last.get(&key) {
            Some(&s) if nonce <= s => false,
            _ => {
                last.insert(key, nonce);
                true
            }
        }
    }

    /// Forgets endpoints whose last nonce is older than `horizon_ns` before `now_ns`; a forgotten
    /// endpoint falls back to the freshness rule, which is at least as strict.
    pub fn prune(&self, now_ns: u64, horizon_ns: u64) {
        let cutoff = now_ns.saturating_sub(horizon_ns);
        self.last.lock().retain(|_, n| *n >= cutoff);
    }

    pub fn len(&self) -> usize {
        self.last.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Verifies a v10 request's headers for the axon whose hotkey is `own_hotkey` (spec 1.5.2),
/// storing the nonce on success. Errors are the reasons bittensor puts after
/// `Not Verified with error: `.
pub fn verify(h: &V10Headers, own_hotkey: &str, nonces: &NonceTracker, now_ns: u64) -> Result<(), String> {
    let hotkey = h.dendrite_hotkey.as_deref().unwrap_or("None");
    let key = format!("{}:{}", hotkey, h.dendrite_uuid.as_deref().unwrap_or("None"));
    let nonce = nonces.check(&key, h, now_ns)?;
    let signature = h.dendrite_signature.as_deref().filter(|s| !s.is_empty()).ok_or("Missing Signature")?;
    let message = h.signed_message(own_hotkey);
    let public = PublicKey::from_ss58(hotkey).map_err(|e| e.to_string())?;
    let sig = parse_sig_hex0x(signature).map_err(|e| e.to_string())?;
    if !public.verify_bittensor(message.as_bytes(), &sig) {
        return Err(format!("Signature mismatch with {message} and {signature}"));
    }
    if !nonces.store(key, nonce) {
        // A concurrent copy of this very request won the race.
        return Err("Nonce is too old, a newer one was last processed".into());
    }
    Ok(())
}

/// Where a dendrite sends a request: a miner's axon as the metagraph shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonTarget {
    pub ip: String,
    pub port: u16,
    pub hotkey: String,
}

impl AxonTarget {
    pub fn url(&self) -> String {
        format!("http://{}:{}{}", self.ip, self.port, IDENTITY_SYNAPSE_ROUTE)
    }
}

/// A request ready to send: URL, headers in the order a Python dendrite sends them, body bytes.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The signing half of a v10 dendrite: one hotkey and one process UUID (version 1, stable for
/// the life of the client, as bittensor's dendrite keeps it).
#[derive(Debug, Clone)]
pub struct DendriteSigner {
    pub hotkey: Hotkey,
    pub uuid: String,
    pub external_ip: String,
}

impl DendriteSigner {
    pub fn new(hotkey: Hotkey, external_ip: impl Into<String>) -> Self {
        let node: [u8; 6] = rand::random();
        let uuid = uuid::Uuid::now_v1(&node).to_string();
        DendriteSigner { hotkey, uuid, external_ip: external_ip.into() }
    }

    /// Fills in `dendrite`/`axon`, signs, and serialises `synapse` for `target`
    /// (spec 1.7 steps 1–5), as the generation's dendrite does (bittensor 10.0.0 for R1,
    /// 10.5.0 for R2; they differ only in the version they announce).
    pub fn sign(
        &self,
        synapse: &IdentitySynapse,
        generation: Generation,
        target: &AxonTarget,
        timeout: f64,
        nonce: u64,
    ) -> SignedRequest {
        let body_hash = IDENTITY_SYNAPSE_BODY_HASH;
        let signature = self
            .hotkey
            .sign_hex0x(message(nonce, self.hotkey.ss58(), &target.hotkey, &self.uuid, body_hash).as_bytes());
        let mut s = synapse.clone();
        s.timeout = timeout;
        s.computed_body_hash = Some(String::new());
        s.dendrite = Some(TerminalInfo {
            ip: Some(self.external_ip.clone()),
            version: Some(sdk_version(generation)),
            nonce: Some(nonce),
            uuid: Some(self.uuid.clone()),
            hotkey: Some(self.hotkey.ss58().to_owned()),
            signature: Some(signature.clone()),
            ..TerminalInfo::default()
        });
        s.axon = Some(TerminalInfo {
            ip: Some(target.ip.clone()),
            port: Some(target.port as i64),
            hotkey: Some(target.hotkey.clone()),
            ..TerminalInfo::default()
        });
        let mut body_obj = s.to_body(generation);
        let body_len_estimate = serde_json::to_vec(&body_obj).map(|b| b.len()).unwrap_or(0);
        body_obj.insert("total_size".into(), Value::from(body_len_estimate));
        let body = to_python_json(&Value::Object(body_obj));

        let mut headers: Vec<(String, String)> = vec![
            (header::NAME.into(), IDENTITY_SYNAPSE_NAME.into()),
            (header::TIMEOUT.into(), py_float(timeout)),
            (header::AXON_IP.into(), target.ip.clone()),
            (header::AXON_PORT.into(), target.port.to_string()),
            (header::AXON_HOTKEY.into(), target.hotkey.clone()),
            (header::DENDRITE_IP.into(), self.external_ip.clone()),
            (header::DENDRITE_VERSION.into(), sdk_version(generation).to_string()),
            (header::DENDRITE_NONCE.into(), nonce.to_string()),
            (header::DENDRITE_UUID.into(), self.uuid.clone()),
            (header::DENDRITE_HOTKEY.into(), self.hotkey.ss58().to_owned()),
            (header::DENDRITE_SIGNATURE.into(), signature),
        ];
        if generation == Generation::R1 {
            // base64 of json.dumps of an *empty* value of each required field: placeholders.
            headers.push((header::INPUT_OBJ_IDENTITY.into(), "W10=".into()));
            headers.push((header::INPUT_OBJ_QUERY_TEMPLATE.into(), "IiI=".into()));
        }
        let header_size: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        headers.push((header::HEADER_SIZE.into(), header_size.to_string()));
        headers.push((header::TOTAL_SIZE.into(), body_len_estimate.to_string()));
        headers.push((header::COMPUTED_BODY_HASH.into(), body_hash.into()));
        SignedRequest { url: target.url(), headers, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    const SPEC_SIG: &str = "0x9e38fd685b1112baef65c972db6dba3e759e9c90a900b2d20a9494ec6f59b87be017e93f96006657ead0be34a012c4e1d0fea84ab1df7b861688a81200c4c887";
    const SPEC_NONCE: u64 = 1_754_000_000_123_456_789;

    fn spec_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("name", "IdentitySynapse"),
            ("timeout", "1200.0"),
            ("bt_header_axon_hotkey", BOB),
            ("bt_header_dendrite_version", "10005000"),
            ("bt_header_dendrite_nonce", "1754000000123456789"),
            ("bt_header_dendrite_uuid", "2f5c1e2a-6b7d-11f0-9a3e-0242ac110002"),
            ("bt_header_dendrite_hotkey", ALICE),
            ("bt_header_dendrite_signature", SPEC_SIG),
            ("computed_body_hash", IDENTITY_SYNAPSE_BODY_HASH),
        ] {
            h.insert(http::HeaderName::from_static(k), v.parse().unwrap());
        }
        h
    }

    const SPEC_NOW: u64 = 1_754_000_001_000_000_000;

    #[test]
    fn spec_worked_example_verifies_once() {
        let h = V10Headers::parse(&spec_headers()).unwrap();
        assert_eq!(
            h.signed_message(BOB),
            "1754000000123456789.5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY.5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty.2f5c1e2a-6b7d-11f0-9a3e-0242ac110002.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
        let nonces = NonceTracker::new();
        verify(&h, BOB, &nonces, SPEC_NOW).unwrap();
        // the same request again is a replay
        assert_eq!(verify(&h, BOB, &nonces, SPEC_NOW).unwrap_err(), "Nonce is too old, a newer one was last processed");
    }

    #[test]
    fn signature_is_bound_to_the_receiving_axon() {
        let h = V10Headers::parse(&spec_headers()).unwrap();
        let charlie = Hotkey::from_uri("//Charlie").unwrap();
        let err = verify(&h, charlie.ss58(), &NonceTracker::new(), SPEC_NOW).unwrap_err();
        assert!(err.starts_with("Signature mismatch with 1754000000123456789."), "{err}");
    }

    #[test]
    fn stale_first_nonce_is_refused_with_bittensors_numbers() {
        let h = V10Headers::parse(&spec_headers()).unwrap();
        let now = SPEC_NONCE + 1205 * 1_000_000_000;
        let err = verify(&h, BOB, &NonceTracker::new(), now).unwrap_err();
        assert_eq!(err, "Nonce is too old: acceptable delta is 1204.00 seconds but request was 1205.00 seconds old");
        // pre-7.2 clients skip the window
        let mut old = h.clone();
        old.dendrite_version = Some(7_000_000);
        verify(&old, BOB, &NonceTracker::new(), now).unwrap();
    }

    #[test]
    fn missing_nonce_and_signature_are_named() {
        let mut h = V10Headers::parse(&spec_headers()).unwrap();
        h.dendrite_signature = None;
        assert_eq!(verify(&h, BOB, &NonceTracker::new(), SPEC_NOW).unwrap_err(), "Missing Signature");
        h.dendrite_nonce = None;
        assert_eq!(verify(&h, BOB, &NonceTracker::new(), SPEC_NOW).unwrap_err(), "Missing Nonce");
    }

    #[test]
    fn malformed_headers_are_400() {
        let mut h = spec_headers();
        h.insert("timeout", "soon".parse().unwrap());
        assert_eq!(V10Headers::parse(&h).unwrap_err().status, 400);
        let mut h = spec_headers();
        h.insert("bt_header_dendrite_nonce", "12x".parse().unwrap());
        assert_eq!(V10Headers::parse(&h).unwrap_err().status, 400);
    }

    #[test]
    fn dendrite_signs_what_the_axon_verifies() {
        let signer = DendriteSigner::new(Hotkey::from_uri("//Alice").unwrap(), "127.0.0.1");
        let target = AxonTarget { ip: "127.0.0.1".into(), port: 8091, hotkey: BOB.into() };
        let now = crate::now_ns();
        let req = signer.sign(&IdentitySynapse::new(Generation::R1, 30.0), Generation::R1, &target, 30.0, now);
        let mut map = HeaderMap::new();
        for (k, v) in &req.headers {
            map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let h = V10Headers::parse(&map).unwrap();
        assert_eq!(h.timeout, 30.0);
        let nonces = NonceTracker::new();
        verify(&h, BOB, &nonces, now).unwrap();
        assert_eq!(nonces.len(), 1);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["dendrite"]["nonce"], now);
        assert_eq!(body["dendrite"]["version"], BITTENSOR_VERSION_R1, "R1 validators ran bittensor 10.0.0");
        assert_eq!(body["axon"]["hotkey"], BOB);
        assert_eq!(body["computed_body_hash"], "");
        assert!(req.headers.iter().any(|(k, v)| k == "bt_header_input_obj_identity" && v == "W10="));
        assert_eq!(req.url, "http://127.0.0.1:8091/IdentitySynapse");
        // Python's separators
        assert!(
            std::str::from_utf8(&req.body).unwrap().starts_with("{\"name\": \"IdentitySynapse\", \"timeout\": 30.0")
        );
    }

    #[test]
    fn prune_forgets_old_endpoints() {
        let t = NonceTracker::new();
        assert!(t.store("a:1".into(), 100));
        assert!(t.store("b:1".into(), 10_000));
        t.prune(10_000, 5_000);
        assert_eq!(t.len(), 1);
    }
}
