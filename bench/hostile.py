"""Time to a typed error and memory growth for every hostile answer; one JSON line per case.

Each case of ``tests/client/hostile_server.py`` runs in its own subprocess (a clean RSS figure)
against a loopback hostile server, with the given deadline and the default body caps (32 MiB on
the wire, 64 MiB decoded). Printed: case, how the client was driven, the error raised, seconds
until it was raised, the deadline, their ratio, peak RSS growth (MB, sampled every 5 ms), and
whether the server saw the client hang up. One more line per redirect kind counts the requests
and secret bytes that reached the other origin.

Example::

    .venv/bin/python bench/hostile.py                     # deadline 5 s, no retries
    .venv/bin/python bench/hostile.py --deadline 3 --retries 8 --case trickle_body
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "client"))
sys.path.insert(0, str(ROOT / "tests"))  # hostile_server imports the shared test helpers

SECRET = "benchHostileSecret01"


def peak_rss(fn):
    """Run ``fn``; return (its exception or None, seconds, peak RSS growth in MB)."""
    import psutil

    proc = psutil.Process()
    base = peak = proc.memory_info().rss
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.005):
            peak = max(peak, proc.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.monotonic()
    error = None
    try:
        fn()
    except Exception as e:  # the point: which exception, how fast
        error = e
    elapsed = time.monotonic() - start
    stop.set()
    sampler.join()
    peak = max(peak, proc.memory_info().rss)
    return error, elapsed, (peak - base) / 2**20


def run_case(name: str, deadline: float, retries: int) -> dict:
    from hostile_server import CASES, HostileServer
    from test_hostile_server import drive

    from bitrix_frames.client import Client
    from bitrix_frames.errors import BitrixError

    case = next(c for c in CASES if c.name == name)
    behaviour = case.behaviour()  # built before measuring (bombs are compressed here)
    with HostileServer(behaviour, max_seconds=120, lifetime=300) as hs:
        client = Client(hs.url(SECRET), rate=1000, burst=1000, deadline=deadline,
                        max_retries=retries)  # fmt: skip
        error, elapsed, growth = peak_rss(lambda: drive(client, case.call))
        client.close()
        hung_up = hs.client_hung_up.wait(3) if case.streams else None
        requests = len(hs.requests)
    return {
        "case": name,
        "call": case.call,
        "error": type(error).__name__ if error else None,
        "expected": case.error,
        "typed": isinstance(error, BitrixError),
        "elapsed_s": round(elapsed, 3),
        "deadline_s": deadline,
        "ratio": round(elapsed / deadline, 3),
        "rss_growth_mb": round(growth, 1),
        "server_saw_hangup": hung_up,
        "requests": requests,
        "retries": retries,
        "secret_in_error": bool(error) and SECRET in repr(error) + str(error),
    }


def run_redirect(method: str, deadline: float, retries: int) -> dict:
    from hostile_server import HostileServer, answer, redirect

    from bitrix_frames.client import Client

    with HostileServer(answer({"result": []})) as other:
        with HostileServer(redirect(other.url(SECRET) + method)) as hs:
            client = Client(hs.url(SECRET), rate=1000, burst=1000, deadline=deadline,
                            max_retries=retries)  # fmt: skip
            params = {"fields": {"TITLE": "x"}} if method.endswith(".add") else {}
            error, elapsed, growth = peak_rss(lambda: client.call(method, params))
            target_kept = client.masked_url == Client(hs.url(SECRET)).masked_url
        return {
            "case": f"redirect_other_origin[{method}]",
            "error": type(error).__name__ if error else None,
            "elapsed_s": round(elapsed, 3),
            "deadline_s": deadline,
            "rss_growth_mb": round(growth, 1),
            "requests_to_other_origin": len(other.requests),
            "secret_bytes_to_other_origin": SECRET.encode() in bytes(other.received),
            "secret_in_error": bool(error) and SECRET in repr(error) + str(error),
            "target_unchanged": target_kept,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=5.0)
    parser.add_argument("--retries", type=int, default=0)
    parser.add_argument("--case", help="run one case in this process")
    parser.add_argument("--redirect", help="run one redirect kind (a method name) in this process")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.deadline, args.retries)), flush=True)
        return
    if args.redirect:
        print(json.dumps(run_redirect(args.redirect, args.deadline, args.retries)), flush=True)
        return
    from hostile_server import CASES

    common = ["--deadline", str(args.deadline), "--retries", str(args.retries)]
    jobs = [["--case", c.name] for c in CASES]
    jobs += [["--redirect", m] for m in ("crm.deal.list", "crm.deal.add")]
    for job in jobs:
        out = subprocess.run(
            [sys.executable, __file__, *job, *common],
            capture_output=True,
            text=True,
            timeout=300,
        )
        line = out.stdout.strip().splitlines()[-1:] or [json.dumps({"job": job, "failed": True})]
        print(line[0], flush=True)


if __name__ == "__main__":
    main()
