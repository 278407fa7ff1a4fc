"""run_demo end to end: sandbox when no URL is set, the given portal otherwise; no secret leaks."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bitrix_frames.demo import run_demo
from bitrix_frames.sandbox import Sandbox

SECRET = "demo-secret-7f3a9c"


def _pngs(html: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    ]


def test_demo_starts_a_sandbox_without_url(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("BITRIX_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    index = run_demo(out_dir=tmp_path / "report", progress=True)
    out = capsys.readouterr()
    assert index == tmp_path / "report" / "index.html"
    assert f"Report written to {index}" in out.out
    assert "starting an embedded sandbox" in out.out
    html = index.read_text()
    titles = (
        "Deal funnel",
        "Stage conversion",
        "Time in stage",
        "Cycle time",
        "Win rate by responsible",
        "Win rate by source",
        "Pipeline velocity",
        "Lead status conversion",
        "Won and lost by month",
        "Won revenue by responsible",
        "Leads by source and status",
        "Tasks by status",
    )
    for title in titles:
        assert f"<h2>{title}</h2>" in html
    pngs = _pngs(html)
    assert len(pngs) == len(titles) and all(p.startswith(b"\x89PNG") for p in pngs)
    assert " %</td>" in html  # shares shown as rounded percentages
    assert "Deal successful" in html and "General" in html  # labels, not codes only
    assert "sandboxsecret0001" not in html + out.out + out.err
    assert (tmp_path / "report" / "funnel.png").read_bytes().startswith(b"\x89PNG")
    funnel_csv = (tmp_path / "report" / "tables" / "deal-funnel.csv").read_text()
    assert funnel_csv.splitlines()[0] == "pipeline,pipeline_id,stage,stage_id,deals,amount,currency"
    conversion_csv = (tmp_path / "report" / "tables" / "stage-conversion.csv").read_text()
    assert conversion_csv.splitlines()[0] == (
        "pipeline,pipeline_id,stage,stage_id,semantics,entered,advanced,conversion,lost,lost_share"
    )
    for name in ("won-and-lost-by-month", "won-revenue-by-responsible"):  # sums are cents
        amounts = (tmp_path / "report" / "tables" / f"{name}.csv").read_text()
        assert "0000000" not in amounts and "9999999" not in amounts, name


def test_demo_reports_on_the_given_portal_without_printing_the_secret(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    with Sandbox(secret=SECRET) as sb:
        monkeypatch.setenv("BITRIX_WEBHOOK_URL", sb.webhook_url)
        index = run_demo(out_dir=tmp_path, progress=True)
        deals = sb.engine.execute("crm.deal.list", {"select": ["ID"], "start": 0}).total
    out = capsys.readouterr()
    assert "starting an embedded sandbox" not in out.out
    assert "/rest/1/***/" in out.out
    text = index.read_text()
    assert SECRET not in text + out.out + out.err
    summary = re.search(r"<td>deals</td>\s*<td>([\d,]+) rows</td>", text)
    assert summary and int(summary.group(1).replace(",", "")) == deals


def test_demo_rejects_a_malformed_url(tmp_path: Path) -> None:
    from bitrix_frames.errors import WebhookURLError

    with pytest.raises(WebhookURLError):
        run_demo("not a url", out_dir=tmp_path, progress=False)
