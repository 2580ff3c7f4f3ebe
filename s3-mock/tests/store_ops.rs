//! The storage operations of s3-mock over loopback: listing (prefix, delimiter, pagination, v1,
//! `encoding-type=url`), delete, ranges, stored headers and metadata, overwrites, conditional
//! requests, copy, key conflicts and bucket operations. Uses object_store where it has the
//! operation, otherwise raw HTTP signed with object_store's SigV4 signer.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::HttpRequestBody;
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
};
use s3_mock::{Config, S3Mock};
use tempfile::TempDir;

const AK: &str = "AKIDS3MOCKTEST";
const SK: &str = "s3-mock-secret-key-for-tests";
const PUBLIC: &str = "yanez-miid-sn54";
const PRIVATE: &str = "validator-private";

async fn server() -> (S3Mock, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = s3_mock::bind(
        "127.0.0.1:0",
        Config {
            data_dir: dir.path().to_path_buf(),
            access_key: AK.into(),
            secret_key: SK.into(),
            public_write: vec![PUBLIC.into()],
            buckets: vec![PRIVATE.into()],
            domain: None,
        },
    )
    .await
    .unwrap();
    (server, dir)
}

fn store(server: &S3Mock, bucket: &str) -> AmazonS3 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(AK)
        .with_secret_access_key(SK)
        .build()
        .unwrap()
}

/// A request signed with SigV4 headers (the right key pair), sent with reqwest.
async fn signed(
    server: &S3Mock,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    let url = format!("{}{path_and_query}", server.endpoint());
    let mut builder = http::Request::builder().method(method).uri(&url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(HttpRequestBody::from(body.to_vec())).unwrap();
    let credential = AwsCredential { key_id: AK.into(), secret_key: SK.into(), token: None };
    AwsAuthorizer::new(&credential, "s3", "us-east-1").try_authorize(&mut req, None).unwrap();
    reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url)
        .headers(req.headers().clone())
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn text(resp: reqwest::Response, status: u16) -> String {
    let got = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    body
}

/// The texts of all `<tag>` elements in `xml`, in order.
fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).map(|s| s[..s.find(&close).unwrap()].to_owned()).collect()
}

fn quoted_md5(data: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(data)))
}

async fn put(s3: &AmazonS3, key: &str, data: &[u8]) {
    s3.put(&Path::from(key), PutPayload::from(data.to_vec())).await.unwrap();
}

async fn get(s3: &AmazonS3, key: &str) -> Vec<u8> {
    s3.get(&Path::from(key)).await.unwrap().bytes().await.unwrap().to_vec()
}

fn locations(metas: &[object_store::ObjectMeta]) -> Vec<String> {
    metas.iter().map(|m| m.location.to_string()).collect()
}

#[tokio::test]
async fn list_with_prefix_delimiter_pagination_v1_and_url_encoding() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    for key in ["dir/a.bin", "dir/b.bin", "dir/sub1/x", "dir/sub1/y", "dir/sub2/z", "dirt", "sp ace+plus.bin"] {
        put(&s3, key, key.as_bytes()).await;
    }

    // object_store: delimiter listing and start-after.
    let res = s3.list_with_delimiter(Some(&Path::from("dir"))).await.unwrap();
    assert_eq!(locations(&res.objects), ["dir/a.bin", "dir/b.bin"]);
    let prefixes: Vec<String> = res.common_prefixes.iter().map(ToString::to_string).collect();
    assert_eq!(prefixes, ["dir/sub1", "dir/sub2"]);
    assert_eq!(res.objects[0].size, 9);
    assert_eq!(res.objects[0].e_tag.as_deref(), Some(quoted_md5(b"dir/a.bin").as_str()));
    let after: Vec<_> =
        s3.list_with_offset(Some(&Path::from("dir")), &Path::from("dir/b.bin")).try_collect().await.unwrap();
    assert_eq!(locations(&after), ["dir/sub1/x", "dir/sub1/y", "dir/sub2/z"]);
    let top = s3.list_with_delimiter(None).await.unwrap();
    assert_eq!(locations(&top.objects), ["dirt", "sp ace+plus.bin"]);

    // v2 pages of max-keys 3 (a common prefix counts once).
    let page1 = text(
        signed(&server, "GET", &format!("/{PRIVATE}?list-type=2&prefix=dir%2F&delimiter=%2F&max-keys=3"), &[], b"")
            .await,
        200,
    )
    .await;
    assert_eq!(elements(&page1, "Key"), ["dir/a.bin", "dir/b.bin"]);
    assert_eq!(elements(&page1, "Prefix")[1..], ["dir/sub1/"]); // [0] is the echoed request prefix
    assert_eq!(elements(&page1, "KeyCount"), ["3"]);
    assert_eq!(elements(&page1, "IsTruncated"), ["true"]);
    let token = elements(&page1, "NextContinuationToken").pop().unwrap();
    let page2 = text(
        signed(
            &server,
            "GET",
            &format!("/{PRIVATE}?list-type=2&prefix=dir%2F&delimiter=%2F&max-keys=3&continuation-token={token}"),
            &[],
            b"",
        )
        .await,
        200,
    )
    .await;
    assert!(elements(&page2, "Key").is_empty(), "{page2}");
    assert_eq!(elements(&page2, "Prefix")[1..], ["dir/sub2/"]);
    assert_eq!(elements(&page2, "IsTruncated"), ["false"]);
    assert!(elements(&page2, "NextContinuationToken").is_empty());
    let bad = signed(&server, "GET", &format!("/{PRIVATE}?list-type=2&continuation-token=%21%21"), &[], b"").await;
    assert!(text(bad, 400).await.contains("<Code>InvalidArgument</Code>"));

    // encoding-type=url percent-encodes keys.
    let enc = text(
        signed(&server, "GET", &format!("/{PRIVATE}?list-type=2&prefix=sp&encoding-type=url"), &[], b"").await,
        200,
    )
    .await;
    assert_eq!(elements(&enc, "Key"), ["sp%20ace%2Bplus.bin"]);

    // v1 with marker.
    let v1 = text(
        signed(&server, "GET", &format!("/{PRIVATE}?prefix=dir%2F&delimiter=%2F&max-keys=2"), &[], b"").await,
        200,
    )
    .await;
    assert_eq!(elements(&v1, "Key"), ["dir/a.bin", "dir/b.bin"]);
    assert_eq!(elements(&v1, "NextMarker"), ["dir/b.bin"]);
    let v1 = text(
        signed(&server, "GET", &format!("/{PRIVATE}?prefix=dir%2F&delimiter=%2F&marker=dir%2Fb.bin"), &[], b"").await,
        200,
    )
    .await;
    assert_eq!(elements(&v1, "Prefix")[1..], ["dir/sub1/", "dir/sub2/"]);
    assert_eq!(elements(&v1, "IsTruncated"), ["false"]);
}

#[tokio::test]
async fn listing_follows_continuation_tokens_past_1000_keys() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let keys: Vec<String> = (0..1005).map(|i| format!("many/{:02}/{i:04}.bin", i % 7)).collect();
    futures::stream::iter(keys.iter().map(|k| put(&s3, k, b"x"))).buffer_unordered(16).collect::<Vec<()>>().await;

    let listed: Vec<_> = s3.list(Some(&Path::from("many"))).try_collect().await.unwrap();
    let mut got = locations(&listed);
    let mut want = keys.clone();
    want.sort();
    assert_eq!(got.len(), 1005);
    got.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn delete_removes_object_sidecar_and_empty_directories() {
    let (server, dir) = server().await;
    let s3 = store(&server, PRIVATE);
    put(&s3, "d/e/f.bin", b"gone").await;
    put(&s3, "d/keep.bin", b"kept").await;
    let meta_dir = dir.path().join(format!(".{PRIVATE}.objhash-meta"));
    assert_eq!(std::fs::read_dir(&meta_dir).unwrap().count(), 2);

    s3.delete(&Path::from("d/e/f.bin")).await.unwrap();
    assert!(matches!(s3.head(&Path::from("d/e/f.bin")).await, Err(object_store::Error::NotFound { .. })));
    assert!(!dir.path().join(PRIVATE).join("d/e").exists(), "empty directory pruned");
    assert_eq!(std::fs::read_dir(&meta_dir).unwrap().count(), 1, "sidecar removed");
    assert_eq!(get(&s3, "d/keep.bin").await, b"kept");
    // Deleting a missing key (or a "directory") succeeds, as on S3.
    s3.delete(&Path::from("d/e/f.bin")).await.unwrap();
    s3.delete(&Path::from("d")).await.unwrap();
    assert_eq!(get(&s3, "d/keep.bin").await, b"kept");

    // Batch delete (DeleteObjects).
    put(&s3, "batch/1", b"1").await;
    put(&s3, "batch/2", b"2").await;
    let paths = futures::stream::iter(["batch/1", "batch/2", "batch/missing"].map(|k| Ok(Path::from(k)))).boxed();
    let deleted: Vec<Path> = s3.delete_stream(paths).try_collect().await.unwrap();
    assert_eq!(deleted.len(), 3);
    let left: Vec<_> = s3.list(None).try_collect().await.unwrap();
    assert_eq!(locations(&left), ["d/keep.bin"]);
}

#[tokio::test]
async fn range_gets() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let data: Vec<u8> = (0..1000_u32).map(|i| (i % 251) as u8).collect();
    put(&s3, "r.bin", &data).await;
    let path = Path::from("r.bin");

    assert_eq!(s3.get_range(&path, 10..20).await.unwrap().as_ref(), &data[10..20]);
    let ranged = |range| GetOptions { range: Some(range), ..Default::default() };
    let suffix = s3.get_opts(&path, ranged(GetRange::Suffix(5))).await.unwrap();
    assert_eq!(suffix.range, 995..1000);
    assert_eq!(suffix.bytes().await.unwrap().as_ref(), &data[995..]);
    let offset = s3.get_opts(&path, ranged(GetRange::Offset(990))).await.unwrap().bytes().await.unwrap();
    assert_eq!(offset.as_ref(), &data[990..]);

    let resp = signed(&server, "GET", &format!("/{PRIVATE}/r.bin"), &[("range", "bytes=0-9")], b"").await;
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 0-9/1000");
    assert_eq!(resp.headers()["content-length"], "10");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..10]);
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/r.bin"), &[("range", "bytes=1000-")], b"").await;
    assert!(text(resp, 416).await.contains("<Code>InvalidRange</Code>"));
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/r.bin"), &[], b"").await;
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
}

#[tokio::test]
async fn headers_and_user_metadata_round_trip() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, "image/png".into());
    attributes.insert(Attribute::CacheControl, "no-cache".into());
    attributes.insert(Attribute::ContentDisposition, "attachment; filename=\"x.png\"".into());
    attributes.insert(Attribute::Metadata("miner-hotkey".into()), "5GrwvaEF".into());
    let path = Path::from("meta/img.png");
    let opts = PutOptions { attributes: attributes.clone(), ..Default::default() };
    s3.put_opts(&path, PutPayload::from_static(b"png"), opts).await.unwrap();

    let got = s3.get(&path).await.unwrap();
    assert_eq!(got.attributes, attributes);

    let resp = signed(&server, "HEAD", &format!("/{PRIVATE}/meta/img.png"), &[], b"").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.headers()["x-amz-meta-miner-hotkey"], "5GrwvaEF");
    assert_eq!(resp.headers()["content-length"], "3");
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), quoted_md5(b"png"));

    // The MIID miner's anonymous PUT keeps its Content-Type; a PUT without one reads back as S3's default.
    let resp = reqwest::Client::new()
        .put(format!("{}/{PUBLIC}/anon.bin", server.endpoint()))
        .header("content-type", "application/octet-stream")
        .body("anon")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let signed_get =
        store(&server, PUBLIC).signed_url(Method::GET, &Path::from("anon.bin"), Duration::from_secs(60)).await.unwrap();
    let resp = reqwest::get(signed_get.as_str()).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(text(signed(&server, "PUT", &format!("/{PRIVATE}/plain"), &[], b"p").await, 200).await, "");
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/plain"), &[], b"").await;
    assert_eq!(resp.headers()["content-type"], "binary/octet-stream");

    // A wrong Content-MD5 is refused and stores nothing.
    let resp =
        signed(&server, "PUT", &format!("/{PRIVATE}/md5"), &[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")], b"x").await;
    assert!(text(resp, 400).await.contains("<Code>BadDigest</Code>"));
    assert!(matches!(s3.head(&Path::from("md5")).await, Err(object_store::Error::NotFound { .. })));
}

#[tokio::test]
async fn overwriting_replaces_content_size_and_etag() {
    let (server, dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let path = Path::from("over/write.bin");
    let long: Vec<u8> = (0..100_000_u32).map(|i| (i % 253) as u8).collect();
    let first = s3.put(&path, PutPayload::from(long.clone())).await.unwrap();
    assert_eq!(first.e_tag.as_deref(), Some(quoted_md5(&long).as_str()));
    assert_eq!(s3.head(&path).await.unwrap().e_tag.as_deref(), Some(quoted_md5(&long).as_str()));

    put(&s3, "over/write.bin", b"short").await;
    assert_eq!(get(&s3, "over/write.bin").await, b"short");
    let meta = s3.head(&path).await.unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.e_tag.as_deref(), Some(quoted_md5(b"short").as_str()));
    assert_eq!(std::fs::read(dir.path().join(PRIVATE).join("over/write.bin")).unwrap(), b"short");
    assert_eq!(std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0, "no upload files left behind");
}

#[tokio::test]
async fn conditional_requests() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let path = Path::from("cond.bin");
    let create = || PutOptions { mode: PutMode::Create, ..Default::default() };
    let put = s3.put_opts(&path, PutPayload::from_static(b"one"), create()).await.unwrap();
    let err = s3.put_opts(&path, PutPayload::from_static(b"two"), create()).await.unwrap_err();
    assert!(matches!(err, object_store::Error::AlreadyExists { .. }), "{err}");
    assert_eq!(get(&s3, "cond.bin").await, b"one");

    let etag = put.e_tag.unwrap();
    let opts = |f: fn(&mut GetOptions, String), v: &str| {
        let mut o = GetOptions::default();
        f(&mut o, v.to_owned());
        o
    };
    let none_match = s3.get_opts(&path, opts(|o, v| o.if_none_match = Some(v), &etag)).await.unwrap_err();
    assert!(matches!(none_match, object_store::Error::NotModified { .. }), "{none_match}");
    let bad_match = s3.get_opts(&path, opts(|o, v| o.if_match = Some(v), "\"0000\"")).await.unwrap_err();
    assert!(matches!(bad_match, object_store::Error::Precondition { .. }), "{bad_match}");
    let ok = s3.get_opts(&path, opts(|o, v| o.if_match = Some(v), &etag)).await.unwrap();
    assert_eq!(ok.bytes().await.unwrap().as_ref(), b"one");
}

#[tokio::test]
async fn copy_keeps_content_and_headers() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE);
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, "text/plain".into());
    attributes.insert(Attribute::Metadata("k".into()), "v".into());
    let opts = PutOptions { attributes: attributes.clone(), ..Default::default() };
    s3.put_opts(&Path::from("src/a.txt"), PutPayload::from_static(b"copied"), opts).await.unwrap();

    s3.copy(&Path::from("src/a.txt"), &Path::from("dst/deep/b.txt")).await.unwrap();
    let got = s3.get(&Path::from("dst/deep/b.txt")).await.unwrap();
    assert_eq!(got.attributes, attributes);
    assert_eq!(got.meta.e_tag.as_deref(), Some(quoted_md5(b"copied").as_str()));
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"copied");

    let err = s3.copy(&Path::from("src/missing"), &Path::from("dst/x")).await.unwrap_err();
    assert!(matches!(err, object_store::Error::NotFound { .. }), "{err}");
    // The copy source is checked like any key.
    let resp = signed(
        &server,
        "PUT",
        &format!("/{PRIVATE}/dst/y"),
        &[("x-amz-copy-source", "/validator-private/src/../src/a.txt")],
        b"",
    )
    .await;
    assert!(text(resp, 400).await.contains("<Code>InvalidArgument</Code>"));
}

#[tokio::test]
async fn keys_that_cannot_be_files_are_refused() {
    let (server, dir) = server().await;
    let s3 = store(&server, PRIVATE);
    put(&s3, "a", b"file").await;
    let err = s3.put(&Path::from("a/b"), PutPayload::from_static(b"x")).await.unwrap_err().to_string();
    assert!(err.contains("InvalidArgument") || err.contains("400"), "{err}");
    put(&s3, "c/d", b"x").await;
    let err = s3.put(&Path::from("c"), PutPayload::from_static(b"x")).await.unwrap_err().to_string();
    assert!(err.contains("InvalidArgument") || err.contains("400"), "{err}");
    assert!(matches!(s3.head(&Path::from("c")).await, Err(object_store::Error::NotFound { .. })));

    for key in ["trailing/", "double//slash"] {
        let resp = signed(&server, "PUT", &format!("/{PRIVATE}/{key}"), &[], b"x").await;
        assert!(text(resp, 400).await.contains("<Code>InvalidArgument</Code>"), "{key}");
    }
    let long_segment = "s".repeat(256);
    let resp = signed(&server, "PUT", &format!("/{PRIVATE}/{long_segment}"), &[], b"x").await;
    assert!(text(resp, 400).await.contains("<Code>KeyTooLongError</Code>"));
    assert_eq!(get(&s3, "a").await, b"file");
    assert!(dir.path().join(PRIVATE).join("c/d").is_file());
}

#[tokio::test]
async fn bucket_operations() {
    let (server, dir) = server().await;
    assert_eq!(text(signed(&server, "PUT", "/new-bucket", &[], b"").await, 200).await, "");
    assert!(dir.path().join("new-bucket").is_dir());
    let again = text(signed(&server, "PUT", "/new-bucket", &[], b"").await, 409).await;
    assert!(again.contains("<Code>BucketAlreadyOwnedByYou</Code>"), "{again}");
    assert_eq!(signed(&server, "HEAD", "/new-bucket", &[], b"").await.status().as_u16(), 200);
    assert_eq!(signed(&server, "HEAD", "/no-such-bucket", &[], b"").await.status().as_u16(), 404);
    let resp = signed(&server, "GET", "/no-such-bucket?list-type=2", &[], b"").await;
    assert!(text(resp, 404).await.contains("<Code>NoSuchBucket</Code>"));
    let resp = signed(&server, "PUT", "/no-such-bucket/k", &[], b"x").await;
    assert!(text(resp, 404).await.contains("<Code>NoSuchBucket</Code>"));
    assert!(!dir.path().join("no-such-bucket").exists());

    let buckets = text(signed(&server, "GET", "/", &[], b"").await, 200).await;
    assert_eq!(elements(&buckets, "Name"), ["new-bucket", PRIVATE, PUBLIC]);

    let s3 = store(&server, "new-bucket");
    put(&s3, "k/v", b"x").await;
    let resp = signed(&server, "DELETE", "/new-bucket", &[], b"").await;
    assert!(text(resp, 409).await.contains("<Code>BucketNotEmpty</Code>"));
    s3.delete(&Path::from("k/v")).await.unwrap();
    assert_eq!(signed(&server, "DELETE", "/new-bucket", &[], b"").await.status().as_u16(), 204);
    assert!(!dir.path().join("new-bucket").exists());
    assert!(!dir.path().join(".new-bucket.objhash-meta").exists());

    // Not implemented operations say so (multipart uploads are implemented now: tests/multipart.rs).
    let resp = signed(&server, "GET", &format!("/{PRIVATE}/big?tagging"), &[], b"").await;
    assert!(text(resp, 501).await.contains("<Code>NotImplemented</Code>"));
}
