"""Write reports into one self-contained HTML page (figures as embedded PNG, tables as HTML).

Example::

    from bitrix_frames.reports.html import write_html
    write_html("report/index.html", "Pipeline report", {"Funnel": reports.funnel(deals)})
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from bitrix_frames.display import display_frame
from bitrix_frames.reports.common import Report

__all__ = ["figure_png", "table_html", "write_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .note{color:#666;margin-top:0}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right} th{background:#f4f6f8}
td:first-child,th:first-child{text-align:left} img{max-width:100%;border:1px solid #eee}
details{margin-bottom:2rem}
"""


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """Render a figure to PNG bytes (and close it)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def table_html(table: pd.DataFrame, max_rows: int = 40) -> str:
    """A report table as HTML, formatted by :func:`bitrix_frames.display.display_frame`
    (thousands separators, currencies, minutes in the portal's zone, Yes/No, labels, blanks).

    Example::

        table_html(funnel(deals).table)
    """
    shown = display_frame(table.head(max_rows), titles=False)
    out = shown.to_html(index=False, border=0)
    if len(table) > max_rows:
        out += f"<p class='note'>{len(table) - max_rows} more rows not shown.</p>"
    return out


def write_html(
    path: str | Path,
    title: str,
    sections: Mapping[str, Report],
    *,
    summary: pd.DataFrame | None = None,
    note: str = "",
    max_rows: int = 40,
) -> Path:
    """Write a standalone HTML report; every section shows its figure and its tidy table.

    Example::

        write_html("out/index.html", "Demo", {"Funnel": funnel(deals)}, summary=counts)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if note:
        parts.append(f"<p class='note'>{html.escape(note)}</p>")
    if summary is not None:
        parts += ["<h2>Summary</h2>", table_html(summary, max_rows)]
    for name, report in sections.items():
        png = base64.b64encode(figure_png(report.figure)).decode("ascii")
        parts += [
            f"<h2>{html.escape(name)}</h2>",
            f"<img alt='{html.escape(name)}' src='data:image/png;base64,{png}'>",
            "<details><summary>Table</summary>",
            table_html(report.table, max_rows),
            "</details>",
        ]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
