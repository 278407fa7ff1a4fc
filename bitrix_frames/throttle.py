"""Client-side pacing: a leaky bucket per webhook and an operating-time watch per method.

:class:`LeakyBucket` mirrors the portal's request counter (PROTOCOL §5: +1 per HTTP request,
drains at ``rate`` per second, refused above ``burst``) and makes callers wait *before* the portal
would refuse them. One bucket is shared by every thread of a Client and, through
:func:`shared_bucket`, by every Client of the same webhook in the process.

:class:`OperatingWatch` remembers ``time.operating`` / ``operating_reset_at`` per method and
slows a method down once it has used most of its operating-time budget (default: above 80% of
480 s), so the portal never has to answer 429.

Example::

    bucket = shared_bucket("webhook-key", rate=2, burst=50)
    bucket.acquire()          # returns at once while the burst lasts, then paces at 2/s
"""

from __future__ import annotations

import threading
import time
from collections import deque

_MARGIN = 2.0  # tokens kept in reserve for clock skew between us and the portal
_RESET_SLACK = 1.0  # operating_reset_at is an integer: the bucket may expire up to 1 s later


class LeakyBucket:
    """Thread-safe leaky bucket: ``acquire()`` blocks until one more request fits."""

    def __init__(self, rate: float = 2.0, burst: float = 50.0) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self._level = 0.0
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def _drain(self, now: float) -> None:
        self._level = max(0.0, self._level - (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> float:
        """Reserve one request; sleeps as needed. Returns the seconds waited."""
        capacity = max(1.0, self.burst - _MARGIN)
        with self._lock:
            now = time.monotonic()
            self._drain(now)
            # Reserve now, sleep outside the lock: later callers queue behind this reservation.
            wait = max(0.0, (self._level + 1.0 - capacity) / self.rate)
            self._level += 1.0
        if wait > 0:
            time.sleep(wait)
        return wait

    def refused(self) -> None:
        """The portal said QUERY_LIMIT_EXCEEDED: assume its counter is full."""
        with self._lock:
            self._drain(time.monotonic())
            self._level = max(self._level, self.burst)

    @property
    def level(self) -> float:
        """Current estimated counter (for diagnostics)."""
        with self._lock:
            self._drain(time.monotonic())
            return self._level


_registry: dict[str, LeakyBucket] = {}
_registry_lock = threading.Lock()


def shared_bucket(key: str, rate: float = 2.0, burst: float = 50.0) -> LeakyBucket:
    """The process-wide bucket of webhook ``key``; conflicting settings keep the stricter ones."""
    with _registry_lock:
        bucket = _registry.get(key)
        if bucket is None:
            bucket = _registry[key] = LeakyBucket(rate, burst)
        else:
            bucket.rate = min(bucket.rate, float(rate))
            bucket.burst = min(bucket.burst, float(burst))
        return bucket


class OperatingWatch:
    """Operating seconds per method: last reported by the portal plus a local rolling estimate.

    Direct calls report ``time.operating`` (authoritative). Batch sub-calls only report their
    ``processing`` time, so those are summed locally over the rolling window.
    """

    def __init__(self, limit: float = 480.0, window: float = 600.0, slow_at: float = 0.8) -> None:
        self.limit = limit
        self.window = window
        self.slow_at = slow_at
        self._lock = threading.Lock()
        self._reported: dict[
            str, tuple[float, float, float]
        ] = {}  # method -> (operating, reset_at, seen_at)
        self._local: dict[str, deque[tuple[float, float]]] = {}
        self.time: dict[str, dict] = {}
        """The last ``time`` block seen per method."""

    def report(self, method: str, time_block: dict | None) -> None:
        """Record the ``time`` block of a successful direct call."""
        if not isinstance(time_block, dict):
            return
        method = method.lower()
        with self._lock:
            self.time[method] = time_block
            if "operating" in time_block:
                reset_at = float(time_block.get("operating_reset_at") or 0.0)
                self._reported[method] = (float(time_block["operating"]), reset_at, time.time())

    def add_local(self, method: str, seconds: float) -> None:
        """Add the processing time of one batch sub-call."""
        now = time.time()
        with self._lock:
            q = self._local.setdefault(method.lower(), deque())
            q.append((now, float(seconds)))
            while q and q[0][0] < now - self.window:
                q.popleft()

    def operating(self, method: str) -> float:
        """Best estimate of ``method``'s operating seconds in the current window."""
        method = method.lower()
        now = time.time()
        with self._lock:
            local = sum(s for t, s in self._local.get(method, ()) if t >= now - self.window)
            op, reset_at, seen = self._reported.get(method, (0.0, 0.0, 0.0))
            if reset_at and now > reset_at + _RESET_SLACK:  # the oldest bucket expired: stale
                op = 0.0
            return max(op, local)

    def reset_at(self, method: str) -> float | None:
        """Unix time when ``method``'s oldest operating bucket expires, if the portal said."""
        rec = self._reported.get(method.lower())
        return rec[1] if rec and rec[1] else None

    def delay(self, method: str) -> float:
        """Seconds to wait before calling ``method`` so its budget is not exhausted."""
        op = self.operating(method)
        start = self.slow_at * self.limit
        if op <= start:
            return 0.0
        reset = self.reset_at(method)
        until_reset = max(0.0, reset + _RESET_SLACK - time.time()) if reset else 60.0
        # Linear ramp from no delay at 80% to waiting out the reset at 100%.
        share = min(1.0, (op - start) / max(1e-9, self.limit - start))
        return share * until_reset
