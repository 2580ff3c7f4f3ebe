//! Both formats against an in-process drand-mock: encrypt to round r, fail before r (no beacon;
//! the client's bounded wait times out) and with other rounds' signatures, succeed after the
//! clock is fast-forwarded past r. Also: the client refuses beacons that do not verify.

mod common;

use std::time::{Duration, Instant};

use drand_mock::{BeaconKey, Clock, DrandMock, MockConfig, RunningMock};
use miid_tlock::client::{Client, ClientError};
use miid_tlock::{ChainKey, Error, Format, decrypt, encrypt, round_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GENESIS: u64 = 1_700_000_001;

async fn start_mock(ikm: &[u8]) -> RunningMock {
    let (clock, _m) = Clock::manual(GENESIS + 30); // round 11
    DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(ikm)),
        period: 3,
        genesis: Some(GENESIS),
        clock,
        next_round_wait: Some(Duration::from_millis(200)),
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap()
}

async fn client_for(m: &RunningMock) -> Client {
    Client::connect(&m.url(), Some(m.mock().chain_hash())).await.unwrap().with_poll_interval(Duration::from_millis(25))
}

#[tokio::test]
async fn round_trip_through_the_beacon() {
    let m = start_mock(b"miid-tlock mock round trip, 32+ bytes of key material").await;
    let client = client_for(&m).await;
    let key = client.chain_key();
    assert_eq!(key, ChainKey { public_key: m.mock().public_key(), chain_hash: m.mock().chain_hash() });
    assert_eq!(client.info().period, 3);
    assert_eq!(client.info().genesis_time, GENESIS as i64);

    let mut rng = rand::rng();
    for format in [Format::Mainnet, Format::Age { armor: false }, Format::Age { armor: true }] {
        let current = m.mock().current_round();
        let r = current + 5;
        let pt = format!("image for round {r} in {format}").into_bytes();
        let ct = encrypt(format, &key, r, &pt, &mut rng).unwrap();
        assert_eq!(round_of(&ct).unwrap(), (format, r));

        // Before r: no beacon, and the bounded wait gives up on time.
        assert_eq!(client.beacon(r).await.unwrap(), None);
        let started = Instant::now();
        let err = client.decrypt(&ct, Duration::from_millis(300)).await.unwrap_err();
        assert!(matches!(err, ClientError::Timeout { round, .. } if round == r), "{format}: {err}");
        assert!(started.elapsed() < Duration::from_secs(5), "wait overran its deadline: {:?}", started.elapsed());

        // Other rounds' signatures, published (latest) or not (r + 1), fail with a clear error.
        let latest = client.latest().await.unwrap();
        assert_eq!(latest.round, current);
        assert_eq!(decrypt(&ct, &key, &latest.signature), Err(Error::WrongSignature { round: r }));
        let next = m.mock().beacon_unchecked(r + 1);
        let next_sig: [u8; 48] = hex::decode(&next.signature).unwrap().try_into().unwrap();
        assert_eq!(decrypt(&ct, &key, &next_sig), Err(Error::WrongSignature { round: r }));

        // Fast-forward to r - 1: still locked; then to r: opens.
        m.advance_rounds(r - 1 - current);
        assert!(matches!(client.decrypt(&ct, Duration::from_millis(100)).await, Err(ClientError::Timeout { .. })));
        assert_eq!(m.advance_rounds(1), r);
        let beacon = client.wait_for(r, Duration::from_secs(5)).await.unwrap();
        assert_eq!(beacon.round, r);
        assert_eq!(decrypt(&ct, &key, &beacon.signature).unwrap(), pt);
        assert_eq!(client.decrypt(&ct, Duration::from_secs(5)).await.unwrap(), pt, "{format}");

        // Past r it still opens (rounds are permanent).
        m.advance_rounds(3);
        assert_eq!(client.decrypt(&ct, Duration::from_secs(5)).await.unwrap(), pt);
    }
}

#[tokio::test]
async fn waiting_client_sees_the_round_arrive() {
    let m = start_mock(b"miid-tlock mock waiting client, 32+ bytes of material").await;
    let client = client_for(&m).await;
    let r = m.mock().current_round() + 3;
    let ct = encrypt(Format::Mainnet, &client.chain_key(), r, b"late", &mut rand::rng()).unwrap();
    let waiter = {
        let client = client.clone();
        let ct = ct.clone();
        tokio::spawn(async move { client.decrypt(&ct, Duration::from_secs(20)).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!waiter.is_finished());
    m.advance_rounds(3);
    let pt = tokio::time::timeout(Duration::from_secs(10), waiter).await.unwrap().unwrap().unwrap();
    assert_eq!(pt, b"late");
}

#[tokio::test]
async fn pinned_chain_must_match() {
    let m = start_mock(b"miid-tlock mock pinned chain check, 32+ bytes ikm").await;
    // quicknet's hash is not this beacon: drand answers 404 for unknown chains.
    let err = Client::connect(&m.url(), Some(miid_tlock::QUICKNET_CHAIN_HASH)).await.unwrap_err();
    assert!(matches!(err, ClientError::Status { status: 404, .. }), "{err}");
    // Unpinned: the default chain, whose hash is then used for every request.
    let c = Client::connect(&format!("{}/", m.url()), None).await.unwrap();
    assert_eq!(c.info().hash, m.mock().chain_hash());
    // An age file for another chain is refused before waiting.
    let other = ChainKey { chain_hash: [9; 32], ..c.chain_key() };
    let ct = encrypt(Format::Age { armor: false }, &other, 5, b"x", &mut rand::rng()).unwrap();
    assert!(matches!(
        c.decrypt(&ct, Duration::from_secs(30)).await,
        Err(ClientError::Tlock(Error::ChainMismatch { .. }))
    ));
}

/// A minimal HTTP/1.1 server: `/…/info` from beacon A, `/…/public/{r}` from beacon B, so every
/// beacon it serves is a well-formed drand answer signed by the wrong key.
async fn forging_server(info_body: String, wrong: BeaconKey) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let info_body = info_body.clone();
            let wrong = wrong.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = if path.ends_with("/info") {
                    info_body
                } else {
                    let r: u64 = path.rsplit('/').next().unwrap().parse().unwrap_or(1);
                    serde_json::to_string(&wrong.beacon(r)).unwrap()
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn forged_beacons_are_refused() {
    let m = start_mock(b"miid-tlock mock genuine beacon key, 32+ bytes ikm").await;
    let info_body = reqwest::get(format!("{}/info", m.url())).await.unwrap().text().await.unwrap();
    let url = forging_server(info_body, BeaconKey::from_ikm(b"an impostor's beacon key, 32+ bytes of ikm")).await;
    let client = Client::connect(&url, Some(m.mock().chain_hash())).await.unwrap();
    for result in [
        client.latest().await.map(|_| ()),
        client.beacon(7).await.map(|_| ()),
        client.wait_for(7, Duration::from_secs(2)).await.map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err, ClientError::BadBeacon { .. }), "{err}");
        assert!(err.to_string().contains("does not verify"), "{err}");
    }
}
