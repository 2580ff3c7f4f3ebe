//! The `s3-mock` binary's contract: first stdout line is the bound address, anonymous PUT into a
//! `--public-write` bucket works, SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn binary_prints_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_s3-mock"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--access-key", "AK", "--secret-key", "SK", "--public-write", "yanez-miid-sn54"])
        .args(["--public-write", "second-bucket"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();

    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let addr: std::net::SocketAddr = first.trim().parse().unwrap_or_else(|_| panic!("first line {first:?}"));
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    for bucket in ["yanez-miid-sn54", "second-bucket"] {
        let resp = reqwest::Client::new()
            .put(format!("http://{addr}/{bucket}/submissions/a/b.png.tlock"))
            .header("Content-Type", "application/octet-stream")
            .body("ciphertext")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let on_disk = std::fs::read(dir.path().join(bucket).join("submissions/a/b.png.tlock")).unwrap();
        assert_eq!(on_disk, b"ciphertext");
    }

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "s3-mock did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn binary_rejects_bad_bucket_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_s3-mock"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--access-key", "AK", "--secret-key", "SK", "--public-write", "Not_A_Bucket"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no address printed on a failed start");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Not_A_Bucket"));
}
