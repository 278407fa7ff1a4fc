"""``bitrix-frames demo``: load every entity and the stage history, write the pipeline report.

With no URL and no ``BITRIX_WEBHOOK_URL`` (environment or ``.env``) it starts an embedded
sandbox portal, so the demo needs nothing but the package.

Example::

    from bitrix_frames.demo import run_demo
    index = run_demo()                      # sandbox -> bitrix-frames-report/index.html
    index = run_demo(out_dir="/tmp/report", progress=False)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

from bitrix_frames.errors import WebhookURLError
from bitrix_frames.webhook import parse_webhook

__all__ = ["ENTITIES", "run_demo"]

#: (label, Portal loader, its arguments) in load order.
ENTITIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("users", "users", ()),
    ("leads", "leads", ()),
    ("contacts", "contacts", ()),
    ("companies", "companies", ()),
    ("deals", "deals", ()),
    ("tasks", "tasks", ()),
    ("deal stage history", "stage_history", ("deal",)),
    ("lead status history", "stage_history", ("lead",)),
)


@contextlib.contextmanager
def _portal(url: str | None, say: Any) -> Iterator[Any]:
    """Connect to ``url`` / ``$BITRIX_WEBHOOK_URL``, or start a sandbox when neither is set."""
    from bitrix_frames.portal import connect

    try:
        parse_webhook(url)
    except WebhookURLError as exc:
        if url is not None or getattr(exc, "code", None) != "NO_WEBHOOK_URL":
            raise
    else:
        with connect(url) as portal:
            say(f"Portal: {portal.masked_url}")
            yield portal
        return
    from bitrix_frames.sandbox import Sandbox

    say("BITRIX_WEBHOOK_URL is not set: starting an embedded sandbox portal")
    with Sandbox() as sandbox, connect(sandbox.webhook_url) as portal:
        say(f"Sandbox portal: {portal.masked_url}")
        yield portal


def _summary(frames: dict[str, Any], rates: Any) -> Any:
    import pandas as pd

    rows = [
        {"figure": name, "value": f"{len(df):,} rows", "columns": str(df.shape[1])}
        for name, df in frames.items()
    ]
    deals = frames["deals"]
    won = deals["STAGE_SEMANTIC_ID"].astype("string").eq("S").fillna(False)
    open_ = ~won & ~deals["CLOSED"].fillna(False)
    converted = rates.convert(deals["OPPORTUNITY"], deals["CURRENCY_ID"])
    for label, amount in (("won deal amount", converted[won]), ("open pipeline", converted[open_])):
        rows.append(
            {"figure": label, "value": f"{float(amount.sum()):,.2f} {rates.base}", "columns": ""}
        )
    return pd.DataFrame(rows)


def run_demo(
    url: str | None = None,
    out_dir: str | Path = "bitrix-frames-report",
    progress: bool = True,
) -> Path:
    """Load users, leads, contacts, companies, deals and tasks; write ``out_dir/index.html``.

    The report holds the funnel; from the stage history, stage conversion, time in stage, cycle
    time, pipeline velocity and the lead status conversion; win rate by responsible and by source,
    won/lost by month, revenue by responsible, leads by source and tasks by status (figures as
    embedded PNG, tables below them), a summary
    table, ``funnel.png`` and one CSV per report table. Returns the path of ``index.html``.
    The webhook secret is never printed or written.

    Example::

        run_demo(out_dir="report")   # prints: Report written to report/index.html
    """
    if not _interactive():
        matplotlib.use("Agg")  # figures are written to files, never shown in a window
    from tqdm.auto import tqdm

    from bitrix_frames import reports
    from bitrix_frames.reports.html import write_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = print if progress else (lambda *_a, **_k: None)
    started = time.monotonic()
    with _portal(url, say) as portal:
        frames: dict[str, Any] = {}
        steps = tqdm(ENTITIES, desc="Loading", unit="entity", disable=not progress)
        for label, loader, args in steps:
            steps.set_postfix_str(label)
            frames[label] = getattr(portal, loader)(*args)
        rates = reports.Rates.from_portal(portal)
        masked = portal.masked_url
    deals, users = frames["deals"], frames["users"]
    history = frames["deal stage history"]
    builders = {
        "Deal funnel": lambda: reports.funnel(deals, rates),
        "Stage conversion": lambda: reports.stage_conversion(history),
        "Time in stage": lambda: reports.time_in_stage(history),
        "Cycle time": lambda: reports.cycle_time(history),
        "Win rate by responsible": lambda: reports.win_rate(deals, users=users),
        "Win rate by source": lambda: reports.win_rate(deals, by="SOURCE_ID"),
        "Pipeline velocity": lambda: reports.velocity(deals, history, rates),
        "Lead status conversion": lambda: reports.stage_conversion(frames["lead status history"]),
        "Won and lost by month": lambda: reports.won_lost_by_month(deals, rates),
        "Won revenue by responsible": lambda: reports.revenue_by_user(deals, rates, users=users),
        "Leads by source and status": lambda: reports.leads_by_source(frames["leads"]),
        "Tasks by status": lambda: reports.tasks_by_status(frames["tasks"], users=users),
    }
    sections = {}
    for name in tqdm(builders, desc="Reports", unit="figure", disable=not progress):
        sections[name] = builders[name]()
    funnel = sections["Deal funnel"]
    funnel.figure.savefig(out / "funnel.png", dpi=110, bbox_inches="tight")
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for name, report in sections.items():
        report.table.to_csv(tables / f"{_slug(name)}.csv", index=False)
    index = write_html(
        out / "index.html",
        "Bitrix24 pipeline report",
        sections,
        summary=_summary(frames, rates),
        note=f"Portal {masked}; amounts {rates.describe()}; generated by bitrix-frames demo.",
    )
    say(f"Report written to {index} ({time.monotonic() - started:.1f} s)")
    return index


def _slug(name: str) -> str:
    return "-".join(name.lower().split())


def _interactive() -> bool:
    backend = matplotlib.get_backend().lower()
    return "inline" in backend or "ipympl" in backend or "widget" in backend
