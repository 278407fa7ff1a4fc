"""Fixtures: the shared hand-made typed frames, and the demo portal's frames (default seed)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import sandboxes
from typed_frames import deals, history, leads, rates, tasks  # noqa: F401  (pytest fixtures)

import bitrix_frames as bf
from bitrix_frames import reports


@pytest.fixture(scope="module")
def demo_portal():
    """The default Sandbox seed (the demo portal, 300 deals) and its loaded frames, per module.

    Yields ``(portal, frames)``; ``frames`` holds deals, leads, tasks, users, rates and the deal
    and lead stage histories.
    """
    sb = sandboxes.start(300)
    try:
        with bf.connect(sb.webhook_url, **sandboxes.FAST) as portal:
            frames = {
                "deals": portal.deals(),
                "leads": portal.leads(),
                "tasks": portal.tasks(),
                "users": portal.users(),
                "rates": reports.Rates.from_portal(portal),
                "history": portal.stage_history("deal"),
                "lead_history": portal.stage_history("lead"),
            }
            yield portal, frames
    finally:
        sb.stop()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
