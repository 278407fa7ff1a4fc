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
