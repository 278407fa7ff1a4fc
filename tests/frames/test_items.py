"""Smart processes and their items as typed frames: complete (compared with the raw count), typed
from crm.item.fields, stages in pipeline order with labels, read by keyset chains, cached and
refreshed by UPDATED_TIME, exported by the CLI by entityTypeId or title."""

from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
import requests

from bitrix_frames import (
    accessor,  # noqa: F401  (registers df.bitrix)
    cache,
)
from bitrix_frames.client import Client
from bitrix_frames.errors import ValidationError
from bitrix_frames.frames import stages as stage_table
from bitrix_frames.portal import Portal
from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=1200, limits=False) as sandbox:
        yield sandbox


@pytest.fixture
def portal(sb):
    with Client(sb.webhook_url, rate=1000, burst=1000) as client:
        yield Portal(client)


def raw(sb, method: str, **params):
    return requests.post(sb.webhook_url + method, json=params, timeout=30).json()


def test_smart_processes_one_typed_row_per_type(sb, portal):
    types = portal.smart_processes()
    assert len(types) == raw(sb, "crm.type.list")["total"] == 2
    assert types.index.name == "ID" and list(types.index) == [7, 8]
    assert types["ENTITY_TYPE_ID"].tolist() == [1036, 1038]
    assert str(types["ENTITY_TYPE_ID"].dtype) == "Int64"
    assert str(types["IS_CATEGORIES_ENABLED"].dtype) == "boolean"
    assert types["IS_CATEGORIES_ENABLED"].tolist() == [True, False]
    assert str(types["CREATED_TIME"].dtype) == "datetime64[ns, UTC]"
    assert types["TITLE"].tolist() == ["Equipment procurement", "Contracts"]


def test_items_complete_and_typed_like_the_classic_frames(sb, portal):
    items = portal.items(1036)
    assert len(items) == raw(sb, "crm.item.list", entityTypeId=1036)["total"] == 60
    assert items.index.name == "ID" and str(items.index.dtype) == "Int64"
    assert items.index.is_monotonic_increasing
    dtypes = items.dtypes.astype(str).to_dict()
    assert dtypes["OPPORTUNITY"] == "Float64" and dtypes["ASSIGNED_BY_ID"] == "Int64"
    assert (
        dtypes["CREATED_TIME"] == "datetime64[ns, UTC]" and dtypes["BEGINDATE"] == "datetime64[ns]"
    )
    assert dtypes["OPENED"] == "boolean" and dtypes["STAGE_ID"] == "category"
    assert dtypes["CATEGORY_ID"] == "category" and dtypes["CONTACT_IDS"] == "object"
    assert "CONTACTS" not in items.columns  # listed by crm.item.fields, never returned
    fields = raw(sb, "crm.item.fields", entityTypeId=1036)["result"]["fields"]
    assert set(items.columns) == {f["upperName"] for f in fields.values()} - {"ID", "CONTACTS"}
    ufs = {f["title"]: f["upperName"] for f in fields.values() if f["isDynamic"]}
    assert ufs and all(name.startswith("UF_CRM_7_") for name in ufs.values())
    assert dtypes[ufs["Priority"]] == "category" and dtypes[ufs["Budget"]] == "Float64"
    assert dtypes[ufs["Insured"]] == "boolean" and dtypes[ufs["Delivery date"]] == "datetime64[ns]"
    assert set(items.bitrix.labels()[ufs["Priority"]].dropna()) <= {"Low", "Normal", "Urgent"}
    # values equal the raw API's
    first = raw(sb, "crm.item.get", entityTypeId=1036, id=int(items.index[0]))["result"]["item"]
    row = items.iloc[0]
    assert row["TITLE"] == first["title"] and row["STAGE_ID"] == first["stageId"]
    assert row["OPPORTUNITY"] == first["opportunity"] and row["CONTACT_IDS"] == first["contactIds"]


def test_stage_is_a_categorical_in_pipeline_order_with_labels(sb, portal):
    items = portal.items("Equipment procurement")
    stages = []
    for cat in (10, 11):  # pipelines in SORT order, stages by SORT inside
        rows = raw(sb, "crm.status.list", filter={"ENTITY_ID": f"DYNAMIC_1036_STAGE_{cat}"})
        stages += [r["STATUS_ID"] for r in sorted(rows["result"], key=lambda r: int(r["SORT"]))]
    assert list(items["STAGE_ID"].cat.categories) == stages
    labels = items.bitrix.labels()["STAGE_ID"]
    assert set(labels.dropna()) <= {
        "General: New request",
        "General: Quotation",
        "General: Approval",
        "General: Delivered",
        "General: Cancelled",
        "Imports: New import",
        "Imports: Customs",
        "Imports: Received",
        "Imports: Rejected",
    }
    assert list(items["CATEGORY_ID"].cat.categories) == [10, 11]
    assert set(items.bitrix.labels()["CATEGORY_ID"]) == {"General", "Imports"}
    frame = stage_table(portal.client, "item:1036")
    assert frame["STATUS_ID"].tolist() == stages
    assert frame["PIPELINE"].tolist()[:1] == ["General"]


def test_items_of_classic_types_are_the_same_records(sb, portal):
    deals = portal.deals()
    items = portal.items(2)
    assert list(items.index) == list(deals.index)
    assert items["STAGE_ID"].astype(str).tolist() == deals["STAGE_ID"].astype(str).tolist()
    assert items["OPPORTUNITY"].tolist() == deals["OPPORTUNITY"].tolist()
    assert items["CREATED_TIME"].tolist() == deals["DATE_CREATE"].tolist()
    links = raw(sb, "crm.item.list", entityTypeId=2, select=["id", "contactIds"], start=-1)
    by_id = {r["id"]: r["contactIds"] for r in links["result"]["items"]}
    assert all(items.loc[i, "CONTACT_IDS"] == ids for i, ids in by_id.items())
    leads = portal.items(1)
    assert len(leads) == len(portal.leads()) and "STAGE_ID" in leads.columns


def test_read_by_keyset_chains_in_few_requests(sb, portal):
    portal.items(1036)  # metadata cached
    sb.reset_stats()
    items = portal.items(1036, select=["ID", "TITLE"])
    stats = sb.stats()
    assert len(items) == 60
    assert stats["http_requests"] <= math.ceil(60 / 2500) + 2
    assert stats["rows_skipped"] == 0  # no OFFSET paging: keyset chains with start=-1


def test_title_lookup_and_errors(portal):
    assert portal.items("contracts").attrs["bitrix"]["entity"] == "item_1038"
    assert portal.items("item:1038").attrs["bitrix"]["entity"] == "item_1038"
    with pytest.raises(ValidationError, match="no smart process called 'Nope'"):
        portal.items("Nope")
    with pytest.raises(ValidationError, match="no field"):
        portal.items(1036, filter={"NOPE": 1})


def test_cached_load_refreshes_by_updated_time(sb, portal, tmp_path):
    first = cache.cached_load(portal.client, "item:1038", tmp_path)
    ids = [int(i) for i in first.index]
    raw(sb, "crm.item.update", entityTypeId=1038, id=ids[2], fields={"title": "changed"})
    raw(sb, "crm.item.delete", entityTypeId=1038, id=ids[4])
    added = raw(sb, "crm.item.add", entityTypeId=1038, fields={"title": "new one"})
    sb.reset_stats()
    second = cache.cached_load(portal.client, "item:1038", tmp_path)
    assert sb.stats()["http_requests"] <= 3
    fresh = portal.items(1038)
    pd.testing.assert_frame_equal(second, fresh, check_like=False)
    assert second.loc[ids[2], "TITLE"] == "changed" and ids[4] not in second.index
    assert added["result"]["item"]["id"] in second.index


def test_cli_exports_items_by_title(sb, tmp_path):
    out = tmp_path / "contracts.csv"
    done = subprocess.run(
        [sys.executable, "-m", "bitrix_frames.cli", "export", "item:Contracts", "--out", str(out),
         "--url", sb.webhook_url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out)
    assert len(frame) == raw(sb, "crm.item.list", entityTypeId=1038)["total"]
    assert {"ID", "TITLE", "STAGE_ID"} <= set(frame.columns)
    assert sb.config.secret not in done.stdout + done.stderr
