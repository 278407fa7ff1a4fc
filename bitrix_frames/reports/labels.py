"""Human labels and captions for the columns of a typed entity frame.

Widgets and reports show labels, never raw codes or ids. This module is the one place that reads
them from a frame: the ``df.bitrix`` accessor when the frames layer provides it, ``df.attrs``
otherwise, and explicit mappings passed by the caller on top of both.

Example::

    from bitrix_frames.reports.labels import label_map, caption
    label_map(deals, "STAGE_ID")     # {"NEW": "New", ..., "WON": "Won"}
    caption(deals, "OPPORTUNITY")    # "Amount"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = [
    "caption",
    "entity_of",
    "field_info",
    "label_map",
    "labelled",
    "short_label_map",
    "user_names",
]


def _accessor(df: pd.DataFrame) -> Any | None:
    try:
        return df.bitrix
    except (AttributeError, Exception):  # accessor not registered or frame without metadata
        return None


def entity_of(df: pd.DataFrame) -> str | None:
    """The entity name of a loaded frame ("deal", "lead", "task", ...), or ``None``.

    Example::

        entity_of(portal.deals())   # "deal"
    """
    acc = _accessor(df)
    if acc is not None:
        try:
            ent = acc.entity
            if ent:
                return str(getattr(ent, "name", ent))
        except Exception:
            pass
    meta = df.attrs.get("bitrix")
    if isinstance(meta, Mapping) and meta.get("entity"):
        ent = meta["entity"]
        return str(getattr(ent, "name", ent))
    return None


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    if hasattr(obj, "__dataclass_fields__"):
        return {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    if isinstance(obj, pd.Series):
        return obj.to_dict()
    return {k: getattr(obj, k) for k in dir(obj) if not k.startswith("_")}


def field_info(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Field metadata of the frame's columns, as ``{column: {key: value}}`` (may be empty).

    Example::

        field_info(deals)["STAGE_ID"]["title"]   # "Deal Stage"
    """
    fields: Any = None
    meta = df.attrs.get("bitrix")
    if isinstance(meta, Mapping):
        fields = meta.get("fields")  # {column: ColumnSpec.to_dict()} as the loaders store it
    if fields is None:
        acc = _accessor(df)
        if acc is not None:
            try:
                fields = acc.fields
            except Exception:
                fields = None
    out: dict[str, dict[str, Any]] = {}
    if isinstance(fields, pd.DataFrame):
        frame = fields
        for key in ("column", "field", "name", "code"):
            if key in frame.columns:
                frame = frame.set_index(key, drop=False)
                break
        for idx, row in frame.iterrows():
            out[str(idx)] = row.to_dict()
    elif isinstance(fields, Mapping):
        for key, value in fields.items():
            out[str(key)] = _as_dict(value)
    elif isinstance(fields, (list, tuple)):
        for value in fields:
            d = _as_dict(value)
            name = d.get("column") or d.get("name") or d.get("field")
            if name:
                out[str(name)] = d
    return out


def caption(df: pd.DataFrame, col: str) -> str:
    """The human caption of a column ("Deal Stage" for ``STAGE_ID``), falling back to its name.

    Example::

        caption(deals, "ASSIGNED_BY_ID")   # "Responsible"
    """
    info = field_info(df).get(col, {})
    for key in ("title", "caption", "formLabel", "listLabel", "label"):
        value = info.get(key)
        if isinstance(value, str) and value and value != col:
            return value
    return col


def _labelled_frame(df: pd.DataFrame) -> pd.DataFrame | None:
    acc = _accessor(df)
    if acc is None or not hasattr(acc, "labels"):
        return None
    try:
        out = acc.labels()
    except Exception:
        return None
    return out if isinstance(out, pd.DataFrame) else None


def short_label_map(df: pd.DataFrame, col: str) -> dict[Any, str]:
    """``{code: short label}`` (stage names without their pipeline prefix) or :func:`label_map`.

    Example::

        short_label_map(deals, "STAGE_ID")["C1:WON"]   # "Deal successful" (not "Partners: ...")
    """
    spec = field_info(df).get(col, {})
    cats, short = spec.get("categories"), spec.get("short_labels")
    if cats is not None and short is not None and len(cats) == len(short):
        return {c: str(s) for c, s in zip(cats, short, strict=True)}
    return label_map(df, col)


def label_map(df: pd.DataFrame, col: str, extra: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """``{code: label}`` for a coded column (stages, statuses, users, enums, pipelines).

    Read from the frame's metadata (``df.bitrix.labels()``), then overridden by ``extra``.
    Codes without a known label map to ``str(code)``.

    Example::

        label_map(deals, "STAGE_ID")["WON"]   # "Won"
    """
    series = df[col]
    out: dict[Any, str] = {}
    spec = field_info(df).get(col, {})
    cats, labs = spec.get("categories"), spec.get("labels")
    if cats is not None and labs is not None and len(cats) == len(labs):
        out.update(zip(cats, (str(x) for x in labs), strict=True))
    labelled_df = None if out else _labelled_frame(df)
    if labelled_df is not None and col in labelled_df.columns:
        lab = labelled_df[col]
        if (
            isinstance(series.dtype, pd.CategoricalDtype)
            and isinstance(lab.dtype, pd.CategoricalDtype)
            and len(lab.cat.categories) == len(series.cat.categories)
        ):
            out.update(
                zip(series.cat.categories, (str(x) for x in lab.cat.categories), strict=True)
            )
        else:
            pairs = pd.DataFrame({"c": series.to_numpy(), "l": lab.to_numpy()}).dropna()
            for code, label in pairs.drop_duplicates("c").itertuples(index=False):
                out[code] = str(label)
    if isinstance(series.dtype, pd.CategoricalDtype):
        for code in series.cat.categories:
            out.setdefault(code, str(code))
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
    """``{user_id: "First Last"}`` from a users frame (``portal.users()``) or a mapping.

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
        out[int(uid)] = name or f"User {int(uid)}"
    return out
