"""``$result[...]`` references in batch commands, as the core substitutes them
(``CRestUtil::processBatchElement`` / ``CRestProvider::methodsBatch``): anywhere in a value, up to
the next whitespace, over the internal maps ``result|next|total|time|error``, matched in any case
but looked up as written, and with no escape. JSON-body batches over HTTP, as the client sends them.
"""

from __future__ import annotations

import pytest
from transport_helpers import post_json

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.phpquery import build_query

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=5, limits=False) as sandbox:
        yield sandbox


def batch(sb, cmd: dict) -> dict:
    status, body = post_json(sb, "batch", {"halt": 0, "cmd": cmd})
    assert status == 200, body
    return body["result"]


def echoed(sb, value: str, first: str = "sandboxtest.echo?x=42") -> object:
    """What the second command receives as ``v`` when its query has ``v=<value>``."""
    res = batch(sb, {"a": first, "b": "sandboxtest.echo?v=" + value})
    return res["result"]["b"]["params"].get("v")


def test_reference_inside_longer_text_is_substituted(sb):
    assert echoed(sb, "Price: $result[a][params][x] USD") == "Price: 42 USD"
    assert echoed(sb, "$result[a][params][x]$result[a][params][x]") == "42"  # one match, to \S*
    assert echoed(sb, "($result[a][params][x])") == "(42"  # the ")" belongs to the match
    # str_replace replaces every occurrence of the first match, so the second one's ")" survives
    assert echoed(sb, "($result[a][params][x] and $result[a][params][x])") == "(42 and 42)"


def test_the_match_runs_to_the_next_pcre_whitespace(sb):
    # The whole "$result...USD" is replaced; NBSP is not whitespace for the core's PCRE (no /u).
    assert echoed(sb, "x$result[a][params][x]USD") == "x42"
    assert echoed(sb, "x$result[a][params][x]\u00a0USD") == "x42"
    assert echoed(sb, "x$result[a][params][x]%09USD") == "x42\tUSD"


def test_whole_value_reference_is_the_raw_value(sb):
    res = batch(
        sb, {"a": "sandboxtest.echo?x[y]=1&x[z]=2", "b": "sandboxtest.echo?v=$result[a][params][x]"}
    )
    assert res["result"]["b"]["params"]["v"] == {"y": "1", "z": "2"}


def test_internal_map_names_and_the_result_prefix_rule(sb):
    res = batch(
        sb,
        {
            "p": "sandboxtest.page?n=1&total=120&next=50",
            "f": "sandboxtest.fail",
            "next": "sandboxtest.echo?v=$next[p]",
            "total": "sandboxtest.echo?v=$total[p]",
            "time": "sandboxtest.echo?v=$time[p][duration]",
            "error": "sandboxtest.echo?v=$error[f][error_description]",
            # "$result_*" is "$result" followed by "_total[p]": the *result* of p, not its total
            "rt": "sandboxtest.echo?v=$result_total[p][0][ID]",
            "re": "sandboxtest.echo?v=$result_error[f]",
            "rn": "sandboxtest.echo?v=$result_next[p][0][ID]&w=$result_time[p][0][ID]",
        },
    )
    got = {name: res["result"][name]["params"] for name in res["result"] if name not in "pf"}
    assert got["next"] == {"v": 50}
    assert got["total"] == {"v": 120}
    assert isinstance(got["time"]["v"], float)
    assert got["error"] == {"v": "Not found"}
    assert got["rt"] == {"v": "1"}
    # f has no result: the walk stops at the missing key and keeps the whole result map
    assert "p" in got["re"]["v"] and "f" not in got["re"]["v"]
    assert got["rn"] == {"v": "1", "w": "1"}


def test_map_names_match_in_any_case_but_look_up_as_written(sb):
    # /i in the pattern, case-sensitive PHP array keys: $RESULT[...] resolves to nothing.
    assert echoed(sb, "Price: $RESULT[a][params][x] USD") == "Price:  USD"
    assert echoed(sb, "$Result[a][params][x]") is None
    assert echoed(sb, "$result[a][params][x]") == "42"


def test_there_is_no_escape(sb):
    assert echoed(sb, "\\$result[a][params][x]") == "\\42"
    assert echoed(sb, "%24result[a][params][x]") == "42"  # parse_str decodes before substitution
    assert echoed(sb, "$$result[a][params][x]") == "$42"
    # only a "$map" without any [..] before the next whitespace survives
    assert echoed(sb, "$result and $resultant") == "$result and $resultant"
    assert echoed(sb, "$result [a][params][x]") == "$result [a][params][x]"


def test_references_in_nested_values_and_string_offsets(sb):
    res = batch(
        sb,
        {
            "a": "sandboxtest.echo?x=hello",
            "b": "sandboxtest.echo?f[TITLE]=T $result[a][params][x]&f[L][]=$result[a][params][x][1]",
        },
    )
    assert res["result"]["b"]["params"]["f"] == {"TITLE": "T hello", "L": ["e"]}


def test_form_encoded_batch_substitutes_the_same_way(sb):
    # GET/form batches encode the command twice (PROTOCOL §7); the result is the same.
    cmd = {
        "a": "sandboxtest.echo?x=42",
        "b": "sandboxtest.echo?v=" + "Price: $result[a][params][x] USD",
    }
    import requests

    r = requests.post(sb.webhook_url + "batch", data=build_query({"cmd": cmd}), timeout=30,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.json()["result"]["result"]["b"]["params"]["v"] == "Price: 42 USD"


def test_literal_hash_and_control_characters_in_a_command_are_parse_url_s(sb):
    res = batch(sb, {"a": "sandboxtest.echo?t=Deal #5&u=1", "b": "sandboxtest.echo?t=a\tb"})
    assert res["result"]["a"]["params"] == {"t": "Deal "}
    assert res["result"]["b"]["params"] == {"t": "a_b"}


def test_real_write_with_reference_text_lands_substituted(sb):
    """What a naive batch write-back would store for a comment containing "$result[...]"."""
    res = batch(
        sb,
        {
            "add": "crm.deal.add?fields[TITLE]=ref test",
            "upd": "crm.deal.update?id=$result[add]&fields[COMMENTS]=Price: $result[add] USD",
        },
    )
    deal_id = res["result"]["add"]
    status, body = post_json(sb, "crm.deal.get", {"id": deal_id})
    assert body["result"]["COMMENTS"] == f"Price: {deal_id} USD"
