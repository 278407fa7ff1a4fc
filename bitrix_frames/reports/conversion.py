"""Stage conversion per pipeline: how many deals reached each stage and the step-to-step rate.

A deal *reached* a stage when its current stage is that stage or a later working stage of its
pipeline; won deals reached every working stage; lost deals only count as having entered the
pipeline (the portal keeps no stage history in the list API).

Example::

    fig, table = stage_conversion(portal.deals())
    table[["pipeline", "stage", "reached", "from_start", "step"]]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from bitrix_frames.reports.common import (
    Report,
    pipeline_names,
    pipeline_of,
    semantics_of,
    stage_order,
)
from bitrix_frames.reports.labels import short_label_map

__all__ = ["stage_conversion"]


def _table(deals: pd.DataFrame, semantics: dict | None) -> pd.DataFrame:
    pipes = pipeline_of(deals)
    names = pipeline_names(deals)
    labels = short_label_map(deals, "STAGE_ID")
    sem = semantics_of(deals, semantics=semantics)
    stage_sem = dict(zip(deals["STAGE_ID"].astype("object"), sem, strict=True))
    if semantics:
        stage_sem.update(semantics)
    rows = []
    for pipe in sorted(set(pipes.values())):
        codes = [c for c in stage_order(deals) if pipes.get(c) == pipe]
        working = [c for c in codes if stage_sem.get(c, _guess(c)) == "P"]
        won = [c for c in codes if stage_sem.get(c, _guess(c)) == "S"]
        in_pipe = deals[deals["STAGE_ID"].astype("object").isin(codes)]
        current = in_pipe["STAGE_ID"].astype("object")
        n_won = int(current.isin(won).sum())
        sequence = working + won
        for i, code in enumerate(sequence):
            later = sequence[i:]
            reached = int(current.isin(later).sum())
            if i == 0:
                reached = len(in_pipe)  # every deal entered the pipeline
            rows.append(
                {
                    "pipeline": names.get(pipe, f"Pipeline {pipe}"),
                    "pipeline_id": pipe,
                    "stage": labels.get(code, str(code)),
                    "stage_id": code,
                    "reached": reached if code not in won else n_won,
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    first = out.groupby("pipeline_id")["reached"].transform("first")
    prev = out.groupby("pipeline_id")["reached"].shift(1)
    out["from_start"] = (out["reached"] / first.where(first > 0)).round(4).astype("Float64")
    out["step"] = (out["reached"] / prev.where(prev > 0)).round(4).astype("Float64")
    out.loc[out.groupby("pipeline_id").head(1).index, "step"] = 1.0
    return out.astype({"reached": "Int64", "pipeline_id": "Int64"})


def _guess(code: object) -> str:
    text = str(code)
    if text.endswith("WON"):
        return "S"
    if text.endswith(("LOSE", "APOLOGY")):
        return "F"
    return "P"


def stage_conversion(deals: pd.DataFrame, semantics: dict | None = None) -> Report:
    """Conversion from the first stage to each later stage, one line per pipeline.

    ``semantics`` optionally maps stage codes to ``"P"``/``"S"``/``"F"`` (else taken from
    ``STAGE_SEMANTIC_ID`` or the stage code).

    Example::

        fig, table = stage_conversion(deals)
    """
    table = _table(deals, semantics)
    fig, ax = plt.subplots(figsize=(8, 4))
    for pipe, part in table.groupby("pipeline", sort=False):
        ax.plot(range(len(part)), (part["from_start"] * 100).astype(float), marker="o", label=pipe)
        for x, (label, value) in enumerate(zip(part["stage"], part["from_start"], strict=True)):
            ax.annotate(
                f"{label}\n{value:.0%}",
                (x, float(value) * 100),
                fontsize=7,
                ha="center",
                xytext=(0, 6),
                textcoords="offset points",
            )
    ax.set_ylabel("% of deals that entered the pipeline")
    ax.set_xlabel("stage (in pipeline order)")
    ax.set_ylim(0, 115)
    ax.legend(title="Pipeline")
    ax.set_title("Stage conversion (deals reaching each stage or later; won = final stage)")
    fig.tight_layout()
    return Report(fig, table)
