//! Bounded image decoding and PNG encoding.
//!
//! Seed images arrive as base64 inside a request body from the network, and submissions are
//! downloaded from a public bucket: both are untrusted. A few kilobytes of PNG can claim a
//! 60 000 × 60 000 canvas and make a naive decoder allocate gigabytes (a "decompression bomb"),
//! so the header's dimensions are read and checked *before* any pixel is decoded, and the
//! decoder itself runs under [`image::Limits`] as a second fence.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, RgbImage};

/// Size limits applied before and during decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted encoded file, bytes.
    pub max_bytes: usize,
    /// Largest accepted width or height, pixels.
    pub max_side: u32,
    /// Largest accepted width × height.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    /// Generous for MIID's portraits (1024², recommended output 1015 × 1350): 32 MiB files,
    /// 8192 px sides, 40 megapixels.
    fn default() -> Self {
        DecodeLimits { max_bytes: 32 << 20, max_side: 8192, max_pixels: 40_000_000 }
    }
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("image is empty")]
    Empty,
    #[error("image file of {size} bytes exceeds the {max} byte limit")]
    TooManyBytes { size: usize, max: usize },
    #[error("unrecognised image format (expected PNG, JPEG or WebP)")]
    UnknownFormat,
    #[error("{format:?} images are not accepted (only PNG, JPEG, WebP)")]
    UnsupportedFormat { format: ImageFormat },
    #[error("image of {width}x{height} exceeds the limits ({max_side} px per side, {max_pixels} pixels)")]
    TooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    #[error("image has a zero dimension ({width}x{height})")]
    ZeroSize { width: u32, height: u32 },
    #[error("corrupt image: {0}")]
    Corrupt(String),
}

/// Reads only the header: format and dimensions, checked against `limits`.
pub fn probe(bytes: &[u8], limits: &DecodeLimits) -> Result<(ImageFormat, u32, u32), DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooManyBytes { size: bytes.len(), max: limits.max_bytes });
    }
    let reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let format = reader.format().ok_or(DecodeError::UnknownFormat)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) {
        return Err(DecodeError::UnsupportedFormat { format });
    }
    let (width, height) = reader.into_dimensions().map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSize { width, height });
    }
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(DecodeError::TooLarge { width, height, max_side: limits.max_side, max_pixels: limits.max_pixels });
    }
    Ok((format, width, height))
}

/// Decodes an image after [`probe`] accepted its header; the decoder runs under matching
/// [`image::Limits`] (dimensions and an allocation cap of 16 bytes per allowed pixel).
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DecodeError> {
    probe(bytes, limits)?;
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    reader.limits(l);
    reader.decode().map_err(|e| DecodeError::Corrupt(e.to_string()))
}

/// [`decode`] to 8-bit RGB (alpha dropped), the form every editor and embedder works on.
pub fn decode_rgb(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage, DecodeError> {
    Ok(decode(bytes, limits)?.into_rgb8())
}

/// Encodes as PNG with the encoder's default settings (spec 3.5: "encoded as PNG").
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        encode_png(&RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]))).unwrap()
    }

    #[test]
    fn round_trip() {
        let img = decode_rgb(&png_of(20, 10), &DecodeLimits::default()).unwrap();
        assert_eq!(img.dimensions(), (20, 10));
        assert_eq!(img.get_pixel(3, 4).0, [3, 4, 7]);
    }

    /// A PNG whose header claims a huge canvas is refused from its header alone: the IHDR of a
    /// small image is rewritten to 50 000 × 50 000 (CRC fixed), the pixel data stays tiny.
    #[test]
    fn bomb_refused_before_decoding() {
        let mut png = png_of(4, 4);
        png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        match decode(&png, &DecodeLimits::default()) {
            Err(DecodeError::TooLarge { width: 50_000, height: 50_000, .. }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn limits_and_garbage() {
        let small = DecodeLimits { max_bytes: 10, ..DecodeLimits::default() };
        assert!(matches!(decode(&png_of(8, 8), &small), Err(DecodeError::TooManyBytes { .. })));
        let few = DecodeLimits { max_pixels: 63, ..DecodeLimits::default() };
        assert!(matches!(decode(&png_of(8, 8), &few), Err(DecodeError::TooLarge { .. })));
        assert!(matches!(decode(b"", &DecodeLimits::default()), Err(DecodeError::Empty)));
        assert!(matches!(
            decode(b"hello world, not an image", &DecodeLimits::default()),
            Err(DecodeError::UnknownFormat)
        ));
        let mut truncated = png_of(32, 32);
        truncated.truncate(60);
        assert!(matches!(decode(&truncated, &DecodeLimits::default()), Err(DecodeError::Corrupt(_))));
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
