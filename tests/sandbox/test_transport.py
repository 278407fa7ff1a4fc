"""Transport of the sandbox: URL forms, parameter parsing, envelope, JSON encoding, errors,
robustness and concurrency, all over real HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import threading

import pytest
import requests
from samples import SAMPLES
from transport_helpers import post_json, request, writes

from bitrix_frames.sandbox import Sandbox, SandboxConfig
from bitrix_frames.sandbox.jsonenc import dumps
from bitrix_frames.sandbox.phpquery import build_query, parse_query, php_intval

pytestmark = pytest.mark.timeout(60)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=5, limits=False) as sandbox:
        yield sandbox


# --- phpquery -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&b=x+y", {"a": "1", "b": "x y"}),
        (
            "filter[>ID]=5&filter[@STATUS_ID][]=NEW",
            {"filter": {">ID": "5", "@STATUS_ID": {"0": "NEW"}}},
        ),
        ("select[]=ID&select[]=TITLE", {"select": {"0": "ID", "1": "TITLE"}}),
        ("s[5]=a&s[]=b", {"s": {"5": "a", "6": "b"}}),
        (
            "fields[PHONE][0][VALUE]=1&fields[PHONE][0][VALUE_TYPE]=WORK",
            {"fields": {"PHONE": {"0": {"VALUE": "1", "VALUE_TYPE": "WORK"}}}},
        ),
        ("a.b=1&c d=2&e.f[g.h]=3", {"a_b": "1", "c_d": "2", "e_f": {"g.h": "3"}}),
        ("a[b=1", {"a_b": "1"}),
        ("[x]=1&=2&&y", {"y": ""}),
        ("a=1&a=2", {"a": "2"}),
        ("a=1&a[x]=2", {"a": {"x": "2"}}),
        ("a[x]y=1", {"a": {"x": "1"}}),
        ("k=%26%3F%25%5B%5D%23%2B", {"k": "&?%[]#+"}),
        ("0=123&1[POST_MESSAGE]=text", {"0": "123", "1": {"POST_MESSAGE": "text"}}),
    ],
)
def test_parse_query_follows_php_parse_str(query, expected):
    assert parse_query(query) == expected


def test_build_query_is_http_build_query_and_round_trips():
    params = {
        "filter": {">ID": 5, "@STAGE_ID": ["NEW", "WON"]},
        "select": ["ID", "TITLE"],
        "flag": True,
        "off": False,
        "none": None,
        "text": "a b&c",
    }
    query = build_query(params)
    assert query.startswith("filter%5B%3EID%5D=5&filter%5B%40STAGE_ID%5D%5B0%5D=NEW")
    assert "none" not in query
    assert parse_query(query) == {
        "filter": {">ID": "5", "@STAGE_ID": {"0": "NEW", "1": "WON"}},
        "select": {"0": "ID", "1": "TITLE"},
        "flag": "1",
        "off": "0",
        "text": "a b&c",
    }


def test_php_intval():
    assert [php_intval(v) for v in ("50", "-1", "75abc", "abc", "", 3.9, None, True, [1])] == [
        50,
        -1,
        75,
        0,
        0,
        3,
        0,
        1,
        1,
    ]


# --- jsonenc ------------------------------------------------------------------------------------


def test_json_is_encoded_like_php():
    text = dumps(
        {
            "a": "<br>/&'\"é",
            "empty": {},
            "list": {"0": "x", "1": "y"},
            "map": {"1": "x"},
            "n": [1, 1.5, None, True],
        }
    )
    assert text == (
        '{"a":"\\u003Cbr\\u003E\\/\\u0026\\u0027\\u0022\\u00e9","empty":[],'
        '"list":["x","y"],"map":{"1":"x"},"n":[1,1.5,null,true]}'
    )
    assert json.loads(text)["a"] == "<br>/&'\"é"


def test_json_escapes_match_the_documented_sample():
    sample = (SAMPLES / "error.tasks.task.add.error_core.json").read_text()
    assert "Task title is not specified\\u003Cbr\\u003E" in dumps(json.loads(sample))


def test_backslash_before_quote_is_not_misread():
    for text in ['\\"', '\\\\"', "a\\", '"\\"']:
        assert json.loads(dumps(text)) == text


# --- parameter sources --------------------------------------------------------------------------


def test_get_with_bracket_query(sb):
    url = sb.webhook_url + "sandboxtest.echo?filter%5B%3EID%5D=5&select[]=ID&select[]=TITLE"
    status, body, _ = request(url)
    assert status == 200
    assert json.loads(body)["result"]["params"] == {
        "filter": {">ID": "5"},
        "select": ["ID", "TITLE"],
    }  # keys 0..n-1 are a PHP list on output


def test_form_post(sb):
    r = requests.post(
        sb.webhook_url + "sandboxtest.echo",
        data={"fields[TITLE]": "Deal & Co", "fields[OPPORTUNITY]": "10"},
    )
    assert r.json()["result"]["params"] == {"fields": {"TITLE": "Deal & Co", "OPPORTUNITY": "10"}}


def test_json_post_keeps_types(sb):
    params = {"fields": {"TITLE": "x", "OPPORTUNITY": 10.5, "OPENED": True}, "select": ["ID"]}
    status, body = post_json(sb, "sandboxtest.echo", params)
    assert status == 200 and body["result"]["params"] == params


def test_body_overrides_query_and_invalid_json_is_empty(sb):
    url = sb.webhook_url + "sandboxtest.echo?a=1&b=2"
    r = requests.post(url, json={"b": 3})
    assert r.json()["result"]["params"] == {"a": "1", "b": 3}
    r = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["result"]["params"] == {"a": "1", "b": "2"}


def test_json_body_without_json_content_type_is_read_as_a_query_string(sb):
    r = requests.post(
        sb.webhook_url + "sandboxtest.echo",
        data=b"x[a]=1&y=2",
        headers={"Content-Type": "text/plain"},
    )
    assert r.json()["result"]["params"] == {"x": {"a": "1"}, "y": "2"}


def test_multipart_form(sb):
    r = requests.post(
        sb.webhook_url + "sandboxtest.echo",
        files={"fields[TITLE]": (None, "Multi"), "select[]": (None, "ID")},
    )
    assert r.json()["result"]["params"] == {"fields": {"TITLE": "Multi"}, "select": ["ID"]}


@pytest.mark.parametrize(("raw", "start"), [("75", 75), ("-1", -1), ("abc", 0), (None, 0)])
def test_start_is_pulled_out_of_the_parameters(sb, raw, start):
    params = {"x": "1", **({} if raw is None else {"start": raw})}
    _, body = post_json(sb, "sandboxtest.echo", params)
    assert body["result"]["start"] == start
    assert body["result"]["params"] == {"x": "1"}


@pytest.mark.parametrize(
    "name",
    [
        "sandboxtest.echo",
        "SandboxTest.ECHO",
        "sandboxtest.echo.json",
        "sandboxtest.echo/",
        "SANDBOXTEST.echo.JSON/",
    ],
)
def test_method_name_forms(sb, name):
    status, body = post_json(sb, name, {})
    assert status == 200 and body["result"]["method"] == "sandboxtest.echo"


def test_xml_transport_is_minimal(sb):
    status, body, headers = request(sb.webhook_url + "sandboxtest.page.xml?n=2")
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    assert body.startswith(
        b'<?xml version="1.0" encoding="utf-8"?><response><result><item><ID>1</ID>'
    )


# --- envelope and errors ------------------------------------------------------------------------


def test_envelope_and_time_block(sb):
    status, raw, headers = request(sb.webhook_url + "sandboxtest.page?n=3&total=120&next=50")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Access-Control-Allow-Origin"] == "*"
    body = json.loads(raw)
    assert list(body) == ["result", "total", "next", "time"]
    assert body["total"] == 120 and body["next"] == 50 and len(body["result"]) == 3
    sample = json.loads((SAMPLES / "time.object.json").read_text())["time"]
    t = body["time"]
    assert list(t) == list(sample)
    for key in ("start", "finish", "duration", "processing", "operating"):
        assert isinstance(t[key], float), key
    assert isinstance(t["operating_reset_at"], int)
    assert ISO.match(t["date_start"]) and ISO.match(t["date_finish"])
    assert t["finish"] >= t["start"] and t["duration"] >= t["processing"] >= 0


def test_no_total_or_next_for_plain_results(sb):
    _, body = post_json(sb, "sandboxtest.page", {"n": 1})
    assert "next" not in body and body["total"] == 1
    _, body = post_json(sb, "sandboxtest.echo", {})
    assert list(body) == ["result", "time"]


def test_wrong_secret_and_wrong_user_are_401(sb):
    expected = json.loads((SAMPLES / "error.NO_AUTH_FOUND.json").read_text())
    for url in (
        sb.webhook_url.replace(sb.config.secret, "wrong"),
        f"{sb.base_url}/rest/2/{sb.config.secret}/",
        f"{sb.base_url}/rest/",
    ):
        status, body, _ = request(url + "sandboxtest.echo")
        assert status == 401 and json.loads(body) == expected


def test_unknown_method_is_404(sb):
    expected = json.loads((SAMPLES / "error.ERROR_METHOD_NOT_FOUND.json").read_text())
    status, body = post_json(sb, "crm.nothing.here", {})
    assert status == 404 and body == expected  # exactly the two keys: no time on errors


def test_api_error_and_handler_crash(sb):
    status, body = post_json(sb, "sandboxtest.fail", {})
    assert status == 400 and body == {"error": "", "error_description": "Not found"}
    status, raw, _ = request(
        sb.webhook_url + "sandboxtest.boom", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 500
    assert json.loads(raw) == {
        "error": "INTERNAL_SERVER_ERROR",
        "error_description": "Internal server error",
    }
    assert b"Traceback" not in raw and b"x.py" not in raw


def _raw_exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_bad_input_never_kills_the_server(sb):
    secret_path = f"/rest/1/{sb.config.secret}/sandboxtest.echo"
    garbage = [
        b"GARBAGE\r\n\r\n",
        f"POST {secret_path} HTTP/1.1\r\nContent-Length: nope\r\n\r\n".encode(),
        f"POST {secret_path} HTTP/1.1\r\nContent-Length: 10\r\n\r\nab".encode(),
        f"GET {secret_path}?a[[[[=1&%ZZ=%&b]]]=2&c[x][][y]=3 HTTP/1.1\r\n\r\n".encode(),
        f"POST {secret_path} HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        "Content-Length: 5\r\n\r\n--x--".encode(),
        f"POST {secret_path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".encode(),
        b"\x00\xff" * 100,
    ]
    for payload in garbage:
        _raw_exchange(sb.port, payload)
    r = requests.post(sb.webhook_url + "sandboxtest.echo", json={"ok": 1})
    assert r.status_code == 200 and r.json()["result"]["params"] == {"ok": 1}


def test_odd_query_is_parsed_not_fatal(sb):
    status, body, _ = request(sb.webhook_url + "sandboxtest.echo?a[[[[=1&b]]]=2&c[x][][y]=3")
    assert status == 200
    assert json.loads(body)["result"]["params"] == {
        "a_[[[": "1",
        "b]]]": "2",
        "c": {"x": [{"y": "3"}]},
    }


def test_chunked_request_body(sb):
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    path = f"/rest/1/{sb.config.secret}/sandboxtest.echo"
    conn.request(
        "POST",
        path,
        body=iter([b'{"a":', b' "b"}']),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["result"]["params"] == {"a": "b"}
    conn.close()


# --- control routes, redirect, Sandbox object ---------------------------------------------------


def test_stats_and_reset_routes():
    with Sandbox(deals=5, limits=False) as sb:
        post_json(sb, "sandboxtest.write", {})
        post_json(sb, "sandboxtest.page", {"n": 4})
        stats = requests.get(sb.control_url + "stats").json()
        assert stats["http_requests"] == 2
        assert stats["sub_calls"] == {"sandboxtest.write": 1, "sandboxtest.page": 1}
        assert stats["rows_returned"] == 4
        assert stats == sb.stats()
        assert writes(sb) == 1
        r = requests.post(sb.control_url + "reset")
        assert r.status_code == 200 and r.json() == {"result": True}
        assert writes(sb) == 0 and sb.stats()["http_requests"] == 0


def test_moved_portal_answers_302_and_a_re_post_works(sb):
    moved = sb.webhook_url.replace("/rest/", "/_moved/rest/") + "sandboxtest.echo?q=1"
    r = requests.post(moved, json={"fields": {"TITLE": "x"}}, allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == f"/rest/1/{sb.config.secret}/sandboxtest.echo?q=1"
    again = requests.post(sb.base_url + r.headers["Location"], json={"fields": {"TITLE": "x"}})
    assert again.json()["result"]["params"] == {"q": "1", "fields": {"TITLE": "x"}}


def test_sandbox_overrides_and_url():
    cfg = SandboxConfig(secret="abc123", user_id=7)
    with Sandbox(cfg, deals=5, rate=5.0) as sb:
        assert sb.config.rate == 5.0 and sb.config.secret == "abc123"
        assert sb.webhook_url == f"http://127.0.0.1:{sb.port}/rest/7/abc123/"
        assert post_json(sb, "sandboxtest.echo", {})[0] == 200
    with pytest.raises(TypeError):
        Sandbox(no_such_setting=1)


def test_sixty_concurrent_keep_alive_connections(sb):
    n = 60
    barrier = threading.Barrier(n, timeout=20)
    results: list[list[int]] = []
    lock = threading.Lock()
    path = f"/rest/1/{sb.config.secret}/sandboxtest.echo"

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=20)
        conn.connect()
        barrier.wait()  # all 60 connections are open at the same time
        codes = []
        for j in range(3):  # several requests over the same keep-alive connection
            conn.request(
                "POST",
                path,
                body=json.dumps({"i": i, "j": j}),
                headers={"Content-Type": "application/json"},
            )
            resp = conn.getresponse()
            body = json.loads(resp.read())
            codes.append(resp.status if body["result"]["params"] == {"i": i, "j": j} else -1)
        conn.close()
        with lock:
            results.append(codes)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == n and all(codes == [200, 200, 200] for codes in results)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_tls_mode_serves_https_for_https_only_clients():
    with Sandbox(deals=5, limits=False, tls=True) as sb:
        assert sb.webhook_url.startswith("https://127.0.0.1:")
        r = requests.post(sb.webhook_url + "sandboxtest.echo", json={"a": 1}, verify=sb.ca_file)
        assert r.json()["result"]["params"] == {"a": 1}
        with pytest.raises(requests.exceptions.SSLError):
            requests.post(sb.webhook_url + "sandboxtest.echo", json={}, verify=True)
        assert requests.get(sb.control_url + "stats", verify=sb.ca_file).ok
