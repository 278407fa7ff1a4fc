"""Pacing you can see and change: settings per connection, a shared level, visible waits, limits().

All against live sandboxes on loopback; no wall-clock assertions (the waits checked are the ones the
client computed and announced, not measured).
"""

from __future__ import annotations

import io
import logging

import pytest
from client_helpers import FAST
from tqdm import tqdm

import bitrix_frames as bf
from bitrix_frames import errors as E
from bitrix_frames.client import Client
from bitrix_frames.portal import LIMIT_COLUMNS
from bitrix_frames.sandbox.sandbox import Sandbox


def announced(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if hasattr(r, "wait_reason")]


def test_connect_rate_then_a_faster_connect_uses_the_faster_rate(caplog):
    caplog.set_level(logging.INFO, logger="bitrix_frames")
    with Sandbox(deals=5, limits=False) as sb:
        slow = bf.connect(sb.webhook_url, rate=0.5, burst=3)
        fast = bf.connect(sb.webhook_url, rate=5, burst=3)
        assert (slow.client.rate, fast.client.rate) == (0.5, 5.0)
        assert fast.limits().attrs == {"rate": 5.0, "burst": 3.0}
        # capacity 1: every call after the first waits 1/rate: 0.2 s at 5/s (silent), 2 s at 0.5/s
        for _ in range(4):
            fast.call("user.current")
        assert announced(caplog) == []
        # ... and the level is shared: the slow connection sees what the fast one sent.
        assert slow.limits().loc[0, "used"] > 0
        slow.close()
        fast.close()


def test_client_waits_on_its_bucket_logged_at_info_and_shown_on_the_bar(caplog, sandbox):
    caplog.set_level(logging.INFO, logger="bitrix_frames")
    out = io.StringIO()
    # Capacity 1 at 0.4/s: the list's discovery waits 2.5 s behind the first call, its chain
    # 2.5 s behind the discovery.
    with Client(sandbox.webhook_url, rate=0.4, burst=3) as c, tqdm(file=out, mininterval=0) as bar:
        c.call("user.current")
        rows = c.list("crm.deal.list", select=["ID"], filter={"<=ID": 10}, progress=bar)
    assert len(rows) == 10
    record, chain = announced(caplog)
    assert chain.wait_seconds == pytest.approx(2.5, abs=0.1)
    assert record.name == "bitrix_frames" and record.levelno == logging.INFO
    assert record.wait_reason == "request rate" and record.wait_method == "batch"
    assert record.wait_seconds == pytest.approx(2.5, abs=0.1)  # computed, not measured
    message = record.getMessage()
    assert "waiting 2 s before batch: request rate (bucket of 3 requests at 0.4/s)" in message
    assert "/rest/1/***/" in message
    drawn = out.getvalue()
    assert "waiting 2 s: request rate (batch)" in drawn  # the bar's status while it waited
    assert sandbox.config.secret not in caplog.text + drawn


def test_plan_apply_waits_on_the_bucket_and_its_bar_shows_why():
    statuses: list[str] = []

    class Recorder(tqdm):
        def set_postfix_str(self, s="", refresh=True):
            statuses.append(s)
            super().set_postfix_str(s, refresh)

    # Capacity 1 at 0.45/s: a request right after another waits about 2.2 s.
    with Sandbox(deals=20, limits=False) as sb, bf.connect(sb.webhook_url, rate=0.45, burst=3) as p:
        deals = p.deals(select=["ID", "TITLE"])
        plan = p.plan(deals, deals.assign(TITLE="after a wait"))
        p.call("user.current")  # the bucket is full again: the write must wait about 2.2 s
        with Recorder(file=io.StringIO(), mininterval=0) as bar:
            report = plan.apply(journal=False, progress=bar)
            assert bar.n == len(deals)  # the caller's bar is filled, and left open for its owner
    assert (report["status"] == "ok").all()
    assert "waiting 2 s: request rate (batch)" in statuses
    assert statuses[-1] == ""  # cleared once the wait is over


def test_limits_frame_after_calls_against_a_sandbox_with_the_cost_model():
    with (
        Sandbox(deals=60, limits=False, cost_per_call=0.01, cost_per_row=0.001) as sb,
        bf.connect(sb.webhook_url, rate=0.1, burst=1000) as portal,
    ):
        fresh = portal.limits()
        assert list(fresh.columns) == LIMIT_COLUMNS and len(fresh) == 1
        assert fresh.loc[0, "used"] == 0 and fresh.loc[0, "wait"] == 0
        portal.call("crm.deal.list", select=["ID"])
        portal.deals(select=["ID", "TITLE"])
        limits = portal.limits()
        sent = portal.client.counters["http_requests"]
    assert list(limits.columns) == LIMIT_COLUMNS
    bucket = limits.iloc[0]
    assert (bucket["kind"], bucket["method"], bucket["unit"]) == ("request rate", "*", "requests")
    assert 0 < bucket["used"] <= sent and bucket["limit"] == 1000 and bucket["wait"] == 0
    op = limits.set_index("method").loc["crm.deal.list"]
    assert op["kind"] == "operating time" and op["unit"] == "seconds" and op["limit"] == 480
    assert op["used"] > 0  # the sandbox's cost model charged operating seconds
    assert op["reset_at"] > bucket["reset_at"] - __import__("pandas").Timedelta(minutes=1)
    assert str(limits["reset_at"].dtype) == "datetime64[ns, UTC]"
    assert "batch" not in set(limits["method"])  # the outer batch is not counted by the portal


def test_a_sandbox_reusing_a_port_starts_with_no_client_side_pacing_state(caplog):
    """The cause of the 245 s stall of a write-back test in a full run (issue 17)."""
    caplog.set_level(logging.INFO, logger="bitrix_frames")
    # An earlier test: a fast client against a portal with a tiny bucket is refused, which
    # fills the shared level to that client's burst (1000).
    with Sandbox(deals=0, rate=0.5, burst=2) as first:
        port, url = first.port, first.webhook_url
        with (
            Client(first.webhook_url, **FAST, max_retries=0) as c,
            pytest.raises(E.QueryLimitExceeded),
        ):
            for _ in range(10):
                c.call("user.current")
    # A later test gets the same port (same URL: the sandbox secret is fixed) and connects with
    # the defaults (2/s, burst 50). It used to inherit the level of 1000, drained at 2/s:
    # ~475 s of silent waiting.
    with Sandbox(deals=60, limits=False, port=port) as sb, bf.connect(sb.webhook_url) as portal:
        assert sb.webhook_url == url
        assert portal.limits().loc[0, "used"] == 0
        deals = portal.deals(filter={"CATEGORY_ID": 0}, select=["ID", "TITLE", "STAGE_ID"])
        portal.plan(deals, deals.assign(TITLE="x")).apply(journal=False)
    assert announced(caplog) == []


def test_an_open_client_with_a_bigger_burst_cannot_hold_another_longer_than_its_own_bucket():
    with Sandbox(deals=0, rate=0.5, burst=2) as sb:
        big = Client(sb.webhook_url, **FAST, max_retries=0)
        with pytest.raises(E.QueryLimitExceeded):
            for _ in range(10):
                big.call("user.current")
        small = bf.connect(sb.webhook_url)  # 2/s, burst 50; shares the level with `big`
        row = small.limits().iloc[0]
        assert row["used"] <= 50 and row["wait"] <= (50 + 1 - 48) / 2
        big.close()
        small.close()


def test_closing_the_last_client_drops_the_shared_level():
    with Sandbox(deals=0, limits=False) as sb:
        with Client(sb.webhook_url, rate=0.01, burst=100) as c:
            for _ in range(5):
                c.call("user.current")
            assert c.limits()[0]["used"] > 4
        with Client(sb.webhook_url, rate=0.01, burst=100) as again:
            assert again.limits()[0]["used"] == 0


def test_bad_pacing_settings_are_a_typed_error():
    with pytest.raises(E.ValidationError, match="rate must be a positive"):
        Client("http://127.0.0.1:9/rest/1/abcsecret/", rate=0)
    with pytest.raises(E.ValidationError, match="burst"):
        Client("http://127.0.0.1:9/rest/1/abcsecret/", burst=-1)
