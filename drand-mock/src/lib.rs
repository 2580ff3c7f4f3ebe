//! A local drand beacon of quicknet's scheme, `bls-unchained-g1-rfc9380`.
//!
//! The MIID protocol timelocks images to a future drand round: a miner encrypts to the beacon's
//! public key, a validator (or the grading service) decrypts once the round's signature is out.
//! Testing that loop against mainnet drand means waiting real minutes for real rounds and trusting
//! a public service from CI, so this crate stands in for the *service* while keeping the
//! *cryptography* real: a fresh BLS12-381 key, genuine unchained G1 signatures that verify exactly
//! as quicknet's do, and drand's HTTP API v1 byte for byte where clients look. Any ciphertext
//! encrypted to this beacon's public key opens with its round signature, with the same libraries
//! that open quicknet ciphertexts.
//!
//! What the crate owns:
//!
//! - [`BeaconKey`]: the secret scalar, the G2 public key, signing round `r` over
//!   `sha256(r as u64 big-endian)`, and [`verify_beacon`] (blst, the same check drand clients make);
//! - [`ChainInfo`]: chain info and drand's chain hash, computed as `drand/drand`'s
//!   `common/chain/info.go` computes it (tested against quicknet's published hash);
//! - [`Clock`]: real time by default, or a [`ManualClock`] that tests fast-forward, so a
//!   40-minute reveal delay takes no wall time in a scenario;
//! - [`server`]: drand's HTTP API v1 (`/info`, `/public/latest`, `/public/{round}`, also under
//!   `/{chain-hash}/`), with drand's status codes for future, malformed and unknown requests.
//!
//! Round arithmetic is `miid_protocol::drand::Schedule`'s, so the beacon and every caller agree on
//! which round is current at a given second.

mod chain;
mod clock;
mod key;
pub mod server;

pub use chain::{ChainInfo, DEFAULT_BEACON_ID, InfoJson, InfoMetadata, SCHEME_ID, default_group_hash};
pub use clock::{Clock, ManualClock};
pub use key::{Beacon, BeaconKey, DST, KeyError, VerifyError, message_for_round, randomness_of, verify_beacon};
pub use server::{DrandMock, MockConfig, MockError, RunningMock};

pub use miid_protocol::drand::Schedule;
