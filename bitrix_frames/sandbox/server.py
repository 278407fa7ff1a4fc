"""The HTTP side of the sandbox: a threading HTTP/1.1 server on loopback speaking Bitrix24 REST.

Routes:

- ``/rest/<user_id>/<secret>/<method>[.json|.xml][/]`` (GET, POST): a REST call;
- ``/_moved/<anything>``: 302 to ``/<anything>`` (same query), for testing clients' redirect
  handling (PROTOCOL §1: a moved portal answers 302 and the client must re-POST);
- ``/_sandbox/stats`` (GET): the stats counters as JSON; ``/_sandbox/reset`` (POST): fresh portal.

Example::

    server = SandboxServer(engine)            # port 0 = any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # curl "http://127.0.0.1:{server.port}/rest/1/<secret>/crm.deal.list?select[]=ID"
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from . import batch as _batch  # noqa: F401  (registers the batch method)
from . import methods as _methods  # noqa: F401  (registers every method handler)
from .api import ApiError
from .dispatch import DEADLINE, Engine, Outcome, RequestCutOff, internal_error
from .faults import FaultInjector
from .jsonenc import dumps
from .limits import LeakyBucket, query_limit_exceeded
from .phpquery import parse_pairs, parse_query, php_intval

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024 * 1024
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
BASE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, content-type, accept",
    "X-Content-Type-Options": "nosniff",
}


def no_auth() -> ApiError:
    return ApiError("Wrong authorization data", "NO_AUTH_FOUND", 401)


class BadRequest(Exception):
    """The request could not be read (bad Content-Length, truncated chunk); closes the connection."""


def request_params(query: str, body: bytes, content_type: str, verb: str) -> dict[str, Any]:
    """Build the parameter array like ``CRestUtil::getRequestData`` (PROTOCOL §2).

    >>> request_params("a=1&b=2", b'{"b": 3}', "application/json", "POST")
    {'a': '1', 'b': 3}
    """
    params = parse_query(query)
    ctype = content_type.split(";")[0].strip().lower()
    form: dict[str, Any] = {}
    if verb == "POST" and body:
        if ctype == "multipart/form-data":
            form = parse_multipart(body, content_type)
        else:
            # form-urlencoded fields, or (no form fields decoded) the raw body: JSON for
            # application/json, a query string for anything else.
            form = json_body(body) if ctype == "application/json" else parse_query(body)
    params.update(form)  # array_replace: body keys win over query keys
    return params


def json_body(body: bytes) -> dict[str, Any]:
    """A JSON body as parameters; invalid JSON silently becomes no parameters (as the core does)."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """The text fields of a ``multipart/form-data`` body, bracket-parsed (files are ignored)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    pairs = []
    if message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None or part.get_filename() is not None:
                continue
            payload = part.get_payload(decode=True) or b""
            pairs.append((str(name), payload.decode("utf-8", "replace")))
    return parse_pairs(pairs)


def to_xml(value: Any) -> str:
    """Minimal XML transport: the body under ``<response>``, numeric keys and list items as ``<item>``."""
    return '<?xml version="1.0" encoding="utf-8"?><response>' + _xml(value) + "</response>"


def _xml(value: Any) -> str:
    if isinstance(value, dict):
        return "".join(_xml_item(k, v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "".join(_xml_item("item", v) for v in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_item(key: Any, value: Any) -> str:
    tag = str(key)
    if not tag or not (tag[0].isalpha() or tag[0] == "_") or not tag.replace("_", "").isalnum():
        tag = "item"
    return f"<{tag}>{_xml(value)}</{tag}>"


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


class SandboxServer(ThreadingHTTPServer):
    """Threading HTTP/1.1 server bound to loopback; one daemon thread per connection."""

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

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients vanishing mid-request (timeouts, dropped keep-alives) are normal here.
        log.debug("connection error from %s", client_address, exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; serves requests until the client closes or an idle minute passes."""

    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "bitrix-frames-sandbox"
    timeout = 60

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries the webhook secret, so the default access log stays off.
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:
        self._read_body()
        self._send(200, b"", "text/plain; charset=utf-8")

    # --- plumbing ---------------------------------------------------------------------------------

    def _handle(self, verb: str) -> None:
        try:
            body = self._read_body()
        except BadRequest:
            self.close_connection = True
            self._send_json(400, {"error": "INVALID_REQUEST", "error_description": "Bad request"})
            return
        received = time.monotonic()
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/rest/"):
                verb = "POST" if verb == "POST" else "GET"
                self._rest(verb, url.path, url.query, body, received)
            elif url.path.startswith("/_moved/"):
                location = url.path[len("/_moved") :] + (f"?{url.query}" if url.query else "")
                self._send(302, b"", "text/plain; charset=utf-8", {"Location": location})
            elif url.path.startswith("/_sandbox/"):
                self._control(verb, url.path)
            else:
                self._send_json(404, {"error": "NOT_FOUND", "error_description": "Not found"})
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("sandbox request failed")
            self._send_json(500, internal_error().body())

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError as exc:
            raise BadRequest from exc
        if length < 0 or length > MAX_BODY:
            raise BadRequest
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadRequest
        return body

    def _read_chunked(self) -> bytes:
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest from exc
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise BadRequest
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in {**BASE_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        # Headers and body in one write: two small writes on a keep-alive connection meet the
        # client's delayed ACK (Nagle) and cost ~40 ms per request.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    def _send_json(self, status: int, body: Any, headers: dict | None = None) -> None:
        self._send(status, dumps(body).encode("ascii"), JSON_TYPE, headers)

    def _drop(self) -> None:
        """Close the connection without writing a single byte of response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- routes -----------------------------------------------------------------------------------

    def _control(self, verb: str, path: str) -> None:
        name = path[len("/_sandbox/") :].strip("/")
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
            self._send_json(404, {"error": "NOT_FOUND", "error_description": "Not found"})

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
            self._send_json(error.status, error.body())
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
            secret.encode(), config.secret.encode()
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
        self._send_json(error.status, error.body())

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
