"""Products, product rows and activities over HTTP: the documented examples
(``docs_products_activities.json``, verbatim from bitrix24/b24restdocs) reproduced in shape, the
documented errors, filters/paging, and the seed's consistency (product rows add up to the amount
of every deal and lead whose amount is computed from its products)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from shape import _compatible, kind

from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(120)

DOCS = json.loads(Path(__file__).with_name("docs_products_activities.json").read_text())["examples"]


def doc(method: str, status: int = 200, nth: int = 0) -> dict:
    return [e for e in DOCS if e["method"] == method and e["status"] == status][nth]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=200, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict | None = None, status: int = 200) -> dict:
    response = requests.post(sb.webhook_url + method, json=params or {}, timeout=20)
    assert response.status_code == status, response.text
    return response.json()


def all_rows(sb, method: str, params: dict, key: str | None = None) -> list[dict]:
    """Every row of a list method by plain ``start`` paging (``next``)."""
    out: list[dict] = []
    start: int | None = 0
    while start is not None:
        body = call(sb, method, {**params, "start": start})
        rows = body["result"][key] if key else body["result"]
        out += rows
        start = body.get("next")
    return out


def row_diffs(doc_rows: list[dict], ours: dict, extra: frozenset = frozenset()) -> list[str]:
    """Shape of one row against the documented rows: the same keys, each value of a kind some
    documented row shows for it (a documented null or number admits both: data-dependent)."""
    diffs = [f"missing {k}" for k in doc_rows[0] if k not in ours]
    diffs += [f"unexpected {k}" for k in ours if k not in doc_rows[0] and k not in extra]
    for key in doc_rows[0]:
        if key not in ours:
            continue
        kinds = {kind(r.get(key)) for r in doc_rows}
        if kinds & {"null", "number"}:
            kinds |= {"null", "number"}
        got = kind(ours[key])
        if not any(_compatible(k, got) for k in kinds):
            diffs.append(f"{key}: documented {sorted(kinds)}, got {got}")
    return diffs


# --- documented examples ---------------------------------------------------------------------------


def _owner_with_rows(sb, min_price: float = 0) -> int:
    deals = [int(d["ID"]) for d in call(sb, "crm.deal.list", {"select": ["ID"]})["result"]]
    rows = call(
        sb,
        "crm.item.productrow.list",
        {"filter": {"=ownerType": "D", "=ownerId": deals, ">price": min_price}},
    )["result"]["productRows"]
    assert rows, "the seed gives product rows to some of the first 50 deals"
    return rows[0]["ownerId"]


def test_productrow_list_example_reproduced(sb):
    example = doc("crm.item.productrow.list")
    owner = _owner_with_rows(sb, 5000)
    request = json.loads(json.dumps(example["request"]))
    request["filter"]["=ownerId"] = owner
    body = call(sb, "crm.item.productrow.list", request)
    assert set(body) == {"result", "total", "time"} and set(body["result"]) == {"productRows"}
    rows = body["result"]["productRows"]
    assert rows and body["total"] == len(rows)
    documented = example["response"]["result"]["productRows"]
    for row in rows:
        assert not row_diffs(documented, row)
        assert row["ownerId"] == owner and row["ownerType"] == "D" and row["price"] > 5000
    assert [r["price"] for r in rows] == sorted((r["price"] for r in rows), reverse=True)


def test_productrow_get_and_fields_examples_reproduced(sb):
    owner = _owner_with_rows(sb)
    row_id = call(sb, "crm.item.productrow.list",
                  {"filter": {"=ownerType": "D", "=ownerId": owner}})["result"]["productRows"][0]["id"]  # fmt: skip
    body = call(sb, "crm.item.productrow.get", {"id": row_id})
    documented = doc("crm.item.productrow.get")["response"]["result"]["productRow"]
    assert not row_diffs([documented], body["result"]["productRow"])
    fields = call(sb, "crm.item.productrow.fields")["result"]["fields"]
    assert fields == doc("crm.item.productrow.fields")["response"]["result"]["fields"]
    missing = call(sb, "crm.item.productrow.get", {"id": 10**9}, status=400)
    assert missing["error"] == "NOT_FOUND"


def test_deal_productrows_get_example_and_error_reproduced(sb):
    owner = _owner_with_rows(sb)
    body = call(sb, "crm.deal.productrows.get", {"id": owner})
    documented = doc("crm.deal.productrows.get")["response"]["result"]
    reserve = {"RESERVE_ID", "DATE_RESERVE_END", "RESERVE_QUANTITY"}  # inventory management only
    for row in body["result"]:
        diffs = [d for d in row_diffs(documented, row) if d.split()[-1] not in reserve]
        assert not diffs
    assert [r["SORT"] for r in body["result"]] == sorted(r["SORT"] for r in body["result"])
    error = call(sb, "crm.deal.productrows.get", {"id": 0}, status=400)
    assert error == doc("crm.deal.productrows.get", 400)["response"]
    assert call(sb, "crm.deal.productrows.get", {"id": 10**9}, status=400)["error_description"] == (
        "Not found"
    )


def _activity(sb, **filt: Any) -> dict:
    return call(sb, "crm.activity.list", {"filter": filt, "order": {"ID": "ASC"}})["result"][0]


def test_activity_list_examples_reproduced(sb):
    example = doc("crm.activity.list")
    call_act = _activity(sb, TYPE_ID=2, OWNER_TYPE_ID=3)
    request = json.loads(json.dumps(example["request"]))
    request["filter"] = {"OWNER_TYPE_ID": 3, "OWNER_ID": call_act["OWNER_ID"]}
    body = call(sb, "crm.activity.list", request)
    documented = example["response"]["result"]
    assert body["result"] and body["total"] == len(body["result"])
    for row in body["result"]:  # the docs' request selects COMMUNICATIONS too
        assert not row_diffs(documented, row, extra=frozenset({"COMMUNICATIONS"}))
    ids = [int(r["ID"]) for r in body["result"]]
    assert ids == sorted(ids, reverse=True)

    example = doc("crm.activity.list", nth=1)
    calls = all_rows(sb, "crm.activity.list", {"filter": {"TYPE_ID": 2, "OWNER_TYPE_ID": 2},
                                               "select": ["ID", "COMMUNICATIONS"]})  # fmt: skip
    with_comm = next(r for r in calls if r["COMMUNICATIONS"])
    body = call(sb, "crm.activity.list", {**example["request"], "filter": {"ID": with_comm["ID"]}})
    assert body["total"] == 1 and set(body["result"][0]) == {"ID", "COMMUNICATIONS"}
    ours = body["result"][0]["COMMUNICATIONS"]
    documented = example["response"]["result"][0]["COMMUNICATIONS"]
    assert ours and not row_diffs(documented, ours[0])
    assert ours[0]["TYPE"] == "PHONE" and ours[0]["ENTITY_TYPE_ID"] in ("3", "4")


def test_activity_get_and_fields_examples_reproduced(sb):
    act = _activity(sb, TYPE_ID=2)
    body = call(sb, "crm.activity.get", {"id": act["ID"]})
    assert not row_diffs([doc("crm.activity.get")["response"]["result"]], body["result"])
    assert body["result"] == act
    fields = call(sb, "crm.activity.fields")["result"]
    assert fields == doc("crm.activity.fields")["response"]["result"]
    error = call(sb, "crm.activity.get", {"id": 10**9}, status=400)
    assert error == {"error": "", "error_description": "Activity is not found."}


# --- errors, filters and paging ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filt", "missing"),
    [({}, "=ownerType"), ({"=ownerId": 5}, "=ownerType"), ({"=ownerType": "D"}, "=ownerId"),
     ({"ownerType": "D", "ownerId": 5}, "=ownerType"), ({"=ownerType": "D", "=ownerId": 0}, "=ownerId")],
)  # fmt: skip
def test_productrow_list_requires_owner_keys(sb, filt, missing):
    body = call(sb, "crm.item.productrow.list", {"filter": filt}, status=400)
    assert body == {
        "error": "REQUIRED_ARG_MISSING",
        "error_description": f"Argument '{missing}' is required",
    }


def test_productrow_list_rejects_bad_keys(sb):
    bad = {"=ownerType": "D", "=ownerId": 1, ">price": [1, 2]}
    assert (
        call(sb, "crm.item.productrow.list", {"filter": bad}, 400)["error"] == "INVALID_ARG_VALUE"
    )
    bad = {"=ownerType": "D", "=ownerId": 1, "colour": "red"}
    assert (
        call(sb, "crm.item.productrow.list", {"filter": bad}, 400)["error"] == "INVALID_ARG_VALUE"
    )


def test_productrow_list_by_owner_arrays_equals_rows_per_deal(sb):
    deals = list(range(1, 121))
    listed = all_rows(
        sb, "crm.item.productrow.list", {"filter": {"=ownerType": "D", "=ownerId": deals}},
        key="productRows",
    )  # fmt: skip
    per_deal = []
    for deal in deals:
        per_deal += [
            int(r["ID"]) for r in call(sb, "crm.deal.productrows.get", {"id": deal})["result"]
        ]
    assert sorted(r["id"] for r in listed) == sorted(per_deal) and len(listed) > 50
    assert {r["ownerId"] for r in listed} <= set(deals)


def test_productrow_list_pages_by_exact_offset_and_start_minus_one(sb):
    filt = {"=ownerType": "D", "=ownerId": list(range(1, 201))}
    first = call(sb, "crm.item.productrow.list", {"filter": filt, "start": 0})
    total = first["total"]
    assert total > 60 and first["next"] == 50
    odd = call(sb, "crm.item.productrow.list", {"filter": filt, "start": 7})
    assert [r["id"] for r in odd["result"]["productRows"]][0] == (
        first["result"]["productRows"][7]["id"]
    )
    assert odd["next"] == 57
    keyset = call(sb, "crm.item.productrow.list",
                  {"filter": {**filt, ">id": 10}, "order": {"id": "asc"}, "start": -1})  # fmt: skip
    assert "next" not in keyset and keyset["total"] == 0
    assert keyset["result"]["productRows"][0]["id"] == 11
    other = call(
        sb,
        "crm.item.productrow.list",
        {"filter": {"=ownerType": "L", "=ownerId": list(range(1, 101))}},
    )
    assert other["total"] > 0 and {r["ownerType"] for r in other["result"]["productRows"]} == {"L"}


def test_activity_keyset_chain_covers_every_activity(sb):
    total = call(sb, "crm.activity.list", {"select": ["ID"]})["total"]
    seen: list[int] = []
    last = 0
    while True:
        body = call(sb, "crm.activity.list", {"filter": {">ID": last}, "order": {"ID": "ASC"},
                                              "select": ["ID"], "start": -1})  # fmt: skip
        assert "next" not in body and body["total"] == 0
        ids = [int(r["ID"]) for r in body["result"]]
        seen += ids
        if len(ids) < 50:
            break
        last = ids[-1]
    assert len(seen) == total == len(set(seen)) and seen == sorted(seen)


def test_activity_filters_types_directions_bindings_and_watermark(sb):
    rows = all_rows(sb, "crm.activity.list", {"select": ["*", "COMMUNICATIONS"]})
    assert {r["TYPE_ID"] for r in rows} == {"1", "2", "3", "4", "6"}
    assert {r["OWNER_TYPE_ID"] for r in rows} == {"1", "2", "3", "4"}
    calls = [r for r in rows if r["TYPE_ID"] in ("2", "4")]
    assert {r["DIRECTION"] for r in calls} == {"1", "2"}
    assert {r["DIRECTION"] for r in rows if r["TYPE_ID"] in ("1", "3", "6")} == {"0"}
    assert {r["COMPLETED"] for r in rows} == {"Y", "N"}
    assert all((r["COMPLETED"] == "Y") == (r["STATUS"] == "2") for r in rows)
    for r in rows:  # DEADLINE: START_TIME for calls and meetings, END_TIME for tasks
        assert r["DEADLINE"] == (r["END_TIME"] if r["TYPE_ID"] == "3" else r["START_TIME"])
    tasks = [r for r in rows if r["TYPE_ID"] == "3"]
    assert tasks and all(
        r["PROVIDER_ID"] == "TASKS" and r["ASSOCIATED_ENTITY_ID"] != "0" for r in tasks
    )

    contact = next(r for r in calls if r["COMMUNICATIONS"] and r["OWNER_TYPE_ID"] == "2")
    partner = contact["COMMUNICATIONS"][0]
    bound = call(
        sb,
        "crm.activity.list",
        {
            "filter": {
                "BINDINGS": [
                    {
                        "OWNER_TYPE_ID": int(partner["ENTITY_TYPE_ID"]),
                        "OWNER_ID": int(partner["ENTITY_ID"]),
                    }
                ]
            }
        },
    )
    assert contact["ID"] in {r["ID"] for r in bound["result"]}  # bound to the deal and the contact
    assert all(r["OWNER_TYPE_ID"] != "2" or r["COMMUNICATIONS"] for r in [contact])

    stamps = sorted(r["LAST_UPDATED"] for r in rows)
    cut = stamps[len(stamps) // 2]
    newer = all_rows(sb, "crm.activity.list", {"filter": {">LAST_UPDATED": cut}, "select": ["ID"]})
    expected = {r["ID"] for r in rows if r["LAST_UPDATED"] > cut}
    assert {r["ID"] for r in newer} == expected and 0 < len(expected) < len(rows)


# --- consistency ------------------------------------------------------------------------------------


def _cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def test_product_rows_add_up_to_computed_amounts(sb):
    deals = all_rows(sb, "crm.deal.list",
                     {"select": ["ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "TAX_VALUE"]})  # fmt: skip
    rows = all_rows(sb, "crm.item.productrow.list",
                    {"filter": {"=ownerType": "D", "=ownerId": [int(d["ID"]) for d in deals]}},
                    key="productRows")  # fmt: skip
    sums: dict[int, int] = {}
    taxes: dict[int, int] = {}
    for r in rows:
        price, quantity = Decimal(str(r["price"])), Decimal(str(r["quantity"]))
        amount = (price * quantity).quantize(Decimal("0.01"))
        sums[r["ownerId"]] = sums.get(r["ownerId"], 0) + _cents(amount)
        tax = ((price - Decimal(str(r["priceExclusive"]))) * quantity).quantize(Decimal("0.01"))
        taxes[r["ownerId"]] = taxes.get(r["ownerId"], 0) + _cents(tax)
        assert r["price"] == pytest.approx(
            r["priceExclusive"] * (1 + (r["taxRate"] or 0) / 100), abs=0.01
        )
        assert r["priceExclusive"] == pytest.approx(r["priceNetto"] - r["discountSum"], abs=0.001)
    computed = [d for d in deals if d["IS_MANUAL_OPPORTUNITY"] == "N" and int(d["ID"]) in sums]
    manual = [d for d in deals if d["IS_MANUAL_OPPORTUNITY"] == "Y" and int(d["ID"]) in sums]
    assert len(computed) > 30 and len(manual) > 10
    for d in computed:
        assert sums[int(d["ID"])] == _cents(d["OPPORTUNITY"]), d
        assert taxes[int(d["ID"])] == _cents(d["TAX_VALUE"]), d
    assert any(sums[int(d["ID"])] != _cents(d["OPPORTUNITY"]) for d in manual)
    without = [d for d in deals if int(d["ID"]) not in sums]
    assert without, "some deals have no products"

    leads = all_rows(sb, "crm.lead.list", {"select": ["ID", "OPPORTUNITY"]})
    lead_rows = all_rows(sb, "crm.item.productrow.list",
                         {"filter": {"=ownerType": "L", "=ownerId": [int(x["ID"]) for x in leads]}},
                         key="productRows")  # fmt: skip
    lead_sums: dict[int, int] = {}
    for r in lead_rows:
        amount = (Decimal(str(r["price"])) * Decimal(str(r["quantity"]))).quantize(Decimal("0.01"))
        lead_sums[r["ownerId"]] = lead_sums.get(r["ownerId"], 0) + _cents(amount)
    assert lead_sums
    for lead in leads:
        if int(lead["ID"]) in lead_sums:
            assert lead_sums[int(lead["ID"])] == _cents(lead["OPPORTUNITY"])


def test_catalogue_lists_and_rows_point_into_it(sb):
    products = all_rows(sb, "crm.product.list", {"order": {"NAME": "ASC"}})
    assert len(products) >= 30 and all(
        p["ID"].isdigit() and p["CATALOG_ID"] == "25" for p in products
    )
    names = [p["NAME"].casefold() for p in products]
    assert names == sorted(names)
    one = call(sb, "crm.product.get", {"id": products[0]["ID"]})["result"]
    assert one == products[0]
    fields = call(sb, "crm.product.fields")["result"]
    assert set(products[0]) <= set(fields) and fields["NAME"]["isRequired"] is True
    cheap = call(sb, "crm.product.list", {"filter": {"<PRICE": 1000}, "select": ["ID", "PRICE"]})[
        "result"
    ]
    assert all(float(p["PRICE"]) < 1000 and set(p) == {"ID", "PRICE"} for p in cheap)
    rows = call(sb, "crm.item.productrow.list",
                {"filter": {"=ownerType": "D", "=ownerId": list(range(1, 60))}})["result"]["productRows"]  # fmt: skip
    ids = {int(p["ID"]) for p in products}
    assert rows and all(r["productId"] in ids for r in rows)
