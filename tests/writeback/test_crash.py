"""Crash safety: a subprocess applying a large plan is killed with SIGKILL mid-apply; the same
plan applied again from this process finishes the job exactly (no duplicate adds, nothing lost)."""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wb_helpers import assert_exact, desired_edit
from wb_helpers import client as make_client

from bitrix_frames.frames import load
from bitrix_frames.sandbox.sandbox import Sandbox
from bitrix_frames.writeback import plan, summary

ROOT = Path(__file__).resolve().parents[2]


def journal_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state").fetchall())
    except sqlite3.Error:
        return {}


@pytest.mark.timeout(300)
def test_kill_9_mid_apply_then_resume_is_exact(tmp_path):
    # every HTTP request takes 80 ms: a 1,300-operation plan needs ~30 write batches
    with (
        Sandbox(deals=1200, limits=False, latency=0.08, request_time_limit=5) as sb,
        make_client(sb) as c,
    ):
        deals = load(c, "deal")
        after, upd, gone = desired_edit(deals, "crash", 800, 400, 100)
        frames = tmp_path / "frames.pkl"
        frames.write_bytes(pickle.dumps((deals, after)))
        journal = tmp_path / "journal.sqlite"
        env = {**os.environ, "BITRIX_WEBHOOK_URL": sb.webhook_url, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("crash_worker.py")),
                str(frames),
                str(journal),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                counts = journal_counts(journal)
                if counts.get("done", 0) >= 850 and counts.get("sent", 0) > 0:  # adds in flight
                    break
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.005)
            else:
                pytest.fail(f"the worker made no progress: {journal_counts(journal)}")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        worker_fp = proc.stdout.read().split()[0]
        at_kill = journal_counts(journal)
        print("journal at kill:", at_kill)
        assert proc.returncode == -signal.SIGKILL and at_kill.get("done", 0) < 1300

        p = plan(c, deals, after, allow_deletes=True)
        assert p.fingerprint == worker_fp
        sb.reset_stats()
        rep = p.apply(journal=journal)
        assert summary(rep) == {"ok": 1300, "error": 0, "conflict": 0, "skipped": 0}
        assert_exact(sb, "crash", upd, gone, 400)
        # the resumed run sent only what was left (plus lookups), not the whole plan again
        sent = sum(
            v
            for k, v in sb.stats()["sub_calls"].items()
            if k.startswith("crm.deal.") and not k.endswith(".list")
        )
        assert sent <= 1300 - at_kill["done"]
        assert journal_counts(journal) == {"done": 1300}
