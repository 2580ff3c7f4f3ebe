//! Minimal image submissions for R2 personas, until the miner has its own image pipeline.
//!
//! What is real: the timelock ciphertext (to drand-mock's key, for a beacon round), the upload
//! through the miner's own [`Uploader`] (keys, retries, queue) to s3-mock's public bucket, the
//! S3 key layout, `path_signature`, and the sr25519 submission signature. What is a stand-in: the
//! image itself — the request's base image with a PNG text chunk naming the variation, not an
//! edited portrait. Post-validation (fetch, decrypt, hash, signature, PNG) therefore runs for
//! real; image *quality* grading has to wait for the pipeline.
//!
//! Modes: honest; a re-submission of the seed image itself; a ciphertext locked to a beacon round
//! far beyond the request's target (never revealed in time); honest through an S3 endpoint that
//! refuses the first connections (the uploader retries until S3 is back); honest images whose
//! submission signatures are made with another key.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::SeedableRng;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

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

/// One persona's image side.
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
        let config = UploadConfig {
            bucket: bucket.to_owned(),
            endpoint: Some(endpoint.to_owned()),
            path_style: true,
            queue_dir: Some(queue.path().to_owned()),
            request_timeout_s: 5.0,
            retry_initial_ms: 50,
            retry_max_ms: 400,
            reveal_margin_s: 0,
            ..UploadConfig::default()
        };
        let forger = match mode {
            ImageMode::ForgedSignature => Some(Hotkey::from_uri(&format!("//ImageForger{}", &hotkey.ss58()[..8]))?),
            _ => None,
        };
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
                        let challenge = s3key::challenge_id_or_sandbox(ctx.challenge_id.as_deref());
                        sub.signature = s3key::sign_submission(forger, challenge, &sub.image_hash);
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
