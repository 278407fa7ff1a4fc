"""Suite-wide guards on client-side pacing.

* Every test starts with no shared pacing state: the per-portal request counters of
  :mod:`bitrix_frames.throttle` are forgotten, so a sandbox that reuses a loopback port (and the
  sandbox's fixed secret) never inherits the level of an earlier test's sandbox.
* ``make_sandbox(size, **config)`` starts a sandbox of a named size (:data:`sandboxes.SIZES`,
  rate limits off by default) and stops it after the test.
* A test that waits on limits says so in its name: a pause the Client announces (see
  :mod:`bitrix_frames.waits`) for the request rate or the operating time fails a test whose name
  lacks "wait"; a random back-off after a fault only warns.
"""

from __future__ import annotations

import logging
import warnings

import pytest
import sandboxes

import bitrix_frames.accessor  # noqa: F401  (df.bitrix, as bf.connect() registers it for users)
from bitrix_frames import throttle

_PACED = {"request rate", "operating-time slow-down", "429 operating reset"}


class _Waits(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[tuple[str, float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        reason = getattr(record, "wait_reason", None)
        if reason is not None:
            self.seen.append((reason, record.wait_seconds, record.wait_method))


@pytest.fixture(autouse=True)
def _isolated_pacing(request):
    throttle.forget()
    handler = _Waits()
    logger = logging.getLogger("bitrix_frames")
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        throttle.forget()
    if handler.seen and "wait" not in request.node.name:
        text = ", ".join(f"{s:.0f} s {r} ({m})" for r, s, m in handler.seen)
        if any(r in _PACED for r, _, _ in handler.seen):
            pytest.fail(f"the test waited on limits ({text}); say so in its name", pytrace=False)
        warnings.warn(f"the test waited: {text}", stacklevel=1)


@pytest.fixture
def make_sandbox():
    """Factory of sandboxes stopped after the test: ``make_sandbox("small", faults=...)``."""
    started = []

    def make(size: str | int = "tiny", **config):
        sb = sandboxes.start(size, **config)
        started.append(sb)
        return sb

    yield make
    for sb in reversed(started):
        sb.stop()
