"""Exactly-once under faults: 10% mixed faults (refused, 500, dropped, executed-but-response-lost)
while a plan of updates, adds and deletes is applied; the portal must end exactly as desired,
with no duplicate and no lost row."""

from __future__ import annotations

import pandas as pd
import pytest
from wb_helpers import assert_exact, desired_edit, rows
from wb_helpers import client as make_client

from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary

FAULTS = {"refused": 0.02, "error": 0.02, "drop": 0.03, "lost": 0.03}


@pytest.mark.timeout(600)
def test_exactly_once_under_mixed_faults():
    with (
        Sandbox(deals=400, limits=False, faults=FAULTS, fault_seed=7, request_time_limit=5) as sb,
        make_client(sb) as c,
    ):
        deals = load(c, "deal")
        after, upd, gone = desired_edit(deals, "flt", 300, 150, 30)
        p = plan(c, deals, after, allow_deletes=True)
        assert p.counts == {"add": 150, "update": 300, "delete": 30, "complete": 0}
        rep = p.apply()
        faults = sb.stats()["faults"]
        assert faults.get("lost", 0) > 0 and faults.get("drop", 0) + faults.get("error", 0) > 0, (
            faults
        )
        assert summary(rep) == {"ok": 480, "error": 0, "conflict": 0, "skipped": 0}, rep[
            rep.status != "ok"
        ]
        assert_exact(sb, "flt", upd, gone, 150)
        new_ids = rep.loc[rep.op == "add", "new_id"].tolist()
        assert len(set(new_ids)) == 150
        assert {r["ID"] for r in rows(sb, "crm_deal", "TITLE LIKE 'flt-add-%'")} == set(new_ids)


@pytest.mark.timeout(600)
def test_tasks_and_multifields_under_faults():
    with (
        Sandbox(deals=80, limits=False, faults=FAULTS, fault_seed=3, request_time_limit=5) as sb,
        make_client(sb) as c,
    ):
        tasks = load(c, "task")
        open_ = tasks[tasks["STATUS"].astype("Int64").isin([2, 3])].index[:20]
        after = tasks.copy()
        after.loc[open_, "STATUS"] = 5
        new = pd.DataFrame(
            {"TITLE": [f"ft-{k}" for k in range(60)], "RESPONSIBLE_ID": [1] * 60},
            index=pd.Index([pd.NA] * 60, dtype="Int64", name="ID"),
        )
        rep = plan(c, tasks, pd.concat([after, new])).apply()
        assert (rep.status == "ok").all(), rep[rep.status != "ok"]
        assert {
            r["status"] for r in rows(sb, "b_task", f"id IN ({','.join(map(str, open_))})")
        } == {5}
        titles = [r["title"] for r in rows(sb, "b_task", "title LIKE 'ft-%'")]
        assert sorted(titles) == sorted(f"ft-{k}" for k in range(60))

        leads = load(c, "lead")
        new = pd.DataFrame(
            {
                "TITLE": [f"fl-{k}" for k in range(60)],
                "PHONE": [[f"+1555{k:04d}"] for k in range(60)],
            },
            index=pd.Index([pd.NA] * 60, dtype="Int64", name="ID"),
        )
        rep = plan(c, leads, pd.concat([leads, new])).apply()
        assert (rep.status == "ok").all()
        ids = [int(i) for i in rep.new_id]
        phones = rows(sb, "crm_fm", f"ENTITY = 'L' AND OWNER_ID IN ({','.join(map(str, ids))})")
        assert sorted(p["VALUE"] for p in phones) == sorted(f"+1555{k:04d}" for k in range(60))
        assert len(rows(sb, "crm_lead", "TITLE LIKE 'fl-%'")) == 60
