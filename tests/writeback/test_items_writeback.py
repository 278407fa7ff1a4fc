"""Write-back of smart-process items (crm.item.*) under the same faults as the classic entities:
lost responses, late execution, conflicts and crashes lose nothing and duplicate nothing; bad
input is a typed error naming row and field, and nothing is written."""

from __future__ import annotations

import pandas as pd
import pytest
from wb_helpers import client as make_client
from wb_helpers import dump, rows, write_calls

from bitrix_frames import accessor  # noqa: F401  (registers df.bitrix)
from bitrix_frames.errors import WriteValidationError
from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary

FAULTS = {"refused": 0.05, "error": 0.05, "drop": 0.1, "lost": 0.1}  # few requests: denser faults
ETID = 1036
SEED = 11


def items_on_portal(sb: Sandbox, where: str = "1", args: tuple = ()) -> list[dict]:
    return rows(sb, "crm_item", f'"ENTITY_TYPE_ID" = {ETID} AND {where}', args)


def new_items(titles: list[str], **extra) -> pd.DataFrame:
    data = {"TITLE": titles, **{k: [v] * len(titles) for k, v in extra.items()}}
    return pd.DataFrame(data, index=pd.Index([pd.NA] * len(titles), dtype="Int64", name="ID"))


def stage_codes(frame: pd.DataFrame, pipeline: int) -> list[str]:
    return [c for c in frame["STAGE_ID"].cat.categories if c.startswith(f"DT{ETID}_{pipeline}:")]


@pytest.mark.timeout(600)
def test_items_exactly_once_under_mixed_faults():
    with (
        Sandbox(
            deals=400, limits=False, faults=FAULTS, fault_seed=SEED, request_time_limit=5
        ) as sb,
        make_client(sb) as c,
    ):
        items = load(c, f"item:{ETID}")
        assert len(items) == 40
        after = items.copy()
        upd = list(items.index[:30])
        gone = list(items.index[30:35])
        after.loc[upd, "TITLE"] = [f"flt-upd-{i}" for i in upd]
        after.loc[upd, "OPPORTUNITY"] = [float(i) * 10 + 0.5 for i in upd]
        moved = {}
        for i in upd[:10]:  # stage moves inside each item's own pipeline
            target = stage_codes(items, int(items.loc[i, "CATEGORY_ID"]))[1]
            if items.loc[i, "STAGE_ID"] != target:
                moved[i] = target
        after.loc[list(moved), "STAGE_ID"] = list(moved.values())
        after = pd.concat([after.drop(index=gone), new_items([f"flt-add-{k}" for k in range(600)])])
        p = plan(c, items, after, allow_deletes=True)
        assert p.counts == {"add": 600, "update": 30, "delete": 5, "complete": 0}
        rep = p.apply()
        faults = sb.stats()["faults"]
        assert faults.get("lost", 0) > 0 and faults.get("drop", 0) + faults.get("error", 0) > 0
        assert summary(rep) == {"ok": 635, "error": 0, "conflict": 0, "skipped": 0}, rep[
            rep.status != "ok"
        ]
        got = {r["ID"]: r for r in items_on_portal(sb)}
        assert {i: got[i]["TITLE"] for i in upd} == {i: f"flt-upd-{i}" for i in upd}
        assert {i: got[i]["OPPORTUNITY"] for i in upd} == {i: float(i) * 10 + 0.5 for i in upd}
        assert {i: got[i]["STAGE_ID"] for i in moved} == moved
        assert all(got[i]["PREVIOUS_STAGE_ID"] == items.loc[i, "STAGE_ID"] for i in moved)
        assert not set(gone) & set(got), "lost delete"
        added = items_on_portal(sb, "TITLE LIKE 'flt-add-%'")
        titles = [r["TITLE"] for r in added]
        assert sorted(titles) == sorted(f"flt-add-{k}" for k in range(600)), "duplicate or lost"
        assert all(r["XML_ID"] for r in added)  # the add marker rides in xmlId
        assert {r["ID"] for r in added} == set(rep.loc[rep.op == "add", "new_id"])


@pytest.mark.timeout(600)
def test_items_late_executions_never_duplicate_adds():
    with (
        Sandbox(
            deals=10,
            limits=False,
            faults={"late": 0.2},
            fault_seed=5,
            late_seconds=1.5,
            request_time_limit=4,
        ) as sb,
        make_client(sb, timeout=(2.0, 0.8)) as c,
        make_client(sb) as reader,  # the load waits for late answers; the writes give up early
    ):
        items = load(reader, f"item:{ETID}")
        titles = [f"late-{k}" for k in range(400)]
        rep = plan(c, items, pd.concat([items, new_items(titles)])).apply(journal=False)
        assert sb.wait_idle(30)
        assert sb.stats()["faults"].get("late", 0) > 0
        stored = [r["TITLE"] for r in items_on_portal(sb, "TITLE LIKE 'late-%'")]
        assert len(stored) == len(set(stored)) == 400 and sorted(stored) == sorted(titles)
        assert summary(rep)["ok"] == 400, rep[rep.status != "ok"]


class Crash(RuntimeError):
    pass


@pytest.mark.timeout(600)
def test_items_crash_then_fresh_plan_adds_nothing_twice():
    def crash(done: int, total: int) -> None:
        if done >= 120:
            raise Crash(done)

    with Sandbox(deals=20, limits=False, request_time_limit=4) as sb, make_client(sb) as c:
        titles = [f"rerun-{k}" for k in range(260)]
        first = load(c, "item:1038")
        with pytest.raises(Crash):
            plan(c, first, pd.concat([first, new_items(titles)])).apply(
                journal=False, progress=crash
            )
        landed = rows(sb, "crm_item", "ENTITY_TYPE_ID = 1038 AND TITLE LIKE 'rerun-%'")
        assert 0 < len(landed) < len(titles)
        fresh = load(c, "item:1038")
        rep = plan(c, fresh, pd.concat([fresh, new_items(titles)])).apply(journal=False)
        stored = [
            r["TITLE"]
            for r in rows(sb, "crm_item", "ENTITY_TYPE_ID = 1038 AND TITLE LIKE 'rerun-%'")
        ]
        assert sorted(stored) == sorted(titles), "duplicate or lost add after a re-run"
        assert (rep["error_code"] == "ALREADY_ADDED").sum() == len(landed)
        assert rep["new_id"].notna().all()


def test_items_conflict_is_reported_not_overwritten():
    with Sandbox(deals=20, limits=False, request_time_limit=4) as sb, make_client(sb) as c:
        items = load(c, f"item:{ETID}")
        a, b = (int(i) for i in items.index[:2])
        c.call("crm.item.update", entityTypeId=ETID, id=a, fields={"title": "by a colleague"})
        sb.store.db.execute(
            'UPDATE crm_item SET "UPDATED_TIME" = "UPDATED_TIME" + 5 '
            'WHERE "ENTITY_TYPE_ID" = ? AND "ID" = ?',
            (ETID, a),
        )
        after = items.copy()
        after.loc[a, "TITLE"] = "mine"
        after.loc[b, "TITLE"] = "mine too"
        p = plan(c, items, after)
        rep = p.apply()
        assert rep.set_index("id").status.to_dict() == {a: "conflict", b: "ok"}
        assert items_on_portal(sb, '"ID" = ?', (a,))[0]["TITLE"] == "by a colleague"
        rep = p.apply(force=True)
        assert rep.set_index("id").status.to_dict() == {a: "ok", b: "ok"}
        assert items_on_portal(sb, '"ID" = ?', (a,))[0]["TITLE"] == "mine"


@pytest.fixture(scope="module")
def portal():
    with Sandbox(deals=20, limits=False) as sb, make_client(sb) as c:
        yield sb, c, load(c, f"item:{ETID}")


def _uf(frame: pd.DataFrame, title: str) -> str:
    fields = frame.attrs["bitrix"]["fields"]
    return next(name for name, spec in fields.items() if spec["title"] == title)


def _other_pipeline_stage(items: pd.DataFrame, row: int) -> str:
    own = int(items.loc[row, "CATEGORY_ID"])
    return stage_codes(items, 11 if own == 10 else 10)[1]


BAD = [
    ("stage of another pipeline", lambda f, r: ("STAGE_ID", _other_pipeline_stage(f, r))),
    ("unknown stage", lambda f, r: ("STAGE_ID", "DT1036_10:NOPE")),
    ("text amount", lambda f, r: ("OPPORTUNITY", "lots")),
    ("unknown enumeration label", lambda f, r: (_uf(f, "Priority"), "Sky-high")),
    ("read-only field", lambda f, r: ("CREATED_BY", 2)),
    ("unknown user", lambda f, r: ("ASSIGNED_BY_ID", 987654)),
    ("bad date", lambda f, r: (_uf(f, "Delivery date"), "not a date")),
]


@pytest.mark.parametrize(("name", "edit"), BAD, ids=[b[0] for b in BAD])
def test_items_bad_input_is_a_typed_error_and_nothing_is_written(portal, name, edit):
    sb, c, items = portal
    row = int(items.index[3])
    field, value = edit(items, row)
    after = items.copy()
    after[field] = after[field].astype(object)
    after.loc[row, field] = value
    state = dump(sb)
    sb.reset_stats()
    with pytest.raises(WriteValidationError) as exc:
        plan(c, items, after)
    probs = exc.value.problems
    assert (str(row), field) in set(zip(probs["row"].astype(str), probs["field"], strict=True))
    assert f"field {field}" in str(exc.value) and "nothing was sent" in str(exc.value)
    assert sb.config.secret not in str(exc.value)
    assert not write_calls(sb)
    assert dump(sb) == state


def test_items_of_a_new_row_missing_nothing_required_and_labels_accepted(portal):
    sb, c, items = portal
    priority = _uf(items, "Priority")
    new = new_items(["labelled"], STAGE_ID="Imports: Customs", **{priority: "Urgent"})
    new["CATEGORY_ID"] = 11
    rep = plan(c, items, pd.concat([items, new])).apply(journal=False)
    assert summary(rep)["ok"] == 1, rep
    stored = items_on_portal(sb, "TITLE = 'labelled'")[0]
    assert (stored["CATEGORY_ID"], stored["STAGE_ID"], stored["OPENED"]) == (
        11,
        "DT1036_11:CUSTOMS",
        "Y",
    )
    fresh = load(c, f"item:{ETID}", filter={"TITLE": "labelled"})
    assert fresh.bitrix.labels()[priority].tolist() == ["Urgent"]


def test_deals_written_through_crm_item_land_in_the_deal_table():
    with Sandbox(deals=30, limits=False) as sb, make_client(sb) as c:
        deals = load(c, "item:2")
        target = "PREPARATION"
        general = deals[(deals["CATEGORY_ID"] == 0) & (deals["STAGE_ID"] != target)]
        row = int(general.index[0])
        after = deals.copy()
        after.loc[row, "STAGE_ID"] = target
        after.loc[row, "TITLE"] = "via items"
        rep = plan(c, deals, after).apply(journal=False)
        assert summary(rep)["ok"] == 1, rep
        stored = rows(sb, "crm_deal", "ID = ?", (row,))[0]
        assert (stored["STAGE_ID"], stored["TITLE"]) == (target, "via items")
