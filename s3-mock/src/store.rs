//! The storage behind the S3 API: an [`s3s::S3`] implementation over a local directory.
//!
//! # Layout
//!
//! ```text
//! ROOT/BUCKET/KEY                          the object's bytes, a plain file ('/' in KEY = sub-directories)
//! ROOT/.BUCKET.objhash-meta/SHA256(KEY).json   its sidecar: ETag, Content-Type & co, x-amz-meta-*
//! ROOT/.tmp/UUID                           uploads in progress (renamed into place when complete)
//! ROOT/.uploads/UPLOAD_ID/upload.json      a multipart upload in progress: bucket, key, headers, checksum
//! ROOT/.uploads/UPLOAD_ID/NNNNN            its part number NNNNN ...
//! ROOT/.uploads/UPLOAD_ID/NNNNN.json       ... and the part's ETag and checksums
//! ```
//!
//! Bucket names never start with `.`, so the hidden entries of `ROOT` cannot clash with a bucket,
//! and nothing but objects lives inside a bucket directory. Sidecars are named after the SHA-256
//! of the key, so arbitrarily long keys (MIID keys are ~180 bytes) never make a long file name;
//! only each `/`-separated key segment must fit the file system's 255-byte name limit.
//!
//! A sidecar records the size and modification time of the data file it describes. When they do
//! not match (a file replaced by hand, or one put there without the server), the sidecar is
//! ignored: the ETag is computed from the bytes and the object has no stored headers.
//!
//! A sidecar also keeps the object's additional checksums (`x-amz-checksum-*`, see
//! [`crate::checksum`]) and, for an object assembled from a multipart upload, the sizes of its
//! parts (for `partNumber` reads).
//!
//! # Multipart uploads
//!
//! See `store/multipart.rs`: parts are kept under `ROOT/.uploads` (which survives restarts), and
//! completing an upload concatenates them into `ROOT/.tmp` and renames the result into place like
//! any other upload, so the object appears whole or not at all.
//!
//! # Consistency
//!
//! Uploads stream into `ROOT/.tmp` first, so a reader never sees half an object. The short steps
//! that touch an object's final paths (rename data + sidecar, delete, open for reading) run under
//! one process-wide read/write lock, so a reader always gets a data file and its own sidecar.
//!
//! # Keys
//!
//! A key must map one-to-one onto a relative file path: no `.`/`..` segments, backslash or NUL
//! ([`crate::key_is_safe`]), no empty segments (leading or trailing `/`, `//`), at most 1024
//! bytes and at most 255 bytes per segment. A key cannot be both an object and a "directory" of
//! other objects (`a` and `a/b`): the second PUT is refused with `400 InvalidArgument`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::dto::{self, ETagCondition, StreamingBlob, Timestamp};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::RwLock;

use crate::checksum::{Algo, ChecksumType, Checksums, Expected, Hasher, OutFields};

mod multipart;

pub(crate) use multipart::MIN_PART_SIZE;

/// S3's limit on key length, in bytes.
const MAX_KEY_LEN: usize = 1024;
/// The usual limit on one file-name component.
const MAX_SEGMENT_LEN: usize = 255;
/// S3's (and our) cap on `max-keys`.
const MAX_LIST_KEYS: usize = 1000;
/// Temporary upload files older than this are removed at start (left over by a crash).
const STALE_TMP_AGE: Duration = Duration::from_secs(3600);
/// The Content-Type S3 reports for objects stored without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// Where things live under the root directory.
#[derive(Debug)]
struct Layout {
    root: PathBuf,
}

impl Layout {
    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// `key` must have passed [`check_key`] (in particular: no leading `/`, which would make
    /// `join` discard the bucket directory).
    fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.bucket_dir(bucket).join(key)
    }

    fn meta_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(format!(".{bucket}.objhash-meta"))
    }

    fn meta_path(&self, bucket: &str, key: &str) -> PathBuf {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(key.as_bytes());
        self.meta_dir(bucket).join(format!("{}.json", hex::encode(digest)))
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(".tmp")
    }

    fn new_tmp_path(&self) -> PathBuf {
        self.tmp_dir().join(uuid::Uuid::new_v4().simple().to_string())
    }

    fn uploads_dir(&self) -> PathBuf {
        self.root.join(".uploads")
    }
}

/// The stored HTTP attributes of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Attrs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_control: Option<String>,
    /// `x-amz-meta-NAME: VALUE` as `NAME -> VALUE`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
}

impl Attrs {
    fn metadata_dto(&self) -> Option<dto::Metadata> {
        (!self.metadata.is_empty()).then(|| self.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// The JSON sidecar of one object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sidecar {
    /// The key (the file name is only its hash).
    key: String,
    /// Size and modification time of the data file this describes.
    size: u64,
    mtime_ns: u64,
    /// Hex MD5 of the content (or `HEX-N` for a multipart object), without quotes.
    etag: String,
    #[serde(flatten)]
    attrs: Attrs,
    #[serde(flatten)]
    sums: StoredSums,
}

/// Checksums and part layout of an object, as stored in its sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSums {
    #[serde(default, skip_serializing_if = "Checksums::is_empty")]
    checksums: Checksums,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum_type: Option<ChecksumType>,
    /// Sizes of the parts of an object completed from a multipart upload; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    part_sizes: Vec<u64>,
}

impl StoredSums {
    /// The checksum response fields; none unless `x-amz-checksum-mode: ENABLED` was sent and the
    /// whole object is returned (as S3 does).
    fn out(&self, mode: Option<&dto::ChecksumMode>, whole: bool) -> OutFields {
        let enabled = mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(dto::ChecksumMode::ENABLED));
        if enabled && whole { OutFields::new(&self.checksums, self.checksum_type) } else { OutFields::default() }
    }

    fn parts_count(&self) -> Option<i32> {
        (!self.part_sizes.is_empty()).then(|| i32::try_from(self.part_sizes.len()).unwrap_or(i32::MAX))
    }
}

/// What a reader needs to know about a stored object.
#[derive(Debug, Clone)]
struct ObjectInfo {
    size: u64,
    mtime: SystemTime,
    /// Hex MD5 (`HEX-N` for a multipart object), without quotes.
    etag: String,
    attrs: Attrs,
    sums: StoredSums,
}

impl ObjectInfo {
    fn e_tag(&self) -> dto::ETag {
        dto::ETag::Strong(self.etag.clone())
    }

    /// Last-Modified at the one-second resolution of HTTP dates (for the `If-*-Since` checks).
    fn mtime_secs(&self) -> Timestamp {
        let secs = self.mtime.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }
}

fn mtime_ns(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// An S3 service storing buckets and objects as directories and files under one root.
#[derive(Debug, Clone)]
pub struct Store {
    layout: Arc<Layout>,
    /// Held shared while opening an object (data file + sidecar), exclusively while changing
    /// one. Never held across network I/O.
    lock: Arc<RwLock<()>>,
}

impl Store {
    /// Uses `root` (which must exist) as the data directory; removes stale temporary files.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = root.as_ref().canonicalize()?;
        let layout = Layout { root };
        let tmp = layout.tmp_dir();
        fs::create_dir_all(&tmp)?;
        let now = SystemTime::now();
        for entry in fs::read_dir(&tmp)? {
            let entry = entry?;
            let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|m| now.duration_since(m).ok());
            if age.is_some_and(|age| age > STALE_TMP_AGE) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self { layout: Arc::new(layout), lock: Arc::new(RwLock::new(())) })
    }

    /// Runs blocking file-system work holding the lock shared.
    async fn read_locked<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Layout) -> S3Result<T> + Send + 'static,
    ) -> S3Result<T> {
        let guard = self.lock.clone().read_owned().await;
        let layout = self.layout.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            f(&layout)
        })
        .await
        .map_err(join_error)?
    }

    /// Runs blocking file-system work holding the lock exclusively.
    async fn write_locked<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Layout) -> S3Result<T> + Send + 'static,
    ) -> S3Result<T> {
        let guard = self.lock.clone().write_owned().await;
        let layout = self.layout.clone();
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            f(&layout)
        })
        .await
        .map_err(join_error)?
    }

    /// Opens an object for reading: the file handle (positioned at 0) and its info.
    async fn open(&self, bucket: &str, key: &str) -> S3Result<(File, ObjectInfo)> {
        check_bucket(bucket)?;
        check_key(key)?;
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read_locked(move |layout| {
            require_bucket(layout, &bucket)?;
            open_object(layout, &bucket, &key)?.ok_or_else(|| s3_error!(NoSuchKey))
        })
        .await
    }

    /// Streams `body` into a new temporary file, computing its MD5 and the `algos` checksums.
    async fn spool_body(&self, body: Option<StreamingBlob>, algos: &[Algo]) -> S3Result<Spooled> {
        let tmp = TmpFile(Some(self.layout.new_tmp_path()));
        let mut file = tokio::fs::File::create(tmp.path()).await.map_err(|e| internal("creating upload file", e))?;
        let mut md5 = Md5::new();
        let mut sums = Hasher::new(algos);
        let mut size = 0_u64;
        if let Some(mut body) = body {
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(body_error)?;
                md5.update(&chunk);
                sums.update(&chunk);
                size += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(|e| internal("writing upload file", e))?;
            }
        }
        file.flush().await.map_err(|e| internal("writing upload file", e))?;
        let mtime = file.metadata().await.and_then(|m| m.modified()).map_err(|e| internal("upload file", e))?;
        Ok(Spooled { tmp, size, md5: md5.finalize().into(), checksums: sums.finish(), mtime })
    }

    /// Streams a write request's body in and checks it against `Content-MD5` and the checksum
    /// the request names (`expected`, whose trailer value is read after the body). Computes the
    /// named checksum and the `extra` ones.
    async fn receive(
        &self,
        body: Option<StreamingBlob>,
        content_md5: Option<&str>,
        mut expected: Expected,
        trailers: Option<&s3s::TrailingHeaders>,
        extra: &[Algo],
    ) -> S3Result<Spooled> {
        let content_md5 = match content_md5 {
            None => None,
            Some(b64) => {
                use base64::Engine as _;
                let digest = base64::engine::general_purpose::STANDARD.decode(b64).ok().filter(|d| d.len() == 16);
                Some(digest.ok_or_else(|| s3_error!(InvalidDigest))?)
            }
        };
        let mut algos: Vec<Algo> = extra.to_vec();
        if let Some(a) = expected.algo
            && !algos.contains(&a)
        {
            algos.push(a);
        }
        let spooled = self.spool_body(body, &algos).await?;
        if content_md5.is_some_and(|d| d != spooled.md5) {
            return Err(s3_error!(BadDigest, "the Content-MD5 you specified did not match what we received"));
        }
        expected.resolve_trailer(trailers)?;
        expected.verify(&spooled.checksums)?;
        Ok(spooled)
    }

    /// Moves a spooled upload into place as `bucket/key`.
    async fn commit(
        &self,
        bucket: String,
        key: String,
        spooled: Spooled,
        attrs: Attrs,
        conditions: PutConditions,
    ) -> S3Result<ObjectInfo> {
        self.write_locked(move |layout| commit_object(layout, &bucket, &key, spooled, attrs, &conditions)).await
    }
}

// ---------------------------------------------------------------------------------------------
// Checks and error mapping

fn check_bucket(bucket: &str) -> S3Result<()> {
    if s3s::path::check_bucket_name(bucket) { Ok(()) } else { Err(s3_error!(InvalidBucketName)) }
}

/// See the module docs, "Keys".
fn check_key(key: &str) -> S3Result<()> {
    if key.is_empty() {
        return Err(s3_error!(InvalidArgument, "empty object key"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(s3_error!(KeyTooLongError, "object keys are limited to {MAX_KEY_LEN} bytes"));
    }
    if !crate::key_is_safe(key) {
        return Err(s3_error!(InvalidArgument, "object keys with '.' or '..' segments, '\\' or NUL are not supported"));
    }
    if key.starts_with('/') || key.ends_with('/') || key.contains("//") {
        return Err(s3_error!(
            InvalidArgument,
            "object keys with empty path segments (leading or trailing '/', '//') are not supported"
        ));
    }
    if key.split('/').any(|seg| seg.len() > MAX_SEGMENT_LEN) {
        return Err(s3_error!(KeyTooLongError, "each '/'-separated key segment is limited to {MAX_SEGMENT_LEN} bytes"));
    }
    Ok(())
}

fn require_bucket(layout: &Layout, bucket: &str) -> S3Result<()> {
    if layout.bucket_dir(bucket).is_dir() { Ok(()) } else { Err(s3_error!(NoSuchBucket)) }
}

#[track_caller]
fn internal(what: &str, err: io::Error) -> S3Error {
    let location = std::panic::Location::caller();
    tracing::error!(%location, error = %err, "storage: {what}");
    S3Error::internal_error(err)
}

fn join_error(err: tokio::task::JoinError) -> S3Error {
    tracing::error!(error = %err, "storage task failed");
    S3Error::internal_error(err)
}

/// An error from reading the request body (a broken connection, a bad chunk signature, ...).
fn body_error(err: s3s::StdError) -> S3Error {
    match err.downcast::<S3Error>() {
        Ok(err) => *err,
        Err(err) => S3Error::with_source(S3ErrorCode::IncompleteBody, err),
    }
}

/// `a` exists as an object and `a/b` is written, or the reverse.
fn is_path_conflict(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotADirectory
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::AlreadyExists
            | io::ErrorKind::DirectoryNotEmpty
    )
}

fn write_error(what: &str, key: &str, err: io::Error) -> S3Error {
    if is_path_conflict(&err) {
        s3_error!(
            InvalidArgument,
            "key {key:?} conflicts with an existing object: this store keeps objects as files, so a key cannot \
             also be a '/'-prefix of other keys"
        )
    } else if err.kind() == io::ErrorKind::InvalidFilename {
        s3_error!(KeyTooLongError, "key too long for the file system")
    } else {
        internal(what, err)
    }
}

fn not_implemented(what: &str) -> S3Error {
    s3_error!(NotImplemented, "{what} is not supported by s3-mock")
}

/// Buckets are unversioned: the only version id there is is `null`.
fn check_version(version_id: Option<&str>) -> S3Result<()> {
    match version_id {
        None | Some("null") => Ok(()),
        Some(_) => Err(not_implemented("object versions")),
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking file-system operations (run under the lock, in `spawn_blocking`)

/// An upload file in `ROOT/.tmp`, removed on drop unless taken.
#[derive(Debug)]
struct TmpFile(Option<PathBuf>);

impl TmpFile {
    fn path(&self) -> &Path {
        self.0.as_deref().expect("temporary file already taken")
    }

    /// Disarms the clean-up (the file was renamed away).
    fn take(mut self) -> PathBuf {
        self.0.take().expect("temporary file already taken")
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A complete upload waiting in `ROOT/.tmp`.
#[derive(Debug)]
struct Spooled {
    tmp: TmpFile,
    size: u64,
    md5: [u8; 16],
    /// The checksums asked for when spooling (base64).
    checksums: Checksums,
    mtime: SystemTime,
}

/// Copies `reader` into a new temporary file, computing the `algos` checksums.
fn spool_reader(layout: &Layout, mut reader: impl Read, algos: &[Algo]) -> io::Result<Spooled> {
    let tmp = TmpFile(Some(layout.new_tmp_path()));
    let mut file = File::create(tmp.path())?;
    let mut md5 = Md5::new();
    let mut sums = Hasher::new(algos);
    let mut size = 0_u64;
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        md5.update(&buf[..n]);
        sums.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        size += n as u64;
    }
    file.flush()?;
    let mtime = file.metadata()?.modified()?;
    Ok(Spooled { tmp, size, md5: md5.finalize().into(), checksums: sums.finish(), mtime })
}

fn md5_hex(mut reader: impl Read) -> io::Result<String> {
    let mut md5 = Md5::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hex::encode(md5.finalize())),
            Ok(n) => md5.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a sidecar; `None` when absent or unreadable (then the object has no stored attributes).
fn read_sidecar(path: &Path) -> Option<Sidecar> {
    let bytes = fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(sidecar) => Some(sidecar),
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "ignoring unreadable sidecar");
            None
        }
    }
}

/// Size, time, ETag and attributes of the object whose data file is open as `file`.
fn object_info(file: &mut File, meta_path: &Path, key: &str) -> io::Result<ObjectInfo> {
    let md = file.metadata()?;
    let (size, mtime) = (md.len(), md.modified()?);
    match read_sidecar(meta_path) {
        Some(s) if s.key == key && s.size == size && s.mtime_ns == mtime_ns(mtime) => {
            Ok(ObjectInfo { size, mtime, etag: s.etag, attrs: s.attrs, sums: s.sums })
        }
        _ => {
            // No (valid) sidecar: the file was put there by other means.
            let etag = md5_hex(&mut *file)?;
            file.seek(SeekFrom::Start(0))?;
            Ok(ObjectInfo { size, mtime, etag, attrs: Attrs::default(), sums: StoredSums::default() })
        }
    }
}

/// Opens `bucket/key`; `None` if there is no such object.
fn open_object(layout: &Layout, bucket: &str, key: &str) -> S3Result<Option<(File, ObjectInfo)>> {
    let path = layout.object_path(bucket, key);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(None),
        Err(e) => return Err(internal("opening object", e)),
    };
    match file.metadata() {
        Ok(md) if md.is_file() => {}
        Ok(_) => return Ok(None), // a directory: a common prefix, not an object
        Err(e) => return Err(internal("reading object metadata", e)),
    }
    let info =
        object_info(&mut file, &layout.meta_path(bucket, key), key).map_err(|e| internal("reading object", e))?;
    Ok(Some((file, info)))
}

/// Conditional-write headers of a PUT.
#[derive(Debug, Default)]
struct PutConditions {
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
}

impl PutConditions {
    fn check(&self, current: Option<&ObjectInfo>) -> S3Result<()> {
        if let Some(cond) = &self.if_none_match
            && let Some(cur) = current
            && etag_matches(cond, cur)
        {
            return Err(s3_error!(PreconditionFailed, "the object exists (If-None-Match)"));
        }
        if let Some(cond) = &self.if_match {
            let Some(cur) = current else { return Err(s3_error!(NoSuchKey)) };
            if !etag_matches(cond, cur) {
                return Err(s3_error!(PreconditionFailed, "ETag does not match (If-Match)"));
            }
        }
        Ok(())
    }
}

fn etag_matches(cond: &ETagCondition, info: &ObjectInfo) -> bool {
    match cond {
        ETagCondition::Any => true,
        ETagCondition::ETag(tag) => tag.value() == info.etag,
    }
}

/// What a new object's sidecar records besides its size and time.
#[derive(Debug)]
struct NewObject {
    /// Without quotes.
    etag: String,
    attrs: Attrs,
    sums: StoredSums,
}

/// Renames a spooled single-part upload and its new sidecar into place (under the exclusive
/// lock): ETag = hex MD5, the spooled checksums as FULL_OBJECT ones.
fn commit_object(
    layout: &Layout,
    bucket: &str,
    key: &str,
    spooled: Spooled,
    attrs: Attrs,
    conditions: &PutConditions,
) -> S3Result<ObjectInfo> {
    let checksums = spooled.checksums.clone();
    let checksum_type = (!checksums.is_empty()).then_some(ChecksumType::FullObject);
    let new = NewObject {
        etag: hex::encode(spooled.md5),
        attrs,
        sums: StoredSums { checksums, checksum_type, part_sizes: Vec::new() },
    };
    commit_new_object(layout, bucket, key, spooled, new, conditions)
}

/// Renames a spooled upload and its new sidecar into place (under the exclusive lock).
fn commit_new_object(
    layout: &Layout,
    bucket: &str,
    key: &str,
    spooled: Spooled,
    new: NewObject,
    conditions: &PutConditions,
) -> S3Result<ObjectInfo> {
    // Checked again here: the bucket may have been deleted while the body was uploading, and
    // create_dir_all below must not bring it back.
    require_bucket(layout, bucket)?;
    if conditions.if_match.is_some() || conditions.if_none_match.is_some() {
        let current = open_object(layout, bucket, key)?.map(|(_, info)| info);
        conditions.check(current.as_ref())?;
    }

    let info =
        ObjectInfo { size: spooled.size, mtime: spooled.mtime, etag: new.etag, attrs: new.attrs, sums: new.sums };
    let sidecar = Sidecar {
        key: key.to_owned(),
        size: info.size,
        mtime_ns: mtime_ns(info.mtime),
        etag: info.etag.clone(),
        attrs: info.attrs.clone(),
        sums: info.sums.clone(),
    };
    let sidecar_tmp = TmpFile(Some(layout.new_tmp_path()));
    let json = serde_json::to_vec_pretty(&sidecar).expect("sidecar serialises");
    fs::write(sidecar_tmp.path(), json).map_err(|e| internal("writing sidecar", e))?;

    let object = layout.object_path(bucket, key);
    if let Some(parent) = object.parent() {
        fs::create_dir_all(parent).map_err(|e| write_error("creating object directory", key, e))?;
    }
    fs::rename(spooled.tmp.path(), &object).map_err(|e| write_error("storing object", key, e))?;
    spooled.tmp.take();

    let meta = layout.meta_path(bucket, key);
    let placed = fs::create_dir_all(layout.meta_dir(bucket)).and_then(|()| fs::rename(sidecar_tmp.path(), &meta));
    match placed {
        Ok(()) => {
            sidecar_tmp.take();
        }
        Err(e) => {
            // Do not leave the previous object's sidecar describing the new data.
            let _ = fs::remove_file(&meta);
            return Err(internal("storing sidecar", e));
        }
    }
    Ok(info)
}

/// Removes `bucket/key` (absent: nothing to do) and the directories it leaves empty.
fn delete_object_file(layout: &Layout, bucket: &str, key: &str) -> S3Result<()> {
    let object = layout.object_path(bucket, key);
    match fs::remove_file(&object) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
            ) => {}
        Err(e) => return Err(internal("deleting object", e)),
    }
    match fs::remove_file(layout.meta_path(bucket, key)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(internal("deleting sidecar", e)),
    }
    let bucket_dir = layout.bucket_dir(bucket);
    let mut dir = object.parent();
    while let Some(d) = dir {
        if d == bucket_dir || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// The keys under `bucket_dir` that start with `prefix`, sorted (S3 order: by UTF-8 bytes).
/// Walks only the directory named by the prefix's part up to its last `/`.
fn walk_keys(bucket_dir: &Path, prefix: &str) -> io::Result<Vec<String>> {
    let start = match prefix.rfind('/') {
        Some(i) if check_key(&prefix[..i]).is_ok() => &prefix[..i],
        _ => "",
    };
    let mut keys = Vec::new();
    let mut stack = vec![(bucket_dir.join(start), start.to_owned())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let key = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                let as_prefix = format!("{key}/");
                if as_prefix.starts_with(prefix) || prefix.starts_with(&as_prefix) {
                    stack.push((entry.path(), key));
                }
            } else if file_type.is_file() && key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}

/// One entry of a listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Key(String),
    CommonPrefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Key(s) | Entry::CommonPrefix(s) => s,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Page {
    entries: Vec<Entry>,
    truncated: bool,
}

/// Groups sorted `keys` (all starting with `prefix`) by `delimiter` and cuts one page of at most
/// `max` entries: keys not after `start_after` are dropped before grouping, entries not after
/// `marker` (the last entry of the previous page) after it.
fn paginate(
    keys: &[String],
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> Page {
    let delimiter = delimiter.filter(|d| !d.is_empty());
    let mut entries: Vec<Entry> = Vec::new();
    for key in keys {
        if start_after.is_some_and(|s| key.as_str() <= s) {
            continue;
        }
        let entry = match delimiter.and_then(|d| key[prefix.len()..].find(d).map(|i| prefix.len() + i + d.len())) {
            Some(end) => Entry::CommonPrefix(key[..end].to_owned()),
            None => Entry::Key(key.clone()),
        };
        // Keys sharing a common prefix are adjacent in sorted order.
        if entries.last() == Some(&entry) || marker.is_some_and(|m| entry.name() <= m) {
            continue;
        }
        if entries.len() == max {
            return Page { entries, truncated: true };
        }
        entries.push(entry);
    }
    Page { entries, truncated: false }
}

/// Percent-encodes `s` for `encoding-type=url` listings (everything but unreserved chars and `/`).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request side of a listing, shared by v1 and v2.
struct ListQuery {
    bucket: String,
    prefix: String,
    delimiter: Option<String>,
    start_after: Option<String>,
    marker: Option<String>,
    max_keys: Option<i32>,
}

/// A listing page with the details of its objects.
struct Listing {
    objects: Vec<dto::Object>,
    common_prefixes: Vec<String>,
    /// Name of the last entry, when the listing goes on.
    next_marker: Option<String>,
    max_keys: i32,
}

fn list(layout: &Layout, q: &ListQuery) -> S3Result<Listing> {
    require_bucket(layout, &q.bucket)?;
    let max = match q.max_keys {
        None => MAX_LIST_KEYS,
        Some(n) => usize::try_from(n).map_err(|_| s3_error!(InvalidArgument, "max-keys must not be negative"))?,
    }
    .min(MAX_LIST_KEYS);
    let keys = walk_keys(&layout.bucket_dir(&q.bucket), &q.prefix).map_err(|e| internal("listing bucket", e))?;
    let page = paginate(&keys, &q.prefix, q.delimiter.as_deref(), q.start_after.as_deref(), q.marker.as_deref(), max);
    let next_marker = page.truncated.then(|| page.entries.last().map(|e| e.name().to_owned())).flatten();
    let mut objects = Vec::new();
    let mut common_prefixes = Vec::new();
    for entry in page.entries {
        match entry {
            Entry::CommonPrefix(p) => common_prefixes.push(p),
            Entry::Key(key) => {
                // Gone since the walk (cannot happen under the lock, but be lenient): skip it.
                let Some((_, info)) = open_object(layout, &q.bucket, &key)? else { continue };
                objects.push(dto::Object {
                    key: Some(key),
                    size: Some(i64::try_from(info.size).unwrap_or(i64::MAX)),
                    e_tag: Some(info.e_tag()),
                    last_modified: Some(Timestamp::from(info.mtime)),
                    storage_class: Some(dto::ObjectStorageClass::from_static(dto::ObjectStorageClass::STANDARD)),
                    ..Default::default()
                });
            }
        }
    }
    Ok(Listing { objects, common_prefixes, next_marker, max_keys: i32::try_from(max).unwrap_or(i32::MAX) })
}

fn wants_url_encoding(encoding_type: Option<&dto::EncodingType>) -> S3Result<bool> {
    match encoding_type.map(dto::EncodingType::as_str) {
        None => Ok(false),
        Some(dto::EncodingType::URL) => Ok(true),
        Some(other) => Err(s3_error!(InvalidArgument, "invalid encoding-type {other:?}")),
    }
}

fn encode_token(marker: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker)
}

fn decode_token(token: &str) -> S3Result<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| s3_error!(InvalidArgument, "the continuation token provided is incorrect"))
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` for GET and
/// HEAD (RFC 9110 section 13.2.2 order).
fn check_read_conditions(
    info: &ObjectInfo,
    if_match: Option<&ETagCondition>,
    if_unmodified_since: Option<&Timestamp>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = info.mtime_secs();
    if let Some(cond) = if_match {
        if !etag_matches(cond, info) {
            return Err(s3_error!(PreconditionFailed, "ETag does not match (If-Match)"));
        }
    } else if if_unmodified_since.is_some_and(|since| &modified > since) {
        return Err(s3_error!(PreconditionFailed, "modified since If-Unmodified-Since"));
    }
    if let Some(cond) = if_none_match {
        if etag_matches(cond, info) {
            return Err(s3_error!(NotModified));
        }
    } else if if_modified_since.is_some_and(|since| &modified <= since) {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

/// The byte range to send: `(start, length, Content-Range)`. `part_sizes` are those of a
/// multipart object (empty for a single-part one, which has just part 1).
fn byte_range(
    range: Option<&dto::Range>,
    part_number: Option<i32>,
    size: u64,
    part_sizes: &[u64],
) -> S3Result<(u64, u64, Option<String>)> {
    if let Some(n) = part_number {
        if range.is_some() {
            return Err(s3_error!(InvalidRequest, "Cannot specify both Range header and partNumber query parameter"));
        }
        let count = part_sizes.len().max(1);
        let index = usize::try_from(n).ok().filter(|n| (1..=count).contains(n)).ok_or_else(|| {
            let mut err = S3Error::with_message(
                S3ErrorCode::Custom("InvalidPartNumber".into()),
                "The requested partnumber is not satisfiable",
            );
            err.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
            err
        })?;
        if part_sizes.is_empty() {
            return Ok((0, size, None));
        }
        let start: u64 = part_sizes[..index - 1].iter().sum();
        let len = part_sizes[index - 1];
        let end = (start + len).saturating_sub(1);
        return Ok((start, len, Some(format!("bytes {start}-{end}/{size}"))));
    }
    let Some(range) = range else { return Ok((0, size, None)) };
    let r = range.check(size).map_err(|_| s3_error!(InvalidRange, "the range is not satisfiable for size {size}"))?;
    Ok((r.start, r.end - r.start, Some(format!("bytes {}-{}/{size}", r.start, r.end - 1))))
}

/// Response header overrides (`response-content-type` etc., as in presigned URLs) on `attrs`.
struct Overrides {
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
}

impl Overrides {
    fn apply(self, mut attrs: Attrs) -> Attrs {
        attrs.content_type = self.content_type.or(attrs.content_type);
        attrs.content_encoding = self.content_encoding.or(attrs.content_encoding);
        attrs.content_disposition = self.content_disposition.or(attrs.content_disposition);
        attrs.content_language = self.content_language.or(attrs.content_language);
        attrs.cache_control = self.cache_control.or(attrs.cache_control);
        attrs
    }
}

fn content_length(n: u64) -> Option<i64> {
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------------------------
// The S3 operations

#[async_trait::async_trait]
impl S3 for Store {
    async fn create_bucket(
        &self,
        req: S3Request<dto::CreateBucketInput>,
    ) -> S3Result<S3Response<dto::CreateBucketOutput>> {
        let bucket = req.input.bucket;
        check_bucket(&bucket)?;
        let location = format!("/{bucket}");
        self.write_locked(move |layout| match fs::create_dir(layout.bucket_dir(&bucket)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(s3_error!(BucketAlreadyOwnedByYou)),
            Err(e) => Err(internal("creating bucket", e)),
        })
        .await?;
        Ok(S3Response::new(dto::CreateBucketOutput { location: Some(location) }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<dto::DeleteBucketInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
        let bucket = req.input.bucket;
        check_bucket(&bucket)?;
        self.write_locked(move |layout| {
            require_bucket(layout, &bucket)?;
            let dir = layout.bucket_dir(&bucket);
            if !walk_keys(&dir, "").map_err(|e| internal("listing bucket", e))?.is_empty() {
                return Err(s3_error!(BucketNotEmpty));
            }
            // Only empty directories are left.
            fs::remove_dir_all(&dir).map_err(|e| internal("deleting bucket", e))?;
            match fs::remove_dir_all(layout.meta_dir(&bucket)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(internal("deleting bucket sidecars", e)),
                _ => Ok(()),
            }
        })
        .await?;
        Ok(S3Response::new(dto::DeleteBucketOutput::default()))
    }

    async fn head_bucket(&self, req: S3Request<dto::HeadBucketInput>) -> S3Result<S3Response<dto::HeadBucketOutput>> {
        let bucket = req.input.bucket;
        check_bucket(&bucket)?;
        self.read_locked(move |layout| require_bucket(layout, &bucket)).await?;
        Ok(S3Response::new(dto::HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<dto::GetBucketLocationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
        let bucket = req.input.bucket;
        check_bucket(&bucket)?;
        self.read_locked(move |layout| require_bucket(layout, &bucket)).await?;
        // No constraint = us-east-1.
        Ok(S3Response::new(dto::GetBucketLocationOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<dto::ListBucketsInput>,
    ) -> S3Result<S3Response<dto::ListBucketsOutput>> {
        let buckets = self
            .read_locked(|layout| {
                let mut buckets = Vec::new();
                for entry in fs::read_dir(&layout.root).map_err(|e| internal("listing buckets", e))? {
                    let entry = entry.map_err(|e| internal("listing buckets", e))?;
                    let Ok(name) = entry.file_name().into_string() else { continue };
                    let Ok(md) = entry.metadata() else { continue };
                    if !md.is_dir() || !s3s::path::check_bucket_name(&name) {
                        continue;
                    }
                    let created = md.created().or_else(|_| md.modified()).ok().map(Timestamp::from);
                    buckets.push(dto::Bucket { name: Some(name), creation_date: created, ..Default::default() });
                }
                buckets.sort_by(|a, b| a.name.cmp(&b.name));
                Ok(buckets)
            })
            .await?;
        Ok(S3Response::new(dto::ListBucketsOutput { buckets: Some(buckets), ..Default::default() }))
    }

    async fn put_object(&self, req: S3Request<dto::PutObjectInput>) -> S3Result<S3Response<dto::PutObjectOutput>> {
        let S3Request { input, headers, trailing_headers, .. } = req;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        if input.write_offset_bytes.is_some() {
            return Err(not_implemented("appending (x-amz-write-offset-bytes)"));
        }
        let expected = Expected::from_request(
            [
                input.checksum_crc32.as_ref(),
                input.checksum_crc32c.as_ref(),
                input.checksum_crc64nvme.as_ref(),
                input.checksum_sha1.as_ref(),
                input.checksum_sha256.as_ref(),
            ],
            input.checksum_algorithm.as_ref(),
            &headers,
        )?;
        {
            let bucket = input.bucket.clone();
            self.read_locked(move |layout| require_bucket(layout, &bucket)).await?;
        }

        // No checksum named: S3 stores a CRC64NVME.
        let default = if expected.algo.is_none() { &[Algo::Crc64Nvme][..] } else { &[] };
        let spooled = self
            .receive(input.body, input.content_md5.as_deref(), expected, trailing_headers.as_ref(), default)
            .await?;
        let attrs = Attrs {
            content_type: input.content_type,
            content_encoding: input.content_encoding,
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            metadata: input.metadata.unwrap_or_default().into_iter().collect(),
        };
        let conditions = PutConditions { if_match: input.if_match, if_none_match: input.if_none_match };
        let info = self.commit(input.bucket, input.key, spooled, attrs, conditions).await?;
        let sums = OutFields::new(&info.sums.checksums, info.sums.checksum_type);
        Ok(S3Response::new(dto::PutObjectOutput {
            e_tag: Some(info.e_tag()),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_type: sums.ty,
            size: content_length(info.size),
            ..Default::default()
        }))
    }

    async fn copy_object(&self, req: S3Request<dto::CopyObjectInput>) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        let input = req.input;
        let dto::CopySource::Bucket { bucket: src_bucket, key: src_key, version_id } = &input.copy_source else {
            return Err(not_implemented("copying from an access point"));
        };
        check_version(version_id.as_deref())?;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        let (src, info) = self.open(src_bucket, src_key).await?;

        let replace = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == dto::MetadataDirective::REPLACE);
        let attrs = if replace {
            Attrs {
                content_type: input.content_type,
                content_encoding: input.content_encoding,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                metadata: input.metadata.unwrap_or_default().into_iter().collect(),
            }
        } else {
            info.attrs
        };
        // The copy gets the checksum named in the request, else the source's algorithms
        // (recomputed over the whole content), else S3's default CRC64NVME.
        let algos = match &input.checksum_algorithm {
            Some(a) => vec![Algo::from_dto(a)?],
            None if !info.sums.checksums.is_empty() => info.sums.checksums.algos(),
            None => vec![Algo::Crc64Nvme],
        };
        let layout = self.layout.clone();
        let spooled = tokio::task::spawn_blocking(move || spool_reader(&layout, src, &algos))
            .await
            .map_err(join_error)?
            .map_err(|e| internal("copying object", e))?;
        let info = self.commit(input.bucket, input.key, spooled, attrs, PutConditions::default()).await?;
        let result = dto::CopyObjectResult {
            e_tag: Some(info.e_tag()),
            last_modified: Some(Timestamp::from(info.mtime)),
            ..Default::default()
        };
        Ok(S3Response::new(dto::CopyObjectOutput { copy_object_result: Some(result), ..Default::default() }))
    }

    async fn get_object(&self, req: S3Request<dto::GetObjectInput>) -> S3Result<S3Response<dto::GetObjectOutput>> {
        let input = req.input;
        check_version(input.version_id.as_deref())?;
        let (file, info) = self.open(&input.bucket, &input.key).await?;
        check_read_conditions(
            &info,
            input.if_match.as_ref(),
            input.if_unmodified_since.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
        )?;
        let (start, len, content_range) =
            byte_range(input.range.as_ref(), input.part_number, info.size, &info.sums.part_sizes)?;
        let sums = info.sums.out(input.checksum_mode.as_ref(), len == info.size);
        let parts_count = input.part_number.and(info.sums.parts_count());

        let mut file = tokio::fs::File::from_std(file);
        if start > 0 {
            file.seek(SeekFrom::Start(start)).await.map_err(|e| internal("reading object", e))?;
        }
        let body = StreamingBlob::wrap(tokio_util::io::ReaderStream::with_capacity(file.take(len), 64 * 1024));

        let e_tag = Some(info.e_tag());
        let metadata = info.attrs.metadata_dto();
        let attrs = Overrides {
            content_type: input.response_content_type,
            content_encoding: input.response_content_encoding,
            content_disposition: input.response_content_disposition,
            content_language: input.response_content_language,
            cache_control: input.response_cache_control,
        }
        .apply(info.attrs);
        Ok(S3Response::new(dto::GetObjectOutput {
            body: Some(body),
            accept_ranges: Some("bytes".to_owned()),
            content_length: content_length(len),
            content_range,
            content_type: Some(attrs.content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned())),
            content_encoding: attrs.content_encoding,
            content_disposition: attrs.content_disposition,
            content_language: attrs.content_language,
            cache_control: attrs.cache_control,
            e_tag,
            last_modified: Some(Timestamp::from(info.mtime)),
            metadata,
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_type: sums.ty,
            parts_count,
            ..Default::default()
        }))
    }

    async fn head_object(&self, req: S3Request<dto::HeadObjectInput>) -> S3Result<S3Response<dto::HeadObjectOutput>> {
        let input = req.input;
        check_version(input.version_id.as_deref())?;
        let (_, info) = self.open(&input.bucket, &input.key).await?;
        check_read_conditions(
            &info,
            input.if_match.as_ref(),
            input.if_unmodified_since.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
        )?;
        let (_, len, content_range) =
            byte_range(input.range.as_ref(), input.part_number, info.size, &info.sums.part_sizes)?;
        let sums = info.sums.out(input.checksum_mode.as_ref(), len == info.size);
        let parts_count = input.part_number.and(info.sums.parts_count());
        let e_tag = Some(info.e_tag());
        let metadata = info.attrs.metadata_dto();
        let attrs = Overrides {
            content_type: input.response_content_type,
            content_encoding: input.response_content_encoding,
            content_disposition: input.response_content_disposition,
            content_language: input.response_content_language,
            cache_control: input.response_cache_control,
        }
        .apply(info.attrs);
        Ok(S3Response::new(dto::HeadObjectOutput {
            accept_ranges: Some("bytes".to_owned()),
            content_length: content_length(len),
            content_range,
            content_type: Some(attrs.content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned())),
            content_encoding: attrs.content_encoding,
            content_disposition: attrs.content_disposition,
            content_language: attrs.content_language,
            cache_control: attrs.cache_control,
            e_tag,
            last_modified: Some(Timestamp::from(info.mtime)),
            metadata,
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_type: sums.ty,
            parts_count,
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<dto::DeleteObjectInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        if input.if_match.is_some() || input.if_match_size.is_some() || input.if_match_last_modified_time.is_some() {
            return Err(not_implemented("conditional delete"));
        }
        check_version(input.version_id.as_deref())?;
        let (bucket, key) = (input.bucket, input.key);
        self.write_locked(move |layout| {
            require_bucket(layout, &bucket)?;
            delete_object_file(layout, &bucket, &key)
        })
        .await?;
        Ok(S3Response::new(dto::DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<dto::DeleteObjectsInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let (bucket, objects) = (input.bucket, input.delete.objects);
        let (deleted, errors) = self
            .write_locked(move |layout| {
                require_bucket(layout, &bucket)?;
                let mut deleted = Vec::new();
                let mut errors = Vec::new();
                for obj in objects {
                    match check_key(&obj.key).and_then(|()| delete_object_file(layout, &bucket, &obj.key)) {
                        Ok(()) => deleted.push(dto::DeletedObject { key: Some(obj.key), ..Default::default() }),
                        Err(err) => errors.push(dto::Error {
                            code: Some(err.code().as_str().to_owned()),
                            message: err.message().map(str::to_owned),
                            key: Some(obj.key),
                            version_id: None,
                        }),
                    }
                }
                Ok((deleted, errors))
            })
            .await?;
        Ok(S3Response::new(dto::DeleteObjectsOutput {
            deleted: (!quiet).then_some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        self.mpu_create(req).await
    }

    async fn upload_part(&self, req: S3Request<dto::UploadPartInput>) -> S3Result<S3Response<dto::UploadPartOutput>> {
        self.mpu_upload_part(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        self.mpu_complete(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        self.mpu_abort(req).await
    }

    async fn list_parts(&self, req: S3Request<dto::ListPartsInput>) -> S3Result<S3Response<dto::ListPartsOutput>> {
        self.mpu_list_parts(req).await
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
        self.mpu_list_uploads(req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<dto::ListObjectsInput>,
    ) -> S3Result<S3Response<dto::ListObjectsOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        let url = wants_url_encoding(input.encoding_type.as_ref())?;
        let enc = |s: String| if url { url_encode(&s) } else { s };
        let query = ListQuery {
            bucket: input.bucket.clone(),
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: input.delimiter.clone(),
            start_after: None,
            marker: input.marker.clone().filter(|m| !m.is_empty()),
            max_keys: input.max_keys,
        };
        let listing = self.read_locked(move |layout| list(layout, &query)).await?;
        let truncated = listing.next_marker.is_some();
        Ok(S3Response::new(dto::ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(enc(input.prefix.unwrap_or_default())),
            delimiter: input.delimiter.map(enc),
            marker: Some(enc(input.marker.unwrap_or_default())),
            max_keys: Some(listing.max_keys),
            is_truncated: Some(truncated),
            next_marker: listing.next_marker.map(enc),
            contents: Some(listing.objects.into_iter().map(|o| dto::Object { key: o.key.map(enc), ..o }).collect()),
            common_prefixes: Some(
                listing.common_prefixes.into_iter().map(|p| dto::CommonPrefix { prefix: Some(enc(p)) }).collect(),
            ),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<dto::ListObjectsV2Input>,
    ) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        let url = wants_url_encoding(input.encoding_type.as_ref())?;
        let enc = |s: String| if url { url_encode(&s) } else { s };
        let marker = input.continuation_token.as_deref().map(decode_token).transpose()?;
        let query = ListQuery {
            bucket: input.bucket.clone(),
            prefix: input.prefix.clone().unwrap_or_default(),
            delimiter: input.delimiter.clone(),
            start_after: input.start_after.clone().filter(|s| !s.is_empty()),
            marker,
            max_keys: input.max_keys,
        };
        let listing = self.read_locked(move |layout| list(layout, &query)).await?;
        let key_count = listing.objects.len() + listing.common_prefixes.len();
        Ok(S3Response::new(dto::ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc(input.prefix.unwrap_or_default())),
            delimiter: input.delimiter.map(enc),
            start_after: input.start_after.map(enc),
            max_keys: Some(listing.max_keys),
            key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
            continuation_token: input.continuation_token,
            is_truncated: Some(listing.next_marker.is_some()),
            next_continuation_token: listing.next_marker.as_deref().map(encode_token),
            contents: Some(listing.objects.into_iter().map(|o| dto::Object { key: o.key.map(enc), ..o }).collect()),
            common_prefixes: Some(
                listing.common_prefixes.into_iter().map(|p| dto::CommonPrefix { prefix: Some(enc(p)) }).collect(),
            ),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = ks.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    fn names(page: &Page) -> Vec<&str> {
        page.entries.iter().map(Entry::name).collect()
    }

    #[test]
    fn key_checks() {
        for ok in ["a", "a/b/c.png.tlock", "a..b/.hidden/x.", "with space/and:colon"] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", "../x", "a/./b", "a\\b", "a\0b"] {
            assert_eq!(*check_key(bad).unwrap_err().code(), S3ErrorCode::InvalidArgument, "{bad:?}");
        }
        let long_segment = format!("a/{}", "x".repeat(256));
        assert_eq!(*check_key(&long_segment).unwrap_err().code(), S3ErrorCode::KeyTooLongError);
        let long_key = vec!["y".repeat(200); 6].join("/");
        assert_eq!(*check_key(&long_key).unwrap_err().code(), S3ErrorCode::KeyTooLongError);
        assert!(check_key(&vec!["y".repeat(200); 5].join("/")).is_ok());
    }

    #[test]
    fn sidecar_names_are_short_for_long_keys() {
        let layout = Layout { root: PathBuf::from("/data") };
        let key = vec!["k".repeat(250); 4].join("/");
        let meta = layout.meta_path("yanez-miid-sn54", &key);
        assert_eq!(meta.parent().unwrap(), Path::new("/data/.yanez-miid-sn54.objhash-meta"));
        assert_eq!(meta.file_name().unwrap().len(), 64 + 5);
        assert_ne!(meta, layout.meta_path("yanez-miid-sn54", "other"));
        assert_ne!(meta, layout.meta_path("other-bucket", &key));
    }

    #[test]
    fn paginate_prefix_delimiter_and_markers() {
        let ks = keys(&["a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "a0", "b"]);
        let all = paginate(&ks, "", None, None, None, 1000);
        assert_eq!(names(&all), ["a/1", "a/2", "a/b/3", "a/b/4", "a/c/5", "a0", "b"]);
        assert!(!all.truncated);

        let top = paginate(&ks, "", Some("/"), None, None, 1000);
        assert_eq!(top.entries, [Entry::CommonPrefix("a/".into()), Entry::Key("a0".into()), Entry::Key("b".into())]);

        let under_a: Vec<String> = ks.iter().filter(|k| k.starts_with("a/")).cloned().collect();
        let page = paginate(&under_a, "a/", Some("/"), None, None, 1000);
        assert_eq!(names(&page), ["a/1", "a/2", "a/b/", "a/c/"]);

        // Pages of two, resumed after the last entry; a common prefix counts once.
        let p1 = paginate(&under_a, "a/", Some("/"), None, None, 2);
        assert_eq!((names(&p1), p1.truncated), (vec!["a/1", "a/2"], true));
        let p2 = paginate(&under_a, "a/", Some("/"), None, Some("a/2"), 2);
        assert_eq!((names(&p2), p2.truncated), (vec!["a/b/", "a/c/"], false));
        let p3 = paginate(&under_a, "a/", Some("/"), None, Some("a/b/"), 1);
        assert_eq!((names(&p3), p3.truncated), (vec!["a/c/"], false));

        // Exactly `max` entries left: not truncated.
        let exact = paginate(&ks, "", None, None, Some("a0"), 1);
        assert_eq!((names(&exact), exact.truncated), (vec!["b"], false));

        // start-after inside a common prefix still yields that prefix if keys follow.
        let sa = paginate(&ks, "", Some("/"), Some("a/b/3"), None, 1000);
        assert_eq!(names(&sa), ["a/", "a0", "b"]);
        let sa = paginate(&ks, "", Some("/"), Some("a/c/5"), None, 1000);
        assert_eq!(names(&sa), ["a0", "b"]);

        // A multi-character delimiter; an empty one means none.
        let ks2 = keys(&["x--y--z", "x--w", "v"]);
        assert_eq!(names(&paginate(&ks2, "", Some("--"), None, None, 10)), ["v", "x--"]);
        assert_eq!(names(&paginate(&ks2, "", Some(""), None, None, 10)), ["v", "x--w", "x--y--z"]);
        assert!(paginate(&ks2, "", None, None, None, 0).entries.is_empty());
    }

    #[test]
    fn url_encoding_and_tokens() {
        assert_eq!(url_encode("a b/c+d%é~_-."), "a%20b/c%2Bd%25%C3%A9~_-.");
        let key = "submissions/x y/ü";
        assert_eq!(decode_token(&encode_token(key)).unwrap(), key);
        assert!(decode_token("not base64!").is_err());
    }

    fn write(path: &Path, data: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }

    #[test]
    fn walk_finds_files_only_under_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        for k in ["a/1", "a/b/2", "ab/3", "c", "a/b/c/d/4"] {
            write(&dir.path().join(k), b"x");
        }
        fs::create_dir_all(dir.path().join("empty/dir")).unwrap();
        assert_eq!(walk_keys(dir.path(), "").unwrap(), ["a/1", "a/b/2", "a/b/c/d/4", "ab/3", "c"]);
        assert_eq!(walk_keys(dir.path(), "a").unwrap(), ["a/1", "a/b/2", "a/b/c/d/4", "ab/3"]);
        assert_eq!(walk_keys(dir.path(), "a/").unwrap(), ["a/1", "a/b/2", "a/b/c/d/4"]);
        assert_eq!(walk_keys(dir.path(), "a/b/c/d/").unwrap(), ["a/b/c/d/4"]);
        assert_eq!(walk_keys(dir.path(), "a/b/c/d/4").unwrap(), ["a/b/c/d/4"]);
        assert!(walk_keys(dir.path(), "nothing/here/").unwrap().is_empty());
        assert!(walk_keys(dir.path(), "c/").unwrap().is_empty());
        // A prefix that is not a clean path is filtered, never walked outside the bucket.
        assert!(walk_keys(&dir.path().join("a"), "../").unwrap().is_empty());
    }

    fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("bkt")).unwrap();
        (Store::new(dir.path()).unwrap(), dir)
    }

    fn spool(layout: &Layout, data: &[u8]) -> Spooled {
        spool_reader(layout, data, &[]).unwrap()
    }

    #[test]
    fn commit_open_delete() {
        let (store, dir) = store();
        let layout = &store.layout;
        let attrs = Attrs { content_type: Some("image/png".into()), ..Default::default() };
        let info =
            commit_object(layout, "bkt", "x/y/z", spool(layout, b"hello"), attrs.clone(), &PutConditions::default())
                .unwrap();
        assert_eq!(info.etag, "5d41402abc4b2a76b9719d911017c592"); // md5("hello")
        assert_eq!(fs::read(dir.path().join("bkt/x/y/z")).unwrap(), b"hello");
        assert!(fs::read_dir(layout.tmp_dir()).unwrap().next().is_none(), "no temporary files left");

        let (_, got) = open_object(layout, "bkt", "x/y/z").unwrap().unwrap();
        assert_eq!((got.size, got.etag.as_str(), &got.attrs), (5, info.etag.as_str(), &attrs));
        assert!(open_object(layout, "bkt", "x/y").unwrap().is_none(), "a directory is not an object");
        assert!(open_object(layout, "bkt", "x/y/z/w").unwrap().is_none());

        // "x/y" is a directory, "x/y/z" a file: both conflicting keys are refused.
        for k in ["x/y", "x/y/z/w"] {
            let err = commit_object(layout, "bkt", k, spool(layout, b"!"), Attrs::default(), &PutConditions::default())
                .unwrap_err();
            assert_eq!(*err.code(), S3ErrorCode::InvalidArgument, "{k}");
        }

        delete_object_file(layout, "bkt", "x/y/z").unwrap();
        assert!(!dir.path().join("bkt/x").exists(), "empty parents pruned");
        assert!(dir.path().join("bkt").is_dir(), "never the bucket itself");
        assert!(!layout.meta_path("bkt", "x/y/z").exists());
        delete_object_file(layout, "bkt", "x/y/z").unwrap(); // deleting nothing is fine
    }

    #[test]
    fn stale_or_missing_sidecar_falls_back_to_the_file() {
        let (store, dir) = store();
        let layout = &store.layout;
        let attrs = Attrs { content_type: Some("text/plain".into()), ..Default::default() };
        commit_object(layout, "bkt", "k", spool(layout, b"hello"), attrs, &PutConditions::default()).unwrap();
        // Replaced behind the server's back: the sidecar no longer describes it.
        fs::write(dir.path().join("bkt/k"), b"other content").unwrap();
        let (_, info) = open_object(layout, "bkt", "k").unwrap().unwrap();
        assert_eq!(info.etag, hex::encode(Md5::digest(b"other content")));
        assert_eq!(info.attrs, Attrs::default());
        // A file put there by hand.
        write(&dir.path().join("bkt/manual/file"), b"hello");
        let (mut file, info) = open_object(layout, "bkt", "manual/file").unwrap().unwrap();
        assert_eq!(info.etag, "5d41402abc4b2a76b9719d911017c592");
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"hello", "handle rewound after hashing");
    }

    #[test]
    fn put_conditions() {
        let (store, _dir) = store();
        let layout = &store.layout;
        let put = |data: &[u8], c: PutConditions| {
            commit_object(layout, "bkt", "k", spool(layout, data), Attrs::default(), &c)
        };
        let create = || PutConditions { if_none_match: Some(ETagCondition::Any), ..Default::default() };
        let first = put(b"1", create()).unwrap();
        assert_eq!(*put(b"2", create()).unwrap_err().code(), S3ErrorCode::PreconditionFailed);
        let if_match = |etag: &str| PutConditions {
            if_match: Some(ETagCondition::ETag(dto::ETag::Strong(etag.into()))),
            ..Default::default()
        };
        assert_eq!(*put(b"3", if_match("0000")).unwrap_err().code(), S3ErrorCode::PreconditionFailed);
        put(b"4", if_match(&first.etag)).unwrap();
        let (_, info) = open_object(layout, "bkt", "k").unwrap().unwrap();
        assert_eq!(info.etag, hex::encode(Md5::digest(b"4")));
    }

    #[test]
    fn read_conditions_and_ranges() {
        let info = ObjectInfo {
            size: 10,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_500),
            etag: "abc".into(),
            attrs: Attrs::default(),
            sums: StoredSums::default(),
        };
        let tag = |s: &str| ETagCondition::ETag(dto::ETag::Strong(s.into()));
        let at = |secs: u64| Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        let code = |r: S3Result<()>| r.unwrap_err().code().clone();
        assert!(check_read_conditions(&info, Some(&tag("abc")), None, None, None).is_ok());
        assert_eq!(
            code(check_read_conditions(&info, Some(&tag("x")), None, None, None)),
            S3ErrorCode::PreconditionFailed
        );
        assert_eq!(code(check_read_conditions(&info, None, None, Some(&tag("abc")), None)), S3ErrorCode::NotModified);
        assert_eq!(
            code(check_read_conditions(&info, None, None, Some(&ETagCondition::Any), None)),
            S3ErrorCode::NotModified
        );
        assert_eq!(code(check_read_conditions(&info, None, None, None, Some(&at(1000)))), S3ErrorCode::NotModified);
        assert!(check_read_conditions(&info, None, None, None, Some(&at(999))).is_ok());
        assert!(check_read_conditions(&info, None, Some(&at(1000)), None, None).is_ok());
        assert_eq!(
            code(check_read_conditions(&info, None, Some(&at(999)), None, None)),
            S3ErrorCode::PreconditionFailed
        );

        let r = |s: &str| dto::Range::parse(s).unwrap();
        assert_eq!(byte_range(None, None, 10, &[]).unwrap(), (0, 10, None));
        assert_eq!(byte_range(Some(&r("bytes=2-4")), None, 10, &[]).unwrap(), (2, 3, Some("bytes 2-4/10".into())));
        assert_eq!(byte_range(Some(&r("bytes=7-")), None, 10, &[]).unwrap(), (7, 3, Some("bytes 7-9/10".into())));
        assert_eq!(byte_range(Some(&r("bytes=-4")), None, 10, &[]).unwrap(), (6, 4, Some("bytes 6-9/10".into())));
        assert_eq!(byte_range(Some(&r("bytes=5-100")), None, 10, &[]).unwrap(), (5, 5, Some("bytes 5-9/10".into())));
        assert_eq!(*byte_range(Some(&r("bytes=10-")), None, 10, &[]).unwrap_err().code(), S3ErrorCode::InvalidRange);
        let part_err = byte_range(None, Some(2), 10, &[]).unwrap_err();
        assert_eq!(part_err.code().as_str(), "InvalidPartNumber");
        assert_eq!(part_err.status_code(), Some(http::StatusCode::RANGE_NOT_SATISFIABLE));
        assert!(byte_range(None, Some(1), 10, &[]).is_ok());
        // A multipart object of parts 4 + 4 + 2.
        let parts = [4, 4, 2];
        assert_eq!(byte_range(None, Some(2), 10, &parts).unwrap(), (4, 4, Some("bytes 4-7/10".into())));
        assert_eq!(byte_range(None, Some(3), 10, &parts).unwrap(), (8, 2, Some("bytes 8-9/10".into())));
        assert!(byte_range(None, Some(4), 10, &parts).is_err());
        assert!(byte_range(None, Some(0), 10, &parts).is_err());
        let both = byte_range(Some(&r("bytes=0-1")), Some(1), 10, &parts).unwrap_err();
        assert_eq!(*both.code(), S3ErrorCode::InvalidRequest);
    }

    #[test]
    fn stale_temporary_files_are_removed_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let (old, fresh) = (tmp.join("old"), tmp.join("fresh"));
        fs::write(&old, b"x").unwrap();
        fs::write(&fresh, b"x").unwrap();
        File::options().write(true).open(&old).unwrap().set_modified(SystemTime::now() - STALE_TMP_AGE * 2).unwrap();
        Store::new(dir.path()).unwrap();
        assert!(!old.exists());
        assert!(fresh.exists(), "may be another server's upload in progress");
    }
}
