"""Client.list against a live sandbox: complete, ID-ordered, filters and select honoured."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from client_helpers import FAST, naive_ids
from hostile_server import Connection, HostileServer, answer

from bitrix_frames import errors as E
from bitrix_frames.client import Client


def ids(rows, key="ID"):
    return [int(r[key]) for r in rows]


def test_every_deal_in_id_order_without_duplicates(sandbox, client):
    before = sandbox.stats()
    rows = client.list("crm.deal.list", select=["ID", "TITLE"])
    after = sandbox.stats()
    expected = naive_ids(client, select=["ID"])
    assert ids(rows) == expected and len(expected) >= 1200
    assert set(rows[0]) == {"ID", "TITLE"}
    # keyset chains: no COUNT beyond the single discovery count, no OFFSET skipping
    assert after["rows_skipped"] == before["rows_skipped"]
    assert after["rows_counted"] - before["rows_counted"] == len(expected)
    # 1 discovery batch + ceil(N/2500) chain batches (+1 per chain at most)
    assert after["http_requests"] - before["http_requests"] <= 1 + 1 + 1


def test_filter_and_select_are_honoured(client):
    rows = client.list(
        "crm.deal.list", filter={">OPPORTUNITY": 500, "<=ID": 900}, select=["OPPORTUNITY"]
    )
    expected = naive_ids(client, filter={">OPPORTUNITY": 500, "<=ID": 900}, select=["ID"])
    assert ids(rows) == expected and expected
    assert all(float(r["OPPORTUNITY"]) > 500 for r in rows)
    assert "ID" in rows[0]  # forced into the select


def test_caller_id_bounds_combine_with_keyset(client):
    rows = client.list("crm.deal.list", filter={">ID": 100, "<ID": 1100, "<=ID": 1050})
    assert ids(rows) == list(range(101, 1051))


def test_empty_result(client):
    assert client.list("crm.deal.list", filter={">ID": 10**9}) == []


def test_many_parallel_chains_agree_with_one(sandbox, client):
    # Force several chains on a small portal: the split must not lose or repeat rows.
    from bitrix_frames import paging

    old = paging.MAX_COMMANDS
    paging.MAX_COMMANDS = 3  # 150 rows per request -> many batches -> several chains
    try:
        rows = client.list("crm.deal.list", select=["ID"])
    finally:
        paging.MAX_COMMANDS = old
    assert ids(rows) == naive_ids(client, select=["ID"])


def test_caller_order_falls_back_to_offset(client):
    rows = client.list("crm.deal.list", select=["ID", "OPPORTUNITY"], order={"OPPORTUNITY": "DESC"})
    values = [float(r["OPPORTUNITY"]) for r in rows]
    assert values == sorted(values, reverse=True)
    assert sorted(ids(rows)) == naive_ids(client, select=["ID"])


def test_unpaged_method(client):
    rows = client.list("crm.status.list", filter={"ENTITY_ID": "DEAL_STAGE"})
    assert rows and all(r["ENTITY_ID"] == "DEAL_STAGE" for r in rows)


def test_user_get_is_unwrapped(client):
    try:
        rows = client.list("user.get")
    except E.AuthError:
        pytest.skip("users are not seeded in this sandbox build")
    assert rows and all("ID" in r for r in rows)


def test_tasks_are_unwrapped(client):
    try:
        rows = client.list("tasks.task.list", select=["ID", "TITLE"])
    except (E.MethodNotFound, E.AuthError):
        pytest.skip("tasks are not served by this sandbox build")
    assert all("id" in r for r in rows)
    assert ids(rows, "id") == sorted(ids(rows, "id"))


def test_progress_bar_reports_rows(client, capsys):
    client.list("crm.deal.list", select=["ID"], progress=True)
    err = capsys.readouterr().err
    assert "rows" in err and "crm.deal.list" in err


def test_bad_arguments_are_refused_before_sending(sandbox, client):
    before = sandbox.stats()["http_requests"]
    with pytest.raises(E.ValidationError, match="filter"):
        client.list("crm.deal.list", filter="nope")  # type: ignore[arg-type]
    with pytest.raises(E.ValidationError, match="select"):
        client.list("crm.deal.list", select="ID")  # type: ignore[arg-type]
    with pytest.raises(E.ValidationError, match="FILTER"):
        client.list("crm.deal.list", params={"FILTER": {">ID": 5}})
    assert sandbox.stats()["http_requests"] == before


def test_portal_errors_in_list_are_raised(client):
    with pytest.raises(E.MethodNotFound):
        client.list("crm.nothing.list")


def test_companions_ride_in_the_first_request(sandbox, client):
    everything = ("crm.deal.list", {"select": ["ID"], "start": 0})
    small = {"CATEGORY_ID": 1, "<=ID": 400}
    expected = naive_ids(client, filter=small, select=["ID"])
    assert 0 < len(expected) <= 2350
    before = sandbox.stats()["http_requests"]
    rows, side = client.list_with(
        "crm.deal.list", {"all": everything, "me": ("user.current", {})}, filter=small
    )
    assert sandbox.stats()["http_requests"] - before == 1
    assert ids(rows) == expected
    assert side.total["all"] == len(naive_ids(client, select=["ID"]))
    assert side["me"]["ID"] == "1"
    with pytest.raises(E.ValidationError, match="companion"):
        client.list_with("crm.deal.list", {f"c{i}": everything for i in range(47)})


class _HoldingRelay:
    """A loopback relay to ``target`` that holds every request reading rows until ``chains``
    of them are in flight together (a barrier, bounded by ``bound`` seconds)."""

    def __init__(self, target: str, chains: int, bound: float = 30.0) -> None:
        self.target, self.barrier = target, threading.Barrier(chains, timeout=bound)
        self.commands: list[list[str]] = []
        self.held_together = 0

    def __call__(self, conn: Connection) -> None:
        names = list((json.loads(conn.request.body or b"{}").get("cmd") or {}).keys())
        self.commands.append(names)
        if any(n.startswith("c") for n in names):
            try:
                self.barrier.wait()
                self.held_together += 1
            except threading.BrokenBarrierError:
                pass
        method = conn.request.line.split()[1].rsplit("/", 1)[-1]
        kind = {"Content-Type": conn.request.headers.get("content-type", "application/json")}
        got = requests.post(self.target + method, data=conn.request.body, headers=kind, timeout=60)
        answer(got.content)(conn)


def test_every_chain_starts_at_once_after_a_cheap_discovery(make_sandbox):
    sb = make_sandbox(8000)
    relay = _HoldingRelay(sb.webhook_url, chains=4)
    secret = sb.webhook_url.rstrip("/").rsplit("/", 1)[-1]
    with (
        HostileServer(relay, max_seconds=60) as hs,
        Client(hs.url(secret), max_workers=4, **FAST) as client,
    ):
        rows = client.list("crm.deal.list", select=["ID", "TITLE"])
    assert relay.commands[0] == ["lo", "hi", "n"]  # the discovery reads no rows
    assert relay.held_together == 4  # all four chains were in flight before any was answered
    assert len(relay.commands) == 1 + 4  # 8,000 dense IDs: one full request per chain
    assert ids(rows) == list(range(1, 8001))
