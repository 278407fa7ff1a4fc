"""Codes <-> human labels for stage, status, source, category, enum, currency and user columns.

Forward (``label_series``): a typed column -> a categorical of labels, in the order of the codes.
Backward (``code_for``): a label (or a code) -> the code the API expects, resolved inside the
right pipeline for deal stages; unknown or ambiguous labels raise :class:`LabelError`.

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

from typing import Any

import pandas as pd

from ..errors import ValidationError
from .specs import ColumnSpec

__all__ = ["LABELLED_KINDS", "LabelError", "code_for", "label_map", "label_series", "unique_labels"]

LABELLED_KINDS = {"category", "currency_of", "user"}


class LabelError(ValidationError):
    """A label or code that is not an allowed value of the column."""

    def __init__(self, description: str, *, column: str | None = None, value: Any = None) -> None:
        super().__init__(description)
        self.column = column
        self.value = value


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


def label_map(spec: ColumnSpec) -> dict[str, Any]:
    """Label -> code for one column (unique labels, see :func:`unique_labels`)."""
    return dict(zip(unique_labels(spec), spec.categories or (), strict=False))


def _label_categorical(values: pd.Series, spec: ColumnSpec) -> pd.Categorical:
    codes = list(spec.categories or ())
    names = list(unique_labels(spec))
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = list(values.cat.categories)
        known = dict(zip(codes, names, strict=False))
        renamed = [known.get(c, str(c)) for c in cats]
        if len(set(renamed)) != len(renamed):  # an unknown code equal to some label
            renamed = [known.get(c, f"{c} (?)") for c in cats]
        return values.cat.rename_categories(renamed).array
    present = [v for v in pd.unique(values.dropna()) if v not in set(codes)]
    all_codes = codes + present
    all_names = names + [f"#{v}" for v in present]
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

    ``pipeline`` (deal ``CATEGORY_ID``) resolves a plain stage name and checks that a code or
    label belongs to that pipeline. Raises :class:`LabelError` for unknown or ambiguous values.

    Example::

        >>> code_for(specs["SOURCE_ID"], "Call")
        'CALL'
    """
    cats = spec.categories or ()
    if value in cats:
        code = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and int(value) in cats:
        code = int(value)
    elif not isinstance(value, str) and str(value) in cats:
        code = str(value)
    else:
        code = _by_label(spec, value, pipeline)
    if spec.pipelines and pipeline is not None and not _missing(pipeline):
        owner = spec.pipelines[list(cats).index(code)]
        if owner is not None and int(owner) != int(pipeline):
            raise LabelError(
                f"{spec.name}: stage {value!r} belongs to pipeline {owner}, not to pipeline {pipeline}",
                column=spec.name,
                value=value,
            )
    return code


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _by_label(spec: ColumnSpec, value: Any, pipeline: Any) -> Any:
    cats = spec.categories or ()
    by_label = label_map(spec)
    if value in by_label:
        return by_label[value]
    for code, lab in zip(cats, spec.labels or (), strict=False):
        if lab == value:
            return code
    if spec.short_labels:
        hits = [
            (code, owner)
            for code, owner, short in zip(
                cats, spec.pipelines or (), spec.short_labels, strict=False
            )
            if short == value
        ]
        if pipeline is not None and not _missing(pipeline):
            hits = [h for h in hits if h[1] is None or int(h[1]) == int(pipeline)]
        if len(hits) == 1:
            return hits[0][0]
        if len(hits) > 1:
            raise LabelError(
                f"{spec.name}: stage name {value!r} exists in several pipelines; "
                "give CATEGORY_ID or a qualified label like 'Pipeline: Stage'",
                column=spec.name,
                value=value,
            )
    sample = ", ".join(repr(x) for x in unique_labels(spec)[:8])
    raise LabelError(
        f"{spec.name}: unknown value {value!r}; allowed labels include {sample}",
        column=spec.name,
        value=value,
    )
