//! s3-mock over loopback with a real S3 client (object_store, SigV4) and plain HTTP (reqwest),
//! as the MIID miner uploads.

use std::path::Path as FsPath;
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use s3_mock::{Config, S3Mock};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const AK: &str = "AKIDS3MOCKTEST";
const SK: &str = "s3-mock-secret-key-for-tests";
const PUBLIC: &str = "yanez-miid-sn54";
const PRIVATE: &str = "validator-private";
/// The object key of spec miner-protocol.md 5.7.
const MIID_KEY: &str = "submissions/challenge_1754000000_5GrwvaEF/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/a1b2c3d4e5f6_m_doc/lighting_edit_expression_edit_1754000321.png.tlock";

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

fn store(server: &S3Mock, bucket: &str, secret: &str) -> AmazonS3 {
    // object_store's reqwest 0.13 is built with `rustls-no-provider` (see Cargo.toml): give rustls
    // its ring provider. Only plain http is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(AK)
        .with_secret_access_key(secret)
        .build()
        .unwrap()
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn url(server: &S3Mock, bucket: &str, key: &str) -> String {
    format!("{}/{bucket}/{key}", server.endpoint())
}

/// PUT as the MIID miner does it: no auth, no x-amz-* headers.
async fn anonymous_put(url: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .put(url)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn assert_s3_error(resp: reqwest::Response, status: u16, code: &str) {
    let got = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    assert!(body.contains(&format!("<Code>{code}</Code>")), "expected {code}, body: {body}");
}

#[tokio::test]
async fn signed_put_get_head_list_round_trip() {
    let (server, dir) = server().await;
    let s3 = store(&server, PRIVATE, SK);
    let data = payload(100_000);
    let path = Path::from("round/trip/object.bin");

    s3.put(&path, PutPayload::from(data.clone())).await.unwrap();

    let got = s3.get(&path).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), &data[..]);

    let meta = s3.head(&path).await.unwrap();
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(meta.location, path);

    s3.put(&Path::from("round/other.bin"), PutPayload::from_static(b"x")).await.unwrap();
    let mut listed: Vec<String> =
        s3.list(Some(&Path::from("round/trip"))).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    listed.sort();
    assert_eq!(listed, ["round/trip/object.bin"]);
    let all: Vec<_> = s3.list(None).try_collect().await.unwrap();
    assert_eq!(all.len(), 2);

    // Objects are plain files under DATA_DIR/BUCKET/KEY.
    let on_disk = std::fs::read(dir.path().join(PRIVATE).join("round/trip/object.bin")).unwrap();
    assert_eq!(on_disk, data);

    s3.delete(&path).await.unwrap();
    assert!(matches!(s3.head(&path).await, Err(object_store::Error::NotFound { .. })));

    server.shutdown().await;
}

#[tokio::test]
async fn wrong_secret_key_is_refused() {
    let (server, dir) = server().await;
    let bad = store(&server, PRIVATE, "not-the-secret");

    // Header-signed request: refused, nothing written.
    let err = bad.put(&Path::from("x.bin"), PutPayload::from_static(b"nope")).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("SignatureDoesNotMatch"), "{msg}");
    assert!(!dir.path().join(PRIVATE).join("x.bin").exists());

    // Presigned with the wrong secret: 403 SignatureDoesNotMatch.
    store(&server, PRIVATE, SK).put(&Path::from("y.bin"), PutPayload::from_static(b"yes")).await.unwrap();
    let signed = bad.signed_url(Method::GET, &Path::from("y.bin"), Duration::from_secs(60)).await.unwrap();
    assert_s3_error(reqwest::get(signed.as_str()).await.unwrap(), 403, "SignatureDoesNotMatch").await;

    // Header-signed GET with the wrong secret.
    let err = bad.get(&Path::from("y.bin")).await.unwrap_err().to_string();
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
}

#[tokio::test]
async fn anonymous_put_into_public_bucket_is_accepted_and_readable_with_credentials() {
    let (server, dir) = server().await;
    let data = payload(4096);

    let resp = anonymous_put(&url(&server, PUBLIC, "a/b/img.png.tlock"), data.clone()).await;
    assert!(matches!(resp.status().as_u16(), 200 | 204), "{}: {}", resp.status(), resp.text().await.unwrap());

    let s3 = store(&server, PUBLIC, SK);
    let got = s3.get(&Path::from("a/b/img.png.tlock")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), &data[..]);
    assert_eq!(std::fs::read(dir.path().join(PUBLIC).join("a/b/img.png.tlock")).unwrap(), data);

    // Overwrite (the reference miner's same-second quirk) is allowed, as on S3.
    let resp = anonymous_put(&url(&server, PUBLIC, "a/b/img.png.tlock"), b"second".to_vec()).await;
    assert_eq!(resp.status().as_u16(), 200);
    let got = s3.get(&Path::from("a/b/img.png.tlock")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), b"second");
}

#[tokio::test]
async fn miid_object_key_round_trips() {
    let (server, dir) = server().await;
    let data = payload(70_001);

    let resp = anonymous_put(&url(&server, PUBLIC, MIID_KEY), data.clone()).await;
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(std::fs::read(dir.path().join(PUBLIC).join(MIID_KEY)).unwrap(), data);
    // ~180-byte keys never become one file name: the store keeps its sidecars under sha256(key).
    let sidecars: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".objhash-"))
        .collect();
    assert!(!sidecars.is_empty() && sidecars.iter().all(|n| n.len() <= 255), "{sidecars:?}");

    let s3 = store(&server, PUBLIC, SK);
    let path = Path::from(MIID_KEY);
    assert_eq!(path.as_ref(), MIID_KEY, "the key needs no escaping");
    assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..]);
    assert_eq!(s3.head(&path).await.unwrap().size, data.len() as u64);

    let listed: Vec<String> = s3
        .list(Some(&Path::from("submissions/challenge_1754000000_5GrwvaEF")))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, [MIID_KEY]);

    // And signed PUT of the same layout into a private bucket.
    let private = store(&server, PRIVATE, SK);
    private.put(&path, PutPayload::from(data.clone())).await.unwrap();
    assert_eq!(private.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..]);
}

#[tokio::test]
async fn anonymous_put_into_non_public_bucket_is_refused() {
    let (server, dir) = server().await;
    let resp = anonymous_put(&url(&server, PRIVATE, "a.png.tlock"), b"data".to_vec()).await;
    assert_s3_error(resp, 403, "AccessDenied").await;
    assert!(!dir.path().join(PRIVATE).join("a.png.tlock").exists());

    // A bucket that does not exist at all: refused before anything else.
    let resp = anonymous_put(&url(&server, "no-such-bucket", "a.png.tlock"), b"data".to_vec()).await;
    assert_s3_error(resp, 403, "AccessDenied").await;
    assert!(!dir.path().join("no-such-bucket").exists());
}

#[tokio::test]
async fn anonymous_reads_and_other_writes_are_refused() {
    let (server, _dir) = server().await;
    let resp = anonymous_put(&url(&server, PUBLIC, "k.bin"), b"data".to_vec()).await;
    assert_eq!(resp.status().as_u16(), 200);

    let client = reqwest::Client::new();
    let object = url(&server, PUBLIC, "k.bin");
    // GET
    assert_s3_error(client.get(&object).send().await.unwrap(), 403, "AccessDenied").await;
    // HEAD (no body)
    assert_eq!(client.head(&object).send().await.unwrap().status().as_u16(), 403);
    // LIST (v2 and v1)
    let bucket = format!("{}/{PUBLIC}", server.endpoint());
    assert_s3_error(client.get(format!("{bucket}?list-type=2")).send().await.unwrap(), 403, "AccessDenied").await;
    assert_s3_error(client.get(&bucket).send().await.unwrap(), 403, "AccessDenied").await;
    // List buckets
    assert_s3_error(client.get(server.endpoint()).send().await.unwrap(), 403, "AccessDenied").await;
    // DELETE
    assert_s3_error(client.delete(&object).send().await.unwrap(), 403, "AccessDenied").await;
    // Copy (a PUT with x-amz-copy-source) would read another object: refused.
    let resp = client
        .put(url(&server, PUBLIC, "copy.bin"))
        .header("x-amz-copy-source", format!("/{PRIVATE}/secret.bin"))
        .send()
        .await
        .unwrap();
    assert_s3_error(resp, 403, "AccessDenied").await;

    // The object is still there for a signed reader.
    let s3 = store(&server, PUBLIC, SK);
    assert_eq!(s3.get(&Path::from("k.bin")).await.unwrap().bytes().await.unwrap().as_ref(), b"data");
}

#[tokio::test]
async fn presigned_urls_work() {
    let (server, _dir) = server().await;
    let s3 = store(&server, PRIVATE, SK);
    let data = payload(12_345);
    s3.put(&Path::from(MIID_KEY), PutPayload::from(data.clone())).await.unwrap();

    let get = s3.signed_url(Method::GET, &Path::from(MIID_KEY), Duration::from_secs(300)).await.unwrap();
    assert!(get.as_str().contains("X-Amz-Signature="), "{get}");
    let resp = reqwest::get(get.as_str()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..]);

    // Tampering with the signed URL (another key) is refused.
    let tampered = get.as_str().replace("png.tlock", "png.tlocx");
    assert_s3_error(reqwest::get(&tampered).await.unwrap(), 403, "SignatureDoesNotMatch").await;

    // Presigned PUT.
    let put = s3.signed_url(Method::PUT, &Path::from("presigned/put.bin"), Duration::from_secs(300)).await.unwrap();
    let resp = reqwest::Client::new().put(put.as_str()).body(b"via presigned put".to_vec()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    let got = s3.get(&Path::from("presigned/put.bin")).await.unwrap().bytes().await.unwrap();
    assert_eq!(got.as_ref(), b"via presigned put");
}

/// Raw HTTP/1.1 so that `..` reaches the server unnormalised (HTTP clients resolve it).
async fn raw_put(server: &S3Mock, raw_path: &str, body: &[u8]) -> String {
    let mut sock = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "PUT {raw_path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr(),
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(body).await.unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn dot_segments_cannot_escape_the_public_bucket() {
    let (server, dir) = server().await;
    for raw in [
        format!("/{PUBLIC}/x/../../{PRIVATE}/evil.bin"),
        format!("/{PUBLIC}/%2E%2E/{PRIVATE}/evil.bin"),
        format!("/{PUBLIC}/./evil.bin"),
    ] {
        let resp = raw_put(&server, &raw, b"evil").await;
        assert!(resp.starts_with("HTTP/1.1 400") && resp.contains("<Code>InvalidArgument</Code>"), "{raw}: {resp}");
    }
    assert!(!dir.path().join(PRIVATE).join("evil.bin").exists());
    assert!(!dir.path().join(PUBLIC).join("evil.bin").exists());
    // A plain raw PUT works, so the refusals above are about the paths.
    let ok = raw_put(&server, &format!("/{PUBLIC}/fine.bin"), b"fine").await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let (server, _dir) = server().await;
    let addr = server.addr();
    assert_eq!(anonymous_put(&url(&server, PUBLIC, "k"), b"1".to_vec()).await.status().as_u16(), 200);
    tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await.expect("shutdown within 10 s");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn config_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = |public: &str, ak: &str| Config {
        data_dir: dir.path().join("data"),
        access_key: ak.into(),
        secret_key: SK.into(),
        public_write: vec![public.into()],
        buckets: vec![],
        domain: None,
    };
    let err = s3_mock::bind("127.0.0.1:0", cfg("Bad_Bucket", AK)).await.unwrap_err();
    assert!(matches!(err, s3_mock::Error::InvalidBucketName(ref b) if b == "Bad_Bucket"), "{err}");
    let err = s3_mock::bind("127.0.0.1:0", cfg(PUBLIC, "")).await.unwrap_err();
    assert!(matches!(err, s3_mock::Error::EmptyCredentials), "{err}");
    assert!(!FsPath::new(&dir.path().join("data").join("Bad_Bucket")).exists());
}
