"""Render every report figure of the demo portal (default Sandbox seed) into docs/img/.

Run from the repository root: ``python scripts/docs_figures.py``. The pictures in
docs/widgets-and-reports.md and the README come from here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import bitrix_frames as bf
from bitrix_frames import reports
from bitrix_frames.reports.html import figure_png
from bitrix_frames.sandbox import Sandbox

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"


def main() -> None:
    with Sandbox(limits=False) as sb, bf.connect(sb.webhook_url, rate=1000, burst=1000) as portal:
        deals, users = portal.deals(), portal.users()
        history = portal.stage_history("deal")
        rates = reports.Rates.from_portal(portal)
        figures = {
            "funnel": lambda: reports.funnel(deals, rates),
            "stage-conversion": lambda: reports.stage_conversion(history, pipeline="General"),
            "time-in-stage": lambda: reports.time_in_stage(history, pipeline="General"),
            "cycle-time": lambda: reports.cycle_time(history, pipeline="General"),
            "win-rate": lambda: reports.win_rate(deals, users=users),
            "velocity": lambda: reports.velocity(deals, history, rates),
        }
        for name, build in figures.items():
            fig, _table = build()
            (OUT / f"{name}.png").write_bytes(figure_png(fig, dpi=80))
            print(name, OUT / f"{name}.png")


if __name__ == "__main__":
    main()
