"""Concurrent writes from many connections never corrupt the store."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bitrix_frames.sandbox import Sandbox

THREADS = 12
PER_THREAD = 40


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=50, limits=False) as sandbox:
        yield sandbox


def _writer(url: str, worker: int) -> list[int]:
    session = requests.Session()
    ids = []
    for i in range(PER_THREAD):
        body = {
            "fields": {
                "TITLE": f"concurrent {worker}-{i}",
                "PHONE": [{"VALUE": f"+1555{worker:03d}{i:04d}", "VALUE_TYPE": "WORK"}],
            }
        }
        new_id = session.post(url + "crm.lead.add", json=body, timeout=30).json()["result"]
        ids.append(new_id)
        update = {"id": new_id, "fields": {"OPPORTUNITY": worker * 1000 + i}}
        assert (
            session.post(url + "crm.lead.update", json=update, timeout=30).json()["result"] is True
        )
    return ids


def test_parallel_adds_and_updates_are_all_kept_exactly(sb):
    with ThreadPoolExecutor(THREADS) as pool:
        batches = list(pool.map(lambda w: _writer(sb.webhook_url, w), range(THREADS)))
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(set(ids)) == THREADS * PER_THREAD

    rows, start = [], 0
    while True:
        page = requests.post(
            sb.webhook_url + "crm.lead.list",
            json={
                "filter": {"%TITLE": "concurrent "},
                "select": ["ID", "TITLE", "OPPORTUNITY", "PHONE", "HAS_PHONE"],
                "order": {"ID": "ASC"},
                "start": start,
            },
            timeout=30,
        ).json()
        rows += page["result"]
        if "next" not in page:
            break
        start = page["next"]
    assert sorted(int(r["ID"]) for r in rows) == sorted(ids)
    phone_ids = [p["ID"] for r in rows for p in r["PHONE"]]
    assert len(phone_ids) == len(set(phone_ids)) == len(rows)  # one phone each, ids unique
    for row in rows:
        worker, i = map(int, row["TITLE"].split()[1].split("-"))
        assert row["OPPORTUNITY"] == f"{worker * 1000 + i:.2f}"
        assert row["HAS_PHONE"] == "Y"
        assert row["PHONE"][0]["VALUE"] == f"+1555{worker:03d}{i:04d}"
