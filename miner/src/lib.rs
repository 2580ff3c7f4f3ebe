//! # miid-miner — a MIID miner that mainnet validators can query
//!
//! - [`axon`]: the HTTP server (axum) speaking Bittensor's v10 axon protocol and btauth/1 on
//!   `POST /IdentitySynapse`, with admission, stake priority, rate limits and body limits.
//! - [`forward`]: what the miner does with an admitted request (R1 names/DOB/addresses/UAV,
//!   R1/R2 images).
//! - [`images`]: the face-image task (editors, identity gate, timelock, upload).
//! - [`engine`]: the default text engine (rule-based, no model).
//! - [`queue`]: the stake-ordered work gate.
//! - [`cli`]: the `miner` command line (Bittensor-style flags, wallet subcommands).

pub mod axon;
pub mod cli;
pub mod engine;
pub mod forward;
pub mod images;
pub mod queue;
pub mod upload;

pub use axon::{Axon, AxonConfig};
pub use forward::{Forward, Forwarder};
