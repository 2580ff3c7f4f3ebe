"""Helpers shared by the interop drivers (stdlib + bittensor-wallet only; no chain access)."""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# A valid 1x1 PNG (spec 1.8).
TINY_PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

SEEDS = [
    ["John Smith", "1990-05-14", "Springfield, United States"],
    ["Maria Garcia", "1985-11-02", "Madrid, Spain"],
    ["Li Wei", "1978-03-30", "Shanghai, China"],
]

QUERY_TEMPLATE = (
    "Generate 8 variations of the name {name}, ensuring phonetic similarity (Light: 20%, Medium: 60%, "
    "Far: 20%) and orthographic similarity (Light: 70%, Medium: 30%). Also generate 8 variations of "
    "the date of birth {dob} and 8 variations of the address {address}.\n\n"
    "[ADDITIONAL CONTEXT]: For the seed \"John Smith\" ONLY, use this structure: return "
    "{\"variations\": [[name, dob, address], ...], \"uav\": {\"address\": ..., \"label\": ..., "
    "\"latitude\": ..., \"longitude\": ...}} where uav is an address that looks valid but fails "
    "geocoding."
)

VARIATION_REQUESTS_R2 = [
    {"type": "background_edit", "intensity": "medium",
     "description": "Change the background while keeping the subject unchanged.",
     "detail": "Switch to another plausible indoor environment."},
    {"type": "lighting_edit+expression_edit", "intensity": "light+far",
     "description": "Combined variation \u2014 lighting and expression.",
     "detail": "Subtle brightness change AND pronounced expression."},
    {"type": "lighting_edit+pose_edit", "intensity": "medium+light",
     "description": "Combined variation \u2014 lighting and pose.",
     "detail": "Warmer light AND slight head turn."},
    {"type": "pose_edit+expression_edit", "intensity": "light+medium",
     "description": "Combined variation \u2014 pose and expression.",
     "detail": "Slight tilt AND a smile."},
    {"type": "background_edit", "intensity": "far",
     "description": "Change the background while keeping the subject unchanged.",
     "detail": "Outdoor street scene."},
]


def patch_external_ip(ip="192.0.2.1"):
    """bittensor's Dendrite/Axon look up the public IP over the internet at construction time
    (checkip.amazonaws.com, curl ifconfig.me, ...). The test is offline; answer locally.
    192.0.2.1 (TEST-NET-1) is what the dendrite reports in `bt_header_dendrite_ip`; it must not
    equal the target IP, or the dendrite rewrites the URL host to 0.0.0.0."""
    from bittensor.utils import networking

    networking.get_external_ip = lambda: ip


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc=None, timeout=60.0, host="127.0.0.1"):
    """Waits until host:port accepts TCP connections. Returns False on timeout or if proc exits."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def make_hotkey(wallet_path, name, hotkey="default"):
    """Creates an unencrypted hotkey with the Python bittensor-wallet package; returns its SS58."""
    from bittensor_wallet import Wallet

    w = Wallet(name=name, hotkey=hotkey, path=str(wallet_path))
    w.create_new_hotkey(n_words=12, use_password=False, overwrite=True, suppress=True)
    return w.hotkey.ss58_address


def load_wallet(wallet_path, name, hotkey="default"):
    from bittensor_wallet import Wallet

    return Wallet(name=name, hotkey=hotkey, path=str(wallet_path))


def write_metagraph(path, neurons):
    """neurons: list of dicts with uid, hotkey, permit, stake, port (None = not serving)."""
    doc = {"netuid": 54, "block": 1, "neurons": []}
    for n in neurons:
        doc["neurons"].append({
            "uid": n["uid"],
            "hotkey": n["hotkey"],
            "coldkey": n.get("coldkey", n["hotkey"]),
            "stake": float(n.get("stake", 0.0)),
            "validator_permit": bool(n.get("permit", False)),
            "axon": {"ip": "127.0.0.1" if n.get("port") else "0.0.0.0", "port": n.get("port") or 0},
        })
    Path(path).write_text(json.dumps(doc, indent=2))
    return doc


def exit_on_sigterm():
    """Turns SIGTERM (sent by run.sh's trap) into SystemExit so `finally` blocks stop the servers."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def _die_with_parent():
    """In the child: get SIGTERM if the driver dies without cleaning up (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def start_process(argv, log_path, env=None):
    """Starts a child in its own process group, output to log_path."""
    log = open(log_path, "wb")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def stop_process(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def tail(path, n=40):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


class Checks:
    """Collects PASS/FAIL lines; exit status 1 if any failed."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.failed = []
        self.passed = 0

    def check(self, name, ok, detail=""):
        status = "PASS" if ok else "FAIL"
        line = f"{status} [{self.prefix}] {name}"
        if detail and not ok:
            line += f" -- {detail}"
        print(line, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        return ok

    def exit(self):
        total = self.passed + len(self.failed)
        print(f"[{self.prefix}] {self.passed}/{total} checks passed", flush=True)
        sys.exit(1 if self.failed else 0)


def b64(s):
    return base64.b64encode(s.encode()).decode()
