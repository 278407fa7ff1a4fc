"""Thread-safe counters of what the sandbox did (served at ``/_sandbox/<secret>/stats``).

Example::

    >>> s = Stats()
    >>> s.call("crm.deal.list", operating=0.5, returned=50, counted=300, skipped=0)
    >>> s.snapshot()["sub_calls"]
    {'crm.deal.list': 1}
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from typing import Any


class Stats:
    """Counters for HTTP requests, refusals, method calls, operating time, rows, faults and errors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._late_pending = 0  # not zeroed by reset(): those requests are still on their way
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._http_requests = 0
            self._refused_rate_limit = 0
            self._refused_operating = 0
            self._sub_calls: Counter[str] = Counter()
            self._operating: Counter[str] = Counter()
            self._rows = {"returned": 0, "counted": 0, "skipped": 0}
            self._faults: Counter[str] = Counter()
            self._errors: Counter[str] = Counter()
            self._cut_off = 0
            self._refused_connections = 0

    def http_request(self) -> None:
        """One HTTP request reached ``/rest/``."""
        with self._lock:
            self._http_requests += 1

    def refused_rate_limit(self) -> None:
        """A request was refused by the leaky bucket (503)."""
        with self._lock:
            self._refused_rate_limit += 1

    def refused_operating(self) -> None:
        """A (sub-)call was refused by the operating-time limit (429)."""
        with self._lock:
            self._refused_operating += 1

    def call(
        self, method: str, *, operating: float, returned: int, counted: int, skipped: int
    ) -> None:
        """A method (top-level or batch sub-call) was executed."""
        with self._lock:
            self._sub_calls[method] += 1
            self._operating[method] += operating  # type: ignore[assignment]
            self._rows["returned"] += returned
            self._rows["counted"] += counted
            self._rows["skipped"] += skipped

    def fault(self, kind: str) -> None:
        """A fault of ``kind`` was injected."""
        with self._lock:
            self._faults[kind] += 1

    def late_started(self) -> None:
        """A ``late`` request began its wait; it is pending until :meth:`late_finished`."""
        with self._lock:
            self._late_pending += 1

    def late_finished(self) -> None:
        """A ``late`` request has executed (or was abandoned); wakes :meth:`wait_idle`."""
        with self._lock:
            self._late_pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no ``late`` execution is pending; False when ``timeout`` passed first."""
        with self._lock:
            return self._idle.wait_for(lambda: self._late_pending == 0, timeout)

    def cut_off(self) -> None:
        """A request reached its ``request_time_limit`` before (all of) it could execute."""
        with self._lock:
            self._cut_off += 1

    def refused_connection(self) -> None:
        """A connection was refused because ``max_connections`` were already being served."""
        with self._lock:
            self._refused_connections += 1

    def error(self, code: str) -> None:
        """An error body with ``code`` was produced (top-level or inside a batch)."""
        with self._lock:
            self._errors[code] += 1

    def snapshot(self) -> dict[str, Any]:
        """A plain, JSON-ready copy of every counter."""
        with self._lock:
            return copy.deepcopy(
                {
                    "http_requests": self._http_requests,
                    "refused_rate_limit": self._refused_rate_limit,
                    "refused_operating": self._refused_operating,
                    "sub_calls": dict(self._sub_calls),
                    "sub_calls_total": sum(self._sub_calls.values()),
                    "operating_seconds": dict(self._operating),
                    "operating_seconds_total": sum(self._operating.values()),
                    "rows_returned": self._rows["returned"],
                    "rows_counted": self._rows["counted"],
                    "rows_skipped": self._rows["skipped"],
                    "faults": dict(self._faults),
                    "errors": dict(self._errors),
                    "late_pending": self._late_pending,
                    "cut_off": self._cut_off,
                    "refused_connections": self._refused_connections,
                }
            )
