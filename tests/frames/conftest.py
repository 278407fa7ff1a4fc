"""Fixtures: documented sample payloads and a live sandbox with the real Client (no mocked HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.schema import Dictionaries

SAMPLES = Path("/work/shared/bitrix24/samples")
if not SAMPLES.exists():  # a copy may live next to the repository
    SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def sample(name: str):
    """``result`` of a documented sample payload."""
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {name} not available")
    return json.loads(path.read_text())["result"]


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
