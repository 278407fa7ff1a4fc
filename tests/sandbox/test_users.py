"""Users over HTTP: user.current, user.get (filters, sort, paging), user.fields, department.get."""

from __future__ import annotations

import random
import re

import pytest
import requests
from shape import assert_same_shape, load_sample

from bitrix_frames.sandbox import Sandbox
from bitrix_frames.sandbox.config import SandboxConfig
from bitrix_frames.sandbox.seed_users import seed_users
from bitrix_frames.sandbox.store import Store

pytestmark = pytest.mark.timeout(60)

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
SITE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(deals=10, limits=False, user_id=1) as sandbox:
        yield sandbox


def call(sb, method: str, params: dict | None = None, status: int = 200) -> dict:
    response = requests.post(sb.webhook_url + method, json=params or {}, timeout=10)
    assert response.status_code == status, response.text
    return response.json()


def ids(body: dict) -> list[int]:
    return [int(u["ID"]) for u in body["result"]]


def test_user_current_is_the_webhook_owner(sb):
    body = call(sb, "user.current")
    assert_same_shape(load_sample("user.current.response.json"), body, allow_extra=True)
    me = body["result"]
    assert me["ID"] == "1" and me["ACTIVE"] is True and me["UF_DEPARTMENT"] == [1]


def test_user_get_value_formats_match_the_samples(sb):
    body = call(sb, "user.get")
    assert_same_shape(load_sample("user.get.by-id.response.json"), body, allow_extra=True)
    assert_same_shape(
        load_sample("user.get.response.json"),
        body,
        allow_extra=True,
        allow_missing=True,  # empty personal keys are omitted, as in the docs
        ignore=lambda k: k in ("TIMESTAMP_X", "LAST_ACTIVITY_DATE"),  # docs show {} there
    )
    for user in body["result"]:
        assert isinstance(user["ACTIVE"], bool)
        assert user["IS_ONLINE"] in ("Y", "N")
        assert ISO.match(user["LAST_LOGIN"]) and ISO.match(user["DATE_REGISTER"])
        assert SITE.match(user["TIMESTAMP_X"]) and SITE.match(user["LAST_ACTIVITY_DATE"])
        assert user["PERSONAL_BIRTHDAY"] == "" or ISO.match(user["PERSONAL_BIRTHDAY"])
        assert all(v is not None for v in user.values())
        if user["USER_TYPE"] == "employee":
            assert all(isinstance(d, int) for d in user["UF_DEPARTMENT"])
    assert body["total"] == len(body["result"]) == 13 and "next" not in body
    assert ids(body) == sorted(ids(body))


def test_active_filter_excludes_the_fired_user(sb):
    fired = call(sb, "user.get", {"FILTER": {"ACTIVE": False}})
    assert fired["total"] == 1 and fired["result"][0]["ACTIVE"] is False
    active = call(sb, "user.get", {"ACTIVE": True})
    assert active["total"] == 12 and all(u["ACTIVE"] for u in active["result"])
    assert call(sb, "user.get", {"ACTIVE": "N"})["total"] == 1
    assert call(sb, "user.get", {"ACTIVE": "true"})["total"] == 12  # PHP: truthy and != "N"


def test_filters_as_top_level_keys_or_filter(sb):
    sales = call(sb, "user.get", {"UF_DEPARTMENT": 2})
    assert sales["total"] >= 5 and all(2 in u["UF_DEPARTMENT"] for u in sales["result"])
    # FILTER replaces the top-level keys
    assert call(sb, "user.get", {"UF_DEPARTMENT": 2, "FILTER": {"ID": 1}})["total"] == 1
    assert ids(call(sb, "user.get", {"filter": {">ID": 10}})) == [11, 12, 13]
    assert ids(call(sb, "user.get", {"@ID": [2, 4]})) == [2, 4]
    extranet = call(sb, "user.get", {"USER_TYPE": "extranet"})
    assert extranet["total"] == 1 and extranet["result"][0]["UF_DEPARTMENT"] == []
    assert call(sb, "user.get", {"NO_SUCH_KEY": "x"})["total"] == 13  # dropped
    name = call(sb, "user.current")["result"]["LAST_NAME"]
    found = call(sb, "user.get", {"NAME_SEARCH": name[:4]})
    assert found["total"] >= 1 and any(u["LAST_NAME"] == name for u in found["result"])
    assert call(sb, "user.search", {"FIND": name})["total"] >= 1


def test_sort_order_and_case_insensitive_params(sb):
    body = call(sb, "user.get", {"sort": "last_name", "order": "desc", "filter": {"ACTIVE": True}})
    names = [u["LAST_NAME"] for u in body["result"]]
    assert names == sorted(names, reverse=True)
    # sort without order keeps the default ID ascending
    assert ids(call(sb, "user.get", {"SORT": "LAST_NAME"})) == list(range(1, 14))


def test_exact_offset_paging_and_start_minus_one(sb):
    page = call(sb, "user.get", {"start": 5})
    assert ids(page) == list(range(6, 14)) and page["total"] == 13 and "next" not in page
    fast = call(sb, "user.get", {"start": -1})
    assert fast["total"] == 0 and "next" not in fast and len(fast["result"]) == 13
    assert call(sb, "user.get", {"start": 50})["result"] == []


def test_select_limits_keys(sb):
    body = call(sb, "user.get", {"SELECT": ["NAME", "UF_DEPARTMENT", "NOPE"], "ID": 1})
    assert set(body["result"][0]) == {"ID", "NAME", "UF_DEPARTMENT"}


def test_user_fields_is_a_flat_map(sb):
    body = call(sb, "user.fields")
    sample = load_sample("user.fields.response.json")
    assert_same_shape(sample, body)
    assert list(body["result"]) == list(sample["result"])


def test_departments(sb):
    body = call(sb, "department.get")
    assert [d["NAME"] for d in body["result"]][:2] == ["Company", "Sales"]
    assert body["result"][1]["PARENT"] == "1"


def test_seed_is_deterministic_per_seed_and_owner_first():
    def names(seed: int, owner: int = 1) -> tuple[list[int], list[tuple]]:
        store = Store()
        config = SandboxConfig(seed=seed, user_id=owner)
        owners = seed_users(store, config, random.Random(seed))
        return owners, [tuple(r) for r in store.query("SELECT id, name, last_name FROM b_user")]

    assert names(1) == names(1)
    assert names(1)[1] != names(2)[1]
    owners, rows = names(1, owner=7)
    assert owners[0] == 7 and len(owners) == 12 and len(rows) == 13


def test_user_dates_follow_the_core_convert_date():
    # CRestUtil::ConvertDate: the local midnight moved by the portal offset (docs/sandbox.md)
    import datetime as _dt

    with Sandbox(deals=5, limits=False) as sb:
        offset = sb.config.tz.utcoffset(None)
        me = requests.post(sb.webhook_url + "user.current", timeout=30).json()["result"]
        for key in ("DATE_REGISTER", "UF_EMPLOYMENT_DATE", "PERSONAL_BIRTHDAY"):
            if me.get(key):
                value = _dt.datetime.fromisoformat(me[key])
                assert value.utcoffset() == offset
                assert value.astimezone(_dt.UTC).time() == _dt.time(0, 0), (key, me[key])
