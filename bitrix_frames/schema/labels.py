"""Codes <-> human labels for stage, status, source, category, enum, currency and user columns.

Forward (``label_series``): a typed column -> a categorical of labels, in the order of the codes.
Backward (``code_for``): a label (or a code) -> the code the API expects, resolved inside the
right pipeline for deal stages; unknown or ambiguous labels raise :class:`LabelError`.

The one API for single values is :func:`code_to_label` / :func:`label_to_code`; widgets, reports
and the display formatter use it (or the column functions built on it) and nothing else.

**Unknown values** (a code the dictionary does not list: a deleted stage, a user who left, an
id from another portal) show as ``#<code>`` (``#42``, ``#C9:NEW``): never mistaken for a label, and
the code stays readable. This is the only fallback, for every labelled column and for users
without a name.

Deal stage labels are qualified with the pipeline name (``"Sales: New"``) when the portal has
more than one pipeline, because stage names repeat across pipelines; ``code_for`` also accepts
the plain stage name together with the row's pipeline id.

Example::

    >>> label_series(deals["STAGE_ID"], specs["STAGE_ID"]).head(2).tolist()
    ['General: New', 'General: Won']
    >>> code_for(specs["STAGE_ID"], "New", pipeline=1)
    'C1:NEW'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import BadValue
from .specs import ColumnSpec

__all__ = [
    "LABELLED_KINDS",
    "LabelError",
    "code_for",
    "code_to_label",
    "label_map",
    "label_series",
    "labelled_frame",
    "label_to_code",
    "unique_labels",
    "unknown_label",
]

LABELLED_KINDS = {"category", "currency_of", "user"}


class LabelError(BadValue):
    """A label or code that is not an allowed value of the column (``reason``, ``column``, ``value``)."""


def unique_labels(spec: ColumnSpec) -> tuple[str, ...]:
    """Labels of ``spec.categories`` made unique (a repeated name gets ``" (code)"`` appended)."""
    labels = spec.labels or tuple(str(c) for c in spec.categories or ())
    seen: dict[str, int] = {}
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
    return tuple(
        f"{lab} ({code})" if seen[lab] > 1 else lab
        for lab, code in zip(labels, spec.categories or (), strict=False)
    )


def unknown_label(code: Any) -> str:
    """How a code without a label is shown: ``#<code>`` (the one documented fallback).

    Example::

        >>> unknown_label(42)
        '#42'
    """
    if isinstance(code, np.generic):
        code = code.item()
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    return f"#{code}"


def code_to_label(spec: ColumnSpec, code: Any) -> str:
    """The dictionary's label of one code of ``spec``'s column (``"3"`` and ``3.0`` find the
    integer code 3); :func:`unknown_label` (``#<code>``) when the dictionary does not list it.
    A label two codes share is returned as is (the row's pipeline tells them apart); to get a
    code back from such a label, :func:`label_to_code` needs the pipeline.

    Example::

        >>> code_to_label(specs["STAGE_ID"], "WON")
        'General: Deal successful'
        >>> code_to_label(specs["ASSIGNED_BY_ID"], 999)
        '#999'
    """
    if isinstance(code, np.generic):
        code = code.item()
    cats = spec.categories or ()
    names = spec.labels or tuple(str(c) for c in cats)
    for cat, name in zip(cats, names, strict=False):
        if _same_code(cat, code):
            return str(name)
    return unknown_label(code)


def label_to_code(spec: ColumnSpec, value: Any, *, pipeline: Any = None) -> Any:
    """A label (or a code) of ``spec``'s column -> the code the API expects; the inverse of
    :func:`code_to_label` (see :func:`code_for` for the matching rules and errors).

    Example::

        >>> label_to_code(specs["STAGE_ID"], "Won", pipeline=1)
        'C1:WON'
    """
    return code_for(spec, value, pipeline=pipeline)


def label_map(spec: ColumnSpec) -> dict[str, Any]:
    """Label -> code for one column (unique labels, see :func:`unique_labels`)."""
    return dict(zip(unique_labels(spec), spec.categories or (), strict=False))


def _label_categorical(values: pd.Series, spec: ColumnSpec) -> pd.Categorical:
    codes = list(spec.categories or ())
    names = list(unique_labels(spec))
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = list(values.cat.categories)
        known = dict(zip(codes, names, strict=False))
        renamed = [known.get(c, unknown_label(c)) for c in cats]
        if len(set(renamed)) != len(renamed):  # an unknown code whose fallback equals a label
            renamed = [known.get(c, f"{unknown_label(c)} (?)") for c in cats]
        return values.cat.rename_categories(renamed).array
    present = [v for v in pd.unique(values.dropna()) if v not in set(codes)]
    all_codes = codes + present
    all_names = names + [unknown_label(v) for v in present]
    cat = pd.Categorical(values.astype(object).where(values.notna(), None), categories=all_codes)
    return cat.rename_categories(all_names)


def label_series(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Column of codes -> column of labels (categorical, categories in code order).

    Multiple (list) columns become lists of labels; columns without labels are returned unchanged.
    """
    if spec.kind == "list" and spec.categories:
        mapping = dict(zip(spec.categories, unique_labels(spec), strict=False))
        return values.map(
            lambda items: [mapping.get(x, x) for x in items] if isinstance(items, list) else items
        )
    if spec.kind not in LABELLED_KINDS or not spec.categories:
        return values
    return pd.Series(_label_categorical(values, spec), index=values.index, name=values.name)


def code_for(spec: ColumnSpec, value: Any, *, pipeline: Any = None) -> Any:
    """A code or label of ``spec``'s column -> the code the API expects.

    Tried in order: the code itself (``"3"`` and ``3.0`` match the integer code 3), the label,
    the label ignoring case, the plain stage name (``"Won"`` for ``"Sales: Won"``). ``pipeline``
    (deal ``CATEGORY_ID``) restricts stages to that pipeline, which resolves a plain stage name and
    refuses a stage of another pipeline. A column without a loaded dictionary passes codes through.
    Raises :class:`LabelError` (a :class:`~bitrix_frames.errors.BadValue`) for unknown or
    ambiguous values.

    Example::

        >>> code_for(specs["SOURCE_ID"], "Call")
        'CALL'
        >>> code_for(specs["STAGE_ID"], "won", pipeline=1)
        'C1:WON'
    """
    if isinstance(value, np.generic):
        value = value.item()
    cats = spec.categories or ()
    if not cats:
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
        raise LabelError(f"expected a code, got {value!r}", column=spec.name, value=value)
    pid = _pipeline_id(pipeline)
    owners = spec.pipelines
    if owners is None or pid is None or all(owner is None for owner in owners):
        return cats[_position(spec, value, range(len(cats)))]
    allowed = [i for i, owner in enumerate(owners) if owner is None or int(owner) == pid]
    if not any(owners[i] is not None for i in allowed):
        raise LabelError(f"pipeline {pipeline!r} has no stages", column=spec.name, value=value)
    try:
        return cats[_position(spec, value, allowed)]
    except LabelError as err:
        try:
            pos = _position(spec, value, range(len(cats)))
        except LabelError:
            raise err from None
        raise LabelError(
            f"stage {cats[pos]!r} belongs to pipeline {owners[pos]}, not to pipeline {pid}",
            column=spec.name,
            value=value,
        ) from None


def _pipeline_id(pipeline: Any) -> int | None:
    """The pipeline as an int; None when missing or not a number (then stages are not restricted)."""
    if pipeline is None or isinstance(pipeline, (bool, np.bool_)):
        return None
    try:
        number = float(pipeline)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _same_code(code: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(code, int):
        if isinstance(value, int):
            return code == value
        if isinstance(value, float):
            return value.is_integer() and code == int(value)
        if isinstance(value, str):
            text = value.strip()
            return text.lstrip("-").isdigit() and code == int(text)
        return False
    return code == (value if isinstance(value, str) else str(value))


def _position(spec: ColumnSpec, value: Any, positions: Any) -> int:
    """Position in ``spec.categories`` of a code or label, among ``positions``."""
    cats = spec.categories or ()
    positions = list(positions)
    for i in positions:
        if _same_code(cats[i], value):
            return i
    if isinstance(value, str):
        labels = spec.labels or ()
        unique = unique_labels(spec)
        text = value.strip()
        folded = text.casefold()
        short = spec.short_labels or ()
        tiers = (
            lambda i: unique[i] == text,
            lambda i: labels[i] == text,
            lambda i: labels[i].casefold() == folded,
            lambda i: i < len(short) and short[i].casefold() == folded,
        )
        for matches in tiers:
            hits = [i for i in positions if i < len(labels) and matches(i)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise _ambiguous(spec, value, hits)
    raise LabelError(_unknown(spec, value, positions), column=spec.name, value=value)


def _ambiguous(spec: ColumnSpec, value: Any, hits: list[int]) -> LabelError:
    owners = {spec.pipelines[i] for i in hits} if spec.pipelines else set()
    if len(owners) > 1:
        text = (
            f"stage name {value!r} exists in several pipelines; "
            "give CATEGORY_ID or a qualified label like 'Pipeline: Stage'"
        )
    else:
        codes = [(spec.categories or ())[i] for i in hits]
        text = f"label {value!r} is ambiguous: {codes}"
    return LabelError(text, column=spec.name, value=value)


def _unknown(spec: ColumnSpec, value: Any, positions: list[int]) -> str:
    if spec.kind == "user" or spec.item_kind == "user":
        return f"unknown user {value!r} (give a user id or a full name)"
    names = unique_labels(spec)
    cats = spec.categories or ()
    shown = ", ".join(
        repr(cats[i]) if names[i] == str(cats[i]) else f"{cats[i]!r} ({names[i]})"
        for i in positions[:8]
    )
    more = " ..." if len(positions) > 8 else ""
    return f"unknown value {value!r}; allowed: {shown}{more}"


def labelled_frame(df: pd.DataFrame, specs: Mapping[str, ColumnSpec]) -> pd.DataFrame:
    """A copy of ``df`` where every labelled column (stages, statuses, enums, currencies, users,
    lists of enum ids) shows labels instead of codes; other columns are unchanged.

    Example::

        >>> labelled_frame(deals, specs)["STAGE_ID"].iloc[0]
        'General: New'
    """
    out = df.copy(deep=False)
    attrs, out.attrs = out.attrs, {}  # pandas deep-copies attrs on every column access
    for name, spec in specs.items():
        if (
            name in out.columns
            and (spec.kind in LABELLED_KINDS or spec.kind == "list")
            and spec.categories
        ):
            out[name] = label_series(out[name], spec)
    out.attrs = attrs
    return out
