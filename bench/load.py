"""Load every deal of one sandbox portal with bitrix_frames and with the peers; print JSON lines.

One Sandbox (rate 2/s, burst 50, like a cloud portal) serves every run; between runs it is reset
(same seed -> same data, empty rate bucket and operating-time clock). Each library runs in its
own subprocess (clean memory figure, hard timeout); the parent reads the sandbox's counters.

Cost model (``--scenario cost``, sleep on, so wall time feels it), taken from the one measurement
the docs publish (``settings/performance/huge-data.md``: 2,387,743 leads, a page with COUNT took
49.9 s of processing, a keyset page of 50 with ``start=-1`` took 0.0685 s):
    latency 30 ms per HTTP request,
    cost_per_row 1.4e-3 s per returned row (0.0685 s / 50),
    cost_per_count_row 2.1e-5 s per row counted by COUNT (49.9 s / 2.39 M; any list with start >= 0),
    cost_per_skip_row 2.1e-5 s per row skipped by OFFSET (assumed to walk rows like COUNT).
So an offset page deep into 100k deals costs ~2.1 s COUNT + up to 2.1 s OFFSET + 0.07 s of rows,
a keyset page ``start=-1`` costs 0.07 s, and a whole export costs 140 s of operating time however
it is split, which stays under the 480 s operating limit only without COUNT/OFFSET.
``cost_nolimit`` is ``cost`` with the operating limit lifted (to compare total server work of the
offset-paging peers, which ``cost`` stops with 429); ``nocost`` turns the model off (latency 0); ``free`` keeps only the 30 ms latency;
``faults`` is ``cost`` plus 10% mixed faults (2% each of refused, error, drop, lost, slow with
slow_seconds 1).

Printed per library and scenario: rows, complete (every deal exactly once), http_requests,
sub_calls, operating_seconds (sandbox deltas), wall_seconds, cpu_seconds and cpu_s_per_100k_rows
(the client process's CPU, every thread, library import excluded), peak_rss_mb, outcome, error.
``bitrix_frames_frame`` (``frames.load``: rows + typed conversion) and ``bitrix_frames_export``
(``datasets.export`` partitioned by STAGE_ID into a temporary directory) are run when named in
``--libs``.

``BENCH_WORKERS`` overrides bitrix_frames' ``max_workers`` (default: the Client's). A peer that passes its own
timeout or fails is reported with ``outcome`` "timeout" / "error" / "incomplete", never awaited.

Example::

    .venv/bin/python bench/load.py --deals 5000 --scenario cost --libs bitrix_frames,fast_bitrix24
    .venv/bin/python bench/load.py            # 100k deals, every scenario and library
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable

LIBS = ("bitrix_frames", "fast_bitrix24", "b24pysdk_fast", "b24pysdk_list")
OURS = ("bitrix_frames_frame", "bitrix_frames_export")
"""Also ours, on request: the typed frame (``frames.load``) and a partitioned Parquet export."""
COST = {
    "latency": 0.03,
    "cost_per_row": 1.4e-3,
    "cost_per_count_row": 2.1e-5,
    "cost_per_skip_row": 2.1e-5,
    "sleep": True,
}
SCENARIOS = {
    "cost": COST,
    # Same costs with the 480 s operating limit lifted, so offset-paging peers can finish and
    # their total server work is comparable to ours.
    "cost_nolimit": {**COST, "operating_limit": 1e9},
    "nocost": {},
    # A portal that answers at once apart from the round trip (issue 15's "free server").
    "free": {"latency": 0.03},
    "faults": {
        **COST,
        "faults": {"refused": 0.02, "error": 0.02, "drop": 0.02, "lost": 0.02, "slow": 0.02},
        "slow_seconds": 1.0,
    },
}


# --- worker side (runs in a subprocess) -------------------------------------------------------------
def _loader(lib: str, url: str) -> Callable[[], list]:
    """Import the library (not timed) and return the call that loads every deal."""
    if lib.startswith("bitrix_frames"):
        from bitrix_frames.client import Client

        workers = os.environ.get("BENCH_WORKERS")
        options = {"max_workers": int(workers)} if workers else {}
        if lib == "bitrix_frames_frame":
            from bitrix_frames import frames

            return lambda: [{"ID": i} for i in frames.load(Client(url, **options), "deal").index]
        if lib == "bitrix_frames_export":
            import tempfile

            import pyarrow.dataset as ds

            from bitrix_frames import datasets

            def export() -> list:
                with tempfile.TemporaryDirectory() as tmp:
                    datasets.export(
                        Client(url, **options), "deal", f"{tmp}/d", partition_by="STAGE_ID"
                    )
                    ids = ds.dataset(f"{tmp}/d", partitioning="hive").to_table(columns=["ID"])
                    return [{"ID": i} for i in ids.column("ID").to_pylist()]

            return export
        return lambda: Client(url, **options).list("crm.deal.list", progress=False)
    if lib == "fast_bitrix24":
        from fast_bitrix24 import Bitrix

        return lambda: Bitrix(url, verbose=False).get_all("crm.deal.list")
    import b24pysdk

    # b24pysdk hard-codes https://<domain>/rest; the sandbox serves plain http on loopback.
    caller = importlib.import_module("b24pysdk.api.callers.call_method")._MethodCaller
    caller._base_url = property(lambda self: f"http://{self._domain}/rest")
    domain, _, token = url.split("://", 1)[1].partition("/rest/")
    hook = b24pysdk.BitrixWebhook(domain=domain, webhook_token=token.strip("/"))
    call = hook.call_list_fast if lib == "b24pysdk_fast" else hook.call_list

    def load() -> list:
        response = call("crm.deal.list")
        result = response["result"] if isinstance(response, dict) else response.result
        return list(result)

    return load


def _peak_rss_mb() -> float | None:
    """VmHWM: this process's peak resident memory (reset by exec, unlike ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def worker(lib: str, url: str) -> None:
    out: dict = {"rows": 0, "error": None}
    ids: set[int] = set()
    start = time.perf_counter()
    cpu = time.process_time()
    try:
        load = _loader(lib, url)
        start = time.perf_counter()
        cpu = time.process_time()
        rows = load()
        out["cpu_seconds"] = round(time.process_time() - cpu, 3)
        out["rows"] = len(rows)
        ids = {int(r.get("ID", r.get("id", 0))) for r in rows}
    except BaseException as e:  # report, never hang
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    out["wall_seconds"] = round(time.perf_counter() - start, 3)
    out["peak_rss_mb"] = _peak_rss_mb()
    out["unique"], out["id_sum"] = len(ids), sum(ids)
    print(json.dumps(out))


# --- parent side ----------------------------------------------------------------------------------
def run_one(lib: str, sb, timeout: float) -> dict:
    sb.reset()
    expected = sb.store.scalar("SELECT COUNT(*) FROM crm_deal")
    expected_sum = sb.store.scalar("SELECT COALESCE(SUM(ID), 0) FROM crm_deal")
    before = sb.stats()
    t0 = time.perf_counter()
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, "--url", sb.webhook_url]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        res = (
            json.loads(lines[-1])
            if lines
            else {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
        )
        outcome = "error" if res.get("error") else "ok"
    except subprocess.TimeoutExpired:
        res, outcome = {"error": f"no result within {timeout:.0f} s"}, "timeout"
    wall = time.perf_counter() - t0
    after = sb.stats()
    complete = (
        res.get("rows") == expected
        and res.get("unique") == expected
        and res.get("id_sum") == expected_sum
    )
    return {
        "rows": res.get("rows", 0),
        "expected_rows": expected,
        "complete": bool(complete),
        "outcome": outcome if outcome != "ok" or complete else "incomplete",
        "http_requests": after["http_requests"] - before["http_requests"],
        "sub_calls": after["sub_calls_total"] - before["sub_calls_total"],
        "operating_seconds": round(
            after["operating_seconds_total"] - before["operating_seconds_total"], 3
        ),
        "refused_503": after["refused_rate_limit"] - before["refused_rate_limit"],
        "refused_429": after["refused_operating"] - before["refused_operating"],
        "faults": {
            k: after["faults"].get(k, 0) - before["faults"].get(k, 0) for k in after["faults"]
        },
        "wall_seconds": res.get("wall_seconds", round(wall, 3)),
        "cpu_seconds": res.get("cpu_seconds"),
        "cpu_s_per_100k_rows": (
            round(res["cpu_seconds"] * 100_000 / res["rows"], 2)
            if res.get("cpu_seconds") is not None and res.get("rows")
            else None
        ),
        "peak_rss_mb": res.get("peak_rss_mb"),
        "error": res.get("error"),
    }


PEERS = ("fast_bitrix24", "b24pysdk_fast", "b24pysdk_list")


def targets(results: dict[str, dict], scenario: str, deals: int) -> dict:
    """Issue 15's targets, checked on this run's figures for each of ours that ran (None when no
    peer gave a figure): wall against the fastest peer and against each peer, client CPU per row
    against the best peer's."""
    peers = {k: v for k, v in results.items() if k in PEERS and v["outcome"] == "ok"}
    out: dict = {}
    for lib in ("bitrix_frames", *OURS):
        us = results.get(lib)
        if not us or us["outcome"] != "ok":
            continue
        mine: dict = {"requests": us["http_requests"], "minimum": math.ceil(deals / 2500) + 1}
        for peer, r in peers.items():
            mine[f"wall_vs_{peer}"] = round(us["wall_seconds"] / r["wall_seconds"], 3)
        if peers:
            fastest = min(r["wall_seconds"] for r in peers.values())
            best_cpu = min(r["cpu_s_per_100k_rows"] or math.inf for r in peers.values())
            mine["wall_vs_fastest_peer"] = round(us["wall_seconds"] / fastest, 3)
            if math.isfinite(best_cpu) and us["cpu_s_per_100k_rows"]:
                mine["cpu_vs_best_peer"] = round(us["cpu_s_per_100k_rows"] / best_cpu, 3)
        out[lib] = mine
    if scenario in ("cost", "cost_nolimit"):
        out["goal"] = "wall <= 0.15x b24pysdk_fast and <= 0.15x fast_bitrix24 (cost_nolimit)"
    elif scenario in ("free", "nocost"):
        out["goal"] = "wall <= 0.8x the fastest peer; client CPU per row <= 0.5x the best peer's"
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--deals", type=int, default=100_000)
    p.add_argument(
        "--scenario", default="cost,nocost,faults", help="comma list of " + ",".join(SCENARIOS)
    )
    p.add_argument("--libs", default=",".join(LIBS), help="comma list of " + ",".join(LIBS + OURS))
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per library run")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.url)

    from bitrix_frames.sandbox.sandbox import Sandbox

    for scenario in args.scenario.split(","):
        config = SCENARIOS[scenario]
        results: dict[str, dict] = {}
        with Sandbox(deals=args.deals, rate=2, burst=50, **config) as sb:
            for lib in args.libs.split(","):
                r = run_one(lib, sb, args.timeout)
                results[lib] = r
                print(
                    json.dumps({"scenario": scenario, "lib": lib, "deals": args.deals, **r}),
                    flush=True,
                )
        t = targets(results, scenario, args.deals)
        if t:
            print(json.dumps({"scenario": scenario, "targets": t}), flush=True)


if __name__ == "__main__":
    main()
