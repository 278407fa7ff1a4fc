"""The schema layer on documented payloads: dtypes, NA handling, categories, labels, encoding."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from frames_helpers import sample

from bitrix_frames.entities import camel_to_upper, entity, upper_to_camel
from bitrix_frames.errors import ValidationError
from bitrix_frames.schema import (
    ColumnSpec,
    FilterError,
    LabelError,
    SelectError,
    build_specs,
    code_for,
    convert_column,
    encode_filter,
    encode_select,
    label_series,
    record_to_api,
    spec_from_dict,
    to_frame,
    value_to_api,
)


@pytest.fixture(scope="module")
def deal_specs(dicts):
    return build_specs("deal", sample("crm.deal.fields.response.json"), dicts)


def _spec(kind: str, **kw) -> ColumnSpec:
    from bitrix_frames.schema.specs import KIND_DTYPES

    return ColumnSpec(
        name=kw.pop("name", "X"),
        title="X",
        type=kw.pop("type", kind),
        kind=kind,
        dtype=KIND_DTYPES[kind],
        **kw,
    )


@pytest.mark.parametrize(
    ("kind", "values", "dtype", "expected"),
    [
        ("int", ["5", None, "", 7], "Int64", [5, pd.NA, pd.NA, 7]),
        ("link", ["0", "12", None, ""], "Int64", [pd.NA, 12, pd.NA, pd.NA]),
        ("user", ["1", None, "", "3"], "Int64", [1, pd.NA, pd.NA, 3]),
        ("float", ["15000.00", "0.00", None, ""], "Float64", [15000.0, 0.0, pd.NA, pd.NA]),
        ("bool", ["Y", "N", "", None], "boolean", [True, False, pd.NA, pd.NA]),
        ("bool", [True, False, "1", "0"], "boolean", [True, False, True, False]),
        ("string", ["a", "", None, "b"], "string", ["a", pd.NA, pd.NA, "b"]),
    ],
)
def test_scalar_kinds_dtype_and_na(kind, values, dtype, expected):
    out = convert_column(pd.Series(values, dtype=object), _spec(kind))
    assert str(out.dtype) == dtype
    assert [None if x is pd.NA else x for x in out.tolist()] == [
        None if x is pd.NA else x for x in expected
    ]


def test_datetime_is_utc_and_empty_is_nat():
    out = convert_column(
        pd.Series(
            ["2024-05-23T18:18:25+02:00", "", None, "2024-05-23T10:00:00-05:00"], dtype=object
        ),
        _spec("datetime"),
    )
    assert str(out.dtype) == "datetime64[ns, UTC]"
    assert out[0] == pd.Timestamp("2024-05-23T16:18:25Z")
    assert out[3] == pd.Timestamp("2024-05-23T15:00:00Z")
    assert out[1:3].isna().all()


def test_date_quirk_positive_and_negative_offsets():
    # 00:00 UTC of the date rendered in the portal offset (PROTOCOL §17)
    raw = ["2024-08-30T02:00:00+02:00", "2024-08-29T19:00:00-05:00", "", None, "2024-08-30"]
    out = convert_column(pd.Series(raw, dtype=object), _spec("date"))
    assert str(out.dtype) == "datetime64[ns]"
    assert out[0] == pd.Timestamp("2024-08-30") and out[1] == pd.Timestamp("2024-08-30")
    assert out[2:4].isna().all() and out[4] == pd.Timestamp("2024-08-30")


def test_money_splits_into_amount_and_currency(dicts):
    fields = {"UF_CRM_PRICE": {"type": "money", "isDynamic": True, "title": "UF_CRM_PRICE"}}
    specs = build_specs("deal", fields, dicts)
    df = to_frame(
        [{"ID": "1", "UF_CRM_PRICE": "300|USD"}, {"ID": "2", "UF_CRM_PRICE": ""}, {"ID": "3"}],
        specs,
        "deal",
        ["UF_CRM_PRICE"],
    )
    assert str(df["UF_CRM_PRICE"].dtype) == "Float64"
    assert df.loc[1, "UF_CRM_PRICE"] == 300.0 and df.loc[1, "UF_CRM_PRICE_CURRENCY"] == "USD"
    assert df.loc[[2, 3], "UF_CRM_PRICE"].isna().all()
    assert record_to_api(specs, df.loc[1].to_dict(), ["UF_CRM_PRICE"]) == {
        "UF_CRM_PRICE": "300|USD"
    }


def test_deal_sample_dtypes(deal_specs):
    rows = sample("crm.deal.list.response.json") + [sample("crm.deal.get.response.json")]
    df = to_frame(rows, deal_specs, "deal", list(deal_specs))
    assert df.index.name == "ID" and str(df.index.dtype) == "Int64"
    assert str(df["OPPORTUNITY"].dtype) == "Float64"
    assert str(df["DATE_CREATE"].dtype) == "datetime64[ns, UTC]"
    assert str(df["CLOSEDATE"].dtype) == "datetime64[ns]"
    assert df.loc[410, "CLOSEDATE"] == pd.Timestamp("2024-09-09")
    assert str(df["IS_MANUAL_OPPORTUNITY"].dtype) == "boolean"
    assert isinstance(df["STAGE_ID"].dtype, pd.CategoricalDtype)
    assert str(df["ASSIGNED_BY_ID"].dtype) == "Int64"
    # fields absent from every list row still get their typed, all-NA column
    assert df.loc[37, ["TAX_VALUE", "BEGINDATE", "COMMENTS"]].isna().all()
    # C1:NEW is not in the sample dictionaries: kept (appended), never turned into NaN
    assert (df.loc[37, "STAGE_ID"]) == "C1:NEW"


def test_stage_categories_in_pipeline_then_stage_sort_order(deal_specs):
    cats = list(deal_specs["STAGE_ID"].categories)
    # pipeline 10 (sort 200) before General (sort 300); stages by SORT inside each pipeline
    assert cats[:2] == ["C10:NEW", "C10:PREPARATION"]
    general = [c for c in cats if ":" not in c]
    assert general[:3] == ["NEW", "PREPARATION", "PREPAYMENT_INVOICE"] and general[-1] == "APOLOGY"
    assert list(deal_specs["CATEGORY_ID"].categories) == [9, 10, 11, 0]
    df = to_frame([{"ID": "1", "STAGE_ID": "WON"}], deal_specs, "deal", ["STAGE_ID"])
    assert list(df["STAGE_ID"].cat.categories) == cats  # every allowed value, used or not


def test_labels_round_trip(deal_specs):
    spec = deal_specs["STAGE_ID"]
    df = to_frame(
        [{"ID": "1", "STAGE_ID": "WON"}, {"ID": "2", "STAGE_ID": "C10:NEW"}],
        deal_specs,
        "deal",
        ["STAGE_ID"],
    )
    labels = label_series(df["STAGE_ID"], spec)
    assert labels.tolist() == ["General: Deal successful", "Lead Route: New"]
    assert [code_for(spec, x) for x in labels] == ["WON", "C10:NEW"]
    assert code_for(spec, "New", pipeline=10) == "C10:NEW"
    assert code_for(spec, "New", pipeline=0) == "NEW"
    with pytest.raises(LabelError):
        code_for(spec, "New")  # ambiguous without the pipeline
    with pytest.raises(LabelError):
        code_for(spec, "No such stage")
    with pytest.raises(LabelError):
        code_for(spec, "WON", pipeline=10)  # a stage of another pipeline
    users = label_series(pd.Series([1, 3, pd.NA], dtype="Int64"), deal_specs["ASSIGNED_BY_ID"])
    assert users.tolist()[:2] == ["Vadim Valeev", "John Smith"]
    assert value_to_api(deal_specs["ASSIGNED_BY_ID"], "John Smith") == 3


def test_enumeration_uses_userfield_sort_and_int_ids(dicts):
    # crm.lead.fields items come without SORT; crm.lead.userfield.list gives the order
    items = [
        {"ID": "3163", "VALUE": "Monte Carlo Radio"},
        {"ID": "3157", "VALUE": "Children's Radio"},
    ]
    fields = {"UF_CRM_1724077760": {"type": "enumeration", "isDynamic": True, "items": items}}
    specs = build_specs("lead", fields, dicts)
    enum = specs["UF_CRM_1724077760"]
    assert enum.categories[:2] == (3157, 3159) and enum.labels[0] == "Children's Radio"
    df = to_frame(
        [{"ID": "1", "UF_CRM_1724077760": "3163"}, {"ID": "2"}], specs, "lead", list(specs)
    )
    assert df.loc[1, "UF_CRM_1724077760"] == 3163 and pd.isna(df.loc[2, "UF_CRM_1724077760"])
    assert label_series(df["UF_CRM_1724077760"], enum).iloc[0] == "Monte Carlo Radio"


def test_multifields_lossless_with_primary(dicts):
    specs = build_specs("contact", sample("crm.contact.fields.response.json"), dicts)
    rows = [sample("crm.contact.get.response.json")] + sample("crm.contact.list.response.json")
    df = to_frame(rows, specs, "contact", list(specs))
    first = df.iloc[0]
    assert first["PHONE"][0]["VALUE"] == first["PHONE_PRIMARY"]
    assert set(first["PHONE"][0]) == {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}
    assert df["PHONE"].iloc[1] == [] and pd.isna(df["PHONE_PRIMARY"].iloc[1])
    assert str(df["EMAIL_PRIMARY"].dtype) == "string"


def test_tasks_columns_are_upper_snake(dicts):
    specs = build_specs("task", sample("tasks.task.getFields.response.json"), dicts)
    rows = [sample("tasks.task.get.response.json")["task"]] + sample(
        "tasks.task.list.response.json"
    )["tasks"]
    df = to_frame(rows, specs, "task", list(specs))
    assert {"RESPONSIBLE_ID", "CREATED_DATE", "UF_CRM_TASK", "DEADLINE"} <= set(df.columns)
    assert all(c == c.upper() for c in df.columns)
    assert "creator" not in df.columns and "CREATOR" not in df.columns
    assert str(df["RESPONSIBLE_ID"].dtype) == "Int64"
    assert list(df["PRIORITY"].cat.categories) == [0, 1, 2]
    assert df["AUDITORS"].iloc[1] == [13, 103]
    assert str(df["FAVORITE"].dtype) == "boolean"  # Y/N enum -> boolean
    assert (
        camel_to_upper("responsibleId") == "RESPONSIBLE_ID"
        and upper_to_camel("UF_CRM_TASK") == "ufCrmTask"
    )


def test_users_static_types(dicts):
    specs = build_specs("user", sample("user.fields.response.json"), dicts)
    df = to_frame(sample("user.get.response.json"), specs, "user", list(specs))
    assert str(df["ACTIVE"].dtype) == "boolean" and df["ACTIVE"].all()
    assert str(df["LAST_LOGIN"].dtype) == "datetime64[ns, UTC]"
    assert df.loc[1, "UF_DEPARTMENT"] == [1]
    assert pd.isna(df.loc[1, "TIMESTAMP_X"])  # {} -> NA


def test_empty_records_keep_dtypes(deal_specs):
    df = to_frame([], deal_specs, "deal", list(deal_specs))
    assert len(df) == 0 and str(df["OPPORTUNITY"].dtype) == "Float64"
    assert isinstance(df["STAGE_ID"].dtype, pd.CategoricalDtype)


def test_filter_encoding(deal_specs):
    out = encode_filter(
        "deal",
        deal_specs,
        {
            ">=DATE_CREATE": pd.Timestamp("2024-01-01 10:00", tz="Europe/Berlin"),
            "<CLOSEDATE": dt.date(2024, 2, 1),
            "OPENED": True,
            "@STAGE_ID": ["General: Deal successful", "C10:NEW"],
            "CATEGORY_ID": 10,
            ">OPPORTUNITY": 1000,
        },
    )
    assert out == {
        ">=DATE_CREATE": "2024-01-01T10:00:00+01:00",
        "<CLOSEDATE": "2024-02-01",
        "OPENED": "Y",
        "@STAGE_ID": ["WON", "C10:NEW"],
        "CATEGORY_ID": 10,
        ">OPPORTUNITY": 1000,
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"NO_SUCH_FIELD": 1},
        {">=NOPE": "2024-01-01"},
        {"LOGIC": "OR", "0": {"STAGE_ID": "WON"}},
        {"0": {"STAGE_ID": "WON"}},
        {"STAGE_ID": "Unknown stage"},
        {"PHONE_PRIMARY": "1"},
        {"><OPPORTUNITY": [1, 2]},  # legacy CRM lists have no between: the portal drops it
        {"!><OPPORTUNITY": [1, 2]},
    ],
)
def test_bad_filters_raise_typed_errors(deal_specs, bad):
    with pytest.raises(FilterError) as info:
        encode_filter("deal", deal_specs, bad)
    assert isinstance(info.value, ValidationError)


def test_filter_operators_follow_the_list_method():
    from bitrix_frames.schema.to_api import method_operators

    assert "><" not in method_operators("crm.deal.list")
    assert "?" in method_operators("crm.deal.list") and "!=%" in method_operators("crm.lead.list")
    assert "><" in method_operators("user.get") and "!><" not in method_operators("user.get")
    assert "><" in method_operators("tasks.task.list")
    assert "=%" not in method_operators("tasks.task.list")
    assert "><" in method_operators("crm.item.list")


def test_select_checked(deal_specs, dicts):
    assert encode_select("deal", deal_specs, ["*", "UF_*", "TITLE"]) == ["*", "UF_*", "TITLE"]
    with pytest.raises(SelectError):
        encode_select("deal", deal_specs, ["TITLE", "NOPE"])
    contact = build_specs("contact", sample("crm.contact.fields.response.json"), dicts)
    assert encode_select("contact", contact, ["NAME", "PHONE_PRIMARY"]) == ["NAME", "PHONE"]


def test_spec_dict_round_trip(deal_specs):
    spec = deal_specs["STAGE_ID"]
    assert spec_from_dict(spec.to_dict()) == spec


def test_registry():
    assert entity("deals").list_method == "crm.deal.list"
    task = entity("task")
    assert (task.id_param, task.list_key, task.item_key, task.modified_field) == (
        "taskId",
        "tasks",
        "task",
        "CHANGED_DATE",
    )
    assert (
        entity("contact").multifields[:2] == ("PHONE", "EMAIL") and not entity("deal").multifields
    )
    assert entity("user").modified_field is None
    with pytest.raises(ValueError):
        entity("invoice")
