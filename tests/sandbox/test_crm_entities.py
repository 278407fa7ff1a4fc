"""Behaviour of crm.{lead,deal,contact,company}.* over HTTP: paging, filters, stages, multifields,
user fields, write rules and documented errors."""

from __future__ import annotations

import re

import pytest
import requests

from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=300, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict | None = None) -> dict:
    return requests.post(sb.webhook_url + method, json=params or {}, timeout=30).json()


def ok(sb, method: str, params: dict | None = None):
    body = call(sb, method, params)
    assert "error" not in body, body
    return body


# --- paging --------------------------------------------------------------------------------------


def test_paging_rounds_start_down_and_reports_next_total(sb):
    body = ok(sb, "crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}, "start": 75})
    assert body["total"] == 300 and body["next"] == 100
    assert body["result"][0]["ID"] == "51" and len(body["result"]) == 50
    last = ok(sb, "crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}, "start": 250})
    assert "next" not in last and last["result"][-1]["ID"] == "300"
    past = ok(sb, "crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}, "start": 5000})
    assert past["result"][0]["ID"] == "1" and past["next"] == 50  # falls back to page 1


def test_start_minus_one_keyset(sb):
    seen: list[str] = []
    last = 0
    while True:
        body = ok(
            sb,
            "crm.deal.list",
            {"select": ["ID"], "order": {"ID": "ASC"}, "filter": {">ID": last}, "start": -1},
        )
        assert body["total"] == 0 and "next" not in body
        seen += [r["ID"] for r in body["result"]]
        if len(body["result"]) < 50:
            break
        last = int(body["result"][-1]["ID"])
    assert seen == [str(i) for i in range(1, 301)]


# --- filters, select, order ------------------------------------------------------------------------


def test_unknown_filter_key_and_logic_are_dropped(sb):
    everything = ok(sb, "crm.deal.list", {"select": ["ID"]})["total"]
    body = ok(
        sb, "crm.deal.list", {"filter": {"NO_SUCH_FIELD": 1, "LOGIC": "OR"}, "select": ["ID"]}
    )
    assert body["total"] == everything
    nested = {"0": {"LOGIC": "OR", "ID": 1}, ">ID": 290}
    assert ok(sb, "crm.deal.list", {"filter": nested, "select": ["ID"]})["total"] == 10


def test_order_by_stage_uses_stage_sort(sb):
    stages = ok(sb, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})["result"]
    sort = {s["STATUS_ID"]: int(s["SORT"]) for s in stages}
    rows = []
    start = 0
    while start is not None:
        body = ok(
            sb,
            "crm.deal.list",
            {
                "filter": {"CATEGORY_ID": 0},
                "order": {"STAGE_ID": "DESC"},
                "select": ["STAGE_ID"],
                "start": start,
            },
        )
        rows += body["result"]
        start = body.get("next")
    keys = [sort[r["STAGE_ID"]] for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert [r["STAGE_ID"] for r in rows] != sorted((r["STAGE_ID"] for r in rows), reverse=True)


def test_select_rules(sb):
    row = ok(
        sb, "crm.contact.list", {"select": ["NAME", "PHONE", "NOPE"], "filter": {"HAS_PHONE": "Y"}}
    )["result"][0]
    assert list(row) == ["NAME", "ID", "PHONE"]
    star = ok(sb, "crm.contact.list", {"select": ["*"]})["result"][0]
    assert "PHONE" not in star and not any(k.startswith("UF_") for k in star)
    default = ok(sb, "crm.deal.list", {})["result"][0]
    assert "STAGE_ID" in default and any(k.startswith("UF_") for k in default)
    assert "CONTACT_IDS" not in default
    assert default["LEAD_ID"] == "0"  # empty link in a list


def test_value_formats(sb):
    deal = ok(sb, "crm.deal.get", {"id": 1})["result"]
    assert re.fullmatch(r"\d+\.\d\d", deal["OPPORTUNITY"])
    assert ISO.match(deal["DATE_CREATE"]) and deal["BEGINDATE"].endswith("T03:00:00+03:00")
    assert deal["CLOSED"] in ("Y", "N") and deal["CATEGORY_ID"].isdigit()
    assert deal["LEAD_ID"] is None  # empty link in get


def test_filter_by_phone_exact(sb):
    row = ok(sb, "crm.contact.list", {"select": ["ID", "PHONE"], "filter": {"HAS_PHONE": "Y"}})[
        "result"
    ][0]
    phone = row["PHONE"][0]["VALUE"]
    found = ok(sb, "crm.contact.list", {"select": ["ID"], "filter": {"PHONE": phone}})["result"]
    assert {"ID": row["ID"]} in found
    assert ok(sb, "crm.contact.list", {"filter": {"PHONE": phone[:-2]}})["total"] == 0


def test_uf_filter_and_formats(sb):
    fields = ok(sb, "crm.deal.fields")["result"]
    enum = next(k for k, v in fields.items() if v["type"] == "enumeration" and not v["isMultiple"])
    option = fields[enum]["items"][0]["ID"]
    rows = ok(sb, "crm.deal.list", {"select": ["ID", enum], "filter": {enum: option}})["result"]
    assert rows and all(r[enum] == option for r in rows)
    money = next(k for k, v in fields.items() if v["type"] == "money")
    boolean = next(k for k, v in fields.items() if v["type"] == "boolean")
    got = ok(sb, "crm.deal.list", {"select": [money, boolean], "filter": {"!" + money: ""}})[
        "result"
    ][0]
    assert re.fullmatch(r"\d+(\.\d+)?\|[A-Z]{3}", got[money])
    assert isinstance(got[boolean], bool)


# --- writes --------------------------------------------------------------------------------------


def test_deal_add_defaults_stage_semantics_and_immutable_category(sb):
    cats = ok(sb, "crm.category.list", {"entityTypeId": 2})["result"]["categories"]
    cat = next(c["id"] for c in cats if c["id"] != 0)
    stages = ok(
        sb,
        "crm.status.list",
        {"filter": {"ENTITY_ID": f"DEAL_STAGE_{cat}"}, "order": {"SORT": "ASC"}},
    )["result"]
    deal_id = ok(
        sb, "crm.deal.add", {"fields": {"TITLE": "T", "CATEGORY_ID": cat, "IS_NEW": "N", "ID": 5}}
    )["result"]
    assert isinstance(deal_id, int) and deal_id > 300
    deal = ok(sb, "crm.deal.get", {"id": deal_id})["result"]
    assert deal["STAGE_ID"] == stages[0]["STATUS_ID"] and deal["CATEGORY_ID"] == str(cat)
    assert (deal["STAGE_SEMANTIC_ID"], deal["CLOSED"], deal["IS_NEW"]) == ("P", "N", "Y")
    assert deal["CREATED_BY_ID"] == "1" and deal["ASSIGNED_BY_ID"] == "1"
    won = next(s["STATUS_ID"] for s in stages if s["SEMANTICS"] == "S")
    assert (
        ok(sb, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": won, "CATEGORY_ID": 0}})[
            "result"
        ]
        is True
    )
    deal2 = ok(sb, "crm.deal.get", {"id": deal_id})["result"]
    assert (deal2["STAGE_SEMANTIC_ID"], deal2["CLOSED"], deal2["CATEGORY_ID"]) == (
        "S",
        "Y",
        str(cat),
    )
    assert ISO.match(deal2["MOVED_TIME"])
    bad = call(sb, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "NO_SUCH"}})
    assert bad["error"] == "ERROR_CORE"


def test_lead_status_semantics_and_title_default(sb):
    lead_id = ok(sb, "crm.lead.add", {"fields": {"NAME": "N"}})["result"]
    lead = ok(sb, "crm.lead.get", {"id": lead_id})["result"]
    assert lead["TITLE"] == f"Lead #{lead_id}" and lead["STATUS_SEMANTIC_ID"] == "P"
    ok(sb, "crm.lead.update", {"id": lead_id, "fields": {"STATUS_ID": "JUNK"}})
    lead = ok(sb, "crm.lead.get", {"id": lead_id})["result"]
    assert lead["STATUS_SEMANTIC_ID"] == "F" and ISO.match(lead["DATE_CLOSED"])


def test_read_only_and_unknown_fields_ignored(sb):
    cid = ok(
        sb,
        "crm.company.add",
        {"fields": {"TITLE": "RO", "DATE_CREATE": "2001-01-01", "HAS_PHONE": "Y", "BOGUS": 1}},
    )["result"]
    company = ok(sb, "crm.company.get", {"id": cid})["result"]
    assert company["HAS_PHONE"] == "N" and not company["DATE_CREATE"].startswith("2001")


def test_multifield_add_change_delete(sb):
    cid = ok(
        sb,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "M",
                "PHONE": [
                    {"VALUE": "111", "VALUE_TYPE": "WORK"},
                    {"VALUE": "222"},
                    {"VALUE": "333"},
                    {"VALUE": "444"},
                ],
            }
        },
    )["result"]
    phones = ok(sb, "crm.contact.get", {"id": cid})["result"]["PHONE"]
    ids = [int(p["ID"]) for p in phones]
    assert [p["VALUE"] for p in phones] == ["111", "222", "333", "444"]
    ok(
        sb,
        "crm.contact.update",
        {"id": cid, "fields": {"PHONE": [{"ID": ids[0], "VALUE": "999", "VALUE_TYPE": "MOBILE"}]}},
    )
    ok(
        sb,
        "crm.contact.update",
        {
            "id": cid,
            "fields": {
                "PHONE": [
                    {"ID": ids[1], "DELETE": "Y"},
                    {"ID": ids[2], "VALUE": ""},
                    {"ID": ids[3]},
                ]
            },
        },
    )
    got = ok(sb, "crm.contact.get", {"id": cid})["result"]
    assert got["PHONE"] == [
        {"ID": str(ids[0]), "VALUE_TYPE": "MOBILE", "VALUE": "999", "TYPE_ID": "PHONE"}
    ]
    assert got["HAS_PHONE"] == "Y" and "EMAIL" not in got
    ok(
        sb,
        "crm.contact.update",
        {
            "id": cid,
            "fields": {"PHONE": [{"ID": ids[0], "DELETE": "Y"}], "EMAIL": [{"VALUE": "a@b.c"}]},
        },
    )
    got = ok(sb, "crm.contact.get", {"id": cid})["result"]
    assert "PHONE" not in got and got["HAS_PHONE"] == "N" and got["HAS_EMAIL"] == "Y"
    assert int(got["EMAIL"][0]["ID"]) > max(ids)  # ids are never reused


def test_uppercase_parameter_names(sb):
    cid = ok(sb, "crm.company.add", {"FIELDS": {"TITLE": "Upper"}})["result"]
    assert ok(sb, "crm.company.get", {"ID": cid})["result"]["TITLE"] == "Upper"
    body = ok(sb, "crm.company.list", {"FILTER": {"ID": cid}, "SELECT": ["TITLE"]})
    assert body["result"] == [{"TITLE": "Upper", "ID": str(cid)}]


def test_deal_contact_ids_write_only(sb):
    deal_id = ok(sb, "crm.deal.add", {"fields": {"TITLE": "C", "CONTACT_IDS": [3, 4]}})["result"]
    deal = ok(sb, "crm.deal.get", {"id": deal_id})["result"]
    assert "CONTACT_IDS" not in deal and deal["CONTACT_ID"] == "3"


@pytest.mark.parametrize(
    ("method", "params", "code", "text"),
    [
        ("crm.deal.get", {"id": 0}, "", "ID is not defined or invalid."),
        ("crm.deal.get", {}, "", "ID is not defined or invalid."),
        ("crm.deal.get", {"id": 999999}, "", "Not found"),
        ("crm.deal.update", {"id": 999999, "fields": {"TITLE": "x"}}, "", "Deal is not found"),
        ("crm.lead.update", {"id": 999999, "fields": {}}, "", "Lead is not found"),
        ("crm.company.update", {"id": 999999, "fields": {}}, "", "Company is not found"),
        ("crm.deal.delete", {"id": 999999}, "", "Not found"),
        ("crm.lead.delete", {"id": 999999}, "", "Not found"),
        ("crm.contact.delete", {"id": 999999}, "ERROR_CORE", "Element not found"),
        ("crm.company.delete", {"id": 999999}, "", "Company is not found"),
        ("crm.deal.add", {"fields": "x"}, "", "Parameter 'fields' must be array."),
        ("crm.deal.add", {}, "", "Parameter 'fields' must be array."),
        ("crm.lead.list", {"order": "ID"}, "", "Parameter 'order' must be array."),
        ("crm.lead.list", {"filter": 5}, "", "Parameter 'filter' must be array."),
        (
            "crm.company.add",
            {"fields": {"COMMENTS": "no title"}},
            "ERROR_CORE",
            'The "Company Name" field is required.<br>',
        ),
        (
            "crm.deal.add",
            {"fields": {"OPPORTUNITY": "abc"}},
            "ERROR_CORE",
            'Invalid value "abc" of field "OPPORTUNITY".<br>',
        ),
        (
            "crm.deal.add",
            {"fields": {"BEGINDATE": "31.31.2024"}},
            "ERROR_CORE",
            'Invalid value "31.31.2024" of field "BEGINDATE".<br>',
        ),
        (
            "crm.lead.add",
            {"fields": {"STATUS_ID": "NOPE"}},
            "ERROR_CORE",
            'Invalid value "NOPE" of field "STATUS_ID".<br>',
        ),
    ],
)
def test_errors(sb, method, params, code, text):
    resp = requests.post(sb.webhook_url + method, json=params, timeout=30)
    assert resp.status_code == 400
    assert resp.json() == {"error": code, "error_description": text}


def test_delete(sb):
    lead_id = ok(sb, "crm.lead.add", {"fields": {"TITLE": "gone", "PHONE": [{"VALUE": "1"}]}})[
        "result"
    ]
    assert ok(sb, "crm.lead.delete", {"id": lead_id})["result"] is True
    assert call(sb, "crm.lead.get", {"id": lead_id})["error_description"] == "Not found"
