"""Stage history of N deals: ``portal.stage_history("deal")`` beside the obvious approaches, in one
run against one sandbox; one JSON line per approach.

Approaches (all read ``crm.stagehistory.list`` with ``entityTypeId=2``, every entry once):

* ``bitrix_frames``: the typed frame (keyset chains, 2,500 rows per request, metadata included);
* ``fast_bitrix24``: ``Bitrix(url).get_all(...)``: ``start`` offsets, 50 pages per batch;
* ``plain_start``: one HTTP request per 50 rows, following ``next`` (what a loop over
  ``requests.post`` does).

The sandbox is reset between approaches (same seed, same rows; counters, rate bucket and
operating clock cleared). Rate limits are off unless ``--rate``/``--burst`` are given; ``--cost``
turns on the documented cost model of bench/load.py (COUNT and OFFSET cost operating time, slept).
Printed: approach, rows, complete, http_requests, sub_calls, rows_counted, rows_skipped,
operating_seconds, wall_seconds, target (``ceil(rows/2500) + 2``), within_target.

Example::

    .venv/bin/python bench/history.py --deals 100000
    .venv/bin/python bench/history.py --deals 5000 --cost --rate 2 --burst 50
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import COST  # noqa: E402  (bench/load.py's cost model, from huge-data.md)

from bitrix_frames.sandbox import Sandbox  # noqa: E402

PARAMS = {"entityTypeId": 2}


def ours(url: str, rate: float, burst: float) -> Callable[[], list[int]]:
    import bitrix_frames as bf

    def run() -> list[int]:
        with bf.connect(url, rate=rate, burst=burst) as portal:
            return portal.stage_history("deal", progress=False).index.tolist()

    return run


def fast_bitrix24(url: str, rate: float, burst: float) -> Callable[[], list[int]]:
    from fast_bitrix24 import Bitrix

    def run() -> list[int]:
        rows = Bitrix(url, verbose=False).get_all("crm.stagehistory.list", PARAMS)
        if isinstance(rows, dict):  # {"items": [...]} when it does not unwrap
            rows = rows.get("items", [])
        return [int(r["ID"]) for r in rows]

    return run


def plain_start(url: str, rate: float, burst: float) -> Callable[[], list[int]]:
    def run() -> list[int]:
        ids: list[int] = []
        start: int | None = 0
        with requests.Session() as http:
            while start is not None:
                body = http.post(
                    url + "crm.stagehistory.list", json={**PARAMS, "start": start}, timeout=600
                ).json()
                if "error" in body:
                    if body["error"] == "QUERY_LIMIT_EXCEEDED":
                        time.sleep(1 / rate)
                        continue
                    raise RuntimeError(body)
                ids += [int(r["ID"]) for r in body["result"]["items"]]
                start = body.get("next")
        return ids

    return run


APPROACHES = {"bitrix_frames": ours, "fast_bitrix24": fast_bitrix24, "plain_start": plain_start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--approaches", default=",".join(APPROACHES))
    parser.add_argument("--cost", action="store_true", help="documented cost model, slept")
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--burst", type=float, default=None)
    args = parser.parse_args(argv)
    config: dict = dict(COST) if args.cost else {}
    if args.rate is None and args.burst is None:
        config["limits"] = False
        rate, burst = 1000.0, 1000.0
    else:
        rate, burst = args.rate or 2.0, args.burst or 50.0
        config.update(rate=rate, burst=burst)
    t0 = time.perf_counter()
    with Sandbox(deals=args.deals, **config) as sb:
        started = time.perf_counter() - t0
        expected = sorted(
            r["ID"]
            for r in sb.engine.store.query(
                "SELECT ID FROM crm_stage_history WHERE ENTITY_TYPE_ID = 2"
            )
        )
        for name in args.approaches.split(","):
            sb.reset()
            run = APPROACHES[name](sb.webhook_url, rate, burst)
            t = time.perf_counter()
            try:
                ids, error = run(), None
            except Exception as exc:  # reported, not raised: the other approaches still run
                ids, error = [], f"{type(exc).__name__}: {exc}"[:300]
            wall = time.perf_counter() - t
            stats = sb.stats()
            target = math.ceil(len(expected) / 2500) + 2
            print(
                json.dumps(
                    {
                        "approach": name,
                        "deals": args.deals,
                        "rows": len(ids),
                        "complete": sorted(ids) == expected,
                        "http_requests": stats["http_requests"],
                        "sub_calls": stats["sub_calls_total"],
                        "rows_counted": stats["rows_counted"],
                        "rows_skipped": stats["rows_skipped"],
                        "operating_seconds": round(stats["operating_seconds_total"], 2),
                        "wall_seconds": round(wall, 2),
                        "target_requests": target,
                        "within_target": stats["http_requests"] <= target,
                        "cost_model": args.cost,
                        "rate": None if args.rate is None and args.burst is None else rate,
                        "sandbox_start_seconds": round(started, 1),
                        "error": error,
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
