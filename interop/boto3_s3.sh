#!/usr/bin/env bash
# Interop test: the real Python `boto3` S3 client against our `s3-mock` (interop/boto3_s3.py).
# Env:
#   INTEROP_VENV=DIR     reuse/create the virtualenv there (default: a fresh one under ${TMPDIR:-/tmp},
#                        removed on exit); boto3 is installed into it if missing
#   INTEROP_PYTHON=EXE   python used to create the venv (default: python3)
#   INTEROP_KEEP=1       keep the server's data dir and log
#   CARGO_TARGET_DIR     honoured when locating the binary
# Exit status: 0 if every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${INTEROP_PYTHON:-python3}"
PUBLIC_BUCKET="yanez-miid-sn54"
PRIVATE_BUCKET="miid-private-bucket"
ACCESS_KEY="boto3-interop-ak"
SECRET_KEY="boto3-interop-secret-$RANDOM$RANDOM"
DOMAIN="localhost"

SERVER_PID=""
CREATED_VENV=""
WORK=""
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "$CREATED_VENV" ]; then rm -rf "$CREATED_VENV"; fi
    if [ -n "$WORK" ]; then
        if [ -n "${INTEROP_KEEP:-}" ] || [ "$rc" -ne 0 ]; then
            echo "== kept $WORK (server log: $WORK/s3-mock.log)"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=interop/lib.sh
. "$ROOT/interop/lib.sh"

# ---- 1. virtualenv with boto3 ----
t0=$(now)
ensure_venv boto3 "import boto3" boto3
echo "== venv ready in $(elapsed "$t0")s"

# ---- 2. s3-mock ----
t1=$(now)
echo "== cargo build -p s3-mock"
cargo build -p s3-mock
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
S3MOCK="$TARGET_DIR/debug/s3-mock"
if [ ! -x "$S3MOCK" ]; then echo "FAIL binary not found: $S3MOCK"; exit 1; fi
echo "== binary ready in $(elapsed "$t1")s"

# ---- 3. start the server on a free port ----
WORK="$(mktemp -d "${TMPDIR:-/tmp}/miid-boto3-s3.XXXXXX")"
mkdir -p "$WORK/data"
"$S3MOCK" --listen 127.0.0.1:0 --data-dir "$WORK/data" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
    --public-write "$PUBLIC_BUCKET" --bucket "$PRIVATE_BUCKET" --domain "$DOMAIN" \
    >"$WORK/s3-mock.out" 2>"$WORK/s3-mock.log" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 100); do
    ADDR="$(head -n 1 "$WORK/s3-mock.out" 2>/dev/null || true)"
    if [ -n "$ADDR" ] && [[ "$ADDR" == *:* ]]; then break; fi
    ADDR=""
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "FAIL s3-mock exited at start:"; cat "$WORK/s3-mock.log"; exit 1
    fi
    sleep 0.1
done
if [ -z "$ADDR" ]; then echo "FAIL s3-mock printed no address in 10 s"; exit 1; fi
echo "== s3-mock listening on $ADDR (pid $SERVER_PID, data $WORK/data)"

# ---- 4. checks ----
t2=$(now)
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# no proxy for the local server; no credentials/config from the user's ~/.aws
export NO_PROXY="127.0.0.1,localhost,.localhost" no_proxy="127.0.0.1,localhost,.localhost"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL \
    AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION AWS_REGION 2>/dev/null || true
status=0
"$VENV/bin/python" interop/boto3_s3.py --endpoint "http://$ADDR" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
    --public-bucket "$PUBLIC_BUCKET" --private-bucket "$PRIVATE_BUCKET" --domain "$DOMAIN" || status=1
echo "== checks ran in $(elapsed "$t2")s (total $(elapsed "$t0")s)"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL s3-mock is no longer running"; status=1
fi
if [ "$status" -ne 0 ]; then
    echo "BOTO3-S3: FAIL"
    exit 1
fi
echo "BOTO3-S3: PASS"
