#!/usr/bin/env bash
# Interop test against the real Python `bittensor==10.5.0` package.
#   A: bittensor's Dendrite  -> our Rust miner        (interop/dendrite_to_rust_miner.py)
#   B: our Rust validator-sim -> bittensor's Axon      (interop/validator_sim_to_python_axon.py)
#   C: Epistula (v2 and simple form), signed/verified with bittensor_wallet.Keypair:
#      C1: Python signer -> our Rust miner               (interop/epistula_to_rust_miner.py)
#      C2: our Rust validator-sim -> Python server       (interop/validator_sim_to_epistula_server.py)
# Env:
#   INTEROP_VENV=DIR     reuse/create the virtualenv there (default: a fresh one under ${TMPDIR:-/tmp},
#                        removed on exit)
#   INTEROP_PYTHON=EXE   python used to create the venv (default: python3; needs >= 3.10)
#   INTEROP_SELFTEST=1   also run A against a Python bt.Axon first (checks the checks)
#   INTEROP_KEEP=1       keep the per-run temp dirs (wallets, metagraphs, logs)
#   CARGO_TARGET_DIR     honoured when locating the binaries
# Exit status: 0 if every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BT_VERSION="10.5.0"
PY="${INTEROP_PYTHON:-python3}"

CHILD_PIDS=()
CREATED_VENV=""
cleanup() {
    local rc=$?
    for pid in "${CHILD_PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        # the drivers start their servers in their own process groups and stop them themselves;
        # here we only stop a driver that is still running (e.g. on Ctrl-C).
        kill -TERM "$pid" 2>/dev/null || true
    done
    if [ -n "$CREATED_VENV" ]; then rm -rf "$CREATED_VENV"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=interop/lib.sh
. "$ROOT/interop/lib.sh"

# ---- 1. virtualenv with bittensor==10.5.0 ----
t0=$(now)
ensure_venv interop "import bittensor, sys; sys.exit(0 if bittensor.__version__ == '$BT_VERSION' else 1)" "bittensor==$BT_VERSION"
"$VENV/bin/python" -c "import bittensor, bittensor_wallet; print('== bittensor', bittensor.__version__, '/ bittensor-wallet', bittensor_wallet.__version__)"
echo "== venv ready in $(elapsed "$t0")s"

# ---- 2. our binaries ----
t1=$(now)
echo "== cargo build -p miid-miner -p miid-validator"
cargo build -p miid-miner -p miid-validator
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MINER="$TARGET_DIR/debug/miner"
VSIM="$TARGET_DIR/debug/validator-sim"
for b in "$MINER" "$VSIM"; do
    if [ ! -x "$b" ]; then echo "FAIL binary not found: $b"; exit 1; fi
done
echo "== binaries ready in $(elapsed "$t1")s"

# ---- 3. the three directions ----
t2=$(now)
KEEP=()
if [ -n "${INTEROP_KEEP:-}" ]; then KEEP=(--keep); fi
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
status=0
run_driver() {
    "$VENV/bin/python" "$@" "${KEEP[@]}" &
    local pid=$!
    CHILD_PIDS+=("$pid")
    wait "$pid" || status=1
}
if [ -n "${INTEROP_SELFTEST:-}" ]; then
    echo "== self-test: bt.Dendrite -> bt.Axon"
    run_driver interop/dendrite_to_rust_miner.py --python-axon
fi
echo "== A: bt.Dendrite -> $MINER"
run_driver interop/dendrite_to_rust_miner.py --miner "$MINER"
echo "== B: $VSIM -> bt.Axon"
run_driver interop/validator_sim_to_python_axon.py --validator-sim "$VSIM"
echo "== C1: Python Epistula signer (bittensor_wallet.Keypair) -> $MINER"
run_driver interop/epistula_to_rust_miner.py --miner "$MINER"
echo "== C2: $VSIM --transport epistula|epistula-simple -> Python Epistula server"
run_driver interop/validator_sim_to_epistula_server.py --validator-sim "$VSIM"
echo "== tests ran in $(elapsed "$t2")s (total $(elapsed "$t0")s)"

if [ "$status" -ne 0 ]; then
    echo "INTEROP: FAIL"
    exit 1
fi
echo "INTEROP: PASS"
