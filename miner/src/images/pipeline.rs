//! One image request, end to end (spec 3.3 with quirks Q5–Q9 and Q16 fixed): decode the seed
//! under size limits, then per entry, in request order: edit → cheap checks → identity gate
//! (retrying at lower strength) → PNG → timelock to exactly `target_drand_round` → upload →
//! `S3Submission`. An entry that fails is logged and left out; the others go on.

use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;
use tokio::time::Instant;

use miid_faces::Fingerprint;
use miid_faces::decode::{DecodeLimits, decode_rgb, encode_png};
use miid_faces::identity::{FaceEmbedder, MINER_THRESHOLD, similarity};
use miid_protocol::Hotkey;
use miid_protocol::synapse::{Generation, ImageRequest, S3Submission};
use miid_tlock::{ChainKey, Format};

use super::edit::{EditSpec, ImageEditor};
use crate::upload::{ReportPolicy, SubmissionContext, Uploader};

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    pub limits: DecodeLimits,
    /// Identity similarity an edit must reach (when a model is configured).
    pub identity_threshold: f32,
    /// Strength scales tried in order until an edit passes the identity gate.
    pub strength_scales: Vec<f32>,
    pub report_policy: ReportPolicy,
    /// Ciphertext format; mainnet's envelope unless a local test wants age.
    pub format: Format,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            limits: DecodeLimits::default(),
            identity_threshold: MINER_THRESHOLD,
            strength_scales: vec![1.0, 0.6, 0.35],
            report_policy: ReportPolicy::UploadedOnly,
            format: Format::Mainnet,
        }
    }
}

/// What happened to one request entry (for logs and tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EntryOutcome {
    Submitted { index: usize, variation_type: String, similarity: Option<f32>, strength_scale: f32, s3_key: String },
    Skipped { index: usize, variation_type: String, reason: String },
}

/// Everything the image task needs.
pub struct ImagePipeline {
    editor: Arc<dyn ImageEditor>,
    identity: Option<Arc<dyn FaceEmbedder>>,
    uploader: Uploader,
    chain: ChainKey,
    hotkey: Hotkey,
    config: PipelineConfig,
}

/// A finished, checked, encrypted entry.
struct Prepared {
    png: Vec<u8>,
    ciphertext: Vec<u8>,
    similarity: Option<f32>,
    strength_scale: f32,
}

impl ImagePipeline {
    pub fn new(
        editor: Arc<dyn ImageEditor>,
        identity: Option<Arc<dyn FaceEmbedder>>,
        uploader: Uploader,
        chain: ChainKey,
        hotkey: Hotkey,
        config: PipelineConfig,
    ) -> Self {
        ImagePipeline { editor, identity, uploader, chain, hotkey, config }
    }

    /// A one-line description for the start-up log.
    pub fn describe(&self) -> String {
        format!(
            "images: editor {}, identity {}, uploads to {}/{}",
            self.editor.name(),
            self.identity
                .as_ref()
                .map(|m| format!("{} (threshold {})", m.name(), self.config.identity_threshold))
                .unwrap_or_else(|| "not checked (no --images.identity_model)".into()),
            self.uploader.config().endpoint_url(),
            self.uploader.config().bucket
        )
    }

    /// Answers one image request; submissions in request order, only for uploaded entries.
    pub async fn run(
        &self,
        req: &ImageRequest,
        generation: Generation,
        deadline: Instant,
    ) -> (Vec<S3Submission>, Vec<EntryOutcome>) {
        let mut subs = Vec::new();
        let mut outcomes = Vec::new();
        let skip_all = |reason: String, outcomes: &mut Vec<EntryOutcome>| {
            for (index, v) in req.variation_requests.iter().enumerate() {
                outcomes.push(EntryOutcome::Skipped { index, variation_type: v.kind.clone(), reason: reason.clone() });
            }
        };
        let seed = match decode_seed(&req.base_image, &self.config.limits) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(error = %e, file = %req.image_filename, "image request: seed image refused");
                skip_all(e, &mut outcomes);
                return (subs, outcomes);
            }
        };
        let seed_embedding = match &self.identity {
            Some(model) => {
                let (model, seed) = (model.clone(), seed.clone());
                match tokio::task::spawn_blocking(move || model.embed(&seed)).await {
                    Ok(Ok(e)) => Some(Arc::new(e)),
                    Ok(Err(e)) => {
                        skip_all(format!("seed embedding failed: {e}"), &mut outcomes);
                        return (subs, outcomes);
                    }
                    Err(e) => {
                        skip_all(format!("seed embedding task failed: {e}"), &mut outcomes);
                        return (subs, outcomes);
                    }
                }
            }
            None => None,
        };
        let ctx = SubmissionContext::new(&self.hotkey, req, generation);
        for (index, v) in req.variation_requests.iter().enumerate() {
            let skipped = |reason: String| EntryOutcome::Skipped { index, variation_type: v.kind.clone(), reason };
            if Instant::now() >= deadline {
                outcomes.push(skipped("request deadline reached".into()));
                continue;
            }
            let spec = match EditSpec::from_request(v, entry_seed(self.hotkey.ss58(), req, index)) {
                Ok(s) => s,
                Err(e) => {
                    outcomes.push(skipped(e.to_string()));
                    continue;
                }
            };
            let job = {
                let (editor, identity, seed, emb) =
                    (self.editor.clone(), self.identity.clone(), seed.clone(), seed_embedding.clone());
                let (config, chain, round) = (self.config.clone(), self.chain, req.target_drand_round);
                tokio::task::spawn_blocking(move || {
                    prepare(
                        &*editor,
                        identity.as_deref(),
                        &seed,
                        emb.as_deref().map(|v| &v[..]),
                        spec,
                        &config,
                        &chain,
                        round,
                    )
                })
            };
            let prepared = match job.await {
                Ok(Ok(p)) => p,
                Ok(Err(reason)) => {
                    tracing::warn!(index, variation = %v.kind, editor = self.editor.name(), %reason, "image entry left out");
                    outcomes.push(skipped(reason));
                    continue;
                }
                Err(e) => {
                    outcomes.push(skipped(format!("generation task failed: {e}")));
                    continue;
                }
            };
            match self
                .uploader
                .submit_image(&ctx, &v.kind, &prepared.png, prepared.ciphertext.into(), Some(deadline))
                .await
            {
                Ok(up) if up.outcome.reportable(self.config.report_policy) => {
                    tracing::info!(index, variation = %v.kind, editor = self.editor.name(), key = %up.submission.s3_key,
                        similarity = ?prepared.similarity, "image entry submitted");
                    outcomes.push(EntryOutcome::Submitted {
                        index,
                        variation_type: v.kind.clone(),
                        similarity: prepared.similarity,
                        strength_scale: prepared.strength_scale,
                        s3_key: up.submission.s3_key.clone(),
                    });
                    subs.push(up.submission);
                }
                Ok(up) => outcomes.push(skipped(format!(
                    "upload {:?}: {}",
                    up.outcome.status,
                    up.outcome.error.unwrap_or_default()
                ))),
                Err(e) => outcomes.push(skipped(format!("upload: {e}"))),
            }
        }
        (subs, outcomes)
    }
}

/// A per-entry seed: stable for a request (retries reproduce), different across entries and
/// across miners — two miners editing the same seed image with the same seed would submit the
/// same bytes, and the validator's cross-miner duplicate check would penalise both.
fn entry_seed(miner_ss58: &str, req: &ImageRequest, index: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let challenge = req.challenge_id.as_deref().unwrap_or("");
    for b in miner_ss58.bytes().chain(req.image_filename.bytes()).chain(challenge.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Base64 → bounded decode (dimensions checked before decoding).
fn decode_seed(b64: &str, limits: &DecodeLimits) -> Result<RgbImage, String> {
    use base64::Engine;
    // base64 expands by 4/3: refuse before decoding what cannot fit the byte limit.
    if b64.len() / 4 * 3 > limits.max_bytes + 3 {
        return Err(format!(
            "base_image of {} base64 characters exceeds the {} byte limit",
            b64.len(),
            limits.max_bytes
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("base_image is not standard base64: {e}"))?;
    decode_rgb(&bytes, limits).map_err(|e| format!("base_image: {e}"))
}

/// Edit (retrying at lower strength while the identity gate fails), check, encode, encrypt.
#[allow(clippy::too_many_arguments)]
fn prepare(
    editor: &dyn ImageEditor,
    identity: Option<&dyn FaceEmbedder>,
    seed: &RgbImage,
    seed_embedding: Option<&[f32]>,
    mut spec: EditSpec,
    config: &PipelineConfig,
    chain: &ChainKey,
    round: u64,
) -> Result<Prepared, String> {
    let seed_fp = Fingerprint::of(seed);
    let mut tries: Vec<String> = Vec::new();
    for &scale in &config.strength_scales {
        spec.strength_scale = scale;
        let img = match editor.edit(seed, &spec) {
            Ok(i) => i,
            Err(e) => {
                tries.push(e.to_string());
                continue;
            }
        };
        if &img == seed || Fingerprint::of(&img).is_copy_of(&seed_fp) {
            tries.push(format!("{} output at strength {scale} is a copy of the seed", editor.name()));
            continue;
        }
        let sim = match (identity, seed_embedding) {
            (Some(model), Some(base)) => {
                let s = similarity(base, &model.embed(&img).map_err(|e| format!("identity embedding: {e}"))?);
                if s < config.identity_threshold {
                    tries.push(format!("identity {s:.3} below {} at strength {scale}", config.identity_threshold));
                    continue;
                }
                Some(s)
            }
            _ => None,
        };
        let png = encode_png(&img).map_err(|e| format!("PNG encoding: {e}"))?;
        decode_rgb(&png, &config.limits).map_err(|e| format!("own PNG does not decode: {e}"))?;
        let ciphertext = miid_tlock::encrypt(config.format, chain, round, &png, &mut rand::rng())
            .map_err(|e| format!("timelock to round {round}: {e}"))?;
        return Ok(Prepared { png, ciphertext, similarity: sim, strength_scale: scale });
    }
    if tries.is_empty() {
        tries.push("no strength scales configured".into());
    }
    Err(tries.join("; "))
}
