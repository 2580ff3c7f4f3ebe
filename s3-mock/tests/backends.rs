//! One signed-upload suite, run against every S3 backend there is: s3-mock always; MinIO (in a
//! container, via testcontainers) with `cargo test -p s3-mock --features minio` where a docker
//! engine exists. Without one the MinIO run prints `SKIPPED MinIO: ...` and passes.
//!
//! Only what S3, MinIO and s3-mock share is asserted: SigV4 (headers and presigned), PUT/GET/
//! HEAD/LIST/DELETE, multipart ETags, checksum verification and read-back, wrong-secret refusal.

mod common;

use std::time::Duration;

use common::*;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// An S3 endpoint with its key pair; `_guard` keeps the server (or container) alive.
struct Backend {
    name: &'static str,
    endpoint: String,
    access_key: String,
    secret_key: String,
    _guard: Box<dyn std::any::Any + Send>,
}

impl Backend {
    async fn s3_mock() -> Self {
        let (server, dir) = server().await;
        Backend {
            name: "s3-mock",
            endpoint: server.endpoint(),
            access_key: AK.into(),
            secret_key: SK.into(),
            _guard: Box::new((server, dir)),
        }
    }

    async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> reqwest::Response {
        signed_to(&self.endpoint, &self.access_key, &self.secret_key, method, path, headers, body).await
    }

    fn store(&self, bucket: &str, secret: &str) -> object_store::aws::AmazonS3 {
        builder(&self.endpoint, bucket, &self.access_key, secret).build().unwrap()
    }
}

async fn signed_upload_suite(b: &Backend) {
    let bucket = "suite-bucket";
    let created = b.request("PUT", &format!("/{bucket}"), &[], b"").await;
    assert_eq!(created.status().as_u16(), 200, "{}: create bucket: {}", b.name, created.text().await.unwrap());
    let s3 = b.store(bucket, &b.secret_key);

    // Single PUT, GET, HEAD, LIST, DELETE.
    let data = payload(100_000, 1);
    let key = "submissions/challenge_1/hotkey/sig/img/background_edit_1754000187.png.tlock";
    let path = Path::from(key);
    let put = s3.put(&path, PutPayload::from(data.clone())).await.unwrap();
    assert_eq!(put.e_tag.as_deref(), Some(format!("\"{}\"", md5_hex(&data)).as_str()), "{}", b.name);
    assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..], "{}", b.name);
    assert_eq!(s3.head(&path).await.unwrap().size, data.len() as u64);
    let listed: Vec<String> =
        s3.list(Some(&Path::from("submissions"))).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    assert_eq!(listed, [key], "{}", b.name);

    // Multipart: ETag = MD5 of the part MD5s, -N.
    let parts = [payload(5 * MIB, 2), payload(4096, 3)];
    let mp = Path::from("multipart/object.bin");
    let mut upload = s3.put_multipart(&mp).await.unwrap();
    for p in &parts {
        upload.put_part(PutPayload::from(p.clone())).await.unwrap();
    }
    upload.complete().await.unwrap();
    let got = s3.get(&mp).await.unwrap();
    assert_eq!(got.meta.e_tag.as_deref(), Some(multipart_etag(&[&parts[0], &parts[1]]).as_str()), "{}", b.name);
    assert_eq!(got.bytes().await.unwrap().as_ref(), parts.concat().as_slice(), "{}", b.name);

    // Checksums: verified on PUT, returned in checksum mode.
    let summed = format!("/{bucket}/checksum/sha256.bin");
    let resp = b.request("PUT", &summed, &[("x-amz-checksum-sha256", &sha256_b64(b"other"))], &data).await;
    assert_s3_error(resp, 400, "BadDigest").await;
    let resp = b.request("PUT", &summed, &[("x-amz-checksum-sha256", &sha256_b64(&data))], &data).await;
    text(resp, 200).await;
    let head = b.request("HEAD", &summed, &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(header(&head, "x-amz-checksum-sha256"), Some(sha256_b64(&data)), "{}", b.name);
    let resp = b.request("PUT", &summed, &[("content-md5", &md5_b64(b"other"))], &data).await;
    assert_s3_error(resp, 400, "BadDigest").await;

    // Presigned GET and PUT.
    let url = s3.signed_url(Method::GET, &path, Duration::from_secs(300)).await.unwrap();
    let resp = reqwest::get(url.as_str()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", b.name);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..]);
    let url = s3.signed_url(Method::PUT, &Path::from("presigned.bin"), Duration::from_secs(300)).await.unwrap();
    let resp = reqwest::Client::new().put(url.as_str()).body(b"presigned".to_vec()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", b.name);

    // A wrong secret is refused.
    let bad = b.store(bucket, "not-the-secret");
    let err = bad.put(&Path::from("x.bin"), PutPayload::from_static(b"no")).await.unwrap_err().to_string();
    assert!(err.contains("SignatureDoesNotMatch"), "{}: {err}", b.name);

    // Clean up so the bucket can go.
    for p in [&path, &mp, &Path::from("checksum/sha256.bin"), &Path::from("presigned.bin")] {
        s3.delete(p).await.unwrap();
    }
    assert_eq!(b.request("DELETE", &format!("/{bucket}"), &[], b"").await.status().as_u16(), 204, "{}", b.name);
}

/// Says why the MinIO run did nothing, past libtest's output capture (which only takes the
/// `print!` macros), so it shows in a plain `cargo test`.
fn skipped(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED MinIO: {why}");
}

#[tokio::test]
async fn signed_upload_suite_on_s3_mock() {
    signed_upload_suite(&Backend::s3_mock().await).await;
}

#[cfg(feature = "minio")]
#[tokio::test]
async fn signed_upload_suite_on_minio() {
    use s3_mock::minio::{self, MinioError};
    let handle = match minio::start().await {
        Ok(handle) => handle,
        Err(MinioError::NoDocker(why)) => {
            skipped(&format!("no docker engine ({why})"));
            return;
        }
        Err(err) => panic!("a docker engine is there but MinIO did not start: {err}"),
    };
    let backend = Backend {
        name: "MinIO",
        endpoint: handle.endpoint.clone(),
        access_key: handle.access_key.clone(),
        secret_key: handle.secret_key.clone(),
        _guard: Box::new(handle),
    };
    signed_upload_suite(&backend).await;
}

#[cfg(not(feature = "minio"))]
#[test]
fn signed_upload_suite_on_minio() {
    skipped(
        "built without the `minio` feature (run `cargo test -p s3-mock --features minio` where a docker engine exists)",
    );
}
