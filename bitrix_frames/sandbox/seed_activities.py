"""Deterministic CRM activities: calls, e-mails, meetings, to-dos and tasks-as-activities.

Each deal gets 0-2 activities (about 0.7 on average), a quarter of the leads, contacts and
companies one each; every seeded task bound to a deal appears as a task activity (``TYPE_ID`` 3,
``ASSOCIATED_ENTITY_ID`` = the task, its responsible, deadline and completion). Calls and e-mails
have a direction (1 incoming, 2 outgoing), a phone/e-mail communication with the owner's contact
(or company) and a binding to that contact besides the owner. Activities in the past are mostly
completed (``STATUS`` 2), the future ones pending (``STATUS`` 1); ``DEADLINE`` is ``START_TIME``
for calls and meetings and ``END_TIME`` for tasks and to-dos (docs ``crm-activity-fields``).

Seeded from its own ``random.Random`` so the records seeded before it stay as they were.

Example::

    seed_activities(store, config, user_ids=[1, 2])
"""

from __future__ import annotations

import json
import operator
import random
import sqlite3

from .config import SandboxConfig
from .store import Store, register_schema

COLUMNS: tuple[str, ...] = (
    "ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_ID", "PROVIDER_TYPE_ID",
    "PROVIDER_GROUP_ID", "ASSOCIATED_ENTITY_ID", "SUBJECT", "CREATED", "LAST_UPDATED",
    "START_TIME", "END_TIME", "DEADLINE", "COMPLETED", "STATUS", "RESPONSIBLE_ID", "PRIORITY",
    "NOTIFY_TYPE", "NOTIFY_VALUE", "DESCRIPTION", "DESCRIPTION_TYPE", "DIRECTION", "LOCATION",
    "SETTINGS", "ORIGINATOR_ID", "ORIGIN_ID", "AUTHOR_ID", "EDITOR_ID", "PROVIDER_PARAMS",
    "PROVIDER_DATA", "RESULT_MARK", "RESULT_VALUE", "RESULT_SUM", "RESULT_CURRENCY_ID",
    "RESULT_STATUS", "RESULT_STREAM", "RESULT_SOURCE_ID", "AUTOCOMPLETE_RULE",
)  # fmt: skip
"""The list/get keys in the docs' order (stored columns of ``crm_activity`` besides the extras)."""

register_schema(
    "CREATE TABLE IF NOT EXISTS crm_activity ("
    + ", ".join(f"{c} {'INTEGER PRIMARY KEY' if c == 'ID' else ''}" for c in COLUMNS)
    + ", IS_INCOMING_CHANNEL TEXT, COMMUNICATIONS TEXT);"
    "CREATE INDEX IF NOT EXISTS crm_activity_owner ON crm_activity (OWNER_TYPE_ID, OWNER_ID);"
    "CREATE INDEX IF NOT EXISTS crm_activity_updated ON crm_activity (LAST_UPDATED);"
    "CREATE TABLE IF NOT EXISTS crm_activity_binding (ACTIVITY_ID INTEGER NOT NULL, "
    "OWNER_TYPE_ID INTEGER NOT NULL, OWNER_ID INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS crm_activity_binding_a ON crm_activity_binding (ACTIVITY_ID);"
    "CREATE INDEX IF NOT EXISTS crm_activity_binding_o ON crm_activity_binding "
    "(OWNER_TYPE_ID, OWNER_ID);"
)

# TYPE_ID, PROVIDER_ID, PROVIDER_TYPE_ID, weight
_KINDS = (
    (2, "VOXIMPLANT_CALL", "CALL", 40),
    (4, "CRM_EMAIL", "EMAIL", 30),
    (1, "CRM_MEETING", "MEETING", 15),
    (6, "CRM_TODO", "TODO", 15),
)
_TOPICS = ["offer", "contract", "invoice", "demo", "follow-up", "pricing", "delivery", "renewal"]
_CITIES = ["Berlin", "London", "Paris", "Madrid", "Warsaw", "Prague", "Vienna", "Lisbon"]
_DAY = 86400


class _Contacts:
    """Names, phones and e-mails of the communication partners (read once)."""

    def __init__(self, store: Store) -> None:
        self.person = {
            r[0]: r[1:]
            for r in store.query(
                'SELECT "ID", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "COMPANY_ID" '
                "FROM crm_contact"
            )
        }
        self.company: dict[int, str] = {
            r[0]: r[1] for r in store.query('SELECT "ID", "TITLE" FROM crm_company')
        }
        self.lead = {
            r[0]: r[1:]
            for r in store.query(
                'SELECT "ID", "NAME", "SECOND_NAME", "LAST_NAME", "TITLE" FROM crm_lead'
            )
        }
        self.values: dict[tuple[str, int, str], str] = {}
        for entity, owner, type_id, value in store.query(
            "SELECT ENTITY, OWNER_ID, TYPE_ID, VALUE FROM crm_fm WHERE TYPE_ID IN ('PHONE', 'EMAIL') "
            "ORDER BY ID"
        ):
            self.values.setdefault((entity, owner, type_id), value)

    def name(self, type_id: int, entity_id: int) -> str:
        if type_id == 3 and entity_id in self.person:
            _, first, _, last, _ = self.person[entity_id]
            return f"{first or ''} {last or ''}".strip()
        if type_id == 4:
            return self.company.get(entity_id) or ""
        if type_id == 1 and entity_id in self.lead:
            return f"{self.lead[entity_id][0] or ''} {self.lead[entity_id][2] or ''}".strip()
        return ""

    def settings(self, type_id: int, entity_id: int) -> dict:
        if type_id == 3 and entity_id in self.person:
            honorific, first, second, last, company = self.person[entity_id]
            return {"HONORIFIC": honorific, "NAME": first, "SECOND_NAME": second,
                    "LAST_NAME": last, "COMPANY_TITLE": self.company.get(company),
                    "COMPANY_ID": str(company) if company else None}  # fmt: skip
        if type_id == 1 and entity_id in self.lead:
            first, second, last, title = self.lead[entity_id]
            return {"NAME": first, "SECOND_NAME": second, "LAST_NAME": last, "LEAD_TITLE": title}
        return {"COMPANY_TITLE": self.company.get(entity_id)}

    def value(self, type_id: int, entity_id: int, channel: str) -> str | None:
        code = {1: "L", 3: "C", 4: "CO"}.get(type_id)
        return self.values.get((code, entity_id, channel)) if code else None


def _owners(store: Store) -> list[tuple[int, int, int, int, tuple[int, int] | None]]:
    """(owner type, owner id, created, responsible, partner contact/company) per seeded record."""
    out: list[tuple[int, int, int, int, tuple[int, int] | None]] = []
    for did, created, user, contact, company in store.query(
        'SELECT "ID", "DATE_CREATE", "ASSIGNED_BY_ID", "CONTACT_ID", "COMPANY_ID" FROM crm_deal '
        'ORDER BY "ID"'
    ):
        partner = (3, contact) if contact else (4, company) if company else None
        out.append((2, did, created, user, partner))
    for lid, created, user in store.query(
        'SELECT "ID", "DATE_CREATE", "ASSIGNED_BY_ID" FROM crm_lead ORDER BY "ID"'
    ):
        out.append((1, lid, created, user, (1, lid)))
    for type_id, table in ((3, "crm_contact"), (4, "crm_company")):
        for oid, created, user in store.query(
            f'SELECT "ID", "DATE_CREATE", "ASSIGNED_BY_ID" FROM {table} ORDER BY "ID"'
        ):
            out.append((type_id, oid, created, user, (type_id, oid)))
    return out


def seed_activities(store: Store, config: SandboxConfig, user_ids: list[int]) -> None:
    """Insert the demo activities and their bindings (see the module docstring)."""
    rng = random.Random(f"{config.seed}:activities")
    users = user_ids or [config.user_id]
    people = _Contacts(store)
    now = int(store.scalar('SELECT MAX("DATE_CREATE") FROM crm_deal') or 1_700_000_000)
    rows: list[tuple] = []
    bindings: list[tuple[int, int, int]] = []
    kinds = [k[:3] for k in _KINDS]
    weights = [k[3] for k in _KINDS]
    counts = {2: (0, 0, 0, 1, 1, 2), 1: (0, 0, 0, 1), 3: (0, 0, 0, 1), 4: (0, 0, 0, 1)}

    stored = (*COLUMNS, "IS_INCOMING_CHANNEL", "COMMUNICATIONS")
    blank = dict.fromkeys(stored) | {
        "NOTIFY_TYPE": 0, "NOTIFY_VALUE": 0, "DESCRIPTION": "", "DESCRIPTION_TYPE": 1,
        "DIRECTION": 0, "LOCATION": "", "ASSOCIATED_ENTITY_ID": 0, "RESULT_MARK": 0,
        "RESULT_STATUS": 0, "RESULT_STREAM": 0, "AUTOCOMPLETE_RULE": 0, "IS_INCOMING_CHANNEL": "N",
    }  # fmt: skip
    row_of = operator.itemgetter(*stored)

    def add(values: dict, binds: list[tuple[int, int]]) -> None:
        act_id = len(rows) + 1
        values["ID"] = act_id
        rows.append(row_of(values))
        for type_id, owner in dict.fromkeys(binds):
            bindings.append((act_id, type_id, owner))

    def base(owner_type: int, owner_id: int, created: int, start: int, user: int) -> dict:
        made = max(created, min(start, now) - rng.randint(0, 5) * _DAY)
        past = start <= now
        done = past and rng.random() < 0.85
        return blank | {
            "OWNER_TYPE_ID": owner_type,
            "OWNER_ID": owner_id,
            "CREATED": made,
            "LAST_UPDATED": min(now, max(made, start) + rng.randint(0, 3) * 3600) if done else made,
            "COMPLETED": "Y" if done else "N",
            "STATUS": 2 if done else 1,
            "RESPONSIBLE_ID": user if rng.random() < 0.85 else rng.choice(users),
            "PRIORITY": rng.choice((2, 2, 2, 1, 3)),
            "AUTHOR_ID": user,
            "EDITOR_ID": user,
        }

    for owner_type, owner_id, created, user, partner in _owners(store):
        for _ in range(rng.choice(counts[owner_type])):
            type_id, provider, provider_type = rng.choices(kinds, weights)[0]
            start = created + rng.randint(0, 120 * _DAY) + rng.randint(8, 18) * 3600
            start = min(start, now + 30 * _DAY)
            values = base(owner_type, owner_id, created, start, user)
            who = people.name(*partner) if partner else ""
            binds = [(owner_type, owner_id)]
            comms = []
            if type_id in (2, 4):
                channel = "PHONE" if type_id == 2 else "EMAIL"
                direction = 1 if rng.random() < 0.45 else 2
                value = people.value(*partner, channel) if partner else None
                if partner and value:
                    comms.append({"ID": str(len(rows) + 1), "TYPE": channel, "VALUE": value,
                                  "ENTITY_ID": str(partner[1]),
                                  "ENTITY_TYPE_ID": str(partner[0]),
                                  "ENTITY_SETTINGS": people.settings(*partner)})  # fmt: skip
                    binds.append(partner)
                word = "call" if type_id == 2 else "e-mail"
                side = "Incoming" if direction == 1 else "Outgoing"
                subject = (f"{side} {word} {who}".strip() if type_id == 2
                           else f"{'Re: ' if direction == 1 else ''}{rng.choice(_TOPICS)}")  # fmt: skip
                end = start + (rng.randint(1, 30) * 60 if type_id == 2 else 0)
                values |= {"DIRECTION": direction, "START_TIME": start, "END_TIME": end,
                           "DEADLINE": start, "SUBJECT": subject,
                           "IS_INCOMING_CHANNEL": "Y" if direction == 1 else "N"}  # fmt: skip
            elif type_id == 1:
                values |= {"START_TIME": start, "END_TIME": start + 3600, "DEADLINE": start,
                           "SUBJECT": f"Meeting: {rng.choice(_TOPICS)} {who}".strip(),
                           "LOCATION": rng.choice(_CITIES), "NOTIFY_TYPE": 1,
                           "NOTIFY_VALUE": 15}  # fmt: skip
            else:
                values |= {"START_TIME": start, "END_TIME": start, "DEADLINE": start,
                           "SUBJECT": f"To-do: {rng.choice(_TOPICS)}",
                           "DESCRIPTION_TYPE": 2}  # fmt: skip
            values |= {"TYPE_ID": type_id, "PROVIDER_ID": provider,
                       "PROVIDER_TYPE_ID": provider_type,
                       "COMMUNICATIONS": json.dumps(comms) if comms else None}  # fmt: skip
            add(values, binds)

    deal_owner = {
        r[0]: (r[1], r[2])
        for r in store.query('SELECT "ID", "DATE_CREATE", "ASSIGNED_BY_ID" FROM crm_deal')
    }
    tasks = store.query(
        "SELECT t.id, t.title, t.responsible_id, t.created_by, t.created_date, t.deadline, "
        "t.status, t.closed_date, t.changed_date, c.code FROM b_task t "
        "JOIN b_task_crm c ON c.task_id = t.id WHERE c.code LIKE 'D\\_%' ESCAPE '\\' ORDER BY t.id"
    )
    for tid, title, responsible, author, made, deadline, status, closed, changed, code in tasks:
        deal_id = int(code[2:])
        if deal_id not in deal_owner:
            continue
        done = status == 5
        end = deadline or (made or now) + 7 * _DAY
        values = base(2, deal_id, made or now, made or now, author)
        values |= {"TYPE_ID": 3, "PROVIDER_ID": "TASKS", "PROVIDER_TYPE_ID": "TASK",
                   "ASSOCIATED_ENTITY_ID": tid, "SUBJECT": title, "START_TIME": made,
                   "END_TIME": end, "DEADLINE": end, "RESPONSIBLE_ID": responsible,
                   "COMPLETED": "Y" if done else "N", "STATUS": 2 if done else 1,
                   "CREATED": made, "LAST_UPDATED": closed or changed or made}  # fmt: skip
        add(values, [(2, deal_id)])

    marks = ", ".join("?" * (len(COLUMNS) + 2))
    with store.transaction() as db:
        insert = sqlite3.Connection.executemany  # our own ints: no need for the store's clamping
        insert(
            db,
            f"INSERT INTO crm_activity ({', '.join(COLUMNS)}, IS_INCOMING_CHANNEL, COMMUNICATIONS) "
            f"VALUES ({marks})",
            rows,
        )
        insert(
            db,
            "INSERT INTO crm_activity_binding (ACTIVITY_ID, OWNER_TYPE_ID, OWNER_ID) "
            "VALUES (?, ?, ?)",
            bindings,
        )
        db.execute(
            "INSERT INTO sequence (name, value) VALUES ('crm_activity', ?) "
            "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
            (len(rows),),
        )
