"""Sandbox benchmark: time to seed N deals, and rows per second served by a keyset batch export.

Prints one JSON line per figure. The export chains 50 ``crm.deal.list`` calls inside one ``batch``
(``order ID ASC``, ``>ID`` taken from the previous call's last row, ``start=-1``), which is the
documented fast export; the rate limit is switched off so the figure is the server's own speed.

Usage::

    python bench/sandbox.py --deals 100000
"""

from __future__ import annotations

import argparse
import json
import time

import requests

from bitrix_frames.sandbox import Sandbox, SandboxConfig
from bitrix_frames.sandbox.seed import seed_portal
from bitrix_frames.sandbox.store import Store


def emit(**figures) -> None:
    print(json.dumps(figures), flush=True)


def bench_seed(deals: int) -> None:
    store = Store()
    started = time.perf_counter()
    seed_portal(store, SandboxConfig(deals=deals))
    seconds = time.perf_counter() - started
    counted = store.scalar("SELECT COUNT(*) FROM crm_deal")
    store.close()
    emit(figure="seed", deals=counted, seconds=round(seconds, 2))


def keyset_batch(last_id: int, select: list[str]) -> dict:
    """One batch of 50 chained keyset pages starting after ``last_id``."""
    fields = "".join(f"&select[]={name}" for name in select)
    cmd = {}
    for i in range(50):
        after = str(last_id) if i == 0 else f"$result[p{i - 1}][49][ID]"
        cmd[f"p{i}"] = f"crm.deal.list?order[ID]=ASC&filter[>ID]={after}&start=-1{fields}"
    return {"halt": 0, "cmd": cmd}


def bench_export(deals: int, select: list[str]) -> None:
    with Sandbox(deals=deals, limits=False) as sb:
        session = requests.Session()
        rows = requests_sent = 0
        last_id = 0
        started = time.perf_counter()
        while True:
            body = session.post(sb.webhook_url + "batch", json=keyset_batch(last_id, select)).json()
            requests_sent += 1
            pages = body["result"]["result"]
            # A short page ends the chain; later pages repeat it (missing-key rule), so stop there.
            page_rows = []
            for i in range(50):
                page = pages.get(f"p{i}") or []
                page_rows += page
                if len(page) < 50:
                    break
            rows += len(page_rows)
            if len(page_rows) < 2500:
                break
            last_id = int(page_rows[-1]["ID"])
        seconds = time.perf_counter() - started
        emit(
            figure="keyset_batch_export",
            select=",".join(select),
            rows=rows,
            http_requests=requests_sent,
            seconds=round(seconds, 2),
            rows_per_second=round(rows / seconds),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    args = parser.parse_args()
    bench_seed(args.deals)
    bench_export(args.deals, ["ID"])
    bench_export(args.deals, ["*", "UF_*"])


if __name__ == "__main__":
    main()
