"""Subprocess of test_crash: apply a pickled plan against a sandbox until killed.

Usage: python crash_worker.py FRAMES.pkl JOURNAL.sqlite  (webhook URL in BITRIX_WEBHOOK_URL)
"""

from __future__ import annotations

import os
import pickle
import sys

from bitrix_frames.client import Client
from bitrix_frames.writeback import plan

if __name__ == "__main__":
    frames_path, journal_path = sys.argv[1], sys.argv[2]
    with open(frames_path, "rb") as fh:
        before, after = pickle.load(fh)
    client = Client(os.environ["BITRIX_WEBHOOK_URL"], rate=1000.0, burst=1000.0)
    p = plan(client, before, after, allow_deletes=True)
    print(p.fingerprint, flush=True)
    p.apply(journal=journal_path)
    print("finished", flush=True)
