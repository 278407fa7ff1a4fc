"""The real curl binary against the sandbox: GET with a bracket query, form POST, JSON POST."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import transport_helpers  # noqa: F401  (registers the sandboxtest.* methods)

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.api import METHODS

CURL = shutil.which("curl")
pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(CURL is None, reason="curl is not installed"),
]


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=5, limits=False) as sandbox:
        yield sandbox


def curl(*args: str) -> tuple[int, dict]:
    """Run curl; returns (HTTP status, decoded JSON body)."""
    out = subprocess.run(
        [CURL, "-sS", "--max-time", "20", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body, _, status = out.rpartition("\n")
    return int(status), json.loads(body)


def test_get_with_bracket_query(sb):
    # -g: no URL globbing, so the brackets reach the server as typed
    status, body = curl(
        "-g", sb.webhook_url + "sandboxtest.echo?filter[>ID]=5&select[]=ID&select[]=TITLE"
    )
    assert status == 200
    assert body["result"]["params"] == {"filter": {">ID": "5"}, "select": ["ID", "TITLE"]}
    assert set(body["time"]) >= {"start", "finish", "operating", "operating_reset_at"}


def test_form_post(sb):
    status, body = curl(
        "--data-urlencode",
        "fields[TITLE]=Deal & Co",
        "--data-urlencode",
        "fields[PHONE][0][VALUE]=+1 555",
        "-d",
        "start=50",
        sb.webhook_url + "sandboxtest.echo",
    )
    assert status == 200
    assert body["result"]["params"] == {
        "fields": {"TITLE": "Deal & Co", "PHONE": [{"VALUE": "+1 555"}]}
    }
    assert body["result"]["start"] == 50


def test_json_post(sb):
    payload = {"filter": {">ID": 5}, "select": ["ID"], "halt": True}
    status, body = curl(
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(payload),
        sb.webhook_url + "sandboxtest.echo.json",
    )
    assert status == 200 and body["result"]["params"] == payload


def test_errors_through_curl(sb):
    status, body = curl(sb.webhook_url.replace(sb.config.secret, "nope") + "user.current")
    assert (status, body["error"]) == (401, "NO_AUTH_FOUND")
    status, body = curl("-X", "POST", sb.webhook_url + "no.such.method")
    assert (status, body["error"]) == (404, "ERROR_METHOD_NOT_FOUND")


def test_curl_batch_form_encoded(sb):
    status, body = curl(
        "--data-urlencode",
        "cmd[a]=sandboxtest.echo?x=1",
        "--data-urlencode",
        "cmd[b]=sandboxtest.echo?y=$result[a][params][x]",
        "-d",
        "halt=0",
        sb.webhook_url + "batch",
    )
    assert status == 200
    assert body["result"]["result"]["b"]["params"] == {"y": "1"}


@pytest.mark.skipif("user.current" not in METHODS, reason="user methods not available")
def test_curl_real_method(sb):
    status, body = curl(sb.webhook_url + "user.current.json")
    assert status == 200 and body["result"]["ID"] == str(sb.config.user_id)
