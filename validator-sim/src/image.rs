//! The R1 round's image request (spec validator-round.md 9): base images from a folder, the
//! twelve-entry variation catalogue walked by a persistent cycle, the accessory draws, the drand
//! target round, the challenge id and the image block appended to the query template.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use miid_protocol::drand::Schedule;
use miid_protocol::synapse::{ImageRequest, VariationRequest};
use miid_scoring::rng::PyRandom;

use crate::template::weighted_index;

/// `(type, description, [light, medium, far] details)` in catalogue order (9.2).
pub(crate) const CATALOGUE: &[(&str, &str, [&str; 3])] = &[
    (
        "pose_edit",
        "Change head pose (yaw/pitch/roll) while keeping identity",
        [
            "±15° rotation (slight head tilt or turn)",
            "±30° rotation (clear head turn, profile partially visible)",
            ">±45° rotation (near-profile view, significant angle change)",
        ],
    ),
    (
        "lighting_edit",
        "Modify illumination direction, intensity, or color temperature",
        [
            "Subtle brightness or contrast change, soft shadows",
            "Clear directional light source, noticeable shadows, moderate intensity shift",
            "Strong shadows, dramatic contrast, unusual color temperature (warm/cool cast)",
        ],
    ),
    (
        "expression_edit",
        "Change facial expression while preserving identity",
        [
            "Neutral to slight smile, minor brow movement, relaxed to attentive",
            "Neutral to smile, serious, or mildly surprised expression",
            "Laughing, surprised, concerned, or other pronounced expression",
        ],
    ),
    (
        "background_edit",
        "Change background environment while keeping subject unchanged",
        [
            "Color shift, blur adjustment, or texture change on similar background",
            "Change environment type (office to outdoor, solid color to gradient)",
            "Unusual or contrasting environment, complex scene, dramatic setting",
        ],
    ),
];

const INTENSITIES: [&str; 3] = ["light", "medium", "far"];

/// `(name, weight, description, detail)` of the accessories (9.2).
pub const ACCESSORIES: &[(&str, f64, &str, &str)] = &[
    (
        "religious_head_covering",
        50.0,
        "Add religious head covering",
        "Religious head covering (hijab, turban, kippah, taqiyah, etc.) appropriate to subject",
    ),
    (
        "brim_hat",
        20.0,
        "Add brim hat (not baseball)",
        "Brim hat such as fedora, wide-brim hat, sun hat, or similar (not baseball cap)",
    ),
    ("knit_winter_hat", 20.0, "Add knit or winter hat", "Knit hat, beanie, or winter hat"),
    ("bandana", 5.0, "Add bandana", "Bandana worn on head"),
    ("baseball_cap", 5.0, "Add baseball cap", "Baseball cap or similar sports cap"),
];

/// Catalogue entry `index` (0..12), type major, intensity minor, without accessory.
pub fn catalogue_entry(index: usize) -> VariationRequest {
    let (kind, description, details) = CATALOGUE[index / 3];
    VariationRequest {
        kind: kind.into(),
        intensity: INTENSITIES[index % 3].into(),
        description: description.into(),
        detail: details[index % 3].into(),
    }
}

fn draw_accessory(global: &mut PyRandom) -> usize {
    let weights: Vec<f64> = ACCESSORIES.iter().map(|a| a.1).collect();
    weighted_index(global, &weights)
}

/// The base images of a folder: lowercase `.png`/`.jpg`/`.jpeg` names, sorted by code point (9.1).
pub fn list_images(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".png") || name.ends_with(".jpg") || name.ends_with(".jpeg")
        })
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// What the image step needs from the round.
#[derive(Debug)]
pub struct ImageParams<'a> {
    pub dir: &'a Path,
    /// The persistent cycle position (`global_index`), advanced by this call.
    pub global_index: &'a mut u64,
    pub now: u64,
    pub schedule: Schedule,
    /// Reference: 4320 s (V13).
    pub reveal_delay_s: u64,
    pub validator_ss58: &'a str,
}

/// The image request and the block appended to the query (9.1–9.5); `None` when the folder check
/// fails (missing, empty, unreadable random image) — the round then has no image request.
pub fn build(global: &mut PyRandom, p: ImageParams<'_>) -> Option<(ImageRequest, String)> {
    let images = list_images(p.dir).ok().filter(|v| !v.is_empty())?;
    // The folder check reads one random image (a global draw).
    let probe = global.choice(&images);
    if std::fs::read(probe).is_err() {
        return None;
    }
    let total = images.len() as u64 * 12;
    let current = *p.global_index % total;
    let image_index = (current / 12) as usize;
    let variation_idx = (current % 12) as usize;
    let extra = global.randint(1, 2) as usize;
    let count = (1 + extra).min(12 - variation_idx);
    let mut entries = Vec::with_capacity(count);
    for i in variation_idx..variation_idx + count {
        let mut e = catalogue_entry(i);
        if e.kind == "background_edit" {
            let (_, _, desc, detail) = ACCESSORIES[draw_accessory(global)];
            e.description = format!("{}. {desc}", e.description);
            e.detail = format!("{}. Additionally, include: {detail}", e.detail);
        }
        entries.push(e);
    }
    // The block formatter draws one more accessory, unused (9.3).
    if entries.iter().any(|e| e.kind == "background_edit") {
        draw_accessory(global);
    }
    *p.global_index += count as u64;
    let path = &images[image_index];
    let bytes = std::fs::read(path).ok()?;
    let (target_round, reveal) = p.schedule.target(p.now, p.reveal_delay_s);
    let short: String = p.validator_ss58.chars().take(8).collect();
    let block = image_block(&entries);
    let request = ImageRequest {
        base_image: base64::engine::general_purpose::STANDARD.encode(bytes),
        image_filename: path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned(),
        variation_requests: entries,
        target_drand_round: target_round,
        reveal_timestamp: reveal as i64,
        challenge_id: Some(format!("challenge_{}_{short}", p.now)),
        daily_seed_image: None,
        daily_seed_filename: None,
        real_screen_replay_instructions: None,
    };
    Some((request, block))
}

/// The image block (9.5): begins and ends with a newline.
pub fn image_block(entries: &[VariationRequest]) -> String {
    let mut lines = vec![
        String::new(),
        "[IMAGE VARIATION REQUIREMENTS]".to_owned(),
        "For the face image provided, generate the following variations while preserving identity. All images are Professional passport-style portraits, 3:4 aspect ratio, head-and-shoulders composition from chest up.".to_owned(),
        String::new(),
    ];
    for (i, e) in entries.iter().enumerate() {
        lines.push(format!("{}. {} ({}): {}", i + 1, e.kind, e.intensity, e.detail));
    }
    lines.push(String::new());
    lines.push("IMPORTANT: The subject's face must remain recognizable across all variations.".to_owned());
    lines.push("Each variation should clearly address the specified type and intensity level.".to_owned());
    lines.push(String::new());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(n: usize) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for i in 0..n {
            std::fs::write(d.path().join(format!("img{i}.png")), b"\x89PNG\r\n\x1a\nfake").unwrap();
        }
        std::fs::write(d.path().join("notes.txt"), b"x").unwrap();
        std::fs::write(d.path().join("UPPER.PNG"), b"x").unwrap();
        d
    }

    #[test]
    fn spec_9_4_round_arithmetic_and_challenge_id() {
        let d = dir_with(1);
        let mut idx = 0;
        let (req, _) = build(
            &mut PyRandom::new(1),
            ImageParams {
                dir: d.path(),
                global_index: &mut idx,
                now: 1_767_225_600,
                schedule: Schedule::default(),
                reveal_delay_s: 4320,
                validator_ss58: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            },
        )
        .unwrap();
        assert_eq!((req.target_drand_round, req.reveal_timestamp), (24_808_852, 1_767_229_920));
        assert_eq!(req.challenge_id.as_deref(), Some("challenge_1767225600_5GrwvaEF"));
        assert_eq!(req.image_filename, "img0.png");
    }

    #[test]
    fn the_cycle_covers_each_image_then_wraps() {
        let d = dir_with(2);
        let (mut idx, mut g) = (0u64, PyRandom::new(5));
        let mut seen: Vec<(String, String, String)> = Vec::new();
        for _ in 0..40 {
            let before = idx;
            let (req, block) = build(
                &mut g,
                ImageParams {
                    dir: d.path(),
                    global_index: &mut idx,
                    now: 1_700_000_000,
                    schedule: Schedule::default(),
                    reveal_delay_s: 4320,
                    validator_ss58: "5Grw",
                },
            )
            .unwrap();
            let n = req.variation_requests.len();
            assert!((1..=3).contains(&n));
            assert_eq!(idx - before, n as u64);
            assert!(n >= 2 || (before % 12) == 11, "one entry only at the end of an image");
            assert!(block.starts_with("\n[IMAGE VARIATION REQUIREMENTS]\n") && block.ends_with("level.\n"));
            for v in &req.variation_requests {
                if v.kind == "background_edit" {
                    assert!(v.detail.contains(". Additionally, include: "), "{v:?}");
                }
                seen.push((req.image_filename.clone(), v.kind.clone(), v.intensity.clone()));
            }
        }
        // Both images, all twelve combinations each, in catalogue order (pose first, V10).
        assert_eq!(seen[0].1, "pose_edit");
        for img in ["img0.png", "img1.png"] {
            let combos: std::collections::HashSet<_> =
                seen.iter().filter(|s| s.0 == img).map(|s| (s.1.clone(), s.2.clone())).collect();
            assert_eq!(combos.len(), 12, "{img}");
        }
    }

    #[test]
    fn no_images_no_request() {
        let d = tempfile::tempdir().unwrap();
        let mut idx = 0;
        let params = |idx| ImageParams {
            dir: d.path(),
            global_index: idx,
            now: 0,
            schedule: Schedule::default(),
            reveal_delay_s: 1,
            validator_ss58: "x",
        };
        assert!(build(&mut PyRandom::new(1), params(&mut idx)).is_none());
    }
}
