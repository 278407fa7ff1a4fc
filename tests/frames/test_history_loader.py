"""``portal.stage_history``: complete, typed and labelled like the deal frame, in the fewest
requests (keyset chains: ``ceil(rows / 2,500) + 2`` with the metadata), against a live sandbox."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
import requests
from sandboxes import FAST
from typer.testing import CliRunner

import bitrix_frames as bf
from bitrix_frames.cache import read_parquet
from bitrix_frames.cli import app
from bitrix_frames.errors import ValidationError

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def sb():
    from sandboxes import start

    sandbox = start("large")
    yield sandbox
    sandbox.stop()


def raw_total(sb, entity_type_id: int, **filter) -> int:
    body = requests.post(
        sb.webhook_url + "crm.stagehistory.list",
        json={"entityTypeId": entity_type_id, "filter": filter, "select": ["ID"]},
        timeout=30,
    ).json()
    return body["total"]


def test_deal_history_is_complete_typed_and_in_few_requests(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    before = sb.stats()["http_requests"]
    history = portal.stage_history("deal", progress=False)
    used = sb.stats()["http_requests"] - before
    rows = len(history)
    assert rows == raw_total(sb, 2) > 2500
    assert used <= math.ceil(rows / 2500) + 2
    assert history.index.name == "ID" and history.index.is_unique
    assert history.index.is_monotonic_increasing
    assert list(history.columns) == [
        "TYPE_ID",
        "OWNER_ID",
        "CREATED_TIME",
        "CATEGORY_ID",
        "STAGE_SEMANTIC_ID",
        "STAGE_ID",
    ]
    assert str(history["TYPE_ID"].dtype) == "Int64" and str(history["OWNER_ID"].dtype) == "Int64"
    assert str(history["CREATED_TIME"].dtype) == "datetime64[ns, UTC]"
    assert set(history["TYPE_ID"].unique()) == {1, 2, 3, 5}
    deals = portal.deals(select=["ID", "STAGE_ID", "CATEGORY_ID", "MOVED_TIME"], progress=False)
    stage = history["STAGE_ID"].dtype
    assert list(stage.categories) == list(deals["STAGE_ID"].dtype.categories)
    assert list(history["CATEGORY_ID"].dtype.categories) == list(
        deals["CATEGORY_ID"].dtype.categories
    )
    assert list(history["STAGE_SEMANTIC_ID"].dtype.categories) == ["P", "S", "F"]
    labels = history.bitrix.labels()
    assert set(labels["STAGE_SEMANTIC_ID"].astype(str)) == {"process", "success", "fail"}
    assert set(labels["STAGE_ID"].astype(str)) <= set(deals.bitrix.labels()["STAGE_ID"].astype(str))
    assert set(labels["CATEGORY_ID"].astype(str)) >= {"General"}
    # each deal's last entry is its current stage, entered at MOVED_TIME
    last = history.sort_values(["OWNER_ID", "CREATED_TIME"]).groupby("OWNER_ID").tail(1)
    last = last.set_index("OWNER_ID")
    assert (last["STAGE_ID"].astype(str) == deals["STAGE_ID"].astype(str)[last.index]).all()
    assert (last["CREATED_TIME"] == deals["MOVED_TIME"][last.index]).all()


def test_lead_history_names_statuses(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    history = portal.stage_history("lead", progress=False)
    assert len(history) == raw_total(sb, 1)
    assert list(history.columns) == [
        "TYPE_ID",
        "OWNER_ID",
        "CREATED_TIME",
        "STATUS_SEMANTIC_ID",
        "STATUS_ID",
    ]
    leads = portal.leads(select=["ID", "STATUS_ID"], progress=False)
    assert list(history["STATUS_ID"].dtype.categories) == list(leads["STATUS_ID"].dtype.categories)
    assert history.attrs["bitrix"]["entity"] == "lead_stage_history"


def test_filters_take_labels_and_datetimes(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=60)
    won = portal.stage_history(
        "deal",
        filter={"STAGE_SEMANTIC_ID": "success", ">=CREATED_TIME": since},
        progress=False,
    )
    iso = since.isoformat(timespec="seconds")
    assert len(won) == raw_total(sb, 2, STAGE_SEMANTIC_ID="S", **{">=CREATED_TIME": iso}) > 0
    assert set(won["STAGE_SEMANTIC_ID"].astype(str)) == {"S"}
    assert (won["CREATED_TIME"] >= pd.Timestamp(since).floor("s")).all()
    one = portal.stage_history("deal", filter={"OWNER_ID": 7}, progress=False)
    assert set(one["OWNER_ID"]) == {7} and one["TYPE_ID"].iloc[0] in (1, 3)


def test_a_stage_move_shows_up_in_the_next_load(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    deal = portal.call("crm.deal.add", {"fields": {"TITLE": "moves", "CATEGORY_ID": 0}})
    portal.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "WON"}})
    entries = portal.stage_history("deal", filter={"OWNER_ID": deal}, progress=False)
    assert entries["TYPE_ID"].tolist() == [1, 3]
    assert (
        entries.bitrix.labels()["STAGE_ID"].astype(str).tolist()[-1] == "General: Deal successful"
    )


def test_only_deals_and_leads(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    with pytest.raises(ValidationError, match="'deal' or 'lead'"):
        portal.stage_history("contact")


def test_export_cli_writes_the_typed_history(sb, tmp_path):
    out = tmp_path / "history.parquet"
    result = CliRunner().invoke(
        app, ["export", "stage_history", "--out", str(out), "--url", sb.webhook_url]
    )
    assert result.exit_code == 0, result.output
    assert sb.config.secret not in result.output
    frame = read_parquet(out)
    assert len(frame) == raw_total(sb, 2)
    assert isinstance(frame["STAGE_ID"].dtype, pd.CategoricalDtype)
    assert str(frame["CREATED_TIME"].dtype) == "datetime64[ns, UTC]"
    leads = tmp_path / "leads.csv"
    result = CliRunner().invoke(
        app, ["export", "lead_stage_history", "--out", str(leads), "--url", sb.webhook_url]
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(leads)) == raw_total(sb, 1)


def test_deal_contacts_in_one_request_per_2500_deals(sb):
    portal = bf.connect(sb.webhook_url, **FAST)
    before = sb.stats()["http_requests"]
    pairs = portal.deal_contacts(progress=False)
    used = sb.stats()["http_requests"] - before
    assert used <= math.ceil(1200 / 2500) + 1
    assert list(pairs.columns) == ["DEAL_ID", "CONTACT_ID", "IS_PRIMARY", "POSITION"]
    assert [str(t) for t in pairs.dtypes] == ["Int64", "Int64", "boolean", "Int64"]
    deals = portal.deals(select=["ID", "CONTACT_ID"], progress=False)
    primary = pairs[pairs["IS_PRIMARY"]].set_index("DEAL_ID")["CONTACT_ID"]
    with_contact = deals["CONTACT_ID"].dropna()
    assert primary.sort_index().equals(
        with_contact.rename(None).rename_axis("DEAL_ID").sort_index()
    )
    assert (pairs.groupby("DEAL_ID")["IS_PRIMARY"].sum() == 1).all()
    assert pairs.groupby("DEAL_ID").size().max() > 1
    exact = portal.deal_contacts(sort=True, progress=False)
    assert list(exact.columns) == ["DEAL_ID", "CONTACT_ID", "IS_PRIMARY", "SORT"]
    same = ["DEAL_ID", "CONTACT_ID", "IS_PRIMARY"]
    assert exact[same].equals(pairs[same])
    raw = requests.post(
        sb.webhook_url + "crm.deal.contact.items.get", json={"id": int(exact["DEAL_ID"][0])}
    ).json()["result"]
    assert exact[exact["DEAL_ID"] == exact["DEAL_ID"][0]]["SORT"].tolist() == [
        b["SORT"] for b in raw
    ]


def test_cached_history_fetches_only_new_entries(tmp_path):
    from sandboxes import start

    from bitrix_frames.cache import cached_load
    from bitrix_frames.client import Client

    sb = start("small")
    try:
        with Client(sb.webhook_url, **FAST) as client:
            first = cached_load(client, "stage_history", tmp_path)
            deal = client.call("crm.deal.add", {"fields": {"TITLE": "new", "CATEGORY_ID": 1}})
            client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "C1:WON"}})
            before = sb.stats()["http_requests"]
            again = cached_load(client, "stage_history", tmp_path)
            assert sb.stats()["http_requests"] - before == 1  # new rows + COUNT in one request
            assert len(again) == len(first) + 2 == raw_total(sb, 2)
            assert again.loc[again["OWNER_ID"] == deal, "TYPE_ID"].tolist() == [1, 3]
            assert again["STAGE_ID"].dtype == first["STAGE_ID"].dtype
            client.call("crm.deal.delete", {"id": 1})
            gone = cached_load(client, "stage_history", tmp_path)
            assert len(gone) == raw_total(sb, 2) and 1 not in set(gone["OWNER_ID"])
            assert gone.attrs["bitrix"]["entity"] == "deal_stage_history"
    finally:
        sb.stop()
