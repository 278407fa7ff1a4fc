"""Our Parquet is read with real types by plain pandas, pyarrow, DuckDB and Polars (issue 15)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bitrix_frames import cache, frames
from bitrix_frames.schema.to_arrow import frame_to_table, table_to_frame

DEAL_COLUMNS = {
    # column: (pyarrow type, plain pandas dtype, DuckDB type, Polars dtype)
    "ID": (pa.int64(), None, "BIGINT", pl.Int64),
    "TITLE": (pa.string(), "string", "VARCHAR", pl.String),
    "OPPORTUNITY": (pa.float64(), "Float64", "DOUBLE", pl.Float64),
    "OPENED": (pa.bool_(), "boolean", "BOOLEAN", pl.Boolean),
    "DATE_CREATE": (
        pa.timestamp("us", tz="UTC"),
        "datetime64[ns, UTC]",
        "TIMESTAMP WITH TIME ZONE",
        pl.Datetime("us", "UTC"),
    ),
    "CLOSEDATE": (pa.date32(), "object", "DATE", pl.Date),
    "STAGE_ID": (pa.dictionary(pa.int32(), pa.string()), "category", "VARCHAR", pl.Categorical),
    "CATEGORY_ID": (pa.int64(), "Int64", "BIGINT", pl.Int64),
    "ASSIGNED_BY_ID": (pa.int64(), "Int64", "BIGINT", pl.Int64),
    "@Sales channels": (pa.list_(pa.int64()), "object", "BIGINT[]", pl.List(pl.Int64)),
}


def channels(df: pd.DataFrame) -> str:
    """Code of the multiple enumeration user field titled "Sales channels"."""
    return next(c for c, t in df.bitrix.title_map().items() if t == "Sales channels")


def resolved(df: pd.DataFrame) -> dict:
    """DEAL_COLUMNS with user fields (``@Title``) named by their code in ``df``."""
    return {(channels(df) if k == "@Sales channels" else k): v for k, v in DEAL_COLUMNS.items()}


@pytest.fixture(scope="module")
def deal_file(sandbox, tmp_path_factory):
    from bitrix_frames.client import Client

    with Client(sandbox.webhook_url, rate=1000.0, burst=1000.0) as client:
        df = frames.load(client, "deal")
    path = cache.write_parquet(df, tmp_path_factory.mktemp("arrow") / "deals.parquet")
    return df, path


def test_pyarrow_sees_the_dataset_schema(deal_file, sandbox):
    df, path = deal_file
    schema = pq.read_schema(path)
    for name, (arrow_type, *_) in resolved(df).items():
        assert schema.field(name).type == arrow_type, name
    stage = schema.field("STAGE_ID").metadata
    assert stage[b"title"].decode() == df.attrs["bitrix"]["fields"]["STAGE_ID"]["title"]
    spec = json.loads(stage[b"bitrix"])
    assert spec["labels"] and len(spec["labels"]) == len(spec["categories"])
    meta = json.loads(schema.metadata[b"bitrix_frames"])
    assert (
        meta["entity"] == "deal"
        and meta["attrs"]["bitrix"]["portal"] == df.attrs["bitrix"]["portal"]
    )
    secret = sandbox.webhook_url.rstrip("/").rsplit("/", 1)[-1]
    assert secret.encode() not in path.read_bytes()


def test_plain_pandas_reads_nullable_dtypes_and_categories(deal_file):
    df, path = deal_file
    plain = pd.read_parquet(path)
    assert plain.index.name == "ID" and plain.index.tolist() == df.index.tolist()
    for name, (_, dtype, *_) in resolved(df).items():
        if dtype is not None:
            assert str(plain[name].dtype) == dtype, name
    # every allowed stage is a category, in the frame's order, even the unused ones
    assert plain["STAGE_ID"].cat.categories.tolist() == df["STAGE_ID"].cat.categories.tolist()
    assert plain["STAGE_ID"].astype(object).tolist() == df["STAGE_ID"].astype(object).tolist()
    assert plain["OPPORTUNITY"].tolist() == df["OPPORTUNITY"].tolist()
    assert plain["CATEGORY_ID"].tolist() == df["CATEGORY_ID"].astype("Int64").tolist()
    lists = [list(v) for v in plain[channels(df)]]
    assert lists == df[channels(df)].tolist()


def test_duckdb_reads_real_types(deal_file):
    df, path = deal_file
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    types = {row[0]: row[1] for row in described}
    for name, (*_, duck, _) in resolved(df).items():
        assert types[name] == duck, name
    ((won,),) = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE STAGE_ID = 'WON' AND OPENED IS NOT NULL"
    ).fetchall()
    assert won == int((df["STAGE_ID"] == "WON").sum())


def test_polars_reads_real_types(deal_file):
    df, path = deal_file
    got = pl.read_parquet(path)
    for name, (*_, dtype) in resolved(df).items():
        assert got.schema[name] == dtype, name
    assert got.height == len(df)
    assert got["OPPORTUNITY"].sum() == pytest.approx(float(df["OPPORTUNITY"].sum()))


def test_multifields_are_lists_of_structs_everywhere(client, tmp_path):
    df = frames.load(client, "contact")
    path = cache.write_parquet(df, tmp_path / "contacts.parquet")
    typ = pq.read_schema(path).field("PHONE").type
    assert pa.types.is_list(typ) and pa.types.is_struct(typ.value_type)
    phones = duckdb.sql(
        f"SELECT p.VALUE FROM (SELECT unnest(PHONE) AS p FROM read_parquet('{path}'))"
    ).fetchall()
    assert sorted(v for (v,) in phones) == sorted(d["VALUE"] for ps in df["PHONE"] for d in ps)
    assert isinstance(pl.read_parquet(path).schema["PHONE"], pl.List)
    pd.testing.assert_frame_equal(cache.read_parquet(path), df)


def test_frames_with_added_columns_round_trip(client):
    df = frames.load(client, "deal", select=["ID", "TITLE", "OPPORTUNITY", "STAGE_ID"])
    df["DOUBLE"] = df["OPPORTUNITY"] * 2
    df["NOTE"] = pd.Series([{"a": 1}] * len(df), index=df.index, dtype=object)
    df["FLAG"] = pd.array([True] * len(df), dtype="boolean")
    back = table_to_frame(frame_to_table(df))
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs == df.attrs
