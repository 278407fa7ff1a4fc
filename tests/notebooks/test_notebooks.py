"""Execute the three notebooks top to bottom with nbclient against a sandbox (no webhook set).

The notebooks are tutorials: they end without ``assert``s. The checks live here and run in the
notebook's kernel after its last analysis cell (before the cell that stops the sandbox), on the
notebook's own variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01-explore.ipynb",
        "02-pipeline-report.ipynb",
        "03-bulk-edit.ipynb",
    ]


CHECKS = {
    "01-explore": """
assert len(reloaded) > 0 and sorted(reloaded.index) == sorted(panel.value.index)
assert set(panel.value["CATEGORY_ID"].astype(int)) == {0}
assert len(lead_panel.value) < len(leads)
""",
    "02-pipeline-report": """
assert len(history) > len(deals)
assert set(conversion["pipeline"]) == {"General"} and conversion["entered"].iloc[0] > 0
assert (conversion["advanced"] <= conversion["entered"]).all()
assert recent["entered"].iloc[0] < conversion["entered"].iloc[0]
assert stays["count"].sum() > 0 and stays["open"].sum() > 0
assert set(cycles["outcome"]) == {"won", "lost"}
assert by_owner["win_rate"].between(0, 1).all() and len(velocity) >= 1
assert set(lead_funnel["pipeline"]) == {"Leads"}
assert 0 < len(explorer.value) < len(history)
assert index.is_file()
""",
    "03-bulk-edit": """
assert (report["status"] == "ok").all()
assert (after.loc[deals.index[final], "STAGE_ID"] == "WON").all()
assert "Notebook bulk-edit deal" in set(after["TITLE"].dropna())
assert int((after["STAGE_ID"] == "FINAL_INVOICE").sum()) == 0 and len(after) - len(deals) == 1
""",
}


def test_notebooks_end_without_asserts() -> None:
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
        assert "assert " not in code, path.name
        assert path.stem in CHECKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.timeout(480)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BITRIX_WEBHOOK_URL", raising=False)
    # the kernel inherits the environment: make the package importable from a source checkout,
    # keep the write-back journal and matplotlib caches out of the home directory
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("HOME", str(tmp_path))
    book = nbformat.read(path, as_version=4)
    # the checks run after the last analysis cell, before the one that stops the sandbox
    book.cells.insert(len(book.cells) - 1, nbformat.v4.new_code_cell(CHECKS[path.stem]))
    client = NotebookClient(
        book,
        timeout=120,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    text = json.dumps([c.outputs for c in code])
    assert "sandboxsecret0001" not in text  # the webhook secret never reaches an output
    assert "/rest/1/***/" in text  # the portal repr shows the masked URL
    if path.stem == "01-explore":
        assert "Deal successful" in text  # labels, not only codes
    if path.stem == "02-pipeline-report":
        assert text.count("image/png") >= 11  # one figure per report
    if path.stem == "03-bulk-edit":
        assert "<Plan deal: 1 add," in text  # the dry run, before apply
        assert "(0, 1, True)" in text  # none left in FINAL_INVOICE, one added, moved ones won
