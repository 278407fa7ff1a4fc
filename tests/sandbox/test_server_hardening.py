"""The sandbox as a server facing hostile clients: body caps for every transfer encoding, nesting
and integer limits, slow clients, the connection cap, protected control routes, no tracebacks.
Every test is bounded by socket timeouts and the pytest timeout; raw sockets where ``requests``
would hide what the server does."""

from __future__ import annotations

import json
import logging
import select
import socket
import time

import pytest
import requests
from sandbox_process import SandboxProcess
from transport_helpers import post_json, writes

from bitrix_frames.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.timeout(120)

MB = 1024 * 1024


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset ends it too)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def status_and_body(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def head_of(raw: bytes) -> str:
    return raw.partition(b"\r\n\r\n")[0].decode("latin-1")


def echo_get(sb, query: str) -> tuple[int, dict]:
    r = requests.get(sb.webhook_url + "sandboxtest.echo?" + query, timeout=30)
    return r.status_code, r.json()


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=5, limits=False, max_body_bytes=MB) as sandbox:
        yield sandbox


# --- body caps ----------------------------------------------------------------------------------


def test_chunked_100mb_is_cut_off_at_the_cap_and_memory_stays_bounded():
    """Default cap (64 MB), server in its own process: RSS growth and stderr are its own."""
    total = 100 * MB
    piece = b"x" * MB
    with SandboxProcess() as proc:
        sock = connect(proc.port, timeout=20)
        sock.sendall(
            f"POST {proc.webhook_path}sandboxtest.echo HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sent = 0
        try:
            while sent < total:
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
        except OSError:
            pass  # the server stopped reading and closed: that is the point
        raw = read_all(sock)
        sock.close()
        growth = proc.peak_rss_growth()
    assert sent < total  # the server did not read the whole 100 MB
    if raw:  # usually the 413 arrives before the close; a reset may swallow it
        status, body = status_and_body(raw)
        assert status == 413 and body["error"] == "REQUEST_ENTITY_TOO_LARGE"
    assert growth < 100 * MB, f"peak RSS grew by {growth / MB:.0f} MB"
    assert "Traceback" not in proc.stderr


def test_chunked_body_over_the_cap_gets_413_and_is_not_executed(sb):
    before = writes(sb)
    sock = connect(sb.port)
    sock.sendall(
        f"POST /rest/1/{sb.config.secret}/sandboxtest.write HTTP/1.1\r\nHost: x\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    for _ in range(3):  # 1.5 MB against a 1 MB cap, then end the stream
        sock.sendall(b"80000\r\n" + b"a" * 0x80000 + b"\r\n")
    sock.sendall(b"0\r\n\r\n")
    sock.shutdown(socket.SHUT_WR)
    raw = read_all(sock)
    sock.close()
    status, body = status_and_body(raw)
    assert status == 413
    assert body == {
        "error": "REQUEST_ENTITY_TOO_LARGE",
        "error_description": f"Request body is larger than {MB} bytes",
    }
    assert "Connection: close" in head_of(raw)
    assert writes(sb) == before


def test_content_length_over_the_cap_is_refused_without_reading(sb):
    sock = connect(sb.port)
    sock.sendall(
        f"POST /rest/1/{sb.config.secret}/sandboxtest.write HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {10 * MB}\r\n\r\n".encode()
    )
    raw = read_all(sock)  # nothing of the body was sent, yet the answer comes
    sock.close()
    assert status_and_body(raw)[0] == 413


@pytest.mark.parametrize(
    "length", ["99999999999999999999999999", "-5", "abc", "١٢"], ids=["huge", "neg", "text", "uni"]
)
def test_bad_content_length_is_a_clean_error(sb, length):
    sock = connect(sb.port)
    sock.sendall(f"POST /rest/1/{sb.config.secret}/sandboxtest.echo HTTP/1.1\r\n".encode())
    sock.sendall(f"Host: x\r\nContent-Length: {length}\r\n\r\n".encode())
    status, body = status_and_body(read_all(sock))
    sock.close()
    assert status in (400, 413) and body["error"] in ("INVALID_REQUEST", "REQUEST_ENTITY_TOO_LARGE")


def test_a_body_under_the_cap_still_works_in_both_encodings(sb):
    payload = json.dumps({"t": "y" * 500_000}).encode()
    r = requests.post(sb.webhook_url + "sandboxtest.echo", data=payload, timeout=30,
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.json()["result"]["params"]["t"] == "y" * 500_000
    r = requests.post(sb.webhook_url + "sandboxtest.echo", data=iter([payload]), timeout=30,
                      headers={"Content-Type": "application/json"})  # chunked  # fmt: skip
    assert r.json()["result"]["params"]["t"] == "y" * 500_000


# --- nesting and integers -----------------------------------------------------------------------


def test_query_nesting_follows_max_input_nesting_level(sb):
    # 64 levels are kept; 65 drop the whole variable (its other keys too), like PHP.
    kept = "a" + "[k]" * 64 + "=1"
    status, body = echo_get(sb, kept)
    assert status == 200
    node = body["result"]["params"]["a"]
    for _ in range(63):
        node = node["k"]
    assert node == {"k": "1"}
    status, body = echo_get(sb, "a[x]=1&" + "a" + "[k]" * 65 + "=2&b=3")
    assert status == 200 and body["result"]["params"] == {"b": "3"}


def test_thousands_of_brackets_in_query_and_form_are_dropped_not_500(sb):
    deep = "a" + "[a]" * 5000 + "=1&b=2"
    status, body = echo_get(sb, deep)
    assert status == 200 and body["result"]["params"] == {"b": "2"}
    r = requests.post(sb.webhook_url + "sandboxtest.echo", data=deep, timeout=30,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 200 and r.json()["result"]["params"] == {"b": "2"}


def test_json_depth_512_is_kept_and_deeper_becomes_no_parameters(sb):
    at_limit = "[" * 511 + "1" + "]" * 511  # the body object is level 1: 512 in all
    status, body = post_raw_json(sb, '{"v": ' + at_limit + "}")
    assert status == 200
    node = body["result"]["params"]["v"]
    for _ in range(510):
        node = node[0]
    assert node == [1]
    status, body = post_raw_json(sb, '{"v": ' + "[" + at_limit + "]" + "}")
    assert status == 200 and body["result"]["params"] == []  # PHP: JSON_ERROR_DEPTH -> no params
    status, body = post_raw_json(sb, "[" * 100_000 + "]" * 100_000)
    assert status == 200 and body["result"]["params"] == []


def post_raw_json(sb, text: str) -> tuple[int, dict]:
    r = requests.post(sb.webhook_url + "sandboxtest.echo", data=text.encode(), timeout=30,
                      headers={"Content-Type": "application/json"})  # fmt: skip
    return r.status_code, r.json()


def test_json_integers_beyond_int64_become_floats_as_in_php(sb):
    status, body = post_raw_json(sb, '{"big": 9223372036854775808, "max": 9223372036854775807}')
    assert status == 200
    assert body["result"]["params"] == {"big": 9.223372036854776e18, "max": 9223372036854775807}
    status, body = post_raw_json(sb, '{"nan": NaN}')  # not JSON for PHP: no parameters
    assert body["result"]["params"] == []
    status, body = post_raw_json(sb, '{"s": "\\ud800"}')  # unpaired surrogate: JSON_ERROR_UTF16
    assert body["result"]["params"] == []


@pytest.mark.parametrize("encoding", ["json", "form"])
@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("crm.deal.get", {"id": 2**63}),
        ("crm.deal.get", {"id": 10**30}),
        ("crm.deal.list", {"filter": {"ID": 2**63, ">OPPORTUNITY": 2**64}, "start": 2**63}),
        (
            "crm.deal.add",
            {"fields": {"TITLE": "big", "ASSIGNED_BY_ID": 2**63, "PROBABILITY": 2**70}},
        ),
        ("crm.contact.add", {"fields": {"NAME": "n", "COMPANY_ID": 2**63}}),
        ("crm.deal.update", {"id": 1, "fields": {"COMPANY_ID": -(2**63) - 1}}),
        ("tasks.task.get", {"taskId": 2**63}),
        ("tasks.task.list", {"filter": {"ID": 2**64}}),
        ("user.get", {"ID": 2**63}),
    ],
)
def test_integers_at_and_beyond_2_63_never_give_500(sb, method, params, encoding):
    if encoding == "json":
        r = requests.post(sb.webhook_url + method, json=params, timeout=30)
    else:
        from bitrix_frames.sandbox.phpquery import build_query

        r = requests.post(sb.webhook_url + method, data=build_query(params), timeout=30,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code < 500, r.text
    body = r.json()
    assert "result" in body or {"error", "error_description"} <= set(body)


# --- slow and idle clients ----------------------------------------------------------------------


def closed_by_server(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def trickle(sock: socket.socket, data: bytes, pause: float) -> int:
    """Send ``data`` a byte at a time; returns how many bytes went out before the server closed."""
    for i, byte in enumerate(data):
        if closed_by_server(sock):
            return i
        try:
            sock.send(bytes([byte]))
        except OSError:
            return i
        time.sleep(pause)
    return len(data)


def test_slowloris_headers_are_cut_off():
    with Sandbox(deals=5, limits=False, read_timeout=0.5) as sb:
        sock = connect(sb.port)
        request = f"GET /rest/1/{sb.config.secret}/sandboxtest.echo HTTP/1.1\r\nHost: x\r\n"
        request += "X-Slow: " + "z" * 200 + "\r\n\r\n"
        # 0.05 s a byte: about 14 s for the whole request, 28x the read_timeout
        sent = trickle(sock, request.encode(), 0.05)
        sock.close()
        assert sent < len(request)
        assert requests.get(sb.webhook_url + "sandboxtest.echo", timeout=10).status_code == 200


def test_slowloris_body_is_cut_off_and_not_executed():
    with Sandbox(deals=5, limits=False, read_timeout=0.5) as sb:
        sock = connect(sb.port)
        sock.sendall(
            f"POST /rest/1/{sb.config.secret}/sandboxtest.write HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 300\r\n\r\n".encode()
        )
        sent = trickle(sock, b"{" + b" " * 298 + b"}", 0.05)
        sock.close()
        assert sent < 300
        assert writes(sb) == 0


def test_idle_connections_are_closed():
    with Sandbox(deals=5, limits=False, idle_timeout=0.3) as sb:
        sock = connect(sb.port, timeout=20)
        assert read_all(sock) == b""  # closed by the server well before our 20 s timeout
        sock.close()


# --- connection cap -----------------------------------------------------------------------------


def keep_alive_request(sock: socket.socket, sb) -> None:
    sock.sendall(
        f"GET /rest/1/{sb.config.secret}/sandboxtest.echo HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        data += sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 200")


def test_connections_beyond_the_cap_are_refused_at_once():
    with Sandbox(deals=5, limits=False, max_connections=2) as sb:
        held = [connect(sb.port) for _ in range(2)]
        for sock in held:
            keep_alive_request(sock, sb)  # each now owns a server thread (keep-alive)
        extra = connect(sb.port)
        raw = read_all(extra)
        extra.close()
        status, body = status_and_body(raw)
        assert status == 503
        assert body == {
            "error": "QUERY_LIMIT_EXCEEDED",
            "error_description": "Too many connections",
        }
        assert sb.stats()["refused_connections"] == 1
        for sock in held:
            sock.close()
        for _ in range(200):  # the freed slots come back as their threads end
            try:
                if requests.get(sb.webhook_url + "sandboxtest.echo", timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        else:
            pytest.fail("no slot came back after the held connections closed")


def test_config_validates_the_server_limits():
    for bad in ({"max_connections": 0}, {"max_body_bytes": 0}, {"read_timeout": 0}):
        with pytest.raises(ValueError):
            SandboxConfig(**bad)


# --- control routes -----------------------------------------------------------------------------


def test_control_routes_need_the_secret_and_send_no_cors(sb):
    post_json(sb, "sandboxtest.write", {})
    before = writes(sb)
    for url in (
        sb.base_url + "/_sandbox/reset",
        sb.base_url + "/_sandbox/wrongsecret/reset",
        sb.base_url + "/_sandbox//reset",
    ):
        r = requests.post(url, timeout=10)
        assert r.status_code == 401 and r.json()["error"] == "NO_AUTH_FOUND"
        assert not any(h.lower().startswith("access-control-") for h in r.headers)
    assert requests.get(sb.base_url + "/_sandbox/stats", timeout=10).status_code == 401
    assert writes(sb) == before  # nothing was reset
    preflight = requests.options(sb.control_url + "reset", timeout=10,
                                 headers={"Origin": "http://evil.example",
                                          "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
    stats = requests.get(sb.control_url + "stats", timeout=10)
    assert stats.status_code == 200 and "access-control-allow-origin" not in stats.headers
    # the REST answers keep the portal's CORS headers
    rest = requests.post(sb.webhook_url + "sandboxtest.echo", json={}, timeout=10)
    assert rest.headers["Access-Control-Allow-Origin"] == "*"


# --- no tracebacks ------------------------------------------------------------------------------


def test_handler_failure_is_a_bitrix_500_and_one_line_without_traceback(sb, caplog):
    with caplog.at_level(logging.DEBUG, logger="bitrix_frames.sandbox"):
        status, body = post_json(sb, "sandboxtest.boom", {})
    assert status == 500
    assert body == {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1 and failures[0].exc_info is None
    assert "RuntimeError" in failures[0].getMessage()
    assert "secret internals" not in failures[0].getMessage()


def test_debug_switch_logs_the_traceback(caplog):
    with (
        Sandbox(deals=5, limits=False, debug=True) as sb,
        caplog.at_level(logging.ERROR, logger="bitrix_frames.sandbox"),
    ):
        post_json(sb, "sandboxtest.boom", {})
    assert any(r.exc_info for r in caplog.records)


def test_hostile_inputs_print_no_traceback_from_the_server_process():
    with SandboxProcess(max_body_bytes=MB, read_timeout=0.5) as proc:
        base = f"http://127.0.0.1:{proc.port}{proc.webhook_path}"
        hostile = [
            ("sandboxtest.boom", b"{}", "application/json"),
            ("sandboxtest.echo", b"[" * 100_000, "application/json"),
            ("sandboxtest.echo", ("a" + "[a]" * 5000 + "=1").encode(), "text/plain"),
            ("crm.deal.get", b'{"id": 92233720368547758070}', "application/json"),
            ("crm.deal.list", b"filter[ID]=99999999999999999999&start=1e999", "text/plain"),
            ("batch", b'{"cmd": {"a": "crm.deal.get?id=1e400"}}', "application/json"),
            ("sandboxtest.echo", b"\xff\xfe not utf-8", "application/json"),
            ("sandboxtest.echo", b"--b\r\nbroken multipart", "multipart/form-data; boundary=b"),
        ]
        for method, body, ctype in hostile:
            r = requests.post(base + method, data=body, headers={"Content-Type": ctype}, timeout=30)
            assert r.status_code in (200, 400, 404, 500), (method, r.status_code)
        sock = connect(proc.port)
        sock.sendall(b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n")  # request line too long
        assert read_all(sock).startswith(b"HTTP/1.1 414")
        sock.close()
        sock = connect(proc.port)
        trickle(sock, b"GET / HTTP/1.1\r\nHost: slow\r\n\r\n", 0.1)
        sock.close()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("sandboxtest.boom failed: RuntimeError") == 1
