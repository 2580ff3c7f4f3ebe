//! Multipart uploads: object_store's `put_multipart`, the raw request sequence boto3 sends
//! (CreateMultipartUpload, UploadPart, ListParts, ListMultipartUploads, Complete, Abort), S3's
//! validation errors, anonymous multipart into a public-write bucket, and checksummed uploads.

mod common;

use common::*;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

/// Creates an upload with a raw signed request; returns its ID.
async fn create(server: &s3_mock::S3Mock, bucket: &str, key: &str, headers: &[(&str, &str)]) -> String {
    let xml = text(signed(server, "POST", &format!("/{bucket}/{key}?uploads"), headers, b"").await, 200).await;
    assert_eq!(element(&xml, "Key"), key);
    element(&xml, "UploadId")
}

async fn upload_part(
    server: &s3_mock::S3Mock,
    bucket: &str,
    key: &str,
    id: &str,
    n: u32,
    data: &[u8],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    signed(server, "PUT", &format!("/{bucket}/{key}?partNumber={n}&uploadId={id}"), headers, data).await
}

async fn part_etag(resp: reqwest::Response) -> String {
    let etag = header(&resp, "etag").unwrap();
    text(resp, 200).await;
    etag
}

async fn complete(server: &s3_mock::S3Mock, bucket: &str, key: &str, id: &str, xml: &str) -> reqwest::Response {
    signed(server, "POST", &format!("/{bucket}/{key}?uploadId={id}"), &[], xml.as_bytes()).await
}

#[tokio::test]
async fn object_store_put_multipart() {
    let (server, dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let parts = [payload(5 * MIB, 1), payload(5 * MIB + 17, 2), payload(1234, 3)];
    let path = Path::from("mp/object_store.bin");

    let mut upload = s3.put_multipart(&path).await.unwrap();
    for p in &parts {
        upload.put_part(PutPayload::from(p.clone())).await.unwrap();
    }
    let put = upload.complete().await.unwrap();
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    assert_eq!(put.e_tag.as_deref(), Some(multipart_etag(&refs).as_str()));

    let whole = parts.concat();
    assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &whole[..]);
    let meta = s3.head(&path).await.unwrap();
    assert_eq!(meta.size, whole.len() as u64);
    assert_eq!(meta.e_tag.as_deref(), Some(multipart_etag(&refs).as_str()));
    assert_eq!(std::fs::read(dir.path().join(PRIVATE).join("mp/object_store.bin")).unwrap(), whole);
    // The upload directory is gone, no temporary files are left.
    assert_eq!(std::fs::read_dir(dir.path().join(".uploads")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);

    // GET ?partNumber=N serves part N, with the part count.
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/mp/object_store.bin?partNumber=2"), &[], b"").await;
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(header(&resp, "x-amz-mp-parts-count").as_deref(), Some("3"));
    let range = format!("bytes {}-{}/{}", 5 * MIB, 10 * MIB + 16, whole.len());
    assert_eq!(header(&resp, "content-range").as_deref(), Some(range.as_str()));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &parts[1][..]);
    let resp = signed(&server, "HEAD", &format!("/{PRIVATE}/mp/object_store.bin?partNumber=4"), &[], b"").await;
    assert_eq!(resp.status().as_u16(), 416);

    // Aborting through object_store.
    let mut upload = s3.put_multipart(&Path::from("mp/aborted.bin")).await.unwrap();
    upload.put_part(PutPayload::from(payload(100, 4))).await.unwrap();
    upload.abort().await.unwrap();
    assert!(s3.head(&Path::from("mp/aborted.bin")).await.is_err());
    assert_eq!(std::fs::read_dir(dir.path().join(".uploads")).unwrap().count(), 0);
}

/// The requests boto3's `upload_file` sends for a file above its 8 MB threshold, plus the
/// listings and S3's validation errors.
#[tokio::test]
async fn raw_boto3_like_sequence_and_errors() {
    let (server, _dir) = server().await;
    let key = "submissions/big/file.bin";
    let id = create(&server, PRIVATE, key, &[("content-type", "image/png"), ("x-amz-meta-owner", "miner-7")]).await;
    assert_eq!(id.len(), 32);

    let p1 = payload(5 * MIB, 10);
    let p2 = payload(5 * MIB, 11);
    let p3 = payload(3 * MIB + 5, 12);
    let e1 = part_etag(upload_part(&server, PRIVATE, key, &id, 1, &p1, &[("content-md5", &md5_b64(&p1))]).await).await;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&p1)));
    // Part 2 first sent with a wrong Content-MD5: refused, then sent right.
    let bad = upload_part(&server, PRIVATE, key, &id, 2, &p2, &[("content-md5", &md5_b64(b"x"))]).await;
    assert_s3_error(bad, 400, "BadDigest").await;
    let e2 = part_etag(upload_part(&server, PRIVATE, key, &id, 2, &p2, &[]).await).await;
    // Part 3 uploaded twice: the last one counts.
    part_etag(upload_part(&server, PRIVATE, key, &id, 3, b"replaced", &[]).await).await;
    let e3 = part_etag(upload_part(&server, PRIVATE, key, &id, 3, &p3, &[]).await).await;

    // Part numbers outside 1..=10000.
    for n in [0, 10_001] {
        assert_s3_error(upload_part(&server, PRIVATE, key, &id, n, b"x", &[]).await, 400, "InvalidArgument").await;
    }
    // Unknown upload IDs, and an upload of another key.
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_s3_error(upload_part(&server, PRIVATE, key, unknown, 1, b"x", &[]).await, 404, "NoSuchUpload").await;
    assert_s3_error(upload_part(&server, PRIVATE, key, "../../etc", 1, b"x", &[]).await, 404, "NoSuchUpload").await;
    assert_s3_error(upload_part(&server, PRIVATE, "other/key", &id, 1, b"x", &[]).await, 404, "NoSuchUpload").await;

    // ListParts, paged.
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}/{key}?uploadId={id}"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "PartNumber"), ["1", "2", "3"]);
    assert_eq!(elements(&xml, "Size"), [p1.len().to_string(), p2.len().to_string(), p3.len().to_string()]);
    assert_eq!(
        elements(&xml, "ETag").iter().map(|e| e.replace("&quot;", "\"")).collect::<Vec<_>>(),
        [e1.clone(), e2.clone(), e3.clone()]
    );
    let page =
        text(signed(&server, "GET", &format!("/{PRIVATE}/{key}?uploadId={id}&max-parts=2"), &[], b"").await, 200).await;
    assert_eq!(elements(&page, "PartNumber"), ["1", "2"]);
    assert_eq!(element(&page, "IsTruncated"), "true");
    assert_eq!(element(&page, "NextPartNumberMarker"), "2");
    let page = text(
        signed(&server, "GET", &format!("/{PRIVATE}/{key}?uploadId={id}&part-number-marker=2"), &[], b"").await,
        200,
    )
    .await;
    assert_eq!(elements(&page, "PartNumber"), ["3"]);

    // ListMultipartUploads sees it (and a second one), by key then time.
    let id_b = create(&server, PRIVATE, "submissions/a-first.bin", &[]).await;
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}?uploads"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "Key"), ["submissions/a-first.bin", key]);
    assert_eq!(elements(&xml, "UploadId"), [id_b.clone(), id.clone()]);
    let xml =
        text(signed(&server, "GET", &format!("/{PRIVATE}?uploads&prefix=submissions/big"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "UploadId"), [id.as_str()]);
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}?uploads&max-uploads=1"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "UploadId"), [id_b.as_str()]);
    assert_eq!(element(&xml, "IsTruncated"), "true");
    let xml = text(
        signed(
            &server,
            "GET",
            &format!("/{PRIVATE}?uploads&key-marker=submissions/a-first.bin&upload-id-marker={id_b}"),
            &[],
            b"",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(elements(&xml, "UploadId"), [id.as_str()]);
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}?uploads&delimiter=/"), &[], b"").await, 200).await;
    assert!(xml.contains("<CommonPrefixes><Prefix>submissions/</Prefix></CommonPrefixes>"), "{xml}");
    assert!(elements(&xml, "UploadId").is_empty(), "{xml}");

    // Completion errors, as S3 answers them; the upload survives each.
    let cases: [(String, u16, &str); 5] = [
        (complete_xml(&[]), 400, "MalformedXML"),
        (complete_xml(&[(2, &e2, ""), (1, &e1, "")]), 400, "InvalidPartOrder"),
        (complete_xml(&[(1, &e1, ""), (1, &e1, "")]), 400, "InvalidPartOrder"),
        (complete_xml(&[(1, &e1, ""), (2, "\"0123\"", ""), (3, &e3, "")]), 400, "InvalidPart"),
        (complete_xml(&[(1, &e1, ""), (4, &e3, "")]), 400, "InvalidPart"),
    ];
    for (xml, status, code) in &cases {
        assert_s3_error(complete(&server, PRIVATE, key, &id, xml).await, *status, code).await;
    }
    // A non-last part under 5 MiB.
    let e4 = part_etag(upload_part(&server, PRIVATE, key, &id, 4, b"tail", &[]).await).await;
    let small = complete_xml(&[(1, &e1, ""), (3, &e3, ""), (4, &e4, "")]);
    assert_s3_error(complete(&server, PRIVATE, key, &id, &small).await, 400, "EntityTooSmall").await;
    assert!(s3_mock::MIN_PART_SIZE == 5 * MIB as u64);

    // Completing with parts 1, 2, 3 (part 4 left out, as S3 allows).
    let xml = complete_xml(&[(1, &e1, ""), (2, &e2, ""), (3, &e3, "")]);
    let done = text(complete(&server, PRIVATE, key, &id, &xml).await, 200).await;
    let want = multipart_etag(&[&p1, &p2, &p3]);
    assert_eq!(element(&done, "ETag").replace("&quot;", "\""), want);
    assert_eq!(element(&done, "Key"), key);
    // Completing again: the upload is gone.
    assert_s3_error(complete(&server, PRIVATE, key, &id, &xml).await, 404, "NoSuchUpload").await;

    let s3 = store(&server, PRIVATE);
    let got = s3.get(&Path::from(key)).await.unwrap();
    assert_eq!(got.meta.e_tag.as_deref(), Some(want.as_str()));
    assert_eq!(got.attributes.get(&object_store::Attribute::ContentType).map(|v| v.as_ref()), Some("image/png"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), [p1, p2, p3].concat().as_slice());
    let head = signed(&server, "HEAD", &format!("/{PRIVATE}/{key}"), &[], b"").await;
    assert_eq!(header(&head, "x-amz-meta-owner").as_deref(), Some("miner-7"));

    // Abort: the other upload goes, then is unknown.
    let resp =
        signed(&server, "DELETE", &format!("/{PRIVATE}/submissions/a-first.bin?uploadId={id_b}"), &[], b"").await;
    assert_eq!(resp.status().as_u16(), 204);
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/submissions/a-first.bin?uploadId={id_b}"), &[], b"").await;
    assert_s3_error(resp, 404, "NoSuchUpload").await;
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}?uploads"), &[], b"").await, 200).await;
    assert!(elements(&xml, "UploadId").is_empty(), "{xml}");
}

#[tokio::test]
async fn anonymous_multipart_into_a_public_bucket() {
    let (server, dir) = server().await;
    let key = "submissions/anon/big.png.tlock";
    let xml = text(anonymous(&server, "POST", &format!("/{PUBLIC}/{key}?uploads"), &[], b"").await, 200).await;
    let id = element(&xml, "UploadId");
    let p1 = payload(5 * MIB, 20);
    let p2 = payload(777, 21);
    let mut etags = Vec::new();
    for (n, p) in [(1, &p1), (2, &p2)] {
        let resp = anonymous(&server, "PUT", &format!("/{PUBLIC}/{key}?partNumber={n}&uploadId={id}"), &[], p).await;
        etags.push(part_etag(resp).await);
    }
    // Reading the parts back, or listing uploads, needs credentials.
    let resp = anonymous(&server, "GET", &format!("/{PUBLIC}/{key}?uploadId={id}"), &[], b"").await;
    assert_s3_error(resp, 403, "AccessDenied").await;
    assert_s3_error(anonymous(&server, "GET", &format!("/{PUBLIC}?uploads"), &[], b"").await, 403, "AccessDenied")
        .await;
    let xml = complete_xml(&[(1, &etags[0], ""), (2, &etags[1], "")]);
    let resp = anonymous(&server, "POST", &format!("/{PUBLIC}/{key}?uploadId={id}"), &[], xml.as_bytes()).await;
    text(resp, 200).await;
    assert_eq!(std::fs::read(dir.path().join(PUBLIC).join(key)).unwrap(), [p1, p2].concat());

    // Anonymous abort of an anonymous upload.
    let xml = text(anonymous(&server, "POST", &format!("/{PUBLIC}/x.bin?uploads"), &[], b"").await, 200).await;
    let id = element(&xml, "UploadId");
    assert_eq!(anonymous(&server, "DELETE", &format!("/{PUBLIC}/x.bin?uploadId={id}"), &[], b"").await.status(), 204);

    // Not into a private bucket, and no UploadPartCopy (it reads another object).
    let resp = anonymous(&server, "POST", &format!("/{PRIVATE}/x.bin?uploads"), &[], b"").await;
    assert_s3_error(resp, 403, "AccessDenied").await;
    let signed_id = create(&server, PUBLIC, "copy.bin", &[]).await;
    let resp = anonymous(
        &server,
        "PUT",
        &format!("/{PUBLIC}/copy.bin?partNumber=1&uploadId={signed_id}"),
        &[("x-amz-copy-source", &format!("/{PRIVATE}/secret.bin"))],
        b"",
    )
    .await;
    assert_s3_error(resp, 403, "AccessDenied").await;
}

#[tokio::test]
async fn composite_and_full_object_checksums() {
    let (server, _dir) = server().await;
    let p1 = payload(5 * MIB, 30);
    let p2 = payload(4321, 31);

    // SHA256, COMPOSITE (the default for SHA256): every part carries its checksum.
    let key = "mp/sha256.bin";
    let id = create(&server, PRIVATE, key, &[("x-amz-checksum-algorithm", "SHA256")]).await;
    let wrong = upload_part(&server, PRIVATE, key, &id, 1, &p1, &[("x-amz-checksum-sha256", &sha256_b64(&p2))]).await;
    assert_s3_error(wrong, 400, "BadDigest").await;
    let other_algo =
        upload_part(&server, PRIVATE, key, &id, 1, &p1, &[("x-amz-checksum-crc32", &crc32_b64(&p1))]).await;
    assert_s3_error(other_algo, 400, "InvalidRequest").await;
    let r1 = upload_part(&server, PRIVATE, key, &id, 1, &p1, &[("x-amz-checksum-sha256", &sha256_b64(&p1))]).await;
    assert_eq!(header(&r1, "x-amz-checksum-sha256"), Some(sha256_b64(&p1)));
    let e1 = part_etag(r1).await;
    // A part sent without its checksum gets it computed.
    let r2 = upload_part(&server, PRIVATE, key, &id, 2, &p2, &[]).await;
    assert_eq!(header(&r2, "x-amz-checksum-sha256"), Some(sha256_b64(&p2)));
    let e2 = part_etag(r2).await;
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}/{key}?uploadId={id}"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "ChecksumSHA256"), [sha256_b64(&p1), sha256_b64(&p2)]);
    // Part checksums listed in Complete must match.
    let bad = complete_xml(&[(1, &e1, &format!("<ChecksumSHA256>{}</ChecksumSHA256>", sha256_b64(&p2))), (2, &e2, "")]);
    assert_s3_error(complete(&server, PRIVATE, key, &id, &bad).await, 400, "InvalidPart").await;
    let good = complete_xml(&[
        (1, &e1, &format!("<ChecksumSHA256>{}</ChecksumSHA256>", sha256_b64(&p1))),
        (2, &e2, &format!("<ChecksumSHA256>{}</ChecksumSHA256>", sha256_b64(&p2))),
    ]);
    let done = text(complete(&server, PRIVATE, key, &id, &good).await, 200).await;
    let want = composite(sha256_b64, &[&p1, &p2]);
    assert_eq!(element(&done, "ChecksumSHA256"), want);
    let head = signed(&server, "HEAD", &format!("/{PRIVATE}/{key}"), &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(header(&head, "x-amz-checksum-sha256"), Some(want));
    assert_eq!(header(&head, "x-amz-checksum-type").as_deref(), Some("COMPOSITE"));

    // CRC32 as FULL_OBJECT: the checksum of the whole content.
    let key = "mp/crc32.bin";
    let id =
        create(&server, PRIVATE, key, &[("x-amz-checksum-algorithm", "CRC32"), ("x-amz-checksum-type", "FULL_OBJECT")])
            .await;
    let e1 =
        part_etag(upload_part(&server, PRIVATE, key, &id, 1, &p1, &[("x-amz-checksum-crc32", &crc32_b64(&p1))]).await)
            .await;
    let e2 = part_etag(upload_part(&server, PRIVATE, key, &id, 2, &p2, &[]).await).await;
    let whole = [p1.clone(), p2.clone()].concat();
    let xml = complete_xml(&[(1, &e1, ""), (2, &e2, "")]);
    // A whole-object value sent with Complete is checked.
    let resp = signed(
        &server,
        "POST",
        &format!("/{PRIVATE}/{key}?uploadId={id}"),
        &[("x-amz-checksum-crc32", &crc32_b64(b"not it"))],
        xml.as_bytes(),
    )
    .await;
    assert_s3_error(resp, 400, "BadDigest").await;
    let resp = signed(
        &server,
        "POST",
        &format!("/{PRIVATE}/{key}?uploadId={id}"),
        &[("x-amz-checksum-crc32", &crc32_b64(&whole))],
        xml.as_bytes(),
    )
    .await;
    text(resp, 200).await;
    let head = signed(&server, "HEAD", &format!("/{PRIVATE}/{key}"), &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(header(&head, "x-amz-checksum-crc32"), Some(crc32_b64(&whole)));
    assert_eq!(header(&head, "x-amz-checksum-type").as_deref(), Some("FULL_OBJECT"));

    // SHA1 cannot be FULL_OBJECT; a type without an algorithm is refused.
    for headers in [
        &[("x-amz-checksum-algorithm", "SHA1"), ("x-amz-checksum-type", "FULL_OBJECT")][..],
        &[("x-amz-checksum-type", "COMPOSITE")][..],
        &[("x-amz-checksum-algorithm", "MD4")][..],
    ] {
        let resp = signed(&server, "POST", &format!("/{PRIVATE}/x?uploads"), headers, b"").await;
        assert_s3_error(resp, 400, "InvalidRequest").await;
    }

    // object_store with SHA256 checksums on: it sends x-amz-checksum-sha256 on every part.
    let s3 = builder(&server.endpoint(), PRIVATE, AK, SK)
        .with_checksum_algorithm(object_store::aws::Checksum::SHA256)
        .build()
        .unwrap();
    let path = Path::from("mp/os-sha256.bin");
    let mut upload = s3.put_multipart(&path).await.unwrap();
    upload.put_part(PutPayload::from(p1.clone())).await.unwrap();
    upload.put_part(PutPayload::from(p2.clone())).await.unwrap();
    upload.complete().await.unwrap();
    assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &whole[..]);
}
