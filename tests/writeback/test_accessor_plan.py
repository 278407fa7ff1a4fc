"""``before.bitrix.plan(after)`` and ``portal.plan``: the two entry points reach the same write-back."""

from __future__ import annotations

import bitrix_frames as bf
from bitrix_frames.sandbox import Sandbox


def test_accessor_plan_applies_a_stage_move_and_title_edit():
    with Sandbox(deals=60, limits=False) as sb, bf.connect(sb.webhook_url) as portal:
        deals = portal.deals(filter={"CATEGORY_ID": 0}, select=["ID", "TITLE", "STAGE_ID"])
        target = deals.index[:3]
        edited = deals.copy()
        edited.loc[target, "TITLE"] = "moved by accessor"
        edited.loc[target, "STAGE_ID"] = "WON"

        plan = deals.bitrix.plan(edited)
        assert plan.counts["update"] == 3
        report = plan.apply(journal=False)
        assert (report["status"] == "ok").all()

        for deal_id in target:
            row = portal.call("crm.deal.get", id=int(deal_id))
            assert row["TITLE"] == "moved by accessor"
            assert row["STAGE_ID"] == "WON" and row["CLOSED"] == "Y"
        # The facade builds the same plan.
        assert portal.plan(deals, edited).counts == plan.counts


def test_accessor_plan_without_a_live_client_is_a_typed_error():
    import pandas as pd
    import pytest

    from bitrix_frames.errors import ValidationError

    frame = pd.DataFrame({"TITLE": ["x"]}, index=pd.Index([1], name="ID"))
    frame.attrs["bitrix"] = {"entity": "deal", "portal": "https://gone.example/rest/1/***/"}
    with pytest.raises(ValidationError, match="plan needs a client"):
        frame.bitrix.plan(frame.assign(TITLE="y"))
