//! The Forwarder's image part against an in-process s3-mock: an R1 request carrying names and
//! an image request gets both answers; an unsupported or failing entry is left out without
//! sinking the others or the names; without a pipeline the request is answered with no
//! submissions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use image::{Rgb, RgbImage};

use miid_miner::engine::SimpleEngine;
use miid_miner::images::{ClassicalEditor, ImagePipeline, PipelineConfig};
use miid_miner::upload::{UploadConfig, Uploader};
use miid_miner::{Forward, Forwarder};
use miid_protocol::Hotkey;
use miid_protocol::s3::{parse_key, verify_submission};
use miid_protocol::synapse::RequestView;

const PUBLIC: &str = "yanez-miid-sn54";

fn seed_png() -> String {
    let img = RgbImage::from_fn(96, 128, |x, y| {
        let face = (x as i32 - 48).pow(2) + (y as i32 - 60).pow(2) < 900;
        if face { Rgb([200, (150 + x % 20) as u8, 120]) } else { Rgb([(90 + x) as u8, 200, (60 + y) as u8]) }
    });
    base64::engine::general_purpose::STANDARD.encode(miid_faces::decode::encode_png(&img).unwrap())
}

fn request(base_image: String) -> RequestView {
    serde_json::from_value(serde_json::json!({
        "identity": [["John Smith", "1990-05-14", "Springfield, United States"]],
        "query_template": "Generate 5 variations of the name {name}.",
        "image_request": {
            "base_image": base_image,
            "image_filename": "a1b2c3d4e5f6_m_doc.jpeg",
            "variation_requests": [
                {"type": "pose_edit", "intensity": "light"},
                {"type": "screen_replay", "intensity": "standard"},
                {"type": "pose_edit", "intensity": "medium"},
                {"type": "lighting_edit", "intensity": "far"}
            ],
            "target_drand_round": 1000,
            "reveal_timestamp": 4_000_000_000i64,
            "challenge_id": null
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn forwarder_answers_names_and_images_and_skips_bad_entries() {
    let data = tempfile::tempdir().unwrap();
    let s3 = s3_mock::bind(
        "127.0.0.1:0",
        s3_mock::Config {
            data_dir: data.path().to_path_buf(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
            public_write: vec![PUBLIC.into()],
            buckets: vec![],
            domain: None,
        },
    )
    .await
    .unwrap();
    let queue = tempfile::tempdir().unwrap();
    let upload = UploadConfig {
        endpoint: Some(s3.endpoint()),
        bucket: PUBLIC.into(),
        path_style: true,
        queue_dir: Some(queue.path().to_path_buf()),
        ..UploadConfig::default()
    };
    let hotkey = Hotkey::from_uri("//Alice").unwrap();
    let pipeline = ImagePipeline::new(
        Arc::new(ClassicalEditor),
        Some(Arc::new(miid_faces::StructuralEmbedder)),
        Uploader::new(upload).unwrap(),
        miid_tlock::ChainKey::quicknet(),
        hotkey.clone(),
        PipelineConfig { identity_threshold: 0.5, ..PipelineConfig::default() },
    );
    let forwarder = Forwarder::new(Box::new(SimpleEngine)).with_images(Arc::new(pipeline));
    let out = forwarder.forward(&request(seed_png()), Instant::now() + Duration::from_secs(60)).await;
    assert_eq!(out.variations.as_ref().unwrap()["John Smith"].rows().len(), 5, "names answered too");
    let subs = out.s3_submissions;
    assert_eq!(
        subs.iter().map(|s| s.variation_type.as_str()).collect::<Vec<_>>(),
        ["pose_edit", "pose_edit", "lighting_edit"]
    );
    for s in &subs {
        let k = parse_key(&s.s3_key).unwrap();
        assert_eq!(k.challenge_id, "sandbox_test");
        assert_eq!(k.seed_image_name, "a1b2c3d4e5f6_m_doc");
        verify_submission(&hotkey.public(), "sandbox_test", &s.image_hash, &s.signature).unwrap();
    }
    assert_ne!(subs[0].s3_key, subs[1].s3_key, "same type, unique keys");
    assert_ne!(subs[0].image_hash, subs[1].image_hash, "different intensities, different images");

    // A corrupt seed: no submissions, names still answered.
    let out = forwarder.forward(&request("iVBORw0KGgo=".into()), Instant::now() + Duration::from_secs(60)).await;
    assert!(out.s3_submissions.is_empty() && out.variations.is_some());

    // A passed deadline: nothing is started.
    let out = forwarder.forward(&request(seed_png()), Instant::now() - Duration::from_millis(1)).await;
    assert!(out.s3_submissions.is_empty());

    // No pipeline configured: logged, answered with [].
    let plain = Forwarder::new(Box::new(SimpleEngine));
    assert!(
        plain.forward(&request(seed_png()), Instant::now() + Duration::from_secs(5)).await.s3_submissions.is_empty()
    );
}
