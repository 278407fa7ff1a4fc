"""Fixtures: the shared hand-made typed frames; figures closed after each test."""

import matplotlib.pyplot as plt
import pytest
from typed_frames import deals, history  # noqa: F401  (pytest fixtures)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
