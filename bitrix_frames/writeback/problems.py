"""Problems found while planning a write-back, and the one error that carries all of them.

Every check appends :class:`Problem` records instead of raising, so the user sees every bad row and
field at once; :func:`raise_if_any` then raises a single
:class:`~bitrix_frames.errors.WriteValidationError` (message + ``.problems`` DataFrame).

Example::

    >>> probs = [Problem(5, "STAGE_ID", "unknown stage 'Wonn'")]
    >>> problems_frame(probs)[["row", "field"]].values.tolist()
    [[5, 'STAGE_ID']]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import WriteValidationError

_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One bad cell, row or column."""

    row: Hashable
    """The ID, ``new#<position>`` for a new row, or ``*`` for a whole column."""
    field: str
    message: str
    frame: str = "after"


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """The problems as a DataFrame with columns row, field, message, frame."""
    return pd.DataFrame(
        [(p.row, p.field, p.message, p.frame) for p in problems],
        columns=["row", "field", "message", "frame"],
        dtype=object,
    )


def format_problems(problems: Sequence[Problem], entity: str | None = None) -> str:
    """A readable multi-line message naming row and field of the first problems."""
    what = f" for {entity}" if entity else ""
    lines = [f"{len(problems)} problem(s) found{what}; nothing was sent:"]
    for p in problems[:_SHOWN]:
        lines.append(f"  row {p.row}, field {p.field}: {p.message}")
    if len(problems) > _SHOWN:
        lines.append(f"  ... and {len(problems) - _SHOWN} more (see .problems)")
    return "\n".join(lines)


def raise_if_any(problems: Sequence[Problem], entity: str | None = None) -> None:
    """Raise one WriteValidationError carrying every problem (no-op when there are none)."""
    if problems:
        raise WriteValidationError(
            format_problems(problems, entity), problems=problems_frame(problems)
        )
