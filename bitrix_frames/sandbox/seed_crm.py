"""Deterministic demo CRM data: companies, contacts, leads and deals (with multifields and UFs).

Counts scale with ``config.deals``: leads ~deals/2, contacts ~deals/3, companies ~deals/10 (with
sensible minimums). Deals spread over every pipeline and stage, several currencies and a year of
won/lost history (closed deals get CLOSEDATE / DATE_MODIFY / MOVED_TIME over the last 12 months).
Everything is bulk-inserted with ``executemany`` in one transaction (100k deals in seconds).

Example::

    ids = seed_crm(store, config, random.Random(config.seed), user_ids=[1, 2, 3])
    len(ids["deal"]) == config.deals
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Callable

from .config import SandboxConfig
from .crm_fields import ENTITIES, EntityDef
from .methods.crm_store import UfDef, stored_fields, uf_defs
from .store import Store

_FIRST = ["Anna", "Boris", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Irina", "Jonas", "Kira", "Leo", "Maria", "Nikolai", "Olga", "Pavel", "Rita", "Sergey", "Tanya", "Ulrich", "Vera", "Walter", "Yana", "Zoe"]  # fmt: skip
_LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hoffmann", "Ivanova", "Jensen", "Kowalski", "Lopez", "Meyer", "Novak", "Orlov", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban", "Volkov", "Weber", "Young"]  # fmt: skip
_ORG = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent", "Hooli", "Vandelay", "Massive", "Dynamic", "Aperture", "Gringotts", "Oscorp", "Pied", "Piper", "Monarch", "Nakatomi"]  # fmt: skip
_SUFFIX = ["LLC", "Ltd", "GmbH", "Inc", "Group", "Partners", "Holding"]
_WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "omega",
    "nova",
    "prime",
    "core",
    "cloud",
    "smart",
    "rapid",
    "green",
    "blue",
]
_CITIES = ["Berlin", "London", "Paris", "Madrid", "Warsaw", "Prague", "Vienna", "Lisbon"]


def _dict_codes(store: Store, entity_id: str) -> list[tuple[str, str | None]]:
    try:
        rows = store.query(
            "SELECT status_id, semantics FROM crm_status WHERE entity_id = ? ORDER BY sort, id",
            (entity_id,),
        )
    except sqlite3.OperationalError:
        return []
    return [(r[0], r[1]) for r in rows]


def _currencies(store: Store) -> list[str]:
    try:
        rows = store.query("SELECT currency FROM crm_currency ORDER BY sort")
    except sqlite3.OperationalError:
        rows = []
    return [r[0] for r in rows] or ["USD"]


def _categories(store: Store) -> list[int]:
    try:
        rows = store.query("SELECT id FROM crm_category WHERE entity_type_id = 2 ORDER BY sort")
    except sqlite3.OperationalError:
        rows = []
    return [r[0] for r in rows] or [0]


def _reserve(db: sqlite3.Connection, name: str, count: int) -> int:
    """Reserve ``count`` consecutive values of a portal-wide counter; returns the first."""
    row = db.execute("SELECT value FROM sequence WHERE name = ?", (name,)).fetchone()
    first = (row[0] if row else 0) + 1
    db.execute(
        "INSERT INTO sequence (name, value) VALUES (?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, first + count - 1),
    )
    return first


class _Writer:
    """Collects rows of one entity table and its multifields, then bulk-inserts them."""

    def __init__(self, entity: EntityDef) -> None:
        self.entity = entity
        self.columns = [*stored_fields(entity), "UF_JSON"]
        self.rows: list[tuple] = []
        self.fm: list[tuple] = []  # (owner, type, value_type, value)

    def add(self, values: dict) -> None:
        self.rows.append(tuple(values.get(c) for c in self.columns))

    def flush(self, db: sqlite3.Connection) -> None:
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" * len(self.columns))
        db.executemany(f"INSERT INTO {self.entity.table} ({quoted}) VALUES ({marks})", self.rows)
        if self.fm:
            first = _reserve(db, "fm", len(self.fm))
            db.executemany(
                "INSERT INTO crm_fm (ID, ENTITY, OWNER_ID, TYPE_ID, VALUE_TYPE, VALUE) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(first + i, self.entity.fm_code, *fm) for i, fm in enumerate(self.fm)],
            )
        db.execute(
            "INSERT INTO sequence (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
            (self.entity.table, len(self.rows)),
        )


def _uf_maker(
    uf: UfDef, rng: random.Random, users: list[int], currencies: list[str], today: dt.date
) -> Callable[[], object]:
    def one() -> object:
        t = uf.type
        if t == "enumeration":
            return rng.choice(uf.options)[0] if uf.options else None
        if t == "boolean":
            return rng.randint(0, 1)
        if t in ("integer", "iblock_element", "iblock_section"):
            return rng.randint(1, 500)
        if t == "employee":
            return rng.choice(users)
        if t == "double":
            return round(rng.uniform(0, 30), 1)
        if t == "date":
            return (today + dt.timedelta(days=rng.randint(-200, 120))).isoformat()
        if t == "datetime":
            return int(dt.datetime.combine(today, dt.time(12), dt.timezone.utc).timestamp())
        if t == "money":
            return f"{rng.randint(1, 200) * 500}|{rng.choice(currencies)}"
        if t == "file":
            return None
        return f"{rng.choice(_WORDS).upper()}-{rng.randint(100, 999)}"

    def make() -> object:
        if rng.random() < 0.2:
            return None
        if uf.multiple:
            values = [one() for _ in range(rng.randint(1, 3))]
            values = [v for v in dict.fromkeys(values) if v is not None]
            return values or None
        return one()

    return make


def _uf_json(makers: dict[str, Callable[[], object]]) -> str | None:
    values = {name: make() for name, make in makers.items()}
    values = {k: v for k, v in values.items() if v is not None}
    return json.dumps(values) if values else None


def seed_crm(
    store: Store, config: SandboxConfig, rng: random.Random, user_ids: list[int]
) -> dict[str, list[int]]:
    """Seed companies, contacts, leads and deals; return the created ids per entity."""
    deals_n = max(0, config.deals)
    counts = {
        "company": max(5, deals_n // 10),
        "contact": max(10, deals_n // 3),
        "lead": max(10, deals_n // 2),
        "deal": deals_n,
    }
    tz = config.tz
    users = user_ids or [config.user_id]
    now = dt.datetime.now(tz).replace(microsecond=0)
    today = now.date()
    now_ts = int(now.timestamp())
    year = 365 * 86400
    currencies = _currencies(store)
    base = currencies[0]
    sources: list[str | None] = [c for c, _ in _dict_codes(store, "SOURCE")] or [None]
    writers = {name: _Writer(e) for name, e in ENTITIES.items()}
    makers = {
        name: {
            uf.name: _uf_maker(uf, rng, users, currencies, today)
            for uf in uf_defs(store, e).values()
        }
        for name, e in ENTITIES.items()
    }
    links: list[tuple] = []
    moves = random.Random(f"{config.seed}:moves")

    def pick(entity_id: str) -> str | None:
        codes = _dict_codes(store, entity_id)
        return rng.choice(codes)[0] if codes else None

    def stamp(created: int, user: int) -> dict:
        return {
            "ASSIGNED_BY_ID": user,
            "CREATED_BY_ID": rng.choice(users),
            "MODIFY_BY_ID": user,
            "DATE_CREATE": created,
            "DATE_MODIFY": created,
            "OPENED": "Y" if rng.random() < 0.8 else "N",
            "LAST_ACTIVITY_TIME": created,
            "LAST_ACTIVITY_BY": user,
        }

    def contacts_fm(w: _Writer, owner: int, name: str) -> dict:
        phones = rng.choice((0, 1, 1, 2))
        for _ in range(phones):
            w.fm.append((owner, "PHONE", rng.choice(("WORK", "MOBILE", "HOME")),
                         f"+{rng.randint(1, 49)}{rng.randint(100000000, 999999999)}"))  # fmt: skip
        email = rng.random() < 0.8
        if email:
            w.fm.append((owner, "EMAIL", rng.choice(("WORK", "HOME")),
                         f"{name.lower().replace(' ', '.')}{owner}@example.com"))  # fmt: skip
        if rng.random() < 0.2:
            w.fm.append((owner, "WEB", "WORK", f"www.{name.split()[0].lower()}{owner}.com"))
        return {"HAS_PHONE": "Y" if phones else "N", "HAS_EMAIL": "Y" if email else "N",
                "HAS_IMOL": "N"}  # fmt: skip

    # companies
    company_types = _dict_codes(store, "COMPANY_TYPE")
    industries = _dict_codes(store, "INDUSTRY")
    employees = _dict_codes(store, "EMPLOYEES")
    w = writers["company"]
    for cid in range(1, counts["company"] + 1):
        created = now_ts - rng.randint(30 * 86400, 2 * year)
        title = f"{rng.choice(_ORG)} {rng.choice(_SUFFIX)}"
        row = stamp(created, rng.choice(users))
        row.update(
            ID=cid,
            TITLE=title,
            COMPANY_TYPE=rng.choice(company_types)[0] if company_types else None,
            INDUSTRY=rng.choice(industries)[0] if industries else None,
            EMPLOYEES=rng.choice(employees)[0] if employees else None,
            CURRENCY_ID=rng.choice(currencies),
            REVENUE=float(rng.randint(1, 500) * 10000),
            IS_MY_COMPANY="Y" if cid == 1 else "N",
            ADDRESS_CITY=rng.choice(_CITIES),
            UF_JSON=_uf_json(makers["company"]),
            **contacts_fm(w, cid, title),
        )
        w.add(row)

    # contacts
    contact_types = _dict_codes(store, "CONTACT_TYPE")
    honorifics = _dict_codes(store, "HONORIFIC")
    w = writers["contact"]
    for cid in range(1, counts["contact"] + 1):
        created = now_ts - rng.randint(10 * 86400, 2 * year)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company = rng.randint(1, counts["company"]) if rng.random() < 0.7 else None
        row = stamp(created, rng.choice(users))
        row.update(
            ID=cid,
            NAME=first,
            LAST_NAME=last,
            HONORIFIC=rng.choice(honorifics)[0] if honorifics and rng.random() < 0.5 else None,
            TYPE_ID=rng.choice(contact_types)[0] if contact_types else None,
            SOURCE_ID=rng.choice(sources),
            POST=rng.choice((None, "Manager", "CEO", "Buyer", "Engineer")),
            COMPANY_ID=company,
            EXPORT="Y",
            ADDRESS_CITY=rng.choice(_CITIES),
            UF_JSON=_uf_json(makers["contact"]),
            **contacts_fm(w, cid, f"{first} {last}"),
        )
        if company:
            links.append(("contact_company", cid, company, 10))
        w.add(row)

    # leads
    statuses = _dict_codes(store, "STATUS") or [("NEW", None)]
    w = writers["lead"]
    for lid in range(1, counts["lead"] + 1):
        created = now_ts - rng.randint(3600, year)
        status, semantics = rng.choice(statuses)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        user = rng.choice(users)
        if semantics:
            moved = min(now_ts, created + rng.randint(0, 60 * 86400))
        elif status != statuses[0][0]:  # worked on since creation (own rng: seeds stay stable)
            moved = min(now_ts, created + moves.randint(3600, 20 * 86400))
        else:
            moved = created
        row = stamp(created, user)
        row.update(
            ID=lid,
            TITLE=f"Lead: {rng.choice(_WORDS)} {rng.choice(_WORDS)}",
            NAME=first,
            LAST_NAME=last,
            STATUS_ID=status,
            STATUS_SEMANTIC_ID=semantics or "P",
            SOURCE_ID=rng.choice(sources),
            CURRENCY_ID=rng.choice(currencies),
            OPPORTUNITY=float(rng.randint(0, 400) * 50),
            IS_MANUAL_OPPORTUNITY="N",
            IS_RETURN_CUSTOMER="N",
            DATE_MODIFY=moved,
            MOVED_TIME=moved,
            MOVED_BY_ID=user,
            DATE_CLOSED=moved if semantics else None,
            UF_JSON=_uf_json(makers["lead"]),
            **contacts_fm(w, lid, f"{first} {last}"),
        )
        w.add(row)

    # deals
    pipelines: list[tuple[int, list[tuple[str, str | None]]]] = []
    for cat in _categories(store):
        stages = _dict_codes(store, "DEAL_STAGE" if cat == 0 else f"DEAL_STAGE_{cat}")
        if stages:
            pipelines.append((cat, stages))
    if not pipelines:
        pipelines = [(0, [("NEW", None), ("WON", "S"), ("LOSE", "F")])]
    main = next((p for p in pipelines if p[0] == 0), pipelines[0])
    deal_types: list[str | None] = [c for c, _ in _dict_codes(store, "DEAL_TYPE")] or [None]
    w = writers["deal"]
    for did in range(1, deals_n + 1):
        cat, stages = main if rng.random() < 0.6 else rng.choice(pipelines)
        roll = rng.random()
        open_stages = [s for s in stages if not s[1]]
        won = [s for s in stages if s[1] == "S"]
        lost = [s for s in stages if s[1] == "F"]
        if roll < 0.25 and won:
            stage, semantic = won[0]
        elif roll < 0.42 and lost:
            stage, semantic = rng.choice(lost)
        else:
            stage, semantic = rng.choice(open_stages or stages)
        created = now_ts - rng.randint(3600, year)
        user = rng.choice(users)
        begin = dt.datetime.fromtimestamp(created, tz).date()
        if semantic:
            moved = created + rng.randint(86400, 90 * 86400)
            if moved > now_ts:
                moved = max(created, now_ts - rng.randint(0, 86400))
            closedate = dt.datetime.fromtimestamp(moved, tz).date()
        else:
            moved = created + rng.randint(0, 20 * 86400) if stage != stages[0][0] else created
            moved = min(moved, now_ts)
            closedate = today + dt.timedelta(days=rng.randint(1, 90))
        currency = base if rng.random() < 0.55 else rng.choice(currencies)
        company = rng.randint(1, counts["company"]) if rng.random() < 0.8 else None
        contact = rng.randint(1, counts["contact"]) if rng.random() < 0.7 else None
        row = stamp(created, user)
        row.update(
            ID=did,
            TITLE=f"Deal #{did}: {rng.choice(_WORDS)} {rng.choice(('order', 'renewal', 'pilot', 'upgrade'))}",
            TYPE_ID=rng.choice(deal_types),
            CATEGORY_ID=cat,
            STAGE_ID=stage,
            STAGE_SEMANTIC_ID=semantic or "P",
            IS_NEW="Y" if stage == stages[0][0] else "N",
            IS_RECURRING="N",
            IS_RETURN_CUSTOMER="Y" if rng.random() < 0.2 else "N",
            IS_REPEATED_APPROACH="N",
            PROBABILITY=rng.choice((None, 10, 30, 50, 70, 90)),
            CURRENCY_ID=currency,
            OPPORTUNITY=round(rng.uniform(100, 50000), 2) if rng.random() < 0.95 else 0.0,
            IS_MANUAL_OPPORTUNITY="Y" if rng.random() < 0.5 else "N",
            TAX_VALUE=0.0,
            COMPANY_ID=company,
            CONTACT_ID=contact,
            BEGINDATE=begin.isoformat(),
            CLOSEDATE=closedate.isoformat(),
            CLOSED="Y" if semantic else "N",
            SOURCE_ID=rng.choice(sources),
            DATE_MODIFY=moved,
            MOVED_TIME=moved,
            MOVED_BY_ID=user,
            UF_JSON=_uf_json(makers["deal"]),
        )
        if contact:
            links.append(("deal_contact", did, contact, 10))
            if moves.random() < 0.2:  # more people on some deals (own rng: seeds stay stable)
                extra = {moves.randint(1, counts["contact"]) for _ in range(moves.randint(1, 2))}
                links += [
                    ("deal_contact", did, other, 20 + 10 * k)
                    for k, other in enumerate(sorted(extra - {contact}))
                ]
        w.add(row)

    with store.transaction() as db:
        for writer in writers.values():
            writer.flush(db)
        db.executemany("INSERT INTO crm_link (KIND, A, B, SORT) VALUES (?, ?, ?, ?)", links)
    return {name: list(range(1, counts[name] + 1)) for name in ENTITIES}
