//! Epistula: the hotkey-signed HTTP conventions many Bittensor subnets use instead of the axon.
//!
//! Two unrelated header sets share the name; both are sr25519 (context `substrate`) signatures
//! over a plain UTF-8 string (not a digest of it — the body enters only as its SHA-256 hex).
//!
//! # Epistula v2 (Manifold Labs)
//!
//! ```text
//! Epistula-Version:            2
//! Epistula-Timestamp:          {unix milliseconds}
//! Epistula-Uuid:               {uuid4, hyphenated}
//! Epistula-Signed-By:          {sender ss58}
//! Epistula-Signed-For:         {receiver ss58}            optional
//! Epistula-Request-Signature:  0x{hex of 64 bytes}
//! Epistula-Secret-Signature-0/1/2: 0x{hex}                optional, accepted and ignored
//!
//! signed string = "{sha256_hex(body)}.{uuid}.{timestamp_ms}.{signed_for or ''}"
//! ```
//!
//! # The simple form ("custom HTTP miner" examples)
//!
//! ```text
//! X-Epistula-Timestamp:  {unix nanoseconds}
//! X-Epistula-Signature:  {hex of 64 bytes}    bare hex as sent by the references; 0x also accepted
//! X-Epistula-Hotkey:     {sender ss58}
//!
//! signed string = "{timestamp_ns}.{sha256_hex(body)}"
//! ```
//!
//! # What we followed
//!
//! - The spec, <https://epistula.sybil.com/protocol> ("The Standard", Epistula V2): the header
//!   set above, "UNIX millisecond timestamps and request UUIDs with a 5 second delta", storing
//!   UUIDs to detect replays is "up to the receiver", Signed-For is optional and "helps prevent
//!   relay attacks", and the four period-joined fields in that order. (Its one-line Python
//!   example signs `json.dumps(body)` instead of the body's SHA-256; every implementation signs
//!   the hash, as does the prose above it. We follow the prose.)
//! - `macrocosm-os/atom` `atom/epistula/epistula.py` (the `Epistula` class): the signer
//!   (`round(time.time()*1000)`, `str(uuid4())`, `"0x" + hotkey.sign(message).hex()`) and the
//!   verifier: default `ALLOWED_DELTA_MS = 8000`, stale iff `timestamp + delta < now`, no bound
//!   on future timestamps, `Keypair(ss58_address=signed_by).verify(message, signature)`.
//! - `manifold-inc/targon` `targon/epistula.py` (`generate_header`, `verify_signature_v2`, and the
//!   older `verify_signature_v1`), `BitMind-AI/bitmind-subnet` `gas/protocol/epistula.py` and
//!   `macrocosm-os/prompting` `shared/epistula.py`: the same message and signer. The miners
//!   (targon `neurons/miner.py` `verify_request`, BitMind `_verify_request`, the prompting
//!   miner) refuse any request whose Signed-For is not their own hotkey, missing included,
//!   before checking the signature.
//! - `manifold-inc/targon` `validator/epistula.go` and `subtrahend-labs/gobt`
//!   `boilerplate/epistula.go` (`GetEpistulaHeaders`, `VerifyEpistulaHeaders`): the Go signer
//!   (`time.Now().UnixMilli()`, `uuid.New().String()`), and a verifier that requires the `0x`
//!   prefix.
//! - `manifold-inc/targon-stats` `src/utils/signature.ts` (`verify`, `getEpistulaHeaders`): the
//!   TypeScript verifier (`signedFor ?? ""`).
//! - The simple form: `MichaelTrestman/Safeguard-Subnet` `epistula.py` (`create_epistula_headers`,
//!   `verify_epistula`; copies in `vali-django/validator/epistula_impl.py` and
//!   `safeguard-hitl-miner/main.py`) and the "Pattern B: Custom HTTP API Miner" example in
//!   `creativeessence/chronoseek-subnet` `docs/06-building-miners.md`: `int(time.time() * 1e9)`,
//!   `f"{timestamp}.{sha256(body).hexdigest()}"`, `wallet.hotkey.sign(message.encode()).hex()`
//!   (no `0x`), verified with `bytes.fromhex(signature)` (which would reject a `0x`) and
//!   `abs(time.time() - int(timestamp) / 1e9) > 60` — symmetric, and no replay store.
//! - `manifold-inc/epistula-examples` (`python/main.py`, `typescript/send_message.ts`,
//!   `go/main.go`) only show Epistula **v1**, which this module does not speak: a JSON envelope
//!   `{data, nonce (ns), signed_by, signed_for}` signed whole into a `Body-Signature` header,
//!   5 s window.
//!
//! # Where the implementations in the wild differ
//!
//! - **Window.** Spec prose 5 s; atom / targon / prompting 8000 ms; BitMind 15000 ms.
//! - **Future timestamps.** atom, targon and prompting only refuse the past, so a request dated
//!   ahead stays valid until then; BitMind refuses more than its window ahead; the simple form
//!   is symmetric (`abs`).
//! - **Units bugs.** gobt's `VerifyEpistulaHeaders` parses the millisecond timestamp with
//!   `time.Unix(i, 0)` (seconds) and targon-stats' TS verifier builds `new Date(ts * 1000)`:
//!   both read a v2 timestamp as ~55 000 years ahead, so their staleness check never fires.
//!   One prompting-family endpoint passes `now = time.time()` (seconds) to a millisecond
//!   comparison, with the same effect. Timestamps are ms in v2 and ns in the simple form,
//!   everywhere on the signing side.
//! - **Receiver.** gobt builds the message with the *verifier's own* ss58 in the Signed-For
//!   slot whatever the header says (implicit binding; an unbound request never verifies there);
//!   the Python miners refuse a missing or foreign Signed-For; atom and the TS verifier accept
//!   both bound and unbound requests.
//! - **Signature encoding.** v2 signers always send `0x` + lowercase hex; substrateinterface and
//!   bittensor_wallet `Keypair.verify` raise on a hex *string* without `0x`, gobt refuses it,
//!   targon-stats strips two characters unconditionally, and a sibling TS copy passes the hex
//!   text through `stringToU8a` (the ASCII bytes; it can never verify). atom's pydantic model
//!   declares `^0x[a-fA-F0-9]{64}$` — 32 bytes, which a real 64-byte signature cannot match.
//!   The simple form sends bare hex.
//! - **Secret signatures** (`Epistula-Secret-Signature-0/1/2`, a header-only DDoS filter that
//!   can be cached at a load balancer): atom/targon/prompting sign
//!   `f"{ceil(ts / 1e4) * 1e4 + k}.{signed_for}"` for k = -1, 0, 1 — a Python float, so the
//!   string reads like `1754000009999.0` — while the Go signer signs
//!   `"{ceil(ts / 1e4) + k}.{sender's own ss58}"`. No verifier we found checks them.
//!
//! # What this module does
//!
//! Same shape as [`crate::btauth`]: [`EpistulaHeaders::parse`] (header shape, signer address,
//! signature encoding), [`EpistulaHeaders::check`] (receiver and freshness, before the body is
//! read), [`EpistulaHeaders::verify_body`] (the signature over the body, then replay —
//! recorded only after the signature verifies, so forged traffic cannot poison the store).
//!
//! - v2: timestamp in ms; default window 8000 ms back (the references' constant) and, because
//!   a replay store only remembers for a bounded time, also 8000 ms ahead (symmetric, as
//!   BitMind); both configurable. Signed-For, when present, must be our hotkey; when absent the
//!   request is accepted (the spec makes it optional) unless
//!   [`EpistulaConfig::v2_require_signed_for`] is set, which is what the SN1/SN4/SN34 miners
//!   do. An empty Signed-For header counts as absent (the signed string is the same). The
//!   signature must carry `0x`. Version must be `2`. The UUID must parse as a UUID and is used
//!   verbatim in the signed string. Replay key: (signer, UUID).
//! - simple: timestamp in ns; 60 s either way; bare or `0x` hex. Replay key: (hotkey,
//!   timestamp).
//! - Both: timestamps are canonical decimal (digits, no sign, no leading zero); the signature is
//!   64 bytes; it may sign the plain string or the string wrapped in `<Bytes>…</Bytes>` (what
//!   `Keypair.verify` accepts); secret signatures are ignored, and never emitted by
//!   [`sign_v2`].
//! - Replay keys are namespaced (`epistula-v2|…`, `epistula-simple|…`) so one
//!   [`ReplayStore`] can serve every scheme; its retention must cover the whole acceptance
//!   span ([`EpistulaConfig::replay_retention_s`]).

use http::HeaderMap;

use crate::body_hash::sha256_hex;
use crate::btauth::ReplayStore;
use crate::keys::{Hotkey, PublicKey};

/// The only Epistula version spoken here.
pub const VERSION: &str = "2";

/// Header names (lowercase, as `http::HeaderMap` stores them; HTTP names are case-insensitive).
pub mod header {
    pub const VERSION: &str = "epistula-version";
    pub const TIMESTAMP: &str = "epistula-timestamp";
    pub const UUID: &str = "epistula-uuid";
    pub const SIGNED_BY: &str = "epistula-signed-by";
    pub const SIGNED_FOR: &str = "epistula-signed-for";
    pub const REQUEST_SIGNATURE: &str = "epistula-request-signature";
    /// Optional time-bucketed signatures; accepted and ignored.
    pub const SECRET_SIGNATURES: [&str; 3] =
        ["epistula-secret-signature-0", "epistula-secret-signature-1", "epistula-secret-signature-2"];

    pub const SIMPLE_TIMESTAMP: &str = "x-epistula-timestamp";
    pub const SIMPLE_SIGNATURE: &str = "x-epistula-signature";
    pub const SIMPLE_HOTKEY: &str = "x-epistula-hotkey";
}

/// The references' v2 staleness window.
pub const DEFAULT_V2_WINDOW_MS: u64 = 8_000;
/// How far ahead a v2 timestamp may be (symmetric with the window by default).
pub const DEFAULT_V2_FUTURE_SKEW_MS: u64 = 8_000;
/// The simple form's window, either way.
pub const DEFAULT_SIMPLE_WINDOW_S: u64 = 60;

const V2_REPLAY_PREFIX: &str = "epistula-v2|";
const SIMPLE_REPLAY_PREFIX: &str = "epistula-simple|";

/// Why an Epistula request was refused. Messages are fixed texts: they never echo a signature
/// or any other header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpistulaError {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    WrongReceiver(String),
    #[error("{0}")]
    Stale(String),
    #[error("signature does not verify against the claimed hotkey")]
    BadSignature,
    #[error("this request was already accepted from this hotkey")]
    Replayed,
}

/// Verifier settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpistulaConfig {
    /// v2: how old a timestamp may be, in ms (references: 8000).
    pub v2_window_ms: u64,
    /// v2: how far in the future a timestamp may be, in ms.
    pub v2_future_skew_ms: u64,
    /// v2: refuse requests without `Epistula-Signed-For` (the spec makes it optional; the
    /// SN1/SN4/SN34 miners require it).
    pub v2_require_signed_for: bool,
    /// simple form: the window either way, in seconds (references: 60).
    pub simple_window_s: u64,
}

impl Default for EpistulaConfig {
    fn default() -> Self {
        EpistulaConfig {
            v2_window_ms: DEFAULT_V2_WINDOW_MS,
            v2_future_skew_ms: DEFAULT_V2_FUTURE_SKEW_MS,
            v2_require_signed_for: false,
            simple_window_s: DEFAULT_SIMPLE_WINDOW_S,
        }
    }
}

impl EpistulaConfig {
    /// The shortest [`ReplayStore`] retention, in seconds, that makes replay detection
    /// complete: a request stays acceptable from `skew` ahead to `window` behind, so its key
    /// must be remembered for that whole span.
    pub fn replay_retention_s(&self) -> f64 {
        let v2 = (self.v2_window_ms + self.v2_future_skew_ms) as f64 / 1e3;
        let simple = 2.0 * self.simple_window_s as f64;
        v2.max(simple).ceil() + 1.0
    }
}

/// The exact v2 string that is signed.
pub fn v2_message(body: &[u8], uuid: &str, timestamp_ms: u64, signed_for: Option<&str>) -> String {
    format!("{}.{uuid}.{timestamp_ms}.{}", sha256_hex(body), signed_for.unwrap_or(""))
}

/// The exact simple-form string that is signed.
pub fn simple_message(timestamp_ns: u64, body: &[u8]) -> String {
    format!("{timestamp_ns}.{}", sha256_hex(body))
}

/// Epistula v2 headers for a request (no secret signatures: they are optional and no verifier
/// checks them). `uuid` should be a fresh UUID4 (`uuid::Uuid::new_v4()`), `timestamp_ms` the
/// wall clock in milliseconds.
pub fn sign_v2(
    hotkey: &Hotkey,
    body: &[u8],
    signed_for: Option<&str>,
    timestamp_ms: u64,
    uuid: &str,
) -> Vec<(String, String)> {
    let signed_for = signed_for.filter(|s| !s.is_empty());
    let message = v2_message(body, uuid, timestamp_ms, signed_for);
    let mut headers = vec![
        ("Epistula-Version".to_owned(), VERSION.to_owned()),
        ("Epistula-Timestamp".to_owned(), timestamp_ms.to_string()),
        ("Epistula-Uuid".to_owned(), uuid.to_owned()),
        ("Epistula-Signed-By".to_owned(), hotkey.ss58().to_owned()),
        ("Epistula-Request-Signature".to_owned(), hotkey.sign_hex0x(message.as_bytes())),
    ];
    if let Some(r) = signed_for {
        headers.push(("Epistula-Signed-For".to_owned(), r.to_owned()));
    }
    headers
}

/// Simple-form headers for a request; the signature is bare hex, as the references send it.
pub fn sign_simple(hotkey: &Hotkey, body: &[u8], timestamp_ns: u64) -> Vec<(String, String)> {
    let message = simple_message(timestamp_ns, body);
    vec![
        ("X-Epistula-Timestamp".to_owned(), timestamp_ns.to_string()),
        ("X-Epistula-Signature".to_owned(), hex::encode(hotkey.sign(message.as_bytes()))),
        ("X-Epistula-Hotkey".to_owned(), hotkey.ss58().to_owned()),
    ]
}

/// Whether a request claims Epistula v2 (a version or request-signature header). A claim with
/// a missing or wrong version is then refused by [`EpistulaHeaders::parse`].
pub fn is_epistula_v2(headers: &HeaderMap) -> bool {
    headers.contains_key(header::VERSION) || headers.contains_key(header::REQUEST_SIGNATURE)
}

/// Whether a request claims the simple form (any of its three headers).
pub fn is_epistula_simple(headers: &HeaderMap) -> bool {
    headers.contains_key(header::SIMPLE_SIGNATURE)
        || headers.contains_key(header::SIMPLE_HOTKEY)
        || headers.contains_key(header::SIMPLE_TIMESTAMP)
}

/// The parsed header part of an Epistula request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpistulaHeaders {
    V2 {
        /// `Epistula-Signed-By`, as sent.
        signed_by: String,
        signer: PublicKey,
        /// `Epistula-Signed-For`; `None` when absent or empty.
        signed_for: Option<String>,
        /// `Epistula-Uuid`, as sent (it is signed verbatim).
        uuid: String,
        timestamp_ms: u64,
        signature: [u8; 64],
    },
    Simple {
        hotkey: String,
        signer: PublicKey,
        timestamp_ns: u64,
        signature: [u8; 64],
    },
}

fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn required<'a>(headers: &'a HeaderMap, name: &str, display: &str) -> Result<&'a str, EpistulaError> {
    get(headers, name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EpistulaError::Malformed(format!("missing or non-ASCII {display} header")))
}

/// Canonical unsigned decimal: digits only, no sign, no leading zero, fits in u64.
fn parse_decimal(value: &str) -> Option<u64> {
    let canonical =
        !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && (value == "0" || !value.starts_with('0'));
    if canonical { value.parse().ok() } else { None }
}

fn parse_signature(value: &str, require_0x: bool, display: &str) -> Result<[u8; 64], EpistulaError> {
    let hex_part = match value.strip_prefix("0x") {
        Some(rest) => rest,
        None if require_0x => {
            return Err(EpistulaError::Malformed(format!("{display} must be 0x-prefixed hex")));
        }
        None => value,
    };
    let bytes = hex::decode(hex_part).map_err(|_| EpistulaError::Malformed(format!("{display} is not hex")))?;
    <[u8; 64]>::try_from(bytes)
        .map_err(|_| EpistulaError::Malformed(format!("{display} is not a 64-byte sr25519 signature")))
}

fn parse_signer(value: &str, display: &str) -> Result<PublicKey, EpistulaError> {
    PublicKey::from_ss58(value).map_err(|_| EpistulaError::Malformed(format!("{display} is not a valid SS58 address")))
}

impl EpistulaHeaders {
    /// Header shape, signer address and signature encoding (all `Malformed` on failure). v2
    /// wins when a request carries both header sets.
    pub fn parse(headers: &HeaderMap) -> Result<Self, EpistulaError> {
        if is_epistula_v2(headers) {
            Self::parse_v2(headers)
        } else if is_epistula_simple(headers) {
            Self::parse_simple(headers)
        } else {
            Err(EpistulaError::Malformed("no Epistula headers".into()))
        }
    }

    fn parse_v2(headers: &HeaderMap) -> Result<Self, EpistulaError> {
        let m = EpistulaError::Malformed;
        if get(headers, header::VERSION) != Some(VERSION) {
            return Err(m(format!("missing or unsupported Epistula-Version (expected '{VERSION}')")));
        }
        let timestamp = required(headers, header::TIMESTAMP, "Epistula-Timestamp")?;
        let timestamp_ms = parse_decimal(timestamp)
            .ok_or_else(|| m("Epistula-Timestamp is not a decimal millisecond timestamp".into()))?;
        let uuid = required(headers, header::UUID, "Epistula-Uuid")?;
        uuid::Uuid::try_parse(uuid).map_err(|_| m("Epistula-Uuid is not a UUID".into()))?;
        let signed_by = required(headers, header::SIGNED_BY, "Epistula-Signed-By")?;
        let signer = parse_signer(signed_by, "Epistula-Signed-By")?;
        let raw_sig = required(headers, header::REQUEST_SIGNATURE, "Epistula-Request-Signature")?;
        let signature = parse_signature(raw_sig, true, "Epistula-Request-Signature")?;
        let signed_for = match headers.get(header::SIGNED_FOR) {
            None => None,
            Some(v) => {
                let s = v.to_str().map_err(|_| m("Epistula-Signed-For is not ASCII".into()))?;
                (!s.is_empty()).then(|| s.to_owned())
            }
        };
        Ok(EpistulaHeaders::V2 {
            signed_by: signed_by.to_owned(),
            signer,
            signed_for,
            uuid: uuid.to_owned(),
            timestamp_ms,
            signature,
        })
    }

    fn parse_simple(headers: &HeaderMap) -> Result<Self, EpistulaError> {
        let timestamp = required(headers, header::SIMPLE_TIMESTAMP, "X-Epistula-Timestamp")?;
        let timestamp_ns = parse_decimal(timestamp).ok_or_else(|| {
            EpistulaError::Malformed("X-Epistula-Timestamp is not a decimal nanosecond timestamp".into())
        })?;
        let hotkey = required(headers, header::SIMPLE_HOTKEY, "X-Epistula-Hotkey")?;
        let signer = parse_signer(hotkey, "X-Epistula-Hotkey")?;
        let raw_sig = required(headers, header::SIMPLE_SIGNATURE, "X-Epistula-Signature")?;
        let signature = parse_signature(raw_sig, false, "X-Epistula-Signature")?;
        Ok(EpistulaHeaders::Simple { hotkey: hotkey.to_owned(), signer, timestamp_ns, signature })
    }

    /// The hotkey that claims to have signed.
    pub fn hotkey(&self) -> &str {
        match self {
            EpistulaHeaders::V2 { signed_by, .. } => signed_by,
            EpistulaHeaders::Simple { hotkey, .. } => hotkey,
        }
    }

    /// `"epistula-v2"` or `"epistula-simple"`, for logs.
    pub fn form(&self) -> &'static str {
        match self {
            EpistulaHeaders::V2 { .. } => "epistula-v2",
            EpistulaHeaders::Simple { .. } => "epistula-simple",
        }
    }

    /// Receiver binding (v2) and freshness, all decidable before the body is read.
    pub fn check(&self, own_hotkey: &str, cfg: &EpistulaConfig, now_ns: u64) -> Result<(), EpistulaError> {
        match self {
            EpistulaHeaders::V2 { signed_for, timestamp_ms, .. } => {
                match signed_for {
                    Some(r) if r != own_hotkey => {
                        return Err(EpistulaError::WrongReceiver(
                            "request was signed for a different receiving hotkey".into(),
                        ));
                    }
                    None if cfg.v2_require_signed_for => {
                        return Err(EpistulaError::WrongReceiver(
                            "missing Epistula-Signed-For: this server requires receiver-bound requests".into(),
                        ));
                    }
                    _ => {}
                }
                let age_ms = (now_ns / 1_000_000) as i128 - *timestamp_ms as i128;
                if age_ms > cfg.v2_window_ms as i128 {
                    return Err(EpistulaError::Stale(format!(
                        "Epistula-Timestamp is older than the {} ms window",
                        cfg.v2_window_ms
                    )));
                }
                if -age_ms > cfg.v2_future_skew_ms as i128 {
                    return Err(EpistulaError::Stale(format!(
                        "Epistula-Timestamp is more than {} ms in the future",
                        cfg.v2_future_skew_ms
                    )));
                }
            }
            EpistulaHeaders::Simple { timestamp_ns, .. } => {
                let delta = (now_ns as i128 - *timestamp_ns as i128).abs();
                if delta > cfg.simple_window_s as i128 * 1_000_000_000 {
                    return Err(EpistulaError::Stale(format!(
                        "X-Epistula-Timestamp is more than {} s away from now",
                        cfg.simple_window_s
                    )));
                }
            }
        }
        Ok(())
    }

    /// The exact string this request's signature must cover.
    pub fn message(&self, body: &[u8]) -> String {
        match self {
            EpistulaHeaders::V2 { signed_for, uuid, timestamp_ms, .. } => {
                v2_message(body, uuid, *timestamp_ms, signed_for.as_deref())
            }
            EpistulaHeaders::Simple { timestamp_ns, .. } => simple_message(*timestamp_ns, body),
        }
    }

    /// The signature over the body, then replay. Call after [`EpistulaHeaders::check`]; the
    /// pair is recorded only once the signature verifies.
    pub fn verify_body(&self, body: &[u8], store: &ReplayStore) -> Result<(), EpistulaError> {
        let message = self.message(body);
        let (signer, signature) = match self {
            EpistulaHeaders::V2 { signer, signature, .. } | EpistulaHeaders::Simple { signer, signature, .. } => {
                (signer, signature)
            }
        };
        if !signer.verify_bittensor(message.as_bytes(), signature) {
            return Err(EpistulaError::BadSignature);
        }
        let fresh = match self {
            EpistulaHeaders::V2 { signed_by, uuid, timestamp_ms, .. } => {
                // The UUID parsed at `parse`; key on its canonical form.
                let canonical = uuid::Uuid::try_parse(uuid).map(|u| u.to_string()).unwrap_or_else(|_| uuid.clone());
                store.check_and_store(&format!("{V2_REPLAY_PREFIX}{signed_by}|{canonical}"), *timestamp_ms)
            }
            EpistulaHeaders::Simple { hotkey, timestamp_ns, .. } => {
                store.check_and_store(&format!("{SIMPLE_REPLAY_PREFIX}{hotkey}"), *timestamp_ns)
            }
        };
        if !fresh {
            return Err(EpistulaError::Replayed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"name": "IdentitySynapse"}"#;
    const UUID: &str = "2f5c1e2a-6b7d-41f0-9a3e-0242ac110002";
    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    fn to_map(headers: &[(String, String)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in headers {
            m.insert(http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(), v.parse().unwrap());
        }
        m
    }

    fn alice() -> Hotkey {
        Hotkey::from_uri("//Alice").unwrap()
    }

    fn bob() -> Hotkey {
        Hotkey::from_uri("//Bob").unwrap()
    }

    fn now_ms() -> u64 {
        crate::now_ns() / 1_000_000
    }

    fn fresh_uuid() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn v2(signed_for: Option<&str>, ts_ms: u64) -> HeaderMap {
        to_map(&sign_v2(&alice(), BODY, signed_for, ts_ms, &fresh_uuid()))
    }

    fn malformed(h: &HeaderMap) -> bool {
        matches!(EpistulaHeaders::parse(h), Err(EpistulaError::Malformed(_)))
    }

    // ---- v2 ----

    #[test]
    fn v2_message_is_hash_uuid_timestamp_receiver() {
        assert_eq!(
            v2_message(b"", UUID, 1_754_000_000_123, Some(BOB)),
            format!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.{UUID}.1754000000123.{BOB}")
        );
        assert_eq!(
            v2_message(b"", UUID, 1_754_000_000_123, None),
            format!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.{UUID}.1754000000123.")
        );
    }

    #[test]
    fn v2_sign_emits_reference_header_set() {
        let h = sign_v2(&alice(), BODY, Some(BOB), 1_754_000_000_123, UUID);
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Epistula-Version",
                "Epistula-Timestamp",
                "Epistula-Uuid",
                "Epistula-Signed-By",
                "Epistula-Request-Signature",
                "Epistula-Signed-For"
            ]
        );
        assert!(h[4].1.starts_with("0x") && h[4].1.len() == 130);
        assert_eq!(sign_v2(&alice(), BODY, None, 1, UUID).len(), 5);
        assert_eq!(sign_v2(&alice(), BODY, Some(""), 1, UUID).len(), 5);
    }

    #[test]
    fn v2_honest_request_verifies_then_replay_fails() {
        let now = crate::now_ns();
        let h = v2(Some(BOB), now / 1_000_000);
        assert!(is_epistula_v2(&h) && !is_epistula_simple(&h));
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        assert_eq!(parsed.hotkey(), ALICE);
        assert_eq!(parsed.form(), "epistula-v2");
        parsed.check(BOB, &EpistulaConfig::default(), now).unwrap();
        let store = ReplayStore::default();
        parsed.verify_body(BODY, &store).unwrap();
        assert_eq!(parsed.verify_body(BODY, &store), Err(EpistulaError::Replayed));
        // a fresh uuid from the same signer at the same millisecond is a different request
        let again = to_map(&sign_v2(&alice(), BODY, Some(BOB), now / 1_000_000, &fresh_uuid()));
        EpistulaHeaders::parse(&again).unwrap().verify_body(BODY, &store).unwrap();
    }

    #[test]
    fn v2_unbound_request_accepted_unless_required() {
        let now = crate::now_ns();
        let parsed = EpistulaHeaders::parse(&v2(None, now / 1_000_000)).unwrap();
        parsed.check(BOB, &EpistulaConfig::default(), now).unwrap();
        parsed.verify_body(BODY, &ReplayStore::default()).unwrap();
        let strict = EpistulaConfig { v2_require_signed_for: true, ..Default::default() };
        assert!(matches!(parsed.check(BOB, &strict, now), Err(EpistulaError::WrongReceiver(_))));
        // an empty Signed-For header is the same as none
        let mut h = v2(None, now / 1_000_000);
        h.insert(header::SIGNED_FOR, "".parse().unwrap());
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        parsed.check(BOB, &EpistulaConfig::default(), now).unwrap();
        parsed.verify_body(BODY, &ReplayStore::default()).unwrap();
    }

    #[test]
    fn v2_wrong_receiver_is_refused() {
        let now = crate::now_ns();
        let parsed = EpistulaHeaders::parse(&v2(Some(BOB), now / 1_000_000)).unwrap();
        assert!(matches!(parsed.check(ALICE, &EpistulaConfig::default(), now), Err(EpistulaError::WrongReceiver(_))));
    }

    #[test]
    fn v2_receiver_is_signed() {
        let now = crate::now_ns();
        let store = ReplayStore::default();
        // dropping Signed-For to dodge the receiver check breaks the signature
        let mut h = v2(Some(BOB), now / 1_000_000);
        h.remove(header::SIGNED_FOR);
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        parsed.check(ALICE, &EpistulaConfig::default(), now).unwrap();
        assert_eq!(parsed.verify_body(BODY, &store), Err(EpistulaError::BadSignature));
        // so does rewriting it
        let mut h = v2(Some(BOB), now / 1_000_000);
        h.insert(header::SIGNED_FOR, ALICE.parse().unwrap());
        assert_eq!(EpistulaHeaders::parse(&h).unwrap().verify_body(BODY, &store), Err(EpistulaError::BadSignature));
    }

    #[test]
    fn v2_altered_body_or_fields_fail_without_poisoning_store() {
        let now = crate::now_ns();
        let h = v2(Some(BOB), now / 1_000_000);
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        let store = ReplayStore::default();
        assert_eq!(parsed.verify_body(b"{}", &store), Err(EpistulaError::BadSignature));
        let mut other_ts = h.clone();
        other_ts.insert(header::TIMESTAMP, (now / 1_000_000 + 1).to_string().parse().unwrap());
        assert_eq!(
            EpistulaHeaders::parse(&other_ts).unwrap().verify_body(BODY, &store),
            Err(EpistulaError::BadSignature)
        );
        let mut other_uuid = h.clone();
        other_uuid.insert(header::UUID, fresh_uuid().parse().unwrap());
        assert_eq!(
            EpistulaHeaders::parse(&other_uuid).unwrap().verify_body(BODY, &store),
            Err(EpistulaError::BadSignature)
        );
        let mut other_signer = h.clone();
        other_signer.insert(header::SIGNED_BY, BOB.parse().unwrap());
        assert_eq!(
            EpistulaHeaders::parse(&other_signer).unwrap().verify_body(BODY, &store),
            Err(EpistulaError::BadSignature)
        );
        // the failures did not record anything
        parsed.verify_body(BODY, &store).unwrap();
    }

    #[test]
    fn v2_freshness_window_both_ways() {
        let now = crate::now_ns();
        let now_ms = now / 1_000_000;
        let cfg = EpistulaConfig::default();
        let check = |ts: u64, cfg: &EpistulaConfig| EpistulaHeaders::parse(&v2(None, ts)).unwrap().check(BOB, cfg, now);
        check(now_ms - 8_000, &cfg).unwrap();
        assert!(matches!(check(now_ms - 8_001, &cfg), Err(EpistulaError::Stale(_))));
        check(now_ms + 8_000, &cfg).unwrap();
        assert!(matches!(check(now_ms + 8_001, &cfg), Err(EpistulaError::Stale(_))));
        let tight = EpistulaConfig { v2_window_ms: 5_000, v2_future_skew_ms: 2_000, ..Default::default() };
        assert!(matches!(check(now_ms - 6_000, &tight), Err(EpistulaError::Stale(_))));
        assert!(matches!(check(now_ms + 3_000, &tight), Err(EpistulaError::Stale(_))));
        check(now_ms + 1_000, &tight).unwrap();
        // a seconds or nanoseconds timestamp is wildly out of window, never reinterpreted
        assert!(matches!(check(now_ms / 1_000, &cfg), Err(EpistulaError::Stale(_))));
        assert!(matches!(check(now, &cfg), Err(EpistulaError::Stale(_))));
    }

    #[test]
    fn v2_unknown_signer_address_is_malformed() {
        let mut h = v2(None, now_ms());
        h.insert(header::SIGNED_BY, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX".parse().unwrap());
        assert!(malformed(&h));
        h.insert(header::SIGNED_BY, "alice".parse().unwrap());
        assert!(malformed(&h));
    }

    #[test]
    fn v2_signature_encoding_is_strict() {
        let h = v2(None, now_ms());
        let sig = get(&h, header::REQUEST_SIGNATURE).unwrap().to_owned();
        let with = |value: &str| {
            let mut h = h.clone();
            h.insert(header::REQUEST_SIGNATURE, value.parse().unwrap());
            EpistulaHeaders::parse(&h)
        };
        // bare hex: refused, as Keypair.verify and the Go verifier refuse it
        assert!(matches!(with(&sig[2..]), Err(EpistulaError::Malformed(_))));
        assert!(matches!(with(&format!("0x{}", "zz".repeat(64))), Err(EpistulaError::Malformed(_))));
        assert!(matches!(with(&sig[..sig.len() - 2]), Err(EpistulaError::Malformed(_))));
        assert!(matches!(with(&format!("{sig}00")), Err(EpistulaError::Malformed(_))));
        assert!(matches!(with("0x"), Err(EpistulaError::Malformed(_))));
        // uppercase hex digits are still hex
        with(&format!("0x{}", sig[2..].to_ascii_uppercase()))
            .unwrap()
            .verify_body(BODY, &ReplayStore::default())
            .unwrap();
        // error messages never echo the signature
        let err = with(&sig[2..]).unwrap_err().to_string();
        assert!(!err.contains(&sig[2..12]));
    }

    #[test]
    fn v2_missing_or_bad_headers_are_malformed() {
        let h = v2(Some(BOB), now_ms());
        for name in [header::VERSION, header::TIMESTAMP, header::UUID, header::SIGNED_BY, header::REQUEST_SIGNATURE] {
            let mut broken = h.clone();
            broken.remove(name);
            assert!(malformed(&broken), "without {name}");
            broken.insert(name, "".parse().unwrap());
            assert!(malformed(&broken), "with empty {name}");
        }
        let with = |name: &'static str, value: &str| {
            let mut broken = h.clone();
            broken.insert(name, value.parse().unwrap());
            malformed(&broken)
        };
        assert!(with(header::VERSION, "1"));
        assert!(with(header::VERSION, "3"));
        assert!(with(header::TIMESTAMP, "abc"));
        assert!(with(header::TIMESTAMP, "-1"));
        assert!(with(header::TIMESTAMP, "+1754000000123"));
        assert!(with(header::TIMESTAMP, "01754000000123"));
        assert!(with(header::TIMESTAMP, "1754000000123.0"));
        assert!(with(header::TIMESTAMP, "99999999999999999999999"));
        assert!(with(header::UUID, "not-a-uuid"));
        assert!(with(header::UUID, "a.b.c"));
        assert!(matches!(EpistulaHeaders::parse(&HeaderMap::new()), Err(EpistulaError::Malformed(_))));
    }

    #[test]
    fn v2_secret_signatures_are_ignored() {
        let now = crate::now_ns();
        let mut h = v2(Some(BOB), now / 1_000_000);
        for name in header::SECRET_SIGNATURES {
            h.insert(name, "0xnot-even-hex".parse().unwrap());
        }
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        parsed.check(BOB, &EpistulaConfig::default(), now).unwrap();
        parsed.verify_body(BODY, &ReplayStore::default()).unwrap();
    }

    #[test]
    fn v2_bytes_wrapped_signature_is_accepted() {
        // Keypair.verify (substrateinterface, bittensor_wallet) also accepts <Bytes>…</Bytes>.
        let ts = now_ms();
        let message = v2_message(BODY, UUID, ts, Some(BOB));
        let wrapped = format!("<Bytes>{message}</Bytes>");
        let mut h = to_map(&sign_v2(&alice(), BODY, Some(BOB), ts, UUID));
        h.insert(header::REQUEST_SIGNATURE, alice().sign_hex0x(wrapped.as_bytes()).parse().unwrap());
        EpistulaHeaders::parse(&h).unwrap().verify_body(BODY, &ReplayStore::default()).unwrap();
    }

    #[test]
    fn v2_replay_key_is_the_canonical_uuid() {
        let ts = now_ms();
        let upper = UUID.to_ascii_uppercase();
        let store = ReplayStore::default();
        let p = |u: &str| EpistulaHeaders::parse(&to_map(&sign_v2(&alice(), BODY, None, ts, u))).unwrap();
        p(UUID).verify_body(BODY, &store).unwrap();
        // a re-signed spelling of the same uuid is still the same request id
        assert_eq!(p(&upper).verify_body(BODY, &store), Err(EpistulaError::Replayed));
        // another signer's identical uuid is a different key
        EpistulaHeaders::parse(&to_map(&sign_v2(&bob(), BODY, None, ts, UUID)))
            .unwrap()
            .verify_body(BODY, &store)
            .unwrap();
    }

    #[test]
    fn v2_fixed_vector_verifies() {
        // Known answer for //Alice over a fixed v2 string, produced once with this module's
        // signer (sp-core sr25519, context "substrate"); no reference repository publishes one.
        let message = v2_message(BODY, UUID, 1_754_000_000_123, Some(BOB));
        let sig = hex::decode(V2_VECTOR_SIG).unwrap();
        let alice = PublicKey::from_ss58(ALICE).unwrap();
        assert!(alice.verify(message.as_bytes(), &sig));
        assert!(!alice.verify(v2_message(BODY, UUID, 1_754_000_000_123, None).as_bytes(), &sig));
        let mut h = HeaderMap::new();
        h.insert(header::VERSION, "2".parse().unwrap());
        h.insert(header::TIMESTAMP, "1754000000123".parse().unwrap());
        h.insert(header::UUID, UUID.parse().unwrap());
        h.insert(header::SIGNED_BY, ALICE.parse().unwrap());
        h.insert(header::SIGNED_FOR, BOB.parse().unwrap());
        h.insert(header::REQUEST_SIGNATURE, format!("0x{V2_VECTOR_SIG}").parse().unwrap());
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        parsed.verify_body(BODY, &ReplayStore::default()).unwrap();
        assert!(matches!(parsed.check(BOB, &EpistulaConfig::default(), crate::now_ns()), Err(EpistulaError::Stale(_))));
        let then = 1_754_000_000_123 * 1_000_000 + 500_000_000;
        parsed.check(BOB, &EpistulaConfig::default(), then).unwrap();
    }

    const V2_VECTOR_SIG: &str = "ee708ecaf11b41ee9c012a4c3fa1c7e80f0a8cce3aad5098dbc3f8971691ea66beb3a2104f43b395d2d50be226c5edf3c0b67e27558f45afadb255a145357588";

    // ---- simple form ----

    #[test]
    fn simple_message_is_timestamp_then_hash() {
        assert_eq!(
            simple_message(1_754_000_000_123_456_789, b""),
            "1754000000123456789.e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn simple_honest_request_verifies_then_replay_fails() {
        let now = crate::now_ns();
        let raw = sign_simple(&alice(), BODY, now);
        assert!(!raw[1].1.starts_with("0x") && raw[1].1.len() == 128);
        let h = to_map(&raw);
        assert!(is_epistula_simple(&h) && !is_epistula_v2(&h));
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        assert_eq!(parsed.hotkey(), ALICE);
        assert_eq!(parsed.form(), "epistula-simple");
        // the simple form has no receiver: any own hotkey passes
        parsed.check(BOB, &EpistulaConfig::default(), now).unwrap();
        let store = ReplayStore::default();
        parsed.verify_body(BODY, &store).unwrap();
        assert_eq!(parsed.verify_body(BODY, &store), Err(EpistulaError::Replayed));
    }

    #[test]
    fn simple_accepts_bare_and_0x_hex() {
        let now = crate::now_ns();
        let mut h = to_map(&sign_simple(&alice(), BODY, now));
        let bare = get(&h, header::SIMPLE_SIGNATURE).unwrap().to_owned();
        h.insert(header::SIMPLE_SIGNATURE, format!("0x{bare}").parse().unwrap());
        EpistulaHeaders::parse(&h).unwrap().verify_body(BODY, &ReplayStore::default()).unwrap();
    }

    #[test]
    fn simple_altered_body_or_timestamp_fail_without_poisoning_store() {
        let now = crate::now_ns();
        let h = to_map(&sign_simple(&alice(), BODY, now));
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        let store = ReplayStore::default();
        assert_eq!(parsed.verify_body(b"tampered", &store), Err(EpistulaError::BadSignature));
        let mut other = h.clone();
        other.insert(header::SIMPLE_TIMESTAMP, (now + 1).to_string().parse().unwrap());
        assert_eq!(EpistulaHeaders::parse(&other).unwrap().verify_body(BODY, &store), Err(EpistulaError::BadSignature));
        let mut other = h.clone();
        other.insert(header::SIMPLE_HOTKEY, BOB.parse().unwrap());
        assert_eq!(EpistulaHeaders::parse(&other).unwrap().verify_body(BODY, &store), Err(EpistulaError::BadSignature));
        parsed.verify_body(BODY, &store).unwrap();
    }

    #[test]
    fn simple_window_is_sixty_seconds_either_way() {
        let now = crate::now_ns();
        let cfg = EpistulaConfig::default();
        let check = |ts: u64| {
            EpistulaHeaders::parse(&to_map(&sign_simple(&alice(), BODY, ts))).unwrap().check(ALICE, &cfg, now)
        };
        check(now - 60_000_000_000).unwrap();
        check(now + 60_000_000_000).unwrap();
        assert!(matches!(check(now - 60_000_000_001), Err(EpistulaError::Stale(_))));
        assert!(matches!(check(now + 60_000_000_001), Err(EpistulaError::Stale(_))));
        // milliseconds are not nanoseconds
        assert!(matches!(check(now / 1_000_000), Err(EpistulaError::Stale(_))));
    }

    #[test]
    fn simple_missing_or_bad_headers_are_malformed() {
        let h = to_map(&sign_simple(&alice(), BODY, crate::now_ns()));
        for name in [header::SIMPLE_TIMESTAMP, header::SIMPLE_SIGNATURE, header::SIMPLE_HOTKEY] {
            let mut broken = h.clone();
            broken.remove(name);
            assert!(malformed(&broken), "without {name}");
        }
        let sig = get(&h, header::SIMPLE_SIGNATURE).unwrap().to_owned();
        let with = |name: &'static str, value: &str| {
            let mut broken = h.clone();
            broken.insert(name, value.parse().unwrap());
            malformed(&broken)
        };
        assert!(with(header::SIMPLE_HOTKEY, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX"));
        assert!(with(header::SIMPLE_SIGNATURE, "nothex"));
        assert!(with(header::SIMPLE_SIGNATURE, &sig[..126]));
        assert!(with(header::SIMPLE_SIGNATURE, &sig[..127]));
        assert!(with(header::SIMPLE_TIMESTAMP, "1.5e18"));
        assert!(with(header::SIMPLE_TIMESTAMP, "0123"));
    }

    #[test]
    fn simple_fixed_vector_verifies() {
        // Known answer for //Alice, produced once with this module's signer (see the v2 vector).
        let ts = 1_754_000_000_123_456_789u64;
        let mut h = HeaderMap::new();
        h.insert(header::SIMPLE_TIMESTAMP, ts.to_string().parse().unwrap());
        h.insert(header::SIMPLE_HOTKEY, ALICE.parse().unwrap());
        h.insert(header::SIMPLE_SIGNATURE, SIMPLE_VECTOR_SIG.parse().unwrap());
        let parsed = EpistulaHeaders::parse(&h).unwrap();
        parsed.verify_body(BODY, &ReplayStore::default()).unwrap();
        assert_eq!(parsed.verify_body(b"", &ReplayStore::default()), Err(EpistulaError::BadSignature));
    }

    const SIMPLE_VECTOR_SIG: &str = "5cf5cbaebe6ac749fe09c2037dce99768bd71bf2dd028a39af5807a2c3ac7706a361c6737847635e5299ea15d53a1f05defe3fc5f483560c052180a735901e89";

    // ---- both ----

    #[test]
    fn v2_wins_when_both_header_sets_are_present() {
        let now = crate::now_ns();
        let mut h = v2(None, now / 1_000_000);
        for (k, v) in sign_simple(&bob(), BODY, now) {
            h.insert(http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(), v.parse().unwrap());
        }
        assert!(is_epistula_v2(&h) && is_epistula_simple(&h));
        assert_eq!(EpistulaHeaders::parse(&h).unwrap().hotkey(), ALICE);
        // a request-signature without a version is claimed as v2 and refused, not misrouted
        let mut h = v2(None, now / 1_000_000);
        h.remove(header::VERSION);
        assert!(is_epistula_v2(&h));
        assert!(malformed(&h));
    }

    #[test]
    fn replay_keys_of_both_forms_share_a_store_without_colliding() {
        let now = crate::now_ns();
        let store = ReplayStore::default();
        // same hotkey, same numeric value (a ns simple timestamp equal to a v2 ms timestamp)
        let ts_ms = now / 1_000_000;
        let a = EpistulaHeaders::parse(&v2(None, ts_ms)).unwrap();
        let b = EpistulaHeaders::parse(&to_map(&sign_simple(&alice(), BODY, ts_ms))).unwrap();
        a.verify_body(BODY, &store).unwrap();
        b.verify_body(BODY, &store).unwrap();
        // and a btauth-style (hotkey, nonce) entry does not shadow either
        assert!(store.check_and_store(ALICE, now));
        let c = EpistulaHeaders::parse(&to_map(&sign_simple(&alice(), BODY, now))).unwrap();
        c.verify_body(BODY, &store).unwrap();
    }

    #[test]
    fn retention_covers_every_acceptance_span() {
        let cfg = EpistulaConfig::default();
        assert!(cfg.replay_retention_s() >= 120.0);
        let wide = EpistulaConfig { v2_window_ms: 200_000, v2_future_skew_ms: 100_000, ..Default::default() };
        assert!(wide.replay_retention_s() >= 300.0);
    }

    #[test]
    fn error_messages_are_fixed_texts() {
        assert_eq!(EpistulaError::BadSignature.to_string(), "signature does not verify against the claimed hotkey");
        assert_eq!(EpistulaError::Replayed.to_string(), "this request was already accepted from this hotkey");
    }
}
