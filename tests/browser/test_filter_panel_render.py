"""A real browser renders a filter panel of sandbox deals: the controls show labels, not ids; the
table shows formatted cells (amounts with separators and currency, local minutes, Yes/No) and
sorts by value.

``BITRIX_FRAMES_SCREENSHOT=docs/img/panel.png`` keeps the screenshot (the one in the docs)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from bitrix_frames.portal import connect
from bitrix_frames.sandbox import Sandbox
from bitrix_frames.widgets import FilterPanel, panel_html

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def panel() -> FilterPanel:
    with Sandbox() as sb, connect(sb.webhook_url) as portal:
        deals = portal.deals()
    panel = FilterPanel(deals, chart="STAGE_ID")
    panel.controls["CATEGORY_ID"].select("Renewals")
    return panel


def test_panel_renders_with_labels(panel, html_manager_dist, serve_dir, browser) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    root, base = serve_dir
    shutil.copytree(html_manager_dist, root / "vendor")
    panel_html(panel, root / "index.html", script_url="vendor/embed.js")
    assert "cdn.jsdelivr" not in (root / "index.html").read_text()  # offline page

    browser.get(base + "index.html")
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".widget-select-multiple select")) >= 3
    )
    selects = {}
    for box in browser.find_elements(By.CSS_SELECTOR, ".widget-select-multiple"):
        label = box.find_element(By.CSS_SELECTOR, "label").text
        options = box.find_elements(By.CSS_SELECTOR, "option")
        selects[label] = {o.text: o.is_selected() for o in options}

    pipelines = selects["Sales Funnel"]
    assert set(pipelines) == {"General", "Partners", "Renewals"}
    assert [name for name, chosen in pipelines.items() if chosen] == ["Renewals"]

    stages = selects["Deal Stage"]
    assert "General: Deal successful" in stages and "Renewals: Renewed" in stages
    codes = set(panel.df["STAGE_ID"].cat.categories)
    assert not codes & set(stages), "a stage shows its raw code"

    users = selects["Responsible"]
    assert users and all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", name) for name in users)

    body = browser.find_element(By.TAG_NAME, "body").text
    assert f"{len(panel.value)} of {len(panel.df)} rows" in body
    amount = panel.controls["OPPORTUNITY"].widget
    assert f"{amount.min:,.2f} – {amount.max:,.2f}" in body and "NaN" not in body
    table = browser.find_element(By.CSS_SELECTOR, "table.dataTable")
    heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert "Deal Stage" in heads and "STAGE_ID" not in heads  # captions as headers
    assert "Renewals" in table.text and "C2:" not in table.text
    imgs = browser.find_elements(By.CSS_SELECTOR, ".widget-output img")
    assert imgs and browser.execute_script("return arguments[0].naturalWidth", imgs[0]) > 100

    rows = _rows(table, heads)
    assert len(rows) == 10 and len(panel.value) > 10  # paged
    amounts = [r["Amount"] for r in rows if r["Amount"]]
    assert amounts and all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2} [A-Z]{3}", a) for a in amounts)
    assert any("," in a for a in amounts), "no thousands separator"
    created = [r["Creation Date"] for r in rows]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", c) for c in created)  # no seconds
    # in the portal's zone (the sandbox runs at UTC+03:00), the frame itself untouched (UTC)
    first = panel.df.loc[int(rows[0]["ID"]), "DATE_CREATE"]
    assert str(first.tz) == "UTC"
    assert created[0] == first.tz_convert("+03:00").strftime("%Y-%m-%d %H:%M")
    assert {r["Closed"] for r in rows} <= {"Yes", "No"} and "True" not in table.text

    before = [r["ID"] for r in rows]
    header = table.find_elements(By.CSS_SELECTOR, "thead th")[heads.index("Amount")]
    # DataTables replaces the rows while it redraws: a row read mid-redraw is stale, read again
    redrawn = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
    header.click()
    redrawn.until(lambda d: [r["ID"] for r in _rows(table, heads)] != before)
    up = [_amount(r["Amount"]) for r in redrawn.until(lambda d: _rows(table, heads))]
    assert up == sorted(up)
    header.click()
    redrawn.until(lambda d: _amount(_rows(table, heads)[0]["Amount"]) > up[0])
    down = [_amount(r["Amount"]) for r in redrawn.until(lambda d: _rows(table, heads))]
    assert down == sorted(down, reverse=True)
    kept = panel.value["OPPORTUNITY"].dropna()
    assert down[0] == pytest.approx(float(kept.max()))  # sorted over every row, not one page

    shot = Path(root) / "panel.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("BITRIX_FRAMES_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["BITRIX_FRAMES_SCREENSHOT"])


def _rows(table, heads: list[str]) -> list[dict[str, str]]:
    from selenium.webdriver.common.by import By

    out = []
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")]
        out.append(dict(zip(heads, cells, strict=True)))
    return out


def _amount(text: str) -> float:
    return float(text.split()[0].replace(",", "")) if text else float("-inf")
