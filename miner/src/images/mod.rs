//! The face-image task (spec `miner-protocol.md` 3.3–3.6): edit the seed portrait once per
//! requested variation, check the result, timelock it, upload it, report it.
//!
//! - [`edit`]: the [`ImageEditor`] trait and the parsed request entry ([`EditSpec`]: components,
//!   intensities, the reference prompt, a strength).
//! - [`classical`]: an editor without a generative model (tone curves, background blur/tint,
//!   small rotations, local warps). It is named "classical" in every log and report: its
//!   pictures are honest edits of the seed, not re-generated photographs.
//! - [`diffusion`]: Stable Diffusion img2img in candle (weights from a path).
//! - [`pipeline`]: request handling — bounded decoding, per-entry generation with cheap checks
//!   (decodable, not a byte or perceptual copy of the seed), the identity gate with a retry at
//!   lower strength, encryption to `target_drand_round`, upload, `S3Submission`s. One failing
//!   entry never sinks the others.

pub mod classical;
pub mod config;
pub mod diffusion;
pub mod edit;
pub mod pipeline;

pub use classical::ClassicalEditor;
pub use config::ImageArgs;
pub use diffusion::{DiffusionEditor, DiffusionSettings, TextEncoder};
pub use edit::{EditKind, EditSpec, ImageEditor, Intensity};
pub use pipeline::{EntryOutcome, ImagePipeline, PipelineConfig};
