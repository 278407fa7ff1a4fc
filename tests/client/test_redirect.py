"""A same-origin 302 is followed by re-POSTing the same JSON body to Location (PROTOCOL §1), for
that call only; redirects to other origins are refused (tests/client/test_hostile_server.py)."""

from __future__ import annotations

from client_helpers import FAST

from bitrix_frames.client import Client


def test_302_is_followed_with_the_same_post_body(sandbox):
    moved = f"{sandbox.base_url}/_moved/rest/{sandbox.config.user_id}/{sandbox.config.secret}/"
    c = Client(moved, **FAST)
    assert "/_moved/" in c.masked_url
    env = c.call_raw("crm.deal.list", filter={"<=ID": 3}, select=["ID"], order={"ID": "DESC"})
    # a GET without the body would have lost filter, select and order
    assert [r["ID"] for r in env["result"]] == ["3", "2", "1"]
    assert set(env["result"][0]) == {"ID"}
    # followed for that call only: the client's target never changes behind the user's back
    assert "/_moved/" in c.masked_url
    res = c.batch({"a": ("crm.deal.get", {"id": 2})})
    assert res.result["a"]["ID"] == "2"
    assert c.counters["http_requests"] == 2


def test_redirect_of_a_batch_keeps_its_commands(sandbox):
    moved = f"{sandbox.base_url}/_moved/rest/{sandbox.config.user_id}/{sandbox.config.secret}/"
    res = Client(moved, **FAST).batch({f"g{i}": ("crm.deal.get", {"id": i + 1}) for i in range(5)})
    assert [res.result[f"g{i}"]["ID"] for i in range(5)] == ["1", "2", "3", "4", "5"]
