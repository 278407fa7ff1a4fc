"""Cell-level difference of two frames indexed by ID: which rows to add, update or delete.

Rows of ``after`` whose index is NA are new (adds); rows present in both with changed cells are
updates carrying only the changed columns; rows of ``before`` missing from ``after`` are deletes.
Nothing here knows field metadata: structural problems (duplicate, unknown or malformed IDs) are
returned as :class:`~bitrix_frames.writeback.problems.Problem` records, not raised.

Example::

    >>> before = pd.DataFrame({"TITLE": ["a", "b"]}, index=pd.Index([1, 2], name="ID"))
    >>> after = before.drop(index=2)
    >>> after.loc[1, "TITLE"] = "A"
    >>> d = diff(before, after, allow_deletes=True)
    >>> [(r.op, r.id, r.values) for r in d.rows]
    [('update', 1, {'TITLE': 'A'}), ('delete', 2, {})]
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ..schema.to_api import is_missing
from .problems import Problem


@dataclass
class RowDiff:
    """One row-level operation found by the diff (before validation and conversion)."""

    op: str
    """``add`` | ``update`` | ``delete``."""
    id: int | None
    """Entity ID (None for adds)."""
    row: Hashable
    """How the row is named in messages: the ID, or ``new#<position in after>`` for adds."""
    values: dict[str, Any] = field(default_factory=dict)
    """New values: every non-empty cell of an add, the changed cells of an update."""
    old: dict[str, Any] = field(default_factory=dict)
    """Values in ``before`` of the changed cells (updates)."""
    pos: int | None = None
    """Position of the row in ``after`` (adds and updates)."""


@dataclass
class Diff:
    rows: list[RowDiff]
    problems: list[Problem]


def canonical(value: Any) -> Any:
    """A comparable, hashable form of a cell value (numbers, instants, nested lists/dicts)."""
    if is_missing(value):
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), canonical(v)) for k, v in value.items()))
    if isinstance(value, set):
        return tuple(sorted(map(repr, value)))
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        number = float(value)
        return int(number) if math.isfinite(number) and number.is_integer() else number
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date):
        return value
    return value


def same(a: Any, b: Any) -> bool:
    """Cell equality that treats NA == NA and 1 == 1.0 and compares lists element-wise."""
    ca, cb = canonical(a), canonical(b)
    if ca is None or cb is None:
        return ca is None and cb is None
    try:
        return bool(ca == cb)
    except (TypeError, ValueError):
        return repr(ca) == repr(cb)


def _as_id(label: Any) -> int | None:
    """Index label -> positive int, or None when it is not a valid ID."""
    if isinstance(label, (bool, np.bool_)):
        return None
    if isinstance(label, (int, np.integer)):
        return int(label) if label > 0 else None
    if isinstance(label, (float, np.floating)):
        return int(label) if math.isfinite(label) and label.is_integer() and label > 0 else None
    if isinstance(label, str) and label.strip().isdigit():
        return int(label) if int(label) > 0 else None
    return None


def _index_ids(frame: pd.DataFrame, which: str, id_field: str) -> tuple[list, list[Problem]]:
    """IDs of a frame's rows (None for NA = new rows) and the problems of its index."""
    problems: list[Problem] = []
    ids: list[int | None] = []
    seen: dict[int, int] = {}
    id_col = frame[id_field] if id_field in frame.columns else None
    for pos, label in enumerate(frame.index):
        if is_missing(label):
            if id_col is not None and not is_missing(id_col.iloc[pos]):
                problems.append(
                    Problem(
                        f"new#{pos}", id_field, "ID column set on a row with an NA index", which
                    )
                )
            ids.append(None)
            continue
        ident = _as_id(label)
        if ident is None:
            shown = label.item() if isinstance(label, np.generic) else label
            problems.append(
                Problem(shown, id_field, f"invalid ID {shown!r}: IDs are positive integers", which)
            )
            ids.append(None)
            continue
        if id_col is not None:
            col_value = id_col.iloc[pos]
            if is_missing(col_value):
                problems.append(Problem(ident, id_field, "NaN ID in the ID column", which))
            elif _as_id(col_value) != ident:
                problems.append(
                    Problem(
                        ident, id_field, f"ID column {col_value!r} differs from the index", which
                    )
                )
        if ident in seen:
            problems.append(Problem(ident, id_field, f"duplicate ID {ident} in {which}", which))
        seen[ident] = pos
        ids.append(ident)
    return ids, problems


def _maybe_changed(old: pd.Series, new: pd.Series, pairs: list[tuple[int, int]]) -> set | None:
    """Positions (in ``after``) whose cell may differ, by a vectorised comparison of same-dtype
    scalar columns; None = compare every cell one by one (object columns, mixed dtypes)."""
    if not pairs or old.dtype != new.dtype or old.dtype == object:
        return None
    apos = np.fromiter((a for a, _ in pairs), dtype=np.int64, count=len(pairs))
    bpos = np.fromiter((b for _, b in pairs), dtype=np.int64, count=len(pairs))
    try:
        o = old.iloc[bpos].reset_index(drop=True)
        n = new.iloc[apos].reset_index(drop=True)
        equal = (o == n).fillna(False).to_numpy(dtype=bool) | (o.isna() & n.isna()).to_numpy()
    except (TypeError, ValueError):
        return None
    return set(apos[~equal].tolist())


def diff(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    allow_deletes: bool = False,
    id_field: str = "ID",
    ignore: tuple[str, ...] = (),
) -> Diff:
    """Compare two frames indexed by ID; see the module docstring.

    ``ignore`` names columns never compared (e.g. computed label columns).
    Deletes are listed only when ``allow_deletes``.
    """
    before_ids, problems = _index_ids(before, "before", id_field)
    after_ids, after_problems = _index_ids(after, "after", id_field)
    problems += after_problems
    if any(i is None for i in before_ids):
        problems.append(Problem("before", id_field, "before has rows without an ID", "before"))

    before_pos = {i: p for p, i in enumerate(before_ids) if i is not None}
    skip = {id_field, *ignore}
    after_cols = [c for c in after.columns if c not in skip]
    before_cols = set(before.columns)

    rows: list[RowDiff] = []
    after_columns = {c: after[c].tolist() for c in after_cols}
    before_columns = {c: before[c].tolist() for c in after_cols if c in before_cols}
    pairs = [
        (pos, before_pos[i]) for pos, i in enumerate(after_ids) if i is not None and i in before_pos
    ]
    candidates = {
        c: _maybe_changed(before[c], after[c], pairs) for c in after_cols if c in before_cols
    }
    for pos, ident in enumerate(after_ids):
        label = after.index[pos]
        if ident is None:
            if not is_missing(label):
                continue  # malformed ID, already reported
            values = {
                c: after_columns[c][pos]
                for c in after_cols
                if not is_missing(after_columns[c][pos])
            }
            rows.append(RowDiff("add", None, f"new#{pos}", values, {}, pos))
            continue
        bpos = before_pos.get(ident)
        if bpos is None:
            problems.append(
                Problem(
                    ident,
                    id_field,
                    f"ID {ident} is not in before (to add a row leave its index NA)",
                    "after",
                )
            )
            continue
        values, old = {}, {}
        for c in after_cols:
            maybe = candidates.get(c)
            if maybe is not None and pos not in maybe:
                continue
            new = after_columns[c][pos]
            prev = before_columns[c][bpos] if c in before_columns else None
            if not same(prev, new):
                values[c], old[c] = new, prev
        if values:
            rows.append(RowDiff("update", ident, ident, values, old, pos))

    if allow_deletes:
        remaining = {i for i in after_ids if i is not None}
        for ident in before_ids:
            if ident is not None and ident not in remaining:
                rows.append(RowDiff("delete", ident, ident))
    return Diff(rows, problems)
