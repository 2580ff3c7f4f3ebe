//! S3 additional checksums (`x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`): which one a
//! request asks for, computing them while a body streams in, verifying and storing them.
//!
//! The digests come from [`s3s::crypto`] (crc-fast, sha1, sha2: already compiled into s3s);
//! the tests check them against independent crates (crc32fast, crc32c, sha1, sha2).
//!
//! What S3 answers, and so do we:
//! * a value that is not base64 of the algorithm's digest length: `400 InvalidRequest`
//!   ("Value for x-amz-checksum-crc32 header is invalid.");
//! * more than one `x-amz-checksum-*` value: `400 InvalidRequest`;
//! * a value that does not match the body: `400 BadDigest`, nothing stored;
//! * no checksum asked for at all: the object gets a CRC64NVME (S3's default since 2025).

use http::HeaderMap;
use s3s::TrailingHeaders;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Sha1, Sha256};
use s3s::dto;
use s3s::{S3Result, s3_error};
use serde::{Deserialize, Serialize};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// One of S3's checksum algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algo {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algo {
    pub(crate) const ALL: [Algo; 5] = [Algo::Crc32, Algo::Crc32c, Algo::Crc64Nvme, Algo::Sha1, Algo::Sha256];

    /// The name in `x-amz-checksum-algorithm` / `ChecksumAlgorithm` (`CRC32`, ...).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algo::Crc32 => dto::ChecksumAlgorithm::CRC32,
            Algo::Crc32c => dto::ChecksumAlgorithm::CRC32C,
            Algo::Crc64Nvme => dto::ChecksumAlgorithm::CRC64NVME,
            Algo::Sha1 => dto::ChecksumAlgorithm::SHA1,
            Algo::Sha256 => dto::ChecksumAlgorithm::SHA256,
        }
    }

    /// The header carrying its value (`x-amz-checksum-crc32`, ...).
    pub(crate) fn header(self) -> &'static str {
        match self {
            Algo::Crc32 => "x-amz-checksum-crc32",
            Algo::Crc32c => "x-amz-checksum-crc32c",
            Algo::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algo::Sha1 => "x-amz-checksum-sha1",
            Algo::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Algo::Crc32 | Algo::Crc32c => 4,
            Algo::Crc64Nvme => 8,
            Algo::Sha1 => 20,
            Algo::Sha256 => 32,
        }
    }

    /// Parses an algorithm name (case-insensitive, as S3 accepts `crc32` too).
    pub(crate) fn parse(name: &str) -> S3Result<Algo> {
        Algo::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "Checksum algorithm {name:?} is not supported; use one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256"
            )
        })
    }

    pub(crate) fn from_dto(a: &dto::ChecksumAlgorithm) -> S3Result<Algo> {
        Algo::parse(a.as_str())
    }

    pub(crate) fn to_dto(self) -> dto::ChecksumAlgorithm {
        dto::ChecksumAlgorithm::from_static(self.name())
    }

    /// COMPOSITE multipart checksums exist for all but CRC64NVME; FULL_OBJECT ones for the CRCs.
    pub(crate) fn allows(self, ty: ChecksumType) -> bool {
        match ty {
            ChecksumType::Composite => self != Algo::Crc64Nvme,
            ChecksumType::FullObject => matches!(self, Algo::Crc32 | Algo::Crc32c | Algo::Crc64Nvme),
        }
    }

    /// The type a multipart upload gets when `x-amz-checksum-type` is not sent.
    pub(crate) fn default_multipart_type(self) -> ChecksumType {
        if self == Algo::Crc64Nvme { ChecksumType::FullObject } else { ChecksumType::Composite }
    }

    /// The checksum of `data` (base64), in one go.
    #[cfg(test)]
    pub(crate) fn digest_b64(self, data: &[u8]) -> String {
        let mut h = Hasher::new(&[self]);
        h.update(data);
        h.finish().get(self).expect("computed").to_owned()
    }
}

/// `x-amz-checksum-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ChecksumType {
    /// A checksum of the whole content.
    FullObject,
    /// A multipart object's checksum of its parts' checksums, `BASE64-N`.
    Composite,
}

impl ChecksumType {
    pub(crate) fn parse(s: &str) -> S3Result<Self> {
        if s.eq_ignore_ascii_case(dto::ChecksumType::FULL_OBJECT) {
            Ok(Self::FullObject)
        } else if s.eq_ignore_ascii_case(dto::ChecksumType::COMPOSITE) {
            Ok(Self::Composite)
        } else {
            Err(s3_error!(InvalidRequest, "Value for x-amz-checksum-type header is invalid."))
        }
    }

    pub(crate) fn to_dto(self) -> dto::ChecksumType {
        dto::ChecksumType::from_static(match self {
            Self::FullObject => dto::ChecksumType::FULL_OBJECT,
            Self::Composite => dto::ChecksumType::COMPOSITE,
        })
    }
}

/// Stored checksum values, base64 (a COMPOSITE one ends in `-N`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Checksums {
    pub(crate) fn is_empty(&self) -> bool {
        Algo::ALL.iter().all(|a| self.get(*a).is_none())
    }

    pub(crate) fn get(&self, algo: Algo) -> Option<&str> {
        self.slot(algo).as_deref()
    }

    fn slot(&self, algo: Algo) -> &Option<String> {
        match algo {
            Algo::Crc32 => &self.crc32,
            Algo::Crc32c => &self.crc32c,
            Algo::Crc64Nvme => &self.crc64nvme,
            Algo::Sha1 => &self.sha1,
            Algo::Sha256 => &self.sha256,
        }
    }

    pub(crate) fn set(&mut self, algo: Algo, value: Option<String>) {
        let slot = match algo {
            Algo::Crc32 => &mut self.crc32,
            Algo::Crc32c => &mut self.crc32c,
            Algo::Crc64Nvme => &mut self.crc64nvme,
            Algo::Sha1 => &mut self.sha1,
            Algo::Sha256 => &mut self.sha256,
        };
        *slot = value;
    }

    /// The algorithms present.
    pub(crate) fn algos(&self) -> Vec<Algo> {
        Algo::ALL.into_iter().filter(|a| self.get(*a).is_some()).collect()
    }
}

/// Computes several checksums in one pass.
pub(crate) struct Hasher {
    crc32: Option<Crc32>,
    crc32c: Option<Crc32c>,
    crc64nvme: Option<Crc64Nvme>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

impl Hasher {
    pub(crate) fn new(algos: &[Algo]) -> Self {
        let on = |a: Algo| algos.contains(&a);
        Self {
            crc32: on(Algo::Crc32).then(Crc32::new),
            crc32c: on(Algo::Crc32c).then(Crc32c::new),
            crc64nvme: on(Algo::Crc64Nvme).then(Crc64Nvme::new),
            sha1: on(Algo::Sha1).then(Sha1::new),
            sha256: on(Algo::Sha256).then(Sha256::new),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.crc32 {
            h.update(data);
        }
        if let Some(h) = &mut self.crc32c {
            h.update(data);
        }
        if let Some(h) = &mut self.crc64nvme {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha256 {
            h.update(data);
        }
    }

    pub(crate) fn finish(self) -> Checksums {
        Checksums {
            crc32: self.crc32.map(|h| B64.encode(h.finalize())),
            crc32c: self.crc32c.map(|h| B64.encode(h.finalize())),
            crc64nvme: self.crc64nvme.map(|h| B64.encode(h.finalize())),
            sha1: self.sha1.map(|h| B64.encode(h.finalize())),
            sha256: self.sha256.map(|h| B64.encode(h.finalize())),
        }
    }
}

/// Decodes a checksum value sent by a client; `InvalidRequest` when it is not base64 of the
/// right length.
pub(crate) fn decode_value(algo: Algo, value: &str) -> S3Result<Vec<u8>> {
    B64.decode(value.trim())
        .ok()
        .filter(|d| d.len() == algo.digest_len())
        .ok_or_else(|| s3_error!(InvalidRequest, "Value for {} header is invalid.", algo.header()))
}

/// The COMPOSITE checksum of a multipart object: the algorithm over the concatenated binary
/// part checksums, base64, then `-N`.
pub(crate) fn composite(algo: Algo, part_values: &[&str]) -> S3Result<String> {
    let mut h = Hasher::new(&[algo]);
    for v in part_values {
        h.update(&decode_value(algo, v)?);
    }
    Ok(format!("{}-{}", h.finish().get(algo).expect("computed"), part_values.len()))
}

/// The checksum a write request (PutObject, UploadPart) asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expected {
    /// The algorithm named (by a value header, `x-amz-checksum-algorithm`,
    /// `x-amz-sdk-checksum-algorithm` or `x-amz-trailer`).
    pub algo: Option<Algo>,
    /// The value to verify, base64 (from a header, or from the trailer after the body).
    pub value: Option<String>,
    /// The value comes in the aws-chunked trailer.
    pub in_trailer: bool,
}

/// The `x-amz-checksum-*` fields of an input, in [`Algo::ALL`] order.
pub(crate) type ValueFields<'a> = [Option<&'a String>; 5];

impl Expected {
    /// Reads what the request asks for; errors as S3 answers malformed checksum headers.
    pub(crate) fn from_request(
        values: ValueFields<'_>,
        algorithm: Option<&dto::ChecksumAlgorithm>,
        headers: &HeaderMap,
    ) -> S3Result<Self> {
        let given: Vec<(Algo, &String)> =
            Algo::ALL.into_iter().zip(values).filter_map(|(a, v)| v.map(|v| (a, v))).collect();
        if given.len() > 1 {
            return Err(s3_error!(
                InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
            ));
        }
        let mut out = Expected::default();
        if let Some((algo, value)) = given.first() {
            decode_value(*algo, value)?;
            out.algo = Some(*algo);
            out.value = Some(value.trim().to_owned());
        }
        let sdk = match headers.get("x-amz-sdk-checksum-algorithm") {
            None => None,
            Some(v) => Some(Algo::parse(v.to_str().map_err(|_| {
                s3_error!(InvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
            })?)?),
        };
        let named = algorithm.map(Algo::from_dto).transpose()?;
        let trailer = match headers.get("x-amz-trailer") {
            None => None,
            Some(v) => {
                let name = v.to_str().unwrap_or_default().trim().to_ascii_lowercase();
                match Algo::ALL.into_iter().find(|a| a.header() == name) {
                    Some(a) => Some(a),
                    None => return Err(s3_error!(InvalidRequest, "Unsupported x-amz-trailer: {name:?}")),
                }
            }
        };
        for a in [named, sdk, trailer].into_iter().flatten() {
            match out.algo {
                Some(b) if b != a => {
                    return Err(s3_error!(
                        InvalidRequest,
                        "Value for x-amz-sdk-checksum-algorithm header is invalid: {} does not match {}",
                        a.name(),
                        b.name()
                    ));
                }
                _ => out.algo = Some(a),
            }
        }
        out.in_trailer = trailer.is_some() && out.value.is_none();
        Ok(out)
    }

    /// After the body was read: takes the value from the trailer when it comes there.
    pub(crate) fn resolve_trailer(&mut self, trailers: Option<&TrailingHeaders>) -> S3Result<()> {
        if !self.in_trailer {
            return Ok(());
        }
        let algo = self.algo.expect("a trailer names its algorithm");
        let value = trailers
            .and_then(|t| t.read(|h| h.get(algo.header()).and_then(|v| v.to_str().ok()).map(str::to_owned)))
            .flatten()
            .ok_or_else(|| {
                s3_error!(InvalidRequest, "x-amz-trailer names {} but the trailer has no value", algo.header())
            })?;
        decode_value(algo, &value)?;
        self.value = Some(value.trim().to_owned());
        Ok(())
    }

    /// Compares the value sent with `computed`: `BadDigest` when they differ.
    pub(crate) fn verify(&self, computed: &Checksums) -> S3Result<()> {
        let (Some(algo), Some(value)) = (self.algo, &self.value) else { return Ok(()) };
        let got = computed.get(algo).expect("the expected algorithm was computed");
        if decode_value(algo, value)? == decode_value(algo, got)? {
            Ok(())
        } else {
            Err(s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", algo.name()))
        }
    }
}

/// The checksum fields of an output, from stored values.
#[derive(Debug, Default)]
pub(crate) struct OutFields {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub ty: Option<dto::ChecksumType>,
}

impl OutFields {
    pub(crate) fn new(c: &Checksums, ty: Option<ChecksumType>) -> Self {
        Self {
            crc32: c.crc32.clone(),
            crc32c: c.crc32c.clone(),
            crc64nvme: c.crc64nvme.clone(),
            sha1: c.sha1.clone(),
            sha256: c.sha256.clone(),
            ty: if c.is_empty() { None } else { ty.map(ChecksumType::to_dto) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Reference values for "hello world" (AWS docs / other implementations).
        let data = b"hello world";
        assert_eq!(Algo::Crc32.digest_b64(data), "DUoRhQ==");
        assert_eq!(Algo::Crc32c.digest_b64(data), "yZRlqg==");
        assert_eq!(Algo::Sha1.digest_b64(data), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
        assert_eq!(Algo::Sha256.digest_b64(data), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
        assert_eq!(Algo::Crc64Nvme.digest_b64(data).len(), 12);
    }

    #[test]
    fn request_parsing() {
        let h = HeaderMap::new();
        let v = "DUoRhQ==".to_owned();
        let e = Expected::from_request([Some(&v), None, None, None, None], None, &h).unwrap();
        assert_eq!((e.algo, e.value.as_deref(), e.in_trailer), (Some(Algo::Crc32), Some("DUoRhQ=="), false));

        let two = Expected::from_request([Some(&v), Some(&v), None, None, None], None, &h).unwrap_err();
        assert_eq!(*two.code(), s3s::S3ErrorCode::InvalidRequest);
        let bad = "AAAA".to_owned(); // 3 bytes, not 4
        let err = Expected::from_request([Some(&bad), None, None, None, None], None, &h).unwrap_err();
        assert_eq!(*err.code(), s3s::S3ErrorCode::InvalidRequest);

        let mut h = HeaderMap::new();
        h.insert("x-amz-trailer", "x-amz-checksum-sha256".parse().unwrap());
        let e = Expected::from_request([None; 5], None, &h).unwrap();
        assert_eq!((e.algo, e.in_trailer), (Some(Algo::Sha256), true));

        let mut h = HeaderMap::new();
        h.insert("x-amz-sdk-checksum-algorithm", "SHA1".parse().unwrap());
        let err = Expected::from_request([Some(&v), None, None, None, None], None, &h).unwrap_err();
        assert_eq!(*err.code(), s3s::S3ErrorCode::InvalidRequest, "algorithm and value disagree");

        let mut computed = Checksums::default();
        computed.set(Algo::Crc32, Some(Algo::Crc32.digest_b64(b"hello world")));
        let e = Expected { algo: Some(Algo::Crc32), value: Some(v), in_trailer: false };
        e.verify(&computed).unwrap();
        computed.set(Algo::Crc32, Some(Algo::Crc32.digest_b64(b"hello")));
        assert_eq!(*e.verify(&computed).unwrap_err().code(), s3s::S3ErrorCode::BadDigest);
    }

    #[test]
    fn composite_checksum() {
        let parts = [Algo::Sha256.digest_b64(b"a"), Algo::Sha256.digest_b64(b"b")];
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let c = composite(Algo::Sha256, &refs).unwrap();
        let mut concat = decode_value(Algo::Sha256, &parts[0]).unwrap();
        concat.extend(decode_value(Algo::Sha256, &parts[1]).unwrap());
        assert_eq!(c, format!("{}-2", Algo::Sha256.digest_b64(&concat)));
    }
}
