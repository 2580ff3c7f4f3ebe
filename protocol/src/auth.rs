//! One verification interface for every signed-request scheme the miner accepts.
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
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Scheme::V10 => "v10",
            Scheme::BtAuth => "btauth",
        })
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "v10" => Ok(Scheme::V10),
            "btauth" | "btauth/1" => Ok(Scheme::BtAuth),
            other => Err(format!("unknown transport {other:?} (expected v10 or btauth)")),
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
    /// The request's own timeout in seconds (v10 `timeout` header; btauth/1 has none, so the
    /// R2 validator timeout is assumed).
    pub timeout: f64,
    parsed: Parsed,
}

#[derive(Debug, Clone)]
enum Parsed {
    V10(V10Headers),
    BtAuth(BtAuthHeaders),
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

/// The miner-side verifier: its own hotkey and the replay state of every scheme.
#[derive(Debug)]
pub struct Authenticator {
    own_hotkey: String,
    v10_nonces: NonceTracker,
    btauth_replays: ReplayStore,
    btauth: BtAuthConfig,
}

impl Authenticator {
    pub fn new(own_hotkey: impl Into<String>) -> Self {
        Self::with_btauth_config(own_hotkey, BtAuthConfig::default())
    }

    pub fn with_btauth_config(own_hotkey: impl Into<String>, btauth: BtAuthConfig) -> Self {
        let retention = (btauth.max_age_s + btauth.allowed_skew_s).max(60.0);
        Authenticator {
            own_hotkey: own_hotkey.into(),
            v10_nonces: NonceTracker::new(),
            btauth_replays: ReplayStore::new(retention),
            btauth,
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
                timeout: v10::DEFAULT_TIMEOUT_S,
                parsed: Parsed::BtAuth(parsed),
            });
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
            Parsed::BtAuth(h) => h.verify_body(method, path, body, &self.btauth_replays).map_err(btauth_refusal)?,
        }
        Ok(Caller { hotkey: claim.hotkey.clone().unwrap_or_default(), scheme: claim.scheme })
    }
}
