"""The history reports on the demo portal, checked against each definition computed independently.

The reference numbers come from the raw ``crm.stagehistory.list`` rows (paged by hand with
``portal.call``), the stage order and semantics of ``crm.status.list`` and the raw
``crm.deal.list`` rows, with plain Python loops: no code shared with ``bitrix_frames.reports``.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from readability import problems

from bitrix_frames import reports
from bitrix_frames.widgets import PipelineExplorer

DAY = 86400.0


# --- the independent side ----------------------------------------------------------------------
def raw_history(portal, entity_type_id: int) -> list[dict]:
    """Every row of crm.stagehistory.list, by hand: keyset pages of 50 (``>ID``, ``start=-1``)."""
    rows: list[dict] = []
    last = 0
    while True:
        page = portal.call(
            "crm.stagehistory.list",
            entityTypeId=entity_type_id,
            order={"ID": "ASC"},
            filter={">ID": last},
            start=-1,
        )["items"]
        rows += page
        if len(page) < 50:
            return rows
        last = int(page[-1]["ID"])


def paths(raw: list[dict], stage_key: str) -> dict[int, list[dict]]:
    """Per record: its rows as dicts with ``t`` (epoch s), ``stage``, ``cat``, ``sem``, ``type``."""
    out: dict[int, list[dict]] = defaultdict(list)
    for r in raw:
        out[int(r["OWNER_ID"])].append(
            {
                "id": int(r["ID"]),
                "t": dt.datetime.fromisoformat(r["CREATED_TIME"]).timestamp(),
                "stage": r[stage_key],
                "cat": int(r.get("CATEGORY_ID") or 0),
                "sem": r[stage_key.replace("_ID", "_SEMANTIC_ID")],
                "type": int(r["TYPE_ID"]),
            }
        )
    for rows in out.values():
        rows.sort(key=lambda r: (r["t"], r["id"]))
    return out


def stage_orders(portal, entity: str) -> tuple[dict[int, list[str]], dict[str, str]]:
    """Pipeline -> stage codes by SORT, and code -> semantics ("P"/"S"/"F"), from crm.status.list."""
    orders: dict[int, list[str]] = {}
    sem: dict[str, str] = {}
    if entity == "lead":
        dicts = {0: "STATUS"}
    else:
        cats = portal.call("crm.category.list", entityTypeId=2)["categories"]
        dicts = {
            int(c["id"]): "DEAL_STAGE" if int(c["id"]) == 0 else f"DEAL_STAGE_{c['id']}"
            for c in cats
        }
    for pipe, entity_id in dicts.items():
        rows = sorted(
            portal.call("crm.status.list", filter={"ENTITY_ID": entity_id}),
            key=lambda r: int(r["SORT"]),
        )
        orders[pipe] = [r["STATUS_ID"] for r in rows]
        for r in rows:
            sem[r["STATUS_ID"]] = r["SEMANTICS"] or "P"
    return orders, sem


def p90(values: list[float]) -> float:
    xs = sorted(values)
    h = (len(xs) - 1) * 0.9
    lo = math.floor(h)
    return xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])


def created_in(rows: list[dict], since: float | None, until: float | None) -> bool:
    first = rows[0]["t"]
    return (since is None or first >= since) and (until is None or first < until)


def expected_conversion(by_owner, orders, sem, since=None, until=None) -> dict:
    out = {}
    for pipe, codes in orders.items():
        seq = [c for c in codes if sem[c] == "P"] + [c for c in codes if sem[c] == "S"]
        for k, code in enumerate(seq):
            entered = advanced = lost = 0
            for rows in by_owner.values():
                if not created_in(rows, since, until):
                    continue
                at = [i for i, r in enumerate(rows) if r["stage"] == code]
                if not at:
                    continue
                entered += 1
                if any(r["cat"] == pipe and r["stage"] in seq[k + 1 :] for r in rows[at[0] + 1 :]):
                    advanced += 1
                if any(
                    rows[j]["sem"] == "F"
                    and rows[j - 1]["stage"] == code
                    and rows[j - 1]["cat"] == rows[j]["cat"]
                    for j in range(1, len(rows))
                ):
                    lost += 1
            out[code] = (entered, advanced, lost)
    return out


def expected_stays(by_owner, since=None, until=None) -> dict:
    closed: dict[str, list[float]] = defaultdict(list)
    open_: dict[str, int] = defaultdict(int)
    for rows in by_owner.values():
        if not created_in(rows, since, until):
            continue
        for i, r in enumerate(rows):
            if i + 1 < len(rows):
                closed[r["stage"]].append((rows[i + 1]["t"] - r["t"]) / DAY)
            else:
                open_[r["stage"]] += 1
    return {"closed": closed, "open": open_}


def expected_cycles(by_owner, outcome_names) -> list[tuple[int, str, str, float]]:
    """(pipeline, month, outcome, days) per closed record."""
    out = []
    for rows in by_owner.values():
        start = next((i for i, r in enumerate(rows) if r["type"] == 1), 0)
        end = next((r for r in rows[start:] if r["sem"] in ("S", "F")), None)
        if end is None:
            continue
        month = dt.datetime.fromtimestamp(end["t"], dt.timezone.utc).strftime("%Y-%m")
        days = (end["t"] - rows[start]["t"]) / DAY
        out.append((end["cat"], month, outcome_names[end["sem"]], days))
    return out


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deal_side(demo_portal):
    portal, frames = demo_portal
    raw = raw_history(portal, 2)
    orders, sem = stage_orders(portal, "deal")
    return portal.stage_history("deal"), paths(raw, "STAGE_ID"), orders, sem, raw


@pytest.fixture(scope="module")
def lead_side(demo_portal):
    portal, _frames = demo_portal
    raw = raw_history(portal, 1)
    orders, sem = stage_orders(portal, "lead")
    return portal.stage_history("lead"), paths(raw, "STATUS_ID"), orders, sem, raw


# --- the tests ---------------------------------------------------------------------------------
def test_the_loaded_history_is_the_raw_history(deal_side) -> None:
    history, _by_owner, _orders, _sem, raw = deal_side
    assert len(history) == len(raw) > 500
    assert sorted(history.index) == sorted(int(r["ID"]) for r in raw)


def middle_window(by_owner) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Midnights around the middle half of the creation times (the seed is relative to today)."""
    firsts = sorted(rows[0]["t"] for rows in by_owner.values())
    lo, hi = firsts[len(firsts) // 4], firsts[3 * len(firsts) // 4]
    day = pd.Timedelta(days=1)
    return (
        pd.Timestamp(lo, unit="s", tz="UTC").normalize(),
        pd.Timestamp(hi, unit="s", tz="UTC").normalize() + day,
    )


@pytest.mark.parametrize("windowed", [False, True], ids=["all", "window"])
def test_stage_conversion_matches_the_definition(deal_side, windowed) -> None:
    history, by_owner, orders, sem, _raw = deal_side
    since, until = middle_window(by_owner) if windowed else (None, None)
    fig, table = reports.stage_conversion(history, since=since, until=until)
    bounds = [w.timestamp() if w is not None else None for w in (since, until)]
    want = expected_conversion(by_owner, orders, sem, *bounds)
    got = {r.stage_id: (r.entered, r.advanced, r.lost) for r in table.itertuples()}
    assert got == want
    assert sum(e for e, _a, _l in got.values()) > 0
    for r in table.itertuples():
        if r.semantics == "S":
            assert r.advanced == 0 and pd.isna(r.conversion)
        elif r.entered:
            assert r.conversion == pytest.approx(r.advanced / r.entered)
            assert r.lost_share == pytest.approx(r.lost / r.entered)
    # stages come in pipeline order, labelled
    general = table[table["pipeline"] == "General"]
    assert general["stage_id"].tolist() == [c for c in orders[0] if sem[c] != "F"]
    assert "Deal successful" in set(general["stage"])
    assert problems(fig) == []
    plt.close(fig)


def test_time_in_stage_matches_the_definition(deal_side) -> None:
    history, by_owner, orders, _sem, _raw = deal_side
    fig, table = reports.time_in_stage(history)
    want = expected_stays(by_owner)
    assert table["stage_id"].tolist() == [
        c for pipe in table["pipeline_id"].unique() for c in orders[pipe]
    ]
    for r in table.itertuples():
        stays = want["closed"].get(r.stage_id, [])
        assert r.count == len(stays)
        assert r.open == want["open"].get(r.stage_id, 0)
        if stays:
            assert r.median_days == pytest.approx(statistics.median(stays), rel=1e-9)
            assert r.p90_days == pytest.approx(p90(stays), rel=1e-9)
        else:
            assert pd.isna(r.median_days)
    assert table["count"].sum() + table["open"].sum() == len(_raw)
    assert problems(fig) == []
    plt.close(fig)


def test_cycle_time_matches_the_definition(deal_side) -> None:
    history, by_owner, _orders, _sem, _raw = deal_side
    fig, table = reports.cycle_time(history)
    groups: dict[tuple, list[float]] = defaultdict(list)
    for pipe, month, outcome, days in expected_cycles(by_owner, {"S": "won", "F": "lost"}):
        groups[(pipe, month, outcome)].append(days)
    got = {(r.pipeline_id, r.month, r.outcome): r for r in table.itertuples()}
    assert set(got) == set(groups)
    for key, days in groups.items():
        row = got[key]
        assert row.count == len(days)
        assert row.mean_days == pytest.approx(statistics.fmean(days), rel=1e-9)
        assert row.median_days == pytest.approx(statistics.median(days), rel=1e-9)
        assert row.p90_days == pytest.approx(p90(days), rel=1e-9)
    assert problems(fig) == []
    plt.close(fig)


def test_win_rate_and_velocity_match_the_definitions(demo_portal, deal_side) -> None:
    portal, frames = demo_portal
    history, by_owner, _orders, _sem, _raw = deal_side
    raw = portal.list(
        "crm.deal.list",
        select=[
            "ID",
            "ASSIGNED_BY_ID",
            "STAGE_SEMANTIC_ID",
            "CATEGORY_ID",
            "OPPORTUNITY",
            "CURRENCY_ID",
        ],
    )
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in raw:
        tally[int(d["ASSIGNED_BY_ID"])]["SFP".index(d["STAGE_SEMANTIC_ID"])] += 1
    _fig, table = reports.win_rate(frames["deals"], users=frames["users"])
    plt.close(_fig)
    got = {int(r.group_id): (r.won, r.lost, r.open) for r in table.itertuples()}
    assert got == {k: tuple(v) for k, v in tally.items()}
    for r in table.itertuples():
        assert r.win_rate == pytest.approx(r.won / (r.won + r.lost))

    rates = {
        c["CURRENCY"]: float(c["AMOUNT"]) / float(c["AMOUNT_CNT"])
        for c in portal.call("crm.currency.list")
    }
    won_days: dict[int, list[float]] = defaultdict(list)
    for pipe, _month, outcome, days in expected_cycles(by_owner, {"S": "won", "F": "lost"}):
        if outcome == "won":
            won_days[pipe].append(days)
    fig, vel = reports.velocity(frames["deals"], history, frames["rates"])
    for r in vel.itertuples():
        mine = [d for d in raw if int(d["CATEGORY_ID"]) == r.pipeline_id]
        won = [d for d in mine if d["STAGE_SEMANTIC_ID"] == "S"]
        lost = [d for d in mine if d["STAGE_SEMANTIC_ID"] == "F"]
        n_open = sum(d["STAGE_SEMANTIC_ID"] == "P" for d in mine)
        amount = statistics.fmean(
            round(float(d["OPPORTUNITY"]) * rates[d["CURRENCY_ID"]], 2) for d in won
        )
        days = statistics.fmean(won_days[r.pipeline_id])
        assert r.open_deals == n_open
        assert r.win_rate == pytest.approx(len(won) / (len(won) + len(lost)))
        assert r.avg_won_amount == pytest.approx(amount, rel=1e-9)
        assert r.avg_won_days == pytest.approx(days, rel=1e-9)
        assert r.amount_per_day == pytest.approx(
            n_open * len(won) / (len(won) + len(lost)) * amount / days
        )
    assert len(vel) == 3 and problems(fig) == []
    plt.close(fig)


def test_lead_history_reports(lead_side) -> None:
    history, by_owner, orders, sem, raw = lead_side
    fig, conv = reports.stage_conversion(history)
    assert set(conv["pipeline"]) == {"Leads"}
    got = {r.stage_id: (r.entered, r.advanced, r.lost) for r in conv.itertuples()}
    assert got == expected_conversion(by_owner, orders, sem)
    assert problems(fig) == []
    plt.close(fig)
    fig, stays = reports.time_in_stage(history, unit="hours")
    want = expected_stays(by_owner)
    for r in stays.itertuples():
        assert r.count == len(want["closed"].get(r.stage_id, []))
        if r.count:
            assert r.median_hours == pytest.approx(
                statistics.median(want["closed"][r.stage_id]) * 24, rel=1e-9
            )
    plt.close(fig)
    fig, cyc = reports.cycle_time(history)
    assert set(cyc["outcome"]) <= {"converted", "lost"}
    n = len(expected_cycles(by_owner, {"S": "converted", "F": "lost"}))
    assert cyc["count"].sum() == n > 0
    plt.close(fig)


def test_explorer_on_the_demo_portal(demo_portal, deal_side) -> None:
    portal, frames = demo_portal
    history, by_owner, orders, sem, _raw = deal_side
    ex = PipelineExplorer(history, frames["deals"], users=frames["users"])
    ex.pipeline.value = 0
    owner = int(frames["deals"]["ASSIGNED_BY_ID"].mode().iloc[0])
    ex.owners.select(owner)
    lo, hi = middle_window(by_owner)
    ex.start.value = lo.date()
    ex.end.value = (hi - pd.Timedelta(days=1)).date()  # the last day included
    mine = set(frames["deals"].index[frames["deals"]["ASSIGNED_BY_ID"] == owner])
    subset = {k: v for k, v in by_owner.items() if k in mine}
    since, until = lo.timestamp(), hi.timestamp()
    want = expected_conversion(subset, {0: orders[0]}, sem, since, until)
    got = {
        r.stage_id: (r.entered, r.advanced, r.lost) for r in ex.tables["conversion"].itertuples()
    }
    assert got == want and sum(e for e, _a, _l in got.values()) > 0
    kept = {k for k, v in subset.items() if created_in(v, since, until)}
    assert set(ex.value["OWNER_ID"]) <= kept
    assert set(ex.value["CATEGORY_ID"].astype(int)) == {0}


def test_explorer_on_the_lead_history(demo_portal, lead_side) -> None:
    _portal, frames = demo_portal
    history, by_owner, orders, sem, _raw = lead_side
    ex = PipelineExplorer(history, frames["leads"], users=frames["users"])
    assert [label for label, _ in ex.pipeline.options] == ["Leads"]
    owner = int(frames["leads"]["ASSIGNED_BY_ID"].mode().iloc[0])
    ex.owners.select(owner)
    mine = set(frames["leads"].index[frames["leads"]["ASSIGNED_BY_ID"] == owner])
    want = expected_conversion({k: v for k, v in by_owner.items() if k in mine}, orders, sem)
    got = {
        r.stage_id: (r.entered, r.advanced, r.lost) for r in ex.tables["conversion"].itertuples()
    }
    assert got == want
    assert set(ex.value["OWNER_ID"]) <= mine and len(ex.value) > 0
