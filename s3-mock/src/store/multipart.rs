//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts, ListMultipartUploads.
//!
//! # Layout
//!
//! An upload is the directory `ROOT/.uploads/UPLOAD_ID` (the ID is 32 random hex digits):
//! `upload.json` (bucket, key, the object's future headers, checksum algorithm and type), and per
//! part `NNNNN` (the bytes, renamed there from `ROOT/.tmp` once received whole and verified) and
//! `NNNNN.json` (hex MD5 and checksums). Uploads survive a restart. Completing an upload
//! concatenates the listed parts into `ROOT/.tmp`, renames the result into place as any upload
//! (so the object appears whole or not at all) and removes the upload directory.
//!
//! # What is checked, as S3 does
//!
//! * part numbers 1..=10000 (`400 InvalidArgument`); an unknown upload ID, or one of another
//!   bucket/key: `404 NoSuchUpload`;
//! * CompleteMultipartUpload: at least one part (`400 MalformedXML`), part numbers strictly
//!   ascending (`400 InvalidPartOrder`), each part uploaded with the ETag (and checksum, when
//!   given) listed (`400 InvalidPart`), and every part but the last at least 5 MiB
//!   (`400 EntityTooSmall`) — enforced so that a client that works here works on S3;
//! * the object's ETag is `"HEX(MD5(MD5(part 1) || ... || MD5(part N)))-N"`;
//! * checksums: an upload created with `x-amz-checksum-algorithm` computes it for every part
//!   (and verifies a value sent with the part); the object gets the COMPOSITE checksum
//!   (`BASE64(H(part checksums))-N`) or, with `x-amz-checksum-type: FULL_OBJECT` (CRC32, CRC32C,
//!   CRC64NVME), the checksum of the whole content. Without an algorithm the object gets a
//!   FULL_OBJECT CRC64NVME, as on S3.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::checksum::{composite, decode_value};

/// S3's minimum size of every part but the last.
pub(crate) const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;
const MAX_LIST: usize = 1000;
const UPLOAD_FILE: &str = "upload.json";

/// `upload.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Upload {
    bucket: String,
    key: String,
    /// Unix time in nanoseconds.
    initiated_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum_type: Option<ChecksumType>,
    #[serde(flatten)]
    attrs: Attrs,
}

impl Upload {
    fn algo(&self) -> S3Result<Option<Algo>> {
        self.checksum_algorithm.as_deref().map(Algo::parse).transpose()
    }

    fn initiated(&self) -> Timestamp {
        Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_nanos(self.initiated_ns))
    }
}

/// `NNNNN.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartMeta {
    /// Hex MD5, without quotes.
    etag: String,
    size: u64,
    mtime_ns: u64,
    #[serde(default, skip_serializing_if = "Checksums::is_empty")]
    checksums: Checksums,
}

fn upload_dir(layout: &Layout, upload_id: &str) -> PathBuf {
    layout.uploads_dir().join(upload_id)
}

fn part_name(n: i32) -> String {
    format!("{n:05}")
}

fn no_such_upload() -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
}

fn invalid_part(what: &str) -> S3Error {
    s3_error!(
        InvalidPart,
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the \
         specified entity tag may not match the part's entity tag. ({what})"
    )
}

/// Upload IDs are ours: 32 lowercase hex digits. Anything else cannot name an upload (and never
/// reaches the file system).
fn check_upload_id(id: &str) -> S3Result<()> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(no_such_upload())
    }
}

fn check_part_number(n: i32) -> S3Result<()> {
    if (1..=MAX_PART_NUMBER).contains(&n) {
        Ok(())
    } else {
        Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive"))
    }
}

fn read_upload(layout: &Layout, upload_id: &str) -> S3Result<Option<Upload>> {
    match fs::read(upload_dir(layout, upload_id).join(UPLOAD_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| internal("reading upload", io::Error::new(io::ErrorKind::InvalidData, e))),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(internal("reading upload", e)),
    }
}

/// The upload `upload_id` of `bucket/key`; `NoSuchUpload` if there is none.
fn load_upload(layout: &Layout, upload_id: &str, bucket: &str, key: &str) -> S3Result<Upload> {
    require_bucket(layout, bucket)?;
    match read_upload(layout, upload_id)? {
        Some(u) if u.bucket == bucket && u.key == key => Ok(u),
        _ => Err(no_such_upload()),
    }
}

/// The parts received so far, by number.
fn read_parts(layout: &Layout, upload_id: &str) -> S3Result<BTreeMap<i32, PartMeta>> {
    let dir = upload_dir(layout, upload_id);
    let mut parts = BTreeMap::new();
    for entry in fs::read_dir(&dir).map_err(|e| internal("listing parts", e))? {
        let entry = entry.map_err(|e| internal("listing parts", e))?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        let Some(n) = name.strip_suffix(".json").and_then(|n| n.parse::<i32>().ok()) else { continue };
        let Ok(bytes) = fs::read(entry.path()) else { continue };
        match serde_json::from_slice::<PartMeta>(&bytes) {
            Ok(meta) => {
                parts.insert(n, meta);
            }
            Err(err) => tracing::warn!(path = %entry.path().display(), error = %err, "ignoring unreadable part"),
        }
    }
    Ok(parts)
}

/// Writes `value` as JSON to `path` through a temporary file.
fn write_json_atomically(layout: &Layout, path: &Path, value: &impl Serialize) -> io::Result<()> {
    let tmp = TmpFile(Some(layout.new_tmp_path()));
    fs::write(tmp.path(), serde_json::to_vec_pretty(value).expect("serialises"))?;
    fs::rename(tmp.path(), path)?;
    tmp.take();
    Ok(())
}

/// Reads the given files one after the other.
struct Concat(VecDeque<File>);

impl Read for Concat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(f) = self.0.front_mut() {
            let n = f.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            self.0.pop_front();
        }
        Ok(0)
    }
}

/// A checksum value of a `CompletedPart` (or of the Complete request), for `algo`.
fn completed_value(p: &dto::CompletedPart, algo: Algo) -> Option<&String> {
    match algo {
        Algo::Crc32 => p.checksum_crc32.as_ref(),
        Algo::Crc32c => p.checksum_crc32c.as_ref(),
        Algo::Crc64Nvme => p.checksum_crc64nvme.as_ref(),
        Algo::Sha1 => p.checksum_sha1.as_ref(),
        Algo::Sha256 => p.checksum_sha256.as_ref(),
    }
}

fn part_dto(n: i32, meta: &PartMeta) -> dto::Part {
    let sums = OutFields::new(&meta.checksums, None);
    dto::Part {
        part_number: Some(n),
        e_tag: Some(dto::ETag::Strong(meta.etag.clone())),
        size: content_length(meta.size),
        last_modified: Some(Timestamp::from(SystemTime::UNIX_EPOCH + Duration::from_nanos(meta.mtime_ns))),
        checksum_crc32: sums.crc32,
        checksum_crc32c: sums.crc32c,
        checksum_crc64nvme: sums.crc64nvme,
        checksum_sha1: sums.sha1,
        checksum_sha256: sums.sha256,
    }
}

impl Store {
    pub(super) async fn mpu_create(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        let algo = input.checksum_algorithm.as_ref().map(Algo::from_dto).transpose()?;
        let ty = input.checksum_type.as_ref().map(|t| ChecksumType::parse(t.as_str())).transpose()?;
        let (algo, ty) = match (algo, ty) {
            (None, None) => (None, None),
            (None, Some(_)) => {
                return Err(s3_error!(
                    InvalidRequest,
                    "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
                ));
            }
            (Some(a), t) => {
                let t = t.unwrap_or_else(|| a.default_multipart_type());
                if !a.allows(t) {
                    return Err(s3_error!(
                        InvalidRequest,
                        "The {} checksum algorithm does not support the {} checksum type.",
                        a.name(),
                        t.to_dto().as_str()
                    ));
                }
                (Some(a), Some(t))
            }
        };
        let upload = Upload {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            initiated_ns: mtime_ns(SystemTime::now()),
            checksum_algorithm: algo.map(|a| a.name().to_owned()),
            checksum_type: ty,
            attrs: Attrs {
                content_type: input.content_type,
                content_encoding: input.content_encoding,
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                metadata: input.metadata.unwrap_or_default().into_iter().collect(),
            },
        };
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        {
            let upload_id = upload_id.clone();
            self.write_locked(move |layout| {
                require_bucket(layout, &upload.bucket)?;
                let dir = upload_dir(layout, &upload_id);
                fs::create_dir_all(&dir).map_err(|e| internal("creating upload", e))?;
                write_json_atomically(layout, &dir.join(UPLOAD_FILE), &upload).map_err(|e| {
                    let _ = fs::remove_dir_all(&dir);
                    internal("creating upload", e)
                })
            })
            .await?;
        }
        tracing::debug!(bucket = %input.bucket, key = %input.key, %upload_id, "multipart upload created");
        Ok(S3Response::new(dto::CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: algo.map(Algo::to_dto),
            checksum_type: ty.map(ChecksumType::to_dto),
            ..Default::default()
        }))
    }

    pub(super) async fn mpu_upload_part(
        &self,
        req: S3Request<dto::UploadPartInput>,
    ) -> S3Result<S3Response<dto::UploadPartOutput>> {
        let S3Request { input, headers, trailing_headers, .. } = req;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        check_upload_id(&input.upload_id)?;
        check_part_number(input.part_number)?;
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
        let upload = {
            let (id, bucket, key) = (input.upload_id.clone(), input.bucket.clone(), input.key.clone());
            self.read_locked(move |layout| load_upload(layout, &id, &bucket, &key)).await?
        };
        let upload_algo = upload.algo()?;
        if let (Some(want), Some(got)) = (upload_algo, expected.algo)
            && want != got
        {
            return Err(s3_error!(
                InvalidRequest,
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                want.name().to_ascii_lowercase(),
                got.name().to_ascii_lowercase()
            ));
        }
        let extra: Vec<Algo> = upload_algo.into_iter().collect();
        let spooled =
            self.receive(input.body, input.content_md5.as_deref(), expected, trailing_headers.as_ref(), &extra).await?;
        let meta = PartMeta {
            etag: hex::encode(spooled.md5),
            size: spooled.size,
            mtime_ns: mtime_ns(spooled.mtime),
            checksums: spooled.checksums.clone(),
        };
        let out = OutFields::new(&meta.checksums, None);
        let e_tag = dto::ETag::Strong(meta.etag.clone());
        let (id, n) = (input.upload_id, input.part_number);
        self.write_locked(move |layout| {
            let dir = upload_dir(layout, &id);
            if !dir.join(UPLOAD_FILE).is_file() {
                return Err(no_such_upload()); // aborted or completed meanwhile
            }
            let json_tmp = TmpFile(Some(layout.new_tmp_path()));
            fs::write(json_tmp.path(), serde_json::to_vec_pretty(&meta).expect("serialises"))
                .map_err(|e| internal("writing part", e))?;
            fs::rename(spooled.tmp.path(), dir.join(part_name(n))).map_err(|e| internal("storing part", e))?;
            spooled.tmp.take();
            fs::rename(json_tmp.path(), dir.join(format!("{}.json", part_name(n))))
                .map_err(|e| internal("storing part", e))?;
            json_tmp.take();
            Ok(())
        })
        .await?;
        Ok(S3Response::new(dto::UploadPartOutput {
            e_tag: Some(e_tag),
            checksum_crc32: out.crc32,
            checksum_crc32c: out.crc32c,
            checksum_crc64nvme: out.crc64nvme,
            checksum_sha1: out.sha1,
            checksum_sha256: out.sha256,
            ..Default::default()
        }))
    }

    #[allow(clippy::too_many_lines)]
    pub(super) async fn mpu_complete(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        check_upload_id(&input.upload_id)?;
        let requested: Vec<dto::CompletedPart> = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema: \
                 a CompleteMultipartUpload request lists at least one part"
            ));
        }
        let mut previous = 0;
        for p in &requested {
            let n = p.part_number.ok_or_else(|| s3_error!(MalformedXML, "a listed part has no PartNumber"))?;
            check_part_number(n)?;
            if n <= previous {
                return Err(s3_error!(
                    InvalidPartOrder,
                    "The list of parts was not in ascending order. Parts must be ordered by part number."
                ));
            }
            previous = n;
        }

        // Pick and open the listed parts (open handles stay valid whatever happens next).
        let (upload, files, metas) = {
            let (id, bucket, key) = (input.upload_id.clone(), input.bucket.clone(), input.key.clone());
            self.read_locked(move |layout| {
                let upload = load_upload(layout, &id, &bucket, &key)?;
                let stored = read_parts(layout, &id)?;
                let dir = upload_dir(layout, &id);
                let last = requested.len() - 1;
                let mut files = VecDeque::new();
                let mut metas = Vec::new();
                for (i, p) in requested.iter().enumerate() {
                    let n = p.part_number.expect("checked");
                    let meta = stored.get(&n).ok_or_else(|| invalid_part(&format!("part {n} was not uploaded")))?;
                    match &p.e_tag {
                        Some(tag) if tag.value() == meta.etag => {}
                        _ => return Err(invalid_part(&format!("part {n}: ETag does not match"))),
                    }
                    for algo in Algo::ALL {
                        if let Some(v) = completed_value(p, algo) {
                            let same = meta
                                .checksums
                                .get(algo)
                                .is_some_and(|stored| decode_value(algo, stored).ok() == decode_value(algo, v).ok());
                            if !same {
                                return Err(invalid_part(&format!("part {n}: {} does not match", algo.name())));
                            }
                        }
                    }
                    if i < last && meta.size < MIN_PART_SIZE {
                        return Err(s3_error!(
                            EntityTooSmall,
                            "Your proposed upload is smaller than the minimum allowed size: part {n} has {} bytes, \
                             every part but the last needs at least {MIN_PART_SIZE}",
                            meta.size
                        ));
                    }
                    let file = match File::open(dir.join(part_name(n))) {
                        Ok(f) => f,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            return Err(invalid_part(&format!("part {n} is missing")));
                        }
                        Err(e) => return Err(internal("opening part", e)),
                    };
                    files.push_back(file);
                    metas.push((n, meta.clone()));
                }
                Ok((upload, files, metas))
            })
            .await?
        };

        let algo = upload.algo()?;
        let ty = upload.checksum_type;
        let full_algos: Vec<Algo> = match (algo, ty) {
            (Some(a), Some(ChecksumType::FullObject)) => vec![a],
            (Some(_), _) => Vec::new(),
            (None, _) => vec![Algo::Crc64Nvme],
        };
        let layout = self.layout.clone();
        let spooled = tokio::task::spawn_blocking(move || spool_reader(&layout, Concat(files), &full_algos))
            .await
            .map_err(join_error)?
            .map_err(|e| internal("assembling multipart object", e))?;
        let part_sizes: Vec<u64> = metas.iter().map(|(_, m)| m.size).collect();
        if spooled.size != part_sizes.iter().sum::<u64>() {
            return Err(internal(
                "assembling multipart object",
                io::Error::new(io::ErrorKind::InvalidData, "parts changed size on disk"),
            ));
        }
        if let Some(expected) = input.mpu_object_size
            && u64::try_from(expected).ok() != Some(spooled.size)
        {
            return Err(s3_error!(
                InvalidRequest,
                "Value for x-amz-mp-object-size header ({expected}) does not match the object size ({})",
                spooled.size
            ));
        }

        // ETag: MD5 of the concatenated binary part MD5s, then -N.
        let mut md5s = Md5::new();
        for (n, m) in &metas {
            let digest =
                hex::decode(&m.etag).map_err(|_| invalid_part(&format!("part {n}: stored ETag unreadable")))?;
            md5s.update(&digest);
        }
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), metas.len());

        let (checksums, checksum_type) = match (algo, ty) {
            (Some(a), Some(ChecksumType::Composite)) => {
                let values: Vec<&str> = metas
                    .iter()
                    .map(|(n, m)| {
                        m.checksums.get(a).ok_or_else(|| invalid_part(&format!("part {n} has no {}", a.name())))
                    })
                    .collect::<S3Result<_>>()?;
                let mut c = Checksums::default();
                c.set(a, Some(composite(a, &values)?));
                (c, ChecksumType::Composite)
            }
            _ => (spooled.checksums.clone(), ChecksumType::FullObject),
        };
        // A whole-object value sent with Complete must match (a COMPOSITE one with or without -N).
        let sent = [
            (Algo::Crc32, &input.checksum_crc32),
            (Algo::Crc32c, &input.checksum_crc32c),
            (Algo::Crc64Nvme, &input.checksum_crc64nvme),
            (Algo::Sha1, &input.checksum_sha1),
            (Algo::Sha256, &input.checksum_sha256),
        ];
        for (a, value) in sent {
            let Some(value) = value else { continue };
            let ours = checksums.get(a).map(|v| v.split('-').next().unwrap_or(v));
            let theirs = value.split('-').next().unwrap_or(value);
            if ours.is_none_or(|ours| decode_value(a, ours).ok() != decode_value(a, theirs).ok()) {
                return Err(s3_error!(
                    BadDigest,
                    "The {} you specified did not match the calculated checksum.",
                    a.name()
                ));
            }
        }

        let new = NewObject {
            etag,
            attrs: upload.attrs,
            sums: StoredSums { checksums, checksum_type: Some(checksum_type), part_sizes },
        };
        let conditions = PutConditions { if_match: input.if_match, if_none_match: input.if_none_match };
        let (id, bucket, key) = (input.upload_id.clone(), input.bucket.clone(), input.key.clone());
        let info = self
            .write_locked(move |layout| {
                let dir = upload_dir(layout, &id);
                if !dir.join(UPLOAD_FILE).is_file() {
                    return Err(no_such_upload()); // aborted or completed meanwhile
                }
                let info = commit_new_object(layout, &bucket, &key, spooled, new, &conditions)?;
                if let Err(e) = fs::remove_dir_all(&dir) {
                    tracing::warn!(dir = %dir.display(), error = %e, "could not remove a completed upload");
                }
                Ok(info)
            })
            .await?;
        tracing::debug!(bucket = %input.bucket, key = %input.key, upload_id = %input.upload_id, etag = %info.etag, "multipart upload completed");
        let out = OutFields::new(&info.sums.checksums, info.sums.checksum_type);
        Ok(S3Response::new(dto::CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(info.e_tag()),
            checksum_crc32: out.crc32,
            checksum_crc32c: out.crc32c,
            checksum_crc64nvme: out.crc64nvme,
            checksum_sha1: out.sha1,
            checksum_sha256: out.sha256,
            checksum_type: out.ty,
            ..Default::default()
        }))
    }

    pub(super) async fn mpu_abort(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        check_upload_id(&input.upload_id)?;
        self.write_locked(move |layout| {
            load_upload(layout, &input.upload_id, &input.bucket, &input.key)?;
            fs::remove_dir_all(upload_dir(layout, &input.upload_id)).map_err(|e| internal("aborting upload", e))
        })
        .await?;
        Ok(S3Response::new(dto::AbortMultipartUploadOutput::default()))
    }

    pub(super) async fn mpu_list_parts(
        &self,
        req: S3Request<dto::ListPartsInput>,
    ) -> S3Result<S3Response<dto::ListPartsOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        check_key(&input.key)?;
        check_upload_id(&input.upload_id)?;
        let max = match input.max_parts {
            None => MAX_LIST,
            Some(n) => usize::try_from(n).map_err(|_| s3_error!(InvalidArgument, "max-parts must not be negative"))?,
        }
        .min(MAX_LIST);
        let marker = input.part_number_marker.unwrap_or(0);
        let (upload, parts) = {
            let (id, bucket, key) = (input.upload_id.clone(), input.bucket.clone(), input.key.clone());
            self.read_locked(move |layout| {
                let upload = load_upload(layout, &id, &bucket, &key)?;
                Ok((upload, read_parts(layout, &id)?))
            })
            .await?
        };
        let mut after = parts.range(marker.saturating_add(1)..);
        let page: Vec<dto::Part> = after.by_ref().take(max).map(|(n, m)| part_dto(*n, m)).collect();
        let truncated = after.next().is_some();
        let next = if truncated { page.last().and_then(|p| p.part_number) } else { None };
        Ok(S3Response::new(dto::ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            max_parts: Some(i32::try_from(max).unwrap_or(i32::MAX)),
            is_truncated: Some(truncated),
            parts: Some(page),
            storage_class: Some(dto::StorageClass::from_static(dto::StorageClass::STANDARD)),
            checksum_algorithm: upload.algo()?.map(Algo::to_dto),
            checksum_type: upload.checksum_type.map(ChecksumType::to_dto),
            ..Default::default()
        }))
    }

    pub(super) async fn mpu_list_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
        let input = req.input;
        check_bucket(&input.bucket)?;
        let url = wants_url_encoding(input.encoding_type.as_ref())?;
        let enc = |s: String| if url { url_encode(&s) } else { s };
        let max = match input.max_uploads {
            None => MAX_LIST,
            Some(n) => {
                usize::try_from(n).map_err(|_| s3_error!(InvalidArgument, "max-uploads must not be negative"))?
            }
        }
        .min(MAX_LIST);
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut uploads = {
            let (bucket, prefix) = (input.bucket.clone(), prefix.clone());
            self.read_locked(move |layout| {
                require_bucket(layout, &bucket)?;
                let entries = match fs::read_dir(layout.uploads_dir()) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(internal("listing uploads", e)),
                };
                let mut out = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| internal("listing uploads", e))?;
                    let Ok(id) = entry.file_name().into_string() else { continue };
                    if check_upload_id(&id).is_err() {
                        continue;
                    }
                    if let Some(u) = read_upload(layout, &id)?
                        && u.bucket == bucket
                        && u.key.starts_with(&prefix)
                    {
                        out.push((id, u));
                    }
                }
                Ok(out)
            })
            .await?
        };
        // S3 order: by key, then by initiation time.
        uploads.sort_by(|(ia, a), (ib, b)| (&a.key, a.initiated_ns, ia).cmp(&(&b.key, b.initiated_ns, ib)));
        let key_marker = input.key_marker.clone().filter(|m| !m.is_empty());
        let id_marker = input.upload_id_marker.clone().filter(|m| !m.is_empty());
        let start = match (&key_marker, &id_marker) {
            (None, _) => 0,
            (Some(k), None) => uploads.iter().position(|(_, u)| u.key.as_str() > k.as_str()).unwrap_or(uploads.len()),
            (Some(k), Some(id)) => match uploads.iter().position(|(i, u)| &u.key == k && i == id) {
                Some(p) => p + 1,
                None => uploads.iter().position(|(_, u)| u.key.as_str() > k.as_str()).unwrap_or(uploads.len()),
            },
        };
        let delimiter = input.delimiter.clone().filter(|d| !d.is_empty());
        let mut page: Vec<dto::MultipartUpload> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut count = 0;
        let mut truncated = false;
        let mut next: Option<(String, Option<String>)> = None;
        for (id, u) in uploads.into_iter().skip(start) {
            let common = delimiter
                .as_deref()
                .and_then(|d| u.key[prefix.len()..].find(d).map(|i| u.key[..prefix.len() + i + d.len()].to_owned()));
            if let Some(cp) = &common
                && prefixes.last() == Some(cp)
            {
                continue;
            }
            if count == max {
                truncated = true;
                break;
            }
            count += 1;
            if let Some(cp) = common {
                next = Some((cp.clone(), None));
                prefixes.push(cp);
            } else {
                next = Some((u.key.clone(), Some(id.clone())));
                page.push(dto::MultipartUpload {
                    key: Some(enc(u.key.clone())),
                    upload_id: Some(id),
                    initiated: Some(u.initiated()),
                    storage_class: Some(dto::StorageClass::from_static(dto::StorageClass::STANDARD)),
                    checksum_algorithm: u.algo()?.map(Algo::to_dto),
                    checksum_type: u.checksum_type.map(ChecksumType::to_dto),
                    ..Default::default()
                });
            }
        }
        let (next_key, next_id) =
            if truncated { next.map_or((None, None), |(k, i)| (Some(k), i)) } else { (None, None) };
        Ok(S3Response::new(dto::ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: Some(enc(prefix)),
            delimiter: input.delimiter.map(enc),
            key_marker: Some(enc(input.key_marker.unwrap_or_default())),
            upload_id_marker: Some(input.upload_id_marker.unwrap_or_default()),
            next_key_marker: next_key.map(enc),
            next_upload_id_marker: next_id,
            max_uploads: Some(i32::try_from(max).unwrap_or(i32::MAX)),
            is_truncated: Some(truncated),
            uploads: Some(page),
            common_prefixes: Some(prefixes.into_iter().map(|p| dto::CommonPrefix { prefix: Some(enc(p)) }).collect()),
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }
}
