"""Command line: ``bitrix-frames sandbox`` (more commands are added with ``@app.command()``).

Example::

    $ bitrix-frames sandbox --port 8024 --deals 2000 --faults "lost=0.1,refused=0.05"
    Webhook URL: http://127.0.0.1:8024/rest/1/sandboxsecret0001/
"""

from __future__ import annotations

import time
from typing import Any

import typer

from bitrix_frames.entities import ENTITIES

app = typer.Typer(
    help="bitrix_frames: Bitrix24 CRM as pandas DataFrames, plus an embedded Bitrix24 sandbox.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"bitrix-frames {version('bitrix-frames')}")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree
            typer.echo("bitrix-frames (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """bitrix_frames command line."""  # a callback keeps `sandbox` a subcommand even when alone


# (label, method, params) of the entity counts shown after the sandbox starts.
SUMMARY: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("users", "user.get", {}),
    ("leads", "crm.lead.list", {"select": ["ID"]}),
    ("contacts", "crm.contact.list", {"select": ["ID"]}),
    ("companies", "crm.company.list", {"select": ["ID"]}),
    ("deals", "crm.deal.list", {"select": ["ID"]}),
    ("tasks", "tasks.task.list", {"select": ["ID"]}),
    ("deal pipelines", "crm.category.list", {"entityTypeId": 2}),
)


def parse_faults(text: str) -> dict[str, float]:
    """``"lost=0.1,refused=0.05"`` -> ``{"lost": 0.1, "refused": 0.05}``."""
    faults: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected KIND=FRACTION, got {item!r}")
        try:
            faults[kind.strip()] = float(value)
        except ValueError as exc:
            raise typer.BadParameter(f"not a number: {value!r}") from exc
    return faults


def portal_summary(sandbox) -> str:
    """One paragraph with the number of records per entity, read through the method handlers."""
    from bitrix_frames.sandbox.api import METHODS

    parts = []
    for label, method, params in SUMMARY:
        if method not in METHODS:
            continue
        outcome = sandbox.engine.execute(method, dict(params))
        if outcome.error is not None:
            continue
        count = outcome.total
        if count is None and isinstance(outcome.result, dict):
            items = next(iter(outcome.result.values()), None)
            count = len(items) if isinstance(items, list) else None
        elif count is None and isinstance(outcome.result, list):
            count = len(outcome.result)
        if count is not None:
            parts.append(f"{count} {label}")
    if not parts:
        return "The portal is empty (no entity methods or seed data available)."
    return "Seeded portal: " + ", ".join(parts) + "."


@app.command()
def sandbox(
    port: int = typer.Option(8024, help="Port on 127.0.0.1 (0 = any free port)."),
    db: str = typer.Option(":memory:", help="SQLite file; an existing non-empty file is reused."),
    seed: int = typer.Option(1, help="Seed of the deterministic demo portal."),
    deals: int = typer.Option(300, help="Number of seeded deals (other entities scale with it)."),
    rate: float = typer.Option(2.0, help="Leaky-bucket drain rate, requests/s (Enterprise: 5)."),
    burst: float = typer.Option(50.0, help="Leaky-bucket size (Enterprise: 250)."),
    no_limits: bool = typer.Option(False, "--no-limits", help="Disable the request-rate limit."),
    latency: float = typer.Option(0.0, help="Seconds added to every HTTP request."),
    faults: str = typer.Option("", help='Fault fractions, e.g. "lost=0.1,refused=0.05".'),
    secret: str | None = typer.Option(None, help="Webhook code (default: the sandbox default)."),
    tls: bool = typer.Option(False, "--tls", help="Serve https with a self-signed certificate."),
    readable_uf: bool = typer.Option(
        False, "--readable-uf", help="Readable user-field codes (UF_CRM_DEAL_PRIORITY)."
    ),
) -> None:
    """Serve an emulated Bitrix24 portal on loopback until Ctrl-C; print its webhook URL."""
    from bitrix_frames.sandbox import Sandbox

    overrides: dict[str, Any] = {
        "seed": seed,
        "deals": deals,
        "rate": rate,
        "burst": burst,
        "limits": not no_limits,
        "latency": latency,
        "faults": parse_faults(faults),
        "readable_uf": readable_uf,
    }
    if secret:
        overrides["secret"] = secret
    started = time.monotonic()
    sb = Sandbox(db=db, port=port, tls=tls, **overrides).start()
    try:
        typer.echo(f"Webhook URL: {sb.webhook_url}")
        if sb.ca_file:
            typer.echo(f"TLS certificate (trust it, e.g. REQUESTS_CA_BUNDLE): {sb.ca_file}")
        summary = portal_summary(sb)
        sb.reset_stats()  # the summary's own calls are not the user's traffic
        typer.echo(
            f"{summary} Ready in {time.monotonic() - started:.1f} s; limits "
            f"{'off' if no_limits else f'{rate:g} req/s, burst {burst:g}'}"
            f"{f', faults {faults}' if faults else ''}. Stats at {sb.control_url}stats. "
            "Press Ctrl-C to stop."
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        typer.echo("Stopping the sandbox.")
    finally:
        sb.stop()


@app.command()
def demo(
    url: str | None = typer.Option(
        None, help="Webhook URL (default: BITRIX_WEBHOOK_URL, else an embedded sandbox)."
    ),
    out: str = typer.Option("bitrix-frames-report", "--out", help="Directory of the report."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
) -> None:
    """Load every entity and write the pipeline report (HTML); no arguments needed."""
    from bitrix_frames.demo import run_demo

    run_demo(url, out_dir=out, progress=progress)


_DATASETS = [ent.plural or name for name, ent in ENTITIES.items()]
"""What ``export`` accepts (the registry's names; singular spellings work too)."""


@app.command()
def export(
    entity: str = typer.Argument(
        ...,
        help=f"One of: {', '.join(_DATASETS)}; or a smart process's items: item:<entityTypeId> "
        "or item:<title> (e.g. item:1036, 'item:Contracts').",
    ),
    out: str = typer.Option(
        ...,
        "--out",
        help="FILE.parquet (typed), FILE.csv, FILE.xlsx (labels), or a directory with --partition-by.",
    ),
    url: str | None = typer.Option(None, help="Webhook URL (default: BITRIX_WEBHOOK_URL)."),
    filter: str | None = typer.Option(
        None, help="Bitrix filter as JSON, e.g. '{\">OPPORTUNITY\": 1000}'."
    ),
    select: str | None = typer.Option(None, help="Comma-separated fields to select."),
    partition_by: str | None = typer.Option(
        None, "--partition-by", help="Column of a hive-partitioned Parquet directory (--out DIR)."
    ),
    limit: int | None = typer.Option(None, "--limit", min=0, help="Write at most N rows."),
    progress: bool = typer.Option(False, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Stream one entity to disk page by page (bounded memory): Parquet, CSV, xlsx or a
    partitioned Parquet directory."""
    import json

    from bitrix_frames import connect
    from bitrix_frames.datasets import export as export_stream
    from bitrix_frames.errors import BitrixError
    from bitrix_frames.items import resolve_item_name

    try:
        with connect(url) as portal:
            done = export_stream(
                portal.client,
                resolve_item_name(portal.client, entity),
                out,
                filter=json.loads(filter) if filter else None,
                select=[name.strip() for name in select.split(",")] if select else None,
                partition_by=partition_by,
                limit=limit,
                progress=progress,
            )
    except (BitrixError, json.JSONDecodeError) as exc:  # messages never hold the secret
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"wrote {done.rows} rows to {out}")


def main() -> None:
    """Entry point of the ``bitrix-frames`` script."""
    app()


if __name__ == "__main__":
    main()
