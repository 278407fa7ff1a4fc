"""Request-rate and operating-time limits, and the cost model, seen from an HTTP client."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from samples import SAMPLES
from transport_helpers import post_json, writes

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.dispatch import cost_left
from bitrix_frames.sandbox.limits import LeakyBucket, OperatingClock

pytestmark = pytest.mark.timeout(60)

OPERATING_LIMIT = {
    "error": "OPERATION_TIME_LIMIT",
    "error_description": "Method is blocked due to operation time limit.",
}


def test_leaky_bucket_model():
    bucket = LeakyBucket(rate=2, burst=3)
    assert [bucket.admit("k", now=0.0) for _ in range(6)] == [True] * 4 + [False] * 2
    assert bucket.admit("other", now=0.0)  # per credential
    assert not bucket.admit("k", now=0.4)  # 4 - 0.8 = 3.2 > 3: still refused
    assert bucket.admit("k", now=1.0)  # 4 - 2 = 2 <= 3: admitted, refusals added nothing


def test_operating_clock_buckets_and_reset_time():
    clock = OperatingClock(limit=10, window=600)
    clock.add("m", "k", 4, now=1000.0)
    clock.add("m", "k", 4, now=1030.0)  # same one-minute bucket
    clock.add("m", "k", 4, now=1100.0)  # a new bucket
    assert clock.used("m", "k", now=1100.0) == (12, 1600)
    assert clock.over_limit("m", "k", now=1100.0)
    assert clock.used("m", "k", now=1600.0) == (4, 1700)  # the first bucket expired
    assert not clock.over_limit("m", "k", now=1600.0)
    assert clock.used("other", "k", now=1100.0) == (0.0, None)


def test_burst_of_60_gets_503_and_refused_requests_do_not_execute():
    with Sandbox(deals=5, rate=2, burst=50) as sb:
        url = sb.webhook_url + "sandboxtest.write"
        with requests.Session() as session:
            responses = [session.post(url, json={}) for _ in range(60)]
        ok = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 503]
        assert len(ok) + len(refused) == 60
        assert len(ok) >= 51 and refused
        expected = json.loads((SAMPLES / "error.QUERY_LIMIT_EXCEEDED.json").read_text())
        assert all(r.json() == expected for r in refused)
        assert writes(sb) == len(ok)
        stats = sb.stats()
        assert stats["refused_rate_limit"] == len(refused)
        assert stats["sub_calls"]["sandboxtest.write"] == len(ok)
        assert stats["http_requests"] == 60


def test_a_batch_counts_as_one_request():
    with Sandbox(deals=5, rate=0.001, burst=0) as sb:
        status, body = post_json(sb, "batch", {"cmd": ["sandboxtest.write"] * 10})
        assert status == 200 and len(body["result"]["result"]) == 10
        status, body = post_json(sb, "sandboxtest.write", {})
        assert status == 503 and body["error"] == "QUERY_LIMIT_EXCEEDED"
        assert writes(sb) == 10


def test_limits_false_disables_the_bucket():
    with Sandbox(deals=5, rate=0.001, burst=0, limits=False) as sb:
        assert {post_json(sb, "sandboxtest.echo", {})[0] for _ in range(5)} == {200}


def test_operating_limit_yields_429_per_method_and_reports_usage():
    with Sandbox(deals=5, limits=False, operating_limit=0.25, cost_per_call=0.1) as sb:
        times = []
        for _ in range(3):
            status, body = post_json(sb, "sandboxtest.write", {})
            assert status == 200
            times.append(body["time"])
        assert [round(t["operating"], 1) for t in times] == [0.1, 0.2, 0.3]
        assert all(
            t["operating_reset_at"] == int(times[0]["start"] + sb.config.operating_window)
            for t in times
        )
        # over the limit now: refused before execution, the write does not happen
        status, body = post_json(sb, "sandboxtest.write", {})
        assert status == 429 and body == OPERATING_LIMIT
        assert writes(sb) == 3
        # other methods still work, and inside a batch the refusal is per command
        assert post_json(sb, "sandboxtest.echo", {})[0] == 200
        status, body = post_json(
            sb, "batch", {"cmd": {"w": "sandboxtest.write", "e": "sandboxtest.echo"}}
        )
        assert status == 200
        assert body["result"]["result_error"] == {"w": OPERATING_LIMIT}
        assert list(body["result"]["result"]) == ["e"]
        stats = sb.stats()
        assert stats["refused_operating"] == 2
        assert stats["operating_seconds"]["sandboxtest.write"] == pytest.approx(0.3, abs=0.05)


def test_operating_window_expiry_reopens_the_method():
    with Sandbox(deals=5, limits=False, operating_limit=0.05, cost_per_call=0.1) as sb:
        sb.engine.clock.window = 0.0  # every bucket is already expired: nothing accumulates
        for _ in range(3):
            assert post_json(sb, "sandboxtest.write", {})[0] == 200


def test_cost_model_feeds_operating_and_stats():
    with Sandbox(
        deals=5,
        limits=False,
        cost_per_call=0.01,
        cost_per_row=0.001,
        cost_per_count_row=0.0001,
        cost_per_skip_row=0.00001,
    ) as sb:
        _, body = post_json(sb, "sandboxtest.page", {"n": 50, "counted": 1000, "skipped": 2000})
        modelled = 0.01 + 50 * 0.001 + 1000 * 0.0001 + 2000 * 0.00001
        assert body["time"]["operating"] >= modelled
        assert body["time"]["operating"] == pytest.approx(modelled, abs=0.05)
        stats = sb.stats()
        assert (stats["rows_returned"], stats["rows_counted"], stats["rows_skipped"]) == (
            50,
            1000,
            2000,
        )
        assert stats["operating_seconds_total"] == pytest.approx(modelled, abs=0.05)


def test_sleep_makes_wall_time_include_the_modelled_cost():
    with Sandbox(deals=5, limits=False, cost_per_call=0.2, sleep=True) as sb:
        _, body = post_json(sb, "sandboxtest.echo", {})
        assert body["time"]["processing"] >= 0.2  # a lower bound guaranteed by the sleep
    with Sandbox(deals=5, limits=False, cost_per_call=0.2, sleep=False) as sb:
        _, body = post_json(sb, "sandboxtest.echo", {})
        assert body["time"]["processing"] < 0.2 <= body["time"]["operating"]


def test_latency_is_not_operating_time():
    with Sandbox(deals=5, limits=False, latency=0.5) as sb:
        began = time.monotonic()
        _, body = post_json(sb, "sandboxtest.echo", {})
        assert time.monotonic() - began >= 0.5  # the client waited for the latency...
        assert body["time"]["operating"] < 0.5  # ...which is not counted as operating time


def test_concurrent_clients_share_one_bucket():
    with Sandbox(deals=5, rate=0.001, burst=9) as sb:
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda _: post_json(sb, "sandboxtest.write", {})[0], range(20)))
        assert codes.count(200) == 10 and codes.count(503) == 10
        assert writes(sb) == 10


def test_the_modelled_cost_is_the_whole_processing_time_not_added_to_the_sandboxs_own():
    assert cost_left(0.5, 0.125) == 0.375  # the sandbox's own work counts toward the cost
    assert cost_left(0.07, 0.2) == 0.0  # slower than the model (e.g. behind the GIL): no sleep
    with Sandbox(deals=5, limits=False, cost_per_call=0.3, sleep=True) as sb:
        _, body = post_json(sb, "sandboxtest.busy", {"seconds": 0.2})
    assert body["time"]["processing"] >= 0.3  # at least the modelled cost
    # operating time: the model, not 0.2 s of the sandbox's CPU + 0.3 s of model (0.5)
    assert body["time"]["operating"] == pytest.approx(0.3, abs=0.05)
