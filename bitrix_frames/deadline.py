"""A hard deadline for one HTTP exchange: connect, request, headers and the whole body.

Socket timeouts bound each read, not the exchange: a server that sends one byte a second never
trips them. Here one watchdog thread holds the deadlines of the exchanges in flight; when one
passes, it shuts the exchange's socket down, so whatever read is blocked (TLS handshake, status
line, headers, body) returns at once and :attr:`Deadline.fired` tells the caller why.

The sockets are found through connection classes that register themselves with the deadline of
the current thread (:func:`running`); :class:`DeadlineAdapter` installs them in every pool
``requests`` creates, direct or through a proxy.

Example::

    adapter = DeadlineAdapter(pool_maxsize=8)
    session.mount("https://", adapter)
    with running(Deadline(30.0)) as d:
        response = session.post(url, data=b"{}", stream=True)
        body = response.raw.read()
    d.fired    # True when the exchange was cut off
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter

_local = threading.local()


class Deadline:
    """The end time of one exchange and the sockets it uses.

    Example::

        d = Deadline(5.0)
        d.remaining()   # seconds left, never below 0
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.at = time.monotonic() + self.seconds
        self.fired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.at

    def watch(self, sock: socket.socket | None) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it already has)."""
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock)
            late = self.fired
        if late:
            _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def finish(self) -> None:
        """The exchange is over: never touch its sockets again (they may go back to the pool)."""
        with self._lock:
            self._done = True
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the latter also drops the TLS object under
    # the feet of the thread reading from it; shutting the descriptor down is enough to wake it.
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread firing deadlines in time order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._count = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._count), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="bitrix-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, deadline = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not deadline._done:
                deadline.fire()


_watchdog = _Watchdog()


@contextlib.contextmanager
def running(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the current thread's for the connections used inside the block."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = deadline
    _watchdog.add(deadline)
    try:
        yield deadline
    finally:
        _local.deadline = previous
        deadline.finish()


def _current() -> Deadline | None:
    return getattr(_local, "deadline", None)


_connection_classes: dict[type, type] = {}
_pool_classes: dict[type, type] = {}


def _watched_connection(base: type) -> type:
    """``base`` (a urllib3 connection class) whose sockets join the current deadline."""
    if base not in _connection_classes:

        class Watched(base):  # type: ignore[valid-type, misc]
            def _new_conn(self) -> Any:  # the raw TCP socket: covers tunnel and TLS handshake
                sock = super()._new_conn()
                deadline = _current()
                if deadline is not None:
                    deadline.watch(sock)
                return sock

            def connect(self) -> None:
                super().connect()
                deadline = _current()
                if deadline is not None:
                    deadline.watch(self.sock)

            def request(self, *args: Any, **kwargs: Any) -> None:
                deadline = _current()
                if deadline is not None and self.sock is not None:  # a kept-alive connection
                    deadline.watch(self.sock)
                super().request(*args, **kwargs)

        Watched.__name__ = Watched.__qualname__ = f"Deadline{base.__name__}"
        _connection_classes[base] = Watched
    return _connection_classes[base]


def _watched_pool(base: type[Any]) -> type:
    if base not in _pool_classes:
        _pool_classes[base] = type(
            f"Deadline{base.__name__}",
            (base,),
            {"ConnectionCls": _watched_connection(base.ConnectionCls)},
        )
    return _pool_classes[base]


def _install(manager: Any) -> Any:
    manager.pool_classes_by_scheme = {
        scheme: _watched_pool(cls) for scheme, cls in manager.pool_classes_by_scheme.items()
    }
    return manager


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections (direct, via HTTP/HTTPS or SOCKS proxies) obey the
    current thread's :class:`Deadline`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _install(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        known = proxy in self.proxy_manager
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        return manager if known else _install(manager)
