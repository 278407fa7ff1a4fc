"""The per-row report of an apply: one line per operation, in plan order.

Columns: ``row`` (the ID, or ``new#<position>`` for a new row), ``id`` (the record's ID; the new
ID for adds), ``op``, ``status`` (``ok`` | ``error`` | ``conflict`` | ``skipped``), ``new_id``,
``error_code``, ``description``. Descriptions come from the portal or from the write-back layer and
never contain the webhook secret.

Example::

    >>> rep = report(ops, {"update:5": Outcome("ok")})
    >>> rep[["id", "op", "status"]].values.tolist()
    [[5, 'update', 'ok']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .journal import Outcome
from .ops import Operation

COLUMNS = ["row", "id", "op", "status", "new_id", "error_code", "description"]
STATUSES = ["ok", "error", "conflict", "skipped"]


def report(ops: Sequence[Operation], outcomes: Mapping[str, Outcome]) -> pd.DataFrame:
    """One row per operation; operations without an outcome are ``skipped``."""
    rows = []
    for op in ops:
        out = outcomes.get(op.key) or Outcome("skipped", description="not sent")
        ident = op.id if op.id is not None else out.new_id
        rows.append(
            (str(op.row), ident, op.op, out.status, out.new_id, out.error_code, out.description)
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["id"] = frame["id"].astype("Int64")
    frame["new_id"] = frame["new_id"].astype("Int64")
    frame["status"] = pd.Categorical(frame["status"], categories=STATUSES)
    for col in ("row", "op", "error_code", "description"):
        frame[col] = frame[col].astype("string")
    return frame


def summary(rep: pd.DataFrame) -> dict[str, int]:
    """Counts per status, e.g. ``{'ok': 98, 'error': 1, 'conflict': 1, 'skipped': 0}``."""
    counts = rep["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}
