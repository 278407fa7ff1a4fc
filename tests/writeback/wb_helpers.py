"""Helpers shared by the write-back tests (a uniquely named module: tests dirs have no __init__)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sandboxes import FAST

from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox

WRITE_VERBS = ("add", "update", "delete", "complete")


def dump(sb: Sandbox) -> dict[str, list[tuple]]:
    """Every row of every table of the sandbox store (the portal's whole state)."""
    out = {}
    names = [r[0] for r in sb.store.query("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in sorted(names):
        if name.startswith("sqlite_"):
            continue
        rows = [tuple(r) for r in sb.store.query(f'SELECT * FROM "{name}"')]
        out[name] = sorted(rows, key=repr)  # some tables are WITHOUT ROWID
    return out


def write_calls(sb: Sandbox) -> dict[str, int]:
    """Sub-calls of write methods the sandbox has executed."""
    calls = sb.stats()["sub_calls"]
    return {m: n for m, n in calls.items() if m.rsplit(".", 1)[-1] in WRITE_VERBS}


def rows(sb: Sandbox, table: str, where: str = "1", args: tuple = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in sb.store.query(f"SELECT * FROM {table} WHERE {where}", args)]


def client(sb: Sandbox, **kw: Any) -> Client:
    """A client of ``sb``; a write in doubt is waited for until the sandbox's request time limit
    has passed (then it can no longer execute)."""
    window = sb.config.request_time_limit + 1.0
    return Client(sb.webhook_url, **{**FAST, "execution_window": window, **kw})


def desired_edit(deals: pd.DataFrame, tag: str, n_update: int, n_add: int, n_delete: int):
    after = deals.copy()
    upd = deals.index[:n_update]
    gone = deals.index[n_update : n_update + n_delete]
    after.loc[upd, "TITLE"] = [f"{tag}-upd-{i}" for i in upd]
    after.loc[upd, "OPPORTUNITY"] = [float(i) * 10 + 0.5 for i in upd]
    after = after.drop(index=gone)
    new = pd.DataFrame(
        {
            "TITLE": [f"{tag}-add-{k}" for k in range(n_add)],
            "OPPORTUNITY": [float(k) for k in range(n_add)],
        },
        index=pd.Index([pd.NA] * n_add, dtype="Int64", name="ID"),
    )
    return pd.concat([after, new]), list(upd), list(gone)


def assert_exact(sb, tag, upd, gone, n_add):
    got = {r["ID"]: r for r in rows(sb, "crm_deal", f"ID IN ({','.join(map(str, upd))})")}
    assert {i: got[i]["TITLE"] for i in upd} == {i: f"{tag}-upd-{i}" for i in upd}
    assert {i: float(got[i]["OPPORTUNITY"]) for i in upd} == {i: float(i) * 10 + 0.5 for i in upd}
    assert not rows(sb, "crm_deal", f"ID IN ({','.join(map(str, gone))})"), "lost delete"
    added = rows(sb, "crm_deal", "TITLE LIKE ?", (f"{tag}-add-%",))
    titles = [r["TITLE"] for r in added]
    assert len(titles) == len(set(titles)), "duplicate add"
    assert sorted(titles) == sorted(f"{tag}-add-{k}" for k in range(n_add)), "lost add"
