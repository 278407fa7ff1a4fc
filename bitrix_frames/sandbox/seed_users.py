"""Users and departments of the demo portal.

Declares ``b_user`` and ``b_department`` and seeds 13 users: the webhook owner
(``config.user_id``, an admin in the root department), a sales team, marketing, support,
development and accounting staff, one fired sales manager (``active = 'N'``) and one extranet
contractor (``user_type = 'extranet'``, ``UF_DEPARTMENT`` []). Names and personal data are drawn from
``rng``; timestamps are relative to today's midnight in the portal offset.

``b_user`` columns S2 may rely on: ``id``, ``active`` (``'Y'``/``'N'``), ``name``, ``last_name``,
``email``, ``work_position``, ``uf_department`` (JSON array of ints), ``user_type``
(``employee``/``extranet``). Departments: 1 Company (root), 2 Sales, 3 Marketing,
4 Customer Support, 5 Development, 6 Accounting.

Example::

    ids = seed_users(store, config, random.Random(config.seed))
    ids[0] == config.user_id   # the owner comes first; the extranet user is not returned
"""

from __future__ import annotations

import datetime as dt
import json
import random

from .config import SandboxConfig
from .store import Store

DEPARTMENTS = [
    (1, "Company", 100, None),
    (2, "Sales", 200, 1),
    (3, "Marketing", 300, 1),
    (4, "Customer Support", 400, 1),
    (5, "Development", 500, 1),
    (6, "Accounting", 600, 1),
]
"""(id, name, sort, parent id)."""

# (department, position, kind): kind "owner" | "employee" | "fired" | "extranet"
_ROSTER = [
    (1, "Director", "owner"),
    (2, "Head of Sales", "employee"),
    (2, "Sales Manager", "employee"),
    (2, "Sales Manager", "employee"),
    (2, "Sales Manager", "employee"),
    (2, "Account Manager", "employee"),
    (3, "Marketing Manager", "employee"),
    (4, "Support Specialist", "employee"),
    (4, "Support Specialist", "employee"),
    (5, "Developer", "employee"),
    (6, "Accountant", "employee"),
    (2, "Sales Manager", "fired"),
    (None, "Partner Contractor", "extranet"),
]

_FIRST = [
    ("Anna", "F"), ("Klaus", "M"), ("Maria", "F"), ("John", "M"), ("Olga", "F"), ("Peter", "M"),
    ("Helen", "F"), ("David", "M"), ("Sofia", "F"), ("Lukas", "M"), ("Emma", "F"), ("Ivan", "M"),
    ("Laura", "F"), ("Tom", "M"), ("Nina", "F"), ("Paul", "M"),
]  # fmt: skip
_LAST = [
    "Fischer", "Weber", "Smith", "Johnson", "Petrova", "Brown", "Schmidt", "Miller", "Novak",
    "Garcia", "Keller", "Wagner", "Davis", "Meyer", "Kowalski", "Moreau",
]  # fmt: skip
_CITIES = ["Berlin", "London", "Warsaw", "Prague", "Vienna", ""]


def _midnight(config: SandboxConfig) -> dt.datetime:
    now = dt.datetime.now(config.tz)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def user_ids_for(config: SandboxConfig, count: int) -> list[int]:
    """Ids of ``count`` seeded users: the owner's id first, then 1, 2, ... skipping it."""
    ids = [config.user_id]
    n = 1
    while len(ids) < count:
        if n != config.user_id:
            ids.append(n)
        n += 1
    return ids


def seed_users(store: Store, config: SandboxConfig, rng: random.Random) -> list[int]:
    """Create departments and users; return the ids usable as CRM/task owners (no extranet).

    Example: ``seed_users(store, SandboxConfig(user_id=1), random.Random(1))[:3]`` -> ``[1, 2, 3]``.
    """
    today = _midnight(config)
    firsts = rng.sample(_FIRST, len(_ROSTER))
    lasts = rng.sample(_LAST, len(_ROSTER))
    ids = user_ids_for(config, len(_ROSTER))
    rows = []
    owners: list[int] = []
    heads: dict[int, int] = {}
    for uid, (dept, position, kind), (first, gender), last in zip(
        ids, _ROSTER, firsts, lasts, strict=True
    ):
        registered = today - dt.timedelta(days=rng.randint(200, 1500))
        if kind == "fired":
            last_login = registered + dt.timedelta(days=rng.randint(60, 150), hours=10)
        else:
            last_login = today - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 3))
        online = "Y" if kind in ("owner", "employee") and rng.random() < 0.4 else "N"
        activity = last_login + dt.timedelta(minutes=rng.randint(0, 90))
        birthday = (
            (dt.date(1970, 1, 1) + dt.timedelta(days=rng.randint(0, 12000))).isoformat()
            if rng.random() < 0.6
            else ""
        )
        employed = registered.date().isoformat() if kind != "extranet" else ""
        domain = "partner.example.org" if kind == "extranet" else "example.com"
        if dept is not None and dept not in heads and kind != "fired":
            heads[dept] = uid
        rows.append(
            (
                uid,
                "N" if kind == "fired" else "Y",
                first,
                last,
                "",
                f"{first[0].lower()}.{last.lower()}@{domain}",
                int(last_login.timestamp()),
                int(registered.timestamp()),
                "",
                online,
                int((registered + dt.timedelta(hours=rng.randint(1, 5000))).timestamp()),
                int(activity.timestamp()),
                gender if rng.random() < 0.8 else "",
                "" if rng.random() < 0.5 else None,
                birthday,
                f"+4930{rng.randint(1000000, 9999999)}" if rng.random() < 0.5 else None,
                rng.choice(_CITIES) if rng.random() < 0.7 else None,
                "" if rng.random() < 0.5 else None,
                position,
                employed,
                json.dumps([dept] if dept is not None else []),
                str(1000 + uid) if kind != "extranet" else None,
                "extranet" if kind == "extranet" else "employee",
                "Y" if kind == "owner" else "N",
            )
        )
        if kind != "extranet":
            owners.append(uid)
    with store.transaction() as db:
        db.execute("DELETE FROM b_user")
        db.execute("DELETE FROM b_department")
        db.executemany(
            "INSERT INTO b_department (id, name, sort, parent_id, head_id) VALUES (?, ?, ?, ?, ?)",
            [(d, name, sort, parent, heads.get(d)) for d, name, sort, parent in DEPARTMENTS],
        )
        db.executemany(
            "INSERT INTO b_user (id, active, name, last_name, second_name, email, last_login,"
            " date_register, time_zone, is_online, timestamp_x, last_activity_date,"
            " personal_gender, personal_www, personal_birthday, personal_mobile, personal_city,"
            " work_phone, work_position, uf_employment_date, uf_department, uf_phone_inner,"
            " user_type, is_admin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return owners
