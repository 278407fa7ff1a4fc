"""``crm.stagehistory.list``: the documented example, errors, paging, and a history consistent with
the seeded deals and leads that every stage move through the API extends.

The documented example (``api-reference/crm/crm-stage-history-list.md``): request
``{"entityTypeId":2,"order":{"ID":"ASC"},"filter":{"OWNER_ID":1},"select":["ID","STAGE_ID",
"CREATED_TIME"]}``; answer ``{"result": {"items": [{"ID": 35, "TYPE_ID": 1, "OWNER_ID": 21,
"CREATED_TIME": "2024-04-25T14:59:11+00:00", "CATEGORY_ID": 0, "STAGE_SEMANTIC_ID": "P",
"STAGE_ID": "NEW"}]}, "total": 1}``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import requests
from shape import assert_same_shape

pytestmark = pytest.mark.timeout(120)

DOC_ITEM = {
    "ID": 35,
    "TYPE_ID": 1,
    "OWNER_ID": 21,
    "CREATED_TIME": "2024-04-25T14:59:11+00:00",
    "CATEGORY_ID": 0,
    "STAGE_SEMANTIC_ID": "P",
    "STAGE_ID": "NEW",
}
DOC_ANSWER = {"result": {"items": [DOC_ITEM]}, "total": 1}
DOC_REQUEST = {
    "entityTypeId": 2,
    "order": {"ID": "ASC"},
    "filter": {"OWNER_ID": 1},
    "select": ["ID", "STAGE_ID", "CREATED_TIME"],
}


@pytest.fixture(scope="module")
def sb():
    from sandboxes import start

    sandbox = start("medium")
    yield sandbox
    sandbox.stop()


def call(sb, method: str, **params) -> requests.Response:
    return requests.post(sb.webhook_url + method, json=params, timeout=30)


def history(sb, entity_type_id: int, **filter) -> list[dict]:
    """Every entry (plain offset paging), in ID order."""
    out, start = [], 0
    while start is not None:
        body = call(sb, "crm.stagehistory.list", entityTypeId=entity_type_id, filter=filter,
                    start=start).json()  # fmt: skip
        out += body["result"]["items"]
        start = body.get("next")
    return out


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def test_documented_example_answers_in_the_documented_shape(sb):
    resp = call(sb, "crm.stagehistory.list", **DOC_REQUEST)
    assert resp.status_code == 200
    body = resp.json()
    items = body["result"]["items"]
    assert items and all(list(i) == ["ID", "STAGE_ID", "CREATED_TIME"] for i in items)
    assert body["total"] == len(items)
    assert [i["ID"] for i in items] == sorted(i["ID"] for i in items)
    full = call(sb, "crm.stagehistory.list", entityTypeId=2, filter={"OWNER_ID": 1}).json()
    assert_same_shape(DOC_ANSWER, {k: v for k, v in full.items() if k != "next"})
    assert all(type(i[k]) is int for i in full["result"]["items"] for k in ("ID", "TYPE_ID"))


def test_leads_name_the_status_and_have_no_pipeline(sb):
    items = call(sb, "crm.stagehistory.list", entityTypeId=1, filter={"OWNER_ID": 1}).json()
    item = items["result"]["items"][0]
    assert list(item) == [
        "ID",
        "TYPE_ID",
        "OWNER_ID",
        "CREATED_TIME",
        "STATUS_SEMANTIC_ID",
        "STATUS_ID",
    ]


def test_old_invoices_answer_an_empty_list(sb):
    resp = call(sb, "crm.stagehistory.list", entityTypeId=5)
    assert resp.status_code == 200
    body = resp.json()
    assert body["result"] == {"items": []} and body["total"] == 0 and "next" not in body


@pytest.mark.parametrize(
    ("params", "code", "description"),
    [
        ({"entityTypeId": 3}, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type CONTACT is not supported"),
        (
            {"entityTypeId": 20},
            "ENTITY_TYPE_NOT_SUPPORTED",
            "Entity type SHIPMENT_DOCUMENT is not supported",
        ),
        ({}, "ENTITY_TYPE_NOT_SUPPORTED", "Entity type  is not supported"),
        (
            {"entityTypeId": 2, "filter": {"TITLE": "x"}},
            "INVALID_ARG_VALUE",
            "Invalid filter: field 'TITLE' is not allowed in filter",
        ),
        (
            {"entityTypeId": 2, "filter": {">CREATED_TIME": "yesterday-ish"}},
            "INVALID_ARG_VALUE",
            "Invalid filter: field 'CREATED_TIME' has invalid value",
        ),
        (
            {"entityTypeId": 1, "order": {"STAGE_ID": "ASC"}},
            "INVALID_ARG_VALUE",
            "Invalid order: field 'STAGE_ID' is not allowed in order",
        ),
        (
            {"entityTypeId": 2, "order": {"ID": "UP"}},
            "INVALID_ARG_VALUE",
            "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'ID'",
        ),
    ],
)
def test_documented_errors(sb, params, code, description):
    resp = call(sb, "crm.stagehistory.list", **params)
    assert resp.status_code == 400
    assert resp.json() == {"error": code, "error_description": description}


def test_paging_filters_and_keyset(sb):
    first = call(sb, "crm.stagehistory.list", entityTypeId=2, start=0).json()
    total = first["total"]
    assert total > 200 and first["next"] == 50 and len(first["result"]["items"]) == 50
    odd = call(sb, "crm.stagehistory.list", entityTypeId=2, start=75).json()
    assert odd["result"]["items"][0]["ID"] == sorted(e["ID"] for e in history(sb, 2))[75]
    fast = call(
        sb,
        "crm.stagehistory.list",
        entityTypeId=2,
        order={"ID": "ASC"},
        filter={">ID": 40},
        select=["ID"],
        start=-1,
    ).json()
    assert fast["total"] == 0 and "next" not in fast
    assert [i["ID"] for i in fast["result"]["items"]] == list(range(41, 91))
    won = call(
        sb,
        "crm.stagehistory.list",
        entityTypeId=2,
        filter={"@STAGE_SEMANTIC_ID": ["S", "F"], "!=TYPE_ID": 1},
    ).json()
    assert won["total"] > 0
    assert all(i["STAGE_SEMANTIC_ID"] in "SF" and i["TYPE_ID"] == 3 for i in won["result"]["items"])


@pytest.mark.parametrize(("entity_type_id", "entity"), [(2, "deal"), (1, "lead")])
def test_history_is_consistent_with_the_records(sb, entity_type_id, entity):
    stage = "STAGE_ID" if entity == "deal" else "STATUS_ID"
    semantic = "STAGE_SEMANTIC_ID" if entity == "deal" else "STATUS_SEMANTIC_ID"
    records, start = [], 0
    while start is not None:
        body = call(sb, f"crm.{entity}.list", start=start, select=["*"]).json()
        records += body["result"]
        start = body.get("next")
    by_owner = defaultdict(list)
    for e in history(sb, entity_type_id):
        by_owner[e["OWNER_ID"]].append(e)
    assert set(by_owner) == {int(r["ID"]) for r in records}
    moved_pipelines = 0
    for r in records:
        entries = sorted(by_owner[int(r["ID"])], key=lambda e: e["ID"])
        times = [ts(e["CREATED_TIME"]) for e in entries]
        assert times[0] == ts(r["DATE_CREATE"])
        assert times == sorted(times) and len(set(times)) == len(times)
        assert entries[0]["TYPE_ID"] in (1, 3)
        assert all(e["TYPE_ID"] in (2, 3, 5) for e in entries[1:])
        last = entries[-1]
        assert last[stage] == r[stage] and last[semantic] == r[semantic]
        assert times[-1] == ts(r["MOVED_TIME"])
        assert all(a[stage] != b[stage] for a, b in zip(entries, entries[1:], strict=False))
        if entity == "deal":
            assert last["CATEGORY_ID"] == int(r["CATEGORY_ID"])
            pipelines = [e["CATEGORY_ID"] for e in entries]
            moved_pipelines += len(set(pipelines)) > 1
            for a, b in zip(entries, entries[1:], strict=False):
                assert (b["TYPE_ID"] == 5) == (a["CATEGORY_ID"] != b["CATEGORY_ID"])
            if r["CLOSED"] == "Y":
                closed = dt.datetime.fromisoformat(last["CREATED_TIME"]).date()
                assert closed.isoformat() == r["CLOSEDATE"][:10]
    if entity == "deal":
        assert moved_pipelines > 0
    assert sum(len(v) > 2 for v in by_owner.values()) > len(records) // 4


def test_adds_and_stage_moves_append(sb):
    deal = call(sb, "crm.deal.add", fields={"TITLE": "history", "CATEGORY_ID": 1}).json()["result"]
    for stage in ("C1:PREPARATION", "C1:PREPARATION", "C1:NEW", "C1:EXECUTING", "C1:LOSE"):
        assert call(sb, "crm.deal.update", id=deal, fields={"STAGE_ID": stage}).json()["result"]
    call(sb, "crm.deal.update", id=deal, fields={"TITLE": "renamed"})
    entries = history(sb, 2, OWNER_ID=deal)
    assert [(e["TYPE_ID"], e["STAGE_ID"]) for e in entries] == [
        (1, "C1:NEW"),
        (2, "C1:PREPARATION"),
        (2, "C1:NEW"),
        (2, "C1:EXECUTING"),
        (3, "C1:LOSE"),
    ]
    assert {e["CATEGORY_ID"] for e in entries} == {1}
    assert entries[-1]["STAGE_SEMANTIC_ID"] == "F"
    got = call(sb, "crm.deal.get", id=deal).json()["result"]
    assert ts(entries[-1]["CREATED_TIME"]) == ts(got["MOVED_TIME"])
    assert [e["ID"] for e in entries] == sorted(e["ID"] for e in entries)
    lead = call(sb, "crm.lead.add", fields={"TITLE": "h", "STATUS_ID": "IN_PROCESS"}).json()
    call(sb, "crm.lead.update", id=lead["result"], fields={"STATUS_ID": "CONVERTED"})
    lead_entries = history(sb, 1, OWNER_ID=lead["result"])
    assert [(e["TYPE_ID"], e["STATUS_ID"], e["STATUS_SEMANTIC_ID"]) for e in lead_entries] == [
        (1, "IN_PROCESS", "P"),
        (3, "CONVERTED", "S"),
    ]
    call(sb, "crm.deal.delete", id=deal)
    assert history(sb, 2, OWNER_ID=deal) == []


def test_record_stage_change_is_the_one_entry_point():
    from bitrix_frames.sandbox.history import record_stage_change
    from bitrix_frames.sandbox.seed_dicts import seed_dicts  # noqa: F401  (crm_status table)
    from bitrix_frames.sandbox.store import Store

    store = Store()
    with store.transaction() as db:
        first = record_stage_change(db, 2, 9, 0, "NEW", 100)
        assert record_stage_change(db, 2, 9, 0, "NEW", 101) is None
        moved = record_stage_change(db, 2, 9, 2, "C2:NEW", 102)
        other = record_stage_change(db, 1, 9, 0, "NEW", 103)
    rows = store.query(
        "SELECT ENTITY_TYPE_ID, ID, TYPE_ID, CATEGORY_ID FROM crm_stage_history ORDER BY 1, 2"
    )
    assert [tuple(r) for r in rows] == [(1, other, 1, 0), (2, first, 1, 0), (2, moved, 5, 2)]
    assert other == first == 1
