"""The HTTP side of the sandbox: a threading HTTP/1.1 server on loopback speaking Bitrix24 REST.

Routes:

- ``/rest/<user_id>/<secret>/<method>[.json|.xml][/]`` (GET, POST): a REST call;
- ``/_moved/<anything>``: 302 to ``/<anything>`` (same query), for testing clients' redirect
  handling (PROTOCOL §1: a moved portal answers 302 and the client must re-POST);
- ``/_sandbox/<secret>/stats`` (GET): the stats counters as JSON; ``/_sandbox/<secret>/reset``
  (POST): fresh portal. Control routes need the webhook secret and carry no CORS headers, so a web
  page cannot call them; only ``/rest/`` answers carry the portal's ``Access-Control-Allow-*``.

Hostile clients are bounded (see ``docs/sandbox.md``): bodies of any transfer encoding are capped
while they are read (413), a request must arrive within ``read_timeout``, at most
``max_connections`` connections are served at once, and no client input prints a traceback.

Example::

    server = SandboxServer(engine)            # port 0 = any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # curl "http://127.0.0.1:{server.port}/rest/1/<secret>/crm.deal.list?select[]=ID"
"""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import logging
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import batch as _batch  # noqa: F401  (registers the batch method)
from . import files
from . import methods as _methods  # noqa: F401  (registers every method handler)
from .api import ApiError
from .conn import DeadlineReader, SocketWriter
from .dispatch import DEADLINE, Engine, Outcome, RequestCutOff, internal_error
from .faults import FaultInjector
from .jsonenc import dumps
from .limits import LeakyBucket, query_limit_exceeded
from .params import request_params
from .phpquery import php_intval
from .xmlenc import to_xml

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
BASE_HEADERS = {"X-Content-Type-Options": "nosniff"}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, content-type, accept",
}
"""What ``CRestUtil::sendHeaders`` adds to every REST answer; never on control routes."""
READ_CHUNK = 64 * 1024
LINGER_BYTES = 1024 * 1024
"""After refusing a body, this much more is read and thrown away (so the client gets to read the
413 instead of a reset), then the connection is closed."""
MAX_TRAILER_LINES = 64


def no_auth() -> ApiError:
    return ApiError("Wrong authorization data", "NO_AUTH_FOUND", 401)


def not_found() -> ApiError:
    return ApiError("Not found", "NOT_FOUND", 404)


class BadRequest(Exception):
    """The request could not be read; answered with :attr:`error`, then the connection is closed."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.code)
        self.error = error


def bad_request(description: str = "Bad request") -> BadRequest:
    return BadRequest(ApiError(description, "INVALID_REQUEST", 400))


def body_too_large(limit: int) -> BadRequest:
    return BadRequest(
        ApiError(f"Request body is larger than {limit} bytes", "REQUEST_ENTITY_TOO_LARGE", 413)
    )


def self_signed_context(directory: str | Path) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (needs ``openssl``).

    Returns the context and the certificate file, which clients trust as their CA bundle (e.g.
    ``REQUESTS_CA_BUNDLE``): peers such as b24pysdk only speak ``https://``.
    """
    cert, key = Path(directory) / "sandbox-cert.pem", Path(directory) / "sandbox-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, str(cert)


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: 75\r\n\r\n"
    b'{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many connections"}'
)
assert len(_BUSY.split(b"\r\n\r\n", 1)[1]) == 75


class SandboxServer(ThreadingHTTPServer):
    """Threading HTTP/1.1 server bound to loopback; one daemon thread per connection, at most
    ``config.max_connections`` of them (beyond: an immediate 503 and close)."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self,
        engine: Engine,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_reset: Callable[[], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.engine = engine
        self.bucket = LeakyBucket(engine.config.rate, engine.config.burst)
        self.faults = FaultInjector(engine.config.faults, engine.config.fault_seed)
        self.on_reset = on_reset
        self.tls = ssl_context is not None
        self._slots = threading.BoundedSemaphore(engine.config.max_connections)
        super().__init__((host, port), RequestHandler)
        if ssl_context is not None:
            # The handshake runs in the connection's own thread (RequestHandler.setup), so a
            # slow client cannot stall the accept loop.
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    @property
    def port(self) -> int:
        return self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.engine.stats.refused_connection()
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without a thread (never blocking the accept loop), then close."""
        with contextlib.suppress(OSError):
            if not self.tls:  # a TLS client would first need a handshake: just close
                request.setblocking(False)
                request.send(_BUSY)
                with contextlib.suppress(OSError):
                    request.recv(READ_CHUNK)  # what already arrived, so close() sends no reset
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients vanishing mid-request (timeouts, dropped keep-alives) are normal here.
        log.debug("connection error from %s", client_address, exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; serves requests until the client closes, idles too long or misbehaves."""

    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "bitrix-frames-sandbox"
    error_content_type = JSON_TYPE
    _cors = False

    def setup(self) -> None:
        config = self.server.engine.config
        self.connection = self.request
        self.connection.settimeout(config.read_timeout)  # also bounds the TLS handshake
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = DeadlineReader(
            self.connection, idle_timeout=config.idle_timeout, read_timeout=config.read_timeout
        )
        self.rfile = io.BufferedReader(self.reader, READ_CHUNK)
        self.wfile = SocketWriter(self.connection, config.read_timeout)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries the webhook secret, so the default access log stays off.
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors raised by the HTTP layer itself (bad request line, huge headers ...) as JSON."""
        self.close_connection = True
        description = message or self.responses.get(code, ("Error",))[0]
        self._send_json(code, {"error": "INVALID_REQUEST", "error_description": description})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    # --- plumbing ---------------------------------------------------------------------------------

    def _handle(self, verb: str) -> None:
        url = urlsplit(self.path)
        self._cors = url.path.startswith(("/rest/", "/_moved/"))
        try:
            body = self._read_body()
        except BadRequest as exc:
            self.close_connection = True
            self._send_json(exc.error.status, exc.error.body())
            self._linger()
            return
        except (TimeoutError, ssl.SSLError, OSError):
            self.close_connection = True  # cut off: the client was too slow, or went away
            return
        self.reader.request_done()
        received = time.monotonic()
        try:
            if verb == "OPTIONS":
                self._send(200, b"", "text/plain; charset=utf-8")
            elif url.path.startswith("/rest/"):
                verb = "POST" if verb == "POST" else "GET"
                self._rest(verb, url.path, url.query, body, received)
            elif url.path.startswith("/_moved/"):
                location = url.path[len("/_moved") :] + (f"?{url.query}" if url.query else "")
                self._send(302, b"", "text/plain; charset=utf-8", {"Location": location})
            elif url.path.startswith("/_sandbox/"):
                self._control(verb, url.path)
            elif answer := files.serve(self.server.engine.store, url.path, url.query):
                self._send(answer[0], answer[1], answer[2], answer[3])  # CRM file URLs
            else:
                self._send_error(not_found())
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:
            self._internal_error(exc)

    def _internal_error(self, exc: BaseException) -> None:
        """Any unexpected failure: a Bitrix-style 500 and one log line (a traceback only in debug)."""
        if self.server.engine.config.debug:
            log.error("sandbox request failed", exc_info=exc)
        else:
            log.error("sandbox request failed: %s", type(exc).__name__)
        self.close_connection = True
        with contextlib.suppress(Exception):
            self._send_json(500, internal_error().body())

    def _read_body(self) -> bytes:
        """The request body, never more than ``max_body_bytes`` of it (any transfer encoding)."""
        limit = self.server.engine.config.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit()):
            raise bad_request("Bad Content-Length")
        if len(raw) > 18 or int(raw) > limit:
            raise body_too_large(limit)
        length = int(raw)
        body = bytearray()
        self._read_into(body, length)
        return bytes(body)

    def _read_into(self, body: bytearray, length: int) -> None:
        # In pieces: a declared length is only a promise, memory grows with what really arrives.
        while length > 0:
            piece = self.rfile.read(min(length, READ_CHUNK))
            if not piece:
                raise bad_request("Truncated body")
            body += piece
            length -= len(piece)

    def _read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise bad_request("Bad chunk")
            size_text = line.split(b";")[0].strip()
            if not size_text or len(size_text) > 16:
                raise bad_request("Bad chunk")
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise bad_request("Bad chunk") from exc
            if size == 0:
                for _ in range(MAX_TRAILER_LINES):
                    if not self.rfile.readline(1024).strip():
                        return bytes(body)
                raise bad_request("Too many trailers")
            if len(body) + size > limit:
                raise body_too_large(limit)
            self._read_into(body, size)
            if self.rfile.readline(8).strip():
                raise bad_request("Bad chunk")

    def _linger(self) -> None:
        """Close after an error answer, reading (and dropping) a little of what the client is
        still sending so that it sees the answer rather than a connection reset."""
        self.close_connection = True
        with contextlib.suppress(OSError, ValueError):
            self.connection.shutdown(socket.SHUT_WR)
            self.reader.deadline = time.monotonic() + 1.0
            drained = 0
            while drained < LINGER_BYTES:
                piece = self.rfile.read1(READ_CHUNK)
                if not piece:
                    break
                drained += len(piece)

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        extra = {**BASE_HEADERS, **(CORS_HEADERS if self._cors else {}), **(headers or {})}
        for name, value in extra.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        # Headers and body in one write: two small writes on a keep-alive connection meet the
        # client's delayed ACK (Nagle) and cost ~40 ms per request.
        buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]  # stdlib internal
        buffer.append(b"\r\n")
        if self.command != "HEAD":
            buffer.append(payload)
        self.flush_headers()

    def _send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self._send(status, dumps(body).encode("ascii"), JSON_TYPE, headers)

    def _send_error(self, error: ApiError) -> None:
        self._send_json(error.status, error.body())

    def _drop(self) -> None:
        """Close the connection without writing a single byte of response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- routes -----------------------------------------------------------------------------------

    def _control(self, verb: str, path: str) -> None:
        """``/_sandbox/<secret>/<name>``: the webhook secret is required, no CORS (see module doc)."""
        secret, _, name = unquote(path[len("/_sandbox/") :]).partition("/")
        expected = self.server.engine.config.secret
        if not hmac.compare_digest(secret.encode("utf-8", "replace"), expected.encode()):
            self._send_error(no_auth())
            return
        name = name.strip("/")
        if name == "stats" and verb in ("GET", "HEAD"):
            payload = json.dumps(self.server.engine.stats.snapshot()).encode()
            self._send(200, payload, JSON_TYPE)
        elif name == "reset" and verb == "POST":
            if self.server.on_reset is not None:
                self.server.on_reset()
            else:
                self.server.engine.stats.reset()
            self._send(200, b'{"result":true}', JSON_TYPE)
        else:
            self._send_error(not_found())

    def _rest(self, verb: str, path: str, query: str, body: bytes, received: float) -> None:
        stats = self.server.engine.stats
        stats.http_request()
        fault = self.server.faults.draw()
        if fault is not None:
            stats.fault(fault)
        if fault == "late":
            stats.late_started()
        token = DEADLINE.set(received + self.server.engine.config.request_time_limit)
        try:
            self._rest_call(verb, path, query, body, fault)
        except RequestCutOff:
            stats.cut_off()
            self._drop()  # the portal cuts the request off: no answer, nothing more executed
        finally:
            DEADLINE.reset(token)
            if fault == "late":
                stats.late_finished()

    def _rest_call(self, verb: str, path: str, query: str, body: bytes, fault: str | None) -> None:
        server = self.server
        engine = server.engine
        config = engine.config
        if config.latency > 0:
            time.sleep(config.latency)
        if fault == "drop":
            self._drop()
            return
        if fault in ("refused", "error"):
            error = query_limit_exceeded() if fault == "refused" else internal_error()
            engine.stats.error(error.code)
            self._send_error(error)
            return
        if fault == "slow":
            time.sleep(config.slow_seconds)

        segments = [unquote(s) for s in path[len("/rest/") :].strip("/").split("/")]
        if len(segments) < 3:
            # /rest/<method> is the OAuth form; the sandbox only knows its incoming webhook.
            self._refuse(no_auth())
            return
        user_id, secret, method = segments[0], segments[1], "/".join(segments[2:])
        if user_id != str(config.user_id) or not hmac.compare_digest(
            secret.encode("utf-8", "replace"), config.secret.encode()
        ):
            self._refuse(no_auth())
            return
        credential = f"{user_id}:{secret}"

        method = method.lower()
        xml = method.endswith(".xml")
        if method.endswith((".json", ".xml")):
            method = method.rsplit(".", 1)[0]

        params = request_params(query, body, self.headers.get("Content-Type", ""), verb)
        start = php_intval(params.pop("start", 0))
        params.pop("auth", None)

        if config.limits and not server.bucket.admit(credential):
            engine.stats.refused_rate_limit()
            self._refuse(query_limit_exceeded())
            return

        if fault == "late":
            # Hold the connection without answering; the client may give up (and close) meanwhile:
            # the call still executes below, its answer is lost.
            time.sleep(config.late_seconds)
        outcome = engine.execute(method, params, start, credential)
        if fault in ("lost", "late"):
            self._drop()
            return
        self._answer(outcome, xml)

    def _refuse(self, error: ApiError) -> None:
        self.server.engine.stats.error(error.code)
        self._send_error(error)

    def _answer(self, outcome: Outcome, xml: bool) -> None:
        body = outcome.envelope(self.server.engine.config.tz)
        status = outcome.error.status if outcome.error is not None else 200
        headers = {}
        if outcome.error is None:
            headers["X-Bitrix-Rest-Time"] = f"{outcome.processing:.6f}"
        if xml:
            self._send(status, to_xml(body).encode("utf-8"), XML_TYPE, headers)
        else:
            self._send_json(status, body, headers)
