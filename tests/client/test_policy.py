"""Read/write classification, retry rules and the client-side bucket (no server needed)."""

from __future__ import annotations

import pytest

from bitrix_frames import errors as E
from bitrix_frames.policy import ambiguous, is_read, retryable
from bitrix_frames.throttle import LeakyBucket, OperatingWatch, shared_bucket


@pytest.mark.parametrize(
    ("method", "read"),
    [
        ("crm.deal.list", True),
        ("CRM.Lead.Get", True),
        ("crm.deal.fields", True),
        ("tasks.task.getFields", True),
        ("user.current", True),
        ("crm.deal.list.json", True),
        ("crm.deal.add", False),
        ("crm.deal.update", False),
        ("tasks.task.complete", False),
        ("crm.lead.delete", False),
        ("something.unknown", False),
    ],
)
def test_is_read(method, read):
    assert is_read(method) is read


def test_batch_is_read_only_when_all_commands_are():
    assert is_read("batch", ["crm.deal.list", "user.current"])
    assert not is_read("batch", ["crm.deal.list", "crm.deal.update"])


def test_retry_rules():
    refused = E.QueryLimitExceeded("x", status=503)
    lost = E.TransportError("x", sent=True)
    never_sent = E.TransportError("x", sent=False)
    boom = E.ServerError("x", status=500)
    blocked = E.ServerError("x", code="OVERLOAD_LIMIT", status=503)
    bad = E.InvalidArgument("x", status=400)
    assert retryable(refused, read=False) and retryable(never_sent, read=False)
    assert not retryable(lost, read=False) and not retryable(boom, read=False)
    assert retryable(lost, read=True) and retryable(boom, read=True)
    assert not retryable(blocked, read=True) and not retryable(bad, read=True)
    assert ambiguous(lost) and ambiguous(boom) and not ambiguous(refused)
    assert not ambiguous(never_sent) and not ambiguous(bad)


def test_bucket_lets_the_burst_through_then_paces(monkeypatch):
    clock = {"t": 100.0}
    slept = []
    monkeypatch.setattr("bitrix_frames.throttle.time.monotonic", lambda: clock["t"])
    monkeypatch.setattr("bitrix_frames.throttle.time.sleep", slept.append)
    b = LeakyBucket(rate=2, burst=10)
    waits = [b.acquire() for _ in range(10)]
    assert waits[:8] == [0.0] * 8  # burst minus the safety margin
    assert waits[8] == pytest.approx(0.5) and waits[9] == pytest.approx(1.0)
    b.refused()
    assert b.level >= 10


def test_shared_bucket_shares_the_level_of_a_webhook_never_its_settings(monkeypatch):
    clock = {"t": 100.0}
    monkeypatch.setattr("bitrix_frames.throttle.time.monotonic", lambda: clock["t"])
    a = shared_bucket("hook-A", rate=5, burst=250)
    b = shared_bucket("hook-A", rate=2, burst=50)
    assert (a.rate, a.burst, b.rate, b.burst) == (5, 250, 2, 50)  # no ratchet either way
    assert a.counter is b.counter and shared_bucket("hook-B").counter is not a.counter
    for _ in range(10):
        a.acquire()
    assert b.level == 10  # what the portal has counted, whoever sent it
    clock["t"] += 1.0
    assert b.level == 8  # drained at the reader's own rate
    a.refused()  # a thinks the portal's bucket is 250 deep ...
    assert a.level == 250 and b.next_wait() == pytest.approx((50 + 1 - 48) / 2)  # ... b: 50 at most


def test_operating_watch_slows_down_near_the_limit():
    w = OperatingWatch(limit=480)
    w.report("crm.deal.list", {"operating": 100.0, "operating_reset_at": 4e9})
    assert w.delay("crm.deal.list") == 0
    w.report("crm.deal.list", {"operating": 470.0, "operating_reset_at": 4e9})
    assert w.delay("crm.deal.list") > 0 and w.delay("crm.lead.list") == 0
