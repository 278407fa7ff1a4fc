"""What every report shares: the ``Report`` result, currency conversion, stage semantics.

Example::

    from bitrix_frames.reports.common import Rates
    rates = Rates.from_portal(portal)        # crm.currency.list: AMOUNT / AMOUNT_CNT per currency
    rates.convert(deals["OPPORTUNITY"], deals["CURRENCY_ID"])   # amounts in the base currency
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
from matplotlib.figure import Figure

from bitrix_frames.reports.labels import label_map, stage_pipelines

__all__ = [
    "Rates",
    "Report",
    "amount_note",
    "display_hints",
    "pipeline_of",
    "semantics_of",
    "stage_order",
]


class Report(NamedTuple):
    """A matplotlib figure and the tidy table it was drawn from (``fig, table = report``)."""

    figure: Figure
    table: pd.DataFrame


@dataclass(frozen=True)
class Rates:
    """Exchange rates into the portal's base currency, as ``crm.currency.list`` gives them.

    ``per_unit[c]`` is the value of one unit of ``c`` in the base currency (AMOUNT / AMOUNT_CNT).

    Example::

        Rates("USD", {"USD": 1.0, "EUR": 1.08}).convert(pd.Series([10.0]), pd.Series(["EUR"]))
    """

    base: str
    per_unit: Mapping[str, float]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Rates:
        """Build from ``crm.currency.list`` rows.

        Example::

            Rates.from_rows(portal.call("crm.currency.list"))
        """
        per_unit: dict[str, float] = {}
        base = None
        for row in rows:
            code = str(row["CURRENCY"])
            per_unit[code] = float(row.get("AMOUNT") or 1) / float(row.get("AMOUNT_CNT") or 1)
            if str(row.get("BASE", "N")).upper() in {"Y", "TRUE", "1"}:
                base = code
        if base is None:
            base = next((c for c, r in per_unit.items() if r == 1.0), next(iter(per_unit), "USD"))
        return cls(base, per_unit)

    @classmethod
    def from_portal(cls, portal: Any) -> Rates:
        """Read the rates through ``portal.call`` (or a ``Client``).

        Example::

            rates = Rates.from_portal(bf.connect())
        """
        return cls.from_rows(portal.call("crm.currency.list"))

    def convert(self, amounts: pd.Series, currencies: pd.Series) -> pd.Series:
        """``amounts`` (in ``currencies``) in the base currency; unknown currencies give NA."""
        factor = currencies.astype("object").map(lambda c: self.per_unit.get(str(c)))
        return (amounts.astype("Float64") * pd.to_numeric(factor).astype("Float64")).round(2)

    def describe(self) -> str:
        """Short note for figure titles: which currency and where the rates came from."""
        return f"in {self.base} (converted at crm.currency.list rates)"


def display_hints(table: pd.DataFrame, **hints: str) -> pd.DataFrame:
    """Tell the display formatter how to show columns (``count``, ``number``, ``percent``); the
    values stay untouched. Returns ``table``.

    Example::

        display_hints(table, entered="count", conversion="percent")
    """
    table.attrs["display"] = {**table.attrs.get("display", {}), **hints}
    return table


def amount_note(rates: Rates | None) -> str:
    """``"in USD (converted ...)"`` or ``"per currency (not converted)"`` for titles."""
    return rates.describe() if rates is not None else "per currency (not converted)"


_PIPE = re.compile(r"^C(\d+):")


def pipeline_of(deals: pd.DataFrame, stage: str = "STAGE_ID") -> dict[Any, int]:
    """Stage code -> pipeline id: from the column metadata, else from the ``C<N>:`` prefix."""
    out: dict[Any, int] = stage_pipelines(deals, stage)
    codes = (
        list(deals[stage].cat.categories)
        if isinstance(deals[stage].dtype, pd.CategoricalDtype)
        else deals[stage].dropna().unique().tolist()
    )
    for code in codes:
        if code not in out:
            m = _PIPE.match(str(code))
            out[code] = int(m.group(1)) if m else 0
    return out


def stage_order(deals: pd.DataFrame, stage: str = "STAGE_ID") -> list[Any]:
    """Stage codes in display (SORT) order: the categorical order of the column."""
    col = deals[stage]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    return sorted(col.dropna().unique().tolist())


_SUCCESS = re.compile(r"(^|:)(WON|CONVERTED|SUCCESS)$")
_FAILURE = re.compile(r"(^|:)(LOSE|JUNK|APOLOGY|FAIL|FAILURE)$")


def semantics_of(
    frame: pd.DataFrame,
    stage: str = "STAGE_ID",
    semantic_col: str = "STAGE_SEMANTIC_ID",
    semantics: Mapping[Any, str] | None = None,
) -> pd.Series:
    """Per row ``"P"`` (in progress), ``"S"`` (won) or ``"F"`` (lost).

    Taken from ``semantics`` (``{stage code: "S"|"F"|"P"}``, e.g. from ``portal.stages()``), else
    from the ``STAGE_SEMANTIC_ID`` column, else from the stage code (``WON``, ``C1:LOSE``...).
    """
    if semantics:
        mapped = frame[stage].astype("object").map(lambda c: semantics.get(c))
        return mapped.fillna("P").astype("string")
    if semantic_col in frame.columns and frame[semantic_col].notna().any():
        return frame[semantic_col].astype("string").fillna("P")

    def guess(code: Any) -> str:
        text = str(code)
        if _SUCCESS.search(text):
            return "S"
        if _FAILURE.search(text):
            return "F"
        return "P"

    return frame[stage].astype("object").map(guess).astype("string")


def stage_semantics_map(stages: pd.DataFrame | None) -> dict[Any, str]:
    """``{stage code: "P"|"S"|"F"}`` from a ``crm.status.list``-like frame (``portal.stages()``)."""
    if stages is None or len(stages) == 0:
        return {}
    code_col = next((c for c in ("STATUS_ID", "status_id", "code") if c in stages.columns), None)
    sem_col = next((c for c in ("SEMANTICS", "semantics") if c in stages.columns), None)
    if code_col is None or sem_col is None:
        return {}
    out = {}
    for code, sem in zip(stages[code_col], stages[sem_col], strict=True):
        s = str(sem).upper()[:1] if isinstance(sem, str) and sem else "P"
        out[code] = s if s in {"S", "F"} else "P"
    return out


def pipeline_names(deals: pd.DataFrame) -> dict[Any, str]:
    """Pipeline id -> name (labels of ``CATEGORY_ID``)."""
    if "CATEGORY_ID" not in deals.columns:
        return {0: "General"}
    names = label_map(deals, "CATEGORY_ID")
    return {int(k): v for k, v in names.items() if not pd.isna(k)}
