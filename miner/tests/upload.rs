//! The miner's S3 uploader against an in-process s3-mock over loopback: anonymous PUT into a
//! public-write bucket (mainnet's way), SigV4 into a private bucket, refusal of a wrong secret,
//! retries through a flaky proxy (a lost answer lands the object once), an S3 outage bridged by
//! the on-disk queue across an s3-mock restart and a miner restart, and deadline expiry.
//!
//! What landed is read back with `object_store` — an S3 client independent of the uploader's
//! `rusty-s3` — so both sides of the protocol are not the same code.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::Instant;

use miid_miner::upload::{
    ReportPolicy, SubmissionContext, UploadConfig, UploadError, UploadJob, UploadStatus, Uploader, build_submission,
};
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{SubmissionKey, parse_key, verify_submission};
use miid_protocol::synapse::ImageRequest;
use miid_protocol::{Generation, Hotkey};

const AK: &str = "AKIDMINERUPLOAD";
const SK: &str = "miner-upload-secret";
const PUBLIC: &str = "yanez-miid-sn54";
const PRIVATE: &str = "operator-private";

fn s3_config(dir: &std::path::Path) -> s3_mock::Config {
    s3_mock::Config {
        data_dir: dir.to_path_buf(),
        access_key: AK.into(),
        secret_key: SK.into(),
        public_write: vec![PUBLIC.into()],
        buckets: vec![PRIVATE.into()],
        domain: None,
    }
}

/// Binds with SO_REUSEADDR so a restarted server can take the same port at once.
fn listener_on(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(128).unwrap()
}

async fn start_s3(dir: &std::path::Path, addr: SocketAddr) -> s3_mock::S3Mock {
    s3_mock::start(listener_on(addr), s3_config(dir)).await.unwrap()
}

/// The independent reader.
fn reader(endpoint: &str, bucket: &str) -> AmazonS3 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(AK)
        .with_secret_access_key(SK)
        .build()
        .unwrap()
}

async fn list(endpoint: &str, bucket: &str) -> Vec<String> {
    let mut keys: Vec<String> =
        reader(endpoint, bucket).list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
    keys.sort();
    keys
}

async fn get(endpoint: &str, bucket: &str, key: &str) -> Vec<u8> {
    reader(endpoint, bucket).get(&ObjPath::from(key)).await.unwrap().bytes().await.unwrap().to_vec()
}

fn anonymous(endpoint: &str, queue: &std::path::Path) -> UploadConfig {
    UploadConfig {
        endpoint: Some(endpoint.to_owned()),
        path_style: true,
        queue_dir: Some(queue.to_path_buf()),
        request_timeout_s: 5.0,
        retry_initial_ms: 20,
        retry_max_ms: 100,
        ..UploadConfig::default()
    }
}

fn signed(endpoint: &str, queue: &std::path::Path, secret: &str) -> UploadConfig {
    UploadConfig {
        queue_dir: Some(queue.to_path_buf()),
        request_timeout_s: 5.0,
        retry_initial_ms: 20,
        retry_max_ms: 100,
        ..UploadConfig::private(endpoint, PRIVATE, AK, secret)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn image_request(reveal_in: i64) -> ImageRequest {
    serde_json::from_value(serde_json::json!({
        "base_image": "",
        "image_filename": "a1b2c3d4e5f6_m_doc.png",
        "variation_requests": [],
        "target_drand_round": 20399678,
        "reveal_timestamp": now() + reveal_in,
        "challenge_id": "challenge_1754000000_5GrwvaEF",
    }))
    .unwrap()
}

fn job(key: &str, body: &[u8], reveal_in: i64, answer_in: Duration) -> UploadJob {
    UploadJob {
        key: key.to_owned(),
        body: Bytes::copy_from_slice(body),
        reveal_timestamp: now() + reveal_in,
        answer_by: Some(Instant::now() + answer_in),
    }
}

#[tokio::test]
async fn anonymous_upload_lands_with_unique_keys_and_valid_submissions() {
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let s3 = start_s3(data.path(), "127.0.0.1:0".parse().unwrap()).await;
    let up = Uploader::new(anonymous(&s3.endpoint(), queue.path())).unwrap();
    let bob = Hotkey::from_uri("//Bob").unwrap();
    let req = image_request(2400);
    let ctx = SubmissionContext::new(&bob, &req, Generation::R2);

    // R2 asks for two background_edit entries; within one second they must not share a key.
    let mut reported = Vec::new();
    for (i, vt) in ["background_edit", "background_edit", "lighting_edit+expression_edit"].iter().enumerate() {
        let png = format!("\u{89}PNG plaintext {i}").into_bytes();
        let ct = format!("ciphertext {i}").into_bytes();
        let done = up.submit_image(&ctx, vt, &png, Bytes::from(ct.clone()), None).await.unwrap();
        assert_eq!(done.outcome.status, UploadStatus::Uploaded, "{:?}", done.outcome);
        assert_eq!(done.outcome.attempts, 1);
        assert!(done.outcome.reportable(ReportPolicy::UploadedOnly));
        let sub = done.submission;
        assert_eq!(sub.s3_key, done.outcome.key);
        assert_eq!(sub.image_hash, sha256_hex(&png), "hash of the plaintext, not the ciphertext");
        assert_eq!(sub.variation_type, *vt, "variation_type verbatim");
        assert_eq!(sub.path_signature, ctx.path_signature);
        assert!(sub.s3_key_angle2.is_none() && sub.image_hash_angle2.is_none() && sub.signature_angle2.is_none());
        assert!(sub.screen_replay_uav.is_none());
        verify_submission(&bob.public(), "challenge_1754000000_5GrwvaEF", &sub.image_hash, &sub.signature).unwrap();
        let k = SubmissionKey::parse(&sub.s3_key).unwrap();
        assert_eq!(k.miner_hotkey, bob.ss58());
        assert_eq!(k.seed_image_name, "a1b2c3d4e5f6_m_doc");
        assert_eq!(k.file_type, vt.replace('+', "_"));
        assert_eq!(get(&s3.endpoint(), PUBLIC, &sub.s3_key).await, ct);
        reported.push(sub.s3_key);
    }
    let mut sorted = reported.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 3, "keys unique: {reported:?}");
    assert_eq!(list(&s3.endpoint(), PUBLIC).await, sorted);
    assert_eq!(up.queue_usage(), (0, 0));

    // Anonymous PUT into a bucket without public write: 403 AccessDenied, final, nothing queued.
    let mut cfg = anonymous(&s3.endpoint(), queue.path());
    cfg.bucket = PRIVATE.into();
    let up = Uploader::new(cfg).unwrap();
    let out =
        up.upload(job("submissions/c/h/0123456789abcdef/s/t_1.png.tlock", b"x", 600, Duration::from_secs(5))).await;
    assert_eq!(out.status, UploadStatus::Failed);
    assert_eq!(out.attempts, 1);
    assert!(out.error.as_deref().unwrap().contains("403 AccessDenied"), "{out:?}");
    assert_eq!(up.queue_usage(), (0, 0));
    s3.shutdown().await;
}

#[tokio::test]
async fn sigv4_upload_to_private_bucket_and_wrong_secret_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let s3 = start_s3(data.path(), "127.0.0.1:0".parse().unwrap()).await;
    let up = Uploader::new(signed(&s3.endpoint(), queue.path(), SK)).unwrap();
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    // R1 keeps '+' in the key: it must survive percent-encoding and signing.
    let key = "submissions/sandbox_test/5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/0123456789abcdef/seed/lighting_edit+expression_edit_1754000321.png.tlock";
    let out = up.upload(job(key, &body, 600, Duration::from_secs(10))).await;
    assert_eq!(out.status, UploadStatus::Uploaded, "{out:?}");
    assert_eq!(list(&s3.endpoint(), PRIVATE).await, [key]);
    assert_eq!(get(&s3.endpoint(), PRIVATE, key).await, body);
    assert_eq!(parse_key(key).unwrap().file_name, "lighting_edit+expression_edit_1754000321.png.tlock");

    // Same key, same bytes again: idempotent, still one object with the same content.
    up.put_once(key, Bytes::from(body.clone())).await.unwrap();
    assert_eq!(list(&s3.endpoint(), PRIVATE).await, [key]);
    assert_eq!(get(&s3.endpoint(), PRIVATE, key).await, body);

    // A wrong secret: 403 SignatureDoesNotMatch surfaces as a permanent error, no retry, no queue.
    let bad = Uploader::new(signed(&s3.endpoint(), queue.path(), "not-the-secret")).unwrap();
    let err = bad.put_once("x/y.bin", Bytes::from_static(b"x")).await.unwrap_err();
    assert!(
        matches!(&err, UploadError::Status { status: 403, code: Some(c), .. } if c == "SignatureDoesNotMatch"),
        "{err}"
    );
    assert!(!err.is_transient());
    let out = bad.upload(job("x/z.bin", b"x", 600, Duration::from_secs(10))).await;
    assert_eq!((out.status, out.attempts), (UploadStatus::Failed, 1), "{out:?}");
    assert!(out.error.unwrap().contains("SignatureDoesNotMatch"));
    assert_eq!(bad.queue_usage(), (0, 0));
    assert_eq!(list(&s3.endpoint(), PRIVATE).await, [key]);
    s3.shutdown().await;
}

/// What a proxy connection does.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Pass everything through.
    Forward,
    /// Answer 503 Slow Down without contacting S3.
    Unavailable,
    /// Forward the request (S3 stores the object), then drop the connection without relaying the
    /// answer: the client sees a transport error for an upload that happened.
    LoseAnswer,
}

/// Reads one HTTP/1.1 request (headers + Content-Length body).
async fn read_request(sock: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return buf;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return buf;
            }
        }
    }
}

async fn flaky_proxy(upstream: SocketAddr, modes: Vec<Mode>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let n = c.fetch_add(1, Ordering::SeqCst);
            let mode = modes.get(n).copied().unwrap_or(Mode::Forward);
            tokio::spawn(async move {
                match mode {
                    Mode::Forward => {
                        let mut up = TcpStream::connect(upstream).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                    }
                    Mode::Unavailable => {
                        read_request(&mut client).await;
                        let body =
                            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let resp = format!(
                            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = client.write_all(resp.as_bytes()).await;
                    }
                    Mode::LoseAnswer => {
                        let req = read_request(&mut client).await;
                        let mut up = TcpStream::connect(upstream).await.unwrap();
                        up.write_all(&req).await.unwrap();
                        let mut answer = [0u8; 1024];
                        let _ = up.read(&mut answer).await; // S3 answered: the object is stored
                        drop(client); // ... but the uploader never hears it
                    }
                }
            });
        }
    });
    (addr, count)
}

#[tokio::test]
async fn interrupted_uploads_are_retried_and_land_once() {
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let s3 = start_s3(data.path(), "127.0.0.1:0".parse().unwrap()).await;
    for cfg in
        [anonymous as fn(&str, &std::path::Path) -> UploadConfig, |e: &str, q: &std::path::Path| signed(e, q, SK)]
    {
        let (proxy, connections) = flaky_proxy(s3.addr(), vec![Mode::LoseAnswer, Mode::Unavailable]).await;
        let mut config = cfg(&format!("http://{proxy}"), queue.path());
        let bucket = config.bucket.clone();
        config.request_timeout_s = 2.0;
        let up = Uploader::new(config).unwrap();
        let key = format!("submissions/c/{bucket}/0123456789abcdef/seed/retry_1.png.tlock");
        let body = vec![7u8; 50_000];
        let out = up.upload(job(&key, &body, 600, Duration::from_secs(20))).await;
        assert_eq!(out.status, UploadStatus::Uploaded, "{out:?}");
        assert_eq!(out.attempts, 3, "lost answer, 503, success: {out:?}");
        assert!(connections.load(Ordering::SeqCst) >= 3);
        assert_eq!(list(&s3.endpoint(), &bucket).await, std::slice::from_ref(&key), "landed once");
        assert_eq!(get(&s3.endpoint(), &bucket, &key).await, body);
    }
    s3.shutdown().await;
}

#[tokio::test]
async fn outage_is_bridged_by_the_queue_across_s3_and_miner_restarts() {
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let s3 = start_s3(data.path(), "127.0.0.1:0".parse().unwrap()).await;
    let addr = s3.addr();
    let endpoint = s3.endpoint();
    let bob = Hotkey::from_uri("//Bob").unwrap();
    let req = image_request(2400);
    let ctx = SubmissionContext::new(&bob, &req, Generation::R2);

    // Before the outage: one object lands.
    let up = Uploader::new(anonymous(&endpoint, queue.path())).unwrap();
    let first = up.submit_image(&ctx, "pose_edit", b"png-0", Bytes::from_static(b"ct-0"), None).await.unwrap();
    assert!(first.outcome.is_uploaded());

    // S3 goes down. The forward must answer within 300 ms: the entries are queued, not reported.
    s3.shutdown().await;
    let mut queued = Vec::new();
    for (i, vt) in ["background_edit", "background_edit"].iter().enumerate() {
        let ct = Bytes::from(format!("ct-{}", i + 1));
        let answer_by = Some(Instant::now() + Duration::from_millis(300));
        let done = up.submit_image(&ctx, vt, b"png", ct.clone(), answer_by).await.unwrap();
        assert_eq!(done.outcome.status, UploadStatus::Queued, "{:?}", done.outcome);
        assert!(done.outcome.attempts >= 2, "retried before queueing: {:?}", done.outcome);
        assert!(!done.outcome.reportable(ReportPolicy::UploadedOnly));
        assert!(done.outcome.reportable(ReportPolicy::AllowQueued));
        assert_eq!(done.outcome.retry_until, req.reveal_timestamp - 60);
        queued.push((done.submission.s3_key, ct));
    }
    assert_ne!(queued[0].0, queued[1].0);
    assert_eq!(up.queue_usage(), (2, 8));
    // A drain while S3 is still down keeps everything.
    let report = up.drain().await;
    assert_eq!((report.uploaded.len(), report.pending), (0, 2), "{report:?}");
    assert!(up.queued().iter().all(|e| e.attempts >= 2 && e.last_error.is_some()));

    // "Miner restart": the process (uploader) goes away; S3 comes back on the same port and data.
    drop(up);
    let s3 = start_s3(data.path(), addr).await;
    assert_eq!(
        list(&endpoint, PUBLIC).await,
        std::slice::from_ref(&first.submission.s3_key),
        "objects survive an S3 restart"
    );
    let up = Uploader::new(anonymous(&endpoint, queue.path())).unwrap();
    assert_eq!(up.queue_usage(), (2, 8), "the queue survived the restart");
    // A key already in the queue is not handed out again.
    let k = SubmissionKey::parse(&queued[0].0).unwrap();
    assert_ne!(up.reserve_key(k.clone()), k);
    let report = up.drain().await;
    let mut landed = report.uploaded.clone();
    landed.sort();
    let mut want: Vec<String> = queued.iter().map(|(k, _)| k.clone()).collect();
    want.sort();
    assert_eq!(landed, want, "{report:?}");
    assert_eq!((report.pending, up.queue_usage()), (0, (0, 0)));
    assert_eq!(std::fs::read_dir(queue.path()).unwrap().count(), 0, "queue files removed");
    for (key, ct) in &queued {
        assert_eq!(get(&endpoint, PUBLIC, key).await, ct.to_vec());
    }
    assert_eq!(list(&endpoint, PUBLIC).await.len(), 3);
    // A second drain has nothing to do.
    assert_eq!(up.drain().await.uploaded.len(), 0);
    s3.shutdown().await;
}

#[tokio::test]
async fn background_drain_delivers_after_recovery() {
    let data = tempfile::tempdir().unwrap();
    let queue = tempfile::tempdir().unwrap();
    let s3 = start_s3(data.path(), "127.0.0.1:0".parse().unwrap()).await;
    let addr = s3.addr();
    let endpoint = s3.endpoint();
    s3.shutdown().await;
    let up = Uploader::new(anonymous(&endpoint, queue.path())).unwrap();
    let key = "submissions/c/h/0123456789abcdef/s/pose_edit_1.png.tlock";
    let out = up.upload(job(key, b"late", 600, Duration::from_millis(100))).await;
    assert_eq!(out.status, UploadStatus::Queued);
    let drainer = up.spawn_drain(Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s3 = start_s3(data.path(), addr).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while up.queue_usage().0 > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drainer.abort();
    assert_eq!(up.queue_usage(), (0, 0));
    assert_eq!(get(&endpoint, PUBLIC, key).await, b"late");
    s3.shutdown().await;
}

#[tokio::test]
async fn deadline_and_queue_bounds() {
    let queue = tempfile::tempdir().unwrap();
    // Nothing listens here: every attempt is a connection error.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let clock = Arc::new(AtomicI64::new(now()));
    let c = clock.clone();
    let mut config = anonymous(&endpoint, queue.path());
    config.queue_max_entries = 1;
    let up = Uploader::with_clock(config, Arc::new(move || c.load(Ordering::SeqCst))).unwrap();

    // Reveal already within the margin: one attempt, no queue.
    let out = up
        .upload(UploadJob {
            key: "k/late".into(),
            body: Bytes::from_static(b"x"),
            reveal_timestamp: clock.load(Ordering::SeqCst) + 30,
            answer_by: None,
        })
        .await;
    assert_eq!((out.status, out.attempts), (UploadStatus::Failed, 1), "{out:?}");
    assert!(out.error.unwrap().contains("deadline"));

    // Queued, then the clock passes retry_until: the drain drops it.
    let reveal = clock.load(Ordering::SeqCst) + 600;
    let q = |key: &str| UploadJob {
        key: key.into(),
        body: Bytes::from_static(b"x"),
        reveal_timestamp: reveal,
        answer_by: Some(Instant::now() + Duration::from_millis(50)),
    };
    assert_eq!(up.upload(q("k/one")).await.status, UploadStatus::Queued);
    // The queue holds one entry: the next is refused, and says why.
    let full = up.upload(q("k/two")).await;
    assert_eq!(full.status, UploadStatus::Failed);
    assert!(full.error.unwrap().contains("queue is full"));
    clock.store(reveal - 60, Ordering::SeqCst);
    let report = up.drain().await;
    assert_eq!(report.expired, ["k/one"]);
    assert_eq!(up.queue_usage(), (0, 0));

    // Disabled uploads do nothing.
    let off = Uploader::new(UploadConfig { enabled: false, ..anonymous(&endpoint, queue.path()) }).unwrap();
    let out = off.upload(q("k/three")).await;
    assert_eq!((out.status, out.attempts), (UploadStatus::Failed, 0));
}

#[test]
fn submission_for_null_challenge_signs_sandbox_test() {
    let bob = Hotkey::from_uri("//Bob").unwrap();
    let sub = build_submission(&bob, None, "k".into(), b"png", "a+b", "0123456789abcdef");
    verify_submission(&bob.public(), "sandbox_test", &sha256_hex(b"png"), &sub.signature).unwrap();
    assert_eq!(sub.variation_type, "a+b");
    let json = serde_json::to_value(&sub).unwrap();
    for k in ["s3_key_angle2", "image_hash_angle2", "signature_angle2", "screen_replay_uav"] {
        assert!(json[k].is_null(), "{k}");
    }
}
