"""Visible waits: every pause of a Client longer than :data:`VISIBLE` seconds is announced.

A Client pauses for four reasons: its request-rate bucket is full (``request rate``), the portal
refused a request (``503 back-off``), a method ran out of operating time (``429 operating reset``)
or is close to it (``operating-time slow-down``); other failures back off too (``retry back-off``).
A pause of :data:`VISIBLE` seconds or more is

* logged once at INFO on the ``bitrix_frames`` logger, with the reason, the seconds, the method
  and the masked portal URL (never the secret); the record also carries ``wait_reason``,
  ``wait_seconds`` and ``wait_method`` attributes;
* shown, counting down once a second, by every listener of the Client: the progress bar of a
  running ``list`` / load / ``plan.apply`` puts it in its status (postfix).

Example::

    >>> import logging
    >>> logging.basicConfig(level=logging.INFO)  # doctest: +SKIP
    >>> # INFO:bitrix_frames:waiting 24 s before crm.deal.list: request rate (bucket of 50 ...
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

VISIBLE = 2.0
"""Pauses at least this long (seconds) are logged and shown; shorter ones pass silently."""

log = logging.getLogger("bitrix_frames")


@dataclass(frozen=True)
class Wait:
    """One announced pause."""

    reason: str
    """``request rate``, ``503 back-off``, ``429 operating reset``, ``operating-time slow-down``
    or ``retry back-off``."""
    seconds: float
    method: str
    detail: str = ""
    """Why, in numbers (e.g. ``bucket of 50 at 2/s``); never holds the webhook."""

    def status(self, left: float) -> str:
        """The progress-bar text: ``waiting 12 s: request rate (crm.deal.list)``."""
        return f"waiting {max(0.0, left):.0f} s: {self.reason} ({self.method})"


Listener = Callable[[Wait | None, float], None]
"""Called with the longest running wait and its seconds left, or ``(None, 0)`` when none is left."""


class Waiter:
    """Sleeps on behalf of one Client and announces the long sleeps (thread-safe).

    Example::

        >>> waiter = Waiter("https://x.bitrix24.com/rest/1/***/")
        >>> waiter.sleep(0.01, "retry back-off", "crm.deal.list")   # short: silent
    """

    def __init__(self, portal: str) -> None:
        self.portal = portal
        """The masked portal URL shown in log lines."""
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._active: dict[int, tuple[Wait, float]] = {}  # thread id -> (wait, monotonic end)

    @contextlib.contextmanager
    def listen(self, listener: Listener) -> Iterator[None]:
        """Call ``listener`` on every announced wait while the block runs."""
        with self._lock:
            self._listeners.append(listener)
        try:
            yield
        finally:
            with self._lock:
                self._listeners.remove(listener)

    def sleep(self, seconds: float, reason: str, method: str, detail: str = "") -> None:
        """Sleep ``seconds``; at :data:`VISIBLE` seconds or more, log and show why."""
        if seconds <= 0:
            return
        if seconds < VISIBLE:
            time.sleep(seconds)
            return
        wait = Wait(reason, float(seconds), method, detail)
        log.info(
            "waiting %.0f s before %s: %s%s on %s",
            seconds,
            method,
            reason,
            f" ({detail})" if detail else "",
            self.portal,
            extra={"wait_reason": reason, "wait_seconds": float(seconds), "wait_method": method},
        )
        me = threading.get_ident()
        end = time.monotonic() + seconds
        with self._lock:
            self._active[me] = (wait, end)
        try:
            while (left := end - time.monotonic()) > 0:
                self._notify()
                time.sleep(min(1.0, left))
        finally:
            with self._lock:
                self._active.pop(me, None)
            self._notify()

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
            longest = max(self._active.values(), key=lambda a: a[1], default=None)
        if not listeners:
            return
        now = time.monotonic()
        wait, left = (longest[0], longest[1] - now) if longest else (None, 0.0)
        for listener in listeners:
            listener(wait, left)
