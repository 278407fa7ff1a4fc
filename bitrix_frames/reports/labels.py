"""Human labels and captions for the columns of a typed entity frame, for widgets and reports.

Everything here reads the frame's :class:`~bitrix_frames.schema.ColumnSpec` (kept in
``df.attrs["bitrix"]["fields"]`` by the loaders and the Parquet cache) and nothing else; single
values go through :func:`~bitrix_frames.schema.labels.code_to_label`, so an unknown code shows as
``#<code>`` everywhere. Explicit mappings passed by the caller override the metadata.

Example::

    from bitrix_frames.reports.labels import label_map, caption
    label_map(deals, "STAGE_ID")     # {"NEW": "New", ..., "WON": "Won"}
    caption(deals, "OPPORTUNITY")    # "Amount"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bitrix_frames.display import column_specs
from bitrix_frames.schema.labels import unknown_label
from bitrix_frames.schema.specs import ColumnSpec

__all__ = [
    "caption",
    "column_specs",
    "entity_of",
    "field_info",
    "label_map",
    "labelled",
    "short_label_map",
    "spec_of",
    "stage_pipelines",
    "user_names",
]


def entity_of(df: pd.DataFrame) -> str | None:
    """The entity name of a loaded frame ("deal", "lead", "task", ...), or ``None``.

    Example::

        entity_of(portal.deals())   # "deal"
    """
    meta = df.attrs.get("bitrix")
    if isinstance(meta, Mapping) and meta.get("entity"):
        return str(meta["entity"])
    return None


def spec_of(df: pd.DataFrame, col: str) -> ColumnSpec | None:
    """The :class:`ColumnSpec` of one column, or ``None`` for a column without metadata.

    Example::

        spec_of(deals, "STAGE_ID").title   # "Deal Stage"
    """
    return column_specs(df).get(col)


def stage_pipelines(df: pd.DataFrame, col: str) -> dict[Any, int]:
    """``{stage code: pipeline id}`` from the column's spec (empty when it does not say).

    Example::

        stage_pipelines(deals, "STAGE_ID")["C1:WON"]   # 1
    """
    spec = spec_of(df, col)
    cats = spec.categories if spec is not None else None
    pipes = spec.pipelines if spec is not None else None
    if cats is None or pipes is None or len(cats) != len(pipes):
        return {}
    return {c: int(p) for c, p in zip(cats, pipes, strict=True) if p is not None and not pd.isna(p)}


def field_info(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{column: ColumnSpec.to_dict()}`` of the frame's columns (empty without metadata).

    Example::

        field_info(deals)["STAGE_ID"]["title"]   # "Deal Stage"
    """
    return {name: spec.to_dict() for name, spec in column_specs(df).items()}


def caption(df: pd.DataFrame, col: str) -> str:
    """The human caption of a column ("Deal Stage" for ``STAGE_ID``), falling back to its name.

    Example::

        caption(deals, "ASSIGNED_BY_ID")   # "Responsible"
    """
    spec = spec_of(df, col)
    return spec.title if spec is not None and spec.title else col


def short_label_map(df: pd.DataFrame, col: str) -> dict[Any, str]:
    """``{code: short label}`` (stage names without their pipeline prefix) or :func:`label_map`.

    Example::

        short_label_map(deals, "STAGE_ID")["C1:WON"]   # "Deal successful" (not "Partners: ...")
    """
    spec = spec_of(df, col)
    cats = spec.categories if spec is not None else None
    short = spec.short_labels if spec is not None else None
    if cats is not None and short is not None and len(cats) == len(short):
        return {c: str(s) for c, s in zip(cats, short, strict=True)}
    return label_map(df, col)


def label_map(df: pd.DataFrame, col: str, extra: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """``{code: label}`` for a coded column (stages, statuses, users, enums, pipelines).

    Read from the column's :class:`ColumnSpec`, then overridden by ``extra``. Codes of the
    column's categories that the dictionary does not list map to ``#<code>``
    (:func:`~bitrix_frames.schema.labels.unknown_label`); a column without a dictionary keeps its
    codes as they are.

    Example::

        label_map(deals, "STAGE_ID")["WON"]   # "Won"
    """
    series = df[col]
    spec = spec_of(df, col)
    out: dict[Any, str] = {}
    cats = spec.categories if spec is not None else None
    labs = spec.labels if spec is not None else None
    if cats is not None and labs is not None and len(cats) == len(labs):
        out.update(zip(cats, (str(x) for x in labs), strict=True))
    if isinstance(series.dtype, pd.CategoricalDtype):
        fallback = unknown_label if out else str  # "#<code>" only where a dictionary exists
        for code in series.cat.categories:
            out.setdefault(code, fallback(code))
    if extra:
        for code, label in extra.items():
            out[code] = str(label)
    return out


def labelled(df: pd.DataFrame, col: str, extra: Mapping[Any, str] | None = None) -> pd.Series:
    """The column with codes replaced by labels; categorical order (SORT) is kept.

    Example::

        labelled(deals, "STAGE_ID").value_counts()
    """
    mapping = label_map(df, col, extra)
    series = df[col]
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        labels = [mapping.get(c, str(c)) for c in cats]
        if len(set(labels)) == len(labels):
            return series.cat.rename_categories(labels)
        return series.map(mapping).astype("string")
    return series.map(lambda v: mapping.get(v, v) if pd.notna(v) else v)


def user_names(users: pd.DataFrame | Mapping[Any, str] | None) -> dict[int, str]:
    """``{user_id: "First Last"}`` from a users frame (``portal.users()``) or a mapping; a user
    without a name shows as ``#<id>``.

    Example::

        user_names(portal.users())[1]   # "Anna Petrova"
    """
    if users is None:
        return {}
    if isinstance(users, Mapping):
        return {int(k): str(v) for k, v in users.items()}
    ids = users["ID"] if "ID" in users.columns else users.index.to_series()
    first = users["NAME"] if "NAME" in users.columns else pd.Series("", index=users.index)
    last = users["LAST_NAME"] if "LAST_NAME" in users.columns else pd.Series("", index=users.index)
    out: dict[int, str] = {}
    for uid, fn, ln in zip(ids, first, last, strict=True):
        if pd.isna(uid):
            continue
        name = " ".join(str(p) for p in (fn, ln) if isinstance(p, str) and p).strip()
        out[int(uid)] = name or unknown_label(int(uid))
    return out
