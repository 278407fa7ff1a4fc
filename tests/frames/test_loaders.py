"""Loaders against a live sandbox with the real Client."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bitrix_frames import frames
from bitrix_frames.errors import ValidationError
from bitrix_frames.metadata import metadata
from bitrix_frames.schema import FilterError, SelectError


def test_deals_typed_indexed_with_attrs(client, sandbox):
    deals = frames.load(client, "deal")
    assert deals.index.name == "ID" and str(deals.index.dtype) == "Int64" and deals.index.is_unique
    assert (
        len(deals) == sandbox.store.query("SELECT COUNT(*) FROM crm_deal")[0][0]
        if _has_table(sandbox, "crm_deal")
        else len(deals) > 0
    )
    assert isinstance(deals["STAGE_ID"].dtype, pd.CategoricalDtype)
    assert str(deals["DATE_MODIFY"].dtype) == "datetime64[ns, UTC]"
    meta = deals.attrs["bitrix"]
    assert (
        meta["entity"] == "deal" and meta["portal"] == client.masked_url and "***" in meta["portal"]
    )
    assert set(meta) >= {"entity", "portal", "filter", "select", "loaded_at", "fields"}
    assert deals.bitrix.entity == "deal"
    assert (
        "STAGE_ID" in deals.bitrix.specs
        and deals.bitrix.fields.loc["OPPORTUNITY", "dtype"] == "Float64"
    )


def _has_table(sandbox, name: str) -> bool:
    try:
        return bool(sandbox.store.query("SELECT name FROM sqlite_master WHERE name = ?", (name,)))
    except Exception:
        return False


def test_stage_categories_follow_stages_frame(client):
    deals = frames.load(client, "deal", select=["ID", "STAGE_ID", "CATEGORY_ID"])
    st = frames.stages(client)
    assert list(deals.columns) == ["STAGE_ID", "CATEGORY_ID"]
    assert list(deals["STAGE_ID"].cat.categories) == st["STATUS_ID"].tolist()
    pipes = frames.pipelines(client)
    # stages grouped by pipeline in pipeline order, SORT ascending inside each pipeline
    assert list(dict.fromkeys(st["PIPELINE_ID"].tolist())) == pipes.index.tolist()
    for _, grp in st.groupby("PIPELINE_ID"):
        assert grp["SORT"].is_monotonic_increasing


def test_labels_and_label_round_trip(client):
    deals = frames.load(client, "deal")
    labelled = deals.bitrix.labels()
    assert labelled["STAGE_ID"].dtype.name == "category"
    assert labelled["ASSIGNED_BY_ID"].notna().all()
    names = metadata(client).users()
    first = deals.iloc[0]
    assert labelled["ASSIGNED_BY_ID"].iloc[0] == names[int(first["ASSIGNED_BY_ID"])]
    codes = deals.bitrix.codes("STAGE_ID", labelled["STAGE_ID"].astype(object).tolist())
    assert codes == deals["STAGE_ID"].astype(object).tolist()
    # a plain stage name resolves inside the row's pipeline
    row = deals.iloc[0]
    plain = frames.stages(client).set_index("STATUS_ID").loc[row["STAGE_ID"], "NAME"]
    assert deals.bitrix.codes("STAGE_ID", plain, pipeline=row["CATEGORY_ID"]) == row["STAGE_ID"]


def test_filter_by_label_and_datetime(client):
    deals = frames.load(client, "deal")
    stage = deals["STAGE_ID"].iloc[0]
    label = deals.bitrix.label("STAGE_ID").iloc[0]
    by_label = frames.load(client, "deal", filter={"STAGE_ID": label})
    assert set(by_label.index) == set(deals.index[deals["STAGE_ID"] == stage])
    cut = deals["DATE_MODIFY"].median()
    newer = frames.load(client, "deal", filter={">=DATE_MODIFY": cut})
    assert set(newer.index) == set(deals.index[deals["DATE_MODIFY"] >= cut])
    flags = frames.load(client, "deal", filter={"OPENED": True})
    assert set(flags.index) == set(deals.index[deals["OPENED"].fillna(False)])


def test_multifields_selected_by_default(client):
    contacts = frames.load(client, "contact")
    assert {"PHONE", "EMAIL", "PHONE_PRIMARY", "EMAIL_PRIMARY"} <= set(contacts.columns)
    with_phone = contacts[contacts["PHONE"].map(len) > 0]
    assert len(with_phone) > 0
    assert (with_phone["PHONE"].map(lambda v: v[0]["VALUE"]) == with_phone["PHONE_PRIMARY"]).all()


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"filter": {"NO_SUCH_FIELD": 1}}, FilterError),
        ({"filter": {"LOGIC": "OR", "0": {"ID": 1}, "1": {"ID": 2}}}, FilterError),
        ({"filter": {"STAGE_ID": "Not a stage"}}, FilterError),
        ({"filter": {">OPPORTUNITY": "lots"}}, FilterError),
        ({"select": ["ID", "NOPE"]}, SelectError),
        ({"order": {"NOPE": "ASC"}}, ValidationError),
        ({"order": {"ID": "SIDEWAYS"}}, ValidationError),
    ],
)
def test_bad_input_raises_before_sending(client, sandbox, kw, error):
    metadata(client).specs("deal")  # metadata cached: nothing else may be sent
    before = sandbox.stats()["http_requests"]
    with pytest.raises(error):
        frames.load(client, "deal", **kw)
    assert sandbox.stats()["http_requests"] == before


def test_metadata_fetched_once(client, sandbox):
    frames.load(client, "lead", select=["ID", "TITLE"])
    sandbox.reset_stats()
    frames.load(client, "lead", select=["ID", "TITLE"])
    calls = sandbox.stats()["sub_calls"]
    assert set(calls) <= {"crm.lead.list", "batch"}


def test_tasks_upper_snake(client):
    tasks = frames.load(client, "task")
    assert len(tasks) > 0 and tasks.index.name == "ID"
    assert all(c == c.upper() for c in tasks.columns)
    assert {"TITLE", "RESPONSIBLE_ID", "CREATED_DATE", "CHANGED_DATE"} <= set(tasks.columns)
    assert str(tasks["RESPONSIBLE_ID"].dtype) == "Int64"
    assert tasks.bitrix.label("RESPONSIBLE_ID").notna().all()
    mine = frames.load(
        client, "task", filter={"RESPONSIBLE_ID": int(tasks["RESPONSIBLE_ID"].iloc[0])}
    )
    assert set(mine.index) == set(
        tasks.index[tasks["RESPONSIBLE_ID"] == tasks["RESPONSIBLE_ID"].iloc[0]]
    )


def test_users_loader(client):
    users = frames.load(client, "user")
    assert len(users) == len(metadata(client).users())
    assert str(users["ACTIVE"].dtype) == "boolean"
    assert users["NAME"].dtype.name.startswith("str")


def test_fields_frame(client):
    ff = frames.fields_frame(client, "deal")
    assert ff.loc["STAGE_ID", "type"] == "crm_status" and ff.loc["CATEGORY_ID", "immutable"]
    assert ff.loc["ID", "read_only"] and ff.loc["OPPORTUNITY", "dtype"] == "Float64"
    assert ff.loc["STAGE_ID", "values"] == frames.stages(client)["STATUS_ID"].tolist()


def test_refresh_keeps_filter_and_select(client):
    deals = frames.load(
        client, "deal", filter={"CATEGORY_ID": 0}, select=["ID", "TITLE", "CATEGORY_ID"]
    )
    again = deals.bitrix.refresh()
    assert list(again.columns) == list(deals.columns)
    assert again.attrs["bitrix"]["filter"] == deals.attrs["bitrix"]["filter"]
    assert (again["CATEGORY_ID"] == 0).all()


def test_filter_operator_the_method_lacks_is_refused(client):
    with pytest.raises(FilterError, match="'>=' and '<='"):
        frames.load(client, "deal", filter={"><OPPORTUNITY": [1, 2]})
    deals = frames.load(client, "deal", filter={"?TITLE": "a | e", ">=OPPORTUNITY": 0})
    assert len(deals) > 0
    assert deals["TITLE"].str.contains("a|e", case=False).all()
    users = frames.load(client, "user", filter={"><ID": [1, 2]})
    assert sorted(users.index.tolist()) == [1, 2]


def test_user_fields_look_real_and_uf_mask_loads_multiple_ones(client):
    deals = frames.load(client, "deal", select=["ID", "TITLE", "UF_*"])
    ufs = [c for c in deals.columns if c.startswith("UF_")]
    assert ufs and all(re.fullmatch(r"UF_CRM_\d{13}(_CURRENCY)?", c) for c in ufs)
    titles = deals.bitrix.title_map()
    by_title = {titles[c]: c for c in ufs}
    assert {"Priority", "Sales channels", "Client budget"} <= set(by_title)
    channels = by_title["Sales channels"]  # multiple: the portal's UF_* mask leaves it out
    assert deals.bitrix.specs[channels].multiple
    assert deals[channels].map(lambda v: isinstance(v, list)).all()
    assert deals[channels].map(len).sum() > 0


def test_titles_swap_codes_for_labels_and_back(client):
    deals = frames.load(client, "deal", select=["ID", "TITLE", "STAGE_ID", "UF_*"])
    titled = deals.bitrix.titles()
    assert "Priority" in titled.columns and "Title" in titled.columns
    assert not any(c.startswith("UF_CRM_") for c in titled.columns)
    assert titled.index.name == "ID" and len(set(titled.columns)) == len(titled.columns)
    back = titled.bitrix.titles(reverse=True)
    assert list(back.columns) == list(deals.columns)
    pd.testing.assert_frame_equal(back, deals)
    # a titled frame still plans its write-back by code
    edited = titled.copy()
    edited.loc[edited.index[0], "Title"] = "Renamed by title"
    plan = deals.bitrix.plan(edited, client=client)
    assert plan.counts["update"] == 1 and plan.changes["field"].tolist() == ["TITLE"]
