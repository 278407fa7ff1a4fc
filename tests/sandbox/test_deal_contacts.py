"""``crm.deal.contact.*`` (api-reference/crm/deals/contacts/): bindings consistent with the deal's
CONTACT_ID / CONTACT_IDS and crm.item's contactIds, in the documented shapes and errors.

Documented ``items.get`` answer: ``{"result": [{"CONTACT_ID": 55, "SORT": 100, "ROLE_ID": 0,
"IS_PRIMARY": "Y"}, {"CONTACT_ID": 54, "SORT": 200, "ROLE_ID": 0, "IS_PRIMARY": "N"}]}``;
``items.set`` / ``add`` / ``delete`` / ``items.delete`` answer ``{"result": true}``.
"""

from __future__ import annotations

import pytest
import requests
from shape import assert_same_shape

pytestmark = pytest.mark.timeout(120)

DOC_GET = {
    "result": [
        {"CONTACT_ID": 55, "SORT": 100, "ROLE_ID": 0, "IS_PRIMARY": "Y"},
        {"CONTACT_ID": 54, "SORT": 200, "ROLE_ID": 0, "IS_PRIMARY": "N"},
    ]
}


@pytest.fixture(scope="module")
def sb():
    from sandboxes import start

    sandbox = start("small")
    yield sandbox
    sandbox.stop()


def call(sb, method: str, **params):
    resp = requests.post(sb.webhook_url + method, json=params, timeout=30)
    return resp.status_code, resp.json()


def bound(sb, deal: int) -> list[tuple]:
    _, body = call(sb, "crm.deal.contact.items.get", id=deal)
    return [(b["CONTACT_ID"], b["SORT"], b["IS_PRIMARY"]) for b in body["result"]]


def test_items_get_matches_the_deal_and_the_documented_shape(sb):
    several = 0
    for deal in range(1, 61):
        status, body = call(sb, "crm.deal.contact.items.get", id=deal)
        assert status == 200
        items = body["result"]
        got = call(sb, "crm.deal.get", id=deal)[1]["result"]
        item = call(sb, "crm.item.get", entityTypeId=2, id=deal)[1]["result"]["item"]
        assert [b["CONTACT_ID"] for b in items] == item["contactIds"]
        assert [b["SORT"] for b in items] == sorted(b["SORT"] for b in items)
        if items:
            assert_same_shape(DOC_GET, body)
            primary = [b["CONTACT_ID"] for b in items if b["IS_PRIMARY"] == "Y"]
            assert primary == [int(got["CONTACT_ID"])]
        else:
            assert got["CONTACT_ID"] in (None, "0", 0)
        several += len(items) > 1
    assert several > 0


def test_set_add_delete_keep_the_primary_and_the_deal_in_step(sb):
    deal = call(sb, "crm.deal.add", fields={"TITLE": "people", "CONTACT_IDS": [3, 4]})[1]["result"]
    assert bound(sb, deal) == [(3, 10, "Y"), (4, 20, "N")]
    ok = call(sb, "crm.deal.contact.items.set", id=deal,
              items=[{"CONTACT_ID": 5}, {"CONTACT_ID": 6, "IS_PRIMARY": "Y", "SORT": 15}])  # fmt: skip
    assert ok == (200, {**ok[1], "result": True})
    assert bound(sb, deal) == [(5, 10, "N"), (6, 15, "Y")]
    assert call(sb, "crm.deal.get", id=deal)[1]["result"]["CONTACT_ID"] == "6"
    assert call(sb, "crm.deal.contact.add", id=deal, fields={"CONTACT_ID": 7})[1]["result"] is True
    assert bound(sb, deal) == [(5, 10, "N"), (6, 15, "Y"), (7, 30, "N")]
    assert call(sb, "crm.deal.contact.delete", id=deal, fields={"CONTACT_ID": 6})[1]["result"]
    assert bound(sb, deal) == [(5, 10, "Y"), (7, 30, "N")]
    assert (
        call(sb, "crm.deal.contact.delete", id=deal, fields={"CONTACT_ID": 6})[1]["result"] is False
    )
    assert call(sb, "crm.deal.contact.items.delete", id=deal)[1]["result"] is True
    assert bound(sb, deal) == []
    assert call(sb, "crm.deal.get", id=deal)[1]["result"]["CONTACT_ID"] in (None, "0", 0)


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({}, "The parameter ownerEntityID is invalid or not defined."),
        ({"id": 0}, "The parameter ownerEntityID is invalid or not defined."),
        ({"id": 999999}, "Not found."),
    ],
)
def test_documented_errors(sb, params, description):
    status, body = call(sb, "crm.deal.contact.items.get", **params)
    assert status == 400 and body == {"error": "", "error_description": description}
