"""Fixtures: documented sample payloads and a live sandbox with the real Client (no mocked HTTP)."""

from __future__ import annotations

import pytest
from frames_helpers import sample

from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.schema import Dictionaries


@pytest.fixture(scope="session")
def dicts() -> Dictionaries:
    return Dictionaries(
        statuses=sample("crm.status.list.response.json")
        + sample("crm.status.list.DEAL_STAGE_10.response.json")
        + sample("crm.status.list.STATUS.abridged.response.json"),
        pipelines=sample("crm.category.list.response.json")["categories"],
        currencies=sample("crm.currency.list.response.json"),
        userfields=sample("crm.lead.userfield.list.response.json"),
        users={1: "Vadim Valeev", 3: "John Smith", 6: "Anna Six"},
    )


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(deals=200, limits=False) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    with Client(sandbox.webhook_url, rate=1000.0, burst=1000.0) as c:
        yield c
