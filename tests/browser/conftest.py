"""Headless Chromium (Debian's chromium + chromedriver) and an offline widget manager bundle.

The embedded-widget page needs ``@jupyter-widgets/html-manager``'s ``dist/embed.js``, normally
loaded from a CDN. ``scripts/install-browser.sh`` puts a copy in
``~/.cache/bitrix-frames/html-manager`` (``$BITRIX_FRAMES_VENDOR`` overrides); if it is missing the
fixture fetches it with ``npm pack`` (bounded by a timeout). Set ``BITRIX_FRAMES_SKIP_BROWSER=1``
to skip these tests on machines without a browser.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,2000",
)


def _vendor_dir() -> Path:
    default = Path.home() / ".cache" / "bitrix-frames" / "html-manager"
    return Path(os.environ.get("BITRIX_FRAMES_VENDOR", default))


def _fetch_html_manager(target: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("html-manager bundle missing and npm not found: run scripts/install-browser.sh")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", "--silent", "@jupyter-widgets/html-manager@1"],
            cwd=tmp,
            check=True,
            timeout=180,
            capture_output=True,
        )
        (tgz,) = Path(tmp).glob("jupyter-widgets-html-manager-*.tgz")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for member in tar.getmembers():
                if member.name.startswith("package/dist/") and member.isfile():
                    member.name = member.name[len("package/") :]
                    tar.extract(member, target, filter="data")


@pytest.fixture(scope="session")
def html_manager_dist() -> Path:
    """Directory holding ``embed.js`` of @jupyter-widgets/html-manager 1.x."""
    if os.environ.get("BITRIX_FRAMES_SKIP_BROWSER") == "1":
        pytest.skip("BITRIX_FRAMES_SKIP_BROWSER=1")
    vendor = _vendor_dir()
    if not (vendor / "dist" / "embed.js").is_file():
        _fetch_html_manager(vendor)
    return vendor / "dist"


@pytest.fixture
def serve_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served over HTTP on 127.0.0.1 (stopped after the test)."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """A headless Chromium driven by selenium with a fresh profile."""
    if os.environ.get("BITRIX_FRAMES_SKIP_BROWSER") == "1":
        pytest.skip("BITRIX_FRAMES_SKIP_BROWSER=1")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium/chromedriver missing: run scripts/install-browser.sh")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
