"""Readability checks of a rendered figure, from the renderer's bounding boxes.

``problems(fig)`` draws the figure with the Agg renderer and lists, per axes:
- two tick labels (of the same axis) whose boxes intersect;
- two annotations, or an annotation and a tick label, whose boxes intersect;
- an annotation whose box is not inside the axes' box.
Also non-integer tick labels on axes declared as counts, and amounts without thousands separators.
"""

from __future__ import annotations

import itertools
import re

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

_SHRINK = 0.5  # px: touching boxes (shared edges after rounding) are not overlaps


def _box(artist, renderer) -> Bbox:
    b = artist.get_window_extent(renderer)
    return Bbox.from_extents(b.x0 + _SHRINK, b.y0 + _SHRINK, b.x1 - _SHRINK, b.y1 - _SHRINK)


def _visible_ticklabels(axis, renderer, axes_box: Bbox) -> list:
    out = []
    for label in axis.get_ticklabels():
        if not label.get_visible() or not label.get_text().strip():
            continue
        box = label.get_window_extent(renderer)
        # tick labels outside the view (matplotlib keeps them, invisible on screen) are skipped
        if axis.axis_name == "x" and (box.x1 < axes_box.x0 - 1 or box.x0 > axes_box.x1 + 1):
            continue
        if axis.axis_name == "y" and (box.y1 < axes_box.y0 - 1 or box.y0 > axes_box.y1 + 1):
            continue
        out.append(label)
    return out


def problems(fig: Figure) -> list[str]:
    """Every overlap or overflow found in ``fig`` (empty when readable)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found: list[str] = []
    for n, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison:
            continue
        axes_box = ax.get_window_extent(renderer)
        ticks = {
            name: _visible_ticklabels(axis, renderer, axes_box)
            for name, axis in (("x", ax.xaxis), ("y", ax.yaxis))
        }
        for name, labels in ticks.items():
            for a, b in itertools.combinations(labels, 2):
                if _box(a, renderer).overlaps(_box(b, renderer)):
                    found.append(
                        f"axes {n}: {name} tick labels {a.get_text()!r} and {b.get_text()!r} overlap"
                    )
        texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        for a, b in itertools.combinations(texts, 2):
            if _box(a, renderer).overlaps(_box(b, renderer)):
                found.append(f"axes {n}: annotations {a.get_text()!r} and {b.get_text()!r} overlap")
        for t in texts:
            box = t.get_window_extent(renderer)
            if (
                box.x0 < axes_box.x0 - 0.5
                or box.x1 > axes_box.x1 + 0.5
                or box.y0 < axes_box.y0 - 0.5
                or box.y1 > axes_box.y1 + 0.5
            ):
                found.append(f"axes {n}: annotation {t.get_text()!r} runs outside the axes")
            for label in ticks["x"] + ticks["y"]:
                if _box(t, renderer).overlaps(_box(label, renderer)):
                    found.append(
                        f"axes {n}: annotation {t.get_text()!r} overlaps tick {label.get_text()!r}"
                    )
    return found


_NUMBER = re.compile(r"^[−-]?\d[\d,]*(\.\d+)?%?$")


def tick_numbers(axis) -> list[str]:
    """The visible numeric tick label texts of an axis (after a draw)."""
    texts = [t.get_text().replace("\u2212", "-") for t in axis.get_ticklabels()]
    return [t for t in texts if _NUMBER.match(t)]
