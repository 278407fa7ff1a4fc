"""Peak memory and client CPU of one typed load or partitioned export (one JSON line).

Run against a sandbox in another process, so only the client's memory is measured::

    bitrix-frames sandbox --port 8024 --no-limits --deals 100000 &
    .venv/bin/python bench/memory.py --url http://127.0.0.1:8024/rest/1/sandboxsecret0001/ --mode load
    .venv/bin/python bench/memory.py --url ... --mode load-reference   # every row dict, then convert
    .venv/bin/python bench/memory.py --url ... --mode export           # partitioned by STAGE_ID

``baseline_mb`` is the resident memory after importing and loading the field metadata, ``peak_rss_mb``
the process's high-water mark (VmHWM), ``frame_mb`` the frame's ``memory_usage(deep=True)``;
``rss_end_mb`` the resident memory once done (the frame still held);
``file_mb_baseline`` / ``file_mb_end``: the file-backed part of the resident memory (RssFile: library
code paged in on first use, not data) at the baseline and at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bitrix_frames import datasets, frames
from bitrix_frames.client import Client
from bitrix_frames.metadata import metadata


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--workers", type=int, default=None, help="Client max_workers")
    ap.add_argument(
        "--operating-limit",
        type=float,
        default=480.0,
        help="the Client's operating-time budget (lift it for a sandbox without the limit)",
    )
    ap.add_argument("--mode", choices=("load", "load-reference", "export"), default="load")
    args = ap.parse_args(argv)
    options: dict = {"operating_limit": args.operating_limit}
    if args.workers is not None:
        options["max_workers"] = args.workers
    client = Client(args.url, **options)
    metadata(client).specs("deal")
    out: dict = {"bench": "memory", "mode": args.mode, "baseline_mb": _status_mb("VmRSS:")}
    out["file_mb_baseline"] = _status_mb("RssFile:")
    cpu, wall = time.process_time(), time.perf_counter()
    if args.mode == "export":
        with tempfile.TemporaryDirectory() as tmp:
            done = datasets.export(client, "deal", f"{tmp}/deals", partition_by="STAGE_ID")
            out.update(rows=done.rows, peak_rows_in_flight=done.peak_rows)
    else:
        if args.mode == "load-reference":  # every row dict first, then the pandas converter
            plan = frames.plan_load(client, "deal")
            rows = client.list(plan.ent.list_method, select=plan.send_select, progress=False)
            df = plan.frame(rows)
            del rows
        else:
            df = frames.load(client, "deal", progress=False)
        out.update(rows=len(df), frame_mb=round(df.memory_usage(deep=True).sum() / 2**20, 1))
    out.update(
        cpu_seconds=round(time.process_time() - cpu, 2),
        wall_seconds=round(time.perf_counter() - wall, 1),
        peak_rss_mb=_status_mb("VmHWM:"),
        rss_end_mb=_status_mb("VmRSS:"),
        file_mb_end=_status_mb("RssFile:"),
    )
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
