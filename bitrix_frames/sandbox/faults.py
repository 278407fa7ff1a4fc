"""Seeded fault injection for ``/rest/`` requests.

Each request draws one number from a seeded RNG; the fractions of ``config.faults`` are laid end
to end in a fixed order (refused, error, drop, lost, slow), so a fault kind is chosen with its
configured probability and the sequence is reproducible for a given seed and request order.

- ``refused``: 503 ``QUERY_LIMIT_EXCEEDED`` before execution (safe to retry);
- ``error``:   500 ``INTERNAL_SERVER_ERROR`` before execution;
- ``drop``:    the connection is closed without a response, before execution;
- ``lost``:    the call executes (writes happen), then the connection is closed without a response;
- ``slow``:    the answer is delayed by ``config.slow_seconds``;
- ``late``:    the server holds the connection for ``config.late_seconds`` without answering, then
  executes the call (writes happen even when the client has given up meanwhile), then closes the
  connection without a response: a client whose read timeout is shorter sees a timeout and the write
  lands after it (the real portal's late execution). ``Sandbox.wait_idle()`` waits for them.

Example::

    >>> faults = FaultInjector({"lost": 1.0}, seed=0)
    >>> faults.draw()
    'lost'
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping

KINDS = ("refused", "error", "drop", "lost", "slow", "late")
"""Fault kinds, in draw order (new kinds go last so that old seeds keep their sequences)."""


class FaultInjector:
    """Pick the fault (or None) of each request from the configured fractions."""

    def __init__(self, fractions: Mapping[str, float] | None, seed: int = 0) -> None:
        unknown = set(fractions or {}) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        self.fractions = {kind: float((fractions or {}).get(kind, 0.0)) for kind in KINDS}
        if sum(self.fractions.values()) > 1.0 + 1e-9:
            raise ValueError("fault fractions add up to more than 1")
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any(self.fractions.values())

    def draw(self) -> str | None:
        """The fault kind for the next request, or None for a normal answer."""
        if not self.active:
            return None
        with self._lock:
            roll = self._rng.random()
        edge = 0.0
        for kind in KINDS:
            edge += self.fractions[kind]
            if roll < edge:
                return kind
        return None
