//! The "classical" editor: deterministic image processing, no generative model.
//!
//! Each component maps to an edit whose size follows the reference img2img strength of its
//! intensity (light 0.35, medium 0.55, far 0.75) times the retry scale:
//!
//! - lighting: a brightness gain (darker or brighter, chosen by seed), a left–right light
//!   ramp, and for `far` a warm or cool colour cast;
//! - background: outside a feathered ellipse around the face, a blur and a tint toward a seeded
//!   colour;
//! - pose: a rotation (12–19.5°) and shift about the centre;
//! - expression: a smooth local warp lifting the mouth corners (a smile) and narrowing the eyes.
//!
//! These are real, visible changes that keep the face's identity, but they are not the
//! re-posed, re-lit photographs a diffusion model produces; graders may score them lower.

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};

use super::edit::{EditError, EditKind, EditSpec, ImageEditor};
use miid_faces::identity::face_box;

#[derive(Debug, Clone, Copy, Default)]
pub struct ClassicalEditor;

impl ImageEditor for ClassicalEditor {
    fn name(&self) -> &str {
        "classical"
    }

    fn edit(&self, seed: &RgbImage, spec: &EditSpec) -> Result<RgbImage, EditError> {
        if seed.width() < 16 || seed.height() < 16 {
            return Err(EditError::Failed(format!("seed image too small ({}x{})", seed.width(), seed.height())));
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
        let mut img = seed.clone();
        for &(kind, intensity) in &spec.components {
            let a = (intensity.strength() * spec.strength_scale).clamp(0.0, 1.0);
            img = match kind {
                EditKind::Lighting => lighting(&img, a, intensity == super::Intensity::Far, &mut rng),
                EditKind::Background => background(&img, a, &mut rng),
                EditKind::Pose => pose(&img, a, &mut rng),
                EditKind::Expression => expression(&img, a * rng.random_range(0.85..1.15)),
            };
        }
        Ok(img)
    }
}

fn clamp8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Gain `1 ± a/2`, a horizontal ramp of ±0.3·a, and optionally a colour cast of ±0.15·a.
pub fn lighting(img: &RgbImage, a: f32, cast: bool, rng: &mut impl Rng) -> RgbImage {
    // Continuous draws, not only coin flips: miners editing the same seed must not collide on
    // identical images (the validator's cross-miner duplicate check).
    let brighter = rng.random_bool(0.3);
    let a_gain = a * rng.random_range(0.85..1.15);
    let gain = if brighter { 1.0 + 0.5 * a_gain } else { 1.0 - 0.5 * a_gain };
    let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 } * rng.random_range(0.7..1.0);
    let warm = rng.random_bool(0.5);
    let w = img.width() as f32;
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let ramp = 1.0 + side * 0.6 * a * (x as f32 / w - 0.5);
        let p = img.get_pixel(x, y).0;
        let mut c = [0f32; 3];
        for i in 0..3 {
            c[i] = f32::from(p[i]) * gain * ramp;
        }
        if cast {
            let k = 0.15 * a;
            let (r, b) = if warm { (1.0 + k, 1.0 - k) } else { (1.0 - k, 1.0 + k) };
            c[0] *= r;
            c[2] *= b;
        }
        Rgb([clamp8(c[0]), clamp8(c[1]), clamp8(c[2])])
    })
}

/// Weight of the subject at (x, y): 1 inside the face ellipse, fading to 0 outside it.
fn subject_mask(w: u32, h: u32, x: u32, y: u32) -> f32 {
    let (bx, by, side) = face_box(w, h);
    let (cx, cy) = (bx as f32 + side as f32 / 2.0, by as f32 + side as f32 / 2.0);
    let (rx, ry) = (side as f32 * 0.55, side as f32 * 0.7);
    let d = (((x as f32 - cx) / rx).powi(2) + ((y as f32 - cy) / ry).powi(2)).sqrt();
    (1.0 - (d - 1.0) / 0.25).clamp(0.0, 1.0)
}

/// Blur (σ = 1 % + 2 %·a of the width) and tint (25 % + 40 %·a toward a seeded colour) outside
/// the face ellipse.
pub fn background(img: &RgbImage, a: f32, rng: &mut impl Rng) -> RgbImage {
    let (w, h) = img.dimensions();
    let sigma = (w as f32 * (0.01 + 0.02 * a)).max(1.0);
    let blurred = image::imageops::fast_blur(img, sigma);
    let tint = [rng.random_range(40..220) as f32, rng.random_range(40..220) as f32, rng.random_range(40..220) as f32];
    let t = 0.25 + 0.4 * a;
    RgbImage::from_fn(w, h, |x, y| {
        let m = subject_mask(w, h, x, y);
        let s = img.get_pixel(x, y).0;
        let b = blurred.get_pixel(x, y).0;
        let mut out = [0u8; 3];
        for i in 0..3 {
            let bg = f32::from(b[i]) * (1.0 - t) + tint[i] * t;
            out[i] = clamp8(f32::from(s[i]) * m + bg * (1.0 - m));
        }
        Rgb(out)
    })
}

/// Bilinear sample with edges replicated.
fn sample(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (p00, p10, p01, p11) =
        (img.get_pixel(x0, y0).0, img.get_pixel(x1, y0).0, img.get_pixel(x0, y1).0, img.get_pixel(x1, y1).0);
    let mut out = [0u8; 3];
    for i in 0..3 {
        let top = f32::from(p00[i]) * (1.0 - fx) + f32::from(p10[i]) * fx;
        let bottom = f32::from(p01[i]) * (1.0 - fx) + f32::from(p11[i]) * fx;
        out[i] = clamp8(top * (1.0 - fy) + bottom * fy);
    }
    Rgb(out)
}

/// Rotation by ±(6° + 18°·a) about the centre (12° light, 16° medium, 19.5° far: the
/// catalogue's ±15°/±30° are head turns, which a 2-D rotation can only hint at) plus a shift of ±3 %·a of the width.
pub fn pose(img: &RgbImage, a: f32, rng: &mut impl Rng) -> RgbImage {
    let (w, h) = img.dimensions();
    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let angle = (sign * (6.0 + 18.0 * a) * rng.random_range(0.9..1.1)).to_radians();
    let shift = sign * 0.03 * a * w as f32;
    let (s, c) = angle.sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx - shift, y as f32 - cy);
        sample(img, c * dx + s * dy + cx, -s * dx + c * dy + cy)
    })
}

/// Lifts the mouth corners (up to 4 %·a of the face height) and narrows the eyes slightly.
pub fn expression(img: &RgbImage, a: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (bx, by, side) = face_box(w, h);
    let side = side as f32;
    let (mx, my) = (bx as f32 + side * 0.5, by as f32 + side * 0.78);
    let (ex, ey) = (bx as f32 + side * 0.5, by as f32 + side * 0.42);
    let (rm, re) = (side * 0.22, side * 0.3);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let (dx, dy) = ((xf - mx) / rm, (yf - my) / (rm * 0.6));
        let mouth = (-(dx * dx + dy * dy)).exp() * (dx * dx).min(1.0);
        let (edx, edy) = ((xf - ex) / re, (yf - ey) / (re * 0.35));
        let eyes = (-(edx * edx + edy * edy)).exp();
        let lift = a * 0.04 * side * mouth;
        let squint = a * 0.015 * side * eyes * (yf - ey).signum();
        sample(img, xf, yf + lift + squint)
    })
}

#[cfg(test)]
mod tests {
    use super::super::edit::{EditSpec, Intensity};
    use super::*;
    use miid_faces::identity::{FaceEmbedder, StructuralEmbedder, similarity};

    /// A synthetic portrait: light background, a face-like oval with eyes and a mouth.
    pub(crate) fn portrait(w: u32, h: u32) -> RgbImage {
        let (bx, by, side) = face_box(w, h);
        let (cx, cy, s) = (bx as f32 + side as f32 / 2.0, by as f32 + side as f32 / 2.0, side as f32);
        RgbImage::from_fn(w, h, |x, y| {
            let (xf, yf) = (x as f32, y as f32);
            let face = ((xf - cx) / (0.38 * s)).powi(2) + ((yf - cy) / (0.48 * s)).powi(2) < 1.0;
            let eye = [(-0.16f32, -0.08f32), (0.16, -0.08)].iter().any(|(ox, oy)| {
                ((xf - cx - ox * s) / (0.06 * s)).powi(2) + ((yf - cy - oy * s) / (0.03 * s)).powi(2) < 1.0
            });
            let mouth = ((xf - cx) / (0.14 * s)).powi(2) + ((yf - cy - 0.28 * s) / (0.025 * s)).powi(2) < 1.0;
            let texture = ((x * 31 + y * 17) % 23) as f32;
            if eye {
                Rgb([40, 30, 30])
            } else if mouth {
                Rgb([150, 60, 70])
            } else if face {
                Rgb([clamp8(200.0 + texture - (yf - cy) * 0.1), 160, 130])
            } else {
                Rgb([clamp8(225.0 + texture * 0.5), 228, 232])
            }
        })
    }

    fn spec(kind: &str, intensity: &str) -> EditSpec {
        let vr = serde_json::from_value(serde_json::json!({"type": kind, "intensity": intensity})).unwrap();
        EditSpec::from_request(&vr, 42).unwrap()
    }

    fn mean_luma(img: &RgbImage) -> f32 {
        img.pixels()
            .map(|p| 0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2]))
            .sum::<f32>()
            / (img.width() * img.height()) as f32
    }

    fn region_diff(a: &RgbImage, b: &RgbImage, inside: bool) -> f32 {
        let (w, h) = a.dimensions();
        let (mut sum, mut n) = (0f32, 0f32);
        for (x, y, p) in a.enumerate_pixels() {
            if (subject_mask(w, h, x, y) >= 1.0) == inside {
                let q = b.get_pixel(x, y).0;
                sum += (0..3).map(|i| f32::from(p.0[i].abs_diff(q[i]))).sum::<f32>() / 3.0;
                n += 1.0;
            }
        }
        sum / n.max(1.0)
    }

    /// Item 5 of the brief: each edit changes what it should, grows with intensity, and the
    /// result passes the identity gate (0.7) of an embedding insensitive to those changes.
    #[test]
    fn edits_change_what_they_should_and_keep_identity() {
        let seed = portrait(192, 256);
        let ed = ClassicalEditor;
        let id = StructuralEmbedder;
        let base = id.embed(&seed).unwrap();
        let passes = |img: &RgbImage| similarity(&base, &id.embed(img).unwrap());

        let mut last = 0.0;
        for intensity in ["light", "medium", "far"] {
            let out = ed.edit(&seed, &spec("lighting_edit", intensity)).unwrap();
            let change = (mean_luma(&out) - mean_luma(&seed)).abs() / mean_luma(&seed);
            assert!(change > 0.1, "{intensity}: mean brightness changed by {change}");
            assert!(change > last, "stronger intensity, larger change");
            last = change;
            assert!(passes(&out) >= 0.7, "lighting {intensity}: {}", passes(&out));
        }

        let out = ed.edit(&seed, &spec("background_edit", "medium")).unwrap();
        let (inside, outside) = (region_diff(&seed, &out, true), region_diff(&seed, &out, false));
        assert!(outside > 10.0 && inside < 0.5, "background changed {outside}, face changed {inside}");
        assert!(passes(&out) >= 0.7, "background: {}", passes(&out));

        for (kind, min_diff) in [("pose_edit", 5.0), ("expression_edit", 0.3)] {
            let out = ed.edit(&seed, &spec(kind, "light")).unwrap();
            let diff = region_diff(&seed, &out, true);
            assert!(diff > min_diff, "{kind}: face region changed by {diff}");
            assert!(passes(&out) >= 0.7, "{kind}: {}", passes(&out));
        }

        let combined = ed.edit(&seed, &spec("lighting_edit+expression_edit", "medium+light")).unwrap();
        assert!(passes(&combined) >= 0.7);
        assert_ne!(combined, seed);

        let mut s = spec("pose_edit", "far");
        let far = ed.edit(&seed, &s).unwrap();
        s.strength_scale = 0.3;
        let weaker = ed.edit(&seed, &s).unwrap();
        assert!(passes(&weaker) >= passes(&far), "a lower strength stays closer to the seed");
        assert_eq!(ed.edit(&seed, &s).unwrap(), weaker, "deterministic for a seed");
        assert!(ed.edit(&RgbImage::new(4, 4), &s).is_err());
        let _ = Intensity::Far;
    }
}
