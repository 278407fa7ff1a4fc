"""Small typed frames shaped like the frames layer's output (codes + labels in metadata), shared by
the widget and report tests."""

from __future__ import annotations

import pandas as pd
import pytest

STAGES = ("NEW", "PREPARATION", "WON", "LOSE", "C1:NEW", "C1:WON", "C1:LOSE")
STAGE_LABELS = ("New", "Preparation", "Won", "Lost", "New", "Won", "Lost")


@pytest.fixture
def deals() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "TITLE": pd.array(
                ["Boiler repair", "Roof", "Boiler install", "Windows", "Doors", None],
                dtype="string",
            ),
            "CATEGORY_ID": pd.Categorical([0, 0, 0, 1, 1, 1], categories=[0, 1]),
            "STAGE_ID": pd.Categorical(
                ["NEW", "WON", "LOSE", "C1:NEW", "C1:WON", "C1:WON"], categories=list(STAGES)
            ),
            "ASSIGNED_BY_ID": pd.array([1, 2, 1, 3, 2, 1], dtype="Int64"),
            "OPPORTUNITY": pd.array([100.0, 2500.0, 40.0, None, 900.0, 15000.0], dtype="Float64"),
            "CURRENCY_ID": pd.Categorical(["USD", "EUR", "USD", "USD", "EUR", "USD"]),
            "DATE_CREATE": pd.to_datetime(
                [
                    "2024-01-05T10:00:00Z",
                    "2024-02-10T23:30:00Z",
                    "2024-02-11T00:10:00Z",
                    "2024-03-01T08:00:00Z",
                    "2024-03-15T12:00:00Z",
                    "2024-04-01T00:00:00Z",
                ]
            ),
            "CLOSEDATE": pd.to_datetime(
                ["2024-01-31", "2024-02-28", None, "2024-03-31", "2024-03-20", "2024-04-10"]
            ),
            "CLOSED": pd.array([False, True, True, False, True, True], dtype="boolean"),
        },
        index=pd.Index([11, 12, 13, 14, 15, 16], name="ID"),
    )
    df.attrs["bitrix"] = {
        "entity": "deal",
        "fields": {
            "TITLE": {"title": "Title", "type": "string"},
            "CATEGORY_ID": {
                "title": "Pipeline",
                "type": "crm_category",
                "categories": [0, 1],
                "labels": ["General", "Wholesale"],
            },
            "STAGE_ID": {
                "title": "Deal Stage",
                "type": "crm_status",
                "categories": list(STAGES),
                "labels": list(STAGE_LABELS),
                "pipelines": [0, 0, 0, 0, 1, 1, 1],
            },
            "ASSIGNED_BY_ID": {
                "title": "Responsible",
                "type": "user",
                "categories": [1, 2, 3],
                "labels": ["Anna Petrova", "Boris Ivanov", "Clara Schmidt"],
            },
            "OPPORTUNITY": {"title": "Amount", "type": "double"},
            "CURRENCY_ID": {"title": "Currency", "type": "crm_currency"},
            "DATE_CREATE": {"title": "Creation Date", "type": "datetime"},
            "CLOSEDATE": {"title": "Close Date", "type": "date"},
            "CLOSED": {"title": "Closed", "type": "char"},
        },
    }
    return df


@pytest.fixture
def rates():
    from bitrix_frames.reports import Rates

    return Rates.from_rows(
        [
            {"CURRENCY": "USD", "AMOUNT_CNT": "1", "AMOUNT": "1.0000", "BASE": "Y"},
            {"CURRENCY": "EUR", "AMOUNT_CNT": "1", "AMOUNT": "1.1000", "BASE": "N"},
        ]
    )


@pytest.fixture
def leads() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "SOURCE_ID": pd.Categorical(
                ["WEB", "WEB", "CALL", "WEB", None], categories=["CALL", "WEB"]
            ),
            "STATUS_ID": pd.Categorical(
                ["NEW", "CONVERTED", "NEW", "NEW", "JUNK"], categories=["NEW", "CONVERTED", "JUNK"]
            ),
        },
        index=pd.Index([1, 2, 3, 4, 5], name="ID"),
    )
    df.attrs["bitrix"] = {
        "entity": "lead",
        "fields": {
            "SOURCE_ID": {
                "title": "Source",
                "categories": ["CALL", "WEB"],
                "labels": ["Call", "Website"],
            },
            "STATUS_ID": {
                "title": "Status",
                "categories": ["NEW", "CONVERTED", "JUNK"],
                "labels": ["Unassigned", "Good lead", "Junk lead"],
            },
        },
    }
    return df


@pytest.fixture
def tasks() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "STATUS": pd.Categorical([2, 3, 5, 3, 2], categories=[1, 2, 3, 4, 5, 6, 7]),
            "RESPONSIBLE_ID": pd.array([1, 1, 1, 2, 2], dtype="Int64"),
            "DEADLINE": pd.to_datetime(
                [
                    "2024-01-01T10:00:00Z",
                    "2024-12-01T10:00:00Z",
                    "2024-01-01T00:00:00Z",
                    None,
                    "2024-02-01T00:00:00Z",
                ]
            ),
        },
        index=pd.Index([7, 8, 9, 10, 11], name="ID"),
    )
    df.attrs["bitrix"] = {
        "entity": "task",
        "fields": {
            "RESPONSIBLE_ID": {
                "title": "Responsible",
                "categories": [1, 2],
                "labels": ["Anna Petrova", "Boris Ivanov"],
            }
        },
    }
    return df


HISTORY_STAGES = STAGES
HISTORY_SEMANTICS = {"WON": "S", "C1:WON": "S", "LOSE": "F", "C1:LOSE": "F"}


@pytest.fixture
def history() -> pd.DataFrame:
    """A hand-made deal stage history shaped like ``portal.stage_history("deal")`` (unsorted).

    Deal 11: NEW (day 0) -> PREPARATION (day 2) -> NEW (day 3) -> WON (day 7).
    Deal 12: NEW (day 1) -> LOSE (day 4).
    Deal 13: NEW (day 10), still open.
    Deal 14: C1:NEW (day 5) -> C1:WON (day 6).
    Deal 15: NEW (day 2) -> moved to pipeline 1 at C1:NEW (day 3) -> C1:LOSE (day 9).
    """
    day = pd.Timestamp("2024-03-01T09:00:00Z")
    raw = [  # (ID, TYPE_ID, OWNER_ID, days, CATEGORY_ID, STAGE_ID)
        (1, 1, 11, 0, 0, "NEW"),
        (2, 2, 11, 2, 0, "PREPARATION"),
        (3, 2, 11, 3, 0, "NEW"),
        (4, 2, 11, 7, 0, "WON"),
        (5, 1, 12, 1, 0, "NEW"),
        (6, 2, 12, 4, 0, "LOSE"),
        (7, 1, 13, 10, 0, "NEW"),
        (8, 1, 14, 5, 1, "C1:NEW"),
        (9, 2, 14, 6, 1, "C1:WON"),
        (10, 1, 15, 2, 0, "NEW"),
        (11, 3, 15, 3, 1, "C1:NEW"),
        (12, 2, 15, 9, 1, "C1:LOSE"),
    ]
    raw = raw[::-1]  # the loader promises no order
    sem = [HISTORY_SEMANTICS.get(r[5], "P") for r in raw]
    df = pd.DataFrame(
        {
            "TYPE_ID": pd.array([r[1] for r in raw], dtype="Int64"),
            "OWNER_ID": pd.array([r[2] for r in raw], dtype="Int64"),
            "CREATED_TIME": pd.DatetimeIndex([day + pd.Timedelta(days=r[3]) for r in raw]),
            "CATEGORY_ID": pd.Categorical([r[4] for r in raw], categories=[0, 1]),
            "STAGE_SEMANTIC_ID": pd.Categorical(sem, categories=["P", "S", "F"]),
            "STAGE_ID": pd.Categorical([r[5] for r in raw], categories=list(STAGES)),
        },
        index=pd.Index([r[0] for r in raw], name="ID"),
    )
    df.attrs["bitrix"] = {
        "entity": "stage_history",
        "fields": {
            "CATEGORY_ID": {
                "title": "Pipeline",
                "type": "crm_category",
                "categories": [0, 1],
                "labels": ["General", "Wholesale"],
            },
            "STAGE_ID": {
                "title": "Stage",
                "type": "crm_status",
                "categories": list(STAGES),
                "labels": [
                    f"{p}: {s}"
                    for p, s in zip(["General"] * 4 + ["Wholesale"] * 3, STAGE_LABELS, strict=True)
                ],
                "short_labels": list(STAGE_LABELS),
                "pipelines": [0, 0, 0, 0, 1, 1, 1],
            },
            "STAGE_SEMANTIC_ID": {
                "title": "Semantics",
                "categories": ["P", "S", "F"],
                "labels": ["process", "success", "fail"],
            },
        },
    }
    return df
