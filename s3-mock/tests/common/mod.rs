//! Helpers shared by the newer integration tests: a server, object_store clients, raw signed and
//! anonymous requests, XML picking, and checksum oracles from crates independent of the server's.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::HttpRequestBody;
use s3_mock::{Config, S3Mock};
use sha2::Digest as _;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const AK: &str = "AKIDS3MOCKTEST";
pub const SK: &str = "s3-mock-secret-key-for-tests";
pub const PUBLIC: &str = "yanez-miid-sn54";
pub const PRIVATE: &str = "validator-private";
pub const MIB: usize = 1024 * 1024;

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        access_key: AK.into(),
        secret_key: SK.into(),
        public_write: vec![PUBLIC.into()],
        buckets: vec![PRIVATE.into()],
        domain: None,
    }
}

pub async fn server() -> (S3Mock, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = s3_mock::bind("127.0.0.1:0", config(dir.path())).await.unwrap();
    (server, dir)
}

pub fn builder(endpoint: &str, bucket: &str, ak: &str, sk: &str) -> AmazonS3Builder {
    // object_store's reqwest 0.13 is built with `rustls-no-provider`: give rustls its ring
    // provider. Only plain http is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(ak)
        .with_secret_access_key(sk)
}

pub fn store(server: &S3Mock, bucket: &str) -> AmazonS3 {
    builder(&server.endpoint(), bucket, AK, SK).build().unwrap()
}

pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + usize::from(seed) * 7) % 251) as u8).collect()
}

/// A request signed with SigV4 headers (object_store's signer), sent with reqwest to
/// `endpoint` + `path_and_query`.
pub async fn signed_to(
    endpoint: &str,
    ak: &str,
    sk: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    let url = format!("{endpoint}{path_and_query}");
    let mut builder = http::Request::builder().method(method).uri(&url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut req = builder.body(HttpRequestBody::from(body.to_vec())).unwrap();
    let credential = AwsCredential { key_id: ak.into(), secret_key: sk.into(), token: None };
    AwsAuthorizer::new(&credential, "s3", "us-east-1").try_authorize(&mut req, None).unwrap();
    reqwest::Client::new()
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), &url)
        .headers(req.headers().clone())
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

pub async fn signed(
    server: &S3Mock,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    signed_to(&server.endpoint(), AK, SK, method, path_and_query, headers, body).await
}

/// An unsigned request.
pub async fn anonymous(
    server: &S3Mock,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> reqwest::Response {
    let mut req = reqwest::Client::new().request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{path_and_query}", server.endpoint()),
    );
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(body.to_vec()).send().await.unwrap()
}

/// The body, after checking the status.
pub async fn text(resp: reqwest::Response, status: u16) -> String {
    let got = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    body
}

pub async fn assert_s3_error(resp: reqwest::Response, status: u16, code: &str) {
    let body = text(resp, status).await;
    assert!(body.contains(&format!("<Code>{code}</Code>")), "expected {code}, body: {body}");
}

/// The texts of all `<tag>` elements in `xml`, in order.
pub fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).map(|s| s[..s.find(&close).unwrap()].to_owned()).collect()
}

pub fn element(xml: &str, tag: &str) -> String {
    elements(xml, tag).into_iter().next().unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}

pub fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

pub fn md5_b64(data: &[u8]) -> String {
    B64.encode(Md5::digest(data))
}

/// The S3 ETag of a multipart object made of `parts`, with quotes.
pub fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(&Md5::digest(p));
    }
    format!("\"{}-{}\"", hex::encode(Md5::digest(&all)), parts.len())
}

// Oracles: crates independent of the server's (s3s uses crc-fast and sha1/sha2 0.11).
pub fn crc32_b64(data: &[u8]) -> String {
    B64.encode(crc32fast::hash(data).to_be_bytes())
}

pub fn crc32c_b64(data: &[u8]) -> String {
    B64.encode(crc32c::crc32c(data).to_be_bytes())
}

pub fn sha1_b64(data: &[u8]) -> String {
    B64.encode(<sha1::Sha1 as sha1::Digest>::digest(data))
}

pub fn sha256_b64(data: &[u8]) -> String {
    B64.encode(sha2::Sha256::digest(data))
}

/// The COMPOSITE checksum S3 gives a multipart object: H(H(p1) || ... || H(pN)) then -N.
pub fn composite(h: fn(&[u8]) -> String, parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for p in parts {
        all.extend(B64.decode(h(p)).unwrap());
    }
    format!("{}-{}", h(&all), parts.len())
}

/// `<CompleteMultipartUpload>` listing `(part number, ETag, extra XML)`.
pub fn complete_xml(parts: &[(u32, &str, &str)]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (n, etag, extra) in parts {
        xml.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag>{extra}</Part>"));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}

// ---------------------------------------------------------------------------------------------
// A bare SigV4 signer for what object_store's cannot sign: aws-chunked bodies with a trailer
// (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, what current AWS SDKs send).

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0_u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha2::Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = sha2::Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `(YYYYMMDD, YYYYMMDDTHHMMSSZ)` for now, UTC.
fn amz_dates() -> (String, String) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!("{date}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60);
    (date, stamp)
}

/// PUT `path` (no query) with an aws-chunked body carrying `trailer_name: trailer_value` after
/// the data, signed with SigV4 (unsigned payload with trailer). Raw HTTP/1.1; returns the
/// response head and body as text.
pub async fn put_with_trailer(
    server: &S3Mock,
    path: &str,
    data: &[u8],
    trailer_name: &str,
    trailer_value: &str,
) -> String {
    let host = server.addr().to_string();
    let (date, stamp) = amz_dates();
    let decoded_len = data.len().to_string();
    let mut headers = [
        ("content-encoding", "aws-chunked".to_owned()),
        ("host", host.clone()),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned()),
        ("x-amz-date", stamp.clone()),
        ("x-amz-decoded-content-length", decoded_len),
        ("x-amz-trailer", trailer_name.to_owned()),
    ];
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(";");
    let canonical = format!("PUT\n{path}\n\n{canonical_headers}\n{signed_headers}\nSTREAMING-UNSIGNED-PAYLOAD-TRAILER");
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let to_sign =
        format!("AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}", hex::encode(sha2::Sha256::digest(canonical.as_bytes())));
    let mut key = hmac_sha256(format!("AWS4{SK}").as_bytes(), date.as_bytes());
    for part in ["us-east-1", "s3", "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac_sha256(&key, to_sign.as_bytes()));
    let auth =
        format!("AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed_headers}, Signature={signature}");

    let mut body = Vec::new();
    body.extend(format!("{:x}\r\n", data.len()).as_bytes());
    body.extend(data);
    body.extend(b"\r\n0\r\n");
    body.extend(format!("{trailer_name}:{trailer_value}\r\n\r\n").as_bytes());

    let mut head = format!("PUT {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("authorization: {auth}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let mut sock = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&body).await.unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    out
}
