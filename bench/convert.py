"""CPU of the typed conversion alone: ``records_to_batch`` per response, ``columns_to_frame`` at the end.

Reads every deal of an in-process sandbox once through ``frames.load`` and keeps each response's
rows (that read is not timed), then times on one thread (``time.thread_time``, no HTTP, no other
thread): ``records_to_batch`` of the first full response, ``--repeat`` times, and
``columns_to_frame`` of every response (rows put in ID order), 15 times. Prints one JSON line:
min, 25th percentile and median in ms, and the median per 100,000 rows.

The machine's load moves these figures by ±30 %; compare two versions by alternating runs.

Example::

    .venv/bin/python bench/convert.py --deals 30000 --repeat 80
"""

from __future__ import annotations

import argparse
import json
import time


def _stats(samples: list[float], rows: int) -> dict:
    samples = sorted(samples)
    median = samples[len(samples) // 2]
    return {
        "rows": rows,
        "min_ms": round(samples[0] * 1e3, 1),
        "p25_ms": round(samples[len(samples) // 4] * 1e3, 1),
        "median_ms": round(median * 1e3, 1),
        "median_s_per_100k_rows": round(median * 100_000 / rows, 3),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--deals", type=int, default=30_000)
    p.add_argument("--repeat", type=int, default=80)
    args = p.parse_args(argv)

    from bitrix_frames import frames
    from bitrix_frames.client import Client
    from bitrix_frames.sandbox.sandbox import Sandbox
    from bitrix_frames.schema.to_arrow import columns_to_frame

    responses: list[list[dict]] = []
    keep = frames.LoadPlan.batch

    def batch(plan, rows, schema):  # records every response of the read below
        responses.append(list(rows))
        return keep(plan, rows, schema)

    with Sandbox(deals=args.deals, limits=False) as sb:
        frames.LoadPlan.batch = batch  # type: ignore[method-assign]
        try:
            client = Client(sb.webhook_url)
            frames.load(client, "deal")
        finally:
            frames.LoadPlan.batch = keep  # type: ignore[method-assign]
        plan = frames.plan_load(client, "deal")
    schema = plan.schema(responses[0])
    full = max(responses, key=len)

    convert = []
    for _ in range(args.repeat):
        start = time.thread_time()
        plan.batch(full, schema)
        convert.append(time.thread_time() - start)
    batches = [plan.batch(rows, schema) for rows in responses]
    assemble = []
    for _ in range(15):
        columns: list[list] = [list(c) for c in zip(*(b.columns for b in batches), strict=True)]
        start = time.thread_time()
        columns_to_frame(schema, columns, sort=True)
        assemble.append(time.thread_time() - start)
    print(
        json.dumps(
            {
                "deals": args.deals,
                "responses": len(responses),
                "records_to_batch": _stats(convert, len(full)),
                "columns_to_frame": _stats(assemble, sum(map(len, responses))),
            }
        )
    )


if __name__ == "__main__":
    main()
