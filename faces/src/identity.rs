//! Identity similarity: face embeddings compared by cosine similarity (spec 3.6).
//!
//! The reference uses AdaFace IR-50 on an MTCNN-aligned 112 × 112 crop. This crate has no face
//! detector yet, so [`face_crop`] takes a fixed square around where a passport-style portrait
//! (MIID's seed images: head and shoulders, face centred) puts the face. It is only an
//! approximation of an aligned crop; embeddings from it are comparable between a seed and its
//! variations (same framing), which is what the identity gate needs.

use image::RgbImage;
use image::imageops::{FilterType, crop_imm, resize};

/// The reference miner's R1 pass threshold (spec 3.6); the brief's miner-side default.
pub const MINER_THRESHOLD: f32 = 0.7;
/// Below this the subnet rejects a variation (R2 miner gate, post-validation score hint 0).
pub const REJECT_THRESHOLD: f32 = 0.4;

/// Side of the network input (ArcFace/AdaFace/MobileFaceNet all take 112 × 112).
pub const FACE_SIZE: u32 = 112;

/// Why an embedding could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("image too small for a face crop: {width}x{height}")]
    TooSmall { width: u32, height: u32 },
    #[error("face model: {0}")]
    Model(String),
}

/// A face-embedding model: an image in, an L2-normalised vector out.
pub trait FaceEmbedder: Send + Sync {
    /// A short name for logs and reports (e.g. `mobilefacenet`).
    fn name(&self) -> &str;
    /// The embedding of the (single, centred) face in `img`, L2-normalised.
    fn embed(&self, img: &RgbImage) -> Result<Vec<f32>, EmbedError>;
}

/// Cosine similarity of two embeddings, clamped below at 0 as the reference does (spec 3.6).
/// Mismatched lengths or a zero vector give 0.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        dot += f64::from(*x) * f64::from(*y);
        na += f64::from(*x) * f64::from(*x);
        nb += f64::from(*y) * f64::from(*y);
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    ((dot / (na.sqrt() * nb.sqrt())) as f32).max(0.0)
}

/// The identity similarity of two images under `model`.
pub fn identity_similarity(model: &dyn FaceEmbedder, a: &RgbImage, b: &RgbImage) -> Result<f32, EmbedError> {
    Ok(similarity(&model.embed(a)?, &model.embed(b)?))
}

/// The square the face of a centred portrait occupies: centre (0.5 w, 0.47 h), side 0.5 ×
/// the shorter side — forehead to chin, ear to ear on MIID's 1024² seeds.
pub fn face_box(width: u32, height: u32) -> (u32, u32, u32) {
    let side = ((width.min(height) as f32) * 0.5).round().max(1.0) as u32;
    let cx = width as f32 * 0.5;
    let cy = height as f32 * 0.47;
    let x = (cx - side as f32 / 2.0).clamp(0.0, (width - side) as f32) as u32;
    let y = (cy - side as f32 / 2.0).clamp(0.0, (height - side) as f32) as u32;
    (x, y, side)
}

/// [`face_box`] cut out and resized to `size` × `size`.
pub fn face_crop(img: &RgbImage, size: u32) -> Result<RgbImage, EmbedError> {
    let (w, h) = img.dimensions();
    if w < 16 || h < 16 {
        return Err(EmbedError::TooSmall { width: w, height: h });
    }
    let (x, y, side) = face_box(w, h);
    Ok(resize(&crop_imm(img, x, y, side, side).to_image(), size, size, FilterType::Triangle))
}

/// A model-free structural descriptor of the face region: the grey face crop shrunk to 16 ×
/// 16, standardised to zero mean and unit variance.
///
/// It is **not** face recognition — two different people with similar framing can score high.
/// It is insensitive to exactly what a lighting or background edit should not change (global
/// brightness/contrast, colour casts, pixels outside the face box) and sensitive to the picture
/// being replaced, so it serves tests of the editors and a last-resort sanity gate when no
/// embedding network is configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct StructuralEmbedder;

impl FaceEmbedder for StructuralEmbedder {
    fn name(&self) -> &str {
        "structural-16x16"
    }

    fn embed(&self, img: &RgbImage) -> Result<Vec<f32>, EmbedError> {
        let face = face_crop(img, 64)?;
        let grey = image::imageops::grayscale(&face);
        let small = resize(&grey, 16, 16, FilterType::Triangle);
        let v: Vec<f32> = small.pixels().map(|p| f32::from(p.0[0])).collect();
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32;
        let sd = var.sqrt().max(1e-3);
        let mut out: Vec<f32> = v.iter().map(|x| (x - mean) / sd).collect();
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        out.iter_mut().for_each(|x| *x /= norm);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn similarity_basics() {
        assert!((similarity(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(similarity(&[1.0, 0.0], &[-1.0, 0.0]), 0.0, "clamped at 0");
        assert!((similarity(&[1.0, 1.0], &[1.0, 0.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(similarity(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(similarity(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
    }

    #[test]
    fn face_box_is_inside_and_centred() {
        assert_eq!(face_box(1024, 1024), (256, 225, 512));
        let (x, y, s) = face_box(100, 300);
        assert!(x + s <= 100 && y + s <= 300);
        assert!(face_crop(&RgbImage::new(8, 8), 112).is_err());
    }

    #[test]
    fn structural_embedder_ignores_brightness_but_not_content() {
        let face = RgbImage::from_fn(96, 96, |x, y| {
            let d = ((x as i32 - 48).pow(2) + (y as i32 - 45).pow(2)) as f32;
            let v = 200.0 - d.sqrt() * 3.0 + ((x * 7 + y * 3) % 11) as f32;
            Rgb([v.clamp(0.0, 255.0) as u8, (v * 0.8).clamp(0.0, 255.0) as u8, 90])
        });
        let darker = RgbImage::from_fn(96, 96, |x, y| {
            let p = face.get_pixel(x, y).0;
            Rgb(p.map(|c| (f32::from(c) * 0.7) as u8))
        });
        let other = RgbImage::from_fn(96, 96, |x, y| Rgb([((x * 13 + y * 29) % 256) as u8, 40, 40]));
        let m = StructuralEmbedder;
        assert!(identity_similarity(&m, &face, &darker).unwrap() > 0.98);
        assert!(identity_similarity(&m, &face, &other).unwrap() < 0.5);
    }
}
