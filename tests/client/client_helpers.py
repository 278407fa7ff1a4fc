"""Helpers shared by the client tests (a uniquely named module: tests dirs have no __init__)."""

from __future__ import annotations

from sandboxes import FAST  # noqa: F401  (the client tests import it from here)

from bitrix_frames.client import Client


def deal_count(client: Client) -> int:
    return int(client.call_raw("crm.deal.list", {"select": ["ID"], "start": 0})["total"])


def ensure_deals(client: Client, n: int) -> None:
    """Top the portal up to ``n`` deals (the seed may or may not have created some)."""
    missing = n - deal_count(client)
    if missing > 0:
        cmds = {
            f"a{i}": (
                "crm.deal.add",
                {"fields": {"TITLE": f"Deal {i}", "OPPORTUNITY": i % 997, "CATEGORY_ID": 0}},
            )
            for i in range(missing)
        }
        res = client.batch(cmds)
        assert not res.errors


def naive_ids(client: Client, method: str = "crm.deal.list", **params) -> list[int]:
    """Reference read: one plain offset page after the other, following ``next``."""
    ids, start = [], 0
    while True:
        env = client.call_raw(method, {**params, "order": {"ID": "ASC"}, "start": start})
        ids += [int(r["ID"]) for r in env["result"]]
        if "next" not in env:
            return ids
        start = env["next"]
