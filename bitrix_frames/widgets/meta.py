"""Decide, from a frame's dtypes and its :class:`~bitrix_frames.schema.ColumnSpec`, which filter
control each column gets.

Example::

    from bitrix_frames.widgets.meta import describe
    describe(deals, ["STAGE_ID", "OPPORTUNITY"])
    # [ColumnInfo(name="STAGE_ID", kind="choice", caption="Deal Stage", ...), ...]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bitrix_frames.display import column_specs
from bitrix_frames.reports.labels import caption, label_map, stage_pipelines, user_names
from bitrix_frames.schema.specs import ColumnSpec

__all__ = ["ColumnInfo", "PRIORITY", "describe", "server_field"]

#: Columns shown by default, in this order, when present in the frame.
PRIORITY: tuple[str, ...] = (
    "CATEGORY_ID",
    "STAGE_ID",
    "STATUS_ID",
    "SOURCE_ID",
    "TYPE_ID",
    "COMPANY_TYPE",
    "INDUSTRY",
    "ASSIGNED_BY_ID",
    "CURRENCY_ID",
    "OPPORTUNITY",
    "REVENUE",
    "DATE_CREATE",
    "CLOSEDATE",
    "CLOSED",
    "OPENED",
    "TITLE",
    "NAME",
    "LAST_NAME",
    # tasks and users (either casing)
    "STATUS",
    "status",
    "PRIORITY",
    "priority",
    "RESPONSIBLE_ID",
    "responsibleId",
    "DEADLINE",
    "deadline",
    "CREATED_DATE",
    "createdDate",
    "ACTIVE",
    "WORK_POSITION",
)

_CHOICE_TYPES = {
    "crm_status",
    "crm_category",
    "crm_currency",
    "enumeration",
    "enum",
    "user",
    "employee",
}
_USER_HINT = re.compile(r"(_BY_ID|_BY|RESPONSIBLE_ID|responsibleId|createdBy|changedBy)$")


@dataclass(frozen=True)
class ColumnInfo:
    """How one column is filtered: control kind, caption, choices and the server field code."""

    name: str
    kind: str  # "choice" | "datetime" | "number" | "text" | "bool"
    caption: str
    field: str
    options: tuple[tuple[str, Any], ...] = ()  # (shown label, code), SORT order
    labels: tuple[tuple[Any, str], ...] = ()  # (code, plain label)


def server_field(col: str, spec: ColumnSpec | None = None) -> str:
    """The Bitrix field code to filter on for a column: its spec's name (the filter key), else the
    column name in UPPER_SNAKE (``responsibleId`` -> ``RESPONSIBLE_ID``).

    Example::

        server_field("createdDate")   # "CREATED_DATE"
    """
    if spec is not None and spec.name and not spec.derived_from:
        return spec.name
    if col.isupper() or not re.search(r"[a-z]", col):
        return col
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", col).upper()


def _kind(series: pd.Series, ftype: str | None, col: str, users: Mapping[int, str]) -> str | None:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "choice"
    if ftype in _CHOICE_TYPES:
        return "choice"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        if users and _USER_HINT.search(col):
            return "choice"
        if col.upper() == "ID" or col.upper().endswith("_ID"):
            return None  # identifiers are not range-filtered
        return "number"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        sample = series.dropna().head(50)
        if len(sample) and not all(isinstance(v, str) for v in sample):
            return None  # lists, dicts (multifields) are not filterable here
        return "text"
    return None


def _pipeline_names(df: pd.DataFrame, col: str, codes: list[Any]) -> dict[Any, str]:
    """Stage code -> pipeline name, when the stage metadata knows each stage's pipeline."""
    owners = stage_pipelines(df, col)
    if not owners:
        return {}
    names = label_map(df, "CATEGORY_ID") if "CATEGORY_ID" in df.columns else {}
    return {c: names.get(owners[c], f"pipeline {owners[c]}") for c in codes if c in owners}


def _options(
    df: pd.DataFrame, col: str, extra: Mapping[Any, str] | None
) -> tuple[tuple[tuple[str, Any], ...], tuple[tuple[Any, str], ...]]:
    series = df[col]
    mapping = label_map(df, col, extra)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = list(series.cat.categories)
    else:
        codes = sorted(series.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        codes += [c for c in (extra or {}) if c not in codes]
    codes = [c.item() if hasattr(c, "item") else c for c in codes]
    labels = [mapping.get(c, str(c)) for c in codes]
    # disambiguate equal labels (two pipelines each with a "Won" stage): name the pipeline
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    pipes = _pipeline_names(df, col, codes) if len(seen) < len(labels) else {}
    shown = []
    for code, label in zip(codes, labels, strict=True):
        if seen[label] > 1:
            label = f"{label} · {pipes[code]}" if code in pipes else f"{label} ({code})"
        shown.append((label, code))
    return tuple(shown), tuple(zip(codes, labels, strict=True))


def describe(
    df: pd.DataFrame,
    columns: Sequence[str] | str | None = None,
    *,
    labels: Mapping[str, Mapping[Any, str]] | None = None,
    users: pd.DataFrame | Mapping[Any, str] | None = None,
    limit: int = 12,
) -> list[ColumnInfo]:
    """Describe the filterable columns of ``df`` (``columns=None``: priority columns; ``"all"``).

    ``labels`` adds or overrides ``{column: {code: label}}``; ``users`` (a users frame or
    ``{id: name}``) labels user-id columns.

    Example::

        [c.name for c in describe(deals)]   # ["CATEGORY_ID", "STAGE_ID", ...]
    """
    labels = dict(labels or {})
    names = user_names(users)
    specs = column_specs(df)
    if columns is None:
        chosen = [c for c in PRIORITY if c in df.columns][:limit]
        if not chosen:
            chosen = list(df.columns)
    elif columns == "all":
        chosen = list(df.columns)
    else:
        chosen = [c for c in columns if c in df.columns]
    out: list[ColumnInfo] = []
    for col in chosen:
        spec = specs.get(col)
        ftype = spec.type if spec is not None else None
        extra = dict(labels.get(col, {}))
        is_user = ftype in {"user", "employee"} or bool(_USER_HINT.search(col))
        if is_user and names:
            for uid in df[col].dropna().unique().tolist():
                if int(uid) in names:
                    extra.setdefault(uid, names[int(uid)])
        kind = _kind(df[col], ftype, col, names)
        if kind is None:
            continue
        if kind == "choice" and df[col].dropna().map(lambda v: isinstance(v, list)).any():
            continue
        options, plain = _options(df, col, extra) if kind == "choice" else ((), ())
        out.append(
            ColumnInfo(
                name=col,
                kind=kind,
                caption=caption(df, col),
                field=server_field(col, spec),
                options=options,
                labels=plain,
            )
        )
    return out
