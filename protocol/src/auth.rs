//! One verification interface for every signed-request scheme the miner accepts: Bittensor
//! v10 axon headers, bittensor 11's btauth/1, and Epistula (v2 and the simple form). The
//! scheme is picked from the headers present; a request carrying none is refused with 401 and a
//! message naming the accepted schemes.
//!
//! A request passes through three steps, and the axon runs its admission (blacklist), priority
//! and rate limits between them, whatever the scheme:
//!
//! 1. [`Authenticator::inspect`] — headers only: which scheme, which hotkey *claims* to call,
//!    the request's timeout. Garbage headers are refused here (400, or 401 for a btauth/1
//!    shape error).
//! 2. [`Authenticator::verify_headers`] — everything decidable without the body. For v10 that
//!    is the whole signature check (the v10 signature covers no content), so a forged v10
//!    request is refused before its (possibly large) body is read.
//! 3. [`Authenticator::verify_body`] — with the raw body bytes: btauth/1's signature over the
//!    body and its replay store; v10's `computed_body_hash` header compared with the constant
//!    (a mismatch is bittensor's 500).

use http::HeaderMap;

use crate::body_hash::IDENTITY_SYNAPSE_BODY_HASH;
use crate::btauth::{self, BtAuthConfig, BtAuthError, BtAuthHeaders, ReplayStore};
use crate::epistula::{self, EpistulaConfig, EpistulaError, EpistulaHeaders};
use crate::status::AxonError;
use crate::v10::{self, NonceTracker, V10Headers};

/// The signed-request scheme of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Bittensor v10 axon headers (mainnet validators today).
    V10,
    /// Bittensor v11 `btauth/1`.
    #[serde(rename = "btauth")]
    BtAuth,
    /// Epistula v2 (`Epistula-*` headers).
    Epistula,
    /// Epistula's simple form (`X-Epistula-*` headers).
    #[serde(rename = "epistula-simple")]
    EpistulaSimple,
}

/// What a request without any signed-request headers is told.
pub const ACCEPTED_SCHEMES: &str = "no signed-request headers; accepted schemes: Bittensor v10 (bt_header_dendrite_*), \
btauth/1 (X-Bittensor-*), Epistula v2 (Epistula-*), Epistula simple form (X-Epistula-*)";

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheme::V10 => "v10",
            Scheme::BtAuth => "btauth",
            Scheme::Epistula => "epistula",
            Scheme::EpistulaSimple => "epistula-simple",
        })
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "v10" => Ok(Scheme::V10),
            "btauth" | "btauth/1" => Ok(Scheme::BtAuth),
            "epistula" | "epistula-v2" => Ok(Scheme::Epistula),
            "epistula-simple" => Ok(Scheme::EpistulaSimple),
            other => Err(format!("unknown transport {other:?} (expected v10, btauth, epistula or epistula-simple)")),
        }
    }
}

/// What the headers say before anything is verified.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scheme: Scheme,
    /// The hotkey claiming to call; `None` when the headers carry none (blacklisted as
    /// `Missing dendrite or hotkey`).
    pub hotkey: Option<String>,
    /// The request's own timeout in seconds (the `timeout` header, which our validator-sim
    /// sends under every scheme; the R2 validator timeout when absent).
    pub timeout: f64,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    V10(V10Headers),
    BtAuth(BtAuthHeaders),
    Epistula(EpistulaHeaders),
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub hotkey: String,
    pub scheme: Scheme,
}

/// A refusal, already in the status/message form the axon answers with.
pub type AuthError = AxonError;

fn btauth_refusal(e: BtAuthError) -> AxonError {
    AxonError::not_verified(e)
}

fn epistula_refusal(e: EpistulaError) -> AxonError {
    AxonError::not_verified(e)
}

/// The `timeout` header as a number of seconds, if present and sane.
fn timeout_header(headers: &HeaderMap) -> f64 {
    headers
        .get(crate::v10::header::TIMEOUT)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t > 0.0)
        .unwrap_or(v10::DEFAULT_TIMEOUT_S)
}

/// Whether a request carries any v10 caller header.
fn is_v10(headers: &HeaderMap) -> bool {
    use crate::v10::header as h;
    [h::DENDRITE_HOTKEY, h::DENDRITE_NONCE, h::DENDRITE_SIGNATURE, h::DENDRITE_UUID, h::DENDRITE_VERSION]
        .iter()
        .any(|name| headers.contains_key(*name))
}

/// The miner-side verifier: its own hotkey and the replay state of every scheme.
#[derive(Debug)]
pub struct Authenticator {
    own_hotkey: String,
    v10_nonces: NonceTracker,
    /// btauth/1 and Epistula replays (their keys are namespaced apart).
    replays: ReplayStore,
    btauth: BtAuthConfig,
    epistula: EpistulaConfig,
}

impl Authenticator {
    pub fn new(own_hotkey: impl Into<String>) -> Self {
        Self::with_config(own_hotkey, BtAuthConfig::default(), EpistulaConfig::default())
    }

    pub fn with_btauth_config(own_hotkey: impl Into<String>, btauth: BtAuthConfig) -> Self {
        Self::with_config(own_hotkey, btauth, EpistulaConfig::default())
    }

    pub fn with_config(own_hotkey: impl Into<String>, btauth: BtAuthConfig, epistula: EpistulaConfig) -> Self {
        let retention = (btauth.max_age_s + btauth.allowed_skew_s).max(60.0).max(epistula.replay_retention_s());
        Authenticator {
            own_hotkey: own_hotkey.into(),
            v10_nonces: NonceTracker::new(),
            replays: ReplayStore::new(retention),
            btauth,
            epistula,
        }
    }

    pub fn own_hotkey(&self) -> &str {
        &self.own_hotkey
    }

    /// Step 1: the scheme and the claimed caller, from headers only.
    pub fn inspect(&self, headers: &HeaderMap) -> Result<Claim, AuthError> {
        if btauth::is_btauth(headers) {
            let parsed = BtAuthHeaders::parse(headers).map_err(btauth_refusal)?;
            return Ok(Claim {
                scheme: Scheme::BtAuth,
                hotkey: Some(parsed.hotkey.clone()),
                timeout: timeout_header(headers),
                parsed: Parsed::BtAuth(parsed),
            });
        }
        if epistula::is_epistula_v2(headers) || epistula::is_epistula_simple(headers) {
            let parsed = EpistulaHeaders::parse(headers).map_err(epistula_refusal)?;
            return Ok(Claim {
                scheme: match parsed {
                    EpistulaHeaders::V2 { .. } => Scheme::Epistula,
                    EpistulaHeaders::Simple { .. } => Scheme::EpistulaSimple,
                },
                hotkey: Some(parsed.hotkey().to_owned()),
                timeout: timeout_header(headers),
                parsed: Parsed::Epistula(parsed),
            });
        }
        if !is_v10(headers) {
            return Err(AxonError::not_verified(ACCEPTED_SCHEMES));
        }
        let parsed = V10Headers::parse(headers)?;
        Ok(Claim {
            scheme: Scheme::V10,
            hotkey: parsed.dendrite_hotkey.clone().filter(|h| !h.is_empty()),
            timeout: parsed.timeout,
            parsed: Parsed::V10(parsed),
        })
    }

    /// Step 2: what can be verified before reading the body.
    pub fn verify_headers(&self, claim: &Claim, now_ns: u64) -> Result<(), AuthError> {
        match &claim.parsed {
            Parsed::V10(h) => {
                v10::verify(h, &self.own_hotkey, &self.v10_nonces, now_ns).map_err(AxonError::not_verified)?;
                // Keep the map bounded: endpoints silent for longer than the largest window
                // fall back to the (stricter) freshness rule.
                if self.v10_nonces.len() > 10_000 {
                    self.v10_nonces.prune(now_ns, v10::NONCE_WINDOW_BASE_NS + 3_600_000_000_000);
                }
                Ok(())
            }
            Parsed::BtAuth(h) => h.check(&self.own_hotkey, &self.btauth, now_ns).map_err(btauth_refusal),
            Parsed::Epistula(h) => h.check(&self.own_hotkey, &self.epistula, now_ns).map_err(epistula_refusal),
        }
    }

    /// Step 3: what needs the raw body.
    pub fn verify_body(&self, claim: &Claim, method: &str, path: &str, body: &[u8]) -> Result<Caller, AuthError> {
        match &claim.parsed {
            Parsed::V10(h) => {
                // The reference recomputes the (constant) hash and answers 500 on a mismatch.
                if h.computed_body_hash.as_deref().unwrap_or("") != IDENTITY_SYNAPSE_BODY_HASH {
                    return Err(AxonError::internal());
                }
            }
            Parsed::BtAuth(h) => h.verify_body(method, path, body, &self.replays).map_err(btauth_refusal)?,
            Parsed::Epistula(h) => h.verify_body(body, &self.replays).map_err(epistula_refusal)?,
        }
        Ok(Caller { hotkey: claim.hotkey.clone().unwrap_or_default(), scheme: claim.scheme })
    }
}
