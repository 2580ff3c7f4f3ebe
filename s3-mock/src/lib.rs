//! `s3-mock`: an S3-compatible server over a local directory, for tests and local runs.
//!
//! # What this crate owns and why
//!
//! MIID miners upload their (timelock-encrypted) images to S3 and validators later fetch them
//! back (spec `miner-protocol.md` section 5). The harness needs a *real* S3 protocol locally —
//! "mocks replace services, never the code under test" — so that the miner's upload code and the
//! validator's download code run unchanged against it. MinIO is not available on every machine
//! (no docker engine here), so this crate embeds [`s3s`] (S3 REST, SigV4 header, presigned-URL
//! and aws-chunked verification) over its own storage (`src/store.rs`: objects are plain files
//! under `DATA_DIR/BUCKET/KEY`, their headers, ETag and checksums in a sidecar named after the
//! SHA-256 of the key, so the ~180-byte MIID keys work), and adds the one policy the subnet's
//! real bucket has that s3s does not: **anonymous writes into selected buckets**. Where a docker
//! engine exists, feature `minio` starts a real MinIO for the same tests (see "MinIO" below).
//!
//! # Operations
//!
//! Requests signed with the configured access/secret key (SigV4 headers, presigned query, or
//! aws-chunked bodies with or without a trailer) may do what the store supports:
//!
//! * buckets: create, head, list, delete (when empty), location;
//! * objects: PUT (with `Content-MD5`, `If-None-Match`/`If-Match`), GET and HEAD (with `Range`,
//!   `partNumber` and the `If-*` conditions), LIST (v1 and v2: prefix, delimiter, max-keys,
//!   pagination, `encoding-type=url`), DELETE (single and batch) and copy. `Content-Type`,
//!   `Content-Encoding`, `Content-Disposition`, `Content-Language`, `Cache-Control` and
//!   `x-amz-meta-*` are kept. ETags are the hex MD5 of the content;
//! * **multipart uploads**: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//!   AbortMultipartUpload, ListParts, ListMultipartUploads. Parts wait under
//!   `DATA_DIR/.uploads/UPLOAD_ID/` (kept across restarts); completing assembles them in
//!   `DATA_DIR/.tmp` and renames the object into place, so it appears whole or not at all. The
//!   ETag is S3's `"MD5(MD5(part1)..MD5(partN))-N"`. Errors are S3's: `InvalidPart` (unknown
//!   part or ETag/checksum mismatch), `InvalidPartOrder`, `MalformedXML` (no parts),
//!   `NoSuchUpload`, `InvalidArgument` (part number outside 1..=10000) and **`EntityTooSmall`
//!   for a part other than the last under 5 MiB ([`MIN_PART_SIZE`]): enforced**, so that a client
//!   that works here also works on S3 (boto3 and object_store send parts of at least 5 MiB);
//! * **checksums**: `Content-MD5` and the additional checksums `x-amz-checksum-crc32`, `-crc32c`,
//!   `-crc64nvme`, `-sha1`, `-sha256` — sent as a header, named by `x-amz-checksum-algorithm` /
//!   `x-amz-sdk-checksum-algorithm`, or sent in the aws-chunked trailer (`x-amz-trailer`) — are
//!   verified on PutObject and UploadPart: a mismatch is `400 BadDigest` and stores nothing; a
//!   malformed value or two algorithms at once are `400 InvalidRequest`. The checksum is stored
//!   (an object uploaded without one gets a CRC64NVME, as on S3) and returned by HEAD and GET
//!   with `x-amz-checksum-mode: ENABLED` (whole-object reads only), with `x-amz-checksum-type`.
//!   Multipart uploads created with `x-amz-checksum-algorithm` get a COMPOSITE checksum
//!   (`BASE64(H(part checksums))-N`) or, with `x-amz-checksum-type: FULL_OBJECT` (CRC32,
//!   CRC32C, CRC64NVME), the checksum of the whole content;
//! * other operations (versioning, tagging, ACLs, policies, UploadPartCopy, ...) are answered
//!   `501 NotImplemented`; request headers the store has no notion of (`x-amz-acl`,
//!   `x-amz-tagging`, storage class, SSE, `Expires`) are accepted and ignored.
//!
//! # Access policy
//!
//! * A request signed with a wrong secret is refused with `403 SignatureDoesNotMatch`; an
//!   unknown access key with `403 InvalidAccessKeyId`.
//! * **Unsigned** requests may only write objects into a bucket named in
//!   [`Config::public_write`]: `PutObject` (the MIID miner sends a plain `PUT` with
//!   `Content-Type: application/octet-stream`, no `x-amz-*` headers) and, since boto3 switches to
//!   multipart above 8 MB, the multipart writes `CreateMultipartUpload`, `UploadPart`,
//!   `CompleteMultipartUpload` and `AbortMultipartUpload` ([`PublicWritePolicy::ANONYMOUS_OPS`];
//!   what an S3 bucket policy granting `s3:PutObject` and `s3:AbortMultipartUpload` to everyone
//!   allows; the 128-bit random upload ID is the capability for an upload). Every other unsigned
//!   request — GET, HEAD, LIST, ListParts, ListMultipartUploads, DELETE, copy, UploadPartCopy,
//!   writes into another bucket — is refused with `403 AccessDenied`. Reading back needs
//!   credentials, as on mainnet, where only the grader reads the submission bucket. Unsigned
//!   bodies are taken as they come (aws-chunked decoding is for signed requests).
//! * Object keys with a `.` or `..` path segment, a backslash or a NUL byte are refused with
//!   `400 InvalidArgument` (they would alias other keys or buckets on the file system); so are
//!   keys with empty segments (leading/trailing `/`, `//`), and a key that is both an object and
//!   a prefix of others (`a` and `a/b`), because each object is one file.
//!
//! Public-write buckets and [`Config::buckets`] are created (as directories) at start, so an
//! anonymous uploader needs no set-up step. Bucket names follow the AWS naming rules.
//!
//! # Addressing
//!
//! Path-style (`http://HOST:PORT/BUCKET/KEY`) always works. With [`Config::domain`]
//! (`--domain D`), virtual-hosted style works too: `Host: BUCKET.D[:PORT]` addresses BUCKET
//! ([`VirtualHostStyle`]); the bare domain, other host names and IP addresses stay path-style.
//! Clients must resolve `BUCKET.D` to the server themselves (an `/etc/hosts` line, curl's
//! `--resolve`, reqwest's `ClientBuilder::resolve`); [`S3Mock::virtual_host_endpoint`] gives the
//! URL. Any region is accepted in signatures; clients should use `us-east-1`.
//!
//! # Use
//!
//! In-process (tests, scenarios):
//!
//! ```no_run
//! # async fn demo() -> Result<(), s3_mock::Error> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let server = s3_mock::start(listener, s3_mock::Config {
//!     data_dir: "/tmp/s3".into(),
//!     access_key: "AK".into(),
//!     secret_key: "SK".into(),
//!     public_write: vec!["yanez-miid-sn54".into()],
//!     buckets: vec![],
//!     domain: Some("s3.local".into()), // optional: virtual-hosted style too
//! }).await?;
//! println!("S3 endpoint: {}", server.endpoint()); // http://127.0.0.1:PORT, region us-east-1
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Command line (contract in `DESIGN.md`):
//! `s3-mock --listen ADDR --data-dir DIR --access-key K --secret-key S [--public-write BUCKET]...
//! [--bucket BUCKET]... [--domain DOMAIN]` prints the bound address (`IP:PORT`) as the first line
//! of stdout and serves until SIGINT or SIGTERM. A server started on the data directory of a
//! previous one serves everything it stored, multipart uploads in progress included.
//!
//! # MinIO
//!
//! With the cargo feature `minio` (off by default, so normal builds do not compile
//! testcontainers; it adds ~100 crates and about a minute to a debug build),
//! `minio::start` starts MinIO in a container through `testcontainers-modules`
//! and returns its endpoint and keys, or `MinioError::NoDocker` at once when there is no docker
//! engine (`DOCKER_HOST` unset and no `/var/run/docker.sock`). The test suite
//! `tests/backends.rs` runs the same signed-upload checks against every backend:
//!
//! ```text
//! cargo test -p s3-mock                                 # s3-mock only
//! cargo test -p s3-mock --features minio -- --nocapture # and MinIO, where docker runs
//! ```
//!
//! Without a docker engine the MinIO run prints `SKIPPED MinIO: no docker engine (...)` and
//! passes; the s3-mock run always runs.
//!
//! Not provided: TLS, bucket policies/ACLs beyond the rule above, versioning, object lock.

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::SimpleAuth;
use s3s::host::{S3Host, VirtualHost};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod checksum;
#[cfg(feature = "minio")]
pub mod minio;
mod store;

pub use store::Store;

/// S3's minimum size of every part of a multipart upload but the last (enforced here too).
pub const MIN_PART_SIZE: u64 = store::MIN_PART_SIZE;

/// How long [`serve`] waits for open connections to finish after shutdown is requested.
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Server configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Root directory; each bucket is a sub-directory, each object a file under it. Created if
    /// missing.
    pub data_dir: PathBuf,
    /// The one access key accepted in SigV4 signatures.
    pub access_key: String,
    /// Its secret key.
    pub secret_key: String,
    /// Buckets that also accept anonymous (unsigned) `PutObject`. Created at start.
    pub public_write: Vec<String>,
    /// Further buckets to create at start (signed access only).
    pub buckets: Vec<String>,
    /// Base domain for virtual-hosted-style requests: `Host: BUCKET.DOMAIN[:PORT]` addresses
    /// BUCKET. Path-style requests keep working (any other host, IP addresses included).
    pub domain: Option<String>,
}

/// Errors from setting the server up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid bucket name {0:?} (S3 rules: 3-63 chars of a-z, 0-9, '.', '-')")]
    InvalidBucketName(String),
    #[error("access key and secret key must not be empty")]
    EmptyCredentials,
    #[error("invalid domain {0:?} (a DNS name such as s3.local, without port)")]
    InvalidDomain(String),
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("storage backend: {0}")]
    Backend(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The access rule described in the crate docs, as an [`S3Access`] hook of s3s.
///
/// s3s calls it for every request once an auth provider is set, after the signature (if any)
/// was verified: `credentials()` is `Some` for a correctly signed request and `None` for an
/// unsigned one (badly signed requests never get here).
#[derive(Debug, Clone, Default)]
pub struct PublicWritePolicy {
    public_write: HashSet<String>,
}

impl PublicWritePolicy {
    pub fn new<I, S>(buckets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { public_write: buckets.into_iter().map(Into::into).collect() }
    }

    /// The operations an unsigned request may do in a public-write bucket: writing objects,
    /// single or multipart (what an S3 bucket policy granting `s3:PutObject` and
    /// `s3:AbortMultipartUpload` to everyone allows).
    pub const ANONYMOUS_OPS: [&'static str; 5] =
        ["PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "AbortMultipartUpload"];

    /// Whether an unsigned request for operation `op` (s3s operation name, e.g. `PutObject`) on
    /// `bucket` is allowed.
    #[must_use]
    pub fn allows_anonymous(&self, op: &str, bucket: Option<&str>) -> bool {
        Self::ANONYMOUS_OPS.contains(&op) && bucket.is_some_and(|b| self.public_write.contains(b))
    }
}

/// Virtual-hosted-style addressing under one base domain, as an [`S3Host`] of s3s.
///
/// `BUCKET.DOMAIN` (any port, any letter case) addresses BUCKET; `DOMAIN` itself and every
/// other host name (`localhost`, ...) are path-style. s3s never asks about IP-address hosts,
/// which are path-style too. (s3s's own `SingleDomain` would take any other host name as a
/// bucket name, CNAME-style, and compares the port too.)
#[derive(Debug, Clone)]
pub struct VirtualHostStyle {
    domain: String,
}

impl VirtualHostStyle {
    /// `domain`: a DNS name without port, e.g. `s3.local`.
    pub fn new(domain: &str) -> Result<Self, Error> {
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid {
            Ok(Self { domain: domain.to_ascii_lowercase() })
        } else {
            Err(Error::InvalidDomain(domain.to_owned()))
        }
    }

    /// The bucket named by `host` (a `Host` header value), if it is `BUCKET.DOMAIN[:PORT]`.
    #[must_use]
    pub fn bucket_of(&self, host: &str) -> Option<String> {
        let name = strip_port(host).to_ascii_lowercase();
        let bucket = name.strip_suffix(self.domain.as_str())?.strip_suffix('.')?;
        (!bucket.is_empty()).then(|| bucket.to_owned())
    }
}

/// `host` without a trailing `:PORT`.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(']') || host.starts_with('[') => {
            if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host }
        }
        _ => host,
    }
}

impl S3Host for VirtualHostStyle {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(self.domain.as_str()).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

/// Keys that would not map one-to-one onto a file under the bucket directory.
#[must_use]
pub fn key_is_safe(key: &str) -> bool {
    !key.contains(['\\', '\0']) && !key.split('/').any(|seg| seg == "." || seg == "..")
}

#[async_trait::async_trait]
impl S3Access for PublicWritePolicy {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if let Some(key) = cx.s3_path().get_object_key()
            && !key_is_safe(key)
        {
            return Err(s3_error!(
                InvalidArgument,
                "object keys with '.' or '..' segments, '\\' or NUL are not supported"
            ));
        }
        if cx.credentials().is_some() {
            return Ok(());
        }
        let op = cx.s3_op().name();
        let bucket = cx.s3_path().get_bucket_name();
        if self.allows_anonymous(op, bucket) {
            tracing::debug!(op, ?bucket, "anonymous write into public bucket");
            Ok(())
        } else {
            tracing::debug!(op, ?bucket, "anonymous request refused");
            Err(s3_error!(AccessDenied, "Anonymous requests are only allowed for PutObject into a public-write bucket"))
        }
    }
}

/// Creates the data directory and the configured buckets, and builds the s3s service
/// (SigV4 auth with the single key pair, [`PublicWritePolicy`], [`Store`] storage).
pub fn build_service(config: &Config) -> Result<S3Service, Error> {
    if config.access_key.is_empty() || config.secret_key.is_empty() {
        return Err(Error::EmptyCredentials);
    }
    let dd_err = |source| Error::DataDir { path: config.data_dir.clone(), source };
    std::fs::create_dir_all(&config.data_dir).map_err(dd_err)?;
    for bucket in config.public_write.iter().chain(&config.buckets) {
        if !s3s::path::check_bucket_name(bucket) {
            return Err(Error::InvalidBucketName(bucket.clone()));
        }
        std::fs::create_dir_all(config.data_dir.join(bucket)).map_err(dd_err)?;
    }
    let host = config.domain.as_deref().map(VirtualHostStyle::new).transpose()?;
    let store = Store::new(&config.data_dir).map_err(|e| Error::Backend(e.to_string()))?;
    let mut builder = S3ServiceBuilder::new(store);
    if let Some(host) = host {
        builder.set_host(host);
    }
    builder.set_auth(SimpleAuth::from_single(config.access_key.clone(), config.secret_key.clone()));
    builder.set_access(PublicWritePolicy::new(config.public_write.iter().cloned()));
    Ok(builder.build())
}

/// Serves `service` on `listener` (HTTP/1.1 and h2c) until `shutdown` resolves, then waits up
/// to [`GRACEFUL_SHUTDOWN_TIMEOUT`] for open connections.
pub async fn serve(listener: TcpListener, service: S3Service, shutdown: impl Future<Output = ()>) {
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            res = listener.accept() => match res {
                Ok((socket, _)) => socket,
                Err(err) => {
                    // e.g. EMFILE: back off instead of spinning.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.as_mut() => break,
        };
        let conn = http.serve_connection(TokioIo::new(socket), service.clone());
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(err) = conn.await {
                tracing::debug!("connection error: {err}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(GRACEFUL_SHUTDOWN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::debug!("connections still open after {GRACEFUL_SHUTDOWN_TIMEOUT:?}; dropping them");
    }
}

/// A running in-process server. Dropping it stops accepting connections (as [`S3Mock::shutdown`]
/// does, without waiting).
#[derive(Debug)]
pub struct S3Mock {
    addr: SocketAddr,
    domain: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl S3Mock {
    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, the endpoint to give S3 clients (path-style, region `us-east-1`).
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://BUCKET.DOMAIN:PORT`, the virtual-hosted-style URL of `bucket` when
    /// [`Config::domain`] is set (the client must resolve that name to [`S3Mock::addr`]).
    #[must_use]
    pub fn virtual_host_endpoint(&self, bucket: &str) -> Option<String> {
        self.domain.as_ref().map(|d| format!("http://{bucket}.{d}:{}", self.addr.port()))
    }

    /// Stops accepting connections and waits for open ones (at most
    /// [`GRACEFUL_SHUTDOWN_TIMEOUT`]).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for S3Mock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the server on `listener` in a background tokio task.
pub async fn start(listener: TcpListener, config: Config) -> Result<S3Mock, Error> {
    let addr = listener.local_addr()?;
    let service = build_service(&config)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, service, async move {
        // A dropped sender counts as a stop request too.
        let _ = stopped.await;
    }));
    tracing::info!(%addr, data_dir = %config.data_dir.display(), public_write = ?config.public_write, "s3-mock listening");
    Ok(S3Mock { addr, domain: config.domain.clone(), stop: Some(stop), task: Some(task) })
}

/// Binds `addr` (e.g. `127.0.0.1:0`) and [`start`]s the server there.
pub async fn bind(addr: impl tokio::net::ToSocketAddrs, config: Config) -> Result<S3Mock, Error> {
    start(TcpListener::bind(addr).await?, config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_rule() {
        let p = PublicWritePolicy::new(["yanez-miid-sn54"]);
        for op in PublicWritePolicy::ANONYMOUS_OPS {
            assert!(p.allows_anonymous(op, Some("yanez-miid-sn54")), "{op}");
            assert!(!p.allows_anonymous(op, Some("other")), "{op}");
            assert!(!p.allows_anonymous(op, None), "{op}");
        }
        for op in [
            "GetObject",
            "HeadObject",
            "ListObjectsV2",
            "CopyObject",
            "DeleteObject",
            "UploadPartCopy",
            "ListParts",
            "ListMultipartUploads",
        ] {
            assert!(!p.allows_anonymous(op, Some("yanez-miid-sn54")), "{op}");
        }
    }

    #[test]
    fn virtual_host_parsing() {
        let vh = VirtualHostStyle::new("s3.local").unwrap();
        assert_eq!(vh.bucket_of("yanez-miid-sn54.s3.local:9000").as_deref(), Some("yanez-miid-sn54"));
        assert_eq!(vh.bucket_of("My.Bucket.S3.Local").as_deref(), Some("my.bucket"));
        assert_eq!(vh.bucket_of("s3.local:9000"), None);
        assert_eq!(vh.bucket_of("localhost:9000"), None);
        assert_eq!(vh.bucket_of("evils3.local"), None);
        assert_eq!(vh.bucket_of(".s3.local"), None);
        assert_eq!(vh.parse_host_header("b.s3.local:1").unwrap().bucket(), Some("b"));
        assert_eq!(vh.parse_host_header("localhost:1").unwrap().bucket(), None);
        for bad in ["", "s3.local:9000", "a..b", "-a.b", "a_b.c"] {
            assert!(VirtualHostStyle::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }

    #[test]
    fn unsafe_keys() {
        assert!(key_is_safe("submissions/a/b/c.png.tlock"));
        assert!(key_is_safe("a..b/.hidden/x."));
        for k in ["../x", "a/../b", "a/./b", ".", "a/..", "a\\b", "a\0b"] {
            assert!(!key_is_safe(k), "{k:?}");
        }
    }
}
