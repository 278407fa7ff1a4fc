"""A hostile HTTP server on loopback: trickles, endless bodies, bombs, lies, garbage, redirects.

Each connection runs one *behaviour* (a function writing raw bytes to the socket) in a daemon
thread. Everything is bounded: a behaviour stops after ``max_seconds`` or when the server closes,
and the server closes itself after ``lifetime`` seconds. The server records every request line and
body it receives and whether the client hung up before a behaviour finished sending.

Example::

    with HostileServer(trickle(b'{"result": []}', interval=1.0)) as hs:
        Client(hs.url("s3cret"), deadline=2).call("crm.deal.list")   # DeadlineExceeded
        hs.client_hung_up.is_set()                                     # True
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

Behaviour = Callable[["Connection"], None]


class ClientGone(Exception):
    """The client closed the connection while the server was still sending."""


class HungUp(Exception):
    """The server itself ended the connection (a behaviour that resets or closes)."""


@dataclass
class Request:
    line: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Connection:
    sock: socket.socket
    server: HostileServer
    request: Request
    started: float = field(default_factory=time.monotonic)

    def alive(self) -> bool:
        return (
            not self.server.stopping.is_set()
            and time.monotonic() - self.started < self.server.max_seconds
        )

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:  # EPIPE, ECONNRESET: the client gave up
            raise ClientGone from e


class HostileServer:
    """``behaviour`` answers every request; ``url(secret)`` is a webhook URL pointing here."""

    def __init__(
        self,
        behaviour: Behaviour,
        *,
        max_seconds: float = 20.0,
        lifetime: float = 90.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.tls = tls
        self.max_seconds = max_seconds
        self.lifetime = lifetime
        self.requests: list[Request] = []
        self.received = bytearray()  # every byte any client sent, for "the secret never went here"
        self.client_hung_up = threading.Event()
        self.finished_sending = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="hostile-server", daemon=True)

    @property
    def origin(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, secret: str, user: int = 1) -> str:
        return f"{self.origin}/rest/{user}/{secret}/"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        end = time.monotonic() + self.lifetime
        while not self.stopping.is_set() and time.monotonic() < end:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()
        self.stopping.set()

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            while not self.stopping.is_set():  # keep-alive: one request after the other
                request = self._read_request(sock)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                try:
                    self.behaviour(Connection(sock, self, request))
                    self.finished_sending.set()
                except ClientGone:
                    self.client_hung_up.set()
                    return
                except HungUp:
                    return
        except OSError:
            return
        finally:
            sock.close()

    def _read_request(self, sock: socket.socket) -> Request | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
            with self._lock:
                self.received += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
        need = int(headers.get("content-length", "0"))
        while len(body) < need:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            body += chunk
            with self._lock:
                self.received += chunk
        return Request(line, headers, body)


# -- behaviours ---------------------------------------------------------------------------------
def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json; charset=utf-8"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body: bytes | str | object, status: str = "200 OK", **headers: str) -> Behaviour:
    """A complete, well-framed response with ``body`` (bytes as they are, str encoded, else JSON)."""
    if isinstance(body, str):
        data = body.encode()
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()

    def behave(conn: Connection) -> None:
        conn.send(head(status, Content_Length=str(len(data)), **headers) + data)

    return behave


def trickle(body: bytes, interval: float = 1.0, *, in_headers: bool = False) -> Behaviour:
    """One byte every ``interval`` seconds: of the body, or of the whole response."""

    def behave(conn: Connection) -> None:
        data = head(Content_Length=str(len(body))) + body
        if not in_headers:
            start = data.index(b"\r\n\r\n") + 4
            conn.send(data[:start])
            data = data[start:]
        for i in range(len(data)):
            if not conn.alive():
                return
            conn.send(data[i : i + 1])
            time.sleep(interval)

    return behave


def endless(*, encoding: str = "", content_length: str | None = None) -> Behaviour:
    """A body that never ends: chunked (or under a lying Content-Length), optionally a gzip or
    deflate stream of zeros generated on the fly (1 MiB of zeros is ~1 KiB compressed)."""

    def behave(conn: Connection) -> None:
        headers = {"Content_Encoding": encoding} if encoding else {}
        if content_length is None:
            headers["Transfer_Encoding"] = "chunked"
        else:
            headers["Content_Length"] = content_length
        conn.send(head(**headers))
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}.get(encoding)
        packer = zlib.compressobj(9, zlib.DEFLATED, wbits) if wbits else None
        block = b"[" + b"0," * (2**19)
        while conn.alive():
            data = packer.compress(block) if packer else block
            if not data:
                continue
            if content_length is None:
                data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            conn.send(data)

    return behave


def reset_mid_body() -> Behaviour:
    """Announce 100,000 bytes, send 100, then reset the connection (RST, not FIN)."""

    def behave(conn: Connection) -> None:
        conn.send(head(Content_Length="100000") + b'{"result": [' + b"1," * 44)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
        raise HungUp

    return behave


def redirect(location: str, status: str = "302 Found") -> Behaviour:
    def behave(conn: Connection) -> None:
        conn.send(head(status, Location=location, Content_Length="0"))

    return behave


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body)


# -- the catalogue of hostile answers (tests/client/test_hostile_server.py, bench/hostile.py) ----
@dataclass(frozen=True)
class Case:
    """One hostile answer, how the client is driven into it, and the typed error expected.

    ``call``: "call" (``crm.deal.list`` via call), "list" (``user.get``: offset paging),
    "keyset" (``crm.deal.list`` via list: batches), "batch" (two ``crm.deal.get`` in a batch).
    ``streams``: the server would send forever, so it must see the client hang up.
    """

    name: str
    behaviour: Callable[[], Behaviour]
    error: str
    call: str = "call"
    streams: bool = False


def _bomb(encoding: str, size: int = 200 * 2**20) -> Behaviour:
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = b" " * 2**20
    data = b"".join(packer.compress(block) for _ in range(size // 2**20)) + packer.flush()
    return answer(data, Content_Encoding=encoding)


_BATCH_OK = {"result_error": [], "result_next": [], "result_time": []}

CASES = [
    Case("trickle_body", lambda: trickle(b'{"result": []}' + b" " * 100), "DeadlineExceeded"),
    Case(
        "trickle_headers",
        lambda: trickle(b'{"result": []}', in_headers=True),
        "DeadlineExceeded",
    ),
    Case("endless_chunked", lambda: endless(), "ResponseTooLarge", streams=True),
    Case("endless_gzip_stream", lambda: endless(encoding="gzip"), "ResponseTooLarge", streams=True),
    Case(
        "endless_deflate_stream",
        lambda: endless(encoding="deflate"),
        "ResponseTooLarge",
        streams=True,
    ),
    Case("gzip_bomb", lambda: _bomb("gzip"), "ResponseTooLarge"),
    Case("deflate_bomb", lambda: _bomb("deflate"), "ResponseTooLarge"),
    Case(
        "content_length_lie",
        lambda: endless(content_length=str(10**15)),
        "ResponseTooLarge",
        streams=True,
    ),
    Case("deep_json", lambda: answer(b"[" * 200_000 + b"]" * 200_000), "MalformedResponse"),
    Case(
        "deep_envelope",
        lambda: answer(b'{"result": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        "MalformedResponse",
    ),  # fmt: skip
    Case("infinity", lambda: answer(b'{"result": [], "total": Infinity}'), "MalformedResponse"),
    Case("nan", lambda: answer(b'{"result": NaN}'), "MalformedResponse"),
    Case("float_1e400", lambda: answer(b'{"result": [], "total": 1e400}'), "MalformedResponse"),
    Case(
        "int_10_400",
        lambda: answer(b'{"result": [], "total": 1' + b"0" * 400 + b"}"),
        "MalformedResponse",
    ),
    Case("invalid_utf8", lambda: answer(b'{"result": "\xff\xfe\xc3"}'), "MalformedResponse"),
    Case(
        "html_200",
        lambda: answer(b"<html><body>Maintenance</body></html>", Content_Type="text/html"),
        "MalformedResponse",
    ),
    Case("empty_200", lambda: answer(b""), "MalformedResponse"),
    Case("envelope_is_list", lambda: answer([1, 2, 3]), "MalformedResponse"),
    Case("envelope_is_string", lambda: answer('"ok"'), "MalformedResponse"),
    Case("no_result", lambda: answer({"time": {}}), "MalformedResponse"),
    Case(
        "total_many", lambda: answer({"result": [], "total": "many"}), "MalformedResponse", "list"
    ),
    Case(
        "next_x",
        lambda: answer({"result": [{"ID": "1"}], "total": 99, "next": "x"}),
        "MalformedResponse",
        "list",
    ),
    Case("time_string", lambda: answer({"result": [], "time": "now"}), "MalformedResponse"),
    Case("list_result_string", lambda: answer({"result": "oops"}), "MalformedResponse", "list"),
    Case("list_result_number", lambda: answer({"result": 42}), "MalformedResponse", "list"),
    Case("list_result_dict", lambda: answer({"result": {"a": 1}}), "MalformedResponse", "list"),
    Case("list_result_null", lambda: answer({"result": None}), "MalformedResponse", "list"),
    Case("list_rows_strings", lambda: answer({"result": ["a", "b"]}), "MalformedResponse", "list"),
    Case(
        "keyset_result_string",
        lambda: answer({"result": {"result": {"lo": "x", "hi": "x", "n": []}, **_BATCH_OK}}),
        "MalformedResponse",
        "keyset",
    ),
    Case(
        "keyset_row_id_garbage",
        lambda: answer(
            {
                "result": {
                    "result": {"lo": [{"ID": "x"}], "hi": [{"ID": "x"}], "n": []},
                    "result_total": {"n": 1},
                    **_BATCH_OK,
                }
            }
        ),
        "MalformedResponse",
        "keyset",
    ),
    Case("batch_result_string", lambda: answer({"result": "x"}), "MalformedResponse", "batch"),
    Case(
        "batch_total_many",
        lambda: answer({"result": {"result": {"a": {}}, "result_total": {"a": "many"}}}),
        "MalformedResponse",
        "batch",
    ),
    Case(
        "batch_time_garbage",
        lambda: answer({"result": {"result": {"a": {}}, "result_time": {"a": "soon"}}}),
        "MalformedResponse",
        "batch",
    ),
    Case("reset_mid_body", reset_mid_body, "TransportError"),
    Case("redirect_loop", lambda: redirect("/rest/1/loop/crm.deal.list"), "RedirectError"),
    Case("redirect_no_location", lambda: answer(b"", "302 Found"), "RedirectError"),
]
