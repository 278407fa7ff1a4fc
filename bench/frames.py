"""Frames benchmark (JSON lines): typed conversion vs ``pd.DataFrame(records)``, memory, refresh cost.

Records are listed once from a sandbox (``--deals`` deals, default 100k), then converted repeatedly:

* ``conversion``: best-of-N seconds of ``to_frame(records)`` vs ``pd.DataFrame(records)`` on the
  same records, the two timed alternately so a busy machine slows both alike (target ratio <= 1.5;
  the line names the pandas and pyarrow versions);
* ``memory``: ``memory_usage(deep=True)`` of the typed frame vs the object frame (target <= 0.5);
* ``refresh``: HTTP requests of an incremental cache refresh after 1% of the deals changed vs a
  full load (target <= 2% of the full load, plus the deletion check).

Run::

    .venv/bin/python bench/frames.py --deals 100000
"""

from __future__ import annotations

import argparse
import json
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--changed", type=float, default=0.01, help="fraction of deals changed before the refresh"
    )
    args = ap.parse_args(argv)

    with Sandbox(deals=args.deals, limits=False) as sb, tempfile.TemporaryDirectory() as tmp:
        client = Client(sb.webhook_url, rate=1000.0, burst=1000.0)
        specs = metadata(client).specs("deal")
        select = frames.default_select("deal", specs)
        columns = [s.name for s in specs.values() if not s.derived_from]
        records = client.list("crm.deal.list", select=select)
        n = len(records)

        plain_s, typed_s = best_of(
            [lambda: pd.DataFrame(records), lambda: to_frame(records, specs, "deal", columns)],
            args.repeat,
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

        sb.reset_stats()
        full = cache.cached_load(client, "deal", tmp)
        full_requests = sb.stats()["http_requests"]

        rng = random.Random(7)
        ids = [int(i) for i in full.index]
        changed = rng.sample(ids, max(1, int(len(ids) * args.changed)))
        for chunk in range(0, len(changed), 50):
            client.batch(
                {
                    f"u{i}": (
                        "crm.deal.update",
                        {"id": i, "fields": {"OPPORTUNITY": rng.randint(1, 99999)}},
                    )
                    for i in changed[chunk : chunk + 50]
                }
            )
        sb.reset_stats()
        t = time.perf_counter()
        inc = cache.cached_load(client, "deal", tmp)
        inc_s = time.perf_counter() - t
        inc_requests = sb.stats()["http_requests"]
        # The deletion check (a COUNT) rides in the same request as the changed rows, so
        # refresh_requests counts both; the target allows 2% of the full load plus that check.
        emit(
            bench="refresh",
            rows=len(inc),
            changed=len(changed),
            full_requests=full_requests,
            refresh_requests=inc_requests,
            ratio=round(inc_requests / full_requests, 4),
            target="<= 0.02 + the deletion check",
            refresh_seconds=round(inc_s, 3),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
