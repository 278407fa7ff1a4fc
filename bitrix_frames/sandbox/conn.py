"""Socket streams of one sandbox connection with time limits a slow client cannot stretch.

:class:`DeadlineReader` gives an idle connection ``idle_timeout`` seconds to start its next request;
from the first byte of a request on, the whole request (line, headers, body) must arrive within
``read_timeout`` seconds, however the client trickles it. :meth:`DeadlineReader.request_done`
re-arms it for the next request of a keep-alive connection.

Example::

    raw = DeadlineReader(sock, idle_timeout=60, read_timeout=30)
    rfile = io.BufferedReader(raw)
    line = rfile.readline(65537)     # TimeoutError once the deadline has passed
"""

from __future__ import annotations

import io
import socket
import time


class DeadlineReader(io.RawIOBase):
    """The receiving side of a socket, with an idle timeout and a per-request deadline."""

    def __init__(self, sock: socket.socket, *, idle_timeout: float, read_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self.idle_timeout = idle_timeout
        self.read_timeout = read_timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.deadline is None:
            timeout = self.idle_timeout
        else:
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("the request took longer than read_timeout to arrive")
        self._sock.settimeout(timeout)
        received = self._sock.recv_into(buffer)
        if received and self.deadline is None:
            self.deadline = time.monotonic() + self.read_timeout
        return received

    def request_done(self) -> None:
        """The current request has been read: the next one gets a fresh deadline."""
        self.deadline = None


class SocketWriter(io.BufferedIOBase):
    """Unbuffered writes with a bound on each: a client that stops reading is cut off."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self.timeout = timeout

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        # Since Python 3.5 the timeout bounds the whole sendall, not each partial send.
        self._sock.settimeout(self.timeout)
        self._sock.sendall(data)
        return len(data)
