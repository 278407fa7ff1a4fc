"""Filters over HTTP behave like a portal's core and MySQL collation (issue 16, docs/sandbox.md)."""

from __future__ import annotations

import pytest
import requests

from bitrix_frames.sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=120, limits=False) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict) -> dict:
    return requests.post(sb.webhook_url + method, json=params, timeout=30).json()


def test_string_equality_ignores_case(sb):
    contacts = call(sb, "crm.contact.list", {"select": ["ID", "EMAIL", "NAME"]})["result"]
    row = next(c for c in contacts if c.get("EMAIL"))
    email = row["EMAIL"][0]["VALUE"]
    found = call(sb, "crm.contact.list", {"filter": {"EMAIL": email.upper()}})["result"]
    assert row["ID"] in [c["ID"] for c in found]
    by_name = call(sb, "crm.contact.list", {"filter": {"@NAME": [row["NAME"].lower()]}})
    assert row["ID"] in [c["ID"] for c in by_name["result"]]
    won = call(sb, "crm.deal.list", {"filter": {"STAGE_ID": "won"}, "select": ["STAGE_ID"]})
    assert won["total"] > 0 and {d["STAGE_ID"] for d in won["result"]} == {"WON"}


def test_between_is_not_a_legacy_crm_operator(sb):
    everything = call(sb, "crm.deal.list", {})["total"]
    between = call(sb, "crm.deal.list", {"filter": {"><OPPORTUNITY": [10000, 12000]}})
    assert between["total"] == everything  # "><X" = ">" on unknown field "<X": dropped (core)
    ranged = call(sb, "crm.deal.list", {"filter": {">=OPPORTUNITY": 10000, "<=OPPORTUNITY": 12000}})
    assert ranged["total"] < everything
    for deal in call(sb, "crm.deal.list", {"filter": {"%OPPORTUNITY": "0"}})["result"]:
        assert float(deal["OPPORTUNITY"]) == 0  # LIKE on a number is equality


def test_unparseable_date_retrieves_nothing(sb):
    assert call(sb, "crm.deal.list", {"filter": {">DATE_CREATE": "yesterday-ish"}})["total"] == 0
    assert call(sb, "user.get", {"FILTER": {">DATE_REGISTER": "soon"}})["total"] == 0
    tasks = call(sb, "tasks.task.list", {"filter": {"<DEADLINE": "never"}})
    assert tasks["total"] == 0


def test_tasks_between(sb):
    tasks = call(sb, "tasks.task.list", {"filter": {"><ID": [2, 4]}, "select": ["ID"]})
    assert sorted(int(t["id"]) for t in tasks["result"]["tasks"]) == [2, 3, 4]
