"""Plans applied against a live sandbox through the real Client: every write of the curl recipe
(crm.lead.add/update/delete, crm.contact.add, crm.deal.add/update with stage moves,
tasks.task.add/complete), multifields, reports, batching and conflicts."""

from __future__ import annotations

import pandas as pd
import pytest
from wb_helpers import rows, write_calls

from bitrix_frames.frames import load
from bitrix_frames.writeback import plan, summary


def new_row(frame: pd.DataFrame, **values) -> pd.DataFrame:
    """``frame`` plus one new row (NA index) holding ``values``."""
    row = pd.DataFrame(
        {k: [v] for k, v in values.items()}, index=pd.Index([pd.NA], dtype="Int64", name="ID")
    )
    return pd.concat([frame, row])


def test_plan_sends_nothing(sandbox, client):
    deals = load(client, "deal")
    after = deals.copy()
    after.loc[deals.index[0], "TITLE"] = "renamed"
    sandbox.reset_stats()
    p = plan(client, deals, after)
    assert p.counts["update"] == 1 and not write_calls(sandbox)
    assert p.changes.to_dict("records") == [
        {
            "id": deals.index[0],
            "op": "update",
            "field": "TITLE",
            "old": deals.iloc[0]["TITLE"],
            "new": "renamed",
        }
    ]


def test_deal_stage_move_add_and_update(sandbox, client):
    deals = load(client, "deal")
    general = deals[deals["CATEGORY_ID"] == 0].index[:2]
    pipe1 = deals[deals["CATEGORY_ID"] == 1].index[:1]
    after = deals.copy()
    after.loc[general[0], "STAGE_ID"] = "WON"
    after.loc[general[1], "OPPORTUNITY"] = 4321.5
    after["STAGE_ID"] = after["STAGE_ID"].astype(object)
    after.loc[pipe1[0], "STAGE_ID"] = "Deal successful"  # a label, resolved in pipeline 1
    after = new_row(after, TITLE="Recipe deal", CATEGORY_ID=1, OPPORTUNITY=99.0)
    rep = plan(client, deals, after).apply()
    assert summary(rep) == {"ok": 4, "error": 0, "conflict": 0, "skipped": 0}
    new_id = int(rep.loc[rep.op == "add", "new_id"].iloc[0])
    got = {
        r["ID"]: r
        for r in rows(sandbox, "crm_deal", f"ID IN ({general[0]},{general[1]},{pipe1[0]},{new_id})")
    }
    assert got[general[0]]["STAGE_ID"] == "WON"
    assert float(got[general[1]]["OPPORTUNITY"]) == 4321.5
    assert got[pipe1[0]]["STAGE_ID"] == "C1:WON"
    assert got[new_id]["TITLE"] == "Recipe deal" and int(got[new_id]["CATEGORY_ID"]) == 1


def test_lead_add_update_delete_with_multifields(sandbox, client):
    leads = load(client, "lead")
    first, second, gone = leads.index[:3]
    after = leads.copy()
    phones = list(after.at[first, "PHONE"] or [])
    after.at[first, "PHONE"] = [*phones[1:], {"VALUE": "+49 30 1234", "VALUE_TYPE": "MOBILE"}]
    after.loc[second, "TITLE"] = "updated lead"
    after = after.drop(index=gone)
    after = new_row(
        after,
        TITLE="IP Titov",
        NAME="Gleb",
        STATUS_ID="NEW",
        OPPORTUNITY=12500.0,
        PHONE=[{"VALUE": "555888", "VALUE_TYPE": "WORK"}],
        WEB=["www.mysite.com"],
    )
    p = plan(client, leads, after, allow_deletes=True)
    assert p.counts == {"add": 1, "update": 2, "delete": 1, "complete": 0}
    rep = p.apply()
    assert (rep.status == "ok").all(), rep
    new_id = int(rep.loc[rep.op == "add", "new_id"].iloc[0])
    lead = client.call("crm.lead.get", id=new_id)
    assert [p["VALUE"] for p in lead["PHONE"]] == ["555888"] and lead["WEB"][0][
        "VALUE"
    ] == "www.mysite.com"
    now = client.call("crm.lead.get", id=int(first))
    values = [p["VALUE"] for p in now.get("PHONE", [])]
    assert values == [p["VALUE"] for p in phones[1:]] + ["+49 30 1234"]
    assert not rows(sandbox, "crm_lead", "ID = ?", (int(gone),))
    assert client.call("crm.lead.get", id=int(second))["TITLE"] == "updated lead"


def test_contact_add(sandbox, client):
    contacts = load(client, "contact")
    after = new_row(
        contacts, NAME="Ann", LAST_NAME="Lee", SECOND_NAME="Q", EMAIL=["ann@example.com"]
    )
    rep = plan(client, contacts, after).apply()
    assert rep.status.tolist() == ["ok"]
    got = client.call("crm.contact.get", id=int(rep.new_id.iloc[0]))
    assert got["NAME"] == "Ann" and got["EMAIL"][0]["VALUE"] == "ann@example.com"


def test_task_add_update_complete(sandbox, client):
    tasks = load(client, "task")
    open_ = tasks[tasks["STATUS"].astype("Int64").isin([2, 3])].index[:2]
    after = tasks.copy()
    after.loc[open_[0], "STATUS"] = 5
    after.loc[open_[1], "TITLE"] = "retitled"
    after.loc[open_[1], "STATUS"] = 5
    after = new_row(after, TITLE="Call the client", RESPONSIBLE_ID=1)
    p = plan(client, tasks, after)
    assert [o.op for o in p.operations] == ["complete", "update", "complete", "add"]
    assert [o.fields for o in p.operations[1:2]] == [{"TITLE": "retitled"}]
    rep = p.apply()
    assert (rep.status == "ok").all(), rep
    done = rows(sandbox, "b_task", f"id IN ({open_[0]},{open_[1]})")
    assert {r["status"] for r in done} == {5}
    assert {r["title"] for r in done if r["id"] == open_[1]} == {"retitled"}
    added = rows(sandbox, "b_task", "id = ?", (int(rep.new_id.iloc[-1]),))
    assert added[0]["title"] == "Call the client" and added[0]["xml_id"].startswith("bf")


def test_fifty_operations_per_request(sandbox, client):
    deals = load(client, "deal")
    after = deals.copy()
    ids = deals.index[:120]
    after.loc[ids, "COMMENTS"] = "bulk"
    sandbox.reset_stats()
    rep = plan(client, deals, after).apply()
    assert len(rep) == 120 and (rep.status == "ok").all()
    stats = sandbox.stats()
    assert stats["sub_calls"]["crm.deal.update"] == 120
    # 3 write batches (50+50+20) + 1 batched stamp read for the conflict check
    assert stats["sub_calls"]["batch"] == 4
    assert stats["sub_calls"]["crm.deal.list"] == 3


def test_conflict_is_reported_not_overwritten(sandbox, client):
    deals = load(client, "deal")
    a, b = deals.index[:2]
    client.call("crm.deal.update", id=int(a), fields={"TITLE": "changed by a colleague"})
    # make sure the modified stamp moves even when the load happened in the same second
    sandbox.store.db.execute(
        "UPDATE crm_deal SET DATE_MODIFY = DATE_MODIFY + 5 WHERE ID = ?", (int(a),)
    )
    after = deals.copy()
    after.loc[a, "TITLE"] = "mine"
    after.loc[b, "TITLE"] = "mine too"
    p = plan(client, deals, after)
    rep = p.apply()
    assert rep.set_index("id").status.to_dict() == {a: "conflict", b: "ok"}
    assert "modified on the portal" in rep.description.iloc[0]
    assert client.call("crm.deal.get", id=int(a))["TITLE"] == "changed by a colleague"
    rep = p.apply(force=True)  # same plan, same journal: only the conflict is retried
    assert rep.set_index("id").status.to_dict() == {a: "ok", b: "ok"}
    assert client.call("crm.deal.get", id=int(a))["TITLE"] == "mine"


def test_portal_errors_are_reported_per_row(sandbox, client):
    deals = load(client, "deal")
    a, b = deals.index[:2]
    after = deals.copy()
    after.loc[a, "TITLE"] = "fine"
    after.loc[b, "TITLE"] = "gone"
    client.call("crm.deal.delete", id=int(b))
    rep = plan(client, deals, after).apply()
    st = rep.set_index("id").status.to_dict()
    assert st[a] == "ok" and st[b] == "conflict"  # deleted since it was loaded
    assert "deleted" in rep.set_index("id").description[b]


def test_report_and_journal_never_contain_the_secret(sandbox, client, tmp_path):
    deals = load(client, "deal")
    after = new_row(deals, TITLE="secret check")
    journal = tmp_path / "j.sqlite"
    p = plan(client, deals, after)
    rep = p.apply(journal=journal)
    secret = sandbox.config.secret
    assert secret not in rep.to_csv() and secret not in repr(p) and secret not in p._repr_html_()
    assert secret.encode() not in journal.read_bytes()
    assert secret not in str(p.journal_path())


def test_applying_twice_does_not_repeat(sandbox, client):
    deals = load(client, "deal")
    after = new_row(deals, TITLE="only once")
    p = plan(client, deals, after)
    first = p.apply()
    again = plan(client, deals, after).apply()  # same plan rebuilt: the journal says done
    assert first.new_id.tolist() == again.new_id.tolist()
    assert len(rows(sandbox, "crm_deal", "TITLE = 'only once'")) == 1


@pytest.mark.parametrize("stop", [False, True])
def test_one_failing_row_does_not_stop_the_rest(sandbox, client, stop):
    tasks = load(client, "task")
    ids = tasks[tasks["STATUS"].astype("Int64").isin([2, 3])].index[:3]
    after = tasks.copy()
    for i in ids:
        after.loc[i, "STATUS"] = 5
    client.call("tasks.task.complete", taskId=int(ids[0]))  # completing it again is refused
    sandbox.store.db.execute(
        "UPDATE b_task SET changed_date = ? WHERE id = ?",
        (int(tasks.loc[ids[0], "CHANGED_DATE"].timestamp()), int(ids[0])),
    )
    rep = plan(client, tasks, after).apply(stop_on_error=stop)
    st = rep.status.tolist()
    assert st[0] == "error" and rep.error_code.iloc[0] == "0"
    assert st[1:] == (["skipped", "skipped"] if stop else ["ok", "ok"])


def test_accessor_plan_finds_the_loading_client(sandbox, client):
    deals = load(client, "deal")
    after = deals.copy()
    after.loc[deals.index[0], "COMMENTS"] = "via accessor"
    p = deals.bitrix.plan(after)
    assert p.client is client and p.counts["update"] == 1


def test_progress_callback_and_default_journal(sandbox, client):
    deals = load(client, "deal")
    after = deals.copy()
    after.loc[deals.index[:60], "COMMENTS"] = "progress"
    seen = []
    p = plan(client, deals, after)
    rep = p.apply(progress=lambda done, total: seen.append((done, total)))
    assert (rep.status == "ok").all()
    assert seen[-1] == (60, 60) and all(t == 60 for _, t in seen)
    assert p.journal_path().exists()  # default journal under the cache dir, keyed by portal hash
    assert sandbox.config.secret not in str(p.journal_path())
