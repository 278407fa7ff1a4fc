"""crm.type.* and crm.item.* on the sandbox: seeded smart processes, the classic entities through the
universal API over the same records, paging, filters, errors and writes (PROTOCOL §12-§13)."""

from __future__ import annotations

import pytest
import requests

from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=120, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, **params):
    resp = requests.post(sb.webhook_url + method, json=params, timeout=30)
    return resp.status_code, resp.json()


def ok(sb, method: str, **params):
    status, body = call(sb, method, **params)
    assert status == 200, body
    return body


def all_items(sb, entity_type_id: int, **params) -> list[dict]:
    """Every item by keyset (order id, >id, start=-1)."""
    out: list[dict] = []
    last = 0
    while True:
        flt = {**params.pop("filter", {}), ">id": last}
        body = ok(
            sb,
            "crm.item.list",
            entityTypeId=entity_type_id,
            order={"id": "ASC"},
            filter=flt,
            start=-1,
            **params,
        )
        params["filter"] = {k: v for k, v in flt.items() if k != ">id"}
        rows = body["result"]["items"]
        assert body["total"] == 0 and "next" not in body
        out += rows
        if len(rows) < 50:
            return out
        last = rows[-1]["id"]


# --- types, pipelines, stages, user fields --------------------------------------------------------


def test_two_smart_processes_with_their_pipelines_stages_and_user_fields(sb):
    types = ok(sb, "crm.type.list", order={"id": "ASC"})
    assert types["total"] == 2
    rows = types["result"]["types"]
    assert [(t["id"], t["entityTypeId"]) for t in rows] == [(7, 1036), (8, 1038)]
    assert all(t["entityTypeId"] >= 1030 for t in rows)
    assert rows[0]["isCategoriesEnabled"] == "Y" and rows[1]["isCategoriesEnabled"] == "N"
    assert ok(sb, "crm.type.get", id=8)["result"]["type"]["title"] == "Contracts"
    by_etid = ok(sb, "crm.type.getByEntityTypeId", entityTypeId=1036)["result"]["type"]
    assert by_etid["id"] == 7 and by_etid["relations"]["parent"][0]["entityTypeId"] == 3
    assert call(sb, "crm.type.get", id=99)[1]["error_description"] == "SPA not found"
    filtered = ok(sb, "crm.type.list", filter={"isCategoriesEnabled": "Y"})["result"]["types"]
    assert [t["entityTypeId"] for t in filtered] == [1036]

    cats = ok(sb, "crm.category.list", entityTypeId=1036)["result"]["categories"]
    assert [(c["id"], c["isDefault"]) for c in cats] == [(10, "Y"), (11, "N")]
    assert [
        c["id"] for c in ok(sb, "crm.category.list", entityTypeId=1038)["result"]["categories"]
    ] == [12]
    assert (
        ok(sb, "crm.category.get", entityTypeId=1036, id=11)["result"]["category"]["name"]
        == "Imports"
    )

    stages = ok(sb, "crm.status.list", filter={"ENTITY_ID": "DYNAMIC_1036_STAGE_11"})["result"]
    assert [s["STATUS_ID"] for s in stages] == [
        "DT1036_11:NEW",
        "DT1036_11:CUSTOMS",
        "DT1036_11:SUCCESS",
        "DT1036_11:FAIL",
    ]
    assert [s["SEMANTICS"] for s in stages] == [None, None, "S", "F"]
    kinds = {e["ID"] for e in ok(sb, "crm.status.entity.types")["result"]}
    assert {"DYNAMIC_1036_STAGE_10", "DYNAMIC_1036_STAGE_11", "DYNAMIC_1038_STAGE_12"} <= kinds


def test_item_fields_name_user_fields_camel_or_original(sb):
    fields = ok(sb, "crm.item.fields", entityTypeId=1036)["result"]["fields"]
    ufs = {k: v for k, v in fields.items() if v["isDynamic"]}
    assert len(ufs) == 5
    for name, meta in ufs.items():
        assert name.startswith("ufCrm7_") and meta["upperName"] == "UF_CRM_7_" + name[7:]
    enum = next(v for v in ufs.values() if v["type"] == "enumeration")
    assert [i["VALUE"] for i in enum["items"]] == ["Low", "Normal", "Urgent"]
    assert fields["stageId"]["statusType"] == "DYNAMIC_1036_STAGE_10"
    assert fields["contactIds"]["isMultiple"] and fields["id"]["isReadOnly"]
    original = ok(sb, "crm.item.fields", entityTypeId=1036, useOriginalUfNames="Y")["result"]
    assert {k for k in original["fields"] if k.startswith("UF_")} == {
        v["upperName"] for v in ufs.values()
    }
    item = ok(sb, "crm.item.get", entityTypeId=1036, id=1, useOriginalUfNames="Y")["result"]
    assert {k for k in item["item"] if k.startswith("UF_CRM_7_")} == set(original["fields"]) - set(
        fields
    )


def test_items_of_smart_processes_are_consistent_with_their_dictionaries(sb):
    stages = {
        s["STATUS_ID"]: s["CATEGORY_ID"]
        for etid, cat in ((1036, 10), (1036, 11), (1038, 12))
        for s in ok(sb, "crm.status.list", filter={"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{cat}"})[
            "result"
        ]
    }
    contacts = ok(sb, "crm.contact.list", select=["ID"], start=-1, order={"ID": "DESC"})
    top_contact = int(contacts["result"][0]["ID"])
    for etid, count in ((1036, 40), (1038, 25)):
        items = all_items(sb, etid)
        assert [i["id"] for i in items] == list(range(1, count + 1))
        for item in items:
            assert stages[item["stageId"]] == str(item["categoryId"])
            assert item["stageId"].startswith(f"DT{etid}_{item['categoryId']}:")
            assert item["contactId"] == (item["contactIds"][0] if item["contactIds"] else 0)
            assert all(1 <= c <= top_contact for c in item["contactIds"])
            assert isinstance(item["opportunity"], (int, float)) and item["entityTypeId"] == etid
    assert {i["categoryId"] for i in all_items(sb, 1036)} == {10, 11}


def test_seeding_is_deterministic():
    def items():
        with Sandbox(deals=30, limits=False) as one:
            body = ok(one, "crm.item.list", entityTypeId=1038, select=["*"], order={"id": "ASC"})
            return [
                {k: v for k, v in i.items() if k not in ("createdTime", "updatedTime", "movedTime",
                                                         "lastActivityTime", "begindate", "closedate")}
                for i in body["result"]["items"]
            ]  # fmt: skip

    assert items() == items()


# --- the classic entities through crm.item -------------------------------------------------------


@pytest.mark.parametrize(
    ("etid", "entity", "stage"),
    [(1, "lead", "STATUS_ID"), (2, "deal", "STAGE_ID"), (3, "contact", None), (4, "company", None)],
)
def test_classic_entities_are_the_same_records(sb, etid, entity, stage):
    classic = ok(sb, f"crm.{entity}.list", select=["*", "UF_*"], order={"ID": "ASC"})
    total = classic["total"]
    items = all_items(sb, etid)
    assert len(items) == total and ok(sb, "crm.item.list", entityTypeId=etid)["total"] == total
    first = classic["result"][0]
    item = items[0]
    assert item["id"] == int(first["ID"]) and item["entityTypeId"] == etid
    assert item["assignedById"] == int(first["ASSIGNED_BY_ID"])
    assert item["opened"] == first["OPENED"]
    created = ok(sb, f"crm.{entity}.get", id=first["ID"])["result"]["DATE_CREATE"]
    assert item["createdTime"] == created
    if stage:
        assert item["stageId"] == first[stage]
        assert item["opportunity"] == pytest.approx(float(first["OPPORTUNITY"]))
    fields = ok(sb, "crm.item.fields", entityTypeId=etid)["result"]["fields"]
    for name, meta in fields.items():
        if meta["isDynamic"]:
            assert name == "ufCrm_" + meta["upperName"][7:]
            assert meta["upperName"] in first or meta["isMultiple"]


def test_deal_items_carry_contact_ids_and_typed_values(sb):
    deals = all_items(sb, 2, select=["id", "contactId", "contactIds", "companyId", "probability"])
    with_contacts = [d for d in deals if d["contactIds"]]
    assert with_contacts
    for deal in deals:
        assert set(deal) == {"id", "contactId", "contactIds", "companyId", "probability"}
        assert deal["contactId"] == (deal["contactIds"][0] if deal["contactIds"] else 0)
        assert isinstance(deal["companyId"], int)
        assert deal["probability"] is None or isinstance(deal["probability"], int)
    some = with_contacts[0]
    assert ok(sb, "crm.deal.get", id=some["id"])["result"]["CONTACT_ID"] == str(some["contactId"])
    filtered = ok(
        sb, "crm.item.list", entityTypeId=2, filter={"contactIds": some["contactIds"][-1]}
    )
    assert some["id"] in [d["id"] for d in filtered["result"]["items"]]


# --- paging, filters, order, errors --------------------------------------------------------------


def test_paging_is_exact_offset_with_total_and_next(sb):
    first = ok(sb, "crm.item.list", entityTypeId=2, select=["id"], order={"id": "ASC"})
    assert first["total"] == 120 and first["next"] == 50 and len(first["result"]["items"]) == 50
    page = ok(sb, "crm.item.list", entityTypeId=2, select=["id"], order={"id": "ASC"}, start=75)
    assert [i["id"] for i in page["result"]["items"]] == list(range(76, 121))  # not rounded to 50
    assert "next" not in page and page["total"] == 120
    mid = ok(sb, "crm.item.list", entityTypeId=2, select=["id"], order={"id": "ASC"}, start=30)
    assert mid["result"]["items"][0]["id"] == 31 and mid["next"] == 80
    fast = ok(sb, "crm.item.list", entityTypeId=2, select=["id"], start=-1, filter={">id": 110})
    assert [i["id"] for i in fast["result"]["items"]] == list(range(111, 121))
    assert fast["total"] == 0 and "next" not in fast
    empty = ok(sb, "crm.item.list", entityTypeId=1036, filter={">id": 10**6})
    assert empty["result"] == {"items": []} and empty["total"] == 0


def test_filters_operators_nested_logic_and_upper_keys(sb):
    items = all_items(sb, 1036)
    won = [i["id"] for i in items if i["stageId"].endswith(":SUCCESS")]
    lost = [i["id"] for i in items if i["stageId"].endswith(":FAIL")]
    either = ok(
        sb,
        "crm.item.list",
        entityTypeId=1036,
        select=["id"],
        filter={"0": {"logic": "OR", "0": {"%stageId": "SUCCESS"}, "1": {"=%stageId": "%:FAIL"}}},
    )["result"]["items"]
    assert sorted(i["id"] for i in either) == sorted(won + lost)
    big = [i["id"] for i in items if i["opportunity"] >= 100_000 and i["categoryId"] == 10]
    got = ok(
        sb,
        "crm.item.list",
        entityTypeId=1036,
        select=["id"],
        filter={">=OPPORTUNITY": 100_000, "@categoryId": [10]},
    )["result"]["items"]
    assert [i["id"] for i in got] == big
    not_in = ok(
        sb, "crm.item.list", entityTypeId=1036, select=["id"], filter={"!@categoryId": [10]}
    )["result"]["items"]
    assert {i["id"] for i in not_in} == {i["id"] for i in items if i["categoryId"] == 11}
    by_stage = ok(
        sb, "crm.item.list", entityTypeId=1036, select=["stageId"], order={"stageId": "DESC"},
        filter={"categoryId": 10},
    )["result"]["items"]  # fmt: skip
    order = ["NEW", "QUOTE", "APPROVAL", "SUCCESS", "FAIL"]  # stage SORT order, reversed here
    ranks = [order.index(i["stageId"].split(":")[1]) for i in by_stage]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"entityTypeId": 999}, "NOT_FOUND", "Smart process not found"),
        ({"entityTypeId": 1036, "filter": {"nope": 1}}, "INVALID_ARG_VALUE",
         "Invalid filter: field 'nope' is not allowed in filter"),
        ({"entityTypeId": 1036, "order": {"nope": "ASC"}}, "INVALID_ARG_VALUE",
         "Invalid order: field 'nope' is not allowed in order"),
        ({"entityTypeId": 1036, "order": {"id": "up"}}, "INVALID_ARG_VALUE",
         "Invalid order: allowed sort directions are ASC, DESC. But got 'up' for field 'id'"),
        ({"entityTypeId": 2, "filter": {">=createdTime": "not a date"}}, "INVALID_ARG_VALUE",
         "Invalid filter: field 'createdTime' has invalid value"),
    ],
)  # fmt: skip
def test_list_errors(sb, params, code, text):
    status, body = call(sb, "crm.item.list", **params)
    assert (status, body["error"], body["error_description"]) == (400, code, text)


# --- writes --------------------------------------------------------------------------------------


def test_smart_process_item_add_update_stage_moves_and_delete(sb):
    fields = ok(sb, "crm.item.fields", entityTypeId=1036)["result"]["fields"]
    supplier = next(k for k, v in fields.items() if v["title"] == "Supplier")
    added = ok(
        sb,
        "crm.item.add",
        entityTypeId=1036,
        fields={
            "title": "New lathe",
            "contactIds": [3, 2],
            supplier: "ACME",
            "opportunity": "1500.5",
        },
    )["result"]["item"]
    assert added["categoryId"] == 10 and added["stageId"] == "DT1036_10:NEW"
    assert added["contactIds"] == [3, 2] and added["contactId"] == 3
    assert added[supplier] == "ACME" and added["opportunity"] == 1500.5
    iid = added["id"]

    moved = ok(
        sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"stageId": "DT1036_10:QUOTE"}
    )["result"]["item"]
    assert moved["stageId"] == "DT1036_10:QUOTE" and moved["previousStageId"] == "DT1036_10:NEW"
    same = ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"title": "New lathe"})
    assert same["result"]["item"]["updatedTime"] == moved["updatedTime"]

    piped = ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"categoryId": 11})
    assert piped["result"]["item"]["stageId"] == "DT1036_11:NEW"
    status, body = call(
        sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"stageId": "DT1036_10:QUOTE"}
    )
    assert (status, body["error"]) == (400, "CRM_FIELD_ERROR_VALUE_NOT_VALID")
    status, body = call(
        sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"opportunity": [1, 2]}
    )
    assert body["error_description"] == 'Invalid value for field "Amount"'

    assert ok(sb, "crm.item.delete", entityTypeId=1036, id=iid)["result"] == []
    assert call(sb, "crm.item.get", entityTypeId=1036, id=iid)[1] == {
        "error": "NOT_FOUND",
        "error_description": "Element not found",
    }
    assert call(sb, "crm.item.delete", entityTypeId=1036, id=iid)[1]["error_description"] == (
        "Item not found"
    )


def test_writes_to_classic_entities_show_in_both_apis(sb):
    item = ok(
        sb,
        "crm.item.add",
        entityTypeId=2,
        fields={"title": "via items", "categoryId": 1, "contactIds": [5, 6], "opportunity": 42},
    )["result"]["item"]
    deal = ok(sb, "crm.deal.get", id=item["id"])["result"]
    assert deal["TITLE"] == "via items" and deal["CATEGORY_ID"] == "1"
    assert deal["STAGE_ID"] == item["stageId"] == "C1:NEW" and deal["CONTACT_ID"] == "5"
    updated = ok(
        sb, "crm.item.update", entityTypeId=2, id=item["id"], fields={"stageId": "C1:WON"}
    )["result"]["item"]
    assert updated["stageSemanticId"] == "S" and updated["closed"] == "Y"
    assert ok(sb, "crm.deal.get", id=item["id"])["result"]["STAGE_ID"] == "C1:WON"
    ok(sb, "crm.deal.update", id=item["id"], fields={"TITLE": "classic"})
    assert (
        ok(sb, "crm.item.get", entityTypeId=2, id=item["id"])["result"]["item"]["title"]
        == "classic"
    )
    ok(sb, "crm.item.delete", entityTypeId=2, id=item["id"])
    assert call(sb, "crm.deal.get", id=item["id"])[0] == 400


def test_stage_moves_through_crm_item_append_to_the_stage_history(sb):
    iid = ok(sb, "crm.item.add", entityTypeId=1036, fields={"title": "h"})["result"]["item"]["id"]
    ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"stageId": "DT1036_10:QUOTE"})
    ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"title": "no stage move"})
    ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"categoryId": 11})
    ok(sb, "crm.item.update", entityTypeId=1036, id=iid, fields={"stageId": "DT1036_11:SUCCESS"})

    def history(etid: int, owner: int) -> list[tuple]:
        body = ok(sb, "crm.stagehistory.list", entityTypeId=etid, filter={"OWNER_ID": owner},
                  order={"ID": "ASC"})  # fmt: skip
        return [(h["TYPE_ID"], h["CATEGORY_ID"], h["STAGE_ID"]) for h in body["result"]["items"]]

    assert history(1036, iid) == [
        (1, 10, "DT1036_10:NEW"),
        (2, 10, "DT1036_10:QUOTE"),
        (5, 11, "DT1036_11:NEW"),
        (3, 11, "DT1036_11:SUCCESS"),
    ]
    ok(sb, "crm.item.delete", entityTypeId=1036, id=iid)
    assert history(1036, iid) == []

    deal = ok(sb, "crm.item.add", entityTypeId=2, fields={"title": "d"})["result"]["item"]["id"]
    ok(sb, "crm.item.update", entityTypeId=2, id=deal, fields={"stageId": "PREPARATION"})
    assert [h[2] for h in history(2, deal)] == ["NEW", "PREPARATION"]
