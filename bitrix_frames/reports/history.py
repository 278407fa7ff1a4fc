"""The stage-history frame made ready for reports: sorted, normalised, filtered, labelled.

``portal.stage_history("deal")`` gives one row per ``crm.stagehistory.list`` row (``OWNER_ID``,
``CREATED_TIME``, ``CATEGORY_ID``, ``STAGE_ID``, ``STAGE_SEMANTIC_ID``, ``TYPE_ID``); the lead
history has ``STATUS_ID`` / ``STATUS_SEMANTIC_ID`` and no pipeline. :func:`prepare` turns either
into one :class:`History` with the same short column names, sorted by record, time and row id (the
loader does not promise an order), and with each pipeline's stages in pipeline order.

The window, the same for every history report: ``since`` (inclusive) and ``until`` (exclusive)
keep the records *created* in ``[since, until)``: those whose first history row (normally the
creation row, ``TYPE_ID`` 1) has its ``CREATED_TIME`` in the window. All history rows of those
records are kept. Naive times are read as UTC.

Example::

    hist = prepare(portal.stage_history("deal"), pipeline="General", since="2024-01-01")
    hist.rows.head()            # id, owner, time, type, pipeline, stage, semantic
    hist.stages[0]              # stage codes of pipeline 0 in pipeline order
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bitrix_frames.errors import ReportInputError
from bitrix_frames.reports.common import pipeline_names
from bitrix_frames.reports.labels import short_label_map, stage_pipelines

__all__ = ["History", "prepare", "to_utc"]

_PIPE = re.compile(r"^C(\d+):")
_SUCCESS = re.compile(r"(^|:)(WON|CONVERTED|SUCCESS)$")
_FAILURE = re.compile(r"(^|:)(LOSE|JUNK|APOLOGY|FAIL|FAILURE)$")


@dataclass
class History:
    """A normalised stage history (see the module docstring)."""

    entity: str
    """``"deal"`` or ``"lead"``."""
    rows: pd.DataFrame
    """Columns ``id, owner, time, type, pipeline, stage, semantic``; sorted by owner, time, id."""
    stages: dict[int, list[Any]]
    """Pipeline id -> stage codes in pipeline order."""
    labels: dict[Any, str]
    """Stage code -> short stage name."""
    semantics: dict[Any, str]
    """Stage code -> ``"P"`` (working), ``"S"`` (success) or ``"F"`` (failure)."""
    names: dict[int, str]
    """Pipeline id -> pipeline name."""
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None
    span: tuple[Any, Any] | None = None
    """First and last record creation time kept (for titles)."""
    selected: list[int] = field(default_factory=list)
    """Pipelines to report on (all of them unless one was asked for)."""

    @property
    def noun(self) -> str:
        """``"deals"`` or ``"leads"``."""
        return f"{self.entity}s"

    def pipeline_label(self, pipe: int) -> str:
        """The pipeline's name (``"Leads"`` for the lead history)."""
        return self.names.get(pipe, f"Pipeline {pipe}")

    def order(self, pipe: int) -> list[Any]:
        """Working stages then the success stage(s) of a pipeline: the order "further" follows."""
        codes = self.stages.get(pipe, [])
        return [c for c in codes if self.semantics.get(c) == "P"] + [
            c for c in codes if self.semantics.get(c) == "S"
        ]


def to_utc(value: Any) -> pd.Timestamp | None:
    """A timestamp in UTC (naive values are read as UTC); ``None`` stays ``None``."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _guess(code: Any) -> str:
    text = str(code)
    if _SUCCESS.search(text):
        return "S"
    if _FAILURE.search(text):
        return "F"
    return "P"


def _columns(history: pd.DataFrame) -> tuple[str, str, str]:
    if "STAGE_ID" in history.columns:
        return "deal", "STAGE_ID", "STAGE_SEMANTIC_ID"
    if "STATUS_ID" in history.columns:
        return "lead", "STATUS_ID", "STATUS_SEMANTIC_ID"
    raise ReportInputError(
        "not a stage history: expected STAGE_ID (deals) or STATUS_ID (leads) columns, "
        "as portal.stage_history() returns"
    )


def _stage_pipelines(history: pd.DataFrame, col: str, rows: pd.DataFrame) -> dict[Any, int]:
    out: dict[Any, int] = stage_pipelines(history, col)
    seen = rows.drop_duplicates("stage")
    for code, pipe in zip(seen["stage"], seen["pipeline"], strict=True):
        out.setdefault(code, int(pipe))
    for code in _codes(history, col):
        if code not in out:
            m = _PIPE.match(str(code))
            out[code] = int(m.group(1)) if m else 0
    return out


def _codes(history: pd.DataFrame, col: str) -> list[Any]:
    series = history[col]
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().astype("object").unique().tolist(), key=str)


def _resolve_pipeline(pipeline: Any, names: Mapping[int, str], known: set[int]) -> int:
    if isinstance(pipeline, str):
        hits = [pid for pid, name in names.items() if name == pipeline]
        if not hits and pipeline.strip().lstrip("-").isdigit():
            hits = [int(pipeline)]
        if not hits:
            raise ReportInputError(
                f"no pipeline named {pipeline!r}; pipelines: {sorted(names.values())}"
            )
        return hits[0]
    try:
        pid = int(pipeline)
    except (TypeError, ValueError) as exc:
        raise ReportInputError(f"pipeline must be an id or a name, not {pipeline!r}") from exc
    if pid not in known and pid not in names:
        raise ReportInputError(f"no pipeline {pid}; pipelines: {sorted(known | set(names))}")
    return pid


def prepare(
    history: pd.DataFrame,
    pipeline: Any = None,
    since: Any = None,
    until: Any = None,
    semantics: Mapping[Any, str] | None = None,
) -> History:
    """Normalise a stage history and apply the window (records created in ``[since, until)``).

    ``pipeline`` (id or name) only chooses what is reported: rows of other pipelines are kept,
    because a stay or a cycle may end there. ``semantics`` overrides ``{stage code: "P"|"S"|"F"}``
    (else from the history's semantic column, else from the stage code: ``WON``, ``LOSE``...).

    Example::

        prepare(portal.stage_history("lead")).order(0)   # NEW, IN_PROCESS, ..., CONVERTED
    """
    if not isinstance(history, pd.DataFrame):
        raise ReportInputError(
            f"expected a DataFrame from portal.stage_history(), not {type(history)}"
        )
    entity, col, sem_col = _columns(history)
    missing = [c for c in ("OWNER_ID", "CREATED_TIME") if c not in history.columns]
    if missing:
        raise ReportInputError(f"stage history without column(s) {missing}")
    ids = history["ID"] if "ID" in history.columns else history.index.to_series()
    pipes = (
        pd.to_numeric(history["CATEGORY_ID"].astype("object"), errors="coerce")
        if "CATEGORY_ID" in history.columns
        else pd.Series(0, index=history.index)
    )
    sem_raw = (
        history[sem_col].astype("object")
        if sem_col in history.columns
        else pd.Series(None, index=history.index, dtype="object")
    )
    rows = pd.DataFrame(
        {
            "id": pd.to_numeric(pd.Series(ids.to_numpy(), index=history.index), errors="coerce"),
            "owner": pd.to_numeric(history["OWNER_ID"], errors="coerce").astype("Int64"),
            "time": pd.to_datetime(history["CREATED_TIME"], utc=True),
            "type": pd.to_numeric(history["TYPE_ID"], errors="coerce").astype("Int64")
            if "TYPE_ID" in history.columns
            else pd.array([pd.NA] * len(history), dtype="Int64"),
            "pipeline": pipes.fillna(0).astype("int64"),
            "stage": history[col].astype("object"),
            "semantic": sem_raw,
        }
    )
    rows = rows.dropna(subset=["owner", "time", "stage"])
    stage_pipe = _stage_pipelines(history, col, rows)
    if "CATEGORY_ID" not in history.columns:
        rows["pipeline"] = rows["stage"].map(lambda c: stage_pipe.get(c, 0)).astype("int64")
    sem: dict[Any, str] = {code: _guess(code) for code in stage_pipe}
    observed = rows.dropna(subset=["semantic"]).drop_duplicates("stage")
    for code, value in zip(observed["stage"], observed["semantic"], strict=True):
        if str(value) in {"P", "S", "F"}:
            sem[code] = str(value)
    if semantics:
        sem.update({k: str(v)[:1].upper() for k, v in semantics.items()})
    rows["semantic"] = rows["stage"].map(lambda c: sem.get(c, "P"))
    rows = rows.sort_values(["owner", "time", "id"], kind="stable").reset_index(drop=True)

    stages: dict[int, list[Any]] = {}
    for code in _codes(history, col):
        stages.setdefault(stage_pipe.get(code, 0), []).append(code)
    names = (
        pipeline_names(history)
        if entity == "deal" and "CATEGORY_ID" in history.columns
        else {0: "Leads" if entity == "lead" else "General"}
    )
    known = set(stages) | set(rows["pipeline"].unique().tolist())
    selected = (
        sorted(known, key=lambda p: list(names).index(p) if p in names else len(names) + p)
        if pipeline is None
        else [_resolve_pipeline(pipeline, names, known)]
    )

    lo, hi = to_utc(since), to_utc(until)
    if lo is not None and hi is not None and hi <= lo:
        raise ReportInputError(f"until ({hi}) must be after since ({lo})")
    created = rows.groupby("owner", sort=False)["time"].transform("min")
    keep = pd.Series(True, index=rows.index)
    if lo is not None:
        keep &= created >= lo
    if hi is not None:
        keep &= created < hi
    rows = rows[keep].reset_index(drop=True)
    first = created[keep]
    span = (first.min(), first.max()) if len(first) else None
    return History(
        entity=entity,
        rows=rows,
        stages=stages,
        labels=short_label_map(history, col),
        semantics=sem,
        names=names,
        since=lo,
        until=hi,
        span=span,
        selected=selected,
    )
