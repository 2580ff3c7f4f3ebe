//! Additional checksums on single PUTs: `x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`
//! headers, `x-amz-sdk-checksum-algorithm`, the aws-chunked trailer form, what is stored and
//! returned with `x-amz-checksum-mode: ENABLED`, and S3's errors. Expected values come from
//! crc32fast, crc32c, sha1 and sha2 (the server uses s3s's implementations).

mod common;

use common::*;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

#[tokio::test]
async fn checksum_headers_are_verified_stored_and_returned() {
    let (server, _dir) = server().await;
    let data = payload(70_001, 1);
    let cases: [(&str, String); 4] = [
        ("crc32", crc32_b64(&data)),
        ("crc32c", crc32c_b64(&data)),
        ("sha1", sha1_b64(&data)),
        ("sha256", sha256_b64(&data)),
    ];
    for (algo, value) in &cases {
        let name = format!("x-amz-checksum-{algo}");
        let path = format!("/{PRIVATE}/sums/{algo}.bin");
        let resp = signed(&server, "PUT", &path, &[(&name, value)], &data).await;
        assert_eq!(header(&resp, &name).as_ref(), Some(value), "{algo}");
        text(resp, 200).await;

        // Returned only in checksum mode, and only for the whole object.
        let plain = signed(&server, "HEAD", &path, &[], b"").await;
        assert_eq!(header(&plain, &name), None);
        let head = signed(&server, "HEAD", &path, &[("x-amz-checksum-mode", "ENABLED")], b"").await;
        assert_eq!(header(&head, &name).as_ref(), Some(value), "{algo}");
        assert_eq!(header(&head, "x-amz-checksum-type").as_deref(), Some("FULL_OBJECT"));
        let get = signed(&server, "GET", &path, &[("x-amz-checksum-mode", "ENABLED")], b"").await;
        assert_eq!(header(&get, &name).as_ref(), Some(value), "{algo}");
        assert_eq!(get.bytes().await.unwrap().as_ref(), &data[..]);
        let ranged =
            signed(&server, "GET", &path, &[("x-amz-checksum-mode", "ENABLED"), ("range", "bytes=0-9")], b"").await;
        assert_eq!(ranged.status().as_u16(), 206);
        assert_eq!(header(&ranged, &name), None);
    }

    // x-amz-sdk-checksum-algorithm with its value (what the AWS SDKs send).
    let resp = signed(
        &server,
        "PUT",
        &format!("/{PRIVATE}/sums/sdk.bin"),
        &[("x-amz-sdk-checksum-algorithm", "CRC32C"), ("x-amz-checksum-crc32c", &crc32c_b64(&data))],
        &data,
    )
    .await;
    text(resp, 200).await;
    // No checksum asked for: a CRC64NVME is stored, as S3 does.
    text(signed(&server, "PUT", &format!("/{PRIVATE}/sums/none.bin"), &[], &data).await, 200).await;
    let head =
        signed(&server, "HEAD", &format!("/{PRIVATE}/sums/none.bin"), &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(header(&head, "x-amz-checksum-crc64nvme").map(|v| v.len()), Some(12));
}

#[tokio::test]
async fn checksum_errors_change_nothing() {
    let (server, dir) = server().await;
    let path = format!("/{PRIVATE}/sums/guarded.bin");
    text(signed(&server, "PUT", &path, &[], b"original").await, 200).await;
    let data = payload(1000, 2);

    // A value for other content: 400 BadDigest, the old object stays.
    for (name, value) in [
        ("x-amz-checksum-crc32", crc32_b64(b"other")),
        ("x-amz-checksum-crc32c", crc32c_b64(b"other")),
        ("x-amz-checksum-sha1", sha1_b64(b"other")),
        ("x-amz-checksum-sha256", sha256_b64(b"other")),
    ] {
        let resp = signed(&server, "PUT", &path, &[(name, &value)], &data).await;
        assert_s3_error(resp, 400, "BadDigest").await;
    }
    // Malformed values, two algorithms at once, an unknown or contradicting algorithm.
    let crc = crc32_b64(&data);
    let sha = sha256_b64(&data);
    for headers in [
        vec![("x-amz-checksum-crc32", "not base64!")],
        vec![("x-amz-checksum-sha256", crc.as_str())], // 4 bytes, not 32
        vec![("x-amz-checksum-crc32", crc.as_str()), ("x-amz-checksum-sha256", sha.as_str())],
        vec![("x-amz-sdk-checksum-algorithm", "MD4")],
        vec![("x-amz-sdk-checksum-algorithm", "SHA1"), ("x-amz-checksum-crc32", crc.as_str())],
    ] {
        let resp = signed(&server, "PUT", &path, &headers, &data).await;
        assert_s3_error(resp, 400, "InvalidRequest").await;
    }
    assert_eq!(std::fs::read(dir.path().join(PRIVATE).join("sums/guarded.bin")).unwrap(), b"original");
    assert_eq!(std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0, "no temporary files left");

    // Anonymous PUT into the public bucket is checked the same way.
    let resp = anonymous(&server, "PUT", &format!("/{PUBLIC}/a.bin"), &[("x-amz-checksum-crc32", &crc)], b"x").await;
    assert_s3_error(resp, 400, "BadDigest").await;
    let resp = anonymous(&server, "PUT", &format!("/{PUBLIC}/a.bin"), &[("x-amz-checksum-crc32", &crc)], &data).await;
    text(resp, 200).await;
}

#[tokio::test]
async fn trailing_checksums_in_aws_chunked_bodies() {
    let (server, dir) = server().await;
    let data = payload(100_000, 3);
    let ok = put_with_trailer(
        &server,
        &format!("/{PRIVATE}/trailer/ok.bin"),
        &data,
        "x-amz-checksum-crc32",
        &crc32_b64(&data),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(std::fs::read(dir.path().join(PRIVATE).join("trailer/ok.bin")).unwrap(), data);
    let head =
        signed(&server, "HEAD", &format!("/{PRIVATE}/trailer/ok.bin"), &[("x-amz-checksum-mode", "ENABLED")], b"")
            .await;
    assert_eq!(header(&head, "x-amz-checksum-crc32"), Some(crc32_b64(&data)));

    let bad = put_with_trailer(
        &server,
        &format!("/{PRIVATE}/trailer/bad.bin"),
        &data,
        "x-amz-checksum-sha256",
        &sha256_b64(b"other"),
    )
    .await;
    assert!(bad.starts_with("HTTP/1.1 400") && bad.contains("<Code>BadDigest</Code>"), "{bad}");
    assert!(!dir.path().join(PRIVATE).join("trailer/bad.bin").exists());
}

#[tokio::test]
async fn object_store_checksums() {
    let (server, _dir) = server().await;
    let data = payload(12_345, 4);
    for algo in [object_store::aws::Checksum::SHA256, object_store::aws::Checksum::CRC64NVME] {
        let s3 = builder(&server.endpoint(), PRIVATE, AK, SK).with_checksum_algorithm(algo).build().unwrap();
        let path = Path::from(format!("os/{algo:?}.bin"));
        s3.put(&path, PutPayload::from(data.clone())).await.unwrap();
        assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..]);
    }
    let head =
        signed(&server, "HEAD", &format!("/{PRIVATE}/os/SHA256.bin"), &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(header(&head, "x-amz-checksum-sha256"), Some(sha256_b64(&data)));
}
