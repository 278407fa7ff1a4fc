"""Incremental refresh with deletions: equal to a fresh load under faults; cost grows with deletions.

Writes go straight to the sandbox's engine (no HTTP, so no injected fault can make them ambiguous);
every read goes through the Client over HTTP, faults included.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from bitrix_frames import cache, deletions, frames
from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox

FAULTS = {"refused": 0.2, "drop": 0.1, "lost": 0.1}
FAST = {"rate": 1000.0, "burst": 1000.0}


def write(sb: Sandbox, method: str, params: dict) -> object:
    outcome = sb.engine.execute(method, params)
    assert outcome.error is None, (method, params, outcome.error)
    return outcome.result


def ids_of(sb: Sandbox, method: str, filter: dict | None = None) -> list[int]:
    """Every ID matching ``filter``, read in-process (no HTTP)."""
    out, after = [], 0
    key, path = ("id", "tasks") if method.startswith("tasks.") else ("ID", None)
    while True:
        params = {"filter": {**(filter or {}), ">ID": after}, "order": {"ID": "ASC"}}
        rows = sb.engine.execute(method, {**params, "select": ["ID"]}, start=-1).result
        rows = rows[path] if path else rows
        out += [int(r[key]) for r in rows]
        if len(rows) < 50:
            return out
        after = out[-1]


def edit_deals(sb: Sandbox, rng: random.Random, filter: dict | None) -> None:
    """Random edits, deletions, moves across the ``>=OPPORTUNITY`` filter edge and new deals."""
    ids = ids_of(sb, "crm.deal.list")
    for i in rng.sample(ids, 12):
        write(sb, "crm.deal.update", {"id": i, "fields": {"TITLE": f"edited {rng.random()}"}})
    for i in rng.sample(ids, 8):  # across the edge of the filtered frame, both ways
        amount = rng.choice([10, 90_000])
        write(sb, "crm.deal.update", {"id": i, "fields": {"OPPORTUNITY": amount}})
    for i in rng.sample(ids, rng.randint(1, 25)):
        write(sb, "crm.deal.delete", {"id": i})
    for n in range(rng.randint(0, 3)):
        fields = {"TITLE": f"new {n}", "CATEGORY_ID": 0, "OPPORTUNITY": rng.randint(1, 99_999)}
        write(sb, "crm.deal.add", {"fields": fields})


def edit_tasks(sb: Sandbox, rng: random.Random) -> None:
    ids = ids_of(sb, "tasks.task.list")
    for i in rng.sample(ids, min(len(ids) // 3, 6)):
        write(sb, "tasks.task.update", {"taskId": i, "fields": {"TITLE": f"edited {i}"}})
    for i in rng.sample(ids, rng.randint(1, max(1, len(ids) // 5))):
        write(sb, "tasks.task.delete", {"taskId": i})


def edit_crm(sb: Sandbox, entity: str, rng: random.Random) -> None:
    ids = ids_of(sb, f"crm.{entity}.list")
    for i in rng.sample(ids, min(len(ids) // 3, 6)):
        write(sb, f"crm.{entity}.update", {"id": i, "fields": {"COMMENTS": f"edited {i}"}})
    for i in rng.sample(ids, rng.randint(1, max(1, len(ids) // 5))):
        write(sb, f"crm.{entity}.delete", {"id": i})


@pytest.fixture(scope="module")
def faulty():
    with Sandbox(deals=1500, limits=False, faults=FAULTS, fault_seed=11) as sb:
        yield sb


@pytest.fixture
def client(faulty):
    with Client(faulty.webhook_url, **FAST, max_retries=20) as c:
        yield c


@pytest.mark.timeout(240)
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("filter", [None, {">=OPPORTUNITY": 50_000}])
@pytest.mark.parametrize("first_probes", [cache.FIRST_PROBES, 2])
def test_deal_refresh_under_faults_equals_a_fresh_load(
    faulty, client, tmp_path, monkeypatch, seed, filter, first_probes
):
    monkeypatch.setattr(cache, "FIRST_PROBES", first_probes)  # 2: many narrowing rounds
    select = ["ID", "TITLE", "OPPORTUNITY", "STAGE_ID", "DATE_MODIFY"]
    rng = random.Random(seed)
    faulty.reset_stats()
    cache.cached_load(client, "deal", tmp_path, filter=filter, select=select)
    for _ in range(2):  # two refreshes in a row, each after its own random writes
        edit_deals(faulty, rng, filter)
        refreshed = cache.cached_load(client, "deal", tmp_path, filter=filter, select=select)
        fresh = frames.load(client, "deal", filter=filter, select=select)
        pd.testing.assert_frame_equal(refreshed, fresh)
        assert list(refreshed.index) == ids_of(faulty, "crm.deal.list", filter)
    assert sum(faulty.stats()["faults"].values()) >= 1  # the faults really hit these reads


@pytest.mark.timeout(240)
@pytest.mark.parametrize("entity", ["lead", "contact", "company", "task"])
def test_every_cached_entity_refreshes_deletions_under_faults(faulty, client, monkeypatch, entity):
    monkeypatch.setattr(cache, "FIRST_PROBES", 3)
    rng = random.Random(entity)
    before = frames.load(client, entity)  # in memory: the refresh, not the file format
    if entity == "task":
        edit_tasks(faulty, rng)
    else:
        edit_crm(faulty, entity, rng)
    refreshed = cache.refresh_frame(client, before)
    pd.testing.assert_frame_equal(refreshed, frames.load(client, entity))
    assert len(refreshed) < len(before)


def refresh_requests(sb: Sandbox, client: Client, path, deleted: int, seed: int) -> int:
    """HTTP requests of one refresh after deleting ``deleted`` random deals (no other change)."""
    select = ["ID", "DATE_MODIFY"]
    cache.cached_load(client, "deal", path, select=select)
    for i in random.Random(seed).sample(ids_of(sb, "crm.deal.list"), deleted):
        write(sb, "crm.deal.delete", {"id": i})
    sb.reset_stats()
    refreshed = cache.cached_load(client, "deal", path, select=select)
    requests = sb.stats()["http_requests"]
    assert list(refreshed.index) == ids_of(sb, "crm.deal.list")
    return requests


@pytest.mark.timeout(300)
def test_requests_grow_with_deletions_not_with_table_size(tmp_path):
    got: dict[int, list[int]] = {}
    for size in (2_000, 20_000):
        with Sandbox(deals=size, limits=False) as sb, Client(sb.webhook_url, **FAST) as c:
            path = tmp_path / f"d{size}.parquet"
            got[size] = [refresh_requests(sb, c, path, d, seed=d) for d in (0, 1, 8, 40)]
    small, big = got[2_000], got[20_000]
    assert small[0] == big[0] == 1  # no deletion: the changed rows' request alone
    # ten times the rows: at most a couple of narrowing rounds more for a few deletions ...
    assert big[1] <= small[1] + 2 and big[2] <= small[2] + 2
    # ... and even 40 deletions stay below listing the 20,000 IDs (8 requests of 2,500, + 1)
    assert big[3] <= 7
    assert big[0] < big[1] <= big[2] < big[3]  # more deletions, more requests


def test_probe_ranges_stay_inside_the_callers_id_bounds():
    cmd = deletions.probe_command("crm.deal.list", {">=ID": 50, "<ID": 80, "CLOSED": "N"}, 10, 100)
    assert cmd[1]["filter"] == {">=ID": 50, "<ID": 80, "CLOSED": "N"}
    cmd = deletions.probe_command("tasks.task.list", {}, None, 7)
    assert cmd[1]["filter"] == {"<ID": 7} and cmd[1]["start"] == 0
    with pytest.raises(ValueError):
        deletions.probe_command("user.get", {}, 1, 2)
