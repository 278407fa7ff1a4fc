"""How a person reads a frame: one display formatter for the panel, plans, reports and the demo.

:func:`display_frame` returns a display copy (strings; the frame itself is untouched) where

* amounts have thousands separators, the column's precision and their currency
  (``16,453.43 USD``): the row's ``CURRENCY_ID`` (or ``<column>_CURRENCY`` for money fields);
* datetimes are shown in the portal's time zone at minute precision (``2026-09-18 10:21``),
  dates as ``2026-09-18``;
* booleans and ``Y``/``N`` flags read ``Yes``/``No``;
* coded columns (stages, statuses, users, pipelines, enums) show labels
  (:func:`bitrix_frames.schema.labels.code_to_label`), lists of codes a comma-separated list;
* empty values (NA, ``""``, empty lists) are blank;
* headers are the field titles (``Deal Stage``), not codes.

Field metadata comes from :class:`~bitrix_frames.schema.ColumnSpec` only (the frame's
``attrs["bitrix"]["fields"]`` or ``specs=``); columns without a spec (report tables) are formatted by
dtype. The portal's time zone is ``attrs["bitrix"]["utc_offset"]`` (recorded by the loaders) or
``tz=``; without either, UTC.

Example::

    from bitrix_frames.display import display_frame
    display_frame(deals[["TITLE", "STAGE_ID", "OPPORTUNITY", "CLOSED"]]).head(1)
    #    Title           Deal Stage  Amount         Closed
    # 0  Boiler service  In work     16,453.43 USD  No
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .schema.labels import code_to_label
from .schema.specs import KIND_DTYPES, KINDS, ColumnSpec, spec_from_dict

__all__ = [
    "SortKeys",
    "column_specs",
    "display_frame",
    "format_series",
    "format_value",
    "portal_tz",
    "sort_keys",
]

_AMOUNT_NAME = re.compile(r"(amount|opportunity|revenue|sum|price|won|lost)", re.I)
# integers that are names, not quantities: no thousands separator (ids, codes, years)
_ID_NAME = re.compile(r"(^id$|_id$|^id_|[a-z]Id$|_code$|^code$|year$)", re.I)


def column_specs(df: pd.DataFrame) -> dict[str, ColumnSpec]:
    """The :class:`ColumnSpec` of each column of a loaded frame (empty for other frames).

    Example::

        column_specs(deals)["STAGE_ID"].kind   # "category"
    """
    meta = df.attrs.get("bitrix")
    fields = meta.get("fields") if isinstance(meta, Mapping) else None
    if not isinstance(fields, Mapping):
        return {}
    return {str(k): _spec(str(k), v) for k, v in fields.items() if isinstance(v, Mapping)}


_SPEC_KEYS = frozenset(ColumnSpec.__dataclass_fields__)


def _spec(name: str, data: Mapping[str, Any]) -> ColumnSpec:
    """A :class:`ColumnSpec` from its dict; a partial dict (hand-made frames: title, type,
    categories...) gets its name, and kind and dtype from the field type (``KINDS``)."""
    kw = {k: v for k, v in data.items() if k in _SPEC_KEYS}
    kw.setdefault("name", name)
    kw.setdefault("title", name)
    kw.setdefault("type", "string")
    kw.setdefault("kind", KINDS.get(str(kw["type"]), "string"))
    kw.setdefault("dtype", KIND_DTYPES.get(str(kw["kind"]), "object"))
    return spec_from_dict(kw)


def portal_tz(df: pd.DataFrame | None = None, tz: Any = None) -> dt.tzinfo:
    """The time zone to show datetimes in: ``tz`` (a tzinfo, ``"+03:00"`` or an IANA name), else the
    portal offset the loaders recorded in ``attrs["bitrix"]["utc_offset"]``, else UTC.

    Example::

        portal_tz(tz="+03:00")   # UTC+03:00
    """
    if tz is None and df is not None:
        meta = df.attrs.get("bitrix")
        tz = meta.get("utc_offset") if isinstance(meta, Mapping) else None
    if tz is None:
        return dt.timezone.utc
    if isinstance(tz, dt.tzinfo):
        return tz
    text = str(tz)
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return dt.timezone(sign * dt.timedelta(minutes=minutes))
    from zoneinfo import ZoneInfo

    return ZoneInfo(text)


def _empty(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    if isinstance(value, np.ndarray):
        return value.size == 0
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number(value: Any, places: int | None) -> str:
    number = float(value)
    if places is None:
        places = 0 if number.is_integer() else 2
    return f"{number:,.{places}f}"


def _timestamp(value: Any, tz: dt.tzinfo, date_only: bool) -> str:
    ts = pd.Timestamp(value)
    if date_only:
        return ts.strftime("%Y-%m-%d")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(tz)
    return ts.strftime("%Y-%m-%d %H:%M")


def _yes_no(value: Any, spec: ColumnSpec | None) -> str:
    if spec is not None and not isinstance(value, (bool, np.bool_)):
        if value == spec.true_value:
            return "Yes"
        if value == spec.false_value:
            return "No"
    if isinstance(value, str):
        text = value.strip().upper()
        if text in {"Y", "N"}:
            return "Yes" if text == "Y" else "No"
        return value
    return "Yes" if bool(value) else "No"


def _multifield(value: Any) -> str:
    items = value if isinstance(value, (list, tuple)) else [value]
    shown = [str(i.get("VALUE", "")) if isinstance(i, Mapping) else str(i) for i in items]
    return ", ".join(s for s in shown if s)


def format_value(
    value: Any,
    spec: ColumnSpec | None = None,
    *,
    tz: Any = None,
    currency: Any = None,
    column: str | None = None,
) -> str:
    """One value as shown to a person (see the module docstring); empty -> ``""``.

    ``column`` names a column without a spec (integer ids and years get no separator).

    Example::

        format_value(16453.43, currency="USD")                      # "16,453.43 USD"
        format_value(pd.Timestamp("2026-09-18 07:21:55Z"), tz="+03:00")   # "2026-09-18 10:21"
        format_value("Y", spec)                                     # "Yes" (a char/boolean spec)
    """
    if _empty(value):
        return ""
    kind = spec.kind if spec is not None else None
    if kind in ("category", "currency_of", "user") and spec is not None and spec.categories:
        return code_to_label(spec, value)
    if kind == "list":
        items = [v for v in value if not _empty(v)] if isinstance(value, (list, tuple)) else [value]
        if spec is not None and spec.categories:
            return ", ".join(code_to_label(spec, v) for v in items)
        return ", ".join(str(v) for v in items)
    if kind == "multifield":
        return _multifield(value)
    if kind == "bool" or isinstance(value, (bool, np.bool_)):
        return _yes_no(value, spec)
    if kind in ("date", "datetime") or isinstance(
        value, (pd.Timestamp, dt.datetime, np.datetime64)
    ):
        try:
            return _timestamp(value, portal_tz(tz=tz), kind == "date")
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        name = spec.name if spec is not None else column
        if kind in ("link", "file") or (name and _ID_NAME.search(name)):
            return str(int(value))
        return _number(value, 0) + (f" {currency}" if not _empty(currency) else "")
    if isinstance(value, (float, np.floating)):
        places = spec.precision if spec is not None and spec.precision is not None else 2
        return _number(value, places) + (f" {currency}" if not _empty(currency) else "")
    return str(value)


def _is_yes_no(series: pd.Series) -> bool:
    """A text column of ``Y``/``N`` flags only (report tables, frames without metadata)."""
    if not (
        pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)
    ):
        return False
    values = set(series.dropna().unique().tolist()) - {""}
    return bool(values) and values <= {"Y", "N"}


def _timestamps(series: pd.Series, zone: dt.tzinfo, *, date_only: bool) -> pd.Series | None:
    """A datetime column formatted at once (None when it holds something else)."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        return None
    values = series
    if not date_only and getattr(series.dtype, "tz", None) is not None:
        values = series.dt.tz_convert(zone)
    text = values.dt.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")
    return text.astype(object).where(series.notna(), "")


def _currency_column(df: pd.DataFrame, col: str, spec: ColumnSpec | None) -> str | None:
    """The column holding ``col``'s currency: ``<col>_CURRENCY`` for money fields, else the frame's
    ``CURRENCY_ID`` / ``currency`` for doubles and amount-named columns."""
    if spec is not None and spec.kind == "money":
        own = f"{col}_CURRENCY"
        return own if own in df.columns else None
    amountish = (spec is not None and spec.kind == "float") or (
        spec is None and _AMOUNT_NAME.search(col) is not None
    )
    if not amountish:
        return None
    for name in ("CURRENCY_ID", "currency", "CURRENCY"):
        if name in df.columns and name != col:
            return name
    return None


def format_series(
    df: pd.DataFrame,
    col: str,
    spec: ColumnSpec | None = None,
    *,
    tz: Any = None,
    currency: str | None = None,
) -> pd.Series:
    """Column ``col`` of ``df`` as display strings (the currency is read from its row).

    ``currency`` fixes one currency for the whole column (report tables converted to the base
    currency).

    Example::

        format_series(deals, "OPPORTUNITY", column_specs(deals)["OPPORTUNITY"]).iloc[0]
        # "16,453.43 USD"
    """
    series = df[col]
    zone = portal_tz(df, tz)
    cur_col = None if currency is not None else _currency_column(df, col, spec)
    if cur_col is not None:
        # the code (USD), not the currency's full name: "1,200.00 US Dollar" reads worse
        currencies: list[Any] = [None if _empty(c) else str(c) for c in df[cur_col].tolist()]
    else:
        currencies = [currency] * len(series)
    if spec is None and _is_yes_no(series):
        spec = ColumnSpec(name=str(col), title=str(col), type="char", kind="bool", dtype="object")
    kind = spec.kind if spec is not None else None
    if kind in ("date", "datetime") or pd.api.types.is_datetime64_any_dtype(series.dtype):
        fast = _timestamps(series, zone, date_only=kind == "date")
        if fast is not None:
            return fast.rename(col)
    values = series.astype(object).tolist()
    seen: dict[Any, str] = {}  # coded columns repeat a few values: format each once
    out = []
    for value, cur in zip(values, currencies, strict=True):
        try:
            key = (value, cur)
            text = seen.get(key)
        except TypeError:  # unhashable (lists, dicts)
            key, text = None, None
        if text is None:
            text = format_value(value, spec, tz=zone, currency=cur, column=str(col))
            if key is not None:
                seen[key] = text
        out.append(text)
    return pd.Series(out, index=series.index, name=col, dtype=object)


def _bare(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without ``attrs`` (same data): pandas deep-copies ``attrs`` into every derived
    Series, and a loaded frame's field metadata made that most of the formatting time."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def _titles(df: pd.DataFrame, specs: Mapping[str, ColumnSpec]) -> dict[str, str]:
    titles = {c: (specs[c].title if c in specs and specs[c].title else str(c)) for c in df.columns}
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    return {c: t if counts[t] == 1 else f"{t} ({c})" for c, t in titles.items()}


#: Column hints a report table may declare in ``table.attrs["display"]`` (``{column: hint}``):
#: columns whose name alone would mislead (a ``won`` count is not an amount, a ratio is a share).
_HINTS = {
    "count": lambda v: _number(v, 0),
    "number": lambda v: _number(v, 1),
    "percent": lambda v: f"{float(v) * 100:,.1f} %",
}


def display_frame(
    df: pd.DataFrame,
    specs: Mapping[str, ColumnSpec] | None = None,
    *,
    tz: Any = None,
    titles: bool = True,
    currency: str | Mapping[str, str] | None = None,
    hide_currency_columns: bool = False,
) -> pd.DataFrame:
    """A display copy of ``df``: every cell a formatted string, headers the field titles.

    ``specs`` defaults to the frame's own metadata; ``currency`` gives report tables one currency
    (``"USD"``) or one per column (``{"amount": "USD"}``); ``hide_currency_columns`` drops
    ``CURRENCY_ID`` & co. once their code is shown next to each amount. A report table may hint
    columns in ``df.attrs["display"]``: ``"count"`` (``1,234``), ``"number"`` (``12.3``, no
    currency) or ``"percent"`` (``0.8414`` -> ``84.1 %``).

    Example::

        display_frame(deals.head(3))            # Title, Deal Stage, Amount (16,453.43 USD)...
        display_frame(table, currency="USD")    # a report table, amounts converted to USD
    """
    specs = dict(column_specs(df) if specs is None else specs)
    hints = df.attrs.get("display") if isinstance(df.attrs.get("display"), Mapping) else {}
    tz = portal_tz(df, tz)
    df = _bare(df)
    out: dict[str, pd.Series] = {}
    used: set[str] = set()
    for col in df.columns:
        hint = hints.get(col)
        if hint in _HINTS:
            out[col] = df[col].map(lambda v, h=hint: "" if _empty(v) else _HINTS[h](v))
            continue
        fixed = currency.get(col) if isinstance(currency, Mapping) else currency
        spec = specs.get(col)
        if fixed is None:
            cur_col = _currency_column(df, col, spec)
            if cur_col:
                used.add(cur_col)
        out[col] = format_series(df, col, spec, tz=tz, currency=fixed)
    shown = pd.DataFrame(out, index=df.index, columns=list(df.columns))
    if hide_currency_columns:
        shown = shown.drop(columns=[c for c in used if c in shown.columns])
    if titles:
        shown = shown.rename(columns=_titles(df, specs))
    return shown


class SortKeys(dict):  # type: ignore[type-arg]
    """``{column: keys}``: per column whose display text does not sort like its values, a Series
    that does (amounts, counts, stages in pipeline order, datetimes)."""


def sort_keys(df: pd.DataFrame, specs: Mapping[str, ColumnSpec] | None = None) -> SortKeys:
    """Sort keys for the columns of ``df`` whose formatted text sorts wrongly as text.

    Numbers sort by value, coded columns by their dictionary (SORT) order, datetimes by instant;
    NA sorts first. Tables (the filter panel's) sort a column by its key while showing its text.

    Example::

        sort_keys(deals)["OPPORTUNITY"].iloc[0]   # 16453.43
    """
    specs = dict(column_specs(df) if specs is None else specs)
    df = _bare(df)
    keys = SortKeys()
    for col in df.columns:
        series = df[col]
        spec = specs.get(col)
        key: pd.Series | None = None
        if spec is not None and spec.kind in _CODED and spec.categories:
            order = {c: i for i, c in enumerate(spec.categories)}
            ranks = {v: order.get(_plain(v), len(order)) for v in series.dropna().unique()}
            key = series.astype(object).map(ranks)
        elif isinstance(series.dtype, pd.CategoricalDtype):
            key = pd.Series(series.cat.codes, index=series.index).where(series.notna())
        elif pd.api.types.is_bool_dtype(series.dtype):
            continue
        elif pd.api.types.is_numeric_dtype(series.dtype):
            key = series.astype("Float64")
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
            key = (naive - pd.Timestamp(0)).dt.total_seconds().round().astype("Int64")
        if key is not None:
            keys[col] = key.astype(object).where(key.notna(), None)
    return keys


_CODED = ("category", "currency_of", "user")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
