"""The ``batch`` method over HTTP: command forms, references, halt, limits, nesting, accounting."""

from __future__ import annotations

import json

import pytest
import requests
from samples import SAMPLES
from transport_helpers import post_json, writes

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.api import METHODS
from bitrix_frames.sandbox.batch import substitute
from bitrix_frames.sandbox.phpquery import build_query

pytestmark = pytest.mark.timeout(60)

MAP_KEYS = ["result", "result_error", "result_total", "result_next", "result_time"]
TIME_KEYS = ["start", "finish", "duration", "processing", "date_start", "date_finish"]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=5, limits=False) as sandbox:
        yield sandbox


def run(sb, cmd, halt=0) -> dict:
    status, body = post_json(sb, "batch", {"halt": halt, "cmd": cmd})
    assert status == 200, body
    return body


def test_independent_commands_and_maps(sb):
    body = run(sb, {"e": "sandboxtest.echo?x=1", "p": "sandboxtest.page?n=2&total=120&next=50"})
    assert list(body) == ["result", "time"]
    res = body["result"]
    assert list(res) == MAP_KEYS
    assert res["result"]["e"]["params"] == {"x": "1"}
    assert res["result"]["p"] == [{"ID": "1"}, {"ID": "2"}]
    assert res["result_error"] == []
    assert res["result_total"] == {"p": 120}
    assert res["result_next"] == {"p": 50}
    assert list(res["result_time"]) == ["e", "p"]
    assert list(res["result_time"]["e"]) == TIME_KEYS


def test_references_raw_value_string_replacement_and_missing_paths(sb):
    body = run(
        sb,
        {
            "a": "sandboxtest.echo?x[y]=5&x[z][]=7",
            "raw": "sandboxtest.echo?v=$result[a][params][x]",
            "leaf": "sandboxtest.echo?filter[>ID]=$result[a][params][x][y]",
            "text": "sandboxtest.echo?t=id_$result[a][params][x][y]",
            "list": "sandboxtest.echo?first=$result[a][params][x][z][0]",
            "missing": "sandboxtest.echo?m=$result[a][params][nope][deeper]",
            "nocmd": "sandboxtest.echo?n=$result[zzz][x]",
        },
    )["result"]["result"]
    assert body["raw"]["params"] == {"v": {"y": "5", "z": ["7"]}}
    assert body["leaf"]["params"] == {"filter": {">ID": "5"}}
    assert body["text"]["params"] == {"t": "id_5"}
    assert body["list"]["params"] == {"first": "7"}
    # the walk stops at the first missing key and uses the parent value
    assert body["missing"]["params"] == {"m": {"x": {"y": "5", "z": ["7"]}}}
    assert set(body["nocmd"]["params"]["n"]) == {"a", "raw", "leaf", "text", "list", "missing"}


def test_substitute_walks_lists_and_prints_like_php():
    maps = {"result": {"u": [{"ID": "3", "F": True, "L": [1]}]}, "next": {"u": 50}}
    assert substitute("$result[u][0][ID]", maps) == "3"
    assert substitute("$result[u][0][L]", maps) == [1]
    # like the core, a reference runs to the next whitespace: the "b" is swallowed
    assert substitute("a$result[u][0][F]b $result[u][0][L] c", maps) == "a1 Array c"
    assert substitute("$next[u]", maps) == 50
    # "$result_next[u]" is "$result" followed by "_next[u]" (the core tries "result" first)
    assert substitute("$result_next[u]", maps) == [{"ID": "3", "F": True, "L": [1]}]
    assert substitute("no reference", maps) == "no reference"


def test_list_form_of_cmd(sb):
    res = run(sb, ["sandboxtest.echo?a=1", "sandboxtest.echo?a=$result[0][params][a]"])["result"]
    assert [r["params"] for r in res["result"]] == [{"a": "1"}, {"a": "1"}]  # PHP list -> array
    assert len(res["result_time"]) == 2


def test_halt_0_and_halt_1_match_the_documented_shapes(sb):
    cmd = {"get_user": "sandboxtest.fail", "get_department": "sandboxtest.fail"}
    for halt, sample in (
        (0, "batch.error.halt0.response.json"),
        (1, "batch.error.halt1.response.json"),
    ):
        res = run(sb, cmd, halt)["result"]
        expected = json.loads((SAMPLES / sample).read_text())["result"]
        assert list(res) == list(expected)
        assert list(res["result_error"]) == list(expected["result_error"])
        for key in ("result", "result_total", "result_next", "result_time"):
            assert res[key] == expected[key] == []
        assert res["result_error"]["get_user"] == {"error": "", "error_description": "Not found"}


@pytest.mark.parametrize(("halt", "ran"), [(True, 1), ("Y", 1), ("1", 1), (False, 2), ("0", 2)])
def test_halt_stops_at_the_first_error(sb, halt, ran):
    before = writes(sb)
    res = run(
        sb, {"w1": "sandboxtest.write", "bad": "sandboxtest.fail", "w2": "sandboxtest.write"}, halt
    )
    assert writes(sb) - before == ran
    assert list(res["result"]["result"]) == (["w1"] if ran == 1 else ["w1", "w2"])


def test_more_than_50_commands_is_refused_whole(sb):
    before = writes(sb)
    status, body = post_json(
        sb, "batch", {"cmd": {f"c{i}": "sandboxtest.write" for i in range(51)}}
    )
    assert status == 400
    assert body == {
        "error": "ERROR_BATCH_LENGTH_EXCEEDED",
        "error_description": "Max batch length exceeded",
    }
    assert writes(sb) == before
    assert len(run(sb, {f"c{i}": "sandboxtest.write" for i in range(50)})["result"]["result"]) == 50


def test_nested_batch_and_unknown_method_fail_per_command(sb):
    res = run(
        sb, {"n": "batch?cmd[x]=sandboxtest.echo", "u": "no.such.method", "ok": "sandboxtest.echo"}
    )
    errors = res["result"]["result_error"]
    assert errors["n"] == {
        "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
        "error_description": "Method is not allowed for batch usage",
    }
    assert errors["u"] == {
        "error": "ERROR_METHOD_NOT_FOUND",
        "error_description": "Method not found!",
    }
    assert list(res["result"]["result"]) == ["ok"]


def test_start_inside_a_command_and_case_insensitive_names(sb):
    res = run(sb, {"a": "SandboxTest.Echo?start=100&x=1", "b": "sandboxtest.echo.json?start=-1"})
    assert res["result"]["result"]["a"] == {
        "params": {"x": "1"},
        "start": 100,
        "method": "sandboxtest.echo",
    }
    assert res["result"]["result"]["b"]["start"] == -1


def test_form_encoded_batch_with_double_encoding(sb):
    inner = "sandboxtest.echo?" + build_query({"filter": {">ID": 5, "%TITLE": "a&b"}})
    form = build_query({"halt": 0, "cmd": {"q": inner}})
    r = requests.post(
        sb.webhook_url + "batch",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.json()["result"]["result"]["q"]["params"] == {"filter": {">ID": "5", "%TITLE": "a&b"}}
    r = requests.get(sb.webhook_url + "batch?" + form)
    assert r.json()["result"]["result"]["q"]["params"] == {"filter": {">ID": "5", "%TITLE": "a&b"}}


def test_sub_calls_are_counted_and_the_batch_is_one_request():
    with Sandbox(deals=5, limits=False) as sb:
        run(sb, {"a": "sandboxtest.page?n=3", "b": "sandboxtest.page?n=4", "c": "sandboxtest.echo"})
        stats = sb.stats()
        assert stats["http_requests"] == 1
        assert stats["sub_calls"] == {"batch": 1, "sandboxtest.page": 2, "sandboxtest.echo": 1}
        assert stats["rows_returned"] == 7
        assert "batch" not in {k for k, v in stats["operating_seconds"].items() if v > 0}


@pytest.mark.skipif("user.current" not in METHODS, reason="user methods not available")
def test_documented_linked_request_with_real_methods(sb):
    cmd = json.loads((SAMPLES / "batch.linked.request.json").read_text())["cmd"]
    if "department.get" not in METHODS:
        pytest.skip("department.get not available")
    res = run(sb, cmd)["result"]
    assert res["result_error"] == []
    assert res["result"]["get_user"]["ID"] == "1"
    dept_id = res["result"]["get_user"]["UF_DEPARTMENT"][0]
    assert [d["ID"] for d in res["result"]["get_department"]] == [str(dept_id)]
