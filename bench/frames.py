"""Frames benchmark (JSON lines): typed conversion vs ``pd.DataFrame(records)``, memory, refresh cost.

Records are listed once from a sandbox (``--deals`` deals, default 100k), then converted repeatedly:

* ``conversion``: best-of-N seconds of ``to_frame(records)`` vs ``pd.DataFrame(records)`` on the
  same records, the two timed alternately so a busy machine slows both alike (target ratio <= 1.5;
  the line names the pandas and pyarrow versions);
* ``memory``: ``memory_usage(deep=True)`` of the typed frame vs the object frame (target <= 0.5);
* ``refresh``: one line per case: an incremental cache refresh after 1% of the deals changed and
  0, 1, 10 or 100 of them were deleted, beside a full reload of the same portal state: HTTP
  requests, sub-calls, wall seconds and the server's operating seconds (targets at 100,000 deals:
  10 deleted <= 4 requests, 100 deleted <= 8). The sandbox runs the cost model of
  ``bench/load.py`` (the docs' published COUNT and row costs, slept) unless ``--no-cost``; the
  rate limit is off, so wall time is work, not pacing. ``load`` is the machine's load average
  (it is shared: requests are exact, seconds are noisy).

Run::

    .venv/bin/python bench/frames.py --deals 100000
    .venv/bin/python bench/frames.py --deals 100000 --only refresh --deleted 0,1,10,100
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bitrix_frames import cache, frames
from bitrix_frames.client import Client
from bitrix_frames.metadata import metadata
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.schema import to_frame

COST = {  # bench/load.py --scenario cost: the docs' measurement on 2.39 M leads
    "latency": 0.03,
    "cost_per_row": 1.4e-3,
    "cost_per_count_row": 2.1e-5,
    "cost_per_skip_row": 2.1e-5,
    "sleep": True,
}


def emit(**row) -> None:
    print(json.dumps(row), flush=True)


def best_of(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best wall time of each function over ``repeat`` rounds; every round runs them in turn.

    Example::

        >>> plain_s, typed_s = best_of([lambda: pd.DataFrame(rows), lambda: to_frame(rows, ...)], 3)
    """
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            t = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - t)
    return [min(spent) for spent in times]


def conversion_and_memory(client: Client, repeat: int) -> None:
    specs = metadata(client).specs("deal")
    select = frames.default_select("deal", specs)
    columns = [s.name for s in specs.values() if not s.derived_from]
    records = client.list("crm.deal.list", select=select)
    n = len(records)

    plain_s, typed_s = best_of(
        [lambda: pd.DataFrame(records), lambda: to_frame(records, specs, "deal", columns)],
        repeat,
    )
    emit(
        bench="conversion",
        rows=n,
        plain_seconds=round(plain_s, 4),
        typed_seconds=round(typed_s, 4),
        ratio=round(typed_s / plain_s, 3),
        target=1.5,
        pandas=pd.__version__,
        pyarrow=pa.__version__,
    )

    plain_mem = int(pd.DataFrame(records).memory_usage(deep=True).sum())
    typed_mem = int(to_frame(records, specs, "deal", columns).memory_usage(deep=True).sum())
    emit(
        bench="memory",
        rows=n,
        object_bytes=plain_mem,
        typed_bytes=typed_mem,
        ratio=round(typed_mem / plain_mem, 3),
        target=0.5,
    )


def measured(sb: Sandbox, fn: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """Run ``fn`` on zeroed sandbox counters: (its frame, requests/sub-calls/wall/operating)."""
    sb.reset_stats()
    t = time.perf_counter()
    df = fn()
    wall = time.perf_counter() - t
    st = sb.stats()
    return df, {
        "requests": st["http_requests"],
        "sub_calls": st["sub_calls_total"],
        "wall_s": round(wall, 2),
        "operating_s": round(st["operating_seconds_total"], 2),
    }


def quiet_hour_before(sb: Sandbox) -> None:
    """Move the seed's newest modified dates an hour back.

    The seed clamps the modified date of about 1.25% of the deals to the seeding instant; a
    refresh re-reads every row modified within five minutes of the newest cached change, so on a
    fresh seed it would read those rows as if they had just changed. A real cache is refreshed
    long after its last change, with the few writes of those five minutes only.
    """
    with sb.store.transaction() as db:
        newest = db.execute('SELECT MAX("DATE_MODIFY") FROM crm_deal').fetchone()[0]
        db.execute(
            'UPDATE crm_deal SET "DATE_MODIFY" = "DATE_MODIFY" - 3600 WHERE "DATE_MODIFY" > ?',
            (newest - 600,),
        )


def refresh_cases(
    sb: Sandbox, client: Client, tmp: str, deals: int, changed: float, deleted: list[int]
) -> None:
    rng = random.Random(7)
    for gone in deleted:
        # Each case starts from a freshly seeded portal and a fresh cache, so the refresh sees
        # exactly this case's writes (rows changed within five minutes of the newest cached
        # change are fetched again, which would bill one case's edits to the next).
        sb.reset()
        quiet_hour_before(sb)
        path = Path(tmp) / f"deals-{gone}.parquet"
        ids = [int(i) for i in cache.cached_load(client, "deal", path).index]
        edits = rng.sample(ids, max(1, int(len(ids) * changed)))
        cmds = {
            f"u{i}": (
                "crm.deal.update",
                {"id": i, "fields": {"OPPORTUNITY": rng.randint(1, 99999)}},
            )
            for i in edits
        }
        cmds.update({f"d{i}": ("crm.deal.delete", {"id": i}) for i in rng.sample(ids, gone)})
        assert not client.batch(cmds).errors
        inc, cost = measured(sb, functools.partial(cache.cached_load, client, "deal", path))
        full, full_cost = measured(sb, lambda: frames.load(client, "deal"))
        assert inc.index.equals(full.index)
        emit(
            bench="refresh",
            deals=deals,
            rows=len(inc),
            changed=len(edits),
            deleted=gone,
            **cost,
            full_reload={k: full_cost[k] for k in ("requests", "wall_s", "operating_s")},
            target={0: 1, 1: None, 10: 4, 100: 8}.get(gone) if deals == 100_000 else None,
            load=round(os.getloadavg()[0], 1),
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--changed", type=float, default=0.01, help="fraction of deals changed before the refresh"
    )
    ap.add_argument("--deleted", default="0,1,10,100", help="deletions of the refresh cases")
    ap.add_argument("--only", choices=["conversion", "refresh"], default=None)
    ap.add_argument("--no-cost", action="store_true", help="sandbox without the cost model")
    args = ap.parse_args(argv)

    cost = {} if args.no_cost else COST
    with (
        Sandbox(deals=args.deals, limits=False, **cost) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        # The sandbox is reseeded, its operating clock cleared, for every refresh case; the
        # client's own estimate of the operating time would carry over and slow it down.
        client = Client(sb.webhook_url, rate=1000.0, burst=1000.0, operating_limit=1e9)
        if args.only != "refresh":
            conversion_and_memory(client, args.repeat)
        if args.only != "conversion":
            deleted = [int(d) for d in args.deleted.split(",") if d.strip()]
            refresh_cases(sb, client, tmp, args.deals, args.changed, deleted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
