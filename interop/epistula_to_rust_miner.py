#!/usr/bin/env python3
"""Interop direction C1: Python signs Epistula (v2 and the simple form) with
`bittensor_wallet.Keypair`; our Rust miner verifies.

    epistula_to_rust_miner.py --miner target/debug/miner

The signer below is written from the formats (not taken from our Rust code):

    v2:      Epistula-Version: 2, Epistula-Timestamp: unix ms, Epistula-Uuid: uuid4,
             Epistula-Signed-By: sender ss58, Epistula-Signed-For: receiver ss58,
             Epistula-Request-Signature: "0x" + sign("{sha256hex(body)}.{uuid}.{ts_ms}.{signed_for}")
    simple:  X-Epistula-Timestamp: unix ns, X-Epistula-Hotkey: sender ss58,
             X-Epistula-Signature: hex(sign("{ts_ns}.{sha256hex(body)}"))   (bare hex)

Everything runs on 127.0.0.1 with a random free port; the miner is killed on exit. Prints one
PASS/FAIL line per check and exits 1 if any check failed. `sign_v2` / `sign_simple` are also used
by validator_sim_to_epistula_server.py (this module imports nothing heavy at import time).
"""
import argparse
import copy
import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402


# ---------------------------------------------------------------- the signer (Python side)

def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sign_v2(keypair, body: bytes, signed_for=None, timestamp_ms=None, uuid=None):
    """Epistula v2 headers, as the atom/targon Python signers build them."""
    ts = round(time.time() * 1000) if timestamp_ms is None else int(timestamp_ms)
    u = str(uuidlib.uuid4()) if uuid is None else uuid
    message = f"{sha256_hex(body)}.{u}.{ts}.{signed_for or ''}"
    headers = {
        "Epistula-Version": "2",
        "Epistula-Timestamp": str(ts),
        "Epistula-Uuid": u,
        "Epistula-Signed-By": keypair.ss58_address,
        "Epistula-Request-Signature": "0x" + keypair.sign(message).hex(),
    }
    if signed_for:
        headers["Epistula-Signed-For"] = signed_for
    return headers


def sign_simple(keypair, body: bytes, timestamp_ns=None):
    """Simple-form headers, as the "custom HTTP miner" examples build them (bare hex)."""
    ts = time.time_ns() if timestamp_ns is None else int(timestamp_ns)
    message = f"{ts}.{sha256_hex(body)}"
    return {
        "X-Epistula-Timestamp": str(ts),
        "X-Epistula-Signature": keypair.sign(message.encode()).hex(),
        "X-Epistula-Hotkey": keypair.ss58_address,
    }


def post(port, headers, body: bytes, path="/IdentitySynapse", timeout=60):
    """POSTs raw bytes; returns (status, parsed JSON or {'raw': text}, response headers dict)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = {"Content-Type": "application/json"}
        h.update(headers)
        conn.request("POST", path, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        try:
            j = json.loads(raw)
        except Exception:  # noqa: BLE001
            j = {"raw": raw.decode(errors="replace")}
        return r.status, j, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def message_of(j):
    return j.get("message", "") if isinstance(j, dict) else ""


# ---------------------------------------------------------------- the test

def is_row(row):
    return isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)


def r1_body():
    """The R1 IdentitySynapse JSON body, built as dendrite_to_rust_miner.py builds the request."""
    import synapse_r1 as r1

    syn = r1.IdentitySynapse(
        identity=copy.deepcopy(common.SEEDS),
        query_template=common.QUERY_TEMPLATE,
        variations={},
        image_request=r1.ImageRequest(
            base_image=common.TINY_PNG_B64,
            image_filename="a1b2c3d4e5f6_m_doc.png",
            variation_requests=[r1.VariationRequest(type="pose_edit", intensity="light",
                                                    description="Rotate the head", detail="15 degrees")],
            target_drand_round=20399678,
            reveal_timestamp=1754002398,
            challenge_id="challenge_1754000000_5GrwvaEF",
        ),
    )
    syn.timeout = 30.0
    return json.dumps(syn.model_dump()).encode()


def check_r1_answer(C, tag, status, j, hdrs):
    """200 + an answer the R1 IdentitySynapse class parses, with every seed answered."""
    import synapse_r1 as r1

    if not C.check(f"{tag}: 200", status == 200, f"{status} {str(j)[:400]}"):
        return
    C.check(f"{tag}: Content-Type application/json",
            hdrs.get("content-type", "").startswith("application/json"), repr(hdrs.get("content-type")))
    try:
        syn = r1.IdentitySynapse.model_validate(j)
        err = ""
    except Exception as e:  # noqa: BLE001
        syn, err = None, repr(e)
    if not C.check(f"{tag}: answer parses as the R1 IdentitySynapse", syn is not None, f"{err} {str(j)[:400]}"):
        return
    names = [s[0] for s in common.SEEDS]
    v = syn.variations
    C.check(f"{tag}: variations has exactly one key per seed",
            isinstance(v, dict) and sorted(v) == sorted(names), f"{v!r}"[:400])
    ok = isinstance(v, dict) and bool(v)
    for val in (v or {}).values():
        rows = val if isinstance(val, list) else getattr(val, "variations", None)
        if not rows or not all(is_row(r) for r in rows):
            ok = False
    C.check(f"{tag}: every seed has >=1 row of 3 strings", ok, f"{v!r}"[:400])
    C.check(f"{tag}: identity and query_template echoed",
            syn.identity == common.SEEDS and syn.query_template == common.QUERY_TEMPLATE,
            f"{syn.identity!r}"[:300])
    C.check(f"{tag}: s3_submissions is a list", isinstance(syn.s3_submissions, list), repr(syn.s3_submissions))


def run(args, C, work):
    W = work / "wallets"
    val_ss58 = common.make_hotkey(W, "validator")
    common.make_hotkey(W, "intruder")
    other_ss58 = common.make_hotkey(W, "other")  # a second, unrelated receiver
    miner_ss58 = common.make_hotkey(W, "miner")
    val = common.load_wallet(W, "validator").hotkey
    intruder = common.load_wallet(W, "intruder").hotkey

    port = common.free_port()
    mg_path = work / "metagraph.json"
    common.write_metagraph(mg_path, [
        {"uid": 0, "hotkey": val_ss58, "stake": 1000.0, "permit": True},
        {"uid": 1, "hotkey": miner_ss58, "stake": 0.0, "permit": False, "port": port},
    ])
    log = work / "miner.log"
    proc = common.start_process([args.miner, "--wallet.path", str(W), "--wallet.name", "miner",
                                 "--wallet.hotkey", "default", "--metagraph", str(mg_path),
                                 "--axon.ip", "127.0.0.1", "--axon.port", str(port),
                                 "--blacklist.mode", "open"], log)
    try:
        t0 = time.time()
        if not C.check("miner listens on its axon port", common.wait_port(port, proc, 90), common.tail(log)):
            return
        print(f"  (miner up after {time.time() - t0:.1f}s)", flush=True)
        body = r1_body()
        TO = {"timeout": "30.0"}

        # ---- Epistula v2 ----
        h = {**sign_v2(val, body, signed_for=miner_ss58), **TO}
        t = time.time()
        st, j, rh = post(port, h, body)
        print(f"  (v2 R1 round trip {time.time() - t:.2f}s)", flush=True)
        check_r1_answer(C, "v2", st, j, rh)

        st, j, _ = post(port, h, body)
        C.check("v2: the same signed headers replayed -> 401 (replay)", st == 401 and "already accepted" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (v2 replay message: {message_of(j)!r})", flush=True)

        h = {**sign_v2(val, body, signed_for=miner_ss58), **TO}
        tampered = body.replace(b"John Smith", b"John Smyth")
        st, j, _ = post(port, h, tampered)
        C.check("v2: body altered after signing -> 401 (signature)", st == 401 and "signature" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (v2 tampered-body message: {message_of(j)!r})", flush=True)
        # the untampered original of that request was never accepted, so it still goes through
        st, j, _ = post(port, h, body)
        C.check("v2: the untampered original of the refused request -> 200 (refusals leave no replay mark)",
                st == 200, f"{st} {message_of(j)!r}")

        h = {**sign_v2(val, body, signed_for=miner_ss58, timestamp_ms=round(time.time() * 1000) - 60_000), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: correctly signed, timestamp 60 s old -> 401 (stale)", st == 401 and "Timestamp" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (v2 stale message: {message_of(j)!r})", flush=True)

        h = {**sign_v2(val, body, signed_for=miner_ss58, timestamp_ms=round(time.time() * 1000) + 60_000), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: correctly signed, timestamp 60 s ahead -> 401 (future)", st == 401 and "future" in message_of(j),
                f"{st} {message_of(j)!r}")

        h = {**sign_v2(val, body, signed_for=other_ss58), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: Signed-For another hotkey (correctly signed) -> 401 (receiver)", st == 401 and "receiv" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (v2 wrong-receiver message: {message_of(j)!r})", flush=True)

        h = {**sign_v2(val, body, signed_for=None), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: no Signed-For (optional in the spec; default config) -> 200", st == 200,
                f"{st} {message_of(j)!r}")

        h = {**sign_v2(val, body, signed_for=miner_ss58), **TO}
        h["Epistula-Request-Signature"] = h["Epistula-Request-Signature"][2:]
        st, j, _ = post(port, h, body)
        C.check("v2: signature without 0x -> 401 (0x required)", st == 401 and "0x" in message_of(j),
                f"{st} {message_of(j)!r}")

        h = {**sign_v2(intruder, body, signed_for=miner_ss58), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: signer not in the metagraph -> 403 (blacklisted)", st == 403 and "blacklisted" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (v2 unknown-signer message: {message_of(j)!r})", flush=True)

        # ---- simple form ----
        h = {**sign_simple(val, body), **TO}
        t = time.time()
        st, j, rh = post(port, h, body)
        print(f"  (simple R1 round trip {time.time() - t:.2f}s)", flush=True)
        check_r1_answer(C, "simple", st, j, rh)

        st, j, _ = post(port, h, body)
        C.check("simple: the same signed headers replayed -> 401 (replay)", st == 401 and "already accepted" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (simple replay message: {message_of(j)!r})", flush=True)

        h = {**sign_simple(val, body), **TO}
        st, j, _ = post(port, h, body.replace(b"John Smith", b"John Smyth"))
        C.check("simple: body altered after signing -> 401 (signature)", st == 401 and "signature" in message_of(j),
                f"{st} {message_of(j)!r}")

        h = {**sign_simple(val, body, timestamp_ns=time.time_ns() - 120 * 10**9), **TO}
        st, j, _ = post(port, h, body)
        C.check("simple: correctly signed, timestamp 120 s old -> 401 (stale)", st == 401 and "Timestamp" in message_of(j),
                f"{st} {message_of(j)!r}")
        print(f"  (simple stale message: {message_of(j)!r})", flush=True)

        h = {**sign_simple(val, body), **TO}
        h["X-Epistula-Signature"] = "0x" + h["X-Epistula-Signature"]
        st, j, _ = post(port, h, body)
        C.check("simple: 0x-prefixed signature also accepted -> 200", st == 200, f"{st} {message_of(j)!r}")

        h = {**sign_simple(intruder, body), **TO}
        st, j, _ = post(port, h, body)
        C.check("simple: signer not in the metagraph -> 403 (blacklisted)", st == 403 and "blacklisted" in message_of(j),
                f"{st} {message_of(j)!r}")

        # ---- no signing headers at all ----
        st, j, _ = post(port, TO, body)
        m = message_of(j)
        C.check("no signing headers -> 401", st == 401, f"{st} {m!r}")
        C.check("... and the message names the accepted schemes (v10, btauth/1, Epistula v2, X-Epistula-*)",
                all(s in m for s in ("v10", "btauth/1", "Epistula v2", "X-Epistula-")), repr(m))
        print(f"  (no-headers message: {m!r})", flush=True)

        # a fresh, good v2 request at the end: nothing above broke the miner's state
        h = {**sign_v2(val, body, signed_for=miner_ss58), **TO}
        st, j, _ = post(port, h, body)
        C.check("v2: a fresh request after all the refusals -> 200", st == 200, f"{st} {message_of(j)!r}")
        C.check("miner still running at the end", proc.poll() is None, f"exit {proc.poll()}\n{common.tail(log)}")
    finally:
        common.stop_process(proc)
        if C.failed:
            print(f"---- last lines of {log} ----\n{common.tail(log)}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--miner", required=True, help="path to our miner binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (wallets, logs)")
    args = ap.parse_args()
    args.miner = os.path.abspath(args.miner)
    common.exit_on_sigterm()
    C = common.Checks("C1: python Epistula signer -> rust miner")
    work = Path(tempfile.mkdtemp(prefix="miid-interop-c1-"))
    try:
        run(args, C, work)
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        C.check("driver ran to completion", False, repr(e))
    finally:
        if args.keep or C.failed:
            print(f"  (work dir kept: {work})", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    C.exit()


if __name__ == "__main__":
    main()
