#!/usr/bin/env python3
"""A small Epistula-verifying miner server (aiohttp), written the way subnet miners that take
Epistula instead of the bittensor axon do it, for our validator-sim to query (interop direction
C2). It serves `POST /IdentitySynapse` and accepts both header sets:

- Epistula v2 (targon `verify_signature_v2` / atom `Epistula.verify_request` style):
  `Epistula-Version` must be `2`; `Epistula-Signed-For` must be this server's hotkey (missing
  included, as the SN1/SN4/SN34 miners do); `Epistula-Timestamp` (ms) at most 8000 ms old and
  at most 8000 ms ahead; `Epistula-Uuid` a UUID; the signature `0x`-hex;
  `Keypair(ss58_address=signed_by).verify("{sha256(body)}.{uuid}.{ts}.{signed_for}", sig)`;
  replay: (signed_by, uuid) seen before is refused.
- simple form (Safeguard `verify_epistula` style): `abs(now - ts_ns / 1e9) <= 60`; signature
  decoded with `bytes.fromhex` (bare hex, as the references: a `0x` fails);
  `Keypair(ss58_address=hotkey).verify("{ts}.{sha256(body)}", sig)`; replay: (hotkey, ts).

Every verification failure is 401 `{"message": ...}`; a verified signer without a validator
permit in the metagraph snapshot is 403 (the axon's blacklist text); a request with neither
header set is 401. Answers are `application/json`. The R1 answer echoes the request body and
adds `variations` (2 rows `[name_variant, dob, address]` per seed) and `s3_submissions: []`.

Each request is appended to `--record` as one JSON line: `{"verified": true/false, "status",
"form", "signer", "signed_for", "timeout", "seeds", "reason"}`; the driver counts them.

    epistula_server.py --wallet.path P --wallet.name N [--wallet.hotkey H] --port PORT \
        --metagraph FILE --record FILE
"""
import argparse
import hashlib
import json
import os
import signal
import sys
import time
import uuid as uuidlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

V2_WINDOW_MS = 8000
SIMPLE_WINDOW_S = 60


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def verify_v2(headers, body, my_hotkey, seen, Keypair):
    """Returns (form, signer, signed_for) or raises Refused(401, ...)."""
    if headers.get("Epistula-Version") != "2":
        raise Refused(401, "Unknown Epistula-Version")
    signed_by = headers.get("Epistula-Signed-By")
    signed_for = headers.get("Epistula-Signed-For")
    ts = headers.get("Epistula-Timestamp")
    uid = headers.get("Epistula-Uuid")
    sig = headers.get("Epistula-Request-Signature")
    if not (signed_by and ts and uid and sig):
        raise Refused(401, "Missing Epistula headers")
    if signed_for != my_hotkey:
        raise Refused(401, "Bad Request, message is not intended for self")
    try:
        ts_ms = int(ts)
        uuidlib.UUID(uid)
    except ValueError:
        raise Refused(401, "Invalid timestamp or uuid") from None
    now_ms = round(time.time() * 1000)
    if ts_ms + V2_WINDOW_MS < now_ms:
        raise Refused(401, "Request is too stale")
    if ts_ms > now_ms + V2_WINDOW_MS:
        raise Refused(401, "Request is too far in the future")
    if not sig.startswith("0x"):
        raise Refused(401, "Signature must be 0x-prefixed hex")
    message = f"{hashlib.sha256(body).hexdigest()}.{uid}.{ts_ms}.{signed_for}"
    try:
        ok = Keypair(ss58_address=signed_by).verify(message, bytes.fromhex(sig[2:]))
    except Exception as e:  # noqa: BLE001  (bad ss58, bad hex, wrong length)
        raise Refused(401, f"Signature verification failed: {type(e).__name__}") from None
    if not ok:
        raise Refused(401, "Signature mismatch")
    key = ("v2", signed_by, uid)
    if key in seen:
        raise Refused(401, "Replayed request (uuid already seen)")
    seen.add(key)
    return "v2", signed_by, signed_for


def verify_simple(headers, body, seen, Keypair):
    ts = headers.get("X-Epistula-Timestamp")
    sig = headers.get("X-Epistula-Signature")
    hotkey = headers.get("X-Epistula-Hotkey")
    if not (ts and sig and hotkey):
        raise Refused(401, "Missing Epistula headers")
    try:
        ts_ns = int(ts)
    except ValueError:
        raise Refused(401, "Invalid timestamp") from None
    if abs(time.time() - ts_ns / 1e9) > SIMPLE_WINDOW_S:
        raise Refused(401, "Request timestamp too old")
    message = f"{ts}.{hashlib.sha256(body).hexdigest()}"
    try:
        ok = Keypair(ss58_address=hotkey).verify(message.encode(), bytes.fromhex(sig))
    except Exception as e:  # noqa: BLE001
        raise Refused(401, f"Signature verification failed: {type(e).__name__}") from None
    if not ok:
        raise Refused(401, "Invalid signature")
    key = ("simple", hotkey, ts)
    if key in seen:
        raise Refused(401, "Replayed request (timestamp already seen)")
    seen.add(key)
    return "simple", hotkey, None


def r1_answer(body):
    req = json.loads(body)
    out = dict(req)
    variations = {}
    for seed in req.get("identity") or []:
        name, dob, address = (list(seed) + ["", "", ""])[:3]
        variations[name] = [[f"{name}x", dob, address], [name.replace(" ", "-"), dob, address]]
    out["variations"] = variations
    out["s3_submissions"] = []
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallet.path", dest="wallet_path", required=True)
    ap.add_argument("--wallet.name", dest="wallet_name", required=True)
    ap.add_argument("--wallet.hotkey", dest="wallet_hotkey", default="default")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--metagraph", required=True)
    ap.add_argument("--record", required=True)
    args = ap.parse_args()

    from aiohttp import web
    from bittensor_wallet import Keypair

    my_hotkey = common.load_wallet(args.wallet_path, args.wallet_name, args.wallet_hotkey).hotkey.ss58_address
    with open(args.metagraph) as f:
        whitelist = {n["hotkey"] for n in json.load(f)["neurons"] if n.get("validator_permit")}
    seen = set()

    def record(**kw):
        with open(args.record, "a") as f:
            f.write(json.dumps(kw) + "\n")

    async def identity_synapse(request):
        body = await request.read()
        h = request.headers
        form = signer = signed_for = None
        try:
            if "Epistula-Version" in h or "Epistula-Request-Signature" in h:
                form, signer, signed_for = verify_v2(h, body, my_hotkey, seen, Keypair)
            elif any(k in h for k in ("X-Epistula-Signature", "X-Epistula-Hotkey", "X-Epistula-Timestamp")):
                form, signer, signed_for = verify_simple(h, body, seen, Keypair)
            else:
                raise Refused(401, "Missing Epistula headers (Epistula-* or X-Epistula-*)")
        except Refused as r:
            record(verified=False, status=r.status, reason=r.message,
                   claimed=h.get("Epistula-Signed-By") or h.get("X-Epistula-Hotkey"))
            print(f"refused {r.status}: {r.message}", flush=True)
            return web.json_response({"message": r.message}, status=r.status)
        entry = dict(verified=True, form=form, signer=signer, signed_for=signed_for,
                     timeout=h.get("timeout"), content_type=h.get("Content-Type"))
        if signer not in whitelist:
            msg = "Forbidden. Key is blacklisted: Unrecognized hotkey."
            record(status=403, reason=msg, **entry)
            print(f"verified {form} from {signer}, refused 403", flush=True)
            return web.json_response({"message": msg}, status=403)
        try:
            answer = r1_answer(body)
        except Exception as e:  # noqa: BLE001
            record(status=400, reason=repr(e), **entry)
            return web.json_response({"message": f"bad body: {e!r}"}, status=400)
        record(status=200, seeds=[s[0] for s in answer.get("identity") or []], **entry)
        print(f"verified {form} from {signer}, answered 200", flush=True)
        return web.json_response(answer)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/IdentitySynapse", identity_synapse)

    def stop(*_):
        raise web.GracefulExit()

    signal.signal(signal.SIGTERM, stop)
    print(f"epistula server {my_hotkey} on 127.0.0.1:{args.port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, handle_signals=False)


if __name__ == "__main__":
    main()
