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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass
class _Cell:
    """One edited value of a row: column ``name``, its spec, the new ``value`` and the ``old`` one."""

    name: str
    spec: ColumnSpec
    value: Any
    old: Any = None


class _RowBuilder:
    """Converts one row's values into API fields, collecting problems (one row, one operation)."""

    def __init__(
        self,
        recipe: WriteRecipe,
        specs: Mapping[str, ColumnSpec],
        rd: RowDiff,
        after: pd.DataFrame,
        ctx: dict[str, Any],
        before_row: Mapping[str, Any] | None = None,
    ) -> None:
        self.recipe, self.specs, self.rd, self.after, self.ctx = recipe, specs, rd, after, ctx
        self.before_row = before_row or {}
        self.problems: list[Problem] = []
        self.fields: dict[str, Any] = {}
        self.complete = False

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.rd.row, field, message))

    def cells(self) -> list[_Cell]:
        """The row's edited values that are fields of the entity (unknown columns are reported
        once per column by :func:`unknown_columns`)."""
        return [
            _Cell(name, spec, value, self.rd.old.get(name))
            for name, value in self.rd.values.items()
            if (spec := self.specs.get(name)) is not None
        ]

    def after_value(self, column: str) -> Any:
        """The row's value of ``column`` in ``after`` (None when the frame has no such column)."""
        return self.after[column].iloc[self.rd.pos] if column in self.after.columns else None

    def convert(self, spec: ColumnSpec, value: Any) -> Any:
        try:
            return value_to_api(spec, value, pipeline=self.ctx.get("CATEGORY_ID"))
        except BadValue as err:
            self.problem(spec.name, err.reason)
            return None

    def money(self, name: str, amount: Any, currency: Any, field: str | None = None) -> None:
        """Join amount and currency into ``fields[name]``; a problem is reported on ``field``."""
        try:
            self.fields[name] = money_to_api(amount, currency, self.specs.get(f"{name}_CURRENCY"))
        except BadValue as err:
            self.problem(field or name, err.reason)

    def primary(self, cell: _Cell, old_list: Any) -> None:
        """``<MF>_PRIMARY``: an edit of its multifield's first value."""
        source = cell.spec.derived_from or cell.name.removesuffix("_PRIMARY")
        try:
            edit = _primary_edit(source, old_list, cell.value)
        except BadValue as err:
            self.problem(cell.name, err.reason)
            return
        if edit:
            self.fields[source] = edit


# -- adds: one handler per column kind, the rest converted by value_to_api -----------------------


def _add_primary(b: _RowBuilder, cell: _Cell) -> None:
    source = cell.spec.derived_from or cell.name.removesuffix("_PRIMARY")
    if not b.rd.values.get(source) and source in b.specs:
        b.primary(cell, None)


def _add_multifield(b: _RowBuilder, cell: _Cell) -> None:
    try:
        b.fields[cell.name] = multifield.for_add(cell.value, cell.name)
    except BadValue as err:
        b.problem(cell.name, str(err))


def _add_money(b: _RowBuilder, cell: _Cell) -> None:
    b.money(cell.name, cell.value, b.rd.values.get(f"{cell.name}_CURRENCY"))


def _add_value(b: _RowBuilder, cell: _Cell) -> None:
    converted = b.convert(cell.spec, cell.value)
    if converted is not None:
        b.fields[cell.name] = converted


_ADD: dict[str, Callable[[_RowBuilder, _Cell], None]] = {
    "primary": _add_primary,
    "currency_of": lambda b, cell: None,  # joined with its amount
    "multifield": _add_multifield,
    "money": _add_money,
}
_DERIVED = frozenset({"primary", "currency_of"})
"""Kinds that are views of another field: their edits are edits of that field."""


def build_add(
    recipe: WriteRecipe,
    specs: Mapping[str, ColumnSpec],
    rd: RowDiff,
    after: pd.DataFrame,
    ctx: dict[str, Any] | None = None,
) -> tuple[Operation | None, list[Problem]]:
    """A validated add operation for a new row; ``ctx`` holds the row's ``CATEGORY_ID``."""
    b = _RowBuilder(recipe, specs, rd, after, ctx or {})
    for cell in b.cells():
        if cell.spec.kind not in _DERIVED and _read_only(recipe, cell.spec):
            b.problem(cell.name, "read-only field cannot be set on a new row")
            continue
        _ADD.get(cell.spec.kind, _add_value)(b, cell)
    for name, spec in specs.items():
        missing = _required(recipe, spec) and b.fields.get(name) in (None, "", [])
        if missing and not any(p.field == name for p in b.problems):
            b.problem(name, "required field is missing on a new row")
    done = recipe.entity.completion
    if done is not None and b.fields.get(done.field) == done.value:
        b.problem(
            done.field,
            f"a new {recipe.entity.name} cannot be created completed; add it, then complete it",
        )
    if b.problems:
        return None, b.problems
    return Operation(f"add:{rd.pos}", "add", None, rd.row, b.fields, _changes(rd)), b.problems


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


# -- updates ---------------------------------------------------------------------------------------


def _update_primary(b: _RowBuilder, cell: _Cell) -> None:
    source = cell.spec.derived_from or cell.name.removesuffix("_PRIMARY")
    if source in b.rd.values or source not in b.before_row:
        return  # the full list was edited too (it wins), or no IDs are known
    b.primary(cell, b.before_row.get(source))


def _update_currency(b: _RowBuilder, cell: _Cell) -> None:
    amount_col = cell.spec.derived_from or cell.name.removesuffix("_CURRENCY")
    if amount_col not in b.rd.values:  # else joined when the amount is handled
        b.money(amount_col, b.after_value(amount_col), cell.value, field=cell.name)


def _update_multifield(b: _RowBuilder, cell: _Cell) -> None:
    try:
        edits = multifield.edits(cell.old, cell.value, cell.name)
    except BadValue as err:
        b.problem(cell.name, str(err))
        return
    if edits:
        b.fields[cell.name] = edits


def _update_money(b: _RowBuilder, cell: _Cell) -> None:
    currency_col = f"{cell.name}_CURRENCY"
    if currency_col not in b.rd.values and _same_amount(cell.old, cell.value):
        return  # equal at the cents the portal stores
    b.money(cell.name, cell.value, b.after_value(currency_col))


def _update_value(b: _RowBuilder, cell: _Cell) -> None:
    spec, value = cell.spec, cell.value
    if spec.required and (is_missing(value) or value == ""):
        b.problem(cell.name, "required field cannot be emptied")
        return
    converted = b.convert(spec, value)
    if converted is None:
        return
    try:
        old = value_to_api(spec, cell.old, pipeline=b.ctx.get("CATEGORY_ID"))
        if _same_api(spec, old, converted):
            return  # e.g. a code replaced by its own label, or equal at stored precision
    except BadValue:
        pass
    done = b.recipe.entity.completion
    if done is not None and cell.name == done.field and converted == done.value:
        b.complete = True
        return
    b.fields[cell.name] = converted


_UPDATE: dict[str, Callable[[_RowBuilder, _Cell], None]] = {
    "primary": _update_primary,
    "currency_of": _update_currency,
    "multifield": _update_multifield,
    "money": _update_money,
}


def _update_refused(b: _RowBuilder, cell: _Cell) -> bool:
    """Report a change of a field the portal does not let an update write."""
    if cell.spec.kind in _DERIVED:
        return False
    if _read_only(b.recipe, cell.spec):
        b.problem(cell.name, f"read-only field changed ({cell.old!r} -> {cell.value!r})")
        return True
    if _immutable(b.recipe, cell.spec):
        b.problem(cell.name, "immutable field: it can be set on a new row only")
        return True
    return False


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
    ctx = ctx or {"CATEGORY_ID": before_row.get("CATEGORY_ID")}
    b = _RowBuilder(recipe, specs, rd, after, ctx, before_row)
    for cell in b.cells():
        if not _update_refused(b, cell):
            _UPDATE.get(cell.spec.kind, _update_value)(b, cell)
    if b.problems:
        return [], b.problems
    return _update_operations(b), b.problems


def _update_operations(b: _RowBuilder) -> list[Operation]:
    """The update of the converted fields, then the completion (its own method) if asked."""
    rd, ops = b.rd, []
    changes = _changes(rd)
    done = b.recipe.entity.completion
    status = [c for c in changes if b.complete and done is not None and c[0] == done.field]
    if b.fields:
        rest = [c for c in changes if c not in status]
        ops.append(Operation(f"update:{rd.id}", "update", rd.id, rd.row, b.fields, rest))
    if b.complete:
        ops.append(Operation(f"complete:{rd.id}", "complete", rd.id, rd.row, {}, status))
    return ops


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
