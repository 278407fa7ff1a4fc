"""Parquet cache: dtype/attrs round trip, no secret on disk, incremental refresh == full reload."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from bitrix_frames import cache, frames


@pytest.mark.parametrize("entity", ["deal", "lead", "contact", "company", "task", "user"])
def test_parquet_round_trip_keeps_dtypes_and_attrs(client, tmp_path, entity):
    df = frames.load(client, entity)
    path = cache.write_parquet(df, tmp_path / f"{entity}.parquet")
    back = cache.read_parquet(path)
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs == df.attrs
    assert back.bitrix.labels().equals(df.bitrix.labels())


def test_cache_file_has_no_secret(client, sandbox, tmp_path):
    path = cache.cache_path(client, "deal", tmp_path)
    cache.cached_load(client, "deal", tmp_path)
    secret = sandbox.webhook_url.rstrip("/").rsplit("/", 1)[-1]
    assert secret.encode() not in path.read_bytes() and secret not in path.name


def _random_writes(client, ids, rng):
    for i in rng.sample(ids, 6):
        client.call(
            "crm.deal.update",
            {"id": i, "fields": {"TITLE": f"edited {i}", "OPPORTUNITY": rng.randint(1, 9999)}},
        )
    for i in rng.sample(ids, 3):
        client.call("crm.deal.delete", {"id": i})
    return [
        client.call("crm.deal.add", {"fields": {"TITLE": f"new {n}", "CATEGORY_ID": 0}})
        for n in range(2)
    ]


@pytest.mark.parametrize("filter", [None, {"CATEGORY_ID": 0}])
def test_incremental_refresh_equals_full_reload(client, sandbox, tmp_path, filter):
    first = cache.cached_load(client, "deal", tmp_path, filter=filter)
    added = _random_writes(client, [int(i) for i in first.index], random.Random(len(first)))
    sandbox.reset_stats()
    inc = cache.cached_load(client, "deal", tmp_path, filter=filter)
    inc_requests = sandbox.stats()["http_requests"]
    full = frames.load(client, "deal", filter=filter)
    pd.testing.assert_frame_equal(inc, full)
    assert set(added) <= set(inc.index)
    assert inc_requests < 10
    # the cache on disk is the refreshed frame
    pd.testing.assert_frame_equal(
        cache.read_parquet(cache.cache_path(client, "deal", tmp_path, filter)), full
    )


def test_refresh_without_changes_is_cheap(client, sandbox, tmp_path):
    cache.cached_load(client, "deal", tmp_path)
    sandbox.reset_stats()
    again = cache.cached_load(client, "deal", tmp_path)
    stats = sandbox.stats()
    # one request: the changed rows, with the deletion check's COUNT riding along; no ID listing
    assert stats["http_requests"] == 1
    pd.testing.assert_frame_equal(again, frames.load(client, "deal"))


def test_export_parquet_and_csv(client, tmp_path):
    p = cache.export(client, "lead", tmp_path / "leads.parquet")
    c = cache.export(client, "lead", tmp_path / "leads.csv")
    back = cache.read_parquet(p)
    csv = pd.read_csv(c, index_col="ID")
    assert len(back) == len(csv) > 0
    with pytest.raises(ValueError):
        cache.export(client, "lead", tmp_path / "leads.json")


def test_cache_directory_from_argument_env_or_platform(client, tmp_path, monkeypatch):
    from platformdirs import user_cache_path

    from bitrix_frames.paths import cache_dir
    from bitrix_frames.writeback.journal import default_path

    monkeypatch.delenv("BITRIX_FRAMES_CACHE", raising=False)
    assert cache_dir() == user_cache_path("bitrix_frames", appauthor=False)
    assert cache_dir(tmp_path / "mine") == tmp_path / "mine"
    monkeypatch.setenv("BITRIX_FRAMES_CACHE", str(tmp_path / "env"))
    df = cache.cached_load(client, "lead", select=["ID", "TITLE"])
    files = list((tmp_path / "env" / "frames").glob("lead-*.parquet"))
    assert len(files) == 1 and len(cache.read_parquet(files[0])) == len(df)
    journal = default_path("https://x.bitrix24.com/rest/1/***/", "fp")
    assert journal.is_relative_to(tmp_path / "env" / "writeback")
