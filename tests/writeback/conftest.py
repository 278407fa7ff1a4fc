"""Fixtures: live sandboxes on loopback (no mocked HTTP) and clients pointed at them."""

from __future__ import annotations

import pytest
from wb_helpers import client as make_client

from bitrix_frames.sandbox.sandbox import Sandbox


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    """Journals go to a per-test cache directory."""
    monkeypatch.setenv("BITRIX_FRAMES_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(deals=120, limits=False) as sb:
        yield sb


@pytest.fixture
def client(sandbox):
    with make_client(sandbox) as c:
        yield c
