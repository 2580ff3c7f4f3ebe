//! The face-image path across the miner and the validator-sim, all in process on loopback:
//! seed PNG (base64) → the miner's classical editor → identity gate → timelock to the target
//! round of a drand-mock → anonymous upload into s3-mock's public bucket → the round is revealed
//! → validator-sim post-validation (download, decrypt, hash/signature/key checks, image checks).
//! A copy-cat miner (another miner's image), a lazy miner (the seed itself) and a broken miner
//! (bytes that are not an image) show the image checks' verdicts.

#[path = "images_services/mod.rs"]
mod services;
use miid_tlock::client::Client;
use services::{GENESIS, PUBLIC};

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use image::{Rgb, RgbImage};

use miid_faces::identity::{FaceEmbedder, StructuralEmbedder, face_box};
use miid_miner::images::{ClassicalEditor, EntryOutcome, ImagePipeline, PipelineConfig};
use miid_miner::upload::{UploadConfig, Uploader, build_submission};
use miid_protocol::body_hash::sha256_hex;
use miid_protocol::s3::{SubmissionKey, path_signature};
use miid_protocol::synapse::{ImageRequest, S3Submission};
use miid_protocol::{Generation, Hotkey};
use miid_validator::postval::{
    BeaconSource, Challenge, ChallengeResults, FetchConfig, ImageChecks, MinerSubmissions, PostValidator,
};

const AK: &str = "AKIDIMAGES";
const SK: &str = "images-secret";
const CID: &str = "challenge_1700000100_5GrwvaEF";

fn portrait(w: u32, h: u32) -> RgbImage {
    let (bx, by, side) = face_box(w, h);
    let (cx, cy, s) = (bx as f32 + side as f32 / 2.0, by as f32 + side as f32 / 2.0, side as f32);
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let face = ((xf - cx) / (0.38 * s)).powi(2) + ((yf - cy) / (0.48 * s)).powi(2) < 1.0;
        let eye = [-0.16f32, 0.16]
            .iter()
            .any(|ox| ((xf - cx - ox * s) / (0.06 * s)).powi(2) + ((yf - cy + 0.08 * s) / (0.03 * s)).powi(2) < 1.0);
        let t = ((x * 31 + y * 17) % 23) as u8;
        let mouth = ((xf - cx) / (0.14 * s)).powi(2) + ((yf - cy - 0.28 * s) / (0.03 * s)).powi(2) < 1.0;
        let hair = yf < cy - 0.3 * s && ((xf - cx) / (0.45 * s)).powi(2) + ((yf - cy) / (0.6 * s)).powi(2) < 1.0;
        if eye {
            Rgb([40, 30, 30])
        } else if mouth {
            Rgb([150, 60, 70])
        } else if hair {
            Rgb([50 + t, 35, 25])
        } else if face {
            Rgb([200 + t, 160, 130])
        } else {
            Rgb([150 + (x % 64) as u8, 170 + t, (120 + y / 4) as u8])
        }
    })
}

fn png(img: &RgbImage) -> Vec<u8> {
    miid_faces::decode::encode_png(img).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classical_images_survive_post_validation_and_cheats_are_flagged() {
    let services::Services { drand: _drand, s3, manual, client, data: _data } =
        services::start(b"images pipeline test beacon key material, 32+ bytes", AK, SK).await;
    let chain = client.chain_key();

    // The miner: anonymous path-style PUTs into the public bucket, as on mainnet (but local).
    let queue = tempfile::tempdir().unwrap();
    let upload = UploadConfig {
        endpoint: Some(s3.endpoint()),
        bucket: PUBLIC.into(),
        path_style: true,
        queue_dir: Some(queue.path().to_path_buf()),
        ..UploadConfig::default()
    };
    let honest = Hotkey::from_uri("//Alice").unwrap();
    let identity: Arc<dyn FaceEmbedder> = Arc::new(StructuralEmbedder);
    let pipeline = ImagePipeline::new(
        Arc::new(ClassicalEditor),
        Some(identity.clone()),
        Uploader::new(upload.clone()).unwrap(),
        chain,
        honest.clone(),
        // The structural stand-in embedder is stricter than a face model on rotations of this
        // flat synthetic portrait; 0.6 is the subnet's "basic pass" (spec 3.6).
        PipelineConfig { identity_threshold: 0.6, ..PipelineConfig::default() },
    );

    let seed = portrait(240, 320);
    let target = 14u64;
    let entries: Vec<_> = [
        ("background_edit", "light"),
        ("background_edit", "far"),
        ("lighting_edit+expression_edit", "medium+light"),
        ("lighting_edit+pose_edit", "far+light"),
        ("pose_edit+expression_edit", "light+medium"),
    ]
    .iter()
    .map(|(t, i)| serde_json::json!({"type": t, "intensity": i, "description": "", "detail": ""}))
    .collect();
    let request: ImageRequest = serde_json::from_value(serde_json::json!({
        "base_image": base64::engine::general_purpose::STANDARD.encode(png(&seed)),
        "image_filename": "a1b2c3d4e5f6_m_doc.png",
        "variation_requests": entries,
        "target_drand_round": target,
        "reveal_timestamp": GENESIS + (target - 1) * 3,
        "challenge_id": CID,
    }))
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let (subs, outcomes) = pipeline.run(&request, Generation::R2, deadline).await;
    assert_eq!(subs.len(), 5, "{outcomes:?}");
    for (i, o) in outcomes.iter().enumerate() {
        match o {
            EntryOutcome::Submitted { index, similarity, .. } => {
                assert_eq!(*index, i);
                assert!(similarity.unwrap() >= 0.6);
            }
            other => panic!("entry {i}: {other:?}"),
        }
    }
    let mut keys: Vec<_> = subs.iter().map(|s| s.s3_key.clone()).collect();
    keys.dedup();
    assert_eq!(keys.len(), 5, "unique keys even for the two background entries");
    assert_eq!(subs[2].variation_type, "lighting_edit+expression_edit");

    // Bad input for the miner: a bomb-sized or garbage seed gives no submissions, no panic.
    let mut bad = request.clone();
    bad.base_image = "not base64!".into();
    let (none, skipped) = pipeline.run(&bad, Generation::R2, deadline).await;
    assert!(none.is_empty() && skipped.len() == 5);

    // Cheaters, uploaded the same way.
    let put = |hotkey: &Hotkey, plaintext: Vec<u8>, n: u64| {
        let (hotkey, upload, chain) = (hotkey.clone(), upload.clone(), chain);
        async move {
            let ps = path_signature(&hotkey, CID);
            let key = SubmissionKey::for_image(
                Some(CID),
                hotkey.ss58(),
                &ps,
                "a1b2c3d4e5f6_m_doc.png",
                "background_edit",
                Generation::R2,
                1_700_000_200 + n,
            )
            .unwrap()
            .render();
            let ct =
                miid_tlock::encrypt(miid_tlock::Format::Mainnet, &chain, target, &plaintext, &mut rand::rng()).unwrap();
            Uploader::new(upload).unwrap().put_once(&key, ct.into()).await.unwrap();
            build_submission(&hotkey, Some(CID), key, &plaintext, "background_edit", &ps)
        }
    };
    let copycat = Hotkey::from_uri("//Bob").unwrap();
    let lazy = Hotkey::from_uri("//Charlie").unwrap();
    let broken = Hotkey::from_uri("//Dave").unwrap();
    let lazy_sub = put(&lazy, png(&seed), 1).await;
    let mut not_image = png(&seed)[..40].to_vec();
    not_image.extend_from_slice(b"garbage after a PNG header");
    let broken_sub = put(&broken, not_image, 2).await;

    // Reveal, then post-validate the honest miner, the lazy one and the broken one.
    manual.set(GENESIS + (target - 1) * 3 + 1);
    let fetch = FetchConfig::private(&s3.endpoint(), PUBLIC, AK, SK);
    let postval =
        PostValidator::new(fetch.clone(), BeaconSource::Drand { client: client.clone(), wait: Duration::from_secs(5) })
            .unwrap()
            .with_image_checks(ImageChecks::from_seed_file(png(&seed), Some(identity.clone())).unwrap());
    let challenge = Challenge {
        challenge_id: Some(CID.into()),
        target_drand_round: target,
        reveal_timestamp: (GENESIS + (target - 1) * 3) as i64,
    };
    let miners = vec![
        MinerSubmissions { hotkey: honest.ss58().to_owned(), submissions: subs.clone() },
        MinerSubmissions { hotkey: lazy.ss58().to_owned(), submissions: vec![lazy_sub] },
        MinerSubmissions { hotkey: broken.ss58().to_owned(), submissions: vec![broken_sub] },
    ];
    let checks = postval.check_all(&challenge, &miners).await;
    assert_eq!(checks.len(), 7);
    for c in &checks[..5] {
        assert!(c.ok, "{c:?}");
        let img = c.image.as_ref().unwrap();
        assert_eq!(img.score_hint, 1, "{img:?}");
        assert!(img.identity_similarity.unwrap() >= 0.4);
        assert!(!img.duplicate_of_seed);
    }
    let lazy_img = checks[5].image.as_ref().unwrap();
    assert!(lazy_img.duplicate_of_seed && lazy_img.score_hint == -1, "{lazy_img:?}");
    let broken_img = checks[6].image.as_ref().unwrap();
    assert!(broken_img.decode_error.is_some() && broken_img.score_hint == 0, "{broken_img:?}");

    // The copy-cat submits the honest miner's third image, now public after the reveal.
    let third = fetch_plain(&postval, &subs[2], &client).await;
    let copy_sub = put(&copycat, third, 3).await;
    let miners = vec![
        MinerSubmissions { hotkey: honest.ss58().to_owned(), submissions: subs.clone() },
        MinerSubmissions { hotkey: copycat.ss58().to_owned(), submissions: vec![copy_sub] },
    ];
    let checks = postval.check_all(&challenge, &miners).await;
    let copy = checks[5].image.as_ref().unwrap();
    assert_eq!(copy.score_hint, -1);
    assert_eq!(copy.duplicate_of, vec![format!("{}#2", honest.ss58())]);
    assert_eq!(checks[2].image.as_ref().unwrap().duplicate_of, vec![format!("{}#0", copycat.ss58())]);

    let results = ChallengeResults::new(&challenge, checks);
    let json = serde_json::to_string(&results).unwrap();
    let back: ChallengeResults = serde_json::from_str(&json).unwrap();
    assert_eq!(back.miners[honest.ss58()].len(), 5);
    assert_eq!(back.miners[copycat.ss58()][0].image.as_ref().unwrap().score_hint, -1);
}

async fn fetch_plain(postval: &PostValidator, sub: &S3Submission, client: &Client) -> Vec<u8> {
    let ct = postval.fetch(&sub.s3_key).await.unwrap();
    let (_, round) = miid_tlock::round_of(&ct).unwrap();
    let beacon = client.wait_for(round, Duration::from_secs(5)).await.unwrap();
    let plain = miid_tlock::decrypt(&ct, &client.chain_key(), &beacon.signature).unwrap();
    assert_eq!(sha256_hex(&plain), sub.image_hash);
    plain
}
