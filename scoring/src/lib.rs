//! # miid-scoring — the MIID reference validator's scoring, as pure functions
//!
//! The validator-sim tells a miner what mainnet pays only if it scores exactly like the
//! reference validator (spec `kav-scoring.md`, reference outputs in `shared/vectors`). Everything
//! here is a pure function of its inputs — no network, no clock, no global randomness — so
//! scoring can be replayed against the reference vectors, property-tested, and also run by the
//! miner on its own answers before it sends them.
//!
//! The pipeline, in the reference's order (spec section 2), one module per concept:
//! - [`normalise`](mod@normalise): response normalisation and UAV acceptance (1.2);
//! - [`rng`]: the reference's randomness — seed sources (`hash(s) % 10000`) and a
//!   Python-compatible MT19937 (Appendix A);
//! - [`phonetic`], [`orthographic`], [`translit`]: the name-similarity primitives (3);
//! - [`part_score`], [`name_quality`]: part scores and name quality, Latin and non-Latin (4, 5);
//! - [`rules`]: rule evaluators and rule compliance (5.3, 5.4);
//! - [`dob`]: DOB grading (6); [`address`] and [`geonames`]: address heuristics, region match,
//!   the `Geocoder` trait and grading (7);
//! - [`kav`]: completeness and the per-miner KAV reward (8);
//! - [`cheat`]: cross-miner cheat detection and penalties (9, 10);
//! - [`rank`]: the blended rank cap and the KAV-only burn (11, 12);
//! - [`reputation`]: the reputation stage, burn and weights (13);
//! - [`round`]: the whole round as one function; [`vectors`]: the checks against the reference
//!   vectors that the tests and `validator-sim vectors` run; [`synthetic`]: a generated round for
//!   benchmarks.
//!
//! Every quirk the spec marks "reproduce" is reproduced (each module's docs list its own). The
//! three it marks "deviate" are implemented as written:
//! - Q1: the per-process salted string hash is a [`rng::SeedSource`] — a keyed SipHash with a
//!   fresh key per validator start in production, the vectors' `hash_seeds` in tests;
//! - Q16: ties in the rank cap are broken by query order (a stable sort), not left to an
//!   unstable one;
//! - Q22: non-Latin names are transliterated deterministically with Python Unidecode 1.4.0's
//!   tables behind the [`translit::Transliterator`] interface, not by an LLM.

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
mod pyvalue;
pub mod rank;
pub mod reputation;
pub mod rng;
pub mod round;
pub mod rules;
pub mod synthetic;
pub mod translit;
pub mod vectors;

pub use normalise::{AcceptedUav, Normalised, normalise};
