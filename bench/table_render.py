"""Table benchmark (JSON lines): how each table library renders 10,000 deals in headless Chromium.

Both candidates for the filter panel's table are rendered the way the panel ships them: as a
standalone page of embedded widget state (``ipywidgets.embed``), served from loopback, every
script local (no network). The rows are the sandbox's deals repeated to ``--rows`` rows (new IDs),
with their metadata, formatted by :mod:`bitrix_frames.display`.

* ``itables``: the panel's own table (:mod:`bitrix_frames.widgets.table`) in an ``Output`` widget,
  with the DataTables bundle beside it (offline mode);
* ``ipydatagrid``: a ``DataGrid`` widget of the same formatted frame, its JS bundle (the pip
  package's nbextension) loaded through require.js and html-manager's ``embed-amd.js``.
  Needs ``npm`` once to fetch require.js into ``~/.cache/bitrix-frames/requirejs``.

First one line ``panel_refresh``: seconds the kernel spends in ``FilterPanel.refresh()`` (count,
formatted table of every kept row; no chart) over the frame, best of 3: what each change of a
control costs in a live notebook.

Then, per library and run, one line: ``page_bytes`` (the saved page), ``python_s`` (building the widget
and writing the page), ``ready_ms`` (navigation start to the first rows on screen, polled every
20 ms), ``sort_ms`` (itables: a click on the Amount header until the re-sorted page is drawn;
ipydatagrid sorts from a canvas header menu that a test cannot reach, so ``null``), and
``dom_rows`` (table rows in the DOM: what the page drew). ``load`` is the machine's 1-minute load
average (a shared machine: compare libraries within one run).

Run::

    .venv/bin/python bench/table_render.py --rows 10000 --runs 3
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bitrix_frames.display import display_frame  # noqa: E402
from bitrix_frames.portal import connect  # noqa: E402
from bitrix_frames.sandbox import Sandbox  # noqa: E402

CACHE = Path.home() / ".cache" / "bitrix-frames"
HTML_MANAGER = Path(os.environ.get("BITRIX_FRAMES_VENDOR", CACHE / "html-manager")) / "dist"
COLUMNS = [
    "TITLE",
    "CATEGORY_ID",
    "STAGE_ID",
    "ASSIGNED_BY_ID",
    "OPPORTUNITY",
    "CURRENCY_ID",
    "DATE_CREATE",
    "CLOSEDATE",
    "CLOSED",
]


def deals(rows: int) -> pd.DataFrame:
    """The sandbox's deals repeated to ``rows`` rows (IDs 1..rows), metadata kept."""
    with Sandbox(limits=False) as sb, connect(sb.webhook_url) as portal:
        base = portal.deals()[COLUMNS]
    reps = -(-rows // len(base))
    out = pd.concat([base] * reps).iloc[:rows].copy()
    out.index = pd.RangeIndex(1, rows + 1, name="ID")
    out.attrs = base.attrs
    return out


def requirejs() -> Path:
    target = CACHE / "requirejs" / "require.js"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                ["npm", "pack", "--silent", "requirejs@2.3.7"],
                cwd=tmp,
                check=True,
                timeout=180,
                capture_output=True,
            )
            (tgz,) = Path(tmp).glob("requirejs-*.tgz")
            with tarfile.open(tgz) as tar:
                member = tar.getmember("package/require.js")
                data = tar.extractfile(member)
                assert data is not None
                target.write_bytes(data.read())
    return target


def page_itables(frame: pd.DataFrame, root: Path) -> None:
    import ipywidgets as widgets
    from IPython.display import HTML

    from bitrix_frames.widgets import panel_html
    from bitrix_frames.widgets.table import bundle_html, table_html

    out = widgets.Output()
    out.append_display_data(HTML(bundle_html()))
    out.append_display_data(HTML(table_html(frame)))
    panel_html(widgets.VBox([out]), root / "index.html", script_url="vendor/embed.js")


def page_ipydatagrid(frame: pd.DataFrame, root: Path) -> None:
    from ipydatagrid import DataGrid
    from ipywidgets.embed import dependency_state, embed_minimal_html

    shutil.copyfile(requirejs(), root / "vendor" / "require.js")
    nbext = Path(sys.prefix) / "share" / "jupyter" / "nbextensions"
    for module in ("ipydatagrid", "bqscales"):  # the grid's cell renderers use bqscales models
        shutil.copytree(nbext / module, root / "vendor" / module)
    grid = DataGrid(
        display_frame(frame).reset_index(drop=True),
        layout={"height": "600px"},
        base_column_size=140,
    )
    path = root / "index.html"
    embed_minimal_html(
        str(path),
        views=[grid],
        state=dependency_state([grid], drop_defaults=True),
        requirejs=True,
        embed_url="vendor/embed-amd.js",
        title="grid",
    )
    text = path.read_text()
    start = text.index('<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js')
    end = text.index("</script>", start) + len("</script>")
    local = (
        '<script src="vendor/require.js"></script>'
        "<script>require.config({paths: {ipydatagrid: 'vendor/ipydatagrid/index',"
        " bqscales: 'vendor/bqscales/index'}});</script>"
    )
    path.write_text(text[:start] + local + text[end:])
    assert "cdnjs" not in path.read_text()


@contextmanager
def served(root: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


READY = {
    "itables": "table.dataTable tbody tr",
    "ipydatagrid": ".lm-DataGrid canvas, .p-DataGrid canvas",
}

SORT_JS = """
const done = arguments[arguments.length - 1];
const th = [...document.querySelectorAll('table.dataTable thead th')]
    .find(t => t.textContent.trim() === 'Amount');
const first = () => document.querySelector('table.dataTable tbody tr').textContent;
const before = first();
const t0 = performance.now();
th.click();
const poll = () => {
    if (first() !== before) return done([performance.now() - t0, true]);
    if (performance.now() - t0 > 60000) return done([performance.now() - t0, false]);
    requestAnimationFrame(poll);
};
poll();
"""


def measure(driver: Any, url: str, library: str) -> dict[str, Any]:
    driver.get(url)
    selector = READY[library]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = driver.execute_script(
            "const e = document.querySelector(arguments[0]);"
            "return e && (e.tagName !== 'CANVAS' || e.width > 0) ? performance.now() : null;",
            selector,
        )
        if found is not None:
            break
        time.sleep(0.02)
    else:
        raise TimeoutError(f"{library}: nothing rendered in 120 s")
    drawn = _cells_drawn(driver, library)
    sort_ms = None
    if library == "itables" and drawn:
        elapsed, changed = driver.execute_async_script(SORT_JS)
        assert changed, "sorting by Amount did not reorder the rows"
        sort_ms = round(elapsed, 1)
    rows = driver.execute_script("return document.querySelectorAll('tbody tr').length")
    return {"ready_ms": round(found, 1), "cells_drawn": drawn, "sort_ms": sort_ms, "dom_rows": rows}


# dark pixels in the grid's body (below the header row): text drawn on the canvas
DARK_PIXELS_JS = """
const c = document.querySelector('.lm-DataGrid-viewport canvas');
const d = c.getContext('2d').getImageData(100, 60, 600, 300).data;
let dark = 0;
for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 110) dark++;
return dark;
"""


def _cells_drawn(driver: Any, library: str, wait: float = 15.0) -> bool:
    """Whether the body cells show text (the grid draws on a canvas: look at its pixels)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if library == "itables":
            text = driver.execute_script(
                "return document.querySelector('table.dataTable tbody td:nth-child(2)').textContent"
            )
            if text.strip():
                return True
        elif driver.execute_script(DARK_PIXELS_JS) > 50:
            return True
        time.sleep(0.2)
    return False


def panel_refresh(frame: pd.DataFrame, rows: int) -> dict[str, Any]:
    from bitrix_frames.widgets import FilterPanel

    panel = FilterPanel(frame)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        panel.refresh()
        best = min(best, time.perf_counter() - t0)
    return {
        "bench": "table_render",
        "library": "itables",
        "what": "panel_refresh",
        "rows": rows,
        "seconds": round(best, 2),
        "load": round(os.getloadavg()[0], 2),
    }


BUILDERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    "itables": page_itables,
    "ipydatagrid": page_ipydatagrid,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=sorted(BUILDERS))
    parser.add_argument("--shots", type=Path, help="save a screenshot per page into this folder")
    args = parser.parse_args()
    frame = deals(args.rows)
    print(json.dumps(panel_refresh(frame, args.rows)), flush=True)
    libraries = [args.only] if args.only else list(BUILDERS)
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for library in libraries:
                root = Path(tmp) / f"{library}-{run}"
                root.mkdir()
                shutil.copytree(HTML_MANAGER, root / "vendor")
                t0 = time.perf_counter()
                BUILDERS[library](frame, root)
                python_s = time.perf_counter() - t0
                with served(root) as url, chromium(root / "profile") as driver:
                    result = measure(driver, url, library)
                    if args.shots:
                        args.shots.mkdir(parents=True, exist_ok=True)
                        driver.save_screenshot(str(args.shots / f"{library}-{run}.png"))
                line = {
                    "bench": "table_render",
                    "library": library,
                    "run": run,
                    "rows": args.rows,
                    "page_bytes": (root / "index.html").stat().st_size,
                    "python_s": round(python_s, 2),
                    **result,
                    "load": round(os.getloadavg()[0], 2),
                }
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
