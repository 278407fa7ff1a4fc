"""Every covered CRM docs sample has the same shape as the sandbox's answer (over HTTP)."""

from __future__ import annotations

import pytest
import requests
from shape import assert_same_shape, load_sample

from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)


def _dynamic(key: str) -> bool:
    return key.startswith(("UF_", "PARENT_ID_"))


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=120, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict | None = None) -> tuple[int, dict]:
    resp = requests.post(sb.webhook_url + method, json=params or {}, timeout=30)
    return resp.status_code, resp.json()


@pytest.mark.parametrize("entity", ["lead", "deal", "contact", "company"])
def test_fields(sb, entity):
    status, body = call(sb, f"crm.{entity}.fields")
    assert status == 200
    sample = load_sample(f"crm.{entity}.fields.response")
    assert_same_shape(sample, body, ignore=_dynamic)
    # same standard fields, in the documented key order, and the same key order per entry
    std = [k for k in sample["result"] if not _dynamic(k)]
    assert [k for k in body["result"] if not _dynamic(k)] == std
    for key in std:
        assert list(body["result"][key]) == list(sample["result"][key]), key
    ufs = [v for k, v in body["result"].items() if k.startswith("UF_")]
    assert ufs, "the seeded portal defines user fields"
    for meta in ufs:
        assert list(meta)[:6] == list(sample["result"]["ID"])[:6]
        assert meta["isDynamic"] is True and meta["title"].startswith("UF_CRM_")
        assert {"listLabel", "formLabel", "filterLabel", "settings"} <= set(meta)


def test_company_uf_meta_shape(sb):
    sample = load_sample("crm.company.fields.response")["result"]["UF_CRM_64A29A1CD5CC2"]
    _, body = call(sb, "crm.company.fields")
    strings = [
        v for k, v in body["result"].items() if k.startswith("UF_") and v["type"] == "string"
    ]
    assert strings
    assert list(strings[0]) == list(sample)
    assert_same_shape(sample, strings[0])


@pytest.mark.parametrize("entity", ["lead", "deal", "contact", "company"])
def test_get(sb, entity):
    sample = load_sample(f"crm.{entity}.get.response")
    # find a row that has the multifields the sample shows
    status, body = call(sb, f"crm.{entity}.get", {"id": 2})
    assert status == 200
    optional = {"PHONE", "EMAIL", "WEB", "IM", "LINK"}
    # the contact sample lacks ADDRESS_COUNTRY_CODE although crm.contact.fields lists it; we return it
    optional.add("ADDRESS_COUNTRY_CODE")
    assert_same_shape(sample, body, ignore=lambda k: _dynamic(k) or k in optional)
    sample_keys = [k for k in sample["result"] if not _dynamic(k) and k not in optional]
    ours = [k for k in body["result"] if not _dynamic(k) and k not in optional]
    assert [k for k in ours if k in sample_keys] == sample_keys  # same relative order
    # multifield entries have the documented shape
    for key in {"PHONE", "EMAIL", "WEB", "IM", "LINK"} & set(body["result"]):
        fm_sample = load_sample("crm.contact.get.response")["result"]["PHONE"]
        assert_same_shape(fm_sample, body["result"][key])


def test_lead_list(sb):
    req = load_sample("crm.lead.list.request")
    req["filter"] = {">=OPPORTUNITY": 0}
    req["start"] = 0
    status, body = call(sb, "crm.lead.list", req)
    assert status == 200
    sample = load_sample("crm.lead.list.response")
    assert_same_shape(sample, body, ignore=_dynamic)
    assert list(body)[:3] == ["result", "next", "total"] or set(body) >= {"result", "total"}
    assert body["result"][0]["COMPANY_ID"] is None or isinstance(
        body["result"][0]["COMPANY_ID"], str
    )


def test_deal_list_request_sample(sb):
    req = load_sample("crm.deal.list.request")
    status, body = call(sb, "crm.deal.list", req)
    assert status == 200 and isinstance(body["result"], list) and "total" in body
    relaxed = dict(req)
    relaxed["FILTER"] = {"CATEGORY_ID": 1}
    status, body = call(sb, "crm.deal.list", relaxed)
    assert body["result"], body
    sample = load_sample("crm.deal.list.response")
    assert_same_shape(sample, body)
    assert list(body["result"][0]) == list(sample["result"][0])  # select order


def test_contact_list_request_sample(sb):
    _, body = call(
        sb, "crm.contact.list", {"select": ["ID", "EMAIL"], "filter": {"HAS_EMAIL": "Y"}}
    )
    email = body["result"][0]["EMAIL"][0]["VALUE"]
    req = load_sample("crm.contact.list.request")
    req["FILTER"] = {"EMAIL": email, "IMPORT": "Y", "@ASSIGNED_BY_ID": list(range(1, 100))}
    status, body = call(sb, "crm.contact.list", req)
    assert status == 200 and body["result"]
    sample = load_sample("crm.contact.list.response")
    assert_same_shape(sample, body)
    assert list(body["result"][0]) == list(sample["result"][0])
    assert all(r["EMAIL"][0]["VALUE"] == email for r in body["result"])


def test_company_list_select_order(sb):
    status, body = call(
        sb,
        "crm.company.list",
        {"select": ["TITLE", "ASSIGNED_BY_ID", "PHONE"], "filter": {"HAS_PHONE": "Y"}},
    )
    assert status == 200
    sample = load_sample("crm.company.list.response")
    assert_same_shape(sample, body)
    assert list(body["result"][0]) == list(sample["result"][0])


def test_add_update_delete_samples(sb):
    status, body = call(sb, "crm.lead.add", load_sample("crm.lead.add.request"))
    assert status == 200
    assert_same_shape(load_sample("crm.lead.add.response"), body)
    assert isinstance(body["result"], int)
    new_id = body["result"]
    req = load_sample("crm.deal.update.request")
    _, deal = call(sb, "crm.deal.add", {"fields": {"TITLE": "x"}})
    req["ID"] = deal["result"]
    status, body = call(sb, "crm.deal.update", req)
    assert status == 200
    assert_same_shape(load_sample("crm.deal.update.response"), body)
    assert_same_shape(
        load_sample("crm.lead.update.response"),
        call(sb, "crm.lead.update", {"id": new_id, "fields": {"NAME": "x"}})[1],
    )
    status, body = call(sb, "crm.deal.delete", {"id": deal["result"]})
    assert status == 200
    assert_same_shape(load_sample("crm.deal.delete.response"), body)


def test_contact_multifield_requests(sb):
    _, added = call(sb, "crm.contact.add", {"fields": {"NAME": "Multi"}})
    cid = added["result"]
    status, body = call(
        sb,
        "crm.contact.update",
        {"id": cid, **load_sample("crm.contact.update.multifield-add.request")},
    )
    assert status == 200
    assert_same_shape(load_sample("crm.contact.update.response"), body)
    _, got = call(sb, "crm.contact.get", {"id": cid})
    assert [p["VALUE"] for p in got["result"]["PHONE"]] == ["55555"]


@pytest.mark.parametrize(
    ("sample", "method", "params"),
    [
        ("error.crm.lead.get.not_found", "crm.lead.get", {"id": 99999999}),
        ("error.crm.lead.update.invalid_id", "crm.lead.update", {"id": "abc", "fields": {}}),
        (
            "error.crm.contact.update.not_found",
            "crm.contact.update",
            {"id": 99999999, "fields": {"NAME": "x"}},
        ),
        ("error.crm.deal.list.filter_not_array", "crm.deal.list", {"filter": "STAGE_ID"}),
    ],
)
def test_errors(sb, sample, method, params):
    status, body = call(sb, method, params)
    assert status == 400
    assert body == load_sample(sample)
