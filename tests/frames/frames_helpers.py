"""Sample payload access shared by the frames tests (a uniquely named module, not ``conftest``:
``from conftest import ...`` picks whichever conftest pytest loaded last when several test folders
are given on the command line)."""

from __future__ import annotations

import json

import pytest
from samples import SAMPLES


def sample(name: str):
    """``result`` of a documented sample payload."""
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {name} not available")
    return json.loads(path.read_text())["result"]
