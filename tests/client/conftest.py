"""Fixtures: live sandboxes on loopback (no mocked HTTP) and clients pointed at them."""

from __future__ import annotations

import pytest
from client_helpers import FAST, ensure_deals

from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(deals=1200, limits=False) as sb:
        ensure_deals(Client(sb.webhook_url, **FAST), 1200)
        yield sb


@pytest.fixture
def client(sandbox):
    with Client(sandbox.webhook_url, **FAST) as c:
        yield c
