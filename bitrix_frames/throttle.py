"""Client-side pacing: the portal's request counter, a leaky bucket per Client, operating time.

The rule (also in ``docs/loading.md``, "Rate limits"):

* **Settings are per Client.** The ``rate`` and ``burst`` given to ``connect()`` / ``Client()`` are
  the ones that Client paces with, whatever other Clients of the same portal were given before.
* **The level is per portal.** Every open Client of the same webhook in this process shares one
  :class:`PortalCounter`: the estimate of the portal's request counter (PROTOCOL §5: +1 per HTTP
  request, drains at ``rate`` per second, refused above ``burst``). Each Client reads that level
  through its own settings: it drains at its own rate and counts at most its own burst plus the
  requests queued right now, so a level left by a Client with other settings (or by an old refusal)
  never holds a Client longer than its own full bucket would (``burst / rate`` seconds).
* The shared level lives while a Client of that portal is open; closing the last one (or
  :func:`forget`) drops it.

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
import weakref
from collections import deque
from collections.abc import Callable

from .errors import ValidationError

_MARGIN = 2.0  # tokens kept in reserve for clock skew between us and the portal
_RESET_SLACK = 1.0  # operating_reset_at is an integer: the bucket may expire up to 1 s later


class PortalCounter:
    """What the portal's request counter holds, as far as this process knows (shared state)."""

    def __init__(self, level: float = 0.0) -> None:
        self.level = float(level)
        self.stamp = time.monotonic()
        self.queued = 0
        """Requests reserved and now sleeping until they fit (already counted in ``level``)."""
        self.lock = threading.Lock()

    def drain(self, now: float, rate: float) -> None:
        self.level = max(0.0, self.level - (now - self.stamp) * rate)
        self.stamp = now


class LeakyBucket:
    """Thread-safe leaky bucket: ``acquire()`` blocks until one more request fits.

    ``rate`` and ``burst`` are this bucket's own settings; ``counter`` is the level it shares with
    the other buckets of the same portal (a private one when omitted).
    """

    def __init__(
        self, rate: float = 2.0, burst: float = 50.0, counter: PortalCounter | None = None
    ) -> None:
        if not rate > 0:
            raise ValidationError(f"rate must be a positive number of requests per second: {rate}")
        if not burst >= 0:
            raise ValidationError(f"burst must be zero or more requests: {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self.counter = counter if counter is not None else PortalCounter()

    @property
    def capacity(self) -> float:
        """Requests let through at once: the burst less a small safety margin."""
        return max(1.0, self.burst - _MARGIN)

    def _read(self, c: PortalCounter, now: float) -> None:
        """Bring the shared level up to ``now`` as this bucket sees it (caller holds the lock)."""
        c.drain(now, self.rate)
        # The portal refuses above its burst, so a higher level was left by a Client with a larger
        # burst or a refusal: count at most my own full bucket plus what is queued right now.
        c.level = min(c.level, self.burst + c.queued)

    def acquire(self, sleep: Callable[[float], None] | None = None) -> float:
        """Reserve one request; waits (``sleep``, default ``time.sleep``) as needed.
        Returns the seconds waited."""
        c = self.counter
        with c.lock:
            self._read(c, time.monotonic())
            # Reserve now, sleep outside the lock: later callers queue behind this reservation.
            wait = max(0.0, (c.level + 1.0 - self.capacity) / self.rate)
            c.level += 1.0
            if wait > 0:
                c.queued += 1
        if wait > 0:
            try:
                (sleep or time.sleep)(wait)
            finally:
                with c.lock:
                    c.queued -= 1
        return wait

    def refused(self) -> None:
        """The portal said QUERY_LIMIT_EXCEEDED: assume its counter is full."""
        c = self.counter
        with c.lock:
            self._read(c, time.monotonic())
            c.level = max(c.level, self.burst)

    @property
    def level(self) -> float:
        """Current estimated counter, as this bucket sees it."""
        c = self.counter
        with c.lock:
            self._read(c, time.monotonic())
            return c.level

    def next_wait(self) -> float:
        """Seconds the next request would wait right now."""
        return max(0.0, (self.level + 1.0 - self.capacity) / self.rate)

    def detach(self) -> None:
        """Stop sharing: keep a private copy of the level (a closed Client keeps no portal state)."""
        self.counter = PortalCounter(self.level)


_registry: weakref.WeakValueDictionary[str, PortalCounter] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()


def shared_counter(key: str) -> PortalCounter:
    """The request counter of webhook ``key`` shared by the buckets that hold it."""
    with _registry_lock:
        counter = _registry.get(key)
        if counter is None:
            counter = _registry[key] = PortalCounter()
        return counter


def shared_bucket(key: str, rate: float = 2.0, burst: float = 50.0) -> LeakyBucket:
    """A bucket with these settings on the shared counter of webhook ``key``.

    Example::

        >>> a = shared_bucket("hook", rate=0.5)
        >>> b = shared_bucket("hook", rate=5)
        >>> (a.rate, b.rate, a.counter is b.counter)
        (0.5, 5.0, True)
    """
    return LeakyBucket(rate, burst, shared_counter(key))


def forget(key: str | None = None) -> None:
    """Drop the shared counter of ``key`` (every key when None); open buckets keep their own copy."""
    with _registry_lock:
        if key is None:
            _registry.clear()
        else:
            _registry.pop(key, None)


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

    def methods(self) -> list[str]:
        """Every method seen so far (direct calls and batch sub-calls), sorted."""
        with self._lock:
            return sorted(set(self._reported) | set(self._local))

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
