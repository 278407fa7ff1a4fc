"""Helpers shared by the write-back tests (a uniquely named module: tests dirs have no __init__)."""

from __future__ import annotations

from typing import Any

from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox

FAST = {"rate": 1000.0, "burst": 1000.0}
"""Client pacing for sandboxes started with ``limits=False``."""

WRITE_VERBS = ("add", "update", "delete", "complete")


def dump(sb: Sandbox) -> dict[str, list[tuple]]:
    """Every row of every table of the sandbox store (the portal's whole state)."""
    out = {}
    names = [r[0] for r in sb.store.query("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in sorted(names):
        if name.startswith("sqlite_"):
            continue
        out[name] = [tuple(r) for r in sb.store.query(f'SELECT * FROM "{name}" ORDER BY rowid')]
    return out


def write_calls(sb: Sandbox) -> dict[str, int]:
    """Sub-calls of write methods the sandbox has executed."""
    calls = sb.stats()["sub_calls"]
    return {m: n for m, n in calls.items() if m.rsplit(".", 1)[-1] in WRITE_VERBS}


def rows(sb: Sandbox, table: str, where: str = "1", args: tuple = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in sb.store.query(f"SELECT * FROM {table} WHERE {where}", args)]


def client(sb: Sandbox, **kw: Any) -> Client:
    return Client(sb.webhook_url, **{**FAST, **kw})
