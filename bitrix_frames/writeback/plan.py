"""``plan(client, before, after)``: diff + validation -> a :class:`Plan`; nothing is sent until
:meth:`Plan.apply`.

The entity comes from ``df.attrs["bitrix"]["entity"]`` (set by the loaders) or ``entity=``; field
metadata from the portal (cached per Client), else from ``attrs["bitrix"]["fields"]``, else from a
``fields=`` dict in the documented ``crm.X.fields`` shape. Every problem is collected and raised at
once as :class:`~bitrix_frames.errors.WriteValidationError` naming row and field.

The plan fingerprint (entity, masked portal URL, ``loaded_at`` of ``before`` and every operation)
names the journal, so applying the same plan again resumes it instead of repeating it, and a fresh
load (new ``loaded_at``) starts a new journal. New rows carry a stable marker (a hash of portal,
entity and values, see :mod:`.markers`) in ``ORIGIN_ID`` (CRM) / ``XML_ID`` (tasks): an add whose
answer was lost is found, not resent, and a re-run of the same edit after a crash (fresh load,
fresh plan) does not add again what already landed.

A plan refuses frames loaded from another portal than the client's (``allow_other_portal=True``
for a deliberate copy) and references to records that do not exist (``COMPANY_ID`` 999999).

Example::

    deals = load(client, "deal")
    edited = deals.copy()
    edited.loc[12, "STAGE_ID"] = "WON"
    p = plan(client, deals, edited)
    p                     # <Plan deal: 0 add, 1 update, 0 delete>
    p.changes             # id, op, field, old, new
    report = p.apply()
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..contract import BitrixClient
from ..display import format_value
from ..encoding import batch_would_rewrite
from ..entities import entity as _entity
from ..progress import Bar
from ..schema.specs import ColumnSpec, Dictionaries, build_specs, spec_from_dict
from .apply import Applier
from .diff import diff, is_missing
from .journal import Journal, default_path
from .markers import MarkerIndex, one_off_token, stable_token
from .ops import Operation, WriteRecipe
from .ops import recipe as _recipe
from .problems import Problem, raise_if_any
from .references import missing_references
from .report import report as _report
from .validate import build_add, build_update, unknown_columns

__all__ = ["Plan", "plan"]


def _attrs(frame: pd.DataFrame) -> dict[str, Any]:
    meta = frame.attrs.get("bitrix") if isinstance(frame.attrs, dict) else None
    return meta if isinstance(meta, dict) else {}


def _resolve_entity(
    entity: str | None, before: pd.DataFrame, after: pd.DataFrame
) -> tuple[str | None, list[Problem]]:
    problems: list[Problem] = []
    tagged = {which: _attrs(f).get("entity") for which, f in (("before", before), ("after", after))}
    try:
        name = _entity(entity).name if entity else None
    except ValueError as err:
        return None, [Problem("*", "entity", str(err), "-")]
    for which, tag in tagged.items():
        if not tag:
            continue
        try:
            tag_name = _entity(tag).name
        except ValueError:
            tag_name = str(tag)
        if name is None:
            name = tag_name
        elif tag_name != name:
            problems.append(
                Problem(
                    "*",
                    "entity",
                    f"{which} is a frame of {tag_name}, not of {name} (wrong entity)",
                    which,
                )
            )
    if name is None:
        problems.append(
            Problem(
                "*",
                "entity",
                "unknown entity: pass entity= or load the frame with bitrix_frames",
                "-",
            )
        )
    return name, problems


def _specs(
    client: BitrixClient,
    name: str,
    before: pd.DataFrame,
    after: pd.DataFrame,
    fields: Mapping | None,
) -> dict[str, ColumnSpec]:
    if fields is not None:
        return build_specs(name, dict(fields), Dictionaries())
    specs: dict[str, ColumnSpec] = {}
    for frame in (before, after):
        for col, data in (_attrs(frame).get("fields") or {}).items():
            if isinstance(data, dict) and col not in specs:
                specs[col] = spec_from_dict(data)
    if client is not None:
        from ..metadata import metadata

        live = metadata(client).specs(name)
        specs = {**specs, **live}
    return specs


def _stamps(before: pd.DataFrame, field: str | None) -> dict[int, Any]:
    if not field or field not in before.columns:
        return {}
    out = {}
    for label, value in zip(before.index, before[field].tolist(), strict=False):
        if not is_missing(label):
            try:
                out[int(label)] = value
            except (TypeError, ValueError):
                continue
    return out


def _fingerprint(parts: list[Any]) -> str:
    text = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class Plan:
    """Validated operations of one write-back; see :func:`plan`."""

    def __init__(
        self,
        client: BitrixClient,
        recipe: WriteRecipe,
        operations: list[Operation],
        fingerprint: str,
        *,
        conflict_check: bool,
        check_added: bool = True,
        specs: Mapping[str, ColumnSpec] | None = None,
        tz: str | None = None,
    ) -> None:
        self.client = client
        self.specs = dict(specs or {})
        self.tz = tz  # the portal's UTC offset, to show times as the frame's loader saw them
        self.check_added = check_added
        self.recipe = recipe
        self.operations = operations
        self.fingerprint = fingerprint
        self.conflict_check = conflict_check
        self.last_report: pd.DataFrame | None = None

    @property
    def entity(self) -> str:
        return self.recipe.entity.name

    @property
    def counts(self) -> dict[str, int]:
        """Operations per kind: ``{'add': 2, 'update': 10, 'delete': 0, 'complete': 0}``."""
        out = {"add": 0, "update": 0, "delete": 0, "complete": 0}
        for op in self.operations:
            out[op.op] += 1
        return out

    def __len__(self) -> int:
        return len(self.operations)

    @property
    def changes(self) -> pd.DataFrame:
        """One row per changed cell: id (``new#<row>`` for adds), op, field, old, new."""
        rows: list[tuple[Any, ...]] = []
        for op in self.operations:
            ident = op.id if op.id is not None else op.row
            if op.op == "delete":
                rows.append((ident, "delete", None, None, None))
            for field, old, new in op.changes:
                rows.append((ident, op.op, field, old, new))
        return pd.DataFrame(rows, columns=["id", "op", "field", "old", "new"], dtype=object)

    def journal_path(self) -> Path:
        """Default journal location of this plan (no secret in it)."""
        return default_path(self.client.masked_url, self.fingerprint)

    def markers_path(self) -> Path:
        """The per-portal index of rows added from this machine (see :mod:`.markers`)."""
        return self.journal_path().parent / "markers.sqlite"

    def __repr__(self) -> str:
        c = self.counts
        extra = f", {c['complete']} complete" if c["complete"] else ""
        check = "" if self.conflict_check else " (no conflict check: no modified stamp in before)"
        return f"<Plan {self.entity}: {c['add']} add, {c['update']} update, {c['delete']} delete{extra}{check}>"

    def _repr_html_(self) -> str:
        cells = "".join(f"<td>{n}</td>" for n in self.counts.values())
        heads = "".join(f"<th>{k}</th>" for k in self.counts)
        note = (
            "" if self.conflict_check else "<p>No conflict check (no modified stamp in before).</p>"
        )
        return (
            f"<div><b>Plan for {html.escape(self.entity)}</b> (nothing sent yet)"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table>{note}"
            f"{self._changes_html()}</div>"
        )

    def _changes_html(self, limit: int = 20) -> str:
        """The first changed cells as a person reads them (labels, amounts, local minutes)."""
        changes = self.changes
        if changes.empty:
            return ""
        rows = []
        for ident, op, field, old, new in changes.head(limit).itertuples(index=False):
            spec = self.specs.get(field) if isinstance(field, str) else None
            title = spec.title if spec is not None and spec.title else (field or "")
            cells = (
                ident,
                op,
                title,
                format_value(old, spec, tz=self.tz),
                format_value(new, spec, tz=self.tz),
            )
            rows.append("".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
        more = len(changes) - limit
        tail = f"<p>{more:,} more changed cells: see <code>.changes</code>.</p>" if more > 0 else ""
        head = "".join(f"<th>{h}</th>" for h in ("id", "op", "field", "old", "new"))
        body = "".join(f"<tr>{r}</tr>" for r in rows)
        return f"<table class='bf-changes'><tr>{head}</tr>{body}</table>{tail}"

    def apply(
        self,
        *,
        force: bool = False,
        stop_on_error: bool = False,
        journal: str | Path | bool | None = None,
        progress: Any = None,
        execution_window: float | None = None,
    ) -> pd.DataFrame:
        """Send the plan; return the per-row report (row, id, op, status, new_id, error_code,
        description). Safe to call again after a crash: the journal makes it finish exactly.

        ``journal``: None = default path (see :func:`~.journal.default_path`), a path, or False
        for an in-memory journal (no resume). ``progress``: True for a bar, a tqdm instance or a
        callable ``(done, total)`` (see :mod:`~bitrix_frames.progress`); the bar shows the
        Client's long pauses (rate limit, back-off) as its status.
        ``force`` overwrites rows modified on the portal since they were loaded.
        ``execution_window``: seconds after sending during which a write whose answer was lost may
        still execute (default: the client's ``execution_window``, 120 s); such a write is looked
        for until then and only resent after it.

        Example::

            rep = plan.apply()
            rep[rep.status != "ok"]
        """
        path: str | Path
        if journal is None or journal is True:
            path = self.journal_path()
        elif journal is False:
            path = ":memory:"
        else:
            path = Path(journal)
        bar = Bar(
            False if progress is None else progress,
            f"write {self.entity}",
            unit="op",
            total=len(self.operations),
            unit_scale=False,
        )
        with bar, bar.showing_waits(self.client), Journal(path, self.fingerprint) as jr:
            jr.set_meta(entity=self.entity, portal=self.client.masked_url, counts=self.counts)
            applier = Applier(
                self.client,
                self.recipe,
                self.operations,
                jr,
                force=force,
                stop_on_error=stop_on_error,
                progress=bar.moveto,
                execution_window=execution_window,
                markers=MarkerIndex(self.markers_path()),
                check_added=self.check_added,
            )
            outcomes = applier.run()
        self.last_report = _report(self.operations, outcomes)
        return self.last_report


def plan(
    client: BitrixClient,
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    allow_deletes: bool = False,
    entity: str | None = None,
    fields: Mapping[str, Any] | None = None,
    allow_other_portal: bool = False,
    repeat_adds: bool = False,
) -> Plan:
    """Diff ``before`` -> ``after`` into validated adds, updates and deletes (nothing is sent).

    Rows of ``after`` with an NA index are added; changed cells become updates carrying only the
    changed fields; rows missing from ``after`` are deleted only when ``allow_deletes``. Raises
    :class:`~bitrix_frames.errors.WriteValidationError` listing every problem (row, field).
    ``allow_other_portal`` writes frames loaded from another portal (a deliberate copy);
    ``repeat_adds`` adds new rows even when an earlier run already added the same values.

    Example::

        p = plan(client, deals, edited, allow_deletes=True)
        p.counts, p.changes.head()
    """
    name, rec, problems = _recipe_for(client, entity, before, after, allow_other_portal)
    meta_before = _attrs(before)
    specs = _specs(client, name, before, after, fields)
    stamps = _stamps(before, rec.stamp)
    ops = _validated_operations(client, rec, specs, before, after, stamps, allow_deletes, problems)
    masked = getattr(client, "masked_url", "")
    fp = _fingerprint(
        [name, masked, meta_before.get("loaded_at"), [(o.key, o.op, o.id, o.fields) for o in ops]]
    )
    _mark_adds(ops, rec, _origin(masked), repeat_adds)
    _check_tokens(ops, rec)
    return Plan(
        client,
        rec,
        ops,
        fp,
        conflict_check=bool(stamps),
        check_added=not repeat_adds,
        specs=specs,
        tz=meta_before.get("utc_offset"),
    )


def _recipe_for(
    client: BitrixClient,
    entity: str | None,
    before: pd.DataFrame,
    after: pd.DataFrame,
    allow_other_portal: bool,
) -> tuple[str, WriteRecipe, list[Problem]]:
    """Step 1: which entity the frames hold and how it is written, plus the frame-level problems
    (frames of another portal). Raises at once when the entity is unknown or read-only."""
    name, problems = _resolve_entity(entity, before, after)
    if name is None:
        raise_if_any(problems)
        raise ValueError("no entity")  # unreachable: _resolve_entity reported why
    try:
        rec = _recipe(name)
    except ValueError as err:
        raise_if_any([*problems, Problem("*", "entity", str(err), "-")], name)
        raise
    if not allow_other_portal:
        problems += _portal_problems(client, before, after)
    return name, rec, problems


def _validated_operations(
    client: BitrixClient,
    rec: WriteRecipe,
    specs: dict[str, ColumnSpec],
    before: pd.DataFrame,
    after: pd.DataFrame,
    stamps: dict[int, Any],
    allow_deletes: bool,
    problems: list[Problem],
) -> list[Operation]:
    """Step 2: diff, validate every row, check that linked records exist; raises
    :class:`~bitrix_frames.errors.WriteValidationError` with every problem found (nothing sent)."""
    before, after = _bare(before), _bare(after)
    d = diff(before, after, allow_deletes=allow_deletes, id_field=rec.entity.id_field)
    problems = [*problems, *d.problems, *unknown_columns(specs, d.rows, rec.entity.id_field)]
    ops, row_problems = _operations(rec, specs, d, before, after, stamps)
    problems += row_problems
    if not problems and client is not None:
        problems += missing_references(client, specs, ops)
    raise_if_any(problems, rec.entity.name)
    return ops


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without ``attrs`` (same data): pandas deep-copies ``attrs`` on every column
    access, and the field metadata there made planning a 40-row frame take seconds."""
    saved = frame.attrs
    frame.attrs = {}
    try:
        return frame.copy(deep=False)
    finally:
        frame.attrs = saved


def _operations(
    rec: WriteRecipe,
    specs: dict[str, ColumnSpec],
    d: Any,
    before: pd.DataFrame,
    after: pd.DataFrame,
    stamps: dict[int, Any],
) -> tuple[list[Operation], list[Problem]]:
    """Validated operations of every row diff, with the modified stamps of ``before``."""
    before_rows = {}
    wanted_before = {rd.id for rd in d.rows if rd.op == "update"}
    if wanted_before:
        keep = [c for c in before.columns if c in ("CATEGORY_ID", *rec.entity.multifields)]
        for label, row in zip(before.index, before[keep].to_dict("records"), strict=False):
            if not is_missing(label) and int(label) in wanted_before:
                before_rows[int(label)] = row
    pipelines = after["CATEGORY_ID"].tolist() if "CATEGORY_ID" in after.columns else None
    ops: list[Operation] = []
    problems: list[Problem] = []
    for rd in d.rows:
        ctx = {"CATEGORY_ID": pipelines[rd.pos]} if pipelines and rd.pos is not None else None
        if rd.op == "add":
            op, probs = build_add(rec, specs, rd, after, ctx)
            problems += probs
            if op is not None:
                ops.append(op)
        elif rd.op == "update":
            new_ops, probs = build_update(rec, specs, rd, after, before_rows.get(rd.id, {}), ctx)
            problems += probs
            for op in new_ops:
                op.stamp = stamps.get(rd.id)
            ops += new_ops
        else:
            ops.append(
                Operation(f"delete:{rd.id}", "delete", rd.id, rd.id, stamp=stamps.get(rd.id))
            )
    return ops, problems


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a (masked) webhook URL; '' when unknown."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.netloc else ""


def _portal_problems(
    client: BitrixClient, before: pd.DataFrame, after: pd.DataFrame
) -> list[Problem]:
    """Frames loaded from another portal than the client's are refused (attrs record it)."""
    target = _origin(getattr(client, "masked_url", ""))
    if not target:
        return []
    problems = []
    for which, frame in (("before", before), ("after", after)):
        source = _origin(str(_attrs(frame).get("portal") or ""))
        if source and source != target:
            problems.append(
                Problem(
                    "*",
                    "portal",
                    f"{which} was loaded from {source}, but this client writes to {target}; "
                    "pass allow_other_portal=True to copy between portals on purpose",
                    which,
                )
            )
    return problems


def _mark_adds(ops: list[Operation], rec: WriteRecipe, origin: str, repeat: bool) -> None:
    """Write each add's idempotency marker into its marker field (see :mod:`.markers`)."""
    if not rec.marker:
        return
    seen: dict[str, int] = {}
    for op in ops:
        if op.op != "add":
            continue
        given = op.fields.get(rec.marker)
        if given not in (None, ""):
            op.token = str(given)
        elif repeat:
            op.token = one_off_token()
        else:
            base = stable_token(origin, rec.entity.name, op.fields, 0)
            occurrence = seen.get(base, 0)
            seen[base] = occurrence + 1
            op.token = stable_token(origin, rec.entity.name, op.fields, occurrence)
        op.fields[rec.marker] = op.token


def _check_tokens(ops: list[Operation], rec: WriteRecipe) -> None:
    seen: dict[str, Operation] = {}
    problems = []
    for op in ops:
        if op.token is None:
            continue
        if batch_would_rewrite(op.token):
            problems.append(
                Problem(
                    op.row,
                    rec.marker or "",
                    f"{rec.marker} {op.token!r} holds text the portal's batch would replace; "
                    "it is the idempotency key, looked up in batches",
                )
            )
        if op.token in seen:
            problems.append(
                Problem(
                    op.row,
                    rec.marker or "",
                    f"duplicate {rec.marker} {op.token!r} among new rows (it is the idempotency key)",
                )
            )
        seen[op.token] = op
    raise_if_any(problems, rec.entity.name)
