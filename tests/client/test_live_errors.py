"""Every error kind, mapped from real sandbox responses (HTTP on loopback, nothing mocked)."""

from __future__ import annotations

import socket

import pytest
from client_helpers import FAST

from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.sandbox.sandbox import Sandbox


def test_auth_error_wrong_secret(sandbox):
    bad = sandbox.webhook_url.replace(sandbox.config.secret, "wrongsecret123")
    with Client(bad, **FAST) as c, pytest.raises(E.AuthError) as info:
        c.call("crm.deal.list")
    assert (info.value.code, info.value.status, info.value.method) == (
        "NO_AUTH_FOUND",
        401,
        "crm.deal.list",
    )


def test_method_not_found(client):
    with pytest.raises(E.MethodNotFound) as info:
        client.call("crm.nothing.here")
    assert info.value.status == 404 and info.value.code == "ERROR_METHOD_NOT_FOUND"


def test_not_found(client):
    with pytest.raises(E.NotFound) as info:
        client.call("crm.deal.get", id=99_999_999)
    assert info.value.status == 400


def test_invalid_argument(client):
    with pytest.raises(E.InvalidArgument) as info:
        client.call("crm.deal.list", filter="not an array")
    assert "filter" in info.value.description


def test_batch_too_long_is_invalid_argument(client):
    cmds = {f"c{i}": "crm.deal.fields" for i in range(51)}
    with pytest.raises(E.InvalidArgument) as info:
        client.batch_chunk(cmds)
    assert info.value.code == "ERROR_BATCH_LENGTH_EXCEEDED"


def test_query_limit_exceeded_when_client_pacing_is_off():
    with Sandbox(deals=0, rate=0.5, burst=2) as sb:
        c = Client(sb.webhook_url, rate=1000, burst=1000, max_retries=0)
        with pytest.raises(E.QueryLimitExceeded) as info:
            for _ in range(10):
                c.call("crm.deal.fields")
        assert info.value.status == 503
        assert sb.stats()["refused_rate_limit"] == 1


def test_operation_time_limit():
    with Sandbox(deals=0, limits=False, operating_limit=0.05, cost_per_call=0.1) as sb:
        c = Client(sb.webhook_url, **FAST, max_retries=0)
        c.call("crm.deal.fields")  # pushes the method over its budget, still answered
        assert c.operating["crm.deal.fields"] >= 0.1
        with pytest.raises(E.OperationTimeLimit) as info:
            c.call("crm.deal.fields")
        assert info.value.status == 429
        c.call("crm.lead.fields")  # other methods unaffected


def test_server_error_after_retries():
    with Sandbox(deals=0, limits=False, faults={"error": 1.0}) as sb:
        c = Client(sb.webhook_url, **FAST, max_retries=2)
        with pytest.raises(E.ServerError) as info:
            c.call("crm.deal.fields")
        assert info.value.status == 500
        assert sb.stats()["http_requests"] == 3  # first try + 2 retries (a read)


def test_transport_error_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = Client(f"http://127.0.0.1:{port}/rest/1/abcsecret999/", **FAST, max_retries=1)
    with pytest.raises(E.TransportError) as info:
        c.call("crm.deal.fields")
    assert info.value.sent is False


def test_transport_error_dropped_read():
    with Sandbox(deals=0, limits=False, faults={"drop": 1.0}) as sb:
        c = Client(sb.webhook_url, **FAST, max_retries=1)
        with pytest.raises(E.TransportError) as info:
            c.call("crm.deal.fields")
        assert info.value.sent is True
        assert sb.stats()["http_requests"] == 2


def test_timeout_is_transport_error():
    with Sandbox(deals=0, limits=False, faults={"slow": 1.0}, slow_seconds=1.0) as sb:
        c = Client(sb.webhook_url, **FAST, max_retries=0, timeout=(2, 0.2))
        with pytest.raises(E.TransportError, match="timeout"):
            c.call("crm.deal.fields")
