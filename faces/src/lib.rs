//! # miid-faces — face-image utilities shared by the miner and the validator-sim
//!
//! - [`decode`]: bounded decoding (dimensions checked before pixels are decoded) and PNG encoding.
//! - [`phash`]: perceptual hashes for "same picture" checks.
//! - [`identity`]: the [`identity::FaceEmbedder`] trait, cosine similarity, the face crop, and a
//!   model-free structural descriptor.
//! - `mobilefacenet`, `iresnet` (feature `candle`): face-embedding networks in candle.
//!
//! It exists so the miner and the validator-sim share this code without depending on each other.

pub mod decode;
pub mod identity;
#[cfg(feature = "candle")]
pub mod iresnet;
#[cfg(feature = "candle")]
pub mod mobilefacenet;
pub mod phash;

pub use decode::{DecodeError, DecodeLimits};
pub use identity::{EmbedError, FaceEmbedder, StructuralEmbedder, similarity};
pub use phash::{Fingerprint, PerceptualHash};

/// Loads a face-embedding model from a path: a TFJS `model.json` (MobileFaceNet) or a
/// `.safetensors` file (IResNet-50 in `arcface_torch` naming; `iresnet_arch` overrides the depth).
#[cfg(feature = "candle")]
pub fn load_embedder(path: &std::path::Path, iresnet_arch: Option<&str>) -> Result<Box<dyn FaceEmbedder>, EmbedError> {
    let device = candle_core::Device::Cpu;
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Ok(Box::new(mobilefacenet::MobileFaceNetEmbedder::from_tfjs(path, device)?)),
        Some("safetensors") => {
            let arch = iresnet_arch.unwrap_or("iresnet50");
            let config = iresnet::IResNetConfig::by_name(arch)
                .ok_or_else(|| EmbedError::Model(format!("unknown IResNet architecture {arch:?}")))?;
            Ok(Box::new(iresnet::IResNetEmbedder::from_safetensors(path, &config, device)?))
        }
        _ => Err(EmbedError::Model(format!(
            "{}: expected a TFJS model.json (MobileFaceNet) or a .safetensors file (IResNet)",
            path.display()
        ))),
    }
}
