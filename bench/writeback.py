"""Write-back benchmark (JSON lines): bitrix_frames ``plan(...).apply()`` beside fast-bitrix24's
``Bitrix(webhook).call("crm.deal.update"/"crm.deal.add", items)`` for the same work, same run.

Scenarios (each engine gets a freshly reset, identically seeded portal):

* ``clean``: ``--updates`` deal updates (TITLE + OPPORTUNITY) and ``--adds`` deal adds against a
  sandbox with the default limits (2 req/s, burst 50) and 30 ms latency per HTTP request;
* ``faults``: ``--fault-updates`` / ``--fault-adds`` with 10% mixed faults (refused, 500, dropped,
  executed-but-response-lost).

Each line: scenario, engine, ops, http_requests, sub_calls, wall_s, exact (portal equals the desired
state), duplicates (extra added rows), lost (updates/adds missing), error (if the engine raised), and
for bitrix_frames the target ``ceil(ops/50)`` plus the lookup requests it needed.

Run::

    .venv/bin/python bench/writeback.py                       # 10,000 updates + 1,000 adds
    .venv/bin/python bench/writeback.py --updates 500 --adds 100 --fault-updates 300 --fault-adds 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from typing import Any

import pandas as pd

from bitrix_frames.client import Client
from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary

FAULTS = {"refused": 0.025, "error": 0.025, "drop": 0.025, "lost": 0.025}


def emit(**row: Any) -> None:
    print(json.dumps(row, default=str), flush=True)


def desired(ids: list[int], tag: str, n_add: int) -> tuple[dict[int, tuple[str, float]], list[str]]:
    updates = {i: (f"{tag}-upd-{i}", float(i % 9973) + 0.25) for i in ids}
    adds = [f"{tag}-add-{k}" for k in range(n_add)]
    return updates, adds


def check(sb: Sandbox, updates: dict[int, tuple[str, float]], adds: list[str], tag: str) -> dict:
    """End state vs desired: exact, duplicates, lost (read straight from the sandbox store)."""
    got = {
        r["ID"]: (r["TITLE"], float(r["OPPORTUNITY"] or 0))
        for r in sb.store.query("SELECT ID, TITLE, OPPORTUNITY FROM crm_deal")
    }
    lost_updates = sum(1 for i, want in updates.items() if got.get(i) != want)
    titles = [
        r[0]
        for r in sb.store.query("SELECT TITLE FROM crm_deal WHERE TITLE LIKE ?", (f"{tag}-add-%",))
    ]
    duplicates = len(titles) - len(set(titles))
    lost_adds = len(set(adds) - set(titles))
    return {
        "exact": lost_updates == 0 and duplicates == 0 and lost_adds == 0,
        "duplicates": duplicates,
        "lost": lost_updates + lost_adds,
    }


def run_frames(sb: Sandbox, n_upd: int, n_add: int, scenario: str) -> None:
    tag = f"bf{scenario}"
    client = Client(sb.webhook_url)
    deals = load(client, "deal")
    ids = [int(i) for i in deals.index[:n_upd]]
    updates, adds = desired(ids, tag, n_add)
    after = deals.copy()
    after.loc[ids, "TITLE"] = [updates[i][0] for i in ids]
    after.loc[ids, "OPPORTUNITY"] = [updates[i][1] for i in ids]
    new = pd.DataFrame(
        {"TITLE": adds, "OPPORTUNITY": [1.0] * n_add},
        index=pd.Index([pd.NA] * n_add, dtype="Int64", name="ID"),
    )
    p = plan(client, deals, pd.concat([after, new]))
    time.sleep(30)  # start like the next engine: the portal's leaky bucket drained
    sb.reset_stats()
    t0 = time.perf_counter()
    error = None
    try:
        rep = p.apply(journal=False)
        counts = summary(rep)
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        error, counts = f"{type(exc).__name__}: {exc}", {}
    wall = time.perf_counter() - t0
    stats = sb.stats()
    ops = n_upd + n_add
    emit(
        scenario=scenario,
        engine="bitrix_frames",
        ops=ops,
        http_requests=stats["http_requests"],
        target_requests=math.ceil(ops / 50),
        lookup_requests=stats["sub_calls"].get("batch", 0) - math.ceil(ops / 50),
        sub_calls=stats["sub_calls_total"],
        write_sub_calls=stats["sub_calls"].get("crm.deal.update", 0)
        + stats["sub_calls"].get("crm.deal.add", 0),
        faults=stats["faults"],
        wall_s=round(wall, 2),
        report=counts,
        error=error,
        **check(sb, updates, adds, tag),
    )
    client.close()


def run_fast_bitrix24(sb: Sandbox, n_upd: int, n_add: int, scenario: str) -> None:
    try:
        from fast_bitrix24 import Bitrix
    except ImportError:
        emit(scenario=scenario, engine="fast_bitrix24", error="fast_bitrix24 is not installed")
        return
    tag = f"fb{scenario}"
    ids = [
        int(r[0]) for r in sb.store.query("SELECT ID FROM crm_deal ORDER BY ID LIMIT ?", (n_upd,))
    ]
    updates, adds = desired(ids, tag, n_add)
    bx = Bitrix(sb.webhook_url, verbose=False)
    sb.reset_stats()
    t0 = time.perf_counter()
    error = None
    try:
        bx.call(
            "crm.deal.update",
            [{"id": i, "fields": {"TITLE": t, "OPPORTUNITY": o}} for i, (t, o) in updates.items()],
        )
        bx.call("crm.deal.add", [{"fields": {"TITLE": t, "OPPORTUNITY": 1.0}} for t in adds])
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
    wall = time.perf_counter() - t0
    stats = sb.stats()
    emit(
        scenario=scenario,
        engine="fast_bitrix24",
        ops=n_upd + n_add,
        http_requests=stats["http_requests"],
        sub_calls=stats["sub_calls_total"],
        write_sub_calls=stats["sub_calls"].get("crm.deal.update", 0)
        + stats["sub_calls"].get("crm.deal.add", 0),
        faults=stats["faults"],
        wall_s=round(wall, 2),
        error=error,
        **check(sb, updates, adds, tag),
    )


def scenario(name: str, n_upd: int, n_add: int, faults: dict, latency: float) -> None:
    with Sandbox(deals=n_upd + 10, latency=latency, faults=faults, fault_seed=11) as sb:
        run_frames(sb, n_upd, n_add, name)
        sb.reset()
        time.sleep(30)  # let the portal's leaky bucket drain before the next engine
        run_fast_bitrix24(sb, n_upd, n_add, name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=10_000)
    ap.add_argument("--adds", type=int, default=1_000)
    ap.add_argument("--fault-updates", type=int, default=2_000)
    ap.add_argument("--fault-adds", type=int, default=500)
    ap.add_argument("--latency", type=float, default=0.03)
    args = ap.parse_args(argv)
    os.environ.setdefault("BITRIX_FRAMES_CACHE", tempfile.mkdtemp(prefix="bf-bench-"))
    scenario("clean", args.updates, args.adds, {}, args.latency)
    scenario("faults", args.fault_updates, args.fault_adds, FAULTS, args.latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
