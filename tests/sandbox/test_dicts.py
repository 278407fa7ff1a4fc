"""CRM dictionaries over HTTP: crm.status.*, crm.category.*, crm.currency.*, crm.*.userfield.list."""

from __future__ import annotations

import random
import re

import pytest
import requests
from shape import assert_same_shape, load_sample

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.config import SandboxConfig
from bitrix_frames.sandbox.seed_dicts import USER_FIELDS, seed_dicts, uf_code
from bitrix_frames.sandbox.store import Store

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=30, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict | None = None, status: int = 200) -> dict:
    response = requests.post(sb.webhook_url + method, json=params or {}, timeout=10)
    assert response.status_code == status, response.text
    return response.json()


# --- crm.status.list -------------------------------------------------------------------------------


def test_general_deal_stages_match_the_sample(sb):
    sample = load_sample("crm.status.list.response.json")
    body = call(
        sb, "crm.status.list", {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": "DEAL_STAGE"}}
    )
    assert_same_shape(sample, body)
    codes = [row["STATUS_ID"] for row in body["result"]]
    assert codes == [row["STATUS_ID"] for row in sample["result"]]
    assert body["total"] == len(body["result"]) == 8
    assert [r["SEMANTICS"] for r in body["result"]][-3:] == ["S", "F", "F"]
    assert [r["EXTRA"]["SEMANTICS"] for r in body["result"]][-3:] == [
        "success",
        "failure",
        "apology",
    ]
    assert all(r["CATEGORY_ID"] is None for r in body["result"])


@pytest.mark.parametrize("cat", [1, 2])
def test_pipeline_stages_are_prefixed_sorted_and_final(sb, cat):
    body = call(sb, "crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{cat}"}})
    assert_same_shape(load_sample("crm.status.list.DEAL_STAGE_10.response.json"), body)
    rows = body["result"]
    assert all(r["STATUS_ID"].startswith(f"C{cat}:") and r["CATEGORY_ID"] == str(cat) for r in rows)
    sorts = [int(r["SORT"]) for r in rows]
    assert sorts == sorted(sorts)
    assert {r["SEMANTICS"] for r in rows} == {None, "S", "F"}
    assert body["total"] == len(rows)


def test_lead_statuses_and_plain_dictionaries(sb):
    body = call(sb, "crm.status.list", {"FILTER": {"ENTITY_ID": "STATUS"}})
    assert_same_shape(load_sample("crm.status.list.STATUS.abridged.response.json"), body)
    assert [r["STATUS_ID"] for r in body["result"]] == [
        "NEW", "IN_PROCESS", "PROCESSED", "CONVERTED", "JUNK",
    ]  # fmt: skip
    sources = call(sb, "crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})["result"]
    assert [r["STATUS_ID"] for r in sources][:3] == ["CALL", "EMAIL", "WEB"]
    assert all("EXTRA" not in r for r in sources)
    for entity in (
        "DEAL_TYPE",
        "HONORIFIC",
        "CONTACT_TYPE",
        "COMPANY_TYPE",
        "INDUSTRY",
        "EMPLOYEES",
    ):
        assert call(sb, "crm.status.list", {"filter": {"ENTITY_ID": entity}})["total"] >= 4, entity


def test_status_filter_order_and_dropped_keys(sb):
    rows = call(
        sb,
        "crm.status.list",
        {"filter": {"ENTITY_ID": "DEAL_STAGE", "NOPE": 1}, "order": {"SORT": "DESC"}},
    )["result"]
    assert [r["STATUS_ID"] for r in rows][:2] == ["APOLOGY", "LOSE"]
    # LIKE operators are exact on crm_status codes
    assert call(sb, "crm.status.list", {"filter": {"%STATUS_ID": "WO"}})["total"] == 0
    won = call(sb, "crm.status.list", {"filter": {"STATUS_ID": "WON"}})["result"]
    assert [r["ENTITY_ID"] for r in won] == ["DEAL_STAGE"]
    # the documented body of crm-status-list.md (issue 16)
    assert call(sb, "crm.status.list", {"filter": "x"}, 400) == {
        "error": "Invalid parameters.",
        "error_description": "Incorrect parameters passed.",
    }


def test_status_get_and_entity_types(sb):
    row = call(sb, "crm.status.list", {"filter": {"STATUS_ID": "C1:WON"}})["result"][0]
    got = call(sb, "crm.status.get", {"id": row["ID"]})
    assert_same_shape(load_sample("crm.status.get.response.json"), got)
    assert got["result"]["STATUS_ID"] == "C1:WON"
    assert call(sb, "crm.status.get", {"id": 999999}, 400) == {  # crm-status-get.md (issue 16)
        "error": "Status is not found.",
        "error_description": "Directory item not found.",
    }
    types = call(sb, "crm.status.entity.types")["result"]
    sample = {t["ID"]: t for t in load_sample("crm.status.entity.types.response.json")["result"]}
    ours = {t["ID"]: t for t in types}
    for key in ("STATUS", "SOURCE", "DEAL_TYPE", "DEAL_STAGE", "HONORIFIC"):
        assert_same_shape(sample[key], ours[key])
    assert_same_shape(sample["DEAL_STAGE_1"], ours["DEAL_STAGE_2"])
    assert ours["DEAL_STAGE_1"]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"] == "C1:WON"


# --- crm.category.* ---------------------------------------------------------------------------------


def test_category_list_matches_the_sample(sb):
    body = call(sb, "crm.category.list", {"entityTypeId": 2})
    sample = load_sample("crm.category.list.response.json")
    assert set(body) == {"result", "total", "time"}
    cats = body["result"]["categories"]
    by_default = {c["isDefault"]: c for c in sample["result"]["categories"]}
    for cat in cats:  # the default pipeline has no origin keys, the others have them
        assert_same_shape(by_default[cat["isDefault"]], cat)
    assert body["total"] == len(cats) == 3
    general = next(c for c in cats if c["id"] == 0)
    assert general == {"id": 0, "name": "General", "sort": 300, "entityTypeId": 2, "isDefault": "Y"}
    assert [c["sort"] for c in cats] == sorted(c["sort"] for c in cats)
    assert {c["name"] for c in cats} == {"General", "Partners", "Renewals"}


def test_category_errors_and_get(sb):
    err = call(sb, "crm.category.list", {"entityTypeId": 1}, 400)
    assert err == {"error": "NOT_FOUND", "error_description": "Smart process not found"}
    assert call(sb, "crm.category.list", {}, 400)["error"] == "100"
    got = call(sb, "crm.category.get", {"entityTypeId": 2, "id": 1})
    assert_same_shape(load_sample("crm.category.get.response.json"), got)
    assert got["result"]["category"]["name"] == "Partners"
    assert call(sb, "crm.category.get", {"entityTypeId": 2, "id": 77}, 400) == {
        "error": "NOT_FOUND",
        "error_description": "Element not found",  # crm-category-get.md
    }


def test_currency_get_has_the_lang_map(sb):
    got = call(sb, "crm.currency.get", {"id": "usd"})["result"]
    assert set(got["LANG"]) == {"en", "de"}
    assert set(got["LANG"]["en"]) == {
        "FORMAT_STRING",
        "FULL_NAME",
        "DEC_POINT",
        "THOUSANDS_SEP",
        "DECIMALS",
        "THOUSANDS_VARIANT",
        "HIDE_ZERO",
    }
    assert got["LANG"]["en"]["FULL_NAME"] == got["FULL_NAME"]


# --- crm.currency.* ---------------------------------------------------------------------------------


def test_currency_list_total_is_zero_and_rows_match(sb):
    body = call(sb, "crm.currency.list", {"order": {"sort": "asc"}})
    assert_same_shape(load_sample("crm.currency.list.response.json"), body)
    assert body["total"] == 0
    rows = body["result"]
    assert [r["CURRENCY"] for r in rows] == ["USD", "EUR", "GBP", "JPY"]
    assert [r["BASE"] for r in rows] == ["Y", "N", "N", "N"]
    assert rows[0]["AMOUNT"] == "1.0000" and rows[3]["AMOUNT_CNT"] == "100"
    desc = call(sb, "crm.currency.list", {"order": {"SORT": "DESC"}})["result"]
    assert desc[0]["CURRENCY"] == "JPY"
    base = call(sb, "crm.currency.base.get")
    assert_same_shape(load_sample("crm.currency.base.get.response.json"), base)
    assert base["result"] == "USD"


# --- crm.*.userfield.list ---------------------------------------------------------------------------


def _sample_rows() -> dict[str, dict]:
    return {
        r["USER_TYPE_ID"]: r for r in load_sample("crm.lead.userfield.list.response.json")["result"]
    }


def test_lead_userfields_with_lang_match_the_sample(sb):
    body = call(sb, "crm.lead.userfield.list", {"filter": {"LANG": "de"}})
    sample = _sample_rows()
    for row in body["result"]:
        ref = sample.get(row["USER_TYPE_ID"], sample["string"])
        assert_same_shape(ref, row, ignore=lambda k: k == "SETTINGS")
        assert isinstance(row["SETTINGS"], dict)
    enum = next(r for r in body["result"] if r["USER_TYPE_ID"] == "enumeration")
    assert_same_shape(sample["enumeration"]["LIST"], enum["LIST"])
    assert body["total"] == len(body["result"]) == 4
    assert {r["USER_TYPE_ID"] for r in body["result"]} >= {
        "enumeration",
        "string",
        "date",
        "boolean",
    }


def test_userfields_per_entity_labels_filter_order(sb):
    deal = call(sb, "crm.deal.userfield.list")["result"]
    types = {r["USER_TYPE_ID"] for r in deal}
    assert types >= {"enumeration", "string", "double", "date", "boolean", "money", "employee"}
    assert all("EDIT_FORM_LABEL" not in r for r in deal)
    # generated, portal-like codes in the seeded order; the meaning lives in the label
    codes = [uf_code(f[1], i) for i, f in enumerate(USER_FIELDS) if f[0] == "CRM_DEAL"]
    assert [r["FIELD_NAME"] for r in deal] == codes
    assert all(re.fullmatch(r"UF_CRM_\d{13}", c) for c in codes)
    labelled = call(sb, "crm.deal.userfield.list", {"filter": {"LANG": "en"}})["result"]
    assert [r["EDIT_FORM_LABEL"] for r in labelled] == [
        f[3] for f in USER_FIELDS if f[0] == "CRM_DEAL"
    ]
    for entity in ("contact", "company"):
        rows = call(sb, f"crm.{entity}.userfield.list", {"filter": {"LANG": "en"}})["result"]
        assert len(rows) >= 2 and all(r["ENTITY_ID"] == f"CRM_{entity.upper()}" for r in rows)
        assert all(r["EDIT_FORM_LABEL"] for r in rows)
    enums = call(sb, "crm.deal.userfield.list", {"FILTER": {"USER_TYPE_ID": "enumeration"}})
    assert enums["total"] == 2 and all(len(r["LIST"]) >= 3 for r in enums["result"])
    desc = call(sb, "crm.deal.userfield.list", {"order": {"SORT": "DESC"}})["result"]
    assert [r["ID"] for r in desc] == [r["ID"] for r in reversed(deal)]
    assert call(sb, "crm.deal.userfield.list", {"order": "SORT"}, 400)["error_description"] == (
        "Parameter 'order' must be array."
    )


def test_dictionary_seed_is_deterministic():
    dumps = []
    for seed in (1, 2):
        store = Store()
        seed_dicts(store, SandboxConfig(seed=seed), random.Random(seed))
        dumps.append(
            [tuple(r) for t in ("crm_status", "crm_category", "crm_currency", "crm_userfield",
                                "crm_userfield_enum") for r in store.query(f"SELECT * FROM {t}")]
        )  # fmt: skip
    assert dumps[0] == dumps[1] and len(dumps[0]) > 80


def test_readable_uf_option_keeps_readable_codes():
    with Sandbox(deals=5, limits=False, readable_uf=True) as sandbox:
        rows = requests.post(sandbox.webhook_url + "crm.deal.userfield.list", timeout=30).json()
        names = [r["FIELD_NAME"] for r in rows["result"]]
        assert names == [f[1] for f in USER_FIELDS if f[0] == "CRM_DEAL"]
