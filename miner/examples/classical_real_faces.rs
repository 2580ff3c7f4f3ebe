//! Opt-in figures for the classical editor on real portraits (run by `just test-real-faces`):
//! for every portrait in FACES_DIR and every catalogue type × intensity, the edit's wall time,
//! its mean-brightness change and its identity similarity to the seed under a real
//! face-embedding MODEL (MobileFaceNet `mobilefacenet.json` or an IResNet `.safetensors`).
//!
//! Usage: `classical_real_faces MODEL FACES_DIR`.

use std::path::PathBuf;
use std::time::Instant;

use miid_faces::{DecodeLimits, decode, similarity};
use miid_miner::images::{ClassicalEditor, EditSpec, ImageEditor};

fn luma(img: &image::RgbImage) -> f64 {
    img.pixels().map(|p| 0.299 * f64::from(p.0[0]) + 0.587 * f64::from(p.0[1]) + 0.114 * f64::from(p.0[2])).sum::<f64>()
        / f64::from(img.width() * img.height())
}

/// One table row: name, identity similarities, brightness changes (%), edit times (ms).
type Row = (String, Vec<f32>, Vec<f64>, Vec<f64>);

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(dir)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: classical_real_faces MODEL FACES_DIR");
    };
    let model = miid_faces::load_embedder(&PathBuf::from(model), None)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_doc.png")))
        .collect();
    files.sort();
    let editor = ClassicalEditor;
    println!("editor {} / identity model {}", editor.name(), model.name());
    let mut rows: Vec<Row> = Vec::new();
    for kind in ["lighting_edit", "background_edit", "pose_edit", "expression_edit"] {
        for intensity in ["light", "medium", "far"] {
            rows.push((format!("{kind} {intensity}"), Vec::new(), Vec::new(), Vec::new()));
        }
    }
    for f in &files {
        let seed = decode::decode_rgb(&std::fs::read(f)?, &DecodeLimits::default())?;
        let base = model.embed(&seed)?;
        for (i, row) in rows.iter_mut().enumerate() {
            let (kind, intensity) = row.0.split_once(' ').unwrap();
            let vr = serde_json::from_value(serde_json::json!({"type": kind, "intensity": intensity}))?;
            let spec = EditSpec::from_request(&vr, 7 + i as u64)?;
            let t = Instant::now();
            let out = editor.edit(&seed, &spec)?;
            row.3.push(t.elapsed().as_secs_f64() * 1000.0);
            row.1.push(similarity(&base, &model.embed(&out)?));
            row.2.push((luma(&out) - luma(&seed)) / luma(&seed) * 100.0);
        }
    }
    println!("{:<26} {:>9} {:>9} {:>13} {:>10}", "edit", "sim min", "sim mean", "brightness %", "edit ms");
    for (name, sims, bright, ms) in &rows {
        let n = sims.len() as f32;
        println!(
            "{name:<26} {:>9.3} {:>9.3} {:>+13.1} {:>10.0}",
            sims.iter().cloned().fold(f32::MAX, f32::min),
            sims.iter().sum::<f32>() / n,
            bright.iter().sum::<f64>() / f64::from(n),
            ms.iter().sum::<f64>() / f64::from(n)
        );
    }
    println!("{} portraits", files.len());
    Ok(())
}
