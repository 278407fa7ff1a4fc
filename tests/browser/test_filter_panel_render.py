"""A real browser renders a filter panel of sandbox deals: the controls show labels, not ids."""

from __future__ import annotations

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
    table = browser.find_element(By.CSS_SELECTOR, "table.dataframe").text
    assert "Renewals" in table and "C2:" not in table
    assert "Deal Stage" in table and "STAGE_ID" not in table  # captions as headers
    imgs = browser.find_elements(By.CSS_SELECTOR, ".widget-output img")
    assert imgs and browser.execute_script("return arguments[0].naturalWidth", imgs[0]) > 100

    shot = Path(root) / "panel.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
