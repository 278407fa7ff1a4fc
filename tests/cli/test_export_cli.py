"""``bitrix-frames export``: typed Parquet and CSV files from a live sandbox, secret never shown."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from bitrix_frames.cache import read_parquet
from bitrix_frames.cli import app
from bitrix_frames.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=120, limits=False) as sandbox:
        yield sandbox


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_export_parquet_keeps_dtypes_and_filter(sb, tmp_path):
    out = tmp_path / "deals.parquet"
    result = run(
        "export", "deal", "--out", str(out), "--url", sb.webhook_url,
        "--filter", json.dumps({"CATEGORY_ID": 1}), "--select", "ID,TITLE,STAGE_ID,OPPORTUNITY",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sb.config.secret not in result.output
    df = read_parquet(out)
    assert len(df) > 0
    assert isinstance(df["STAGE_ID"].dtype, pd.CategoricalDtype)
    assert str(df["OPPORTUNITY"].dtype) == "Float64"
    assert set(df["STAGE_ID"].astype(str)) <= {c for c in df["STAGE_ID"].cat.categories}
    assert all(code.startswith("C1:") for code in df["STAGE_ID"].astype(str))
    assert sb.config.secret.encode() not in out.read_bytes()


def test_export_csv_of_contacts_keeps_phones(sb, tmp_path):
    out = tmp_path / "contacts.csv"
    result = run("export", "contact", "--out", str(out), "--url", sb.webhook_url)
    assert result.exit_code == 0, result.output
    flat = pd.read_csv(out, dtype=str)
    phones = [p for p in flat["PHONE"].dropna().map(json.loads) if p]
    assert len(phones) > 0 and all(p[0]["TYPE_ID"] == "PHONE" for p in phones)
    assert list(flat["PHONE_PRIMARY"].dropna()) == [p[0]["VALUE"] for p in phones]


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "deal", "--out", "deals.json"], ".xlsx files"),
        (["export", "deal", "--out", "d.csv", "--filter", '{"NOPE_FIELD": 1}'], "NOPE_FIELD"),
        (["export", "deal", "--out", "d.csv", "--filter", "{not json"], "error"),
    ],
)
def test_export_bad_input_fails_clearly_without_secret(sb, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--url", sb.webhook_url)
    assert result.exit_code == 2
    assert message in result.output
    assert sb.config.secret not in result.output
    assert not list(tmp_path.iterdir())


def test_export_partitioned_directory_with_limit(sb, tmp_path):
    out = tmp_path / "deals"
    result = run(
        "export", "deal", "--out", str(out), "--url", sb.webhook_url,
        "--partition-by", "CATEGORY_ID", "--limit", "50",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 50 rows" in result.output and sb.config.secret not in result.output
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(
        f"CATEGORY_ID={c}" for c in set(read_parquet(out)["CATEGORY_ID"].astype(int))
    )
    back = read_parquet(out)
    assert len(back) == 50 and isinstance(back["CATEGORY_ID"].dtype, pd.CategoricalDtype)


def test_version():
    from importlib.metadata import version

    result = run("--version")
    assert result.exit_code == 0 and version("bitrix-frames") in result.output
