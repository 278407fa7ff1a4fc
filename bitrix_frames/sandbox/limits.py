"""The two Bitrix24 cloud limits (PROTOCOL §5): a leaky bucket per webhook and operating time
per (method, webhook) in one-minute buckets over a rolling window.

Example::

    >>> bucket = LeakyBucket(rate=2, burst=1)
    >>> [bucket.admit("hook", now=0.0) for _ in range(3)]
    [True, True, False]
    >>> clock = OperatingClock(limit=1.0, window=600)
    >>> clock.add("crm.deal.list", "hook", 1.5, now=0.0)
    >>> clock.over_limit("crm.deal.list", "hook", now=1.0), clock.over_limit("user.get", "hook", now=1.0)
    (True, False)
"""

from __future__ import annotations

import threading
import time
from collections import deque

from .api import ApiError


def operation_time_limit() -> ApiError:
    """The 429 refusal of a method whose operating time is over the limit."""
    return ApiError("Method is blocked due to operation time limit.", "OPERATION_TIME_LIMIT", 429)


def query_limit_exceeded() -> ApiError:
    """The 503 refusal of the leaky bucket."""
    return ApiError("Too many requests", "QUERY_LIMIT_EXCEEDED", 503)


class LeakyBucket:
    """Request-rate limit: every request adds 1, the counter drains at ``rate`` per second, and a
    request is refused when the counter *before* adding it exceeds ``burst``. Refused requests add
    nothing, so a client that backs off recovers at the drain rate."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def admit(self, key: str, now: float | None = None) -> bool:
        """Count one request for ``key``; False when it must be refused."""
        now = time.monotonic() if now is None else now
        with self._lock:
            counter, last = self._state.get(key, (0.0, now))
            counter = max(0.0, counter - self.rate * max(0.0, now - last))
            if counter > self.burst:
                self._state[key] = (counter, now)
                return False
            self._state[key] = (counter + 1.0, now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._state.clear()


class OperatingClock:
    """Execution seconds per (method, credential) in ten buckets covering ``window`` seconds.

    A bucket opens with the first call after the previous one is ``window / 10`` old and expires
    ``window`` seconds after it opened; ``reset_at`` is when the oldest live bucket expires.
    """

    def __init__(self, limit: float, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], deque[list[float]]] = {}

    def _live(self, method: str, key: str, now: float) -> deque[list[float]]:
        buckets = self._buckets.setdefault((method, key), deque())
        while buckets and now - buckets[0][0] >= self.window:
            buckets.popleft()
        return buckets

    def add(self, method: str, key: str, seconds: float, now: float | None = None) -> None:
        """Account ``seconds`` of execution of ``method`` to ``key``."""
        now = time.time() if now is None else now
        with self._lock:
            buckets = self._live(method, key, now)
            if buckets and now - buckets[-1][0] < self.window / 10:
                buckets[-1][1] += seconds
            else:
                buckets.append([now, seconds])

    def used(self, method: str, key: str, now: float | None = None) -> tuple[float, int | None]:
        """``(operating seconds, operating_reset_at)`` of ``method`` for ``key`` right now."""
        now = time.time() if now is None else now
        with self._lock:
            buckets = self._live(method, key, now)
            if not buckets:
                return 0.0, None
            return sum(b[1] for b in buckets), int(buckets[0][0] + self.window)

    def over_limit(self, method: str, key: str, now: float | None = None) -> bool:
        """True when ``method`` has already used more than the limit (the call must get 429)."""
        return self.used(method, key, now)[0] > self.limit

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
