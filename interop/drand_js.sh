#!/usr/bin/env bash
# Interop test of our drand-mock, `miner tlock encrypt --format age` and `validator-sim tlock
# decrypt` against drand's own JS libraries (npm `drand-client`, `tlock-js`; versions pinned in
# interop/drand_js/package.json + package-lock.json). Checks in interop/drand_js/check.mjs.
# Needs node >= 20 and npm (registry access the first time, for `npm ci`), and cargo.
# Env:
#   CARGO_TARGET_DIR   honoured when locating the binaries
# Exit status: 0 if every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JS_DIR="$ROOT/interop/drand_js"

MOCK_PID=""
TMP="$(mktemp -d "${TMPDIR:-/tmp}/miid-drand-js.XXXXXX")"
cleanup() {
    local rc=$?
    if [ -n "$MOCK_PID" ]; then
        kill -TERM "$MOCK_PID" 2>/dev/null || true
        wait "$MOCK_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -s "$TMP/mock.log" ]; then
        echo "== drand-mock log (last 20 lines):"; tail -n 20 "$TMP/mock.log"
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- 1. our binaries ----
t0=$(now)
echo "== cargo build -p drand-mock -p miid-miner -p miid-validator"
cargo build -p drand-mock -p miid-miner -p miid-validator
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MOCK="$TARGET_DIR/debug/drand-mock"
MINER="$TARGET_DIR/debug/miner"
VSIM="$TARGET_DIR/debug/validator-sim"
for b in "$MOCK" "$MINER" "$VSIM"; do
    if [ ! -x "$b" ]; then echo "FAIL binary not found: $b"; exit 1; fi
done
echo "== binaries ready in $(elapsed "$t0")s"

# ---- 2. node packages (lockfile-exact) ----
t1=$(now)
command -v node >/dev/null || { echo "FAIL node not found (need >= 20)"; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then echo "FAIL node $(node --version) (need >= 20)"; exit 1; fi
# `npm ci` unless node_modules already holds exactly the locked versions (npm keeps its record of
# the installed tree in node_modules/.package-lock.json).
if ! node -e '
        const a = require(process.argv[1]).packages, b = require(process.argv[2]).packages;
        for (const k of Object.keys(a)) if (k && (!b[k] || b[k].version !== a[k].version)) process.exit(1);
      ' "$JS_DIR/package-lock.json" "$JS_DIR/node_modules/.package-lock.json" 2>/dev/null; then
    echo "== npm ci in interop/drand_js"
    (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "== node packages ready in $(elapsed "$t1")s"

# ---- 3. drand-mock on a manual clock, on a free port ----
"$MOCK" --listen 127.0.0.1:0 --period 3 --manual-clock >"$TMP/mock.out" 2>"$TMP/mock.log" &
MOCK_PID=$!
for _ in $(seq 1 100); do
    [ "$(wc -l <"$TMP/mock.out")" -ge 3 ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || { echo "FAIL drand-mock exited"; exit 1; }
    sleep 0.1
done
[ "$(wc -l <"$TMP/mock.out")" -ge 3 ] || { echo "FAIL drand-mock printed no URL"; exit 1; }
BEACON_URL="$(sed -n 1p "$TMP/mock.out")"
CHAIN_HASH="$(sed -n 2p "$TMP/mock.out")"
PUBLIC_KEY="$(sed -n 3p "$TMP/mock.out")"
echo "== drand-mock at $BEACON_URL (chain $CHAIN_HASH)"

# ---- 4. the checks ----
t2=$(now)
status=0
BEACON_URL="$BEACON_URL" CHAIN_HASH="$CHAIN_HASH" PUBLIC_KEY="$PUBLIC_KEY" MINER="$MINER" VSIM="$VSIM" \
    node "$JS_DIR/check.mjs" || status=$?
echo "== checks ran in $(elapsed "$t2")s; total $(elapsed "$t0")s"
exit "$status"
