"""Every report figure is readable at notebook width, measured with the renderer's bounding boxes.

No two tick labels of an axis overlap, no annotation overlaps another or a tick label, every
annotation lies inside its axes, figures are at most ``style.WIDTH`` inches wide, counts sit on
integer ticks, amounts carry thousands separators and titles say what is shown.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from readability import problems, tick_numbers

from bitrix_frames import reports
from bitrix_frames.reports import style

NOW = "2026-12-01T00:00:00Z"

BUILDERS = {
    "funnel": lambda f: reports.funnel(f["deals"], f["rates"]),
    "funnel per currency": lambda f: reports.funnel(f["deals"]),
    "won and lost": lambda f: reports.won_lost_by_month(f["deals"], f["rates"]),
    "revenue": lambda f: reports.revenue_by_user(f["deals"], f["rates"], users=f["users"]),
    "revenue per currency": lambda f: reports.revenue_by_user(f["deals"], users=f["users"]),
    "leads by source": lambda f: reports.leads_by_source(f["leads"]),
    "tasks": lambda f: reports.tasks_by_status(f["tasks"], users=f["users"], now=NOW),
    "win rate by owner": lambda f: reports.win_rate(f["deals"], users=f["users"]),
    "win rate by source": lambda f: reports.win_rate(f["deals"], by="SOURCE_ID"),
    "lead win rate": lambda f: reports.win_rate(f["leads"], by="SOURCE_ID"),
    "stage conversion": lambda f: reports.stage_conversion(f["history"]),
    "stage conversion, one pipeline": lambda f: reports.stage_conversion(f["history"], pipeline=0),
    "time in stage": lambda f: reports.time_in_stage(f["history"]),
    "time in stage, hours": lambda f: reports.time_in_stage(f["history"], 2, unit="hours"),
    "cycle time": lambda f: reports.cycle_time(f["history"]),
    "velocity": lambda f: reports.velocity(f["deals"], f["history"], f["rates"]),
    "velocity per currency": lambda f: reports.velocity(f["deals"], f["history"]),
    "lead conversion": lambda f: reports.stage_conversion(f["lead_history"]),
    "lead time in stage": lambda f: reports.time_in_stage(f["lead_history"]),
    "lead cycle time": lambda f: reports.cycle_time(f["lead_history"]),
}

COUNT_WORDS = ("deals", "leads", "tasks")


def _check(fig) -> None:
    try:
        assert problems(fig) == []
        width, _height = fig.get_size_inches()
        assert width <= style.WIDTH + 1e-9
        for ax in fig.axes:
            for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
                numbers = tick_numbers(axis)
                big = [t for t in numbers if abs(float(t.rstrip("%").replace(",", ""))) >= 1000]
                assert all("," in t for t in big), f"no thousands separator in {big}"
                if label.split(" ")[0] in COUNT_WORDS:
                    assert all("." not in t for t in numbers), f"{label}: {numbers}"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_figures_of_the_demo_portal_are_readable(name: str, demo_portal) -> None:
    _portal, frames = demo_portal
    fig, table = BUILDERS[name](frames)
    assert len(table) > 0
    _check(fig)


@pytest.mark.parametrize(
    "build",
    [reports.stage_conversion, reports.time_in_stage, reports.cycle_time],
    ids=lambda f: f.__name__,
)
def test_history_figures_are_readable_and_titled(build, history) -> None:
    fig, _table = build(history, since="2024-03-01", until="2024-04-01")
    title = fig._suptitle.get_text()
    assert "all pipelines" in title and "created 2024-03-01 – 2024-03-31" in title
    _check(fig)
    fig, _table = build(history, pipeline="Wholesale")
    assert "Wholesale" in fig._suptitle.get_text()
    _check(fig)


def test_the_checker_sees_overlaps_and_overflow() -> None:
    """The measure itself: crowded tick labels and an annotation past the edge are reported."""
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(range(8), range(8))
    ax.set_xticks(range(8), [f"a long stage name {i}" for i in range(8)])
    ax.annotate("far past the right edge", (7, 3), xytext=(30, 0), textcoords="offset points")
    found = problems(fig)
    plt.close(fig)
    assert any("tick labels" in p and "overlap" in p for p in found)
    assert any("runs outside the axes" in p for p in found)


def test_amount_sums_are_cents(demo_portal) -> None:
    """Sums of amounts are rounded to cents (no 79216.23000000001 in the CSV)."""
    _portal, frames = demo_portal
    for report in (
        reports.won_lost_by_month(frames["deals"], frames["rates"]),
        reports.revenue_by_user(frames["deals"], frames["rates"]),
    ):
        plt.close(report.figure)
        amounts = report.table["amount"].astype(float)
        assert (amounts.round(2) == amounts).all()
        assert all(len(repr(a).split(".")[-1]) <= 2 for a in amounts)
