//! # miid-protocol — what travels between MIID validators and miners
//!
//! This crate owns every byte-level contract of the harness, so that the miner and the
//! validator-sim cannot drift apart from each other or from mainnet:
//!
//! - [`synapse`]: the `IdentitySynapse` family as JSON, for both request generations
//!   (R1, 2026-03: names/DOB/addresses/UAV plus images; R2, 2026-08: five image variations),
//!   with typed views over order-preserving JSON maps (miner key order is scoring data).
//! - [`keys`] and [`wallet`]: sr25519 hotkeys (sp-core, SS58 prefix 42) and the hotkey files
//!   the Python `bittensor-wallet` package writes.
//! - [`v10`]: the Bittensor v10 axon/dendrite scheme (`bt_header_*` headers, the signed
//!   message, nonce rules) — what mainnet validators speak today.
//! - [`btauth`]: the bittensor v11 `btauth/1` scheme (`X-Bittensor-*` headers), which also
//!   signs the body.
//! - [`auth`]: the scheme-independent verification interface both schemes sit behind.
//! - [`status`]: the status codes and messages a Python axon answers with.
//! - [`drand`]: quicknet round arithmetic (round at a time, time of a round).
//! - [`pyfmt`]: Python's `str(float)` and `json.dumps` formatting where the wire needs it.
//!
//! Nothing here does I/O beyond reading and writing wallet files.

pub mod auth;
pub mod body_hash;
pub mod btauth;
pub mod drand;
pub mod epistula;
pub mod keys;
pub mod pyfmt;
pub mod s3;
pub mod status;
pub mod synapse;
pub mod v10;
pub mod wallet;

pub use auth::{AuthError, Authenticator, Caller, Scheme};
pub use keys::{Hotkey, PublicKey};
pub use status::AxonError;
pub use synapse::{Generation, IdentitySynapse};

/// The route every MIID validator posts to: the synapse class name.
pub const IDENTITY_SYNAPSE_ROUTE: &str = "/IdentitySynapse";
/// The synapse class name, as it appears in the `name` header and body field.
pub const IDENTITY_SYNAPSE_NAME: &str = "IdentitySynapse";

/// Current wall clock in nanoseconds since the Unix epoch (the nonce unit of both schemes).
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}
