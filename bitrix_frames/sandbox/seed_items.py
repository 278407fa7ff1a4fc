"""Two smart processes with pipelines, stages, user fields and items (deterministic per seed).

Seeded content (other modules and tests may rely on it):

- ``crm_type`` 7 "Equipment procurement", entityTypeId **1036** (pipelines enabled): pipelines 10
  "General" (default; ``DT1036_10:NEW, :QUOTE, :APPROVAL, :SUCCESS (S), :FAIL (F)``) and 11
  "Imports" (``DT1036_11:NEW, :CUSTOMS, :SUCCESS (S), :FAIL (F)``); user fields supplier (string),
  priority (enumeration), budget (double), delivery date (date), insured (boolean);
- ``crm_type`` 8 "Contracts", entityTypeId **1038** (one pipeline 12 "General":
  ``DT1038_12:NEW, :REVIEW, :SIGNED (S), :FAIL (F)``); user fields contract number (string),
  signed on (date), auto-renewal (boolean), regions (multiple enumeration);
- items: ``max(40, deals // 20)`` of 1036 and ``max(25, deals // 40)`` of 1038, linked to seeded
  companies and contacts (``contactIds`` in ``crm_link`` kind ``item<entityTypeId>_contact``).

User-field codes are ``UF_CRM_<type id>_<13 digits>`` as a portal generates them. A separate
``random.Random`` keeps the other seeders' streams unchanged.

Example::

    seed_items(store, SandboxConfig(deals=300), user_ids=[1, 2, 3])
    store.scalar("SELECT COUNT(*) FROM crm_item WHERE ENTITY_TYPE_ID = 1036")   # 40
"""

from __future__ import annotations

import datetime as dt
import json
import random

from .config import SandboxConfig
from .store import Store

_CREATED = int(dt.datetime(2024, 2, 1, 10, 0, tzinfo=dt.timezone.utc).timestamp())

# (type id, entityTypeId, title, categories enabled, pipelines (id, name, sort, default, stages))
TYPES = [
    (7, 1036, "Equipment procurement", True, [
        (10, "General", 100, True, [("NEW", "New request", None), ("QUOTE", "Quotation", None),
                                    ("APPROVAL", "Approval", None), ("SUCCESS", "Delivered", "S"),
                                    ("FAIL", "Cancelled", "F")]),
        (11, "Imports", 200, False, [("NEW", "New import", None), ("CUSTOMS", "Customs", None),
                                     ("SUCCESS", "Received", "S"), ("FAIL", "Rejected", "F")]),
    ]),
    (8, 1038, "Contracts", False, [
        (12, "General", 100, True, [("NEW", "Draft", None), ("REVIEW", "Legal review", None),
                                    ("SIGNED", "Signed", "S"), ("FAIL", "Declined", "F")]),
    ]),
]  # fmt: skip

# type id -> [(label, user type, multiple, enumeration values)]
USER_FIELDS = {
    7: [("Supplier", "string", False, []), ("Priority", "enumeration", False,
        ["Low", "Normal", "Urgent"]), ("Budget", "double", False, []),
        ("Delivery date", "date", False, []), ("Insured", "boolean", False, [])],
    8: [("Contract number", "string", False, []), ("Signed on", "date", False, []),
        ("Auto-renewal", "boolean", False, []), ("Regions", "enumeration", True,
        ["North", "South", "East", "West"])],
}  # fmt: skip

_FLAGS_ON = (
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isUseInUserfieldEnabled",
    "isObserversEnabled",
    "isAutomationEnabled",
)
_COLORS = {None: "#39A8EF", "S": "#7BD500", "F": "#FF5752"}
_SETTINGS = {
    "string": {"SIZE": 20, "ROWS": 1, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0,
               "DEFAULT_VALUE": ""},
    "enumeration": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "",
                    "SHOW_NO_VALUE": "Y"},
    "double": {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "date": {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""],
                "LABEL_CHECKBOX": ""},
}  # fmt: skip
_WORDS = ["lathe", "server rack", "forklift", "printer", "router", "press", "scanner", "drone"]


def _dictionaries(db, etid: int, title: str, pipelines: list) -> None:
    for cat, name, sort, default, stages in pipelines:
        db.execute(
            "INSERT INTO crm_category (id, entity_type_id, name, sort, is_default, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (cat, etid, name, sort, "Y" if default else "N", _CREATED),
        )
        db.executemany(
            "INSERT INTO crm_status (entity_id, status_id, name, name_init, sort, system,"
            " category_id, color, semantics) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?)",
            [
                (f"DYNAMIC_{etid}_STAGE_{cat}", f"DT{etid}_{cat}:{code}", label, (i + 1) * 10,
                 "Y" if sem or i == 0 else "N", cat, _COLORS[sem], sem)
                for i, (code, label, sem) in enumerate(stages)
            ],
        )  # fmt: skip


def _user_fields(db, type_id: int) -> list[tuple[str, str, bool, list[int]]]:
    """Create the type's user fields; returns (code, type, multiple, enum ids)."""
    rng = random.Random(f"item-uf-{type_id}")
    stamp = 1_721_812_000_000 + rng.randrange(10**6)
    out = []
    for i, (label, utype, multiple, values) in enumerate(USER_FIELDS[type_id]):
        stamp += rng.randrange(1_000, 60_000)
        code = f"UF_CRM_{type_id}_{stamp}"
        cur = db.execute(
            "INSERT INTO crm_userfield (entity_id, field_name, user_type_id, xml_id, sort,"
            " multiple, mandatory, settings, label) VALUES (?, ?, ?, NULL, ?, ?, 'N', ?, ?)",
            (f"CRM_{type_id}", code, utype, 100 + 10 * i, "Y" if multiple else "N",
             json.dumps(_SETTINGS[utype]), label),
        )  # fmt: skip
        enum_ids = []
        for j, value in enumerate(values):
            row = db.execute(
                "INSERT INTO crm_userfield_enum (field_id, value, sort, def, xml_id)"
                " VALUES (?, ?, ?, 'N', ?)",
                (cur.lastrowid, value, (j + 1) * 10, f"{code}_{j}"),
            )
            enum_ids.append(row.lastrowid)
        out.append((code, utype, multiple, enum_ids))
    return out


def _uf_value(rng: random.Random, utype: str, multiple: bool, enums: list[int], day: dt.date):
    if rng.random() < 0.25:
        return None
    if utype == "enumeration":
        return rng.sample(enums, rng.randint(1, 2)) if multiple else rng.choice(enums)
    if utype == "double":
        return round(rng.uniform(500, 90_000), 2)
    if utype == "date":
        return (day + dt.timedelta(days=rng.randint(0, 60))).isoformat()
    if utype == "boolean":
        return rng.choice((0, 1))
    return f"{rng.choice(('ACME', 'Globex', 'Initech'))}-{rng.randint(100, 999)}"


def seed_items(store: Store, config: SandboxConfig, user_ids: list[int]) -> None:
    """Seed the smart processes, their dictionaries and items (bulk inserts, one transaction)."""
    rng = random.Random(f"items-{config.seed}")
    users = user_ids or [config.user_id]
    tz = config.tz
    now = int(dt.datetime.now(tz).timestamp())
    counts = {1036: max(40, config.deals // 20), 1038: max(25, config.deals // 40)}
    with store.transaction() as db:
        companies = db.execute('SELECT MAX("ID") FROM crm_company').fetchone()[0] or 0
        contacts = db.execute('SELECT MAX("ID") FROM crm_contact').fetchone()[0] or 0
        currency = (
            db.execute("SELECT currency FROM crm_currency WHERE base = 'Y'").fetchone() or ["USD"]
        )[0]
        for type_id, etid, title, categories, pipelines in TYPES:
            flags = {f: True for f in _FLAGS_ON}
            flags["isCategoriesEnabled"] = categories
            db.execute(
                "INSERT INTO crm_type (id, entity_type_id, title, code, created_by, updated_by,"
                " created_time, updated_time, flags) VALUES (?, ?, ?, '', 1, 1, ?, ?, ?)",
                (type_id, etid, title, _CREATED, _CREATED, json.dumps(flags)),
            )
            _dictionaries(db, etid, title, pipelines)
            ufs = _user_fields(db, type_id)
            rows, links = [], []
            for item_id in range(1, counts[etid] + 1):
                cat, _n, _s, _d, stages = rng.choice(pipelines)
                code, _label, _sem = rng.choices(stages, weights=[4, 3, 2, 3, 1][: len(stages)])[0]
                created = now - rng.randint(3600, 365 * 86400)
                moved = min(now, created + rng.randint(0, 60 * 86400))
                user = rng.choice(users)
                day = dt.datetime.fromtimestamp(created, tz).date()
                contact_ids = (
                    rng.sample(range(1, contacts + 1), min(contacts, rng.randint(0, 2)))
                    if contacts
                    else []
                )
                uf = {}
                for uf_code, utype, multiple, enums in ufs:
                    value = _uf_value(rng, utype, multiple, enums, day)
                    if value is not None:
                        uf[uf_code] = value
                rows.append(
                    (etid, item_id, None, f"{title}: {rng.choice(_WORDS)} #{item_id}", user,
                     user, user, created, moved, moved, cat, "Y", f"DT{etid}_{cat}:{code}",
                     day.isoformat(), (day + dt.timedelta(days=rng.randint(7, 90))).isoformat(),
                     rng.randint(1, companies) if companies and rng.random() < 0.7 else None,
                     contact_ids[0] if contact_ids else None,
                     float(rng.randrange(1_000, 200_000, 50)), "N", 0.0, currency, None, None,
                     "", 0, user, user, created, json.dumps(rng.sample(users, min(1, len(users)))),
                     json.dumps(uf) if uf else None)
                )  # fmt: skip
                links += [
                    (f"item{etid}_contact", item_id, c, (i + 1) * 10)
                    for i, c in enumerate(contact_ids)
                ]
            db.executemany(
                'INSERT INTO crm_item ("ENTITY_TYPE_ID", "ID", "XML_ID", "TITLE", "CREATED_BY",'
                ' "UPDATED_BY", "MOVED_BY", "CREATED_TIME", "UPDATED_TIME", "MOVED_TIME",'
                ' "CATEGORY_ID", "OPENED", "STAGE_ID", "BEGINDATE", "CLOSEDATE", "COMPANY_ID",'
                ' "CONTACT_ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "CURRENCY_ID",'
                ' "MYCOMPANY_ID", "SOURCE_ID", "SOURCE_DESCRIPTION", "WEBFORM_ID", "ASSIGNED_BY_ID",'
                ' "LAST_ACTIVITY_BY", "LAST_ACTIVITY_TIME", "OBSERVERS", "UF_JSON")'
                f" VALUES ({', '.join('?' * 30)})",
                rows,
            )
            db.executemany("INSERT INTO crm_link (KIND, A, B, SORT) VALUES (?, ?, ?, ?)", links)
            db.execute(
                "INSERT OR REPLACE INTO sequence (name, value) VALUES (?, ?)",
                (f"crm_item_{etid}", counts[etid]),
            )
