//! # miid-miner — a MIID miner that mainnet validators can query
//!
//! - [`axon`]: the HTTP server (axum) speaking Bittensor's v10 axon protocol and btauth/1 on
//!   `POST /IdentitySynapse`, with admission, stake priority, rate limits and body limits.
//! - [`forward`]: what the miner does with an admitted request (R1 names/DOB/addresses/UAV,
//!   R1/R2 images).
//! - [`engine`]: the text engine trait and the default engine (no model); [`query`] reads the
//!   template, [`names`], [`dob`], [`address`] and [`uav`] make the answers.
//! - [`images`]: the face-image task (editors, identity gate, timelock, upload).
//! - [`queue`]: the stake-ordered work gate.
//! - [`cli`]: the `miner` command line (Bittensor-style flags, wallet subcommands).
//! - [`doctor`]: `miner doctor`, the operator's pre-flight checklist.
//! - [`metrics`]: Prometheus metrics and what `/health` reports.
//! - [`node`]: starting on a live chain (subtensor connection with retries, metagraph sync,
//!   the published address, the unregistered-hotkey message).

pub mod address;
pub mod axon;
pub mod bench;
pub mod cli;
pub mod dob;
pub mod doctor;
pub mod engine;
pub mod forward;
pub mod images;
pub mod llm;
pub mod metrics;
pub mod names;
pub mod node;
pub mod nominatim;
pub mod query;
pub mod queue;
pub mod uav;
pub mod upload;

pub use axon::{Axon, AxonConfig};
pub use forward::{Forward, Forwarder};
