//! Post-validation over loopback: miners' timelocked images in an in-process s3-mock (uploaded
//! the mainnet way, anonymous PUT into the public-write bucket), a drand-mock beacon with a manual
//! clock, and the validator-sim downloading (SigV4 — s3-mock, like the real bucket, refuses
//! anonymous reads), waiting for the round, decrypting and checking each submission.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drand_mock::{BeaconKey, Clock, DrandMock, MockConfig, RunningMock};
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{SubmissionKey, path_signature, sign_submission};
use miid_protocol::synapse::S3Submission;
use miid_protocol::{Generation, Hotkey};
use miid_tlock::client::Client;
use miid_tlock::{ChainKey, Format};
use miid_validator::postval::{
    BeaconSource, Challenge, Failure, FetchConfig, MinerSubmissions, Part, PostValidator, SubmissionCheck,
};

const AK: &str = "AKIDVALIDATOR";
const SK: &str = "validator-secret";
const PUBLIC: &str = "yanez-miid-sn54";
const CID: &str = "challenge_1754000000_5GrwvaEF";
const GENESIS: u64 = 1_700_000_001;

async fn beacon() -> RunningMock {
    let (clock, _manual) = Clock::manual(GENESIS + 30); // round 11
    DrandMock::new(MockConfig {
        key: Some(BeaconKey::from_ikm(b"validator-sim post-validation test beacon key material")),
        period: 3,
        genesis: Some(GENESIS),
        clock,
        next_round_wait: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .unwrap()
    .spawn("127.0.0.1:0")
    .await
    .unwrap()
}

async fn s3(dir: &std::path::Path) -> s3_mock::S3Mock {
    s3_mock::bind(
        "127.0.0.1:0",
        s3_mock::Config {
            data_dir: dir.to_path_buf(),
            access_key: AK.into(),
            secret_key: SK.into(),
            public_write: vec![PUBLIC.into()],
            buckets: vec![],
            domain: None,
        },
    )
    .await
    .unwrap()
}

/// A tiny stand-in PNG: signature, IHDR chunk (1×1 RGBA), then a tag to make images distinct.
fn png(tag: &str) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[0, 0, 0, 13]);
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(tag.as_bytes());
    v
}

/// What the miner does on mainnet: anonymous PUT, `Content-Type: application/octet-stream`.
async fn put(server: &s3_mock::S3Mock, key: &str, body: Vec<u8>) {
    let resp = reqwest::Client::new()
        .put(format!("{}/{PUBLIC}/{key}", server.endpoint()))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
}

struct Miner {
    key: Hotkey,
    path_sig: String,
    n: u64,
}

impl Miner {
    fn new(uri: &str) -> Self {
        let key = Hotkey::from_uri(uri).unwrap();
        let path_sig = path_signature(&key, CID);
        Miner { key, path_sig, n: 0 }
    }

    fn s3_key(&mut self, variation_type: &str) -> String {
        self.n += 1;
        SubmissionKey::for_image(
            Some(CID),
            self.key.ss58(),
            &self.path_sig,
            "a1b2c3d4e5f6_m_doc.png",
            variation_type,
            Generation::R2,
            1_754_000_000 + self.n,
        )
        .unwrap()
        .render()
    }

    /// An honest submission for `plaintext` at `key`.
    fn submission(&self, key: &str, plaintext: &[u8], variation_type: &str) -> S3Submission {
        let image_hash = sha256_hex(plaintext);
        S3Submission {
            s3_key: key.to_owned(),
            signature: sign_submission(&self.key, CID, &image_hash),
            image_hash,
            variation_type: variation_type.to_owned(),
            path_signature: self.path_sig.clone(),
            s3_key_angle2: None,
            image_hash_angle2: None,
            signature_angle2: None,
            screen_replay_uav: None,
        }
    }
}

fn reasons(c: &SubmissionCheck) -> Vec<String> {
    c.failures.iter().map(|f| serde_json::to_value(f).unwrap()["reason"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn post_validation_flags_each_kind_of_bad_submission() {
    let drand = beacon().await;
    let data = tempfile::tempdir().unwrap();
    let server = s3(data.path()).await;
    let client = Arc::new(
        Client::connect(&drand.url(), Some(drand.mock().chain_hash()))
            .await
            .unwrap()
            .with_poll_interval(Duration::from_millis(25)),
    );
    let chain = client.chain_key();
    let current = drand.mock().current_round();
    let target = current + 3;
    let enc =
        |round: u64, pt: &[u8]| miid_tlock::encrypt(Format::Mainnet, &chain, round, pt, &mut rand::rng()).unwrap();

    let (mut bob, mut charlie, mut dave) = (Miner::new("//Bob"), Miner::new("//Charlie"), Miner::new("//Dave"));
    let mut bob_subs = Vec::new();
    let mut charlie_subs = Vec::new();
    let mut dave_subs = Vec::new();

    // Bob 0: honest.
    let (k, pt) = (bob.s3_key("background_edit"), png("bob-0"));
    put(&server, &k, enc(target, &pt)).await;
    bob_subs.push(bob.submission(&k, &pt, "background_edit"));
    let bob_key0 = k;
    // Bob 1: honest, but Charlie later overwrites the object at Bob's path.
    let (k, pt) = (bob.s3_key("pose_edit"), png("bob-1"));
    put(&server, &k, enc(target, &pt)).await;
    bob_subs.push(bob.submission(&k, &pt, "pose_edit"));
    put(&server, &k, enc(target, &png("charlie-overwrite"))).await;
    // Bob 2: honest, locked to target − 1 as bittensor_drand usually does (spec 4.3).
    let (k, pt) = (bob.s3_key("lighting_edit+expression_edit"), png("bob-2"));
    put(&server, &k, enc(target - 1, &pt)).await;
    bob_subs.push(bob.submission(&k, &pt, "lighting_edit+expression_edit"));

    // Charlie 0: claims Bob's object (key names Bob's hotkey).
    let mut claim = charlie.submission(&bob_key0, &png("bob-0"), "background_edit");
    claim.path_signature = bob.path_sig.clone();
    charlie_subs.push(claim);
    // Charlie 1: own object, but the signature covers another hash.
    let (k, pt) = (charlie.s3_key("pose_edit"), png("charlie-1"));
    put(&server, &k, enc(target, &pt)).await;
    let mut forged = charlie.submission(&k, &pt, "pose_edit");
    forged.signature = sign_submission(&charlie.key, CID, &sha256_hex(b"something else"));
    charlie_subs.push(forged);

    // Dave 0: reported path_signature is not the one in the key.
    let (k, pt) = (dave.s3_key("pose_edit"), png("dave-0"));
    put(&server, &k, enc(target, &pt)).await;
    let mut wrong_ps = dave.submission(&k, &pt, "pose_edit");
    wrong_ps.path_signature = "ffffffffffffffff".into();
    dave_subs.push(wrong_ps);
    // Dave 1: never uploaded (quirk Q7: the reference reports failed uploads).
    let k = dave.s3_key("pose_edit");
    dave_subs.push(dave.submission(&k, &png("dave-1"), "pose_edit"));
    // Dave 2: decrypts, hash and signature fine, but not an image.
    let (k, pt) = (dave.s3_key("pose_edit"), b"just some text".to_vec());
    put(&server, &k, enc(target, &pt)).await;
    dave_subs.push(dave.submission(&k, &pt, "pose_edit"));
    // Dave 3: malformed key.
    dave_subs.push(dave.submission("uploads/dave.png", &png("dave-3"), "pose_edit"));
    // Dave 4: raw PNG uploaded unencrypted (R1 practice).
    let (k, pt) = (dave.s3_key("pose_edit"), png("dave-4"));
    put(&server, &k, pt.clone()).await;
    dave_subs.push(dave.submission(&k, &pt, "pose_edit"));
    // Dave 5: locked to a round far beyond the reveal.
    let (k, pt) = (dave.s3_key("pose_edit"), png("dave-5"));
    put(&server, &k, enc(target + 100, &pt)).await;
    dave_subs.push(dave.submission(&k, &pt, "pose_edit"));

    let miners = vec![
        MinerSubmissions { hotkey: bob.key.ss58().to_owned(), submissions: bob_subs },
        MinerSubmissions { hotkey: charlie.key.ss58().to_owned(), submissions: charlie_subs },
        MinerSubmissions { hotkey: dave.key.ss58().to_owned(), submissions: dave_subs },
    ];
    let challenge = Challenge {
        challenge_id: Some(CID.into()),
        target_drand_round: target,
        reveal_timestamp: drand.mock().schedule().time_of(target) as i64,
    };
    let fetch = FetchConfig::private(&server.endpoint(), PUBLIC, AK, SK);
    let pv = PostValidator::new(
        fetch.clone(),
        BeaconSource::Drand { client: client.clone(), wait: Duration::from_millis(300) },
    )
    .unwrap();

    // Before the reveal: nothing decrypts; the bounded wait is shared per round.
    let started = Instant::now();
    let early = pv.check_all(&challenge, &miners).await;
    assert!(started.elapsed() < Duration::from_secs(5), "waits overran: {:?}", started.elapsed());
    assert_eq!(early.len(), 11);
    assert_eq!(reasons(&early[0]), ["not_yet_revealed"], "{:?}", early[0]);
    assert!(matches!(early[0].failures[0], Failure::NotYetRevealed { round, .. } if round == target));

    // The reveal: the clock reaches the target round.
    drand.advance_rounds(target - current);
    let results = pv.check_all(&challenge, &miners).await;
    let summary: Vec<(String, usize, Vec<String>)> =
        results.iter().map(|c| (c.miner_hotkey.clone(), c.index, reasons(c))).collect();
    let expect = |who: &Miner, i: usize, r: &[&str]| {
        (who.key.ss58().to_owned(), i, r.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(
        summary,
        vec![
            expect(&bob, 0, &[]),
            expect(&bob, 1, &["hash_mismatch"]),
            expect(&bob, 2, &[]),
            expect(&charlie, 0, &["key_wrong_hotkey"]),
            expect(&charlie, 1, &["bad_signature"]),
            expect(&dave, 0, &["key_wrong_path_signature"]),
            expect(&dave, 1, &["missing"]),
            expect(&dave, 2, &["not_an_image"]),
            expect(&dave, 3, &["malformed_key"]),
            expect(&dave, 4, &["decrypt_failed"]),
            expect(&dave, 5, &["not_yet_revealed"]),
        ]
    );
    assert!(results[0].ok && results[2].ok);
    assert_eq!(results[0].ciphertext_round, Some(target));
    assert_eq!(results[2].ciphertext_round, Some(target - 1));
    assert_eq!(results[0].plaintext_bytes, Some(png("bob-0").len()));
    assert!(results.iter().all(|c| c.part == Part::Primary));
    // The report serialises, with the reasons tagged.
    let json = serde_json::to_string(&results).unwrap();
    assert!(json.contains(r#""reason":"hash_mismatch""#), "{json}");

    // Signatures provided instead of a beacon endpoint.
    let sig: [u8; 48] = hex::decode(drand.mock().beacon_unchecked(target).signature).unwrap().try_into().unwrap();
    let pv_sigs = PostValidator::new(
        fetch.clone(),
        BeaconSource::Signatures { chain, signatures: HashMap::from([(target, sig)]) },
    )
    .unwrap();
    let bob_only = pv_sigs.check_miner(&challenge, &miners[0]).await;
    assert!(bob_only[0].ok, "{:?}", bob_only[0]);
    assert_eq!(reasons(&bob_only[2]), ["not_yet_revealed"], "no signature provided for target − 1");

    // Reading with a wrong secret, or anonymously, is refused by S3 (403) and reported as such.
    let bad = PostValidator::new(
        FetchConfig::private(&server.endpoint(), PUBLIC, AK, "wrong"),
        BeaconSource::Signatures { chain: ChainKey { ..chain }, signatures: HashMap::new() },
    )
    .unwrap();
    let r = bad.check_miner(&challenge, &miners[0]).await;
    assert!(
        matches!(&r[0].failures[..], [Failure::FetchError { detail }] if detail.contains("403") && detail.contains("SignatureDoesNotMatch")),
        "{:?}",
        r[0]
    );
    let anon = PostValidator::new(
        FetchConfig { endpoint: Some(server.endpoint()), path_style: true, ..FetchConfig::default() },
        BeaconSource::Signatures { chain, signatures: HashMap::new() },
    )
    .unwrap();
    let r = anon.check_miner(&challenge, &miners[0]).await;
    assert!(
        matches!(&r[0].failures[..], [Failure::FetchError { detail }] if detail.contains("403 AccessDenied")),
        "{:?}",
        r[0]
    );

    server.shutdown().await;
    drand.shutdown().await;
}

#[tokio::test]
async fn screen_replay_angle2_is_checked_as_its_own_object() {
    let drand = beacon().await;
    let data = tempfile::tempdir().unwrap();
    let server = s3(data.path()).await;
    let chain = ChainKey { public_key: drand.mock().public_key(), chain_hash: drand.mock().chain_hash() };
    let round = drand.mock().current_round();
    let mut bob = Miner::new("//Bob");
    let (k1, p1) = (bob.s3_key("screen_replay"), png("angle-1"));
    let (k2, p2) = (bob.s3_key("screen_replay_angle2"), png("angle-2"));
    put(&server, &k1, miid_tlock::encrypt(Format::Mainnet, &chain, round, &p1, &mut rand::rng()).unwrap()).await;
    // Angle 2 is reported but never uploaded.
    let mut sub = bob.submission(&k1, &p1, "screen_replay");
    sub.s3_key_angle2 = Some(k2);
    sub.image_hash_angle2 = Some(sha256_hex(&p2));
    sub.signature_angle2 = Some(sign_submission(&bob.key, CID, &sha256_hex(&p2)));
    let sig: [u8; 48] = hex::decode(drand.mock().beacon_unchecked(round).signature).unwrap().try_into().unwrap();
    let pv = PostValidator::new(
        FetchConfig::private(&server.endpoint(), PUBLIC, AK, SK),
        BeaconSource::Signatures { chain, signatures: HashMap::from([(round, sig)]) },
    )
    .unwrap();
    let challenge = Challenge { challenge_id: Some(CID.into()), target_drand_round: round, reveal_timestamp: 0 };
    let r =
        pv.check_miner(&challenge, &MinerSubmissions { hotkey: bob.key.ss58().into(), submissions: vec![sub] }).await;
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].part, r[0].ok), (Part::Primary, true), "{:?}", r[0]);
    assert_eq!((r[1].part, reasons(&r[1])), (Part::Angle2, vec!["missing".to_string()]));
    server.shutdown().await;
    drand.shutdown().await;
}
