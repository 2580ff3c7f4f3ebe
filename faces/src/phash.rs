//! Perceptual hashes: "is this the seed image again, maybe re-encoded or slightly touched?"
//!
//! A byte comparison (SHA-256) catches only exact copies; a miner that re-encodes the seed, or
//! nudges one pixel, gets a new hash. A difference hash (dHash) of a 9 × 8 grey thumbnail
//! survives re-encoding, small brightness changes and resizing, so a small Hamming distance
//! between two hashes means "perceptually the same picture". The miner uses it to avoid
//! submitting an unchanged seed; post-validation uses it to flag duplicates of the seed and of
//! other miners' submissions.

use image::RgbImage;
use image::imageops::{FilterType, grayscale, resize};
use serde::{Deserialize, Serialize};

/// Hamming distance at or below which two images count as perceptual duplicates (of 64 bits).
pub const DUPLICATE_DISTANCE: u32 = 4;

/// A 64-bit difference hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerceptualHash(pub u64);

impl PerceptualHash {
    /// dHash: shrink to 9 × 8 grey (Triangle filter, so every source pixel contributes), then
    /// one bit per horizontally adjacent pair: left brighter than right.
    pub fn of(img: &RgbImage) -> Self {
        let small = resize(&grayscale(img), 9, 8, FilterType::Triangle);
        let mut bits = 0u64;
        for y in 0..8 {
            for x in 0..8 {
                bits <<= 1;
                if small.get_pixel(x, y).0[0] > small.get_pixel(x + 1, y).0[0] {
                    bits |= 1;
                }
            }
        }
        PerceptualHash(bits)
    }

    pub fn distance(self, other: PerceptualHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }

    pub fn is_duplicate_of(self, other: PerceptualHash) -> bool {
        self.distance(other) <= DUPLICATE_DISTANCE
    }

    pub fn to_hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A perceptual hash plus a 32 × 32 grey thumbnail: "the same picture" means both a near-equal
/// hash *and* nearly equal thumbnails. The hash alone ignores global tone (a dHash compares
/// neighbours), so a real lighting edit would look like a copy; the thumbnail difference tells a
/// re-encoded or one-pixel-nudged copy (mean difference of a few levels) from a relit one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub hash: PerceptualHash,
    thumb: Vec<u8>,
}

/// Mean absolute thumbnail difference (of 255) at or below which two images are copies.
pub const COPY_MEAN_DIFF: f32 = 1.5;

impl Fingerprint {
    pub fn of(img: &RgbImage) -> Self {
        let thumb = resize(&grayscale(img), 32, 32, FilterType::Triangle).into_raw();
        Fingerprint { hash: PerceptualHash::of(img), thumb }
    }

    /// Mean absolute difference of the thumbnails, in grey levels.
    pub fn mean_diff(&self, other: &Fingerprint) -> f32 {
        let sum: u32 = self.thumb.iter().zip(&other.thumb).map(|(a, b)| u32::from(a.abs_diff(*b))).sum();
        sum as f32 / self.thumb.len().max(1) as f32
    }

    /// Perceptually the same picture.
    pub fn is_copy_of(&self, other: &Fingerprint) -> bool {
        self.hash.is_duplicate_of(other.hash) && self.mean_diff(other) <= COPY_MEAN_DIFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn scene(seed: u32) -> RgbImage {
        RgbImage::from_fn(128, 128, |x, y| {
            let v = ((x * (3 + seed) + y * (5 + 2 * seed)) % 97) as f32 / 97.0;
            let blob = if (x as i32 - 64).pow(2) + (y as i32 - 50).pow(2) < 900 { 80.0 } else { 0.0 };
            let g = (v * 150.0 + blob) as u8;
            Rgb([g, g / 2, 255 - g])
        })
    }

    #[test]
    fn duplicates_survive_small_changes_and_distinct_images_differ() {
        let a = scene(1);
        let ha = PerceptualHash::of(&a);
        let mut brighter = a.clone();
        for p in brighter.pixels_mut() {
            for c in &mut p.0 {
                *c = c.saturating_add(6);
            }
        }
        assert!(ha.is_duplicate_of(PerceptualHash::of(&brighter)), "{}", ha.distance(PerceptualHash::of(&brighter)));
        let resized = resize(&a, 200, 200, FilterType::CatmullRom);
        assert!(ha.is_duplicate_of(PerceptualHash::of(&resized)));
        let other = scene(7);
        assert!(!ha.is_duplicate_of(PerceptualHash::of(&other)), "{}", ha.distance(PerceptualHash::of(&other)));
        assert_eq!(ha.to_hex().len(), 16);
    }

    #[test]
    fn fingerprints_tell_copies_from_relit_images() {
        let a = scene(1);
        let mut nudged = a.clone();
        nudged.put_pixel(3, 3, Rgb([0, 0, 0]));
        let mut relit = a.clone();
        for p in relit.pixels_mut() {
            for c in &mut p.0 {
                *c = (f32::from(*c) * 0.75) as u8;
            }
        }
        let fa = Fingerprint::of(&a);
        assert!(fa.is_copy_of(&Fingerprint::of(&nudged)));
        assert!(!fa.is_copy_of(&Fingerprint::of(&relit)), "{}", fa.mean_diff(&Fingerprint::of(&relit)));
        assert!(!fa.is_copy_of(&Fingerprint::of(&scene(7))));
    }
}
