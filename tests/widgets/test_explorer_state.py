"""State tests of the pipeline explorer: set the controls, check the three tables and .value."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from bitrix_frames import reports
from bitrix_frames.widgets import PipelineExplorer


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_starts_on_the_first_pipeline_with_three_reports(history, deals) -> None:
    ex = PipelineExplorer(history, deals)
    assert [label for label, _ in ex.pipeline.options] == ["General", "Wholesale"]
    assert ex.pipeline.value == 0
    assert set(ex.tables) == {"conversion", "time_in_stage", "cycle_time"}
    _same(ex.tables["conversion"], reports.stage_conversion(history, pipeline=0).table)
    _same(ex.tables["time_in_stage"], reports.time_in_stage(history, pipeline=0).table)
    _same(ex.tables["cycle_time"], reports.cycle_time(history, pipeline=0).table)
    # the value: General rows of every record (deal 15's move to Wholesale is not a General row)
    assert sorted(ex.value.index) == [1, 2, 3, 4, 5, 6, 7, 10]
    assert isinstance(ex.value["STAGE_ID"].dtype, pd.CategoricalDtype)
    assert ex.value.attrs["bitrix"]["fields"]["STAGE_ID"]["labels"][0] == "General: New"
    assert "<b>4</b> deals" in ex.count.value
    for out in ex._outputs.values():
        assert "image/png" in out.outputs[0]["data"] and "text/html" in out.outputs[1]["data"]


def test_pipeline_owner_and_window_update_all_three(history, deals) -> None:
    ex = PipelineExplorer(history, deals)
    ex.pipeline.value = 1
    assert ex.tables["conversion"]["stage_id"].tolist() == ["C1:NEW", "C1:WON"]
    assert ex.tables["time_in_stage"]["pipeline"].unique().tolist() == ["Wholesale"]
    assert set(ex.tables["cycle_time"]["pipeline"]) == {"Wholesale"}
    assert sorted(ex.value.index) == [8, 9, 11, 12]

    # Anna Petrova owns deals 11, 13 and 16 (16 has no history)
    ex.pipeline.value = 0
    ex.owners.select("Anna Petrova")
    conv = ex.tables["conversion"].set_index("stage_id")
    assert conv.loc["NEW", "entered"] == 2 and conv.loc["NEW", "advanced"] == 1
    assert sorted(ex.value["OWNER_ID"].unique()) == [11, 13]
    assert ex.tables["cycle_time"]["count"].sum() == 1  # deal 11 won

    # the window: records created 2024-03-01 .. 2024-03-05 (deal 13 is created on day 10)
    ex.start.value = dt.date(2024, 3, 1)
    ex.end.value = dt.date(2024, 3, 5)
    assert (ex.since, ex.until) == (
        pd.Timestamp("2024-03-01", tz="UTC"),
        pd.Timestamp("2024-03-06", tz="UTC"),
    )
    assert sorted(ex.value["OWNER_ID"].unique()) == [11]
    expected = reports.time_in_stage(
        history[history["OWNER_ID"].isin([11, 13])], pipeline=0, since=ex.since, until=ex.until
    ).table
    _same(ex.tables["time_in_stage"], expected)
    assert repr(ex) == "PipelineExplorer(deal: pipeline 'General', 4 history rows)"


def test_without_records_there_is_no_owner_filter(history) -> None:
    ex = PipelineExplorer(history)
    assert ex.owners.info.options == () and not ex.owners.active
    assert len(ex.value) == 8
