#!/usr/bin/env python3
"""A real bittensor==10.5.0 `bt.Axon` serving IdentitySynapse (R1 or R2), for our validator-sim
to query (interop direction B), and for self-testing the Python dendrite driver.

Admission mimics the reference miner: a static whitelist = hotkeys with a validator permit in the
metagraph snapshot (blacklist reason `Unrecognized hotkey`); signature and nonce checks are the
stock `Axon.default_verify`.

    python_axon.py --wallet.path P --wallet.name N --wallet.hotkey H --port PORT \
        --generation r1|r2 --metagraph FILE [--uav]
"""
import argparse
import hashlib
import json
import os
import re
import signal
import sys
import threading
import time
from typing import Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wallet.path", dest="wallet_path", required=True)
    ap.add_argument("--wallet.name", dest="wallet_name", required=True)
    ap.add_argument("--wallet.hotkey", dest="wallet_hotkey", default="default")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--generation", choices=["r1", "r2"], required=True)
    ap.add_argument("--metagraph", required=True)
    ap.add_argument("--uav", action="store_true",
                    help='R1: answer the seed named in the template\'s `For the seed "X" ONLY` in the UAV form')
    ap.add_argument("--record", help="append one JSON line per forwarded request (what arrived)")
    args = ap.parse_args()

    common.patch_external_ip("127.0.0.1")
    import bittensor as bt

    if args.generation == "r1":
        import synapse_r1 as proto
    else:
        import synapse_r2 as proto
    IdentitySynapse = proto.IdentitySynapse

    wallet = common.load_wallet(args.wallet_path, args.wallet_name, args.wallet_hotkey)
    keypair = wallet.hotkey
    my_hotkey = keypair.ss58_address
    with open(args.metagraph) as f:
        mg = json.load(f)
    whitelist = {n["hotkey"] for n in mg["neurons"] if n.get("validator_permit")}

    def blacklist(synapse: IdentitySynapse) -> Tuple[bool, str]:
        if synapse.dendrite is None or synapse.dendrite.hotkey is None:
            return True, "Missing dendrite or hotkey"
        if synapse.dendrite.hotkey not in whitelist:
            return True, "Unrecognized hotkey"
        return False, "Hotkey recognized!"

    def record(synapse):
        if not args.record:
            return
        d = synapse.dendrite
        line = {"generation": args.generation, "timeout": synapse.timeout,
                "dendrite": {"hotkey": d.hotkey, "version": d.version, "nonce": d.nonce, "uuid": d.uuid,
                             "ip": d.ip},
                "axon_hotkey": synapse.axon.hotkey if synapse.axon else None}
        if args.generation == "r1":
            line["identity"] = synapse.identity
            line["query_template"] = synapse.query_template
        req = synapse.image_request
        if req is not None:
            line["image_request"] = {"image_filename": req.image_filename, "challenge_id": req.challenge_id,
                                     "target_drand_round": req.target_drand_round,
                                     "variation_types": [v.type for v in req.variation_requests]}
        with open(args.record, "a") as f:
            f.write(json.dumps(line) + "\n")

    def forward_r1(synapse: IdentitySynapse) -> IdentitySynapse:
        record(synapse)
        out = {}
        m = re.search(r'For the seed "([^"]+)" ONLY', synapse.query_template or "")
        uav_seed = m.group(1) if m else "John Smith"
        for name, dob, address in synapse.identity:
            rows = [[f"{name}x", dob, address], [name.replace(" ", "-"), dob, address]]
            if args.uav and name == uav_seed:
                out[name] = {"variations": rows, "uav": {
                    "address": "12 Mian Stret, Springfield, USA", "label": "Common typo",
                    "latitude": None, "longitude": None}}
            else:
                out[name] = rows
        synapse.variations = out
        synapse.s3_submissions = []
        return synapse

    def forward_r2(synapse: IdentitySynapse) -> IdentitySynapse:
        record(synapse)
        subs = []
        req = synapse.image_request
        if req is not None:
            cid = req.challenge_id or "none"
            path_sig = keypair.sign(f"{cid}:{my_hotkey}".encode()).hex()[:16]
            stem = req.image_filename.rsplit(".", 1)[0]
            for i, vr in enumerate(req.variation_requests):
                data = f"fake-png-{i}".encode()
                h = hashlib.sha256(data).hexdigest()
                subs.append(proto.S3Submission(
                    s3_key=f"submissions/{cid}/{my_hotkey}/{path_sig}/{stem}/"
                           f"{vr.type.replace('+', '_')}_{int(time.time())}.png.tlock",
                    image_hash=h,
                    signature=keypair.sign(f"challenge:{cid}:hash:{h}".encode()).hex(),
                    variation_type=vr.type,
                    path_signature=path_sig,
                ))
        synapse.s3_submissions = subs
        return synapse

    # attach() inspects annotations: the first parameter's class is the route name.
    if args.generation == "r1":
        def forward(synapse: IdentitySynapse) -> IdentitySynapse:
            return forward_r1(synapse)
    else:
        def forward(synapse: IdentitySynapse) -> IdentitySynapse:
            return forward_r2(synapse)

    axon = bt.Axon(wallet=wallet, port=args.port, ip="127.0.0.1",
                   external_ip="127.0.0.1", external_port=args.port)
    axon.attach(forward_fn=forward, blacklist_fn=blacklist)
    axon.start()
    print(f"python axon {args.generation} {my_hotkey} listening on port {args.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    axon.stop()


if __name__ == "__main__":
    main()
