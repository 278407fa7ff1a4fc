"""Injected faults, observed from the client side and in the stats."""

from __future__ import annotations

import http.client
import json
import time

import pytest
import requests
from transport_helpers import post_json, writes

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.faults import KINDS, FaultInjector

pytestmark = pytest.mark.timeout(60)


def test_draws_are_seeded_and_follow_the_fractions():
    fractions = {kind: 0.1 for kind in KINDS}
    first = [FaultInjector(fractions, seed=7).draw() for _ in range(1)]
    a, b = FaultInjector(fractions, seed=7), FaultInjector(fractions, seed=7)
    seq = [a.draw() for _ in range(2000)]
    assert seq == [b.draw() for _ in range(2000)] and seq[:1] == first
    for kind in KINDS:
        assert 120 < seq.count(kind) < 280  # ~200 each, far from 0 and from 2000
    assert FaultInjector({}, seed=1).draw() is None
    with pytest.raises(ValueError):
        FaultInjector({"meteor": 0.5})
    with pytest.raises(ValueError):
        FaultInjector({"lost": 0.7, "drop": 0.7})


def _post_raw(sb, method: str) -> tuple[int, dict]:
    """POST over a fresh connection; raises when the server closes without answering."""
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        conn.request(
            "POST",
            f"/rest/1/{sb.config.secret}/{method}",
            body=b"{}",
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_refused_is_503_before_execution():
    with Sandbox(deals=5, limits=False, faults={"refused": 1.0}) as sb:
        status, body = _post_raw(sb, "sandboxtest.write")
        assert status == 503
        assert body == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        assert writes(sb) == 0
        assert sb.stats()["faults"] == {"refused": 1}


def test_error_is_500_before_execution():
    with Sandbox(deals=5, limits=False, faults={"error": 1.0}) as sb:
        status, body = _post_raw(sb, "sandboxtest.write")
        assert status == 500
        assert body == {
            "error": "INTERNAL_SERVER_ERROR",
            "error_description": "Internal server error",
        }
        assert writes(sb) == 0
        assert sb.stats()["faults"] == {"error": 1}


def test_drop_closes_the_connection_before_execution():
    with Sandbox(deals=5, limits=False, faults={"drop": 1.0}) as sb:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _post_raw(sb, "sandboxtest.write")
        assert writes(sb) == 0
        assert sb.stats()["faults"] == {"drop": 1}
        assert "sandboxtest.write" not in sb.stats()["sub_calls"]


def test_lost_executes_the_write_but_no_response_arrives():
    with Sandbox(deals=5, limits=False, faults={"lost": 1.0}) as sb:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            _post_raw(sb, "sandboxtest.write")
        assert writes(sb) == 1  # the write happened although the client saw nothing
        stats = sb.stats()
        assert stats["faults"] == {"lost": 1}
        assert stats["sub_calls"] == {"sandboxtest.write": 1}


def test_lost_seen_through_requests_is_a_connection_error():
    with Sandbox(deals=5, limits=False, faults={"lost": 1.0}) as sb:
        with pytest.raises(requests.ConnectionError):
            requests.post(sb.webhook_url + "sandboxtest.write", json={}, timeout=10)
        assert writes(sb) == 1


def test_slow_answers_after_the_delay():
    with Sandbox(deals=5, limits=False, faults={"slow": 1.0}, slow_seconds=0.3) as sb:
        began = time.monotonic()
        status, body = _post_raw(sb, "sandboxtest.write")
        assert time.monotonic() - began >= 0.3
        assert status == 200 and body["result"] == 1
        assert sb.stats()["faults"] == {"slow": 1}


def test_faults_never_touch_control_routes():
    with Sandbox(deals=5, limits=False, faults={"drop": 1.0}) as sb:
        for _ in range(5):
            assert requests.get(sb.control_url + "stats", timeout=10).status_code == 200
        assert sb.stats()["faults"] == {}


def test_mixed_faults_are_counted_as_observed():
    faults = {"refused": 0.15, "error": 0.15, "drop": 0.15, "lost": 0.15}
    with Sandbox(deals=5, limits=False, faults=faults, fault_seed=3) as sb:
        seen = {"refused": 0, "error": 0, "no_answer": 0, "ok": 0}
        for _ in range(80):
            try:
                status, _ = _post_raw(sb, "sandboxtest.write")
            except (http.client.RemoteDisconnected, ConnectionError):
                seen["no_answer"] += 1
                continue
            seen[{503: "refused", 500: "error", 200: "ok"}[status]] += 1
        injected = sb.stats()["faults"]
        assert seen["refused"] == injected.get("refused", 0) > 0
        assert seen["error"] == injected.get("error", 0) > 0
        assert seen["no_answer"] == injected.get("drop", 0) + injected.get("lost", 0)
        assert seen["ok"] == 80 - sum(injected.values())
        # executed = answered OK + lost (executed, answer dropped)
        assert writes(sb) == seen["ok"] + injected.get("lost", 0)


def test_same_seed_same_fault_sequence():
    def observe() -> list[int]:
        with Sandbox(deals=5, limits=False, faults={"refused": 0.5}, fault_seed=11) as sb:
            return [post_json(sb, "sandboxtest.echo")[0] for _ in range(20)]

    first = observe()
    assert first == observe() and set(first) == {200, 503}
