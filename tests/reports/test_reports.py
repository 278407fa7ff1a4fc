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


def test_stage_conversion_from_history(history: pd.DataFrame) -> None:
    """Replaces the old "current stage at or beyond" approximation (issue 14)."""
    _, table = reports.stage_conversion(history)
    general = table[table["pipeline_id"] == 0].set_index("stage_id")
    # entered NEW: 11, 12, 13, 15; advanced (later row further in General): 11 only (15 moved
    # pipelines); lost from NEW: 12
    assert general["entered"].to_dict() == {"NEW": 4, "PREPARATION": 1, "WON": 1}
    assert general["advanced"].to_dict() == {"NEW": 1, "PREPARATION": 1, "WON": 0}
    assert general.loc["NEW", "conversion"] == pytest.approx(0.25)
    assert general.loc["NEW", "lost"] == 1 and general.loc["NEW", "lost_share"] == 0.25
    assert general.loc["NEW", "stage"] == "New" and general.loc["WON", "semantics"] == "S"
    wholesale = table[table["pipeline_id"] == 1].set_index("stage_id")
    assert wholesale["entered"].to_dict() == {"C1:NEW": 2, "C1:WON": 1}
    assert wholesale.loc["C1:NEW", "lost"] == 1  # deal 15, lost after its move
    _, only = reports.stage_conversion(history, pipeline="Wholesale", until="2024-03-05")
    assert only["entered"].tolist() == [1, 0]  # deal 15 (created day 2); 14 is created day 5


def test_time_in_stage_keeps_open_stays_apart(history: pd.DataFrame) -> None:
    _, table = reports.time_in_stage(history)
    new = table.set_index("stage_id").loc["NEW"]
    # closed stays at NEW: 2, 4, 3, 1 days; deal 13 has no next row yet
    assert (new["count"], new["open"]) == (4, 1)
    assert new["median_days"] == pytest.approx(2.5) and new["p90_days"] == pytest.approx(3.7)
    _, hours = reports.time_in_stage(history, pipeline=1, unit="hours")
    row = hours.set_index("stage_id").loc["C1:NEW"]
    assert row["median_hours"] == pytest.approx(84.0)  # 24 h and 144 h
    with pytest.raises(ValueError, match="unit"):
        reports.time_in_stage(history, unit="weeks")


def test_cycle_time_by_outcome_and_month(history: pd.DataFrame) -> None:
    _, table = reports.cycle_time(history)
    rows = {(r.pipeline, r.outcome): (r.count, r.median_days) for r in table.itertuples()}
    assert rows == {
        ("General", "won"): (1, 7.0),
        ("General", "lost"): (1, 3.0),
        ("Wholesale", "won"): (1, 1.0),
        ("Wholesale", "lost"): (1, 7.0),  # created in General day 2, lost in Wholesale day 9
    }
    assert set(table["month"]) == {"2024-03"}


def test_win_rate_by_owner(deals: pd.DataFrame) -> None:
    _, table = reports.win_rate(deals)
    rows = {r.group: (r.won, r.lost, r.open, r.win_rate) for r in table.itertuples()}
    assert rows["Boris Ivanov"] == (2, 0, 0, 1.0)
    assert rows["Anna Petrova"] == (1, 1, 1, 0.5)
    assert rows["Clara Schmidt"][:3] == (0, 0, 1) and pd.isna(rows["Clara Schmidt"][3])
    _, wholesale = reports.win_rate(deals, pipeline="Wholesale", by="CURRENCY_ID")
    assert set(wholesale["group"]) == {"USD", "EUR"} and wholesale["won"].sum() == 2


def test_velocity(deals: pd.DataFrame, history: pd.DataFrame, rates: reports.Rates) -> None:
    _, table = reports.velocity(deals, history, rates)
    wholesale = table.set_index("pipeline").loc["Wholesale"]
    # 1 open deal, 2 won of 2 closed, won amounts 990 and 15000 USD, won cycle 1 day (deal 14)
    assert wholesale["open_deals"] == 1 and wholesale["win_rate"] == 1.0
    assert wholesale["avg_won_amount"] == pytest.approx(7995.0)
    assert wholesale["amount_per_day"] == pytest.approx(7995.0)


def test_history_errors(history: pd.DataFrame, deals: pd.DataFrame) -> None:
    from bitrix_frames.errors import ReportInputError

    with pytest.raises(ReportInputError, match="not a stage history"):
        reports.stage_conversion(deals.drop(columns=["STAGE_ID"]))
    with pytest.raises(ReportInputError, match="no pipeline named"):
        reports.stage_conversion(history, pipeline="Nope")
    with pytest.raises(ReportInputError, match="after since"):
        reports.cycle_time(history, since="2024-05-01", until="2024-04-01")


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


def test_tables_are_rounded_for_display_only(
    history: pd.DataFrame, deals: pd.DataFrame, rates: reports.Rates
) -> None:
    from bitrix_frames.display import display_frame

    _, conv = reports.stage_conversion(history)
    assert conv.loc[0, "conversion"] == 0.25  # the raw value
    shown = display_frame(conv, titles=False)
    assert shown.loc[0, "conversion"] == "25.0 %" and shown.loc[0, "entered"] == "4"
    _, stays = reports.time_in_stage(history)
    assert display_frame(stays, titles=False).loc[0, "p90_days"] == "3.7"
    _, vel = reports.velocity(deals, history, rates)
    shown = display_frame(vel, titles=False).set_index("pipeline")
    assert shown.loc["Wholesale", "won"] == "2"  # a count, not "2 USD"
    assert shown.loc["Wholesale", "avg_won_amount"] == "7,995.00 USD"
    assert shown.loc["Wholesale", "win_rate"] == "100.0 %"


def test_an_empty_window_gives_empty_tables_not_errors(
    history: pd.DataFrame, deals: pd.DataFrame
) -> None:
    _, conv = reports.stage_conversion(history, since="2030-01-01")
    assert conv["entered"].sum() == 0 and conv["conversion"].isna().all()
    _, stays = reports.time_in_stage(history, since="2030-01-01")
    assert stays["count"].sum() == 0 and stays["open"].sum() == 0
    _, cycles = reports.cycle_time(history, since="2030-01-01")
    assert cycles.empty and "median_days" in cycles.columns
    _, vel = reports.velocity(deals, history.iloc[:0])
    assert vel["amount_per_day"].isna().all()
