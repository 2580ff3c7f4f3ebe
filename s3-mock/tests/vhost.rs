//! Virtual-hosted-style addressing (`Config::domain` / `--domain`): `Host: BUCKET.s3.local:PORT`
//! sent to 127.0.0.1 (the clients resolve the name to the loopback address themselves), next to
//! path-style requests on the same server.

mod common;

use std::net::SocketAddr;

use common::*;
use futures::TryStreamExt;
use object_store::ClientOptions;
use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "s3.local";

async fn vhost_server() -> (s3_mock::S3Mock, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = s3_mock::Config { domain: Some(DOMAIN.into()), ..config(dir.path()) };
    (s3_mock::bind("127.0.0.1:0", cfg).await.unwrap(), dir)
}

/// object_store's HTTP client, with `host` resolved to `addr` (no DNS).
#[derive(Debug)]
struct Resolve {
    host: String,
    addr: SocketAddr,
}

impl HttpConnector for Resolve {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest013::Client::builder().resolve(&self.host, self.addr).build().unwrap();
        Ok(HttpClient::new(client))
    }
}

#[tokio::test]
async fn virtual_hosted_style_with_object_store() {
    let (server, dir) = vhost_server().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let endpoint = server.virtual_host_endpoint(PRIVATE).unwrap();
    assert_eq!(endpoint, format!("http://{PRIVATE}.{DOMAIN}:{}", server.addr().port()));
    let s3 = AmazonS3Builder::new()
        .with_endpoint(&endpoint)
        .with_virtual_hosted_style_request(true)
        .with_allow_http(true)
        .with_bucket_name(PRIVATE)
        .with_region("us-east-1")
        .with_access_key_id(AK)
        .with_secret_access_key(SK)
        .with_http_connector(Resolve { host: format!("{PRIVATE}.{DOMAIN}"), addr: server.addr() })
        .build()
        .unwrap();

    let data = payload(50_000, 1);
    let path = Path::from("vhost/a/b.bin");
    s3.put(&path, PutPayload::from(data.clone())).await.unwrap();
    assert_eq!(s3.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..]);
    assert_eq!(std::fs::read(dir.path().join(PRIVATE).join("vhost/a/b.bin")).unwrap(), data);
    let listed: Vec<String> =
        s3.list(Some(&Path::from("vhost"))).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    assert_eq!(listed, ["vhost/a/b.bin"]);
    // Presigned URLs carry the virtual host too.
    let url =
        object_store::signer::Signer::signed_url(&s3, http::Method::GET, &path, std::time::Duration::from_secs(60))
            .await
            .unwrap();
    assert!(url.as_str().starts_with(&endpoint), "{url}");
    let client = reqwest::Client::builder().resolve(&format!("{PRIVATE}.{DOMAIN}"), server.addr()).build().unwrap();
    let resp = client.get(url.as_str()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &data[..]);
    // Multipart through the virtual host.
    let big = payload(5 * MIB + 1, 2);
    let mp = Path::from("vhost/multipart.bin");
    let mut upload = s3.put_multipart(&mp).await.unwrap();
    upload.put_part(PutPayload::from(big[..5 * MIB].to_vec())).await.unwrap();
    upload.put_part(PutPayload::from(big[5 * MIB..].to_vec())).await.unwrap();
    upload.complete().await.unwrap();
    assert_eq!(s3.get(&mp).await.unwrap().bytes().await.unwrap().as_ref(), &big[..]);

    // The same object path-style, on the same server.
    let path_style = store(&server, PRIVATE);
    assert_eq!(path_style.get(&path).await.unwrap().bytes().await.unwrap().as_ref(), &data[..]);
}

/// One raw HTTP/1.1 request to 127.0.0.1 with the given Host header.
async fn raw(server: &s3_mock::S3Mock, method: &str, host: &str, target: &str, body: &[u8]) -> String {
    let mut sock = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(body).await.unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn anonymous_put_by_host_header() {
    let (server, dir) = vhost_server().await;
    let port = server.addr().port();
    let key = "submissions/c/d.png.tlock";

    // The MIID miner's plain PUT, addressed virtual-host style.
    let resp = raw(&server, "PUT", &format!("{PUBLIC}.{DOMAIN}:{port}"), &format!("/{key}"), b"ciphertext").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(std::fs::read(dir.path().join(PUBLIC).join(key)).unwrap(), b"ciphertext");
    // Letter case and a missing port do not matter.
    let resp = raw(&server, "PUT", &format!("{}.S3.Local", PUBLIC.to_uppercase()), "/upper.bin", b"x").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(dir.path().join(PUBLIC).join("upper.bin").exists());

    // The access rule holds: not into the private bucket, no anonymous reads.
    let resp = raw(&server, "PUT", &format!("{PRIVATE}.{DOMAIN}:{port}"), "/x.bin", b"x").await;
    assert!(resp.starts_with("HTTP/1.1 403") && resp.contains("AccessDenied"), "{resp}");
    let resp = raw(&server, "GET", &format!("{PUBLIC}.{DOMAIN}:{port}"), &format!("/{key}"), b"").await;
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    // Dot segments are refused in this style too.
    let resp =
        raw(&server, "PUT", &format!("{PUBLIC}.{DOMAIN}:{port}"), &format!("/../{PRIVATE}/evil.bin"), b"x").await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(!dir.path().join(PRIVATE).join("evil.bin").exists());

    // Path style with the bare domain, with `localhost`, and with the IP address.
    for host in [format!("{DOMAIN}:{port}"), format!("localhost:{port}"), server.addr().to_string()] {
        let resp = raw(&server, "PUT", &host, &format!("/{PUBLIC}/path-style.bin"), b"p").await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{host}: {resp}");
    }
    assert_eq!(std::fs::read(dir.path().join(PUBLIC).join("path-style.bin")).unwrap(), b"p");

    // Signed virtual-host request through reqwest's resolver.
    let host = format!("{PUBLIC}.{DOMAIN}");
    let endpoint = server.virtual_host_endpoint(PUBLIC).unwrap();
    let url = format!("{endpoint}/{key}");
    let mut req = http::Request::builder()
        .method("GET")
        .uri(&url)
        .body(object_store::client::HttpRequestBody::from(Vec::<u8>::new()))
        .unwrap();
    let credential = object_store::aws::AwsCredential { key_id: AK.into(), secret_key: SK.into(), token: None };
    object_store::aws::AwsAuthorizer::new(&credential, "s3", "us-east-1").try_authorize(&mut req, None).unwrap();
    let client = reqwest::Client::builder().resolve(&host, server.addr()).build().unwrap();
    let resp = client.get(&url).headers(req.headers().clone()).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"ciphertext");
}

#[tokio::test]
async fn bad_domain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = s3_mock::Config { domain: Some("s3.local:9000".into()), ..config(dir.path()) };
    let err = s3_mock::bind("127.0.0.1:0", cfg).await.unwrap_err();
    assert!(matches!(err, s3_mock::Error::InvalidDomain(_)), "{err}");
}
