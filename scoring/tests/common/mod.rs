//! Locating and reading the reference vectors (format: vectors/README.md).
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// `$MIID_VECTORS_DIR`, else `../shared/vectors` beside the workspace, else the snapshot in
/// `vectors/` at the workspace root.
pub fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIID_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let shared = root.join("../shared/vectors");
    if shared.is_dir() { shared } else { root.join("vectors") }
}

/// Every case of a vector file, one JSON value per line (key order preserved).
pub fn cases(file: &str) -> Vec<Value> {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Float comparison with the vectors' tolerance.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol || (a.is_nan() && b.is_nan())
}
