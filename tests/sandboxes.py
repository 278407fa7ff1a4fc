"""Sandbox sizes and client settings shared by the whole suite (the root conftest's factory).

Example::

    def test_something(make_sandbox):
        sb = make_sandbox("small", faults={"lost": 1.0})      # stopped after the test
        with Client(sb.webhook_url, **FAST) as client: ...
"""

from __future__ import annotations

from typing import Any

from bitrix_frames.sandbox import Sandbox

SIZES: dict[str, int] = {"empty": 0, "tiny": 5, "small": 60, "medium": 200, "large": 1200}
"""Deals seeded per named size (leads, contacts, companies and tasks scale with them)."""

FAST: dict[str, float] = {"rate": 1000.0, "burst": 1000.0}
"""Client pacing for sandboxes started with ``limits=False``."""


def start(size: str | int = "tiny", **config: Any) -> Sandbox:
    """A started Sandbox of a named size (or a number of deals); rate limits off unless
    ``limits=True`` or a ``rate``/``burst`` is given. The caller stops it."""
    deals = SIZES[size] if isinstance(size, str) else int(size)
    if not {"rate", "burst"} & config.keys():
        config.setdefault("limits", False)
    return Sandbox(deals=deals, **config).start()
