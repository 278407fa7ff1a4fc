"""The ``late`` fault: the server executes a request after the client's read timeout has fired,
and the request run-time cap (``request_time_limit``) that bounds how late that can be."""

from __future__ import annotations

import pytest
import requests
from transport_helpers import writes

from bitrix_frames.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.timeout(60)


def _count_deals(sb, title: str) -> int:
    """Count in-process (every HTTP request of these sandboxes is faulted)."""
    outcome = sb.engine.execute("crm.deal.list", {"filter": {"TITLE": title}, "select": ["ID"]})
    return len(outcome.result)


def test_late_add_times_out_then_lands_exactly_once():
    with Sandbox(deals=5, limits=False, faults={"late": 1.0}, late_seconds=2.0) as sb:
        with pytest.raises(requests.Timeout):
            requests.post(
                sb.webhook_url + "crm.deal.add",
                json={"fields": {"TITLE": "late-one"}},
                timeout=(5, 0.3),
            )
        assert sb.stats()["late_pending"] == 1
        assert sb.wait_idle(timeout=30)
        stats = sb.stats()
        assert stats["late_pending"] == 0
        assert stats["faults"] == {"late": 1}
        assert stats["sub_calls"] == {"crm.deal.add": 1}
        assert _count_deals(sb, "late-one") == 1


def test_late_answer_is_lost_even_to_a_patient_client():
    with Sandbox(deals=5, limits=False, faults={"late": 1.0}, late_seconds=0.2) as sb:
        with pytest.raises(requests.ConnectionError):
            requests.post(sb.webhook_url + "sandboxtest.write", json={}, timeout=10)
        assert sb.wait_idle(timeout=30)
        assert writes(sb) == 1


def _late_pattern(seed: int) -> list[bool]:
    faults = {"late": 0.5}
    with Sandbox(deals=5, limits=False, faults=faults, fault_seed=seed, late_seconds=0.05) as sb:
        unanswered = []
        for _ in range(12):
            try:
                requests.post(sb.webhook_url + "sandboxtest.write", json={}, timeout=10)
                unanswered.append(False)
            except requests.ConnectionError:
                unanswered.append(True)
        assert sb.wait_idle(timeout=30)
        assert writes(sb) == 12  # every request executed exactly once, late or not
        assert sb.stats()["faults"].get("late", 0) == sum(unanswered)
        return unanswered


def test_late_faults_are_deterministic_per_seed():
    first = _late_pattern(5)
    assert first == _late_pattern(5)
    assert True in first and False in first


def test_late_seconds_must_stay_below_the_request_time_limit():
    with pytest.raises(ValueError, match="late_seconds"):
        SandboxConfig(faults={"late": 0.1}, late_seconds=60.0, request_time_limit=60.0)
    with pytest.raises(ValueError):
        Sandbox(faults={"late": 0.1}, late_seconds=5, request_time_limit=2)
    with pytest.raises(ValueError):
        SandboxConfig(request_time_limit=0)


def test_nothing_executes_after_the_request_time_limit():
    # A slow fault holds the request longer than the run-time cap: the request is cut off (no
    # answer) and the write never happens, however long one waits.
    config = {"faults": {"slow": 1.0}, "slow_seconds": 0.6, "request_time_limit": 0.3}
    with Sandbox(deals=5, limits=False, **config) as sb:
        with pytest.raises(requests.ConnectionError):
            requests.post(sb.webhook_url + "sandboxtest.write", json={}, timeout=10)
        assert writes(sb) == 0
        assert sb.stats()["cut_off"] == 1


def test_a_batch_reaching_the_limit_stops_between_sub_calls():
    # Each write sleeps its modelled cost; the cap falls during the batch: the commands started
    # before it ran, none after it.
    config = {"cost_per_call": 0.2, "sleep": True, "request_time_limit": 0.5}
    with Sandbox(deals=5, limits=False, **config) as sb:
        cmd = {f"w{i}": "sandboxtest.write" for i in range(10)}
        with pytest.raises(requests.ConnectionError):
            requests.post(sb.webhook_url + "batch", json={"cmd": cmd}, timeout=10)
        done = writes(sb)
        assert done < 10
        assert sb.stats()["sub_calls"]["sandboxtest.write"] == done
        assert sb.stats()["cut_off"] == 1
