"""A bound on decoded responses that wait for their consumer: the :class:`DecodeGate`.

A streamed read (:func:`~bitrix_frames.paging.list_rows` with a ``sink``) runs several keyset
chains in threads. A response of 2,500 wide rows is ~3 MB of JSON but ~10 MB once decoded into
Python objects, and the sink converts one response at a time: without a bound, every chain could
hold a decoded response while it waits for the sink. The gate lets a thread decode a body only
while it holds one of ``permits`` permits, and the thread keeps it until its rows were handed to
the sink. The raw bytes of the other responses wait undecoded, so the network I/O stays parallel.

How it travels: the reader passes the gate explicitly,
``Client.batch_chunk(chunk, gate=g)`` -> ``Client._request`` -> ``Transport.post(..., gate=g)``;
the transport calls :meth:`enter` just before it parses a body. The contract of every layer:
it returns with the calling thread holding the gate (a body was decoded), or raises with the gate
released, and it releases before any retry pause. The reader :meth:`leave`\\ s once its rows are
with the sink (and in a ``finally``, whatever happened). :meth:`leave` is idempotent and
:meth:`enter` re-entrant per thread, so a path that releases twice or decodes twice in one
thread can neither over-release nor deadlock itself. Reads without a sink pass no gate.

Example::

    gate = DecodeGate(1)
    try:
        res = client.batch_chunk(commands, gate=gate)   # returns holding the gate
        sink(rows_of(res))
    finally:
        gate.leave()
    gate.peak    # 1: most decoded-unconsumed responses at once
"""

from __future__ import annotations

import threading

SINK_PERMITS = 1
"""Permits of the gate of a streamed read. Measured (docs/performance.md, "The decode gate"):
a second permit bought no wall time (orjson decodes holding the GIL) and cost peak memory."""


class DecodeGate:
    """At most ``permits`` threads hold a decoded response not yet handed on.

    Counters (for tests and benches): ``held`` now, ``peak`` the most held at once, ``entries``
    how many decodes passed the gate, ``waited`` how many of them found it full and waited.
    """

    def __init__(self, permits: int = SINK_PERMITS) -> None:
        if permits < 1:
            raise ValueError(f"a gate needs at least one permit, not {permits}")
        self.permits = permits
        self._slots = threading.Semaphore(permits)
        self._mine = threading.local()
        self._lock = threading.Lock()
        self.held = self.peak = self.entries = self.waited = 0

    def holding(self) -> bool:
        """Whether the calling thread holds a permit."""
        return getattr(self._mine, "held", False)

    def enter(self) -> None:
        """Take a permit for the calling thread (wait for one); no-op if it holds one already."""
        if self.holding():
            return
        if not self._slots.acquire(blocking=False):
            with self._lock:
                self.waited += 1
            self._slots.acquire()
        self._mine.held = True
        with self._lock:
            self.held += 1
            self.entries += 1
            self.peak = max(self.peak, self.held)

    def leave(self) -> None:
        """Give the calling thread's permit back; no-op if it holds none."""
        if not self.holding():
            return
        self._mine.held = False
        with self._lock:
            self.held -= 1
        self._slots.release()

    def __repr__(self) -> str:
        return f"DecodeGate(permits={self.permits}, held={self.held}, peak={self.peak})"
