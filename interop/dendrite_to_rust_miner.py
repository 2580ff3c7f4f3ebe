#!/usr/bin/env python3
"""Interop direction A: a real bittensor==10.5.0 `bt.Dendrite` queries our Rust miner.

    dendrite_to_rust_miner.py --miner target/debug/miner      # the real test
    dendrite_to_rust_miner.py --python-axon                    # self-test against bt.Axon

Everything runs on 127.0.0.1 with random free ports; children are killed on exit. Prints one
PASS/FAIL line per check and exits 1 if any check failed.
"""
import argparse
import asyncio
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

common.patch_external_ip()  # before bittensor builds any Dendrite
import aiohttp  # noqa: E402
import bittensor as bt  # noqa: E402

import synapse_r1 as r1  # noqa: E402
import synapse_r2 as r2  # noqa: E402

CHALLENGE_ID = "challenge_1754000000_5GrwvaEF"
DRAND_ROUND = 20399678
REVEAL_TS = 1754002398


def r1_request():
    return r1.IdentitySynapse(
        identity=copy.deepcopy(common.SEEDS),
        query_template=common.QUERY_TEMPLATE,
        variations={},
        image_request=r1.ImageRequest(
            base_image=common.TINY_PNG_B64,
            image_filename="a1b2c3d4e5f6_m_doc.png",
            variation_requests=[r1.VariationRequest(type="pose_edit", intensity="light",
                                                    description="Rotate the head", detail="15 degrees")],
            target_drand_round=DRAND_ROUND,
            reveal_timestamp=REVEAL_TS,
            challenge_id=CHALLENGE_ID,
        ),
    )


def r2_request():
    return r2.IdentitySynapse(
        image_request=r2.ImageRequest(
            base_image=common.TINY_PNG_B64,
            image_filename="a1b2c3d4e5f6_m_doc.png",
            variation_requests=[r2.VariationRequest(**v) for v in common.VARIATION_REQUESTS_R2],
            target_drand_round=DRAND_ROUND,
            reveal_timestamp=REVEAL_TS,
            challenge_id=CHALLENGE_ID,
            real_screen_replay_instructions="(instructions)",
        ),
    )


def axon_info(port, hotkey):
    return bt.AxonInfo(version=10005000, ip="127.0.0.1", port=port, ip_type=4,
                       hotkey=hotkey, coldkey=hotkey)


def is_row(row):
    return isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)


async def run(args, C, work):
    W = work / "wallets"
    val_ss58 = common.make_hotkey(W, "validator")
    intruder_ss58 = common.make_hotkey(W, "intruder")
    miner_ss58 = common.make_hotkey(W, "miner")
    val_wallet = common.load_wallet(W, "validator")
    intruder_wallet = common.load_wallet(W, "intruder")

    if args.miner:
        # Rust reads a key file the Python package wrote ...
        out = subprocess.run([args.miner, "wallet", "show", "--wallet.path", str(W), "--wallet.name", "miner",
                              "--wallet.hotkey", "default"], capture_output=True, text=True, timeout=60)
        first = (out.stdout.splitlines() or [""])[0].strip()
        C.check("miner wallet show reads a bittensor-wallet hotkey (same SS58)",
                out.returncode == 0 and first == miner_ss58,
                f"rc={out.returncode} first line={first!r} expected={miner_ss58} stderr={out.stderr[-500:]!r}")
        # ... and the Python package reads a key file Rust wrote.
        out = subprocess.run([args.miner, "wallet", "new-hotkey", "--wallet.path", str(W), "--wallet.name",
                              "rustmade", "--wallet.hotkey", "default"], capture_output=True, text=True,
                             timeout=60)
        show = subprocess.run([args.miner, "wallet", "show", "--wallet.path", str(W), "--wallet.name",
                               "rustmade", "--wallet.hotkey", "default"], capture_output=True, text=True,
                              timeout=60)
        rust_ss58 = (show.stdout.splitlines() or [""])[0].strip()
        try:
            kp = common.load_wallet(W, "rustmade").hotkey
            py_ss58 = kp.ss58_address
            sig = kp.sign(b"interop")
            ok_sig = bt.Keypair(ss58_address=rust_ss58).verify(b"interop", sig) if rust_ss58 else False
            err = ""
        except Exception as e:  # noqa: BLE001
            py_ss58, ok_sig, err = None, False, repr(e)
        C.check("bittensor-wallet loads a hotkey written by `miner wallet new-hotkey`",
                out.returncode == 0 and show.returncode == 0 and py_ss58 == rust_ss58 and ok_sig,
                f"new-hotkey rc={out.returncode} stderr={out.stderr[-300:]!r}; show={rust_ss58!r}; "
                f"python={py_ss58!r}; sig_ok={ok_sig}; {err}")

    port = common.free_port()
    mg_path = work / "metagraph.json"
    common.write_metagraph(mg_path, [
        {"uid": 0, "hotkey": val_ss58, "stake": 1000.0, "permit": True},
        {"uid": 1, "hotkey": miner_ss58, "stake": 0.0, "permit": False, "port": port},
    ])

    procs = []
    try:
        if args.miner:
            log = work / "miner.log"
            p = common.start_process([args.miner, "--wallet.path", str(W), "--wallet.name", "miner",
                                      "--wallet.hotkey", "default", "--metagraph", str(mg_path),
                                      "--axon.ip", "127.0.0.1", "--axon.port", str(port),
                                      "--blacklist.mode", "open"], log)
            procs.append((p, log))
            port_r1 = port_r2 = port
        else:
            port_r1, port_r2 = port, common.free_port()
            for gen, prt in (("r1", port_r1), ("r2", port_r2)):
                log = work / f"python_axon_{gen}.log"
                p = common.start_process([sys.executable, os.path.join(HERE, "python_axon.py"),
                                          "--wallet.path", str(W), "--wallet.name", "miner",
                                          "--port", str(prt), "--generation", gen,
                                          "--metagraph", str(mg_path)], log)
                procs.append((p, log))
        t0 = time.time()
        up = all(common.wait_port(prt, p, 90) for (p, _), prt in zip(procs, [port_r1, port_r2]))
        if not C.check("target listens on its axon port", up,
                       "\n" + "\n".join(common.tail(lg) for _, lg in procs)):
            return
        print(f"  (target up after {time.time() - t0:.1f}s)", flush=True)

        dendrite = bt.Dendrite(wallet=val_wallet)
        C.check("dendrite reports SDK version 10005000",
                bt.core.settings.version_as_int == 10005000, str(bt.core.settings.version_as_int))

        # ---- R1 through the real dendrite ----
        t = time.time()
        resp = (await dendrite.forward(axons=[axon_info(port_r1, miner_ss58)], synapse=r1_request(),
                                       timeout=30, deserialize=False))[0]
        print(f"  (R1 round trip {time.time() - t:.2f}s)", flush=True)
        code, msg = resp.dendrite.status_code, resp.dendrite.status_message
        C.check("R1: status_code 200", code == 200, f"{code} {msg!r}")
        v = resp.variations
        names = [s[0] for s in common.SEEDS]
        C.check("R1: variations has exactly one key per seed name",
                isinstance(v, dict) and sorted(v.keys()) == sorted(names), f"{v!r}"[:500])
        rows_ok = isinstance(v, dict) and bool(v)
        for k, val in (v or {}).items():
            rows = val if isinstance(val, list) else getattr(val, "variations", None)
            if not rows or not all(is_row(r) for r in rows):
                rows_ok = False
        C.check("R1: every seed has >=1 row of exactly 3 strings", rows_ok, f"{v!r}"[:500])
        C.check("R1: identity echoed", resp.identity == common.SEEDS, f"{resp.identity!r}"[:300])
        C.check("R1: query_template echoed", resp.query_template == common.QUERY_TEMPLATE,
                f"{resp.query_template!r}"[:300])
        C.check("R1: s3_submissions is a list", isinstance(resp.s3_submissions, list),
                f"{resp.s3_submissions!r}"[:300])
        C.check("R1: image_request echoed",
                resp.image_request is not None and resp.image_request.base_image == common.TINY_PNG_B64
                and resp.image_request.challenge_id == CHALLENGE_ID, f"{resp.image_request!r}"[:300])
        C.check("R1: axon status_message 'Success'", resp.axon.status_message == "Success",
                f"{resp.axon.status_message!r}")
        uav = v.get("John Smith") if isinstance(v, dict) else None
        if isinstance(uav, r1.SeedWithUAV):
            print(f"  (R1 UAV form used for John Smith: {uav.uav!r})", flush=True)

        # ---- R1 as a bittensor 10.0.0 validator would send it (version header 10000000) ----
        import bittensor.core.dendrite as bt_dendrite_mod
        saved = bt_dendrite_mod.version_as_int
        bt_dendrite_mod.version_as_int = 10000000
        try:
            old_sdk = bt.Dendrite(wallet=val_wallet)
            resp = (await old_sdk.forward(axons=[axon_info(port_r1, miner_ss58)], synapse=r1_request(),
                                          timeout=30, deserialize=False))[0]
            await old_sdk.aclose_session()
        finally:
            bt_dendrite_mod.version_as_int = saved
        v = resp.variations
        C.check("R1 with version header 10000000 (bittensor 10.0.0 client): 200 and every seed",
                resp.dendrite.status_code == 200 and isinstance(v, dict)
                and sorted(v.keys()) == sorted(names),
                f"{resp.dendrite.status_code} {resp.dendrite.status_message!r} {v!r}"[:400])

        # ---- R2 through the real dendrite ----
        t = time.time()
        resp = (await dendrite.forward(axons=[axon_info(port_r2, miner_ss58)], synapse=r2_request(),
                                       timeout=30, deserialize=False))[0]
        print(f"  (R2 round trip {time.time() - t:.2f}s)", flush=True)
        code, msg = resp.dendrite.status_code, resp.dendrite.status_message
        C.check("R2: status_code 200", code == 200, f"{code} {msg!r}")
        subs = resp.s3_submissions
        C.check("R2: s3_submissions is a list", isinstance(subs, list), f"{subs!r}"[:300])
        if args.miner:
            C.check("R2: s3_submissions == [] (no S3 configured)", subs == [], f"{subs!r}"[:300])
        else:
            C.check("R2: python axon answered 5 submissions", isinstance(subs, list) and len(subs) == 5)
        C.check("R2: image_request echoed with 5 variation_requests",
                resp.image_request is not None and len(resp.image_request.variation_requests) == 5
                and resp.image_request.variation_requests[1].type == "lighting_edit+expression_edit",
                f"{resp.image_request!r}"[:300])

        # ---- blacklist: a validator hotkey not in the metagraph ----
        intruder = bt.Dendrite(wallet=intruder_wallet)
        resp = (await intruder.forward(axons=[axon_info(port_r2, miner_ss58)], synapse=r2_request(),
                                       timeout=30, deserialize=False))[0]
        code, msg = resp.dendrite.status_code, resp.dendrite.status_message
        C.check("unknown hotkey -> 403", code == 403, f"{code} {msg!r}")
        C.check("403 message starts 'Forbidden. Key is blacklisted:'",
                isinstance(msg, str) and msg.startswith("Forbidden. Key is blacklisted:"), f"{msg!r}")
        print(f"  (403 message: {msg!r})", flush=True)
        await intruder.aclose_session()

        # ---- raw HTTP: replay, tampering, missing signature, unknown route ----
        syn = dendrite.preprocess_synapse_for_request(axon_info(port_r2, miner_ss58), r2_request(), 30)
        headers, body = syn.to_headers(), syn.model_dump()
        url = f"http://127.0.0.1:{port_r2}/IdentitySynapse"

        async with aiohttp.ClientSession() as s:
            async def post(h, b=body, u=url):
                async with s.post(u, headers=h, json=b) as r:
                    try:
                        j = await r.json(content_type=None)
                    except Exception:  # noqa: BLE001
                        j = {"raw": await r.text()}
                    return r.status, j, r.headers

            st, j, h = await post(headers)
            C.check("raw signed request -> 200 with Content-Type application/json",
                    st == 200 and h.get("content-type", "").startswith("application/json"),
                    f"{st} {h.get('content-type')!r} {str(j)[:300]}")
            C.check("raw 200 carries bt_header_axon_status_code: 200",
                    h.get("bt_header_axon_status_code") == "200", f"{dict(h)}"[:400])
            st, j, h = await post(headers)
            m = j.get("message", "") if isinstance(j, dict) else ""
            C.check("replayed signed headers -> 401 'Nonce is too old'",
                    st == 401 and "Nonce is too old" in m, f"{st} {m!r}")
            print(f"  (replay message: {m!r})", flush=True)

            hh = dict(headers)
            hh["bt_header_dendrite_nonce"] = str(time.time_ns())
            st, j, _ = await post(hh)
            m = j.get("message", "") if isinstance(j, dict) else ""
            C.check("fresh nonce with stale signature -> 401 'Signature mismatch'",
                    st == 401 and "Signature mismatch" in m, f"{st} {m!r}")

            syn = dendrite.preprocess_synapse_for_request(axon_info(port_r2, miner_ss58), r2_request(), 30)
            hh = syn.to_headers()
            hh.pop("bt_header_dendrite_signature", None)
            st, j, _ = await post(hh, syn.model_dump())
            m = j.get("message", "") if isinstance(j, dict) else ""
            C.check("missing signature -> 401 'Missing Signature'",
                    st == 401 and "Missing Signature" in m, f"{st} {m!r}")

            # first request of a new (hotkey, uuid) whose nonce is older than 4 s + timeout: a
            # correctly signed request built 60 s ago with timeout 30 -> "acceptable delta is 34.00"
            fresh = bt.Dendrite(wallet=val_wallet)
            syn = fresh.preprocess_synapse_for_request(axon_info(port_r2, miner_ss58), r2_request(), 30)
            syn.dendrite.nonce = time.time_ns() - 60 * 10**9
            msg = (f"{syn.dendrite.nonce}.{syn.dendrite.hotkey}.{syn.axon.hotkey}."
                   f"{syn.dendrite.uuid}.{syn.body_hash}")
            syn.dendrite.signature = "0x" + val_wallet.hotkey.sign(msg).hex()
            st, j, _ = await post(syn.to_headers(), syn.model_dump())
            m = j.get("message", "") if isinstance(j, dict) else ""
            C.check("first request with a 60 s old nonce -> 401 'acceptable delta is 34.00 seconds'",
                    st == 401 and "Nonce is too old: acceptable delta is 34.00 seconds but request was" in m,
                    f"{st} {m!r}")
            print(f"  (stale-nonce message: {m!r})", flush=True)
            # the same client, now with a current nonce, is accepted
            syn = fresh.preprocess_synapse_for_request(axon_info(port_r2, miner_ss58), r2_request(), 30)
            st, j, _ = await post(syn.to_headers(), syn.model_dump())
            C.check("same new client with a current nonce -> 200", st == 200, f"{st} {str(j)[:200]}")

            syn = dendrite.preprocess_synapse_for_request(axon_info(port_r2, miner_ss58), r2_request(), 30)
            st, j, _ = await post(syn.to_headers(), syn.model_dump(),
                                  f"http://127.0.0.1:{port_r2}/NoSuchSynapse")
            m = j.get("message", "") if isinstance(j, dict) else ""
            C.check("unknown route -> 404", st == 404, f"{st} {m!r}")

        await dendrite.aclose_session()

        for p, lg in procs:
            C.check(f"target still running at the end ({Path(lg).name})", p.poll() is None,
                    f"exit {p.poll()}\n{common.tail(lg)}")
    finally:
        for p, _ in procs:
            common.stop_process(p)
        if C.failed:
            for _, lg in procs:
                print(f"---- last lines of {lg} ----\n{common.tail(lg)}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--miner", help="path to our miner binary")
    g.add_argument("--python-axon", action="store_true", help="self-test against a real bt.Axon")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (wallets, logs)")
    args = ap.parse_args()
    if args.miner:
        args.miner = os.path.abspath(args.miner)

    common.exit_on_sigterm()
    C = common.Checks("A: bt.Dendrite -> " + ("rust miner" if args.miner else "python axon"))
    work = Path(tempfile.mkdtemp(prefix="miid-interop-a-"))
    try:
        asyncio.run(run(args, C, work))
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
