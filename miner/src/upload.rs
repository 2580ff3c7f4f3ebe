//! Uploading timelocked images to S3 (spec `miner-protocol.md` 3.3 step 8.6, 5).
//!
//! # What mainnet needs, and what this adds
//!
//! Mainnet is one anonymous, virtual-hosted `PUT https://{bucket}.s3.{region}.amazonaws.com/{key}`
//! with `Content-Type: application/octet-stream` and no other header (5.2). The reference miner
//! fires it once and, on failure, *still reports the key* (quirk Q7) and may reuse a key within
//! one second (quirk Q6). This uploader keeps the wire request identical and fixes the rest:
//!
//! - **Unique keys** ([`Uploader::reserve_key`]): a key already used by this process moves to the
//!   next second, so two `background_edit` entries never overwrite each other. The key format
//!   stays exactly the reference's (`{file_type}_{timestamp}.png.tlock`), because the grading
//!   service may parse it.
//! - **Only landed objects are reportable** ([`UploadOutcome::reportable`]): an entry that is not
//!   yet in S3 is reported only if the caller explicitly opts into [`ReportPolicy::AllowQueued`].
//! - **Retries** with exponential backoff and jitter for transient failures only (connection
//!   errors, timeouts, HTTP 5xx, 408, 429). A 4xx such as `403 SignatureDoesNotMatch` is final and
//!   surfaces at once with S3's error code. Re-sending is safe: a PUT of the same bytes to the same
//!   key is idempotent, so an attempt whose answer was lost is simply repeated.
//! - **A bounded on-disk queue** ([`UploadConfig::queue_dir`]): what cannot be uploaded before the
//!   answer is due is written to disk (ciphertext + JSON sidecar) and drained in the background
//!   ([`Uploader::drain`], [`Uploader::spawn_drain`]) — also by a new process after a restart —
//!   so an S3 outage that ends before the reveal loses nothing.
//! - **A deadline tied to the reveal** ([`Uploader::retry_until`]): nobody can read an object
//!   before `reveal_timestamp`, and the grader reads it soon after, so retrying past
//!   `reveal_timestamp − reveal_margin` is pointless; queued entries past it are dropped. The
//!   deadline is part of every [`UploadOutcome`], so the forward can decide what to report.
//! - **SigV4 for private buckets**: with an access key, requests are signed (presigned query
//!   string, valid 5 minutes) — for MinIO, s3-mock, or an operator's own bucket behind a custom
//!   endpoint with path-style addressing. Never needed on mainnet.
//!
//! # Why `rusty-s3`
//!
//! SigV4 is done by [`rusty_s3`] (maintained, sans-IO: it only builds and presigns URLs), and
//! every request goes through one `reqwest` 0.12 client — the same HTTP stack the anonymous
//! mainnet PUT needs anyway. Retry, error classification and the queue therefore have one code
//! path for both modes. `object_store` was the alternative; it brings its own HTTP client
//! (reqwest 0.13), its own retry layer (which would double ours) and needs a process-wide rustls
//! crypto provider to be installed; rusty-s3 with only its `rustcrypto` feature adds `hmac`,
//! `jiff` and `percent-encoding`. rusty-s3 also percent-encodes every key segment (`+` becomes
//! `%2B`, which matters for R1 keys: S3 would read a raw `+` in a path as a space).
//!
//! # Use
//!
//! ```no_run
//! # async fn demo(hotkey: miid_protocol::Hotkey, req: miid_protocol::synapse::ImageRequest,
//! #               png: Vec<u8>, ciphertext: Vec<u8>) -> Result<(), miid_miner::upload::UploadError> {
//! use miid_miner::upload::{ReportPolicy, SubmissionContext, UploadConfig, Uploader};
//! let uploader = Uploader::new(UploadConfig::default())?; // mainnet bucket, anonymous
//! let _drain = uploader.spawn_drain(std::time::Duration::from_secs(10));
//! let ctx = SubmissionContext::new(&hotkey, &req, miid_protocol::Generation::R2);
//! let answer_by = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
//! let done = uploader.submit_image(&ctx, "background_edit", &png, ciphertext.into(), Some(answer_by)).await?;
//! if done.outcome.reportable(ReportPolicy::UploadedOnly) {
//!     // push done.submission into s3_submissions
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rand::Rng;
use rusty_s3::actions::PutObject;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use url::Url;

use miid_protocol::Hotkey;
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{self as s3key, S3KeyError, SubmissionKey};
use miid_protocol::synapse::{Generation, ImageRequest, S3Submission};

/// Reference client timeout for one PUT (5.2).
pub const DEFAULT_REQUEST_TIMEOUT_S: f64 = 30.0;
/// Default queue bound: entries.
pub const DEFAULT_QUEUE_MAX_ENTRIES: usize = 1000;
/// Default queue bound: bytes (2 GiB; an R2 answer is five ~1–2 MB ciphertexts).
pub const DEFAULT_QUEUE_MAX_BYTES: u64 = 2 << 30;
/// Default first backoff.
pub const DEFAULT_RETRY_INITIAL_MS: u64 = 250;
/// Default backoff cap.
pub const DEFAULT_RETRY_MAX_MS: u64 = 30_000;
/// Default margin before the reveal after which retrying stops.
pub const DEFAULT_REVEAL_MARGIN_S: u64 = 60;
/// How long a presigned (SigV4) URL stays valid; it is signed anew for every attempt.
const PRESIGN_EXPIRY: Duration = Duration::from_secs(300);
/// How many used keys [`Uploader::reserve_key`] remembers (per process).
const USED_KEYS_CAP: usize = 65_536;
/// Version of the queue sidecar format.
const QUEUE_FORMAT: u32 = 1;

/// A source of Unix seconds; injectable so tests can move time.
pub type UnixClock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> UnixClock {
    Arc::new(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    })
}

/// Uploader configuration. Every field has a flag and an environment variable (the reference's
/// `MIID_USE_S3`, `MIID_S3_BUCKET`, `MIID_S3_REGION` included), so it can be flattened into a
/// command line with `#[command(flatten)]`.
#[derive(Clone, clap::Args)]
pub struct UploadConfig {
    /// Upload at all (`MIID_USE_S3=false` disables uploads, as in the reference).
    #[arg(long = "s3.enabled", env = "MIID_USE_S3", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub enabled: bool,
    /// Bucket name.
    #[arg(long = "s3.bucket", env = "MIID_S3_BUCKET", default_value = s3key::DEFAULT_BUCKET)]
    pub bucket: String,
    /// Region (part of the AWS host name and of SigV4 signatures).
    #[arg(long = "s3.region", env = "MIID_S3_REGION", default_value = s3key::DEFAULT_REGION)]
    pub region: String,
    /// Endpoint override, e.g. `http://127.0.0.1:9000` for MinIO or s3-mock. Default: AWS,
    /// `https://s3.{region}.amazonaws.com`.
    #[arg(long = "s3.endpoint", env = "MIID_S3_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Path-style URLs (`{endpoint}/{bucket}/{key}`) instead of virtual-hosted ones; needed for
    /// endpoints reached by IP address (s3-mock, most MinIO set-ups).
    #[arg(long = "s3.path_style", env = "MIID_S3_PATH_STYLE", default_value_t = false, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub path_style: bool,
    /// Access key for SigV4; without it uploads are anonymous (mainnet).
    #[arg(long = "s3.access_key", env = "MIID_S3_ACCESS_KEY")]
    pub access_key: Option<String>,
    /// Secret key for SigV4 (required with an access key).
    #[arg(long = "s3.secret_key", env = "MIID_S3_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Directory of the on-disk retry queue. Default: `miid_upload_queue` in the system
    /// temporary directory.
    #[arg(long = "s3.queue_dir", env = "MIID_S3_QUEUE_DIR")]
    pub queue_dir: Option<PathBuf>,
    /// Most entries the queue holds; further failed uploads are not queued.
    #[arg(long = "s3.queue_max_entries", env = "MIID_S3_QUEUE_MAX_ENTRIES", default_value_t = DEFAULT_QUEUE_MAX_ENTRIES)]
    pub queue_max_entries: usize,
    /// Most ciphertext bytes the queue holds.
    #[arg(long = "s3.queue_max_bytes", env = "MIID_S3_QUEUE_MAX_BYTES", default_value_t = DEFAULT_QUEUE_MAX_BYTES)]
    pub queue_max_bytes: u64,
    /// Timeout of one HTTP request, seconds.
    #[arg(long = "s3.timeout", env = "MIID_S3_TIMEOUT", default_value_t = DEFAULT_REQUEST_TIMEOUT_S)]
    pub request_timeout_s: f64,
    /// First retry delay, milliseconds (doubled per attempt, with jitter).
    #[arg(long = "s3.retry_initial_ms", env = "MIID_S3_RETRY_INITIAL_MS", default_value_t = DEFAULT_RETRY_INITIAL_MS)]
    pub retry_initial_ms: u64,
    /// Retry delay cap, milliseconds.
    #[arg(long = "s3.retry_max_ms", env = "MIID_S3_RETRY_MAX_MS", default_value_t = DEFAULT_RETRY_MAX_MS)]
    pub retry_max_ms: u64,
    /// Stop retrying this many seconds before `reveal_timestamp`.
    #[arg(long = "s3.reveal_margin", env = "MIID_S3_REVEAL_MARGIN", default_value_t = DEFAULT_REVEAL_MARGIN_S)]
    pub reveal_margin_s: u64,
}

impl Default for UploadConfig {
    /// Mainnet: the subnet bucket, anonymous virtual-hosted PUT, queue in the temp directory.
    fn default() -> Self {
        UploadConfig {
            enabled: true,
            bucket: s3key::DEFAULT_BUCKET.to_owned(),
            region: s3key::DEFAULT_REGION.to_owned(),
            endpoint: None,
            path_style: false,
            access_key: None,
            secret_key: None,
            queue_dir: None,
            queue_max_entries: DEFAULT_QUEUE_MAX_ENTRIES,
            queue_max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            request_timeout_s: DEFAULT_REQUEST_TIMEOUT_S,
            retry_initial_ms: DEFAULT_RETRY_INITIAL_MS,
            retry_max_ms: DEFAULT_RETRY_MAX_MS,
            reveal_margin_s: DEFAULT_REVEAL_MARGIN_S,
        }
    }
}

impl fmt::Debug for UploadConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadConfig")
            .field("enabled", &self.enabled)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<redacted>"))
            .field("queue_dir", &self.queue_dir())
            .field("queue_max_entries", &self.queue_max_entries)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("request_timeout_s", &self.request_timeout_s)
            .field("retry_initial_ms", &self.retry_initial_ms)
            .field("retry_max_ms", &self.retry_max_ms)
            .field("reveal_margin_s", &self.reveal_margin_s)
            .finish()
    }
}

impl UploadConfig {
    /// The queue directory, with its default.
    pub fn queue_dir(&self) -> PathBuf {
        self.queue_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("miid_upload_queue"))
    }

    /// The endpoint requests go to: the override, or AWS's regional endpoint.
    pub fn endpoint_url(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.region))
    }

    /// Whether requests are signed (SigV4).
    pub fn is_signed(&self) -> bool {
        self.access_key.is_some()
    }

    /// A private-bucket configuration (MinIO, s3-mock, an operator's S3): custom endpoint,
    /// path-style, SigV4 credentials.
    pub fn private(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str) -> Self {
        UploadConfig {
            endpoint: Some(endpoint.to_owned()),
            bucket: bucket.to_owned(),
            path_style: true,
            access_key: Some(access_key.to_owned()),
            secret_key: Some(secret_key.to_owned()),
            ..UploadConfig::default()
        }
    }

    fn check(&self) -> Result<(Bucket, Option<Credentials>), UploadError> {
        let bad = |m: String| Err(UploadError::Config(m));
        if self.bucket.is_empty() {
            return bad("the bucket name is empty (--s3.bucket / MIID_S3_BUCKET)".into());
        }
        if self.region.is_empty() {
            return bad("the region is empty (--s3.region / MIID_S3_REGION)".into());
        }
        let credentials = match (&self.access_key, &self.secret_key) {
            (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => Some(Credentials::new(k.clone(), s.clone())),
            (None, None) => None,
            _ => {
                return bad(
                    "SigV4 needs both an access key and a secret key (--s3.access_key/--s3.secret_key); give both or neither"
                        .into(),
                );
            }
        };
        if !(self.request_timeout_s.is_finite() && self.request_timeout_s > 0.0) {
            return bad(format!("request timeout must be positive, got {}", self.request_timeout_s));
        }
        if self.retry_initial_ms == 0 || self.retry_max_ms < self.retry_initial_ms {
            return bad(format!(
                "retry delays must satisfy 0 < initial ({}) <= max ({})",
                self.retry_initial_ms, self.retry_max_ms
            ));
        }
        let endpoint = self.endpoint_url();
        let url: Url =
            endpoint.parse().map_err(|e| UploadError::Config(format!("endpoint {endpoint:?} is not a URL: {e}")))?;
        let style = if self.path_style { UrlStyle::Path } else { UrlStyle::VirtualHost };
        let bucket = Bucket::new(url, style, self.bucket.clone(), self.region.clone()).map_err(|e| {
            UploadError::Config(format!(
                "bucket {:?} at endpoint {endpoint:?}: {e:?}{}",
                self.bucket,
                if self.path_style { "" } else { " (endpoints reached by IP address need --s3.path_style true)" }
            ))
        })?;
        Ok((bucket, credentials))
    }
}

/// Why an upload (or setting one up) failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("invalid S3 configuration: {0}")]
    Config(String),
    #[error("invalid S3 key: {0}")]
    Key(#[from] S3KeyError),
    /// Connection refused/reset, timeout, interrupted body: transient.
    #[error("PUT {target}: {source}")]
    Transport { target: String, source: reqwest::Error },
    /// S3 answered with a non-success status; `code` is S3's `<Code>` when the body had one.
    #[error("PUT {target} answered HTTP {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
            message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status { target: String, status: u16, code: Option<String>, message: Option<String> },
    #[error("upload queue at {dir}: {source}")]
    Queue { dir: PathBuf, source: std::io::Error },
    #[error("upload queue is full ({entries} entries, {bytes} bytes; limits {max_entries} entries, {max_bytes} bytes)")]
    QueueFull { entries: usize, bytes: u64, max_entries: usize, max_bytes: u64 },
    #[error("uploads are disabled (MIID_USE_S3=false)")]
    Disabled,
    #[error("the upload deadline (reveal_timestamp {reveal_timestamp} − margin = {retry_until}) has passed")]
    DeadlinePassed { reveal_timestamp: i64, retry_until: i64 },
}

impl UploadError {
    /// Whether trying again later can help: transport failures, HTTP 5xx, 408 and 429.
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Transport { .. } => true,
            UploadError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

/// What became of one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// S3 answered 2xx: the object is there.
    Uploaded,
    /// Not uploaded yet; written to the on-disk queue, retried until `retry_until`.
    Queued,
    /// Given up: a permanent error, the deadline passed, or the queue refused it.
    Failed,
}

/// Which entries a forward puts into `s3_submissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPolicy {
    /// Only objects S3 acknowledged (recommended, spec 5.6; fixes quirk Q7).
    #[default]
    UploadedOnly,
    /// Also entries queued for upload before the reveal. A validator reads nothing before the
    /// reveal, so these count if the queue drains in time — a bet on S3 recovering.
    AllowQueued,
}

/// The result of [`Uploader::upload`], as data: the forward decides what to report from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadOutcome {
    pub key: String,
    pub status: UploadStatus,
    /// PUT attempts made in this call (queue drains count separately).
    pub attempts: u32,
    /// Unix seconds after which nobody retries this object (`reveal_timestamp − margin`).
    pub retry_until: i64,
    /// The last error, if any attempt failed.
    pub error: Option<String>,
}

impl UploadOutcome {
    pub fn is_uploaded(&self) -> bool {
        self.status == UploadStatus::Uploaded
    }

    /// Whether the entry belongs in the answer under `policy`.
    pub fn reportable(&self, policy: ReportPolicy) -> bool {
        matches!((self.status, policy), (UploadStatus::Uploaded, _) | (UploadStatus::Queued, ReportPolicy::AllowQueued))
    }
}

/// One object to upload.
#[derive(Debug, Clone)]
pub struct UploadJob {
    pub key: String,
    /// The ciphertext.
    pub body: Bytes,
    /// `image_request.reveal_timestamp` (Unix seconds): the upload deadline derives from it.
    pub reveal_timestamp: i64,
    /// When the forward must have its answer; retrying in-line stops here and the rest is
    /// queued. `None`: retry in-line until the reveal deadline.
    pub answer_by: Option<Instant>,
}

/// What one [`Uploader::drain`] pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Keys uploaded in this pass (removed from the queue).
    pub uploaded: Vec<String>,
    /// Keys dropped because their deadline passed.
    pub expired: Vec<String>,
    /// Keys dropped after a permanent error, with the error.
    pub failed: Vec<(String, String)>,
    /// Entries still queued after the pass.
    pub pending: usize,
    /// Another drain was running; this call did nothing.
    pub busy: bool,
}

/// Per-request data for building keys and submissions (spec 3.3 steps 3, 6, 7).
#[derive(Debug, Clone)]
pub struct SubmissionContext {
    pub hotkey: Hotkey,
    /// `image_request.challenge_id` (`None` → `sandbox_test` in keys and signed messages).
    pub challenge_id: Option<String>,
    pub image_filename: String,
    pub generation: Generation,
    /// Computed once per request and shared by its entries (5.4).
    pub path_signature: String,
    pub reveal_timestamp: i64,
}

impl SubmissionContext {
    /// Context of one image request; computes the request's `path_signature`.
    pub fn new(hotkey: &Hotkey, request: &ImageRequest, generation: Generation) -> Self {
        let challenge_id = request.challenge_id.clone();
        let path_signature = s3key::path_signature(hotkey, s3key::challenge_id_or_sandbox(challenge_id.as_deref()));
        SubmissionContext {
            hotkey: hotkey.clone(),
            challenge_id,
            image_filename: request.image_filename.clone(),
            generation,
            path_signature,
            reveal_timestamp: request.reveal_timestamp,
        }
    }
}

/// An uploaded (or queued, or failed) image with the submission that would report it.
#[derive(Debug, Clone)]
pub struct ImageUpload {
    pub submission: S3Submission,
    pub outcome: UploadOutcome,
}

/// The `S3Submission` of one image (2.6, 5.5): `image_hash` = SHA-256 of the **plaintext** PNG,
/// `signature` over `challenge:{challenge_id}:hash:{image_hash}` (`sandbox_test` for a null
/// challenge id), `variation_type` verbatim (a combined type keeps its `+`), R2-only screen-replay
/// fields null.
pub fn build_submission(
    hotkey: &Hotkey,
    challenge_id: Option<&str>,
    s3_key: String,
    plaintext_png: &[u8],
    variation_type: &str,
    path_signature: &str,
) -> S3Submission {
    let challenge_id = s3key::challenge_id_or_sandbox(challenge_id);
    let image_hash = sha256_hex(plaintext_png);
    let signature = s3key::sign_submission(hotkey, challenge_id, &image_hash);
    S3Submission {
        s3_key,
        image_hash,
        signature,
        variation_type: variation_type.to_owned(),
        path_signature: path_signature.to_owned(),
        s3_key_angle2: None,
        image_hash_angle2: None,
        signature_angle2: None,
        screen_replay_uav: None,
    }
}

/// Sidecar of a queued object: everything needed to upload it after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub format: u32,
    pub key: String,
    pub size_bytes: u64,
    /// SHA-256 hex of the queued ciphertext, checked before it is sent.
    pub sha256: String,
    pub reveal_timestamp: i64,
    pub retry_until: i64,
    pub enqueued_at: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The on-disk queue: `{id}.tlock` (ciphertext) and `{id}.json` ([`QueueEntry`]) per object,
/// `id` = SHA-256 of the key (so re-queueing a key replaces it). Files are written to a temporary
/// name, synced and renamed, the sidecar last: a sidecar exists only for a complete body.
struct Queue {
    dir: PathBuf,
    max_entries: usize,
    max_bytes: u64,
    entries: Mutex<BTreeMap<String, QueueEntry>>,
}

impl Queue {
    fn open(dir: PathBuf, max_entries: usize, max_bytes: u64) -> Result<Self, UploadError> {
        let io = |source| UploadError::Queue { dir: dir.clone(), source };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut entries = BTreeMap::new();
        let mut bodies = HashSet::new();
        for item in std::fs::read_dir(&dir).map_err(io)? {
            let path = item.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
            } else if let Some(id) = name.strip_suffix(".tlock") {
                bodies.insert(id.to_owned());
            } else if let Some(id) = name.strip_suffix(".json") {
                match std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<QueueEntry>(&b).ok()) {
                    Some(e) if e.format == QUEUE_FORMAT && queue_id(&e.key) == id => {
                        entries.insert(id.to_owned(), e);
                    }
                    _ => {
                        tracing::warn!(path = %path.display(), "unreadable upload-queue sidecar removed");
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        // A sidecar whose body is missing or of the wrong size cannot be uploaded; a body without a
        // sidecar was never committed.
        entries.retain(|id, e| {
            let ok = std::fs::metadata(dir.join(format!("{id}.tlock"))).is_ok_and(|m| m.len() == e.size_bytes);
            if !ok {
                tracing::warn!(key = %e.key, "upload-queue entry without a complete body removed");
                let _ = std::fs::remove_file(dir.join(format!("{id}.json")));
            }
            ok
        });
        for id in bodies.iter().filter(|id| !entries.contains_key(*id)) {
            let _ = std::fs::remove_file(dir.join(format!("{id}.tlock")));
        }
        if !entries.is_empty() {
            tracing::info!(dir = %dir.display(), entries = entries.len(), "upload queue holds entries from a previous run");
        }
        Ok(Queue { dir, max_entries, max_bytes, entries: Mutex::new(entries) })
    }

    fn io_err(&self, source: std::io::Error) -> UploadError {
        UploadError::Queue { dir: self.dir.clone(), source }
    }

    fn usage(&self) -> (usize, u64) {
        let entries = self.entries.lock();
        (entries.len(), entries.values().map(|e| e.size_bytes).sum())
    }

    fn contains_key(&self, key: &str) -> bool {
        self.entries.lock().contains_key(&queue_id(key))
    }

    fn snapshot(&self) -> Vec<(String, QueueEntry)> {
        let mut v: Vec<_> = self.entries.lock().iter().map(|(k, e)| (k.clone(), e.clone())).collect();
        v.sort_by_key(|(_, e)| (e.retry_until, e.enqueued_at));
        v
    }

    fn write_atomic(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = self.dir.join(format!("{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, self.dir.join(name))
    }

    fn push(&self, entry: QueueEntry, body: &[u8]) -> Result<(), UploadError> {
        let id = queue_id(&entry.key);
        let mut entries = self.entries.lock();
        let replaced = entries.get(&id).map(|e| e.size_bytes).unwrap_or(0);
        let count = entries.len() - usize::from(entries.contains_key(&id));
        let bytes = entries.values().map(|e| e.size_bytes).sum::<u64>() - replaced;
        if count + 1 > self.max_entries || bytes + entry.size_bytes > self.max_bytes {
            return Err(UploadError::QueueFull {
                entries: count,
                bytes,
                max_entries: self.max_entries,
                max_bytes: self.max_bytes,
            });
        }
        let json = serde_json::to_vec_pretty(&entry).expect("queue entry serialises");
        self.write_atomic(&format!("{id}.tlock"), body).map_err(|e| self.io_err(e))?;
        self.write_atomic(&format!("{id}.json"), &json).map_err(|e| self.io_err(e))?;
        entries.insert(id, entry);
        Ok(())
    }

    fn read_body(&self, id: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(format!("{id}.tlock")))
    }

    fn update(&self, id: &str, entry: QueueEntry) {
        let json = serde_json::to_vec_pretty(&entry).expect("queue entry serialises");
        if let Err(e) = self.write_atomic(&format!("{id}.json"), &json) {
            tracing::warn!(key = %entry.key, "could not update upload-queue sidecar: {e}");
        }
        self.entries.lock().insert(id.to_owned(), entry);
    }

    fn remove(&self, id: &str) {
        // Sidecar first: without it the body is an orphan that the next open removes.
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.json")));
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.tlock")));
        self.entries.lock().remove(id);
    }
}

fn queue_id(key: &str) -> String {
    sha256_hex(key.as_bytes())[..32].to_owned()
}

/// Keys used by this process, oldest first, bounded.
#[derive(Default)]
struct UsedKeys {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl UsedKeys {
    fn insert(&mut self, key: String) {
        if self.set.insert(key.clone()) {
            self.order.push_back(key);
            while self.order.len() > USED_KEYS_CAP {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

/// The S3 uploader. Cheap to clone (shared state); safe to use from concurrent forwards.
#[derive(Clone)]
pub struct Uploader {
    inner: Arc<Inner>,
}

struct Inner {
    config: UploadConfig,
    http: reqwest::Client,
    bucket: Bucket,
    credentials: Option<Credentials>,
    queue: Queue,
    used: Mutex<UsedKeys>,
    clock: UnixClock,
    drain_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uploader").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Uploader {
    /// Validates the configuration and opens (creating, or recovering) the queue directory.
    pub fn new(config: UploadConfig) -> Result<Self, UploadError> {
        Self::with_clock(config, system_clock())
    }

    /// [`Uploader::new`] with a custom Unix-seconds clock (deadlines are Unix seconds).
    pub fn with_clock(config: UploadConfig, clock: UnixClock) -> Result<Self, UploadError> {
        let (bucket, credentials) = config.check()?;
        let timeout = Duration::from_secs_f64(config.request_timeout_s);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| UploadError::Config(format!("HTTP client: {e}")))?;
        let queue = Queue::open(config.queue_dir(), config.queue_max_entries, config.queue_max_bytes)?;
        Ok(Uploader {
            inner: Arc::new(Inner {
                config,
                http,
                bucket,
                credentials,
                queue,
                used: Mutex::new(UsedKeys::default()),
                clock,
                drain_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub fn config(&self) -> &UploadConfig {
        &self.inner.config
    }

    /// The object's URL without any signature (what an anonymous PUT targets; segments
    /// percent-encoded).
    pub fn object_url(&self, key: &str) -> Url {
        self.inner.bucket.object_url(key)
    }

    /// Unix seconds after which an object for this reveal is no longer retried.
    pub fn retry_until(&self, reveal_timestamp: i64) -> i64 {
        reveal_timestamp.saturating_sub(self.inner.config.reveal_margin_s as i64)
    }

    /// Current time of the uploader's clock (Unix seconds).
    pub fn now_unix(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Reserves a key unique in this process (and in the queue): if `key` was already used, the
    /// timestamp moves to the next free second (quirk Q6).
    pub fn reserve_key(&self, mut key: SubmissionKey) -> SubmissionKey {
        let mut used = self.inner.used.lock();
        loop {
            let rendered = key.render();
            if !used.set.contains(&rendered) && !self.inner.queue.contains_key(&rendered) {
                used.insert(rendered);
                return key;
            }
            key = key.next_second();
        }
    }

    /// Entries waiting in the queue and their total size.
    pub fn queue_usage(&self) -> (usize, u64) {
        self.inner.queue.usage()
    }

    /// The queued entries, most urgent first.
    pub fn queued(&self) -> Vec<QueueEntry> {
        self.inner.queue.snapshot().into_iter().map(|(_, e)| e).collect()
    }

    /// One PUT, no retry. Anonymous (`Content-Type: application/octet-stream`, nothing else) or
    /// SigV4-presigned, per the configuration; success is any 2xx (S3 answers 200).
    pub async fn put_once(&self, key: &str, body: Bytes) -> Result<(), UploadError> {
        if !self.inner.config.enabled {
            return Err(UploadError::Disabled);
        }
        let action = PutObject::new(&self.inner.bucket, self.inner.credentials.as_ref(), key);
        let url = action.sign(PRESIGN_EXPIRY);
        let target = format!("{}/{key}", self.inner.config.bucket);
        let len = body.len();
        let resp = self
            .inner
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body)
            .send()
            .await
            // The URL may carry a presigned signature: keep it out of messages.
            .map_err(|e| UploadError::Transport { target: target.clone(), source: e.without_url() })?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(UploadError::Status {
            target,
            status,
            code: xml_tag(&body, "Code"),
            message: xml_tag(&body, "Message").or_else(|| (!body.is_empty()).then(|| truncate(&body, 200))),
        })
    }

    /// Uploads `job` with retries (exponential backoff with jitter, transient errors only) until
    /// `job.answer_by` or the reveal deadline, whichever is first; then, if still failing
    /// transiently and the reveal deadline is ahead, writes it to the on-disk queue.
    ///
    /// The first attempt is always made. Never panics; everything ends up in the outcome.
    pub async fn upload(&self, job: UploadJob) -> UploadOutcome {
        let retry_until = self.retry_until(job.reveal_timestamp);
        let mut outcome =
            UploadOutcome { key: job.key.clone(), status: UploadStatus::Failed, attempts: 0, retry_until, error: None };
        if !self.inner.config.enabled {
            outcome.error = Some(UploadError::Disabled.to_string());
            return outcome;
        }
        let mut backoff = Duration::from_millis(self.inner.config.retry_initial_ms);
        let max_backoff = Duration::from_millis(self.inner.config.retry_max_ms);
        loop {
            outcome.attempts += 1;
            match self.put_once(&job.key, job.body.clone()).await {
                Ok(()) => {
                    outcome.status = UploadStatus::Uploaded;
                    return outcome;
                }
                Err(e) if !e.is_transient() => {
                    tracing::warn!(key = %job.key, "upload failed permanently: {e}");
                    outcome.error = Some(e.to_string());
                    return outcome;
                }
                Err(e) => {
                    tracing::debug!(key = %job.key, attempt = outcome.attempts, "upload attempt failed: {e}");
                    outcome.error = Some(e.to_string());
                }
            }
            let delay = jittered(backoff);
            backoff = (backoff * 2).min(max_backoff);
            let past_answer = job.answer_by.is_some_and(|t| Instant::now() + delay >= t);
            let wake_unix = self.now_unix() + delay.as_secs_f64().ceil() as i64;
            if past_answer || wake_unix >= retry_until {
                break;
            }
            tokio::time::sleep(delay).await;
        }
        if self.now_unix() >= retry_until {
            outcome.error = Some(format!(
                "{}; last error: {}",
                UploadError::DeadlinePassed { reveal_timestamp: job.reveal_timestamp, retry_until },
                outcome.error.unwrap_or_default()
            ));
            return outcome;
        }
        match self.enqueue(&job, retry_until, outcome.attempts, outcome.error.clone()) {
            Ok(()) => {
                tracing::info!(key = %job.key, retry_until, "upload queued for retry");
                outcome.status = UploadStatus::Queued;
            }
            Err(e) => {
                tracing::error!(key = %job.key, "upload could not be queued: {e}");
                outcome.error = Some(format!("{e}; last upload error: {}", outcome.error.unwrap_or_default()));
            }
        }
        outcome
    }

    /// Writes `job` to the on-disk queue without trying to upload it.
    pub fn enqueue(
        &self,
        job: &UploadJob,
        retry_until: i64,
        attempts: u32,
        last_error: Option<String>,
    ) -> Result<(), UploadError> {
        let entry = QueueEntry {
            format: QUEUE_FORMAT,
            key: job.key.clone(),
            size_bytes: job.body.len() as u64,
            sha256: sha256_hex(&job.body),
            reveal_timestamp: job.reveal_timestamp,
            retry_until,
            enqueued_at: self.now_unix(),
            attempts,
            last_error,
        };
        self.inner.used.lock().insert(job.key.clone());
        self.inner.queue.push(entry, &job.body)
    }

    /// One pass over the queue, most urgent first: expired entries are dropped, the others are
    /// PUT once each. The pass stops at the first transient failure (S3 is likely still down);
    /// permanent failures drop the entry. Concurrent calls do not overlap ([`DrainReport::busy`]).
    pub async fn drain(&self) -> DrainReport {
        let mut report = DrainReport::default();
        let Ok(_guard) = self.inner.drain_lock.try_lock() else {
            report.busy = true;
            report.pending = self.queue_usage().0;
            return report;
        };
        let queue = &self.inner.queue;
        for (id, mut entry) in queue.snapshot() {
            if self.now_unix() >= entry.retry_until {
                tracing::warn!(key = %entry.key, retry_until = entry.retry_until, "queued upload expired; dropped");
                queue.remove(&id);
                report.expired.push(entry.key);
                continue;
            }
            let body = match queue.read_body(&id) {
                Ok(b) if sha256_hex(&b) == entry.sha256 => Bytes::from(b),
                Ok(_) | Err(_) => {
                    tracing::error!(key = %entry.key, "queued ciphertext is missing or corrupt; dropped");
                    queue.remove(&id);
                    report.failed.push((entry.key, "queued ciphertext missing or corrupt".into()));
                    continue;
                }
            };
            match self.put_once(&entry.key, body).await {
                Ok(()) => {
                    tracing::info!(key = %entry.key, "queued upload landed");
                    queue.remove(&id);
                    report.uploaded.push(entry.key);
                }
                Err(e) if e.is_transient() => {
                    entry.attempts += 1;
                    entry.last_error = Some(e.to_string());
                    queue.update(&id, entry);
                    break;
                }
                Err(e) => {
                    tracing::error!(key = %entry.key, "queued upload failed permanently: {e}");
                    queue.remove(&id);
                    report.failed.push((entry.key, e.to_string()));
                }
            }
        }
        report.pending = self.queue_usage().0;
        report
    }

    /// Drains the queue in the background: every `every` while it is empty or healthy, backing
    /// off (up to the retry cap) while S3 keeps failing. Abort the handle to stop it.
    pub fn spawn_drain(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let cap = Duration::from_millis(this.inner.config.retry_max_ms).max(every);
            let mut pause = every;
            loop {
                tokio::time::sleep(jittered(pause)).await;
                let report = this.drain().await;
                let stuck = report.pending > 0 && report.uploaded.is_empty() && !report.busy;
                pause = if stuck { (pause * 2).min(cap) } else { every };
            }
        })
    }

    /// Builds the key (now, unique), uploads the ciphertext and builds the submission for one
    /// generated image of the request `ctx` describes.
    pub async fn submit_image(
        &self,
        ctx: &SubmissionContext,
        variation_type: &str,
        plaintext_png: &[u8],
        ciphertext: Bytes,
        answer_by: Option<Instant>,
    ) -> Result<ImageUpload, UploadError> {
        let key = SubmissionKey::for_image(
            ctx.challenge_id.as_deref(),
            ctx.hotkey.ss58(),
            &ctx.path_signature,
            &ctx.image_filename,
            variation_type,
            ctx.generation,
            self.now_unix().max(0) as u64,
        )?;
        let key = self.reserve_key(key).render();
        let submission = build_submission(
            &ctx.hotkey,
            ctx.challenge_id.as_deref(),
            key.clone(),
            plaintext_png,
            variation_type,
            &ctx.path_signature,
        );
        let outcome =
            self.upload(UploadJob { key, body: ciphertext, reveal_timestamp: ctx.reveal_timestamp, answer_by }).await;
        Ok(ImageUpload { submission, outcome })
    }

    /// The queue directory in use.
    pub fn queue_dir(&self) -> &Path {
        &self.inner.queue.dir
    }
}

/// "Equal jitter": half the delay fixed, half random, so retries of many uploads spread out.
fn jittered(d: Duration) -> Duration {
    let half = d / 2;
    half + Duration::from_nanos(rand::rng().random_range(0..=half.as_nanos().min(u64::MAX as u128) as u64))
}

fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "submissions/challenge_1754000000_5GrwvaEF/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/a1b2c3d4e5f6_m_doc/lighting_edit_expression_edit_1754000321.png.tlock";

    fn config_in(dir: &Path) -> UploadConfig {
        UploadConfig { queue_dir: Some(dir.to_path_buf()), ..UploadConfig::default() }
    }

    #[test]
    fn mainnet_url_is_the_spec_example() {
        let dir = tempfile::tempdir().unwrap();
        let up = Uploader::new(config_in(dir.path())).unwrap();
        assert_eq!(
            up.object_url(KEY).as_str(),
            format!("https://yanez-miid-sn54.s3.us-east-1.amazonaws.com/{KEY}"),
            "spec 5.7"
        );
        // Anonymous: the presigned form of an unsigned request is the plain URL.
        let action = PutObject::new(&up.inner.bucket, None, KEY);
        assert_eq!(action.sign(PRESIGN_EXPIRY).as_str(), up.object_url(KEY).as_str());
        // Segments are percent-encoded; '/' is kept.
        assert!(up.object_url("submissions/c/h/p/s/a+b_1.png.tlock").as_str().ends_with("/s/a%2Bb_1.png.tlock"));
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config_in(dir.path());
        c.access_key = Some("AK".into());
        let e = Uploader::new(c).unwrap_err().to_string();
        assert!(e.contains("both an access key and a secret key"), "{e}");
        let mut c = config_in(dir.path());
        c.endpoint = Some("http://127.0.0.1:9000".into());
        let e = Uploader::new(c).unwrap_err().to_string();
        assert!(e.contains("path_style"), "{e}");
        let mut c = config_in(dir.path());
        c.endpoint = Some("ftp://x".into());
        assert!(Uploader::new(c).is_err());
        let c = UploadConfig { secret_key: Some("s3cr3t".into()), ..config_in(dir.path()) };
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn keys_are_unique_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let up = Uploader::new(config_in(dir.path())).unwrap();
        let k = SubmissionKey::parse(KEY).unwrap();
        let a = up.reserve_key(k.clone());
        let b = up.reserve_key(k.clone());
        let c = up.reserve_key(k.clone());
        assert_eq!(a, k);
        assert_eq!(b.timestamp, k.timestamp + 1);
        assert_eq!(c.timestamp, k.timestamp + 2);
    }

    #[test]
    fn transient_classification() {
        let st = |status| UploadError::Status { target: "b/k".into(), status, code: None, message: None };
        for s in [500, 502, 503, 429, 408] {
            assert!(st(s).is_transient(), "{s}");
        }
        for s in [400, 403, 404, 412] {
            assert!(!st(s).is_transient(), "{s}");
        }
        assert_eq!(xml_tag("<Error><Code>AccessDenied</Code></Error>", "Code").as_deref(), Some("AccessDenied"));
        let d = Duration::from_millis(1000);
        for _ in 0..50 {
            let j = jittered(d);
            assert!(j >= d / 2 && j <= d);
        }
    }

    #[test]
    fn queue_persists_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path().into(), 2, 100).unwrap();
        let entry = |key: &str, size| QueueEntry {
            format: QUEUE_FORMAT,
            key: key.into(),
            size_bytes: size,
            sha256: String::new(),
            reveal_timestamp: 10,
            retry_until: 5,
            enqueued_at: 1,
            attempts: 1,
            last_error: None,
        };
        q.push(entry("a", 40), &[1; 40]).unwrap();
        q.push(entry("a", 50), &[2; 50]).unwrap(); // replaces
        assert_eq!(q.usage(), (1, 50));
        assert!(matches!(q.push(entry("b", 60), &[3; 60]), Err(UploadError::QueueFull { .. })));
        q.push(entry("b", 50), &[3; 50]).unwrap();
        assert!(matches!(q.push(entry("c", 1), &[4]), Err(UploadError::QueueFull { .. })));
        // Debris of a crash: a temp file, an orphan body, a sidecar without body.
        std::fs::write(dir.path().join("x.tlock.tmp"), b"junk").unwrap();
        std::fs::write(dir.path().join(format!("{}.tlock", queue_id("orphan"))), b"junk").unwrap();
        std::fs::write(
            dir.path().join(format!("{}.json", queue_id("nobody"))),
            serde_json::to_vec(&entry("nobody", 3)).unwrap(),
        )
        .unwrap();
        drop(q);
        let q = Queue::open(dir.path().into(), 2, 100).unwrap();
        assert_eq!(q.usage(), (2, 100));
        assert_eq!(q.read_body(&queue_id("a")).unwrap(), vec![2; 50]);
        let mut files: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files.len(), 4, "{files:?}");
        q.remove(&queue_id("a"));
        assert_eq!(q.usage(), (1, 50));
    }
}
