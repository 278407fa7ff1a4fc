"""portal.product_rows() and portal.activities() against a live sandbox: complete (row counts
equal raw counts), typed and labelled, in few requests (the issue-13 targets, counted with the
sandbox's stats), cached/refreshed, exported by the CLI."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import requests
from typer.testing import CliRunner

import bitrix_frames as bf
from bitrix_frames.cache import cached_load, read_parquet
from bitrix_frames.cli import app
from bitrix_frames.errors import ValidationError
from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=3000, limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def portal(sb):
    with bf.connect(sb.webhook_url, rate=1000.0, burst=1000.0) as p:
        yield p


def raw(sb, method: str, params: dict) -> dict:
    return requests.post(sb.webhook_url + method, json=params, timeout=30).json()


def raw_rows(sb, owner_type: str, owners: list[int]) -> list[dict]:
    """Every product row of ``owners`` by plain ``start`` paging, 500 owners per call."""
    out = []
    for i in range(0, len(owners), 500):
        start = 0
        while start is not None:
            body = raw(sb, "crm.item.productrow.list", {
                "filter": {"=ownerType": owner_type, "=ownerId": owners[i:i + 500]}, "start": start})  # fmt: skip
            out += body["result"]["productRows"]
            start = body.get("next")
    return out


def requests_of(sb, fn):
    sb.reset_stats()
    result = fn()
    return result, sb.stats()["http_requests"]


def test_product_rows_of_every_deal_complete_typed_and_within_target(sb, portal):
    rows, n_requests = requests_of(sb, lambda: portal.product_rows("deal", progress=False))
    deals = 3000
    expected = raw_rows(sb, "D", list(range(1, deals + 1)))
    assert len(rows) == len(expected) > deals // 2
    assert sorted(rows.index) == sorted(r["id"] for r in expected)
    assert n_requests <= math.ceil(deals / 2500) + math.ceil(len(rows) / 2500) + 2
    assert rows.index.name == "ID" and rows.index.is_monotonic_increasing
    dtypes = rows.dtypes.astype(str).to_dict()
    assert dtypes["OWNER_ID"] == "Int64" and dtypes["PRODUCT_ID"] == "Int64"
    assert dtypes["PRICE"] == dtypes["QUANTITY"] == dtypes["PRICE_ACCOUNT"] == "Float64"
    assert dtypes["TAX_INCLUDED"] == "boolean" and dtypes["PRODUCT_NAME"] == "string"
    first = next(r for r in expected if r["id"] == rows.index[0])
    got = rows.iloc[0]
    documented = (first["ownerId"], first["productName"], first["price"], first["quantity"])
    assert documented == (got.OWNER_ID, got.PRODUCT_NAME, got.PRICE, got.QUANTITY)
    xml_id = got.XML_ID
    assert xml_id == first["xmlId"]
    assert (
        rows.attrs["bitrix"]["entity"] == "product_row" and rows.attrs["bitrix"]["owner"] == "deal"
    )
    assert rows.bitrix.fields.loc["PRICE", "type"] == "double"


def test_product_rows_add_up_to_computed_deal_amounts(portal):
    rows = portal.product_rows("deal", progress=False)
    deals = portal.deals(select=["ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY"], progress=False)
    amounts = (rows["PRICE"] * rows["QUANTITY"]).round(2).groupby(rows["OWNER_ID"]).sum().round(2)
    computed = deals[~deals["IS_MANUAL_OPPORTUNITY"].astype(bool) & deals.index.isin(amounts.index)]
    assert len(computed) > 100
    pd.testing.assert_series_equal(
        amounts.loc[computed.index].astype("Float64"), computed["OPPORTUNITY"],
        check_names=False, check_index_type=False)  # fmt: skip


def test_product_rows_for_given_owners_and_leads(sb, portal):
    owners = [5, 17, 17, 250, 2999, 999_999]
    rows, n_requests = requests_of(sb, lambda: portal.product_rows("deal", owner_ids=owners))
    expected = raw_rows(sb, "D", sorted(set(owners)))
    assert sorted(rows.index) == sorted(r["id"] for r in expected)
    assert set(rows["OWNER_ID"]) <= set(owners)
    assert n_requests <= 1 + 2  # one read + fields and users (metadata is cached per client)
    per_deal = raw(sb, "crm.deal.productrows.get", {"id": 17})["result"]
    assert sorted(rows.index[rows["OWNER_ID"] == 17]) == sorted(int(r["ID"]) for r in per_deal)

    leads = portal.product_rows("lead", progress=False)
    assert len(leads) == len(raw_rows(sb, "L", list(range(1, 1501)))) > 0
    assert set(leads["OWNER_TYPE"]) == {"L"}
    assert portal.product_rows("deal", owner_ids=[]).empty


@pytest.mark.parametrize(
    ("args", "message"),
    [(("task",), "no product rows"), (("deal", [1, 0]), "positive"), (("deal", ["x"]), "positive"),
     (("deal", [1.5]), "positive")],
)  # fmt: skip
def test_product_rows_refuse_bad_input_before_sending(sb, portal, args, message):
    sb.reset_stats()
    with pytest.raises(ValidationError, match=message):
        portal.product_rows(*args)
    assert sb.stats()["http_requests"] == 0


def test_product_rows_filter_by_column(portal):
    rows = portal.product_rows("deal", owner_ids=range(1, 300), filter={">PRICE": 5000})
    assert len(rows) > 0 and (rows["PRICE"] > 5000).all()
    with pytest.raises(ValidationError):
        portal.product_rows("deal", owner_ids=[1], filter={"COLOUR": "red"})


def test_activities_complete_typed_labelled_and_within_target(sb, portal):
    acts, n_requests = requests_of(sb, lambda: portal.activities(progress=False))
    total = raw(sb, "crm.activity.list", {"select": ["ID"]})["total"]
    assert len(acts) == total > 2500
    assert n_requests <= math.ceil(total / 2500) + 2
    assert acts.index.is_monotonic_increasing and acts.index.is_unique
    for name in ("OWNER_TYPE_ID", "TYPE_ID", "DIRECTION", "STATUS", "PRIORITY"):
        assert isinstance(acts[name].dtype, pd.CategoricalDtype), name
    labels = acts.bitrix.labels()
    assert set(labels["TYPE_ID"].dropna()) == {
        "Call",
        "E-mail",
        "Meeting",
        "Task",
        "Provider activity",
    }
    assert set(labels["DIRECTION"].dropna()) == {"Incoming", "Outgoing", "Undefined"}
    assert set(labels["OWNER_TYPE_ID"].dropna()) == {"Lead", "Deal", "Contact", "Company"}
    users = raw(sb, "user.get", {})["result"]
    names = {int(u["ID"]): f"{u['NAME']} {u['LAST_NAME']}" for u in users}
    assert set(labels["RESPONSIBLE_ID"].dropna()) <= set(names.values())
    assert str(acts["DEADLINE"].dtype) == "datetime64[ns, UTC]"
    assert str(acts["COMPLETED"].dtype) == "boolean" and acts["COMPLETED"].any()
    calls = acts[acts["TYPE_ID"] == 2]
    assert calls["COMMUNICATIONS"].map(len).gt(0).any()
    one = raw(sb, "crm.activity.get", {"id": int(calls.index[0])})["result"]
    assert pd.Timestamp(one["DEADLINE"]) == calls["DEADLINE"].iloc[0]
    assert int(one["RESPONSIBLE_ID"]) == calls["RESPONSIBLE_ID"].iloc[0]


def test_activities_filter_and_cached_refresh(sb, portal, tmp_path):
    open_calls = portal.activities(filter={"TYPE_ID": 2, "COMPLETED": False})
    assert len(open_calls) > 0 and not open_calls["COMPLETED"].any()
    assert set(open_calls["TYPE_ID"].astype(int)) == {2}
    first = cached_load(portal.client, "activity", tmp_path)
    again, n_requests = requests_of(sb, lambda: cached_load(portal.client, "activity", tmp_path))
    pd.testing.assert_frame_equal(first, again)
    assert (
        n_requests <= 2
    )  # changed rows since LAST_UPDATED (+ID-range counts) in one or two requests


def test_cli_exports_product_rows_and_activities(sb, tmp_path):
    for name, entity in (("product_rows", "product_row"), ("activities", "activity")):
        out = tmp_path / f"{name}.parquet"
        result = CliRunner().invoke(
            app, ["export", name, "--out", str(out), "--url", sb.webhook_url]
        )
        assert result.exit_code == 0, result.output
        assert sb.config.secret not in result.output
        frame = read_parquet(out)
        assert frame.attrs["bitrix"]["entity"] == entity and len(frame) > 2500
