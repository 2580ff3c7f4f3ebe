//! `s3-mock`: an S3-compatible server over a local directory, for tests and local runs.
//!
//! # What this crate owns and why
//!
//! MIID miners upload their (timelock-encrypted) images to S3 and validators later fetch them
//! back (spec `miner-protocol.md` section 5). The harness needs a *real* S3 protocol locally —
//! "mocks replace services, never the code under test" — so that the miner's upload code and the
//! validator's download code run unchanged against it. MinIO is not available on every machine
//! (no docker engine here), so this crate embeds [`s3s`] (S3 REST, SigV4 header and presigned-URL
//! verification) over its own storage (`src/store.rs`: objects are plain files under
//! `DATA_DIR/BUCKET/KEY`, their headers and ETag in a sidecar named after the SHA-256 of the key,
//! so the ~180-byte MIID keys work), and adds the one policy the subnet's real bucket has that
//! s3s does not: **anonymous writes into selected buckets**.
//!
//! # Access policy
//!
//! * Requests signed with the configured access/secret key (SigV4 headers or presigned query,
//!   path-style addressing) may do what the store supports: create, head, list and delete
//!   buckets; PUT (with `Content-MD5`, `If-None-Match`/`If-Match`), GET and HEAD (with `Range` and
//!   the `If-*` conditions), LIST (v1 and v2: prefix, delimiter, max-keys, pagination,
//!   `encoding-type=url`), DELETE (single and batch) and copy. ETags are the hex MD5 of the
//!   content; `Content-Type`, `Content-Encoding`, `Content-Disposition`, `Content-Language`,
//!   `Cache-Control` and `x-amz-meta-*` are kept. Other operations (multipart uploads,
//!   versioning, tagging, ACLs, policies, ...) are answered `501 NotImplemented`; request headers
//!   the store has no notion of (`x-amz-acl`, `x-amz-tagging`, storage class, SSE,
//!   `x-amz-checksum-*`, `Expires`) are accepted and ignored.
//! * A request signed with a wrong secret is refused with `403 SignatureDoesNotMatch`; an
//!   unknown access key with `403 InvalidAccessKeyId`.
//! * **Unsigned** requests may only `PutObject` into a bucket named in
//!   [`Config::public_write`] (the MIID miner sends a plain `PUT` with
//!   `Content-Type: application/octet-stream`, no `x-amz-*` headers). Every other unsigned
//!   request — GET, HEAD, LIST, DELETE, copy, multipart, PUT into another bucket — is refused with
//!   `403 AccessDenied`. Reading back needs credentials, as on mainnet, where only the grader
//!   reads the submission bucket.
//! * Object keys with a `.` or `..` path segment, a backslash or a NUL byte are refused with
//!   `400 InvalidArgument` (they would alias other keys or buckets on the file system); so are
//!   keys with empty segments (leading/trailing `/`, `//`), and a key that is both an object and
//!   a prefix of others (`a` and `a/b`), because each object is one file.
//!
//! Public-write buckets and [`Config::buckets`] are created (as directories) at start, so an
//! anonymous uploader needs no set-up step. Bucket names follow the AWS naming rules.
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
//! }).await?;
//! println!("S3 endpoint: {}", server.endpoint()); // http://127.0.0.1:PORT, region us-east-1
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Command line (contract in `DESIGN.md`):
//! `s3-mock --listen ADDR --data-dir DIR --access-key K --secret-key S [--public-write BUCKET]...`
//! prints the bound address (`IP:PORT`) as the first line of stdout and serves until SIGINT or
//! SIGTERM. Any region is accepted in signatures; clients should use `us-east-1`.
//!
//! Not provided: virtual-hosted-style addressing, TLS, bucket policies/ACLs beyond the rule
//! above, and the MinIO-via-testcontainers helper (no docker engine where this was built).

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod store;

pub use store::Store;

/// How long [`serve`] waits for open connections to finish after shutdown is requested.
pub const GRACEFUL_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Server configuration.
#[derive(Debug, Clone)]
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
}

/// Errors from setting the server up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid bucket name {0:?} (S3 rules: 3-63 chars of a-z, 0-9, '.', '-')")]
    InvalidBucketName(String),
    #[error("access key and secret key must not be empty")]
    EmptyCredentials,
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

    /// Whether an unsigned request for operation `op` (s3s operation name, e.g. `PutObject`) on
    /// `bucket` is allowed.
    #[must_use]
    pub fn allows_anonymous(&self, op: &str, bucket: Option<&str>) -> bool {
        op == "PutObject" && bucket.is_some_and(|b| self.public_write.contains(b))
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
    let store = Store::new(&config.data_dir).map_err(|e| Error::Backend(e.to_string()))?;
    let mut builder = S3ServiceBuilder::new(store);
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
    Ok(S3Mock { addr, stop: Some(stop), task: Some(task) })
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
        assert!(p.allows_anonymous("PutObject", Some("yanez-miid-sn54")));
        assert!(!p.allows_anonymous("PutObject", Some("other")));
        assert!(!p.allows_anonymous("PutObject", None));
        for op in ["GetObject", "HeadObject", "ListObjectsV2", "CopyObject", "DeleteObject", "CreateMultipartUpload"] {
            assert!(!p.allows_anonymous(op, Some("yanez-miid-sn54")), "{op}");
        }
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
