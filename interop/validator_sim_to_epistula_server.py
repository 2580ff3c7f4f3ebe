#!/usr/bin/env python3
"""Interop direction C2: our validator-sim signs Epistula; a Python server that verifies with
`bittensor_wallet.Keypair` (epistula_server.py) answers.

    validator_sim_to_epistula_server.py --validator-sim target/debug/validator-sim

First the server itself is checked with the Python signer of epistula_to_rust_miner.py (good
requests verify, a tampered body is 401), so a pass below means something. Then, for each
scenario, a fresh server and metagraph (uid 0 = validator with permit, uid 1 = the server with
its port and the miner hotkey the server holds, uid 2 = a registered hotkey without permit), and

    validator-sim query --metagraph F --wallet.path P --wallet.name N --wallet.hotkey default \
        --generation r1 --transport epistula|epistula-simple|v10 --timeout 30 --out results.json
"""
import argparse
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
from epistula_to_rust_miner import message_of, post, r1_body, sign_simple, sign_v2  # noqa: E402


def is_row(row):
    return isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)


def read_record(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def start_server(C, tag, sdir, W, port, mg):
    rec = sdir / "received.jsonl"
    log = sdir / "epistula_server.log"
    proc = common.start_process([sys.executable, os.path.join(HERE, "epistula_server.py"),
                                 "--wallet.path", str(W), "--wallet.name", "miner", "--port", str(port),
                                 "--metagraph", str(mg), "--record", str(rec)], log)
    ok = C.check(f"{tag}: epistula server listens", common.wait_port(port, proc, 60), common.tail(log))
    return proc, rec, log, ok


def write_mg(path, val_ss58, miner_ss58, intruder_ss58, port):
    common.write_metagraph(path, [
        {"uid": 0, "hotkey": val_ss58, "stake": 1000.0, "permit": True},
        {"uid": 1, "hotkey": miner_ss58, "stake": 0.0, "permit": False, "port": port},
        # registered (so validator-sim may use it) but without a permit: the server refuses it
        {"uid": 2, "hotkey": intruder_ss58, "stake": 10.0, "permit": False},
    ])


def server_selftest(C, work, W, val_ss58, miner_ss58, intruder_ss58):
    """The Python signer against the Python verifier: the server accepts what it should."""
    tag = "server self-test"
    sdir = work / "selftest"
    sdir.mkdir()
    port = common.free_port()
    mg = sdir / "metagraph.json"
    write_mg(mg, val_ss58, miner_ss58, intruder_ss58, port)
    proc, rec, log, up = start_server(C, tag, sdir, W, port, mg)
    try:
        if not up:
            return
        val = common.load_wallet(W, "validator").hotkey
        body = r1_body()
        st, j, hd = post(port, {**sign_v2(val, body, signed_for=miner_ss58), "timeout": "30.0"}, body)
        C.check(f"{tag}: python-signed v2 -> 200 application/json with variations",
                st == 200 and hd.get("content-type", "").startswith("application/json")
                and isinstance(j.get("variations"), dict) and len(j["variations"]) == len(common.SEEDS)
                and j.get("s3_submissions") == [], f"{st} {str(j)[:300]}")
        h = sign_v2(val, body, signed_for=miner_ss58)
        st, j, _ = post(port, h, body.replace(b"John Smith", b"John Smyth"))
        C.check(f"{tag}: v2 with body altered after signing -> 401", st == 401, f"{st} {message_of(j)!r}")
        st, j, _ = post(port, {**sign_simple(val, body), "timeout": "30.0"}, body)
        C.check(f"{tag}: python-signed simple form -> 200", st == 200, f"{st} {str(j)[:300]}")
        h = sign_simple(val, body)
        st, j, _ = post(port, h, body.replace(b"John Smith", b"John Smyth"))
        C.check(f"{tag}: simple form with body altered after signing -> 401", st == 401,
                f"{st} {message_of(j)!r}")
        st, j, _ = post(port, h, body)
        st2, j2, _ = post(port, h, body)
        C.check(f"{tag}: simple form replayed -> 401 (first 200)", st == 200 and st2 == 401,
                f"{st} then {st2} {message_of(j2)!r}")
        got = read_record(rec)
        C.check(f"{tag}: server recorded 3 verified 200s and 3 refusals",
                sum(1 for g in got if g.get("verified") and g.get("status") == 200) == 3
                and sum(1 for g in got if not g.get("verified")) == 3, str(got)[:600])
    finally:
        common.stop_process(proc)
        if C.failed:
            print(f"---- last lines of {log} ----\n{common.tail(log)}", flush=True)


def scenario(args, C, work, W, val_ss58, miner_ss58, intruder_ss58, *, label, transport, wallet="validator",
             expect=200, listed_hotkey=None):
    """listed_hotkey: the hotkey the metagraph gives uid 1 (default: the one the server holds)."""
    tag = label
    listed = listed_hotkey or miner_ss58
    sdir = work / label
    sdir.mkdir()
    port = common.free_port()
    mg = sdir / "metagraph.json"
    write_mg(mg, val_ss58, listed, intruder_ss58, port)
    proc, rec, log, up = start_server(C, tag, sdir, W, port, mg)
    try:
        if not up:
            return
        out = sdir / "results.json"
        cmd = [args.validator_sim, "query", "--metagraph", str(mg), "--wallet.path", str(W),
               "--wallet.name", wallet, "--wallet.hotkey", "default", "--generation", "r1",
               "--transport", transport, "--timeout", "30", "--out", str(out)]
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
        mine = [r for r in results if isinstance(r, dict) and r.get("uid") == 1] if isinstance(results, list) else []
        if not C.check(f"{tag}: results has one entry for uid 1", len(mine) == 1, str(results)[:500]):
            return
        r = mine[0]
        C.check(f"{tag}: entry hotkey is uid 1's", r.get("hotkey") == listed, str(r.get("hotkey")))
        C.check(f"{tag}: status_code {expect}", r.get("status_code") == expect,
                f"{r.get('status_code')} {r.get('status_message')!r}")
        got = read_record(rec)
        if not C.check(f"{tag}: server saw exactly one request", len(got) == 1, str(got)[:600]):
            return
        g = got[0]
        print(f"  ({tag}: server recorded {json.dumps(g, ensure_ascii=False)[:300]})", flush=True)
        form = {"epistula": "v2", "epistula-simple": "simple"}.get(transport)
        if listed != miner_ss58:
            C.check(f"{tag}: server refused it unverified (Signed-For is not its hotkey)",
                    g.get("verified") is False and g.get("status") == 401
                    and "not intended for self" in (g.get("reason") or ""), str(g))
            C.check(f"{tag}: results carry the server's 401 message",
                    r.get("status_message") == g.get("reason"), repr(r.get("status_message")))
            return
        if transport == "v10":
            C.check(f"{tag}: server refused it unverified (no Epistula headers)",
                    g.get("verified") is False and g.get("status") == 401, str(g))
            C.check(f"{tag}: results carry the server's 401 message",
                    r.get("status_message") == g.get("reason"), repr(r.get("status_message")))
            return
        signer = val_ss58 if wallet == "validator" else intruder_ss58
        C.check(f"{tag}: server verified the {form} signature of {wallet}'s hotkey",
                g.get("verified") is True and g.get("form") == form and g.get("signer") == signer, str(g))
        if form == "v2":
            C.check(f"{tag}: Epistula-Signed-For is the server's hotkey", g.get("signed_for") == miner_ss58, str(g))
        C.check(f"{tag}: timeout header 30 and Content-Type application/json",
                g.get("timeout") is not None and abs(float(g["timeout"]) - 30.0) < 1e-9
                and (g.get("content_type") or "").startswith("application/json"), str(g))
        if expect != 200:
            C.check(f"{tag}: results carry the server's refusal message",
                    r.get("status_message") == "Forbidden. Key is blacklisted: Unrecognized hotkey."
                    and g.get("status") == expect, repr(r.get("status_message")))
            return
        seeds = g.get("seeds") or []
        v = r.get("variations")
        C.check(f"{tag}: request carried >=1 seed", bool(seeds), str(g))
        C.check(f"{tag}: variations has every seed, with the 2 rows of 3 strings the server sent",
                isinstance(v, dict) and sorted(v) == sorted(seeds)
                and all(isinstance(v[s], list) and len(v[s]) == 2 and all(is_row(x) for x in v[s]) for s in seeds)
                and all(v[s][0][0] == f"{s}x" for s in seeds), f"seeds={seeds} variations={v!r}"[:600])
        C.check(f"{tag}: server still running", proc.poll() is None, common.tail(log))
    finally:
        common.stop_process(proc)
        if C.failed:
            print(f"---- last lines of {log} ----\n{common.tail(log)}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--validator-sim", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.validator_sim = os.path.abspath(args.validator_sim)
    common.exit_on_sigterm()
    C = common.Checks("C2: validator-sim -> python Epistula server")
    work = Path(tempfile.mkdtemp(prefix="miid-interop-c2-"))
    try:
        W = work / "wallets"
        val_ss58 = common.make_hotkey(W, "validator")
        intruder_ss58 = common.make_hotkey(W, "intruder")
        miner_ss58 = common.make_hotkey(W, "miner")
        keys = (W, val_ss58, miner_ss58, intruder_ss58)
        server_selftest(C, work, *keys)
        scenario(args, C, work, *keys, label="epistula-v2", transport="epistula")
        scenario(args, C, work, *keys, label="epistula-simple", transport="epistula-simple")
        scenario(args, C, work, *keys, label="epistula-v2-unaccepted-key", transport="epistula",
                 wallet="intruder", expect=403)
        scenario(args, C, work, *keys, label="epistula-simple-unaccepted-key", transport="epistula-simple",
                 wallet="intruder", expect=403)
        # uid 1 listed with another hotkey: validator-sim signs for that one, the server refuses
        scenario(args, C, work, *keys, label="epistula-v2-signed-for-another-hotkey", transport="epistula",
                 expect=401, listed_hotkey=common.make_hotkey(W, "other"))
        scenario(args, C, work, *keys, label="v10-to-epistula-only-server", transport="v10", expect=401)
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
