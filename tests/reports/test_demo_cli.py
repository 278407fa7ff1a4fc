"""``bitrix-frames demo`` runs run_demo (sandbox when no webhook is configured)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bitrix_frames.cli import app


def test_cli_demo_writes_the_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BITRIX_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--out", "rep", "--no-progress"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "<h2>Deal funnel</h2>" in html and "sandboxsecret0001" not in html + result.output
