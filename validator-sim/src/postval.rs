//! Post-validation: download every reported image after the reveal and check it (spec
//! `miner-protocol.md` 2.6, 4.4, 5.3–5.5).
//!
//! On mainnet the validators hand the miners' references to the Yanez grading service, which
//! downloads, decrypts and grades; its code is not public. This module does the part that can be
//! derived from the protocol, so a miner operator sees locally whether a grader *could* use each
//! submission:
//!
//! 1. **Key**: it parses (`submissions/` prefix, ≥ 6 parts, `.tlock` suffix), names the submitting
//!    miner's hotkey, the challenge, and the `path_signature` the miner reported next to it.
//!    `path_signature` is 8 bytes of a randomised signature: it cannot be re-derived, only compared
//!    (5.4). A key that fails here is not attributable to the miner and is not downloaded.
//! 2. **Fetch**: GET the object, anonymously (public-read buckets) or SigV4-presigned with
//!    credentials (s3-mock, MinIO, and the real bucket, which refuse anonymous reads). 404 is
//!    [`Failure::Missing`] — the reference miner's quirk Q7 produces exactly that.
//! 3. **Decrypt** via `miid_tlock`, with the beacon signature of the round the *ciphertext* names
//!    (mainnet miners usually embed `target − 1`, spec 4.3): fetched from a drand endpoint with a
//!    bounded wait (one wait per round, shared by all submissions), or taken from signatures the
//!    caller provides.
//! 4. **Hash**: SHA-256 of the plaintext must equal `image_hash` (an object overwritten by another
//!    writer of the public bucket fails here).
//! 5. **Signature**: the miner hotkey's sr25519 signature over
//!    `challenge:{challenge_id}:hash:{image_hash}` (checked even when the download fails).
//! 6. **Image**: the plaintext starts with the PNG signature and an `IHDR` chunk.
//!
//! 7. **Image checks** (with [`PostValidator::with_image_checks`]): the plaintext decodes under
//!    size limits (else score hint 0); it is not an exact or perceptual copy of the seed image or
//!    of another miner's submission (else −1); with a face-embedding model, its identity
//!    similarity to the seed is at least 0.4 (else 0). The verdict is an [`ImageAssessment`] with
//!    a `score_hint` — a local estimate, not the grading service's score.
//!
//! Every failure is data ([`Failure`]); nothing here panics on miner input. Results are one
//! [`SubmissionCheck`] per reported object (screen-replay angle 2 is a separate entry), in input
//! order, `serde`-serialisable for reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rusty_s3::actions::GetObject;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use miid_protocol::PublicKey;
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{self as s3key, parse_key, verify_submission};
use miid_protocol::synapse::S3Submission;
use miid_tlock::ChainKey;
use miid_tlock::client::{Client, ClientError};

/// What the image checks compare against.
#[derive(Clone)]
pub struct ImageChecks {
    /// The seed image the challenge sent (decoded).
    pub seed: image::RgbImage,
    /// The seed file as sent (`base_image`), for the byte-identity check.
    pub seed_file: Option<Vec<u8>>,
    /// Face-embedding model for the identity check; `None` skips it.
    pub embedder: Option<Arc<dyn miid_faces::FaceEmbedder>>,
    pub limits: miid_faces::DecodeLimits,
    /// Identity similarity below which the hint is 0 (the subnet's 0.4).
    pub identity_floor: f32,
}

impl ImageChecks {
    pub fn new(seed: image::RgbImage, embedder: Option<Arc<dyn miid_faces::FaceEmbedder>>) -> Self {
        ImageChecks {
            seed,
            seed_file: None,
            embedder,
            limits: miid_faces::DecodeLimits::default(),
            identity_floor: miid_faces::identity::REJECT_THRESHOLD,
        }
    }
}

impl ImageChecks {
    /// From the seed file as the challenge sent it (PNG/JPEG/WebP bytes).
    pub fn from_seed_file(
        bytes: Vec<u8>,
        embedder: Option<Arc<dyn miid_faces::FaceEmbedder>>,
    ) -> Result<Self, miid_faces::DecodeError> {
        let seed = miid_faces::decode::decode_rgb(&bytes, &miid_faces::DecodeLimits::default())?;
        Ok(ImageChecks { seed_file: Some(bytes), ..ImageChecks::new(seed, embedder) })
    }
}

/// The image verdict on one decrypted submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageAssessment {
    /// `None` when the plaintext decoded; otherwise why not.
    pub decode_error: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Perceptual hash (hex) of the decoded image.
    pub phash: Option<String>,
    /// Byte-identical to, or a perceptual copy of, the seed.
    pub duplicate_of_seed: bool,
    /// Submissions (`hotkey#index`) of *other* miners this one duplicates.
    pub duplicate_of: Vec<String>,
    /// Identity similarity to the seed (when a model is configured).
    pub identity_similarity: Option<f32>,
    pub identity_model: Option<String>,
    /// −1 duplicate, 0 undecodable or identity below the floor, 1 otherwise.
    pub score_hint: i8,
}

/// Checks of one challenge, per miner, for reports and later analysis.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChallengeResults {
    pub challenge_id: String,
    pub target_drand_round: u64,
    /// Miner hotkey → its checks in submission order.
    pub miners: BTreeMap<String, Vec<SubmissionCheck>>,
}

impl ChallengeResults {
    pub fn new(challenge: &Challenge, checks: Vec<SubmissionCheck>) -> Self {
        let mut miners: BTreeMap<String, Vec<SubmissionCheck>> = BTreeMap::new();
        for c in checks {
            miners.entry(c.miner_hotkey.clone()).or_default().push(c);
        }
        ChallengeResults {
            challenge_id: s3key::challenge_id_or_sandbox(challenge.challenge_id.as_deref()).to_owned(),
            target_drand_round: challenge.target_drand_round,
            miners,
        }
    }
}

/// The PNG file signature.
pub const PNG_MAGIC: [u8; 8] = *b"\x89PNG\r\n\x1a\n";
/// How long a presigned GET URL stays valid (signed anew per attempt).
const PRESIGN_EXPIRY: Duration = Duration::from_secs(300);
/// Attempts per download for transient failures (connection errors, 5xx, 429).
const FETCH_ATTEMPTS: u32 = 3;

/// Where the submissions are and how to read them.
#[derive(Clone)]
pub struct FetchConfig {
    pub bucket: String,
    pub region: String,
    /// Endpoint override (`http://127.0.0.1:9000`); default AWS `https://s3.{region}.amazonaws.com`.
    pub endpoint: Option<String>,
    /// Path-style URLs; needed for endpoints reached by IP address.
    pub path_style: bool,
    /// SigV4 credentials; `None` reads anonymously.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub request_timeout: Duration,
    /// Larger objects are refused (a MIID ciphertext is a PNG plus 256 bytes).
    pub max_object_bytes: u64,
    /// Downloads in flight at once.
    pub concurrency: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            bucket: s3key::DEFAULT_BUCKET.to_owned(),
            region: s3key::DEFAULT_REGION.to_owned(),
            endpoint: None,
            path_style: false,
            access_key: None,
            secret_key: None,
            request_timeout: Duration::from_secs(30),
            max_object_bytes: 64 << 20,
            concurrency: 8,
        }
    }
}

impl std::fmt::Debug for FetchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchConfig")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<redacted>"))
            .field("request_timeout", &self.request_timeout)
            .field("max_object_bytes", &self.max_object_bytes)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl FetchConfig {
    /// A private endpoint (s3-mock, MinIO): path-style, SigV4.
    pub fn private(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str) -> Self {
        FetchConfig {
            endpoint: Some(endpoint.to_owned()),
            bucket: bucket.to_owned(),
            path_style: true,
            access_key: Some(access_key.to_owned()),
            secret_key: Some(secret_key.to_owned()),
            ..FetchConfig::default()
        }
    }
}

/// Where round signatures come from.
#[derive(Clone)]
pub enum BeaconSource {
    /// A drand HTTP endpoint; each round is awaited at most `wait` (then the submissions locked
    /// to it are [`Failure::NotYetRevealed`]).
    Drand { client: Arc<Client>, wait: Duration },
    /// Signatures known in advance (e.g. from another validator or a recorded run).
    Signatures { chain: ChainKey, signatures: HashMap<u64, [u8; 48]> },
}

/// Setting post-validation up failed (bad configuration); per-submission problems are
/// [`Failure`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum PostvalError {
    #[error("invalid post-validation S3 configuration: {0}")]
    Config(String),
}

/// The challenge the submissions answer.
#[derive(Debug, Clone, Serialize)]
pub struct Challenge {
    /// `image_request.challenge_id` (`None` → `sandbox_test`).
    pub challenge_id: Option<String>,
    pub target_drand_round: u64,
    pub reveal_timestamp: i64,
}

/// One miner's answer.
#[derive(Debug, Clone)]
pub struct MinerSubmissions {
    /// The miner's hotkey (SS58), from the metagraph — not from the answer.
    pub hotkey: String,
    pub submissions: Vec<S3Submission>,
}

/// Which object of a submission a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Primary,
    /// Screen replay, second photo (`s3_key_angle2`).
    Angle2,
}

/// Why a submission failed post-validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Failure {
    /// Not `submissions/…/….tlock` with ≥ 6 parts and non-empty components.
    MalformedKey { detail: String },
    /// The key's hotkey component is not the submitting miner's.
    KeyWrongHotkey { expected: String, found: String },
    /// The key's challenge component is not this challenge's.
    KeyWrongChallenge { expected: String, found: String },
    /// The key's path_signature component differs from the reported `path_signature`.
    KeyWrongPathSignature { reported: String, in_key: String },
    /// S3 answered 404.
    Missing,
    /// Any other download failure (403, 5xx after retries, connection errors, too large).
    FetchError { detail: String },
    /// No verified beacon for the ciphertext's round within the wait.
    NotYetRevealed { round: u64, detail: String },
    /// Not a timelock ciphertext, or it did not decrypt with the round's signature.
    DecryptFailed { detail: String },
    /// SHA-256 of the plaintext is not the reported `image_hash`.
    HashMismatch { expected: String, actual: String },
    /// `signature` does not verify under the miner's hotkey.
    BadSignature { detail: String },
    /// The plaintext is not a PNG.
    NotAnImage { detail: String },
}

/// The verdict on one reported object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionCheck {
    pub miner_hotkey: String,
    /// Position in the miner's `s3_submissions`.
    pub index: usize,
    pub part: Part,
    pub s3_key: String,
    pub variation_type: String,
    /// No failures.
    pub ok: bool,
    pub failures: Vec<Failure>,
    /// Round the ciphertext is locked to, when it parsed.
    pub ciphertext_round: Option<u64>,
    pub ciphertext_bytes: Option<usize>,
    pub plaintext_bytes: Option<usize>,
    /// Image checks, when configured and the object decrypted.
    #[serde(default)]
    pub image: Option<ImageAssessment>,
}

/// Downloads and checks submissions.
pub struct PostValidator {
    http: reqwest::Client,
    bucket: Bucket,
    credentials: Option<Credentials>,
    config: FetchConfig,
    beacon: BeaconSource,
    images: Option<ImageChecks>,
}

/// One object to check.
struct Item<'a> {
    order: (usize, usize, Part),
    miner: &'a str,
    public: Result<PublicKey, String>,
    sub: &'a S3Submission,
    part: Part,
    key: &'a str,
    image_hash: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Position of a check: (miner, submission, part).
type Order = (usize, usize, Part);
/// A check and, when it decrypted, the plaintext (for the image checks).
type Checked = (SubmissionCheck, Option<Vec<u8>>);

type RoundCache = Mutex<HashMap<u64, Arc<OnceCell<Result<[u8; 48], String>>>>>;

impl PostValidator {
    pub fn new(config: FetchConfig, beacon: BeaconSource) -> Result<Self, PostvalError> {
        let endpoint = config.endpoint.clone().unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", config.region));
        let url: Url =
            endpoint.parse().map_err(|e| PostvalError::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        let style = if config.path_style { UrlStyle::Path } else { UrlStyle::VirtualHost };
        let bucket = Bucket::new(url, style, config.bucket.clone(), config.region.clone())
            .map_err(|e| PostvalError::Config(format!("bucket {:?} at {endpoint:?}: {e:?}", config.bucket)))?;
        let credentials = match (&config.access_key, &config.secret_key) {
            (Some(k), Some(s)) => Some(Credentials::new(k.clone(), s.clone())),
            (None, None) => None,
            _ => return Err(PostvalError::Config("give both an access key and a secret key, or neither".into())),
        };
        if config.concurrency == 0 {
            return Err(PostvalError::Config("concurrency must be at least 1".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| PostvalError::Config(format!("HTTP client: {e}")))?;
        Ok(PostValidator { http, bucket, credentials, config, beacon, images: None })
    }

    /// Adds the image checks (decode, duplicates, identity) to every decrypted submission.
    pub fn with_image_checks(mut self, checks: ImageChecks) -> Self {
        self.images = Some(checks);
        self
    }

    /// Checks every miner's submissions; results in input order (miner, index, primary first).
    pub async fn check_all(&self, challenge: &Challenge, miners: &[MinerSubmissions]) -> Vec<SubmissionCheck> {
        let mut items = Vec::new();
        for (m, miner) in miners.iter().enumerate() {
            let public = PublicKey::from_ss58(&miner.hotkey).map_err(|e| e.to_string());
            for (i, sub) in miner.submissions.iter().enumerate() {
                items.push(Item {
                    order: (m, i, Part::Primary),
                    miner: &miner.hotkey,
                    public: public.clone(),
                    sub,
                    part: Part::Primary,
                    key: &sub.s3_key,
                    image_hash: Some(&sub.image_hash),
                    signature: Some(&sub.signature),
                });
                if let Some(key) = &sub.s3_key_angle2 {
                    items.push(Item {
                        order: (m, i, Part::Angle2),
                        miner: &miner.hotkey,
                        public: public.clone(),
                        sub,
                        part: Part::Angle2,
                        key,
                        image_hash: sub.image_hash_angle2.as_deref(),
                        signature: sub.signature_angle2.as_deref(),
                    });
                }
            }
        }
        let cache: RoundCache = Mutex::new(HashMap::new());
        let cache = &cache;
        let mut results: Vec<(Order, Checked)> = futures::stream::iter(items)
            .map(|item| async move { (item.order, self.check_one(challenge, item, cache).await) })
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;
        results.sort_by_key(|(order, _)| (order.0, order.1, order.2 == Part::Angle2));
        let (mut checks, plaintexts): (Vec<_>, Vec<_>) = results.into_iter().map(|(_, r)| r).unzip();
        if let Some(images) = &self.images {
            let images = images.clone();
            let owners = checks_keys(&checks);
            let assessed = tokio::task::spawn_blocking(move || assess_images(&images, &plaintexts, &owners))
                .await
                .unwrap_or_default();
            for (c, a) in checks.iter_mut().zip(assessed) {
                c.image = a;
            }
        }
        checks
    }

    /// Checks one miner's submissions.
    pub async fn check_miner(&self, challenge: &Challenge, miner: &MinerSubmissions) -> Vec<SubmissionCheck> {
        self.check_all(challenge, std::slice::from_ref(miner)).await
    }

    async fn check_one(
        &self,
        challenge: &Challenge,
        item: Item<'_>,
        cache: &RoundCache,
    ) -> (SubmissionCheck, Option<Vec<u8>>) {
        let challenge_id = s3key::challenge_id_or_sandbox(challenge.challenge_id.as_deref());
        let mut check = SubmissionCheck {
            miner_hotkey: item.miner.to_owned(),
            index: item.order.1,
            part: item.part,
            s3_key: item.key.to_owned(),
            variation_type: item.sub.variation_type.clone(),
            ok: false,
            failures: Vec::new(),
            ciphertext_round: None,
            ciphertext_bytes: None,
            plaintext_bytes: None,
            image: None,
        };

        // Signature (independent of the download).
        match (&item.public, item.image_hash, item.signature) {
            (Err(e), _, _) => {
                check.failures.push(Failure::BadSignature { detail: format!("miner hotkey is not SS58: {e}") })
            }
            (Ok(_), None, _) | (Ok(_), _, None) => check
                .failures
                .push(Failure::BadSignature { detail: "image hash or signature missing for this object".into() }),
            (Ok(pk), Some(hash), Some(sig)) => {
                if let Err(e) = verify_submission(pk, challenge_id, hash, sig) {
                    check.failures.push(Failure::BadSignature { detail: e.to_string() });
                }
            }
        }

        // Key: attributable to this miner, this challenge and the reported path_signature?
        let key_failures = key_failures(item.key, item.miner, challenge_id, &item.sub.path_signature);
        if !key_failures.is_empty() {
            check.failures.extend(key_failures);
            return (finish(check), None);
        }

        let ciphertext = match self.fetch(item.key).await {
            Ok(b) => b,
            Err(f) => {
                check.failures.push(f);
                return (finish(check), None);
            }
        };
        check.ciphertext_bytes = Some(ciphertext.len());
        let round = match miid_tlock::round_of(&ciphertext) {
            Ok((_, r)) => r,
            Err(e) => {
                check.failures.push(Failure::DecryptFailed { detail: e.to_string() });
                return (finish(check), None);
            }
        };
        check.ciphertext_round = Some(round);
        let (chain, signature) = match self.round_signature(round, cache).await {
            Ok(x) => x,
            Err(detail) => {
                check.failures.push(Failure::NotYetRevealed { round, detail });
                return (finish(check), None);
            }
        };
        let plaintext = match miid_tlock::decrypt(&ciphertext, &chain, &signature) {
            Ok(p) => p,
            Err(e) => {
                check.failures.push(Failure::DecryptFailed { detail: e.to_string() });
                return (finish(check), None);
            }
        };
        check.plaintext_bytes = Some(plaintext.len());
        let actual = sha256_hex(&plaintext);
        match item.image_hash {
            Some(expected) if expected.eq_ignore_ascii_case(&actual) => {}
            expected => {
                check.failures.push(Failure::HashMismatch { expected: expected.unwrap_or_default().to_owned(), actual })
            }
        }
        if let Err(detail) = png_check(&plaintext) {
            check.failures.push(Failure::NotAnImage { detail });
        }
        (finish(check), Some(plaintext))
    }

    /// GET one object (retrying transient failures), at most `max_object_bytes`.
    pub async fn fetch(&self, key: &str) -> Result<Vec<u8>, Failure> {
        let mut last = String::new();
        for attempt in 0..FETCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let url = GetObject::new(&self.bucket, self.credentials.as_ref(), key).sign(PRESIGN_EXPIRY);
            let mut resp = match self.http.get(url).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = e.without_url().to_string();
                    continue;
                }
            };
            let status = resp.status().as_u16();
            match status {
                200 => {}
                404 => return Err(Failure::Missing),
                429 | 500..=599 => {
                    last = format!("HTTP {status}");
                    continue;
                }
                _ => {
                    let body = resp.text().await.unwrap_or_default();
                    let code = xml_tag(&body, "Code").map(|c| format!(" {c}")).unwrap_or_default();
                    return Err(Failure::FetchError { detail: format!("GET {key}: HTTP {status}{code}") });
                }
            }
            if resp.content_length().is_some_and(|n| n > self.config.max_object_bytes) {
                return Err(Failure::FetchError {
                    detail: format!("object larger than {} bytes", self.config.max_object_bytes),
                });
            }
            let mut body = Vec::new();
            loop {
                match resp.chunk().await {
                    Ok(Some(c)) => {
                        body.extend_from_slice(&c);
                        if body.len() as u64 > self.config.max_object_bytes {
                            return Err(Failure::FetchError {
                                detail: format!("object larger than {} bytes", self.config.max_object_bytes),
                            });
                        }
                    }
                    Ok(None) => return Ok(body),
                    Err(e) => {
                        last = format!("reading body: {}", e.without_url());
                        break;
                    }
                }
            }
        }
        Err(Failure::FetchError { detail: format!("GET {key}: {last} (after {FETCH_ATTEMPTS} attempts)") })
    }

    /// The verified signature of `round`, waited for once per round per [`check_all`] call.
    ///
    /// [`check_all`]: PostValidator::check_all
    async fn round_signature(&self, round: u64, cache: &RoundCache) -> Result<(ChainKey, [u8; 48]), String> {
        match &self.beacon {
            BeaconSource::Signatures { chain, signatures } => signatures
                .get(&round)
                .map(|s| (*chain, *s))
                .ok_or_else(|| format!("no signature provided for round {round}")),
            BeaconSource::Drand { client, wait } => {
                let cell = cache.lock().await.entry(round).or_default().clone();
                let sig = cell
                    .get_or_init(|| async {
                        client.wait_for(round, *wait).await.map(|b| b.signature).map_err(|e| match e {
                            ClientError::Timeout { .. } => format!("round {round} not published within {wait:?}"),
                            other => other.to_string(),
                        })
                    })
                    .await
                    .clone()?;
                Ok((client.chain_key(), sig))
            }
        }
    }
}

fn checks_keys(checks: &[SubmissionCheck]) -> Vec<(String, String)> {
    checks.iter().map(|c| (c.miner_hotkey.clone(), format!("{}#{}", c.miner_hotkey, c.index))).collect()
}

/// Image checks over all decrypted plaintexts of a challenge (`owners[i]` = (miner, label)).
fn assess_images(
    images: &ImageChecks,
    plaintexts: &[Option<Vec<u8>>],
    owners: &[(String, String)],
) -> Vec<Option<ImageAssessment>> {
    use miid_faces::Fingerprint;
    let seed_fp = Fingerprint::of(&images.seed);
    let seed_png = miid_faces::decode::encode_png(&images.seed).unwrap_or_default();
    let seed_file = images.seed_file.as_deref().unwrap_or(&seed_png);
    let seed_embedding = images.embedder.as_ref().and_then(|m| m.embed(&images.seed).ok());
    let decoded: Vec<Option<Result<image::RgbImage, String>>> = plaintexts
        .iter()
        .map(|p| p.as_ref().map(|b| miid_faces::decode::decode_rgb(b, &images.limits).map_err(|e| e.to_string())))
        .collect();
    let fps: Vec<Option<Fingerprint>> =
        decoded.iter().map(|d| d.as_ref().and_then(|r| r.as_ref().ok()).map(Fingerprint::of)).collect();
    let mut out = Vec::with_capacity(plaintexts.len());
    for (i, d) in decoded.iter().enumerate() {
        let Some(d) = d else {
            out.push(None);
            continue;
        };
        let mut a = ImageAssessment {
            decode_error: None,
            width: None,
            height: None,
            phash: None,
            duplicate_of_seed: false,
            duplicate_of: Vec::new(),
            identity_similarity: None,
            identity_model: None,
            score_hint: 1,
        };
        match d {
            Err(e) => {
                a.decode_error = Some(e.clone());
                a.score_hint = 0;
            }
            Ok(img) => {
                let fp = fps[i].as_ref().expect("decoded images have fingerprints");
                a.width = Some(img.width());
                a.height = Some(img.height());
                a.phash = Some(fp.hash.to_hex());
                let bytes = plaintexts[i].as_deref().unwrap_or_default();
                a.duplicate_of_seed = bytes == seed_file
                    || bytes == seed_png.as_slice()
                    || *img == images.seed
                    || fp.is_copy_of(&seed_fp);
                for (j, other) in fps.iter().enumerate() {
                    let same_bytes = plaintexts[j].as_deref() == Some(bytes);
                    if j != i
                        && owners[j].0 != owners[i].0
                        && (same_bytes || other.as_ref().is_some_and(|o| o.is_copy_of(fp)))
                    {
                        a.duplicate_of.push(owners[j].1.clone());
                    }
                }
                if let (Some(model), Some(base)) = (&images.embedder, &seed_embedding) {
                    a.identity_model = Some(model.name().to_owned());
                    a.identity_similarity = model.embed(img).ok().map(|e| miid_faces::similarity(base, &e));
                }
                a.score_hint = if a.duplicate_of_seed || !a.duplicate_of.is_empty() {
                    -1
                } else if a.identity_similarity.is_some_and(|s| s < images.identity_floor) {
                    0
                } else {
                    1
                };
            }
        }
        out.push(Some(a));
    }
    out
}

fn finish(mut check: SubmissionCheck) -> SubmissionCheck {
    check.ok = check.failures.is_empty();
    check
}

/// Key checks: shape, hotkey, challenge, path_signature (component comparison only).
pub fn key_failures(key: &str, miner_hotkey: &str, challenge_id: &str, reported_path_signature: &str) -> Vec<Failure> {
    let c = match parse_key(key) {
        Ok(c) => c,
        Err(e) => return vec![Failure::MalformedKey { detail: e.to_string() }],
    };
    let mut out = Vec::new();
    if !same_account(c.miner_hotkey, miner_hotkey) {
        out.push(Failure::KeyWrongHotkey { expected: miner_hotkey.to_owned(), found: c.miner_hotkey.to_owned() });
    }
    if c.challenge_id != challenge_id {
        out.push(Failure::KeyWrongChallenge { expected: challenge_id.to_owned(), found: c.challenge_id.to_owned() });
    }
    if c.path_signature != reported_path_signature {
        out.push(Failure::KeyWrongPathSignature {
            reported: reported_path_signature.to_owned(),
            in_key: c.path_signature.to_owned(),
        });
    } else if !s3key::is_path_signature(c.path_signature) {
        out.push(Failure::MalformedKey {
            detail: format!("path_signature {:?} is not 16 lowercase hex characters", c.path_signature),
        });
    }
    out
}

/// Same SS58 text, or the same public key under another SS58 prefix.
fn same_account(a: &str, b: &str) -> bool {
    a == b || matches!((PublicKey::from_ss58(a), PublicKey::from_ss58(b)), (Ok(x), Ok(y)) if x == y)
}

/// PNG signature followed by an `IHDR` chunk of 13 bytes.
pub fn png_check(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 8 || bytes[..8] != PNG_MAGIC {
        let head = hex_head(bytes);
        return Err(format!("no PNG signature (first bytes {head})"));
    }
    if bytes.len() < 8 + 8 + 13 || &bytes[12..16] != b"IHDR" || bytes[8..12] != [0, 0, 0, 13] {
        return Err("PNG signature without an IHDR chunk".into());
    }
    Ok(())
}

fn hex_head(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    const KEY: &str = "submissions/challenge_1754000000_5GrwvaEF/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/a1b2c3d4e5f6_m_doc/background_edit_1754000187.png.tlock";

    #[test]
    fn key_checks() {
        let cid = "challenge_1754000000_5GrwvaEF";
        assert!(key_failures(KEY, BOB, cid, "5658f9bf506f29b3").is_empty());
        let alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        assert!(matches!(key_failures(KEY, alice, cid, "5658f9bf506f29b3")[..], [Failure::KeyWrongHotkey { .. }]));
        assert!(matches!(key_failures(KEY, BOB, "other", "5658f9bf506f29b3")[..], [Failure::KeyWrongChallenge { .. }]));
        assert!(matches!(key_failures(KEY, BOB, cid, "0000000000000000")[..], [Failure::KeyWrongPathSignature { .. }]));
        assert!(matches!(key_failures("submissions/x.png", BOB, cid, "")[..], [Failure::MalformedKey { .. }]));
        let json = serde_json::to_value(Failure::HashMismatch { expected: "a".into(), actual: "b".into() }).unwrap();
        assert_eq!(json, serde_json::json!({"reason": "hash_mismatch", "expected": "a", "actual": "b"}));
    }

    /// An embedder that reads the identity off the top-left pixel's red channel (for tests).
    struct RedIsIdentity;

    impl miid_faces::FaceEmbedder for RedIsIdentity {
        fn name(&self) -> &str {
            "red"
        }
        fn embed(&self, img: &image::RgbImage) -> Result<Vec<f32>, miid_faces::EmbedError> {
            let r = f32::from(img.get_pixel(0, 0).0[0]) / 255.0;
            Ok(vec![r, 1.0 - r])
        }
    }

    fn picture(seed: u32, red: u8) -> Vec<u8> {
        let img = image::RgbImage::from_fn(64, 64, |x, y| {
            if x == 0 && y == 0 {
                image::Rgb([red, 0, 0])
            } else {
                image::Rgb([((x * (3 + seed) + y * (7 + seed)) % 251) as u8, (y * 3) as u8, 90])
            }
        });
        miid_faces::decode::encode_png(&img).unwrap()
    }

    #[test]
    fn image_assessments() {
        let seed_bytes = picture(0, 255);
        let checks = ImageChecks::from_seed_file(seed_bytes.clone(), Some(Arc::new(RedIsIdentity))).unwrap();
        let plaintexts = vec![
            Some(picture(1, 255)),                   // A#0: honest, same identity
            Some(seed_bytes),                        // A#1: the seed itself
            Some(b"\x89PNG\r\n\x1a\nnope".to_vec()), // B#0: not decodable
            Some(picture(1, 255)),                   // B#1: copies A#0
            Some(picture(2, 0)),                     // C#0: another identity
            Some(picture(3, 255)),                   // C#1: same picture as C#2 (same miner: not flagged)
            Some(picture(3, 255)),                   // C#2
            None,                                    // C#3: did not decrypt
        ];
        let owners: Vec<(String, String)> =
            [("A", 0), ("A", 1), ("B", 0), ("B", 1), ("C", 0), ("C", 1), ("C", 2), ("C", 3)]
                .iter()
                .map(|(m, i)| (m.to_string(), format!("{m}#{i}")))
                .collect();
        let a = assess_images(&checks, &plaintexts, &owners);
        let hint = |i: usize| a[i].as_ref().unwrap().score_hint;
        assert_eq!(hint(0), -1, "A#0 is duplicated by B#1: both are flagged");
        assert_eq!(a[0].as_ref().unwrap().duplicate_of, vec!["B#1".to_owned()]);
        assert!(a[1].as_ref().unwrap().duplicate_of_seed);
        assert_eq!(hint(1), -1);
        assert_eq!(hint(2), 0);
        assert!(a[2].as_ref().unwrap().decode_error.is_some());
        assert_eq!(hint(3), -1);
        assert_eq!(hint(4), 0, "identity {:?}", a[4].as_ref().unwrap().identity_similarity);
        assert_eq!((hint(5), hint(6)), (1, 1), "one miner's own repeats are not cross-miner duplicates");
        assert!(a[7].is_none());
        assert_eq!(a[0].as_ref().unwrap().identity_model.as_deref(), Some("red"));
        let json = serde_json::to_value(a[4].as_ref().unwrap()).unwrap();
        assert_eq!(json["score_hint"], 0);
    }

    #[test]
    fn png_checks() {
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0; 17]);
        assert!(png_check(&png).is_ok());
        assert!(png_check(b"GIF89a").unwrap_err().contains("no PNG signature"));
        assert!(png_check(&PNG_MAGIC).unwrap_err().contains("IHDR"));
    }
}
