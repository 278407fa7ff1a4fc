"""Write-back: apply DataFrame diffs to Bitrix24 as validated, batched add/update/delete calls,
with a dry-run plan, a per-row report, conflict detection and a crash-safe journal.

Example::

    from bitrix_frames.writeback import plan
    p = plan(client, deals, edited)      # validated; nothing sent
    p.changes                            # id, op, field, old, new
    report = p.apply()                   # row, id, op, status, new_id, error_code, description
"""

from __future__ import annotations

from .plan import Plan, plan
from .report import summary

__all__ = ["Plan", "plan", "summary"]
