//! A diffusion img2img editor on candle's Stable Diffusion (v1.5 layout): the seed is encoded by
//! the VAE, noised to the intensity's strength (light 0.35, medium 0.55, far 0.75 — spec 3.5),
//! denoised by the UNet with DDIM under the entry's prompt (classifier-free guidance against an
//! empty prompt), decoded, and resized back to the seed's size.
//!
//! SD 1.5 is not an instruction editor (no Kontext/FLUX.2 in candle 0.11): at low strength it
//! re-renders the photo close to the seed, at high strength it drifts toward the prompt, which
//! is why the pipeline's identity gate retries at lower strength. The diffusion noise is drawn
//! from the entry's seed; the VAE posterior sample uses candle's CPU RNG, which candle cannot
//! seed, so two runs differ slightly.
//!
//! Weights come from a directory in the Hugging Face `diffusers` layout
//! ([`DiffusionEditor::load_sd15`]); nothing is downloaded here.

use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_transformers::models::stable_diffusion::{
    self as sd, clip::ClipTextTransformer, schedulers::SchedulerConfig, unet_2d::UNet2DConditionModel,
    vae::AutoEncoderKL,
};
use image::RgbImage;
use image::imageops::FilterType;
use rand::{Rng, SeedableRng};

use super::edit::{EditError, EditSpec, ImageEditor, Intensity};

/// SD's latent scaling factor (v1.x VAE).
pub const LATENT_SCALE: f64 = 0.18215;

/// Prompt → `[1, tokens, dim]` embeddings for the UNet's cross-attention.
pub trait TextEncoder: Send + Sync {
    fn encode(&self, prompt: &str) -> candle_core::Result<Tensor>;
}

/// CLIP ViT-L/14 text encoder (SD 1.5's) with its `tokenizer.json`.
pub struct ClipTextEncoder {
    tokenizer: tokenizers::Tokenizer,
    model: ClipTextTransformer,
    max_len: usize,
    pad_id: u32,
    device: Device,
}

impl ClipTextEncoder {
    pub fn load(tokenizer_json: &Path, weights: &Path, device: &Device) -> anyhow::Result<Self> {
        let tokenizer = tokenizers::Tokenizer::from_file(tokenizer_json)
            .map_err(|e| anyhow::anyhow!("tokenizer {}: {e}", tokenizer_json.display()))?;
        let config = sd::clip::Config::v1_5();
        let pad_id = *tokenizer
            .get_vocab(true)
            .get("<|endoftext|>")
            .ok_or_else(|| anyhow::anyhow!("tokenizer {} has no <|endoftext|>", tokenizer_json.display()))?;
        let model = sd::build_clip_transformer(&config, weights, device, DType::F32)?;
        Ok(ClipTextEncoder {
            tokenizer,
            model,
            max_len: config.max_position_embeddings,
            pad_id,
            device: device.clone(),
        })
    }
}

impl TextEncoder for ClipTextEncoder {
    fn encode(&self, prompt: &str) -> candle_core::Result<Tensor> {
        let mut ids = self.tokenizer.encode(prompt, true).map_err(candle_core::Error::wrap)?.get_ids().to_vec();
        ids.truncate(self.max_len);
        ids.resize(self.max_len, self.pad_id);
        let ids = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
        self.model.forward(&ids)
    }
}

/// Sampling settings.
#[derive(Debug, Clone)]
pub struct DiffusionSettings {
    /// Longer side of the working resolution (a multiple of 8; 512 for SD 1.5).
    pub size: usize,
    /// DDIM steps for the full schedule (the reference's 20, `MIID_INFERENCE_STEPS`).
    pub steps: usize,
    /// Classifier-free guidance before the intensity multiplier; ≤ 1 disables it.
    pub guidance: f64,
}

impl Default for DiffusionSettings {
    fn default() -> Self {
        DiffusionSettings { size: 512, steps: 20, guidance: 7.5 }
    }
}

/// The editor.
pub struct DiffusionEditor {
    vae: AutoEncoderKL,
    unet: UNet2DConditionModel,
    text: Box<dyn TextEncoder>,
    scheduler: Arc<dyn SchedulerConfig>,
    settings: DiffusionSettings,
    device: Device,
}

impl DiffusionEditor {
    pub fn new(
        vae: AutoEncoderKL,
        unet: UNet2DConditionModel,
        text: Box<dyn TextEncoder>,
        scheduler: Arc<dyn SchedulerConfig>,
        settings: DiffusionSettings,
        device: Device,
    ) -> Self {
        DiffusionEditor { vae, unet, text, scheduler, settings, device }
    }

    /// SD 1.5 from a `diffusers` directory: `vae/`, `unet/` (`diffusion_pytorch_model.safetensors`),
    /// `text_encoder/model.safetensors`, `tokenizer/tokenizer.json`.
    pub fn load_sd15(dir: &Path, settings: DiffusionSettings, device: Device) -> anyhow::Result<Self> {
        let file = |sub: &str, name: &str| -> anyhow::Result<std::path::PathBuf> {
            let p = dir.join(sub).join(name);
            anyhow::ensure!(
                p.is_file(),
                "missing {} (expected a diffusers SD 1.5 layout under {})",
                p.display(),
                dir.display()
            );
            Ok(p)
        };
        let config = sd::StableDiffusionConfig::v1_5(None, Some(settings.size), Some(settings.size));
        let vae = config.build_vae(file("vae", "diffusion_pytorch_model.safetensors")?, &device, DType::F32)?;
        let unet =
            config.build_unet(file("unet", "diffusion_pytorch_model.safetensors")?, &device, 4, false, DType::F32)?;
        let text = ClipTextEncoder::load(
            &file("tokenizer", "tokenizer.json")?,
            &file("text_encoder", "model.safetensors")?,
            &device,
        )?;
        let scheduler: Arc<dyn SchedulerConfig> = Arc::new(sd::ddim::DDIMSchedulerConfig {
            prediction_type: sd::schedulers::PredictionType::Epsilon,
            ..Default::default()
        });
        Ok(DiffusionEditor::new(vae, unet, Box::new(text), scheduler, settings, device))
    }

    fn run(&self, seed: &RgbImage, spec: &EditSpec) -> candle_core::Result<RgbImage> {
        let (w0, h0) = seed.dimensions();
        let scale = self.settings.size as f32 / w0.max(h0) as f32;
        let round8 = |v: f32| ((v / 8.0).round().max(1.0) as u32) * 8;
        let (w, h) = (round8(w0 as f32 * scale), round8(h0 as f32 * scale));
        let small = image::imageops::resize(seed, w, h, FilterType::Triangle);
        let pixels: Vec<f32> = small.pixels().flat_map(|p| p.0).map(|c| f32::from(c) / 127.5 - 1.0).collect();
        let x =
            Tensor::from_vec(pixels, (h as usize, w as usize, 3), &self.device)?.permute((2, 0, 1))?.unsqueeze(0)?;

        let intensity = spec.max_intensity();
        let strength = f64::from((intensity.strength() * spec.strength_scale).clamp(0.01, 1.0));
        let guidance = self.settings.guidance
            * match intensity {
                Intensity::Light => 0.92,
                Intensity::Medium => 1.0,
                Intensity::Far => 1.12,
            };
        let cfg = guidance > 1.0;

        let cond = self.text.encode(&spec.prompt)?;
        let context = if cfg { Tensor::cat(&[&self.text.encode("")?, &cond], 0)? } else { cond };

        let mut scheduler = self.scheduler.build(self.settings.steps)?;
        let timesteps = scheduler.timesteps().to_vec();
        let n = timesteps.len();
        let t_start = (n - ((n as f64 * strength) as usize).clamp(1, n)).min(n - 1);
        let latents = (self.vae.encode(&x)?.sample()? * LATENT_SCALE)?;
        let noise = seeded_normal(latents.dims(), spec.seed, &self.device)?;
        let mut latents = scheduler.add_noise(&latents, noise, timesteps[t_start])?;
        for &t in &timesteps[t_start..] {
            let input = if cfg { Tensor::cat(&[&latents, &latents], 0)? } else { latents.clone() };
            let input = scheduler.scale_model_input(input, t)?;
            let pred = self.unet.forward(&input, t as f64, &context)?;
            let pred = if cfg {
                let (uncond, text) = (pred.i(0..1)?, pred.i(1..2)?);
                (&uncond + ((text - &uncond)? * guidance)?)?
            } else {
                pred
            };
            latents = scheduler.step(&pred, t, &latents)?;
        }
        let img = self.vae.decode(&(latents / LATENT_SCALE)?)?;
        let img = ((img / 2.0)? + 0.5)?.clamp(0f32, 1f32)?;
        let img = (img * 255.0)?.round()?.to_dtype(DType::U8)?.squeeze(0)?.permute((1, 2, 0))?;
        let (ih, iw, _) = img.dims3()?;
        let data = img.flatten_all()?.to_vec1::<u8>()?;
        let out = RgbImage::from_raw(iw as u32, ih as u32, data)
            .ok_or_else(|| candle_core::Error::Msg("decoded image has an unexpected size".into()))?;
        Ok(image::imageops::resize(&out, w0, h0, FilterType::CatmullRom))
    }
}

/// Standard normal noise from a seeded generator (Box–Muller), so an entry's noise is
/// reproducible (candle's CPU RNG cannot be seeded).
fn seeded_normal(dims: &[usize], seed: u64, device: &Device) -> candle_core::Result<Tensor> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n: usize = dims.iter().product();
    let mut v = Vec::with_capacity(n + 1);
    while v.len() < n {
        let u1: f32 = rng.random_range(f32::EPSILON..1.0);
        let u2: f32 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let th = std::f32::consts::TAU * u2;
        v.push(r * th.cos());
        v.push(r * th.sin());
    }
    v.truncate(n);
    Tensor::from_vec(v, dims, device)
}

impl ImageEditor for DiffusionEditor {
    fn name(&self) -> &str {
        "diffusion-sd15-img2img"
    }

    fn edit(&self, seed: &RgbImage, spec: &EditSpec) -> Result<RgbImage, EditError> {
        if seed.width() < 8 || seed.height() < 8 {
            return Err(EditError::Failed(format!("seed image too small ({}x{})", seed.width(), seed.height())));
        }
        self.run(seed, spec).map_err(|e| EditError::Failed(format!("diffusion: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_noise_is_reproducible_and_standard() {
        let a =
            seeded_normal(&[1, 4, 16, 16], 7, &Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b =
            seeded_normal(&[1, 4, 16, 16], 7, &Device::Cpu).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(a, b);
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.15 && (var - 1.0).abs() < 0.2, "{mean} {var}");
    }
}
