"""Writes whose answer never came: no duplicate and no loss, ever.

* late execution: the sandbox runs 20% of the requests only after the client gave up waiting;
  the applier keeps looking until the request can no longer execute, so 1,000 adds land once;
* a crash, then a fresh load and a fresh plan of the same intended adds: nothing is added twice
  (stable markers), while adding identical rows on purpose still works;
* a frame loaded from another portal is refused.
"""

from __future__ import annotations

import pandas as pd
import pytest
from wb_helpers import client as make_client
from wb_helpers import rows

from bitrix_frames.errors import WriteValidationError
from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary


def new_rows(titles: list[str], **extra) -> pd.DataFrame:
    data = {"TITLE": titles, **{k: [v] * len(titles) for k, v in extra.items()}}
    return pd.DataFrame(data, index=pd.Index([pd.NA] * len(titles), dtype="Int64", name="ID"))


def titles_on_portal(sb: Sandbox, table: str, prefix: str) -> list[str]:
    column = "title" if table == "b_task" else "TITLE"
    return [r[column] for r in rows(sb, table, f"{column} LIKE ?", (f"{prefix}%",))]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_late_executions_never_duplicate_1000_adds(seed):
    late = {"late": 0.2}
    with (
        Sandbox(
            deals=10,
            limits=False,
            faults=late,
            fault_seed=seed,
            late_seconds=1.5,
            request_time_limit=4,
        ) as sb,
        make_client(sb, timeout=(2.0, 0.8)) as c,
    ):
        deals = load(c, "deal")
        titles = [f"late{seed}-{k}" for k in range(1000)]
        edited = deals.copy()
        edited["TITLE"] = edited["TITLE"].astype(object)
        edited.iloc[:5, edited.columns.get_loc("TITLE")] = [f"late{seed}-upd-{k}" for k in range(5)]
        rep = plan(c, deals, pd.concat([edited, new_rows(titles)])).apply(journal=False)
        assert sb.wait_idle(30)
        assert sb.stats()["faults"].get("late", 0) > 0
        stored = titles_on_portal(sb, "crm_deal", f"late{seed}-")
        added = [t for t in stored if "-upd-" not in t]
        assert len(added) == len(set(added)) == 1000, "duplicate or lost add"
        assert sorted(added) == sorted(titles)
        assert sum("-upd-" in t for t in stored) == 5
        assert summary(rep)["ok"] == 1005, rep[rep.status != "ok"]


class Crash(RuntimeError):
    pass


def crash_after(n: int):
    def progress(done: int, total: int) -> None:
        if done >= n:
            raise Crash(f"simulated crash after {done} of {total}")

    return progress


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("entity", "table", "extra"),
    [("deal", "crm_deal", {}), ("lead", "crm_lead", {}), ("task", "b_task", {"RESPONSIBLE_ID": 1})],
)
def test_crash_then_fresh_plan_adds_nothing_twice(entity, table, extra):
    with Sandbox(deals=20, limits=False, request_time_limit=4) as sb, make_client(sb) as c:
        titles = [f"rerun-{entity}-{k}" for k in range(260)]
        first = load(c, entity)
        with pytest.raises(Crash):
            plan(c, first, pd.concat([first, new_rows(titles, **extra)])).apply(
                journal=False, progress=crash_after(120)
            )
        landed = titles_on_portal(sb, table, f"rerun-{entity}-")
        assert 0 < len(landed) < len(titles)
        # the notebook is run again: fresh load, fresh plan, the same intended new rows
        fresh = load(c, entity)
        rep = plan(c, fresh, pd.concat([fresh, new_rows(titles, **extra)])).apply(journal=False)
        stored = titles_on_portal(sb, table, f"rerun-{entity}-")
        assert sorted(stored) == sorted(titles), "duplicate or lost add after a re-run"
        assert (rep["error_code"] == "ALREADY_ADDED").sum() == len(landed)
        assert summary(rep)["ok"] == len(titles)
        assert rep["new_id"].notna().all()


def test_identical_rows_on_purpose_are_added(sandbox):
    with make_client(sandbox) as c:
        deals = load(c, "deal")
        twins = new_rows(["twin", "twin"], OPPORTUNITY=5.0)
        rep = plan(c, deals, pd.concat([deals, twins])).apply(journal=False)
        assert summary(rep)["ok"] == 2 and rep["new_id"].nunique() == 2
        again = load(c, "deal")
        plain = plan(c, again, pd.concat([again, twins])).apply(journal=False)
        assert set(plain["error_code"]) == {"ALREADY_ADDED"}
        assert len(titles_on_portal(sandbox, "crm_deal", "twin")) == 2
        on_purpose = plan(c, again, pd.concat([again, twins]), repeat_adds=True)
        assert summary(on_purpose.apply(journal=False))["ok"] == 2
        assert len(titles_on_portal(sandbox, "crm_deal", "twin")) == 4


def test_a_frame_from_another_portal_is_refused(sandbox):
    with (
        Sandbox(deals=10, limits=False) as other,
        make_client(other) as theirs,
        make_client(sandbox) as ours,
    ):
        foreign = load(theirs, "deal")
        edited = foreign.copy()
        edited["TITLE"] = edited["TITLE"].astype(object)
        edited.iloc[0, edited.columns.get_loc("TITLE")] = "copied"
        with pytest.raises(WriteValidationError) as exc:
            plan(ours, foreign, edited)
        assert "portal" in set(exc.value.problems["field"])
        assert other.config.secret not in str(exc.value)
        empty = foreign.iloc[:0]
        copy = plan(ours, empty, pd.concat([empty, new_rows(["copied"])]), allow_other_portal=True)
        assert copy.counts["add"] == 1
