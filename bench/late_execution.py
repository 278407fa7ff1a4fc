"""Writes the portal executes after the client gave up: duplicates and losses per execution window.

The sandbox runs a fraction of the requests ``late`` (after a client read timeout has fired), then
drops the answer. For each window (0 = resend at once, the old behaviour) and seed, 1,000 deal
adds are applied and the portal is counted. One JSON line per run.

Usage::

    python bench/late_execution.py --windows 0,5 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from bitrix_frames.client import Client
from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary


def run(window: float, seed: int, adds: int, late: float) -> dict:
    config = dict(faults={"late": late}, fault_seed=seed, late_seconds=1.5, request_time_limit=4)
    with Sandbox(deals=10, limits=False, **config) as sb:
        client = Client(
            sb.webhook_url, rate=1000, burst=1000, timeout=(2.0, 0.8), execution_window=window
        )
        with client:
            deals = load(client, "deal")
            titles = [f"late-{k}" for k in range(adds)]
            new = pd.DataFrame(
                {"TITLE": titles}, index=pd.Index([pd.NA] * adds, dtype="Int64", name="ID")
            )
            start = time.perf_counter()
            rep = plan(client, deals, pd.concat([deals, new])).apply(journal=False)
            wall = time.perf_counter() - start
        sb.wait_idle(30)
        stored = [
            r[0] for r in sb.store.query("SELECT TITLE FROM crm_deal WHERE TITLE LIKE 'late-%'")
        ]
        stats = sb.stats()
    return {
        "bench": "late_execution",
        "window_s": window,
        "seed": seed,
        "adds": adds,
        "late_fraction": late,
        "late_faults": stats["faults"].get("late", 0),
        "duplicates": len(stored) - len(set(stored)),
        "lost": adds - len(set(stored)),
        "report": summary(rep),
        "http_requests": stats["http_requests"],
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", default="0,5")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--adds", type=int, default=1000)
    parser.add_argument("--late", type=float, default=0.2)
    args = parser.parse_args()
    for window in (float(w) for w in args.windows.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            print(json.dumps(run(window, seed, args.adds, args.late)), flush=True)


if __name__ == "__main__":
    main()
