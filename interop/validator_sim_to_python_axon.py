#!/usr/bin/env python3
"""Interop direction B: our validator-sim queries a real bittensor==10.5.0 `bt.Axon`.

    validator_sim_to_python_axon.py --validator-sim target/debug/validator-sim

For each scenario it writes a metagraph (uid 0 = validator with permit, uid 1 = the Python axon),
starts python_axon.py, runs
    validator-sim query --metagraph F --wallet.path P --wallet.name N --wallet.hotkey H \
        --generation r1|r2 --timeout 30 --out results.json
and checks the results JSON (array of {uid, hotkey, status_code, status_message, variations, ...}).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402


def is_row(row):
    return isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)


def scenario(args, C, work, W, val_ss58, miner_ss58, *, gen, label, wallet="validator", uav=False,
             expect=200, extra_neurons=()):
    tag = f"{label}"
    sdir = work / label
    sdir.mkdir()
    port = common.free_port()
    mg = sdir / "metagraph.json"
    common.write_metagraph(mg, [
        {"uid": 0, "hotkey": val_ss58, "stake": 1000.0, "permit": True},
        {"uid": 1, "hotkey": miner_ss58, "stake": 0.0, "permit": False, "port": port},
        *extra_neurons,
    ])
    rec = sdir / "received.jsonl"
    log = sdir / "python_axon.log"
    argv = [sys.executable, os.path.join(HERE, "python_axon.py"), "--wallet.path", str(W),
            "--wallet.name", "miner", "--port", str(port), "--generation", gen, "--metagraph", str(mg),
            "--record", str(rec)] + (["--uav"] if uav else [])
    axon = common.start_process(argv, log)
    try:
        if not C.check(f"{tag}: python axon listens", common.wait_port(port, axon, 90), common.tail(log)):
            return
        out = sdir / "results.json"
        cmd = [args.validator_sim, "query", "--metagraph", str(mg), "--wallet.path", str(W),
               "--wallet.name", wallet, "--wallet.hotkey", "default", "--generation", gen,
               "--timeout", "30", "--out", str(out)]
        t = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        print(f"  ({tag}: validator-sim ran {time.time() - t:.2f}s, rc={p.returncode})", flush=True)
        if not C.check(f"{tag}: validator-sim query exits 0", p.returncode == 0,
                       f"cmd={' '.join(cmd)}\nstdout={p.stdout[-1500:]}\nstderr={p.stderr[-1500:]}"):
            return
        try:
            results = json.loads(out.read_text())
        except Exception as e:  # noqa: BLE001
            C.check(f"{tag}: results file is JSON", False, repr(e))
            return
        C.check(f"{tag}: results is a JSON array", isinstance(results, list), str(results)[:300])
        if not isinstance(results, list):
            return
        mine = [r for r in results if isinstance(r, dict) and r.get("uid") == 1]
        if not C.check(f"{tag}: results has an entry for uid 1", len(mine) == 1, str(results)[:500]):
            return
        r = mine[0]
        missing = [k for k in ("uid", "hotkey", "status_code", "status_message", "variations") if k not in r]
        C.check(f"{tag}: entry has uid/hotkey/status_code/status_message/variations", not missing,
                f"missing {missing}; keys={list(r)}")
        C.check(f"{tag}: entry hotkey is the python axon's", r.get("hotkey") == miner_ss58, str(r.get("hotkey")))
        C.check(f"{tag}: status_code {expect}", r.get("status_code") == expect,
                f"{r.get('status_code')} {r.get('status_message')!r}")
        received = [json.loads(x) for x in rec.read_text().splitlines()] if rec.exists() else []
        if expect != 200:
            C.check(f"{tag}: status_message is the axon's blacklist message",
                    r.get("status_message") == "Forbidden. Key is blacklisted: Unrecognized hotkey.",
                    repr(r.get("status_message")))
            C.check(f"{tag}: the axon's forward never ran", not received, str(received)[:300])
            return
        if not C.check(f"{tag}: python axon forwarded exactly one request", len(received) == 1,
                       str(received)[:500]):
            return
        got = received[0]
        # R1 validators ran bittensor 10.0.0 (10000000), R2 ones 10.5.0 (10005000): either is fine.
        C.check(f"{tag}: request from the validator hotkey, version header 10000000 or 10005000",
                got["dendrite"]["hotkey"] == val_ss58 and got["dendrite"]["version"] in (10000000, 10005000),
                str(got["dendrite"]))
        C.check(f"{tag}: request timeout field is 30", abs(float(got["timeout"]) - 30.0) < 1e-9,
                str(got["timeout"]))
        print(f"  ({tag}: python axon received {json.dumps(got)[:400]})", flush=True)
        if gen == "r1":
            seeds = [s[0] for s in got.get("identity", [])]
            v = r.get("variations")
            C.check(f"{tag}: request carried >=1 seed and a query_template with {{name}}",
                    bool(seeds) and "{name}" in (got.get("query_template") or ""), str(got)[:300])
            C.check(f"{tag}: variations is an object with every seed",
                    isinstance(v, dict) and all(s in v for s in seeds), f"seeds={seeds} variations={v!r}"[:600])
            rows_ok = isinstance(v, dict) and all(
                isinstance(v.get(s), (list, dict)) and
                all(is_row(row) for row in (v[s] if isinstance(v[s], list) else v[s].get("variations", [])))
                and len(v[s] if isinstance(v[s], list) else v[s].get("variations", [])) == 2
                for s in seeds)
            C.check(f"{tag}: each seed has the 2 rows of 3 strings the axon sent", rows_ok, f"{v!r}"[:600])
            if uav:
                m = re.search(r'For the seed "([^"]+)" ONLY', got.get("query_template") or "")
                C.check(f"{tag}: query_template names a UAV seed with 'For the seed \"X\" ONLY'",
                        m is not None and m.group(1) in seeds, (got.get("query_template") or "")[-400:])
                if m:
                    uv = v.get(m.group(1)) if isinstance(v, dict) else None
                    C.check(f"{tag}: UAV-form answer for {m.group(1)!r} kept in results (variations + uav)",
                            isinstance(uv, dict) and isinstance(uv.get("uav"), dict)
                            and uv["uav"].get("address") == "12 Mian Stret, Springfield, USA",
                            f"{uv!r}"[:400])
        else:
            C.check(f"{tag}: R2 request carried an image_request with 5 variation_requests",
                    len((got.get("image_request") or {}).get("variation_types", [])) == 5, str(got)[:400])
            subs = r.get("s3_submissions", "(absent)")
            if subs != "(absent)":
                C.check(f"{tag}: results s3_submissions has the 5 the axon sent",
                        isinstance(subs, list) and len(subs) == 5, f"{subs!r}"[:400])
            else:
                print(f"  ({tag}: results entry has no s3_submissions key; keys={list(r)})", flush=True)
        C.check(f"{tag}: python axon still running", axon.poll() is None, common.tail(log))
    finally:
        common.stop_process(axon)
        if C.failed:
            print(f"---- last lines of {log} ----\n{common.tail(log)}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validator-sim", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.validator_sim = os.path.abspath(args.validator_sim)
    common.exit_on_sigterm()
    C = common.Checks("B: validator-sim -> bt.Axon")
    work = Path(tempfile.mkdtemp(prefix="miid-interop-b-"))
    try:
        W = work / "wallets"
        val_ss58 = common.make_hotkey(W, "validator")
        intruder_ss58 = common.make_hotkey(W, "intruder")
        miner_ss58 = common.make_hotkey(W, "miner")
        scenario(args, C, work, W, val_ss58, miner_ss58, gen="r1", label="r1")
        scenario(args, C, work, W, val_ss58, miner_ss58, gen="r1", label="r1-uav", uav=True)
        scenario(args, C, work, W, val_ss58, miner_ss58, gen="r2", label="r2")
        scenario(args, C, work, W, val_ss58, miner_ss58, gen="r1", label="r1-unlisted-validator",
                 wallet="intruder", expect=403,
                 # registered (so validator-sim may use it) but without a permit: not whitelisted
                 extra_neurons=[{"uid": 2, "hotkey": intruder_ss58, "stake": 10.0, "permit": False}])
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
