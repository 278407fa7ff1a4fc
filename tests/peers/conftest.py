"""A seeded sandbox shared by the peer-client oracle tests, plus a reference reader."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from bitrix_frames.sandbox import Sandbox

# Small enough to keep the suite quick, big enough that every list spans several pages.
DEALS = 400


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(deals=DEALS, rate=20, burst=200) as sb:
        yield sb


def unwrap(method: str, result):
    if method == "tasks.task.list":
        return result["tasks"]
    return result


def id_of(row: dict) -> int:
    return int(row.get("ID", row.get("id")))


def reference_ids(url: str, method: str) -> list[int]:
    """Every ID of a list method, read the documented way: offset pages following ``next``."""
    ids: list[int] = []
    start = 0
    order_key = "order"
    params: dict = {order_key: {"ID": "ASC"}, "select": ["ID"]}
    if method == "user.get":
        params = {"sort": "ID", "order": "ASC"}
    while True:
        body = requests.post(url + method, json={**params, "start": start}, timeout=30).json()
        ids += [id_of(r) for r in unwrap(method, body["result"])]
        if "next" not in body:
            return ids
        start = body["next"]


def split_webhook(url: str) -> tuple[str, str]:
    """``http://127.0.0.1:PORT/rest/1/secret/`` -> (``127.0.0.1:PORT``, ``1/secret``)."""
    parts = urlsplit(url)
    return parts.netloc, parts.path.removeprefix("/rest/").strip("/")
