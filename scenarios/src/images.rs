//! Image submissions for R2 personas.
//!
//! The honest image persona (and the S3-flaky and forged-signature ones, which are honest images
//! with something wrong around them) runs the miner's own [`ImagePipeline`]: the classical
//! editor on the request's seed portrait, the identity gate (the structural embedder, no model
//! file), the timelock to drand-mock's key for exactly the target round, and the miner's
//! [`Uploader`] into s3-mock's public bucket. The cheats whose point is the image itself keep a
//! stand-in: the seed-duplicate persona submits the base image unchanged, and the wrong-round
//! persona submits the base image with a PNG text chunk naming the variation, locked to a round
//! far past the target.
//!
//! The miner's pipeline seeds each edit from the request alone (file name, challenge id, entry
//! index), so two miners running it on one challenge submit identical images — which
//! post-validation rightly flags as cross-miner duplicates. Each persona therefore wraps the
//! classical editor in [`MinerSeededEditor`], which mixes the miner's hotkey into the edit seed,
//! as distinct real miners would be distinct.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::SeedableRng;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

use image::{Rgb, RgbImage};
use miid_faces::identity::{FaceEmbedder, StructuralEmbedder, face_box};
use miid_miner::images::edit::EditError;
use miid_miner::images::{ClassicalEditor, EditSpec, EntryOutcome, ImageEditor, ImagePipeline, PipelineConfig};
use miid_miner::upload::{ReportPolicy, SubmissionContext, UploadConfig, Uploader};
use miid_protocol::Hotkey;
use miid_protocol::s3 as s3key;
use miid_protocol::synapse::{Generation, ImageRequest, S3Submission};
use miid_tlock::{ChainKey, Format};

use crate::persona::{ImageBehaviour, derive_seed};

/// Which image cheat (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMode {
    Honest,
    /// Submits the seed image unchanged for every variation.
    SeedDuplicate,
    /// Locks every ciphertext to `target + WRONG_ROUND_OFFSET`.
    WrongRound,
    /// Honest, through an S3 endpoint that is unreachable for its first connections.
    Flaky,
    /// Honest images whose submission signatures are made with another key than the miner's.
    ForgedSignature,
}

/// How far past the request's target the wrong-drand-round persona locks its images.
pub const WRONG_ROUND_OFFSET: u64 = 1_000_000;

/// Connections the flaky S3 front refuses before it starts forwarding.
pub const FLAKY_REFUSALS: usize = 3;

/// `png` with a `tEXt` chunk (`Comment` = `text`) right after `IHDR`: a different, still valid PNG.
/// Returns `None` when `png` is not a PNG with an IHDR first.
pub fn png_with_text(png: &[u8], text: &str) -> Option<Vec<u8>> {
    const MAGIC: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 33 || &png[..8] != MAGIC || &png[12..16] != b"IHDR" {
        return None;
    }
    let ihdr_end = 8 + 12 + u32::from_be_bytes(png[8..12].try_into().ok()?) as usize;
    if ihdr_end > png.len() {
        return None;
    }
    let mut data = b"Comment\0".to_vec();
    data.extend_from_slice(text.as_bytes());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"tEXt");
    crc.update(&data);
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[ihdr_end..]);
    Some(out)
}

/// A loopback front for S3 that drops its first `refusals` connections, then forwards bytes to
/// `upstream`: S3 unreachable, then back.
pub async fn flaky_front(upstream: std::net::SocketAddr, refusals: usize) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let seen = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if seen.fetch_add(1, Ordering::Relaxed) < refusals {
                drop(inbound);
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut out) = TcpStream::connect(upstream).await {
                    let _ = copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    Ok(addr)
}

/// Identity similarity the honest personas' pipeline requires. The structural embedder is
/// stricter than a face model on rotations of a flat synthetic portrait; 0.6 is the subnet's
/// "basic pass" (spec 3.6), and post-validation's floor is 0.4.
pub const IDENTITY_THRESHOLD: f32 = 0.6;

/// A synthetic head-and-shoulders portrait (3:4) for R2 requests: a face oval with eyes, brows,
/// nose and mouth, hair, shoulders and a textured background, placed where
/// [`face_box`] looks for a face, so the identity embedder and the classical edits have
/// something face-like to work on. `variant` shifts colours and features so different seeds
/// give different people.
pub fn portrait(width: u32, height: u32, variant: u32) -> RgbImage {
    let (bx, by, side) = face_box(width, height);
    let s = side as f32;
    let (cx, cy) = (bx as f32 + s / 2.0, by as f32 + s / 2.0);
    let v = (variant % 7) as f32;
    let skin = [190.0 + 6.0 * v, 150.0 + 4.0 * v, 120.0 + 3.0 * v];
    let inside =
        |x: f32, y: f32, ex: f32, ey: f32, rx: f32, ry: f32| ((x - ex) / rx).powi(2) + ((y - ey) / ry).powi(2) < 1.0;
    RgbImage::from_fn(width, height, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let grain = ((x * 13 + y * 29 + variant * 7) % 19) as f32;
        let eye_y = cy - 0.07 * s;
        let eye = [-1.0f32, 1.0].iter().any(|d| inside(xf, yf, cx + d * 0.17 * s, eye_y, 0.065 * s, 0.032 * s));
        let pupil = [-1.0f32, 1.0].iter().any(|d| inside(xf, yf, cx + d * 0.17 * s, eye_y, 0.025 * s, 0.025 * s));
        let brow = [-1.0f32, 1.0]
            .iter()
            .any(|d| inside(xf, yf, cx + d * 0.17 * s, eye_y - 0.07 * s, 0.08 * s, (0.012 + 0.002 * v) * s));
        let nose = inside(xf, yf, cx, cy + 0.06 * s, 0.035 * s, 0.09 * s);
        let mouth = inside(xf, yf, cx, cy + 0.25 * s, (0.12 + 0.01 * v) * s, 0.028 * s);
        let face = inside(xf, yf, cx, cy, 0.36 * s, 0.47 * s);
        let hair = yf < cy - 0.25 * s && inside(xf, yf, cx, cy - 0.05 * s, 0.44 * s, 0.6 * s);
        let shoulders = yf > cy + 0.5 * s && inside(xf, yf, cx, height as f32, 0.9 * s, 0.75 * s);
        let px = if pupil {
            [20.0, 20.0, 25.0]
        } else if eye {
            [235.0, 235.0, 230.0]
        } else if brow {
            [60.0, 40.0, 30.0]
        } else if mouth {
            [160.0, 70.0, 75.0]
        } else if nose {
            [skin[0] - 25.0, skin[1] - 25.0, skin[2] - 20.0]
        } else if hair {
            [40.0 + 10.0 * v + grain, 30.0 + grain, 20.0]
        } else if face {
            [skin[0] + grain, skin[1] + grain / 2.0, skin[2]]
        } else if shoulders {
            [40.0 + 20.0 * v, 60.0, 110.0 - 5.0 * v]
        } else {
            [120.0 + (x % 48) as f32 + 3.0 * v, 150.0 + grain, 170.0 + (y / 8) as f32]
        };
        Rgb(px.map(|c| c.clamp(0.0, 255.0) as u8))
    })
}

/// [`portrait`] as the base64 PNG an R2 request carries.
pub fn portrait_b64(variant: u32) -> String {
    let png = miid_faces::decode::encode_png(&portrait(240, 320, variant)).expect("an RGB image always encodes");
    base64::engine::general_purpose::STANDARD.encode(png)
}

/// The miner's editor with the miner's own seed mixed into every edit: the pipeline seeds edits
/// from the request alone, which would make every miner running it submit the same images.
pub struct MinerSeededEditor {
    inner: Arc<dyn ImageEditor>,
    salt: u64,
}

impl MinerSeededEditor {
    pub fn new(inner: Arc<dyn ImageEditor>, salt: u64) -> Self {
        MinerSeededEditor { inner, salt }
    }
}

impl ImageEditor for MinerSeededEditor {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn edit(&self, seed: &RgbImage, spec: &EditSpec) -> Result<RgbImage, EditError> {
        let spec = EditSpec { seed: derive_seed(self.salt, &[&spec.seed.to_le_bytes()]), ..spec.clone() };
        self.inner.edit(seed, &spec)
    }
}

/// Upload settings for the personas: path-style anonymous PUTs into the public-write bucket
/// (as on mainnet), short timeouts and retries so an outage is ridden out within a round.
fn upload_config(endpoint: &str, bucket: &str, queue: &std::path::Path) -> UploadConfig {
    UploadConfig {
        bucket: bucket.to_owned(),
        endpoint: Some(endpoint.to_owned()),
        path_style: true,
        queue_dir: Some(queue.to_owned()),
        request_timeout_s: 5.0,
        retry_initial_ms: 50,
        retry_max_ms: 400,
        reveal_margin_s: 0,
        ..UploadConfig::default()
    }
}

/// The honest image side: the miner's [`ImagePipeline`] with the classical editor and the
/// structural identity gate. `ForgedSignature` re-signs its submissions with another key;
/// `Flaky` is built on an endpoint that refuses its first connections.
pub struct PipelineImages {
    pub mode: ImageMode,
    pipeline: ImagePipeline,
    /// ForgedSignature: the key that signs instead of the miner's.
    forger: Option<Hotkey>,
    _queue: tempfile::TempDir,
}

impl PipelineImages {
    pub fn new(
        mode: ImageMode,
        hotkey: Hotkey,
        endpoint: &str,
        bucket: &str,
        beacon: ChainKey,
        seed: u64,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            matches!(mode, ImageMode::Honest | ImageMode::Flaky | ImageMode::ForgedSignature),
            "{mode:?} images are stand-ins, not the pipeline's"
        );
        let queue = tempfile::tempdir()?;
        let uploader = Uploader::new(upload_config(endpoint, bucket, queue.path()))?;
        let editor = MinerSeededEditor::new(
            Arc::new(ClassicalEditor),
            derive_seed(seed, &[b"image-editor", hotkey.ss58().as_bytes()]),
        );
        let identity: Arc<dyn FaceEmbedder> = Arc::new(StructuralEmbedder);
        let forger = forger_for(mode, &hotkey)?;
        let pipeline = ImagePipeline::new(
            Arc::new(editor),
            Some(identity),
            uploader,
            beacon,
            hotkey,
            PipelineConfig { identity_threshold: IDENTITY_THRESHOLD, ..PipelineConfig::default() },
        );
        Ok(PipelineImages { mode, pipeline, forger, _queue: queue })
    }
}

fn forger_for(mode: ImageMode, hotkey: &Hotkey) -> anyhow::Result<Option<Hotkey>> {
    Ok(match mode {
        ImageMode::ForgedSignature => Some(Hotkey::from_uri(&format!("//ImageForger{}", &hotkey.ss58()[..8]))?),
        _ => None,
    })
}

/// Replaces a submission's signature with `forger`'s over the same challenge and hash.
fn forge(sub: &mut S3Submission, forger: &Hotkey, challenge_id: Option<&str>) {
    let challenge = s3key::challenge_id_or_sandbox(challenge_id);
    sub.signature = s3key::sign_submission(forger, challenge, &sub.image_hash);
}

#[async_trait::async_trait]
impl ImageBehaviour for PipelineImages {
    async fn submissions(&self, request: &ImageRequest, deadline: Instant) -> Vec<S3Submission> {
        let (mut subs, outcomes) =
            self.pipeline.run(request, Generation::R2, tokio::time::Instant::from_std(deadline)).await;
        for o in &outcomes {
            if let EntryOutcome::Skipped { index, variation_type, reason } = o {
                tracing::warn!(index, %variation_type, %reason, "pipeline left an image entry out");
            }
        }
        if let Some(forger) = &self.forger {
            for sub in &mut subs {
                forge(sub, forger, request.challenge_id.as_deref());
            }
        }
        subs
    }
}

/// One stand-in persona's image side (the cheats whose point is the image itself).
pub struct SubmittedImages {
    pub mode: ImageMode,
    hotkey: Hotkey,
    uploader: Uploader,
    beacon: ChainKey,
    seed: u64,
    /// ForgedSignature: the key that signs instead of the miner's.
    forger: Option<Hotkey>,
    _queue: tempfile::TempDir,
}

impl SubmittedImages {
    /// Uploads go to `endpoint` (path style, the public-write `bucket`, anonymous, as on mainnet).
    pub fn new(
        mode: ImageMode,
        hotkey: Hotkey,
        endpoint: &str,
        bucket: &str,
        beacon: ChainKey,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let queue = tempfile::tempdir()?;
        let config = upload_config(endpoint, bucket, queue.path());
        let forger = forger_for(mode, &hotkey)?;
        Ok(SubmittedImages { mode, hotkey, uploader: Uploader::new(config)?, beacon, seed, forger, _queue: queue })
    }
}

#[async_trait::async_trait]
impl ImageBehaviour for SubmittedImages {
    async fn submissions(&self, request: &ImageRequest, deadline: Instant) -> Vec<S3Submission> {
        let Ok(base) = base64::engine::general_purpose::STANDARD.decode(&request.base_image) else {
            tracing::warn!("base image is not base64; no submissions");
            return Vec::new();
        };
        let ctx = SubmissionContext::new(&self.hotkey, request, Generation::R2);
        let round = match self.mode {
            ImageMode::WrongRound => request.target_drand_round.saturating_add(WRONG_ROUND_OFFSET),
            _ => request.target_drand_round,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(derive_seed(
            self.seed,
            &[b"images", self.hotkey.ss58().as_bytes(), &request.target_drand_round.to_le_bytes()],
        ));
        let answer_by = tokio::time::Instant::from_std(deadline);
        let mut out = Vec::new();
        for (i, vr) in request.variation_requests.iter().enumerate() {
            let png = match self.mode {
                ImageMode::SeedDuplicate => base.clone(),
                _ => match png_with_text(&base, &format!("{} {i} {}", vr.kind, self.hotkey.ss58())) {
                    Some(p) => p,
                    None => {
                        tracing::warn!("base image is not a PNG; no submissions");
                        return Vec::new();
                    }
                },
            };
            let ciphertext = match miid_tlock::encrypt(Format::Mainnet, &self.beacon, round, &png, &mut rng) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "timelock encryption failed");
                    continue;
                }
            };
            match self.uploader.submit_image(&ctx, &vr.kind, &png, ciphertext.into(), Some(answer_by)).await {
                Ok(up) if up.outcome.reportable(ReportPolicy::UploadedOnly) => {
                    let mut sub = up.submission;
                    if let Some(forger) = &self.forger {
                        forge(&mut sub, forger, ctx.challenge_id.as_deref());
                    }
                    out.push(sub);
                }
                Ok(up) => {
                    tracing::warn!(key = %up.outcome.key, error = ?up.outcome.error, "upload did not land in time")
                }
                Err(e) => tracing::warn!(error = %e, "upload failed"),
            }
            if Instant::now() + Duration::from_millis(50) >= deadline {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_chunk_keeps_a_valid_png() {
        let base = base64::engine::general_purpose::STANDARD.decode(miid_validator::query::TINY_PNG_B64).unwrap();
        let a = png_with_text(&base, "background_edit 0").unwrap();
        let b = png_with_text(&base, "background_edit 1").unwrap();
        assert_ne!(a, b);
        assert_eq!(&a[..8], &base[..8]);
        assert_eq!(&a[12..16], b"IHDR");
        // The new chunk sits after IHDR with a correct CRC.
        let at = 8 + 12 + 13;
        let len = u32::from_be_bytes(a[at..at + 4].try_into().unwrap()) as usize;
        assert_eq!(&a[at + 4..at + 8], b"tEXt");
        let crc = crc32fast::hash(&a[at + 4..at + 8 + len]);
        assert_eq!(a[at + 8 + len..at + 12 + len], crc.to_be_bytes());
        assert!(a.ends_with(&base[at..]));
        assert!(png_with_text(b"not a png", "x").is_none());
    }

    #[test]
    fn portraits_decode_and_differ_per_variant() {
        let a = portrait(240, 320, 1);
        assert_eq!((a.width(), a.height()), (240, 320));
        assert_ne!(a, portrait(240, 320, 2));
        let png = base64::engine::general_purpose::STANDARD.decode(portrait_b64(1)).unwrap();
        let back = miid_faces::decode::decode_rgb(&png, &Default::default()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn miner_seeded_editor_changes_the_edit_seed_per_miner() {
        let seed = portrait(120, 160, 0);
        let vr: miid_protocol::synapse::VariationRequest = serde_json::from_value(
            serde_json::json!({"type": "background_edit", "intensity": "far", "description": "", "detail": ""}),
        )
        .unwrap();
        let spec = EditSpec::from_request(&vr, 42).unwrap();
        let edit = |salt| MinerSeededEditor::new(Arc::new(ClassicalEditor), salt).edit(&seed, &spec).unwrap();
        assert_eq!(edit(1), edit(1));
        assert_ne!(edit(1), edit(2));
        assert_ne!(edit(1), seed);
    }

    #[tokio::test]
    async fn flaky_front_refuses_then_forwards() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up_addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = upstream.accept().await {
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut b = [0u8; 4];
                    if s.read_exact(&mut b).await.is_ok() {
                        let _ = s.write_all(&b).await;
                    }
                });
            }
        });
        let front = flaky_front(up_addr, 2).await.unwrap();
        let echo = || async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = TcpStream::connect(front).await.ok()?;
            s.write_all(b"ping").await.ok()?;
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.ok()?;
            Some(b)
        };
        assert_eq!(echo().await, None);
        assert_eq!(echo().await, None);
        assert_eq!(echo().await, Some(*b"ping"));
    }
}
