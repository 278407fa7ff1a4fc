"""Save a filter panel as a standalone HTML page (widget state embedded, no kernel needed).

The page loads the ``@jupyter-widgets/html-manager`` bundle (``embed.js``) from ``script_url``:
by default from the jsDelivr CDN; pass a local path or loopback URL to work offline.

Example::

    from bitrix_frames.widgets import FilterPanel, panel_html
    panel_html(FilterPanel(deals), "deals-filter.html", script_url="vendor/embed.js")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipywidgets.embed import DEFAULT_EMBED_SCRIPT_URL, dependency_state, embed_minimal_html

__all__ = ["panel_html"]


def panel_html(
    panel: Any,
    path: str | Path,
    *,
    script_url: str = DEFAULT_EMBED_SCRIPT_URL,
    title: str = "bitrix-frames filter panel",
) -> Path:
    """Write ``panel`` (a :class:`FilterPanel` or any widget) to ``path`` as standalone HTML.

    Example::

        panel_html(panel, "panel.html", script_url="embed.js")
    """
    widget = getattr(panel, "widget", panel)
    path = Path(path)
    # only this widget's state: the default is every widget alive in the kernel
    embed_minimal_html(
        str(path),
        views=[widget],
        state=dependency_state([widget], drop_defaults=True),
        title=title,
        requirejs=False,
        embed_url=script_url,
    )
    return path
