//! The diffusion editor's whole path on CPU with a tiny random-weight Stable Diffusion built
//! here (VAE, UNet and DDIM as in SD 1.5, shrunk; a seeded stand-in text encoder, because
//! candle's CLIP config cannot be shrunk — its fields are private — and a full-size random CLIP
//! is too slow for a debug test): seed → VAE encode → noise at the intensity's strength → UNet
//! denoising → decode → identity check → timelock → upload to s3-mock → reveal by drand-mock →
//! validator-sim post-validation.

#[path = "images_services/mod.rs"]
mod services;
use services::{GENESIS, PUBLIC};

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::{ddim, unet_2d, vae};
use image::{Rgb, RgbImage};

use miid_faces::identity::{FaceEmbedder, StructuralEmbedder};
use miid_miner::images::{
    DiffusionEditor, DiffusionSettings, EditSpec, EntryOutcome, ImageEditor, ImagePipeline, PipelineConfig, TextEncoder,
};
use miid_miner::upload::{UploadConfig, Uploader};
use miid_protocol::synapse::ImageRequest;
use miid_protocol::{Generation, Hotkey};
use miid_validator::postval::{BeaconSource, Challenge, FetchConfig, ImageChecks, MinerSubmissions, PostValidator};

const AK: &str = "AKIDDIFF";
const SK: &str = "diffusion-secret";
const CID: &str = "challenge_1700000100_5FHneW46";
const CROSS_DIM: usize = 16;

/// A seeded stand-in for CLIP: `[1, 8, 16]` embeddings that depend on the prompt's bytes.
struct HashText;

impl TextEncoder for HashText {
    fn encode(&self, prompt: &str) -> candle_core::Result<Tensor> {
        let mut v = Vec::with_capacity(8 * CROSS_DIM);
        let mut h: u32 = 2_166_136_261;
        for i in 0..8 * CROSS_DIM {
            for b in prompt.bytes().chain([i as u8]) {
                h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
            }
            v.push((h % 2000) as f32 / 1000.0 - 1.0);
        }
        Tensor::from_vec(v, (1, 8, CROSS_DIM), &Device::Cpu)
    }
}

fn tiny_editor() -> DiffusionEditor {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let vae = vae::AutoEncoderKL::new(
        vb.pp("vae"),
        3,
        3,
        vae::AutoEncoderKLConfig {
            block_out_channels: vec![8, 16],
            layers_per_block: 1,
            latent_channels: 4,
            norm_num_groups: 4,
            use_quant_conv: true,
            use_post_quant_conv: true,
        },
    )
    .unwrap();
    let bc = |out_channels, use_cross_attn, attention_head_dim| unet_2d::BlockConfig {
        out_channels,
        use_cross_attn,
        attention_head_dim,
    };
    let unet = unet_2d::UNet2DConditionModel::new(
        vb.pp("unet"),
        4,
        4,
        false,
        unet_2d::UNet2DConditionModelConfig {
            blocks: vec![bc(32, Some(1), 8), bc(64, None, 8)],
            layers_per_block: 1,
            norm_num_groups: 32,
            cross_attention_dim: CROSS_DIM,
            ..Default::default()
        },
    )
    .unwrap();
    let scheduler = Arc::new(ddim::DDIMSchedulerConfig::default());
    DiffusionEditor::new(
        vae,
        unet,
        Box::new(HashText),
        scheduler,
        DiffusionSettings { size: 32, steps: 4, guidance: 3.5 },
        Device::Cpu,
    )
}

fn portrait() -> RgbImage {
    RgbImage::from_fn(48, 64, |x, y| {
        let face = (x as i32 - 24).pow(2) * 2 + (y as i32 - 30).pow(2) < 300;
        if face { Rgb([210, 160, 130]) } else { Rgb([(100 + x * 2) as u8, 180, (90 + y) as u8]) }
    })
}

#[test]
fn tiny_diffusion_edit_keeps_size_and_changes_pixels() {
    let ed = tiny_editor();
    let seed = portrait();
    let spec = |intensity: &str| {
        let vr = serde_json::from_value(serde_json::json!({"type": "lighting_edit", "intensity": intensity})).unwrap();
        EditSpec::from_request(&vr, 5).unwrap()
    };
    let out = ed.edit(&seed, &spec("light")).unwrap();
    assert_eq!(out.dimensions(), seed.dimensions(), "resized back to the seed's size");
    assert_ne!(out, seed);
    assert!(ed.edit(&RgbImage::new(4, 4), &spec("far")).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_diffusion_whole_path_to_post_validation() {
    let services::Services { drand: _drand, s3, manual, client, data: _data } =
        services::start(b"diffusion whole-path test beacon key material", AK, SK).await;
    let queue = tempfile::tempdir().unwrap();
    let upload = UploadConfig {
        endpoint: Some(s3.endpoint()),
        bucket: PUBLIC.into(),
        path_style: true,
        queue_dir: Some(queue.path().to_path_buf()),
        ..UploadConfig::default()
    };
    let miner = Hotkey::from_uri("//Bob").unwrap();
    let identity: Arc<dyn FaceEmbedder> = Arc::new(StructuralEmbedder);
    let pipeline = ImagePipeline::new(
        Arc::new(tiny_editor()),
        Some(identity.clone()),
        Uploader::new(upload).unwrap(),
        client.chain_key(),
        miner.clone(),
        // Random weights produce noise, not a face: the gate is opened (threshold 0) so the
        // entries travel the rest of the path; the similarity is still computed and reported.
        PipelineConfig { identity_threshold: 0.0, ..PipelineConfig::default() },
    );
    let seed = portrait();
    let target = 13u64;
    let request: ImageRequest = serde_json::from_value(serde_json::json!({
        "base_image": base64::engine::general_purpose::STANDARD.encode(miid_faces::decode::encode_png(&seed).unwrap()),
        "image_filename": "0a1b2c3d4e5f_f_doc.png",
        "variation_requests": [
            {"type": "background_edit", "intensity": "light", "description": "Change the background", "detail": "wall colour shift"},
            {"type": "lighting_edit+pose_edit", "intensity": "far+medium"},
        ],
        "target_drand_round": target,
        "reveal_timestamp": GENESIS + (target - 1) * 3,
        "challenge_id": CID,
    }))
    .unwrap();
    let (subs, outcomes) =
        pipeline.run(&request, Generation::R2, tokio::time::Instant::now() + Duration::from_secs(300)).await;
    assert_eq!(subs.len(), 2, "{outcomes:?}");
    for o in &outcomes {
        assert!(matches!(o, EntryOutcome::Submitted { similarity: Some(_), .. }), "{o:?}");
    }

    manual.set(GENESIS + (target - 1) * 3 + 1);
    let postval = PostValidator::new(
        FetchConfig::private(&s3.endpoint(), PUBLIC, AK, SK),
        BeaconSource::Drand { client: client.clone(), wait: Duration::from_secs(5) },
    )
    .unwrap()
    .with_image_checks(ImageChecks::new(seed.clone(), Some(identity)));
    let challenge = Challenge {
        challenge_id: Some(CID.into()),
        target_drand_round: target,
        reveal_timestamp: (GENESIS + (target - 1) * 3) as i64,
    };
    let checks =
        postval.check_all(&challenge, &[MinerSubmissions { hotkey: miner.ss58().to_owned(), submissions: subs }]).await;
    assert_eq!(checks.len(), 2);
    for c in &checks {
        assert!(c.ok, "{c:?}");
        let img = c.image.as_ref().unwrap();
        assert_eq!((img.width, img.height), (Some(48), Some(64)));
        assert!(img.decode_error.is_none() && !img.duplicate_of_seed);
        let sim = img.identity_similarity.unwrap();
        assert_eq!(img.score_hint, if sim < 0.4 { 0 } else { 1 }, "{img:?}");
    }
}
