"""Reports on small typed frames: the numbers in the tables, labels (never ids), honest currency."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from bitrix_frames import reports


def test_rates_from_currency_list(rates: reports.Rates) -> None:
    assert rates.base == "USD"
    converted = rates.convert(pd.Series([10.0, 10.0, 1.0]), pd.Series(["EUR", "USD", "XXX"]))
    assert converted.tolist()[:2] == [11.0, 10.0] and pd.isna(converted.iloc[2])
    per_100 = reports.Rates.from_rows(
        [{"CURRENCY": "JPY", "AMOUNT_CNT": "100", "AMOUNT": "0.6500"}]
    )
    assert per_100.per_unit["JPY"] == pytest.approx(0.0065)


def test_funnel_converted(deals: pd.DataFrame, rates: reports.Rates) -> None:
    fig, table = reports.funnel(deals, rates)
    assert list(table.columns) == [
        "pipeline",
        "pipeline_id",
        "stage",
        "stage_id",
        "deals",
        "amount",
        "currency",
    ]
    general = table[table["pipeline"] == "General"].set_index("stage_id")
    assert general["deals"].to_dict() == {"NEW": 1, "PREPARATION": 0, "WON": 1, "LOSE": 1}
    assert general.loc["WON", "amount"] == pytest.approx(2750.0)  # 2500 EUR * 1.1
    wholesale = table[table["pipeline"] == "Wholesale"].set_index("stage_id")
    assert wholesale.loc["C1:WON", "amount"] == pytest.approx(15990.0)  # 15000 USD + 900 EUR
    assert wholesale.loc["C1:WON", "stage"] == "Won"
    assert set(table["currency"]) == {"USD"}
    assert "in USD" in fig._suptitle.get_text()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "Preparation" in ticks and "C1:WON" not in ticks


def test_funnel_per_currency(deals: pd.DataFrame) -> None:
    fig, table = reports.funnel(deals)
    won = table[table["stage_id"] == "C1:WON"].set_index("currency")
    assert won["amount"].to_dict() == {"EUR": 900.0, "USD": 15000.0}
    assert "per currency" in fig._suptitle.get_text()


def test_stage_conversion(deals: pd.DataFrame) -> None:
    _, table = reports.stage_conversion(deals)
    general = table[table["pipeline_id"] == 0].set_index("stage_id")
    # 3 deals entered; NEW/PREPARATION reached by the won one (and the new one for NEW)
    assert general["reached"].to_dict() == {"NEW": 3, "PREPARATION": 1, "WON": 1}
    assert general.loc["WON", "from_start"] == pytest.approx(1 / 3, abs=1e-4)
    wholesale = table[table["pipeline_id"] == 1].set_index("stage_id")
    assert wholesale["reached"].to_dict() == {"C1:NEW": 3, "C1:WON": 2}
    assert wholesale.loc["C1:WON", "step"] == pytest.approx(2 / 3, abs=1e-4)


def test_won_lost_by_month(deals: pd.DataFrame, rates: reports.Rates) -> None:
    fig, table = reports.won_lost_by_month(deals, rates)
    rows = {(r.month, r.outcome): (r.deals, r.amount) for r in table.itertuples()}
    # LOSE deal has no CLOSEDATE and no fallback column -> not placed in a month
    assert rows == {
        ("2024-02", "won"): (1, 2750.0),
        ("2024-03", "won"): (1, 990.0),
        ("2024-04", "won"): (1, 15000.0),
    }
    assert "in USD" in fig.axes[1].get_title()


def test_revenue_by_user(deals: pd.DataFrame, rates: reports.Rates) -> None:
    _, table = reports.revenue_by_user(deals, rates)
    assert table[["user", "won_deals", "amount"]].values.tolist() == [
        ["Anna Petrova", 1, 15000.0],
        ["Boris Ivanov", 2, 3740.0],
    ]
    _, by_cur = reports.revenue_by_user(deals, users={2: "Boris I."})
    assert set(by_cur["user"]) == {"Anna Petrova", "Boris I."} and set(by_cur["currency"]) == {
        "USD",
        "EUR",
    }


def test_leads_by_source(leads: pd.DataFrame) -> None:
    _, table = reports.leads_by_source(leads)
    assert table.values.tolist() == [
        ["(no source)", "Junk lead", 1],
        ["Call", "Unassigned", 1],
        ["Website", "Unassigned", 2],
        ["Website", "Good lead", 1],
    ]


def test_tasks_by_status_overdue(tasks: pd.DataFrame) -> None:
    fig, table = reports.tasks_by_status(tasks, now="2024-06-01T00:00:00Z")
    rows = {(r.responsible, r.status): (r.tasks, r.overdue) for r in table.itertuples()}
    assert rows == {
        ("Anna Petrova", "Pending"): (1, 1),
        ("Anna Petrova", "In progress"): (1, 0),
        ("Anna Petrova", "Completed"): (1, 0),  # past deadline but completed: not overdue
        ("Boris Ivanov", "In progress"): (1, 0),  # no deadline
        ("Boris Ivanov", "Pending"): (1, 1),
    }
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("1 overdue") == 2
