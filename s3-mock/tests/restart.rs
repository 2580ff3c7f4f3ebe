//! A new server on the same data directory serves what the previous one stored: plain objects,
//! a completed multipart object, one uploaded with a checksum (ETags, headers and checksums
//! included), and a multipart upload still in progress, which can be completed afterwards.

mod common;

use common::*;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

#[tokio::test]
async fn restart_keeps_objects_and_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let small = payload(10_000, 1);
    let parts = [payload(5 * MIB, 2), payload(999, 3)];
    let summed = payload(33_333, 4);
    let late = [payload(5 * MIB, 5), payload(10, 6)];

    let (pending_id, pending_e1) = {
        let server = s3_mock::bind("127.0.0.1:0", config(dir.path())).await.unwrap();
        let s3 = store(&server, PRIVATE);
        s3.put(&Path::from("plain.bin"), PutPayload::from(small.clone())).await.unwrap();
        let mut upload = s3.put_multipart(&Path::from("multi.bin")).await.unwrap();
        for p in &parts {
            upload.put_part(PutPayload::from(p.clone())).await.unwrap();
        }
        upload.complete().await.unwrap();
        let resp = signed(
            &server,
            "PUT",
            &format!("/{PRIVATE}/summed.bin"),
            &[("x-amz-checksum-sha256", &sha256_b64(&summed)), ("content-type", "text/plain")],
            &summed,
        )
        .await;
        text(resp, 200).await;
        let resp = anonymous(&server, "PUT", &format!("/{PUBLIC}/anon.bin"), &[], b"anonymous").await;
        text(resp, 200).await;
        // An upload left in progress.
        let xml = text(signed(&server, "POST", &format!("/{PRIVATE}/late.bin?uploads"), &[], b"").await, 200).await;
        let id = element(&xml, "UploadId");
        let resp =
            signed(&server, "PUT", &format!("/{PRIVATE}/late.bin?partNumber=1&uploadId={id}"), &[], &late[0]).await;
        let e1 = header(&resp, "etag").unwrap();
        text(resp, 200).await;
        server.shutdown().await;
        (id, e1)
    };

    let server = s3_mock::bind("127.0.0.1:0", config(dir.path())).await.unwrap();
    let s3 = store(&server, PRIVATE);
    let get = |key: &'static str| {
        let s3 = s3.clone();
        async move { s3.get(&Path::from(key)).await.unwrap() }
    };
    let plain = get("plain.bin").await;
    assert_eq!(plain.meta.e_tag.as_deref(), Some(format!("\"{}\"", md5_hex(&small)).as_str()));
    assert_eq!(plain.bytes().await.unwrap().as_ref(), &small[..]);

    let multi = get("multi.bin").await;
    assert_eq!(multi.meta.e_tag.as_deref(), Some(multipart_etag(&[&parts[0], &parts[1]]).as_str()));
    assert_eq!(multi.bytes().await.unwrap().as_ref(), parts.concat().as_slice());
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/multi.bin?partNumber=2"), &[], b"").await;
    assert_eq!(header(&resp, "x-amz-mp-parts-count").as_deref(), Some("2"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &parts[1][..]);

    let head =
        signed(&server, "HEAD", &format!("/{PRIVATE}/summed.bin"), &[("x-amz-checksum-mode", "ENABLED")], b"").await;
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(header(&head, "x-amz-checksum-sha256"), Some(sha256_b64(&summed)));
    assert_eq!(header(&head, "content-type").as_deref(), Some("text/plain"));
    assert_eq!(get("summed.bin").await.bytes().await.unwrap().as_ref(), &summed[..]);

    let public = store(&server, PUBLIC);
    assert_eq!(public.get(&Path::from("anon.bin")).await.unwrap().bytes().await.unwrap().as_ref(), b"anonymous");

    // The pending upload is listed and can be finished.
    let xml = text(signed(&server, "GET", &format!("/{PRIVATE}?uploads"), &[], b"").await, 200).await;
    assert_eq!(elements(&xml, "UploadId"), [pending_id.as_str()]);
    let resp =
        signed(&server, "PUT", &format!("/{PRIVATE}/late.bin?partNumber=2&uploadId={pending_id}"), &[], &late[1]).await;
    let e2 = header(&resp, "etag").unwrap();
    text(resp, 200).await;
    let xml = complete_xml(&[(1, &pending_e1, ""), (2, &e2, "")]);
    let resp =
        signed(&server, "POST", &format!("/{PRIVATE}/late.bin?uploadId={pending_id}"), &[], xml.as_bytes()).await;
    text(resp, 200).await;
    assert_eq!(get("late.bin").await.bytes().await.unwrap().as_ref(), late.concat().as_slice());
    server.shutdown().await;
}
