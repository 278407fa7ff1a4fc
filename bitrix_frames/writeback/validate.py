"""Row diffs + column specs -> validated :class:`~.ops.Operation` records, or every problem at once.

Checks (each problem names row and field): unknown columns; read-only fields changed or set on a new
row; immutable fields changed (allowed on add only); required fields missing on add; values that
cannot be converted to what the API expects (see :mod:`bitrix_frames.schema.to_api`); stage labels outside the row's
pipeline; multifield elements (see :mod:`.multifield`). Deal stage labels are resolved within the
row's ``CATEGORY_ID``; a task whose ``STATUS`` becomes 5 is completed with ``tasks.task.complete``.

Example::

    ops, problems = build_operations(recipe("deal"), specs, d.rows, after, before, stamps)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import BadValue
from ..schema.specs import ColumnSpec
from ..schema.to_api import money_to_api, value_to_api
from . import multifield
from .diff import RowDiff, is_missing, same
from .match import instant
from .ops import (
    Operation,
    WriteRecipe,
)
from .problems import Problem


def _read_only(recipe: WriteRecipe, spec: ColumnSpec) -> bool:
    if spec.derived_from and spec.kind != "primary":
        return False
    if spec.kind == "primary":
        return False  # PHONE_PRIMARY edits become multifield edits
    return spec.read_only or spec.name in recipe.entity.read_only_extra


def _immutable(recipe: WriteRecipe, spec: ColumnSpec) -> bool:
    return spec.immutable or spec.name in recipe.entity.immutable_extra


def _required(recipe: WriteRecipe, spec: ColumnSpec) -> bool:
    if spec.name in recipe.entity.optional_extra:
        return False
    return spec.required and not spec.derived_from and not _read_only(recipe, spec)


def _primary_edit(source: str, old_list: Any, new_primary: Any) -> list[dict[str, Any]] | None:
    """Edit of ``<MF>_PRIMARY``: change (or delete) the first value, or add one if there is none."""
    items = multifield.items(old_list, source)
    if is_missing(new_primary) or str(new_primary).strip() == "":
        return [{"ID": items[0]["ID"], "DELETE": "Y"}] if items else None
    text = str(new_primary).strip()
    multifield.check_value(source, text)
    if not items:
        return [{"VALUE": text, "VALUE_TYPE": multifield.DEFAULT_TYPE[source]}]
    first = items[0]
    if first["VALUE"] == text:
        return None
    return [{"ID": first["ID"], "VALUE": text, "VALUE_TYPE": first["VALUE_TYPE"] or "WORK"}]


class _RowBuilder:
    """Converts one row's values, collecting problems."""

    def __init__(self, recipe: WriteRecipe, specs: Mapping[str, ColumnSpec], rd: RowDiff) -> None:
        self.recipe, self.specs, self.rd = recipe, specs, rd
        self.problems: list[Problem] = []
        self.fields: dict[str, Any] = {}

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.rd.row, field, message))

    def convert(self, spec: ColumnSpec, value: Any, ctx: dict[str, Any]) -> Any:
        try:
            return value_to_api(spec, value, pipeline=ctx.get("CATEGORY_ID"))
        except BadValue as err:
            self.problem(spec.name, err.reason)
            return None

    def money(self, name: str, amount: Any, currency: Any, field: str | None = None) -> None:
        """Join amount and currency into ``fields[name]``; a problem is reported on ``field``."""
        try:
            self.fields[name] = money_to_api(amount, currency, self.specs.get(f"{name}_CURRENCY"))
        except BadValue as err:
            self.problem(field or name, err.reason)


def build_add(
    recipe: WriteRecipe,
    specs: Mapping[str, ColumnSpec],
    rd: RowDiff,
    after: pd.DataFrame,
    ctx: dict[str, Any] | None = None,
) -> tuple[Operation | None, list[Problem]]:
    """A validated add operation for a new row; ``ctx`` holds the row's ``CATEGORY_ID``."""
    b = _RowBuilder(recipe, specs, rd)
    ctx = ctx or {}
    values = rd.values
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            continue  # unknown columns are reported once per column
        if spec.kind == "primary":
            source = spec.derived_from or name.removesuffix("_PRIMARY")
            if not values.get(source) and source in specs:
                try:
                    edit = _primary_edit(source, None, value)
                except BadValue as err:
                    b.problem(name, err.reason)
                    continue
                if edit:
                    b.fields[source] = edit
            continue
        if spec.kind == "currency_of":
            continue  # joined with its amount below
        if _read_only(recipe, spec):
            b.problem(name, "read-only field cannot be set on a new row")
            continue
        if spec.kind == "multifield":
            try:
                b.fields[name] = multifield.for_add(value, name)
            except BadValue as err:
                b.problem(name, str(err))
            continue
        if spec.kind == "money":
            b.money(name, value, values.get(f"{name}_CURRENCY"))
            continue
        converted = b.convert(spec, value, ctx)
        if converted is not None:
            b.fields[name] = converted
    for name, spec in specs.items():
        missing = _required(recipe, spec) and b.fields.get(name) in (None, "", [])
        if missing and not any(p.field == name for p in b.problems):
            b.problem(name, "required field is missing on a new row")
    op = None
    done = recipe.entity.completion
    if done is not None and b.fields.get(done.field) == done.value:
        b.problem(
            done.field,
            f"a new {recipe.entity.name} cannot be created completed; add it, then complete it",
        )
    if not b.problems:
        op = Operation(f"add:{rd.pos}", "add", None, rd.row, b.fields, _changes(rd))
    return op, b.problems


def _same_api(spec: ColumnSpec, old: Any, new: Any) -> bool:
    """Two API values of one field are the same write (datetimes: the same instant)."""
    if spec.kind == "datetime" and old and new:
        return instant(old) == instant(new)
    return same(old, new)


def _same_amount(old: Any, new: Any) -> bool:
    try:
        return money_to_api(old, None) == money_to_api(new, None)
    except BadValue:
        return False


def _changes(rd: RowDiff) -> list[tuple[str, Any, Any]]:
    return [(k, rd.old.get(k), v) for k, v in rd.values.items()]


def build_update(
    recipe: WriteRecipe,
    specs: Mapping[str, ColumnSpec],
    rd: RowDiff,
    after: pd.DataFrame,
    before_row: Mapping[str, Any],
    ctx: dict[str, Any] | None = None,
) -> tuple[list[Operation], list[Problem]]:
    """Validated update (and task complete) operations for a changed row; ``ctx`` holds the
    row's ``CATEGORY_ID`` in ``after`` (stage labels are resolved in that pipeline)."""
    b = _RowBuilder(recipe, specs, rd)
    ctx = ctx or {"CATEGORY_ID": before_row.get("CATEGORY_ID")}
    complete = False
    for name, value in rd.values.items():
        spec = specs.get(name)
        if spec is None:
            continue
        old = rd.old.get(name)
        if spec.kind == "primary":
            source = spec.derived_from or name.removesuffix("_PRIMARY")
            if source in rd.values or source not in before_row:
                continue  # the full list was edited too (it wins), or no IDs are known
            try:
                edit = _primary_edit(source, before_row.get(source), value)
            except BadValue as err:
                b.problem(name, err.reason)
                continue
            if edit:
                b.fields[source] = edit
            continue
        if spec.kind == "currency_of":
            amount_col = spec.derived_from or name.removesuffix("_CURRENCY")
            if amount_col not in rd.values:
                amount = after[amount_col].iloc[rd.pos] if amount_col in after.columns else None
                b.money(amount_col, amount, value, field=name)
            continue
        if _read_only(recipe, spec):
            b.problem(name, f"read-only field changed ({old!r} -> {value!r})")
            continue
        if _immutable(recipe, spec):
            b.problem(name, "immutable field: it can be set on a new row only")
            continue
        if spec.kind == "multifield":
            try:
                edits = multifield.edits(old, value, name)
            except BadValue as err:
                b.problem(name, str(err))
                continue
            if edits:
                b.fields[name] = edits
            continue
        if spec.kind == "money":
            currency = (
                after[f"{name}_CURRENCY"].iloc[rd.pos] if f"{name}_CURRENCY" in after else None
            )
            if f"{name}_CURRENCY" not in rd.values and _same_amount(old, value):
                continue  # equal at the cents the portal stores
            b.money(name, value, currency)
            continue
        if spec.required and (is_missing(value) or value == ""):
            b.problem(name, "required field cannot be emptied")
            continue
        converted = b.convert(spec, value, ctx)
        if converted is None:
            continue
        try:
            if _same_api(spec, value_to_api(spec, old, pipeline=ctx.get("CATEGORY_ID")), converted):
                continue  # e.g. a code replaced by its own label, or equal at stored precision
        except BadValue:
            pass
        done = recipe.entity.completion
        if done is not None and name == done.field and converted == done.value:
            complete = True
            continue
        b.fields[name] = converted
    ops: list[Operation] = []
    if b.problems:
        return ops, b.problems
    changes = _changes(rd)
    status = [c for c in changes if complete and c[0] == "STATUS"]
    if b.fields:
        rest = [c for c in changes if c not in status]
        ops.append(Operation(f"update:{rd.id}", "update", rd.id, rd.row, b.fields, rest))
    if complete:
        ops.append(Operation(f"complete:{rd.id}", "complete", rd.id, rd.row, {}, status))
    return ops, b.problems


def unknown_columns(
    specs: Mapping[str, ColumnSpec], rows: list[RowDiff], id_field: str = "ID"
) -> list[Problem]:
    """One problem per column that is changed or set but not a field of the entity."""
    seen: dict[str, RowDiff] = {}
    for rd in rows:
        for name in rd.values:
            if name not in specs and name != id_field and name not in seen:
                seen[name] = rd
    return [
        Problem(rd.row, name, "unknown column: not a field of this entity")
        for name, rd in seen.items()
    ]
