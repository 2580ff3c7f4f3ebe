//! # miid-scoring — the MIID reference validator's scoring, as pure functions
//!
//! The validator-sim tells a miner what mainnet pays only if it scores exactly like the
//! reference validator (spec `kav-scoring.md`, reference outputs in `shared/vectors`). Everything
//! here is a pure function of its inputs — no network, no clock, no global randomness — so
//! scoring can be replayed against the reference vectors, property-tested, and also run by the
//! miner on its own answers before it sends them.
//!
//! What is here now:
//! - [`normalise`]: response normalisation and UAV acceptance (spec 1.2), the step between a
//!   miner's raw `variations` and every scorer.
//!
//! Name similarity, rules, DOB and address grading, completeness, cheat detection, the rank
//! cap and the reputation stage build on that normalised form.

pub mod address;
pub mod cheat;
pub mod dob;
pub mod geonames;
pub mod kav;
pub mod name_quality;
pub mod normalise;
pub mod orthographic;
pub mod part_score;
pub mod phonetic;
pub mod rank;
pub mod reputation;
pub mod rng;
pub mod round;
pub mod rules;
pub mod translit;
pub mod vectors;

pub use normalise::{AcceptedUav, Normalised, normalise};
