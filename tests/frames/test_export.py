"""Streamed exports (issue 15): partitioned Parquet read back complete by us, pandas, DuckDB and
Polars; bounded rows in memory; xlsx with labels; --limit."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pytest

from bitrix_frames import datasets, frames
from bitrix_frames.client import Client
from bitrix_frames.paging import MAX_COMMANDS, PAGE
from bitrix_frames.sandbox.sandbox import Sandbox

N_DEALS = 10_000
CHUNK = PAGE * MAX_COMMANDS  # rows of one batch response


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """10,000 deals exported once, partitioned by stage, with one reading chain."""
    out = tmp_path_factory.mktemp("export") / "deals"
    with Sandbox(deals=N_DEALS, limits=False) as sb, Client(sb.webhook_url, max_workers=1) as c:
        # batch_rows=1: each response is converted on its own, so the bound below is tight
        done = datasets.export(c, "deal", out, partition_by="STAGE_ID", batch_rows=1)
        full = frames.load(c, "deal")
        yield done, out, full, c


def test_partitioned_export_reads_back_complete(big):
    done, out, full, _ = big
    assert done.rows == len(full) == N_DEALS
    back = datasets.read_dataset(out)
    back.attrs["bitrix"]["loaded_at"] = full.attrs["bitrix"]["loaded_at"]
    pd.testing.assert_frame_equal(back, full)
    assert back.attrs == full.attrs


def test_streaming_holds_a_bounded_number_of_rows(big):
    done, *_ = big
    # one chain + the queue slot + the chunk being converted, never the whole entity
    assert 0 < done.peak_rows <= 3 * CHUNK < N_DEALS


def test_partitioned_export_is_read_by_duckdb_polars_and_pandas(big):
    _, out, full, _ = big
    counts = full["STAGE_ID"].astype(str).value_counts().to_dict()
    rows = duckdb.sql(
        f"SELECT STAGE_ID, count(*) FROM read_parquet('{out}/**/*.parquet', "
        "hive_partitioning = true) GROUP BY STAGE_ID"
    ).fetchall()
    assert dict(rows) == counts
    lazy = pl.scan_parquet(f"{out}/**/*.parquet", hive_partitioning=True)
    got = lazy.group_by("STAGE_ID").len().collect()
    assert dict(zip(got["STAGE_ID"].to_list(), got["len"].to_list(), strict=True)) == counts
    plain = pd.read_parquet(out)
    assert len(plain) == N_DEALS
    assert plain["OPPORTUNITY"].sum() == pytest.approx(float(full["OPPORTUNITY"].sum()))


def test_limit_and_single_file_formats(client, tmp_path):
    done = datasets.export(client, "deal", tmp_path / "d.parquet", limit=30)
    assert done.rows == 30
    df = pd.read_parquet(tmp_path / "d.parquet")
    assert len(df) == 30 and str(df["OPPORTUNITY"].dtype) == "Float64"
    csv = datasets.export(client, "deal", tmp_path / "d.csv", limit=5)
    assert csv.rows == 5 and len(pd.read_csv(tmp_path / "d.csv")) == 5


def test_xlsx_has_titles_and_labels(client, tmp_path):
    from openpyxl import load_workbook

    full = frames.load(client, "deal")
    datasets.export(client, "deal", tmp_path / "d.xlsx", limit=40)
    sheet = load_workbook(tmp_path / "d.xlsx", read_only=True).active
    rows = list(sheet.values)
    header, body = rows[0], rows[1:]
    fields = full.attrs["bitrix"]["fields"]
    assert len(body) == 40
    stage = header.index(fields["STAGE_ID"]["title"])
    labels = set(fields["STAGE_ID"]["labels"])
    assert {r[stage] for r in body} <= labels
    assert {r[stage] for r in body}.isdisjoint(set(fields["STAGE_ID"]["categories"]) - labels)


def test_empty_result_writes_a_typed_file(client, tmp_path):
    done = datasets.export(client, "deal", tmp_path / "none.parquet", filter={"ID": -5})
    assert done.rows == 0
    df = pd.read_parquet(tmp_path / "none.parquet")
    assert len(df) == 0 and str(df["OPPORTUNITY"].dtype) == "Float64"


def test_load_converts_each_response_as_it_arrives(big, monkeypatch):
    """A load holds at most one response of row dicts at a time (each becomes Arrow arrays as it
    arrives), and its frame equals the reference conversion of every row at once."""
    _, _, full, client = big
    seen = []

    class Counting(frames._Batches):
        def __call__(self, rows):
            seen.append(len(rows))
            super().__call__(rows)

    monkeypatch.setattr(frames, "_Batches", Counting)
    loaded = frames.load(client, "deal")
    assert len(seen) >= N_DEALS // CHUNK and max(seen) <= CHUNK < N_DEALS
    plan = frames.plan_load(client, "deal")
    reference = plan.frame(client.list(plan.ent.list_method, select=plan.send_select))
    for frame in (loaded, full):
        frame.attrs["bitrix"]["loaded_at"] = reference.attrs["bitrix"]["loaded_at"]
        pd.testing.assert_frame_equal(frame, reference)
        assert frame.attrs == reference.attrs
