"""The documentation site builds with ``mkdocs build --strict`` (broken links, bad API refs fail)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    index = (site / "index.html").read_text()
    assert "Quick start" in index and "img/funnel.png" in index
    assert (site / "img" / "funnel.png").is_file()
    api = (site / "api" / "index.html").read_text()
    for name in ("FilterPanel", "server_filter", "run_demo", "funnel", "Rates"):
        assert name in api, name
    assert not (site / "dev").exists()  # the team's working notes stay out of the site
