"""A loopback HTTP proxy that only tunnels (``CONNECT``) and records everything it is shown.

``CONNECT host:port`` is answered 200 and relayed to ``upstream`` (every host maps there); any
other request (a proxy asked to forward plain http would see the whole URL) is recorded and
answered 502. ``lines`` holds every request line, ``seen`` every byte the proxy could read in
either direction, tunnelled TLS included. Bounded: each tunnel lives at most ``max_seconds``; the
proxy stops after ``lifetime`` seconds or on ``close()``.

Example::

    with ConnectProxy(upstream=("127.0.0.1", 8443)) as proxy:
        ...  # HTTPS_PROXY=proxy.url
        proxy.lines   # ["CONNECT portal.example.test:443 HTTP/1.1"]
"""

from __future__ import annotations

import select
import socket
import threading
import time


class ConnectProxy:
    def __init__(
        self, upstream: tuple[str, int], *, max_seconds: float = 20.0, lifetime: float = 60.0
    ) -> None:
        self.upstream = upstream
        self.max_seconds = max_seconds
        self.lifetime = lifetime
        self.lines: list[str] = []
        self.seen = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, name="connect-proxy", daemon=True)

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _record(self, data: bytes) -> None:
        with self._lock:
            self.seen += data

    def _serve(self) -> None:
        end = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(5)
        upstream = None
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            self._record(head)
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            with self._lock:
                self.lines.append(line)
            if not line.startswith("CONNECT "):
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            upstream = socket.create_connection(self.upstream, timeout=5)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream)
        except OSError:
            return
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        end = time.monotonic() + self.max_seconds
        peers = {a: b, b: a}
        while not self._stop.is_set() and time.monotonic() < end:
            ready, _, _ = select.select(list(peers), [], [], 0.2)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                self._record(data)
                peers[sock].sendall(data)
