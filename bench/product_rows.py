"""Product rows of N deals (and every activity) with bitrix_frames and with the obvious approaches,
on one sandbox portal in one run; one JSON line per run.

Runs (the sandbox is reset before each: same data, empty rate bucket and operating clock):

- ``bitrix_frames``: ``portal.product_rows("deal")`` -- deal IDs by keyset, then
  ``crm.item.productrow.list`` with owner-ID arrays, many owners per command, 50 commands per
  request; the typed frame included in the wall time.
- ``fast_bitrix24``: ``get_by_ID("crm.deal.productrows.get", deal_ids)`` -- one call per deal,
  which the library packs 50 per batch (plus its ``get_all("crm.deal.list")`` for the IDs).
- ``requests_per_deal``: plain ``requests``, one ``crm.deal.productrows.get`` per deal (IDs from
  ``crm.deal.list`` pages). Run with the rate limit off (``limits: false`` in its line): at the
  cloud's 2 requests/s it would take about N/2 seconds, which the line also states.
- ``activities``: ``portal.activities()`` beside ``fast_bitrix24``'s ``get_all("crm.activity.list")``.

The cloud runs use the rate limit of a cloud portal (2 requests/s, burst 50) and a latency of
30 ms per HTTP request. Printed per run: rows, complete (the same row IDs as the portal holds),
http_requests, sub_calls, target (the issue-13 bound), wall_seconds.

Example::

    .venv/bin/python bench/product_rows.py --deals 10000
    .venv/bin/python bench/product_rows.py --deals 2000 --runs bitrix_frames,activities
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

import bitrix_frames as bf  # noqa: E402
from bitrix_frames.sandbox import Sandbox  # noqa: E402

RUNS = (
    "bitrix_frames",
    "fast_bitrix24",
    "requests_per_deal",
    "activities",
    "fast_bitrix24_activities",
)
SELECT = ["*", "COMMUNICATIONS", "IS_INCOMING_CHANNEL"]
"""What ``portal.activities()`` selects; the peer asks for the same."""
CLOUD = {"rate": 2.0, "burst": 50, "latency": 0.03, "sleep": True}


def _ours_rows(url: str) -> set[int]:
    with bf.connect(url) as portal:
        return set(portal.product_rows("deal", progress=False).index)


def _fast_rows(url: str) -> set[int]:
    from fast_bitrix24 import Bitrix

    b = Bitrix(url, verbose=False)
    ids = [int(d["ID"]) for d in b.get_all("crm.deal.list", params={"select": ["ID"]})]
    got = b.get_by_ID("crm.deal.productrows.get", ids)
    rows = got.values() if isinstance(got, dict) else got
    return {int(r["ID"]) for per_deal in rows for r in (per_deal or [])}


def _requests_rows(url: str) -> set[int]:
    with requests.Session() as s:
        ids: list[int] = []
        start: int | None = 0
        while start is not None:
            body = s.post(url + "crm.deal.list", json={"select": ["ID"], "start": start}).json()
            ids += [int(d["ID"]) for d in body["result"]]
            start = body.get("next")
        out: set[int] = set()
        for deal in ids:
            body = s.post(url + "crm.deal.productrows.get", json={"id": deal}).json()
            out |= {int(r["ID"]) for r in body["result"]}
        return out


def _ours_activities(url: str) -> set[int]:
    with bf.connect(url) as portal:
        return set(portal.activities(progress=False).index)


def _fast_activities(url: str) -> set[int]:
    from fast_bitrix24 import Bitrix

    rows = Bitrix(url, verbose=False).get_all("crm.activity.list", params={"select": SELECT})
    return {int(r["ID"]) for r in rows}


def run(name: str, sb: Sandbox, fn: Callable[[str], set[int]], expected: set[int]) -> dict:
    sb.reset()
    before = sb.stats()
    t0 = time.perf_counter()
    error = None
    got: set[int] = set()
    try:
        got = fn(sb.webhook_url)
    except Exception as exc:  # report, never hang
        error = f"{type(exc).__name__}: {exc}"[:300]
    wall = time.perf_counter() - t0
    after = sb.stats()
    return {
        "run": name,
        "rows": len(got),
        "complete": got == expected,
        "http_requests": after["http_requests"] - before["http_requests"],
        "sub_calls": after["sub_calls_total"] - before["sub_calls_total"],
        "wall_seconds": round(wall, 2),
        "error": error,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args(argv)
    wanted = [r.strip() for r in args.runs.split(",") if r.strip()]
    deals = args.deals
    cloud = [r for r in wanted if r != "requests_per_deal"]
    sandboxes: list[tuple[list[str], dict[str, Any]]] = [
        (cloud, CLOUD),
        ([r for r in wanted if r == "requests_per_deal"], {"limits": False}),
    ]
    for names, config in sandboxes:
        if not names:
            continue
        with Sandbox(deals=deals, **config) as sb:
            rows_ids = {
                r[0]
                for r in sb.store.query("SELECT ID FROM crm_product_row WHERE OWNER_TYPE = 'D'")
            }
            acts = {r[0] for r in sb.store.query("SELECT ID FROM crm_activity")}
            for name in names:
                if name in ("activities", "fast_bitrix24_activities"):
                    fn = _ours_activities if name == "activities" else _fast_activities
                    line = run(name, sb, fn, acts)
                    line["target"] = math.ceil(len(acts) / 2500) + 2
                else:
                    fn = {"bitrix_frames": _ours_rows, "fast_bitrix24": _fast_rows,
                          "requests_per_deal": _requests_rows}[name]  # fmt: skip
                    line = run(name, sb, fn, rows_ids)
                    line["target"] = math.ceil(deals / 2500) + math.ceil(len(rows_ids) / 2500) + 2
                    if name == "requests_per_deal":
                        line["at_2_per_s_seconds"] = round(line["http_requests"] / 2)
                line.update(
                    deals=deals, limits=config.get("limits", True), latency=config.get("latency", 0)
                )
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
