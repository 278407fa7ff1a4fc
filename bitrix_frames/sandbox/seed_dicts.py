"""CRM dictionaries of the demo portal: statuses, deal pipelines, currencies and user fields.

Declares the dictionary tables (schema in ``docs/dev/TEAM.md``) and fills them with a fixed,
documented content (the dictionaries do not depend on the seed; ``rng`` is accepted for the
orchestrator's uniform signature and left untouched so other seeders see the same random stream).

Seeded content (other modules may rely on it):

- lead statuses ``STATUS``: NEW, IN_PROCESS, PROCESSED, CONVERTED (S), JUNK (F);
- ``SOURCE``: CALL, EMAIL, WEB, ADVERTISING, PARTNER, RECOMMENDATION, TRADE_SHOW, WEBFORM, CALLBACK,
  RC_GENERATOR, STORE, OTHER; ``DEAL_TYPE``: SALE, COMPLEX, GOODS, SERVICES, SERVICE;
  ``HONORIFIC``: HNR_EN_1..4; ``CONTACT_TYPE``: CLIENT, SUPPLIER, PARTNER, OTHER;
  ``COMPANY_TYPE``: CUSTOMER, SUPPLIER, COMPETITOR, PARTNER, OTHER; ``INDUSTRY``: IT, TELECOM, ...;
  ``EMPLOYEES``: EMPLOYEES_1..4;
- deal pipelines (``crm_category``): 0 "General" (default, ``DEAL_STAGE``: NEW, PREPARATION,
  PREPAYMENT_INVOICE, EXECUTING, FINAL_INVOICE, WON (S), LOSE (F), APOLOGY (F)), 1 "Partners"
  (``DEAL_STAGE_1``: C1:NEW, C1:PREPARATION, C1:EXECUTING, C1:WON, C1:LOSE) and 2 "Renewals"
  (``DEAL_STAGE_2``: C2:NEW, C2:UC_OFFER, C2:PREPAYMENT_INVOIC, C2:WON, C2:LOSE, C2:APOLOGY);
  ``crm_status.category_id`` is NULL for the general pipeline, like the real table;
- currencies: USD (base), EUR, GBP, JPY (``AMOUNT_CNT`` 100);
- user fields: see :data:`USER_FIELDS`; codes look like a portal's (``UF_CRM_<13 digits>``,
  :func:`uf_code`) unless ``config.readable_uf`` keeps ``UF_CRM_<ENTITY>_<NAME>``.

Example::

    store = Store()
    seed_dicts(store, SandboxConfig(), random.Random(1))
    store.scalar("SELECT COUNT(*) FROM crm_status WHERE entity_id = 'DEAL_STAGE'")  # 8
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random

from .config import SandboxConfig
from .store import Store

# (status_id, name, color, semantics) in SORT order; SORT = 10, 20, ...
_LEAD_STATUSES = [
    ("NEW", "Not processed", "#39A8EF", None),
    ("IN_PROCESS", "In progress", "#2FC6F6", None),
    ("PROCESSED", "Processed", "#55D0E0", None),
    ("CONVERTED", "Converted", "#7BD500", "S"),
    ("JUNK", "Low-quality lead", "#FF5752", "F"),
]
_GENERAL_STAGES = [
    ("NEW", "New", "#39A8EF", None),
    ("PREPARATION", "Document preparation", "#2FC6F6", None),
    ("PREPAYMENT_INVOICE", "Prepayment invoice", "#55D0E0", None),
    ("EXECUTING", "In progress", "#47E4C2", None),
    ("FINAL_INVOICE", "Final invoice", "#FFA900", None),
    ("WON", "Deal successful", "#7BD500", "S"),
    ("LOSE", "Deal failed", "#FF5752", "F"),
    ("APOLOGY", "Failure reason analysis", "#FF5752", "F"),
]
PIPELINES: list[tuple[int, str, int, list[tuple[str, str, str, str | None]]]] = [
    (0, "General", 300, _GENERAL_STAGES),
    (
        1,
        "Partners",
        200,
        [
            ("NEW", "New", "#39A8EF", None),
            ("PREPARATION", "Partner onboarding", "#2FC6F6", None),
            ("EXECUTING", "Joint selling", "#47E4C2", None),
            ("WON", "Deal successful", "#7BD500", "S"),
            ("LOSE", "Deal failed", "#FF5752", "F"),
        ],
    ),
    (
        2,
        "Renewals",
        200,
        [
            ("NEW", "Renewal due", "#39A8EF", None),
            ("UC_OFFER", "Offer sent", "#2FC6F6", None),
            ("PREPAYMENT_INVOIC", "Invoice sent", "#55D0E0", None),
            ("WON", "Renewed", "#7BD500", "S"),
            ("LOSE", "Churned", "#FF5752", "F"),
            ("APOLOGY", "Downgraded", "#FF5752", "F"),
        ],
    ),
]
"""Deal pipelines: (category id, name, sort, stages (code, name, color, semantics))."""

_SYSTEM_CODES = {"NEW", "CONVERTED", "JUNK", "WON", "LOSE"}

_PLAIN_DICTIONARIES: dict[str, list[tuple[str, str]]] = {
    "SOURCE": [
        ("CALL", "Call"),
        ("EMAIL", "E-Mail"),
        ("WEB", "Website"),
        ("ADVERTISING", "Advertising"),
        ("PARTNER", "Existing client"),
        ("RECOMMENDATION", "By recommendation"),
        ("TRADE_SHOW", "Show/Exhibition"),
        ("WEBFORM", "CRM form"),
        ("CALLBACK", "Callback"),
        ("RC_GENERATOR", "Sales boost"),
        ("STORE", "Online Store"),
        ("OTHER", "Other"),
    ],
    "DEAL_TYPE": [
        ("SALE", "Sales"),
        ("COMPLEX", "Integrated sale"),
        ("GOODS", "Merchandise sales"),
        ("SERVICES", "Service sales"),
        ("SERVICE", "After-sales service"),
    ],
    "HONORIFIC": [
        ("HNR_EN_1", "Mr."),
        ("HNR_EN_2", "Mrs."),
        ("HNR_EN_3", "Ms."),
        ("HNR_EN_4", "Dr."),
    ],
    "CONTACT_TYPE": [
        ("CLIENT", "Clients"),
        ("SUPPLIER", "Suppliers"),
        ("PARTNER", "Partners"),
        ("OTHER", "Other"),
    ],
    "COMPANY_TYPE": [
        ("CUSTOMER", "Client"),
        ("SUPPLIER", "Supplier"),
        ("COMPETITOR", "Competitor"),
        ("PARTNER", "Partner"),
        ("OTHER", "Other"),
    ],
    "INDUSTRY": [
        ("IT", "Information Technology"),
        ("TELECOM", "Telecommunication"),
        ("MANUFACTURING", "Manufacturing"),
        ("BANKING", "Banking Services"),
        ("CONSULTING", "Consulting"),
        ("FINANCE", "Finance"),
        ("GOVERNMENT", "Government"),
        ("DELIVERY", "Delivery"),
        ("ENTERTAINMENT", "Entertainment"),
        ("NOTPROFIT", "Not for profit"),
        ("OTHER", "Other"),
    ],
    "EMPLOYEES": [
        ("EMPLOYEES_1", "Fewer than 50"),
        ("EMPLOYEES_2", "50-250"),
        ("EMPLOYEES_3", "250-500"),
        ("EMPLOYEES_4", "500+"),
    ],
}

# (currency, amount_cnt, amount, sort, base, full_name, format_string, dec_point, thousands_sep,
#  decimals)
CURRENCIES = [
    ("USD", 1, 1.0, 100, "Y", "US Dollar", "$#", ".", ",", 2),
    ("EUR", 1, 1.085, 200, "N", "Euro", "&euro;#", ".", "&nbsp;", 2),
    ("GBP", 1, 1.27, 300, "N", "British Pound Sterling", "&pound;#", ".", ",", 2),
    ("JPY", 100, 0.67, 400, "N", "Japanese Yen", "&yen;#", ".", None, 0),
]
"""Seeded currencies; USD is the base. A rate is ``amount / amount_cnt`` units of USD."""

_STRING = {
    "SIZE": 20,
    "ROWS": 1,
    "REGEXP": "",
    "MIN_LENGTH": 0,
    "MAX_LENGTH": 0,
    "DEFAULT_VALUE": "",
}
_ENUM = {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"}
_DOUBLE = {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None}
_DATE = {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}}
_BOOLEAN = {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""}
_MONEY = {"DEFAULT_VALUE": ""}
_SETTINGS = {
    "string": _STRING,
    "enumeration": _ENUM,
    "double": _DOUBLE,
    "date": _DATE,
    "boolean": _BOOLEAN,
    "money": _MONEY,
    "employee": {},
    "file": {"SIZE": 20, "LIST_WIDTH": 200, "LIST_HEIGHT": 200, "MAX_SHOW_SIZE": 0,
             "MAX_ALLOWED_SIZE": 0, "EXTENSIONS": [], "TARGET_BLANK": "Y"},
}  # fmt: skip


def uf_code(readable: str, index: int, *, readable_codes: bool = False) -> str:
    """The code a seeded user field gets: ``UF_CRM_`` + 13 digits, as a portal generates them
    from the creation time in milliseconds (the same for every seed, like the other dictionaries),
    or the readable code.

    >>> uf_code("UF_CRM_DEAL_PRIORITY", 0)[:7], len(uf_code("UF_CRM_DEAL_PRIORITY", 0))
    ('UF_CRM_', 20)
    """
    if readable_codes:
        return readable
    rng = random.Random("uf-codes")
    created = 1_684_312_345_678 + rng.randrange(10**9)
    for _ in range(index + 1):
        created += rng.randrange(1_000, 90_000_000)  # fields added seconds to hours apart
    return f"UF_CRM_{created}"


USER_FIELDS: list[tuple[str, str, str, str, bool, list[str]]] = [
    # (entity_id, field_name, user_type_id, label, multiple, enumeration values)
    ("CRM_DEAL", "UF_CRM_DEAL_PRIORITY", "enumeration", "Priority", False,
     ["Low", "Medium", "High", "Critical"]),
    ("CRM_DEAL", "UF_CRM_DEAL_CHANNELS", "enumeration", "Sales channels", True,
     ["Direct", "Partner", "Online", "Marketplace"]),
    ("CRM_DEAL", "UF_CRM_DEAL_PROJECT", "string", "Project code", False, []),
    ("CRM_DEAL", "UF_CRM_DEAL_DISCOUNT", "double", "Discount, %", False, []),
    ("CRM_DEAL", "UF_CRM_DEAL_PAYMENT_DATE", "date", "Expected payment date", False, []),
    ("CRM_DEAL", "UF_CRM_DEAL_SIGNED", "boolean", "Contract signed", False, []),
    ("CRM_DEAL", "UF_CRM_DEAL_BUDGET", "money", "Client budget", False, []),
    ("CRM_DEAL", "UF_CRM_DEAL_MANAGER", "employee", "Account manager", False, []),
    ("CRM_LEAD", "UF_CRM_LEAD_INTEREST", "enumeration", "Product interest", False,
     ["CRM", "Tasks", "Telephony", "Online store"]),
    ("CRM_LEAD", "UF_CRM_LEAD_CAMPAIGN", "string", "Campaign", False, []),
    ("CRM_LEAD", "UF_CRM_LEAD_CALLBACK_DATE", "date", "Callback date", False, []),
    ("CRM_LEAD", "UF_CRM_LEAD_QUALIFIED", "boolean", "Qualified", False, []),
    ("CRM_CONTACT", "UF_CRM_CONTACT_LOYALTY", "enumeration", "Loyalty level", False,
     ["Bronze", "Silver", "Gold"]),
    ("CRM_CONTACT", "UF_CRM_CONTACT_NEWSLETTER", "boolean", "Newsletter subscriber", False, []),
    ("CRM_COMPANY", "UF_CRM_COMPANY_SEGMENT", "enumeration", "Segment", False,
     ["SMB", "Mid-market", "Enterprise"]),
    ("CRM_COMPANY", "UF_CRM_COMPANY_VAT_ID", "string", "VAT ID", False, []),
    ("CRM_COMPANY", "UF_CRM_COMPANY_FOUNDED", "date", "Founded", False, []),
    ("CRM_COMPANY", "UF_CRM_COMPANY_DOCUMENTS", "file", "Documents", True, []),
]  # fmt: skip
"""Seeded user fields per CRM entity, in SORT order (SORT = 100, 110, ...)."""

_DICT_DATE = dt.datetime(2024, 1, 15, 9, 30, tzinfo=dt.timezone.utc)


def _status_rows() -> list[tuple]:
    """All crm_status rows (without id) in insertion order."""
    rows: list[tuple] = []

    def add(entity: str, prefix: str, cat: int | None, items: list[tuple]) -> None:
        for i, (code, name, color, sem) in enumerate(items):
            system = "Y" if code in _SYSTEM_CODES else "N"
            rows.append(
                (entity, prefix + code, name, name if system == "Y" else "", (i + 1) * 10,
                 system, cat, color, sem)
            )  # fmt: skip

    add("STATUS", "", None, _LEAD_STATUSES)
    for entity, items in _PLAIN_DICTIONARIES.items():
        add(entity, "", None, [(code, name, None, None) for code, name in items])
    for cat, _name, _sort, stages in PIPELINES:
        if cat == 0:
            add("DEAL_STAGE", "", None, stages)
        else:
            add(f"DEAL_STAGE_{cat}", f"C{cat}:", cat, stages)
    return rows


def seed_dicts(store: Store, config: SandboxConfig, rng: random.Random) -> None:
    """Fill the dictionary tables (idempotent: existing rows are replaced).

    Example: ``seed_dicts(store, config, random.Random(config.seed))``.
    """
    created = int(_DICT_DATE.timestamp())
    with store.transaction() as db:
        for table in ("crm_status", "crm_category", "crm_currency", "crm_userfield",
                      "crm_userfield_enum"):  # fmt: skip
            db.execute(f"DELETE FROM {table}")
        db.executemany(
            "INSERT INTO crm_status (entity_id, status_id, name, name_init, sort, system,"
            " category_id, color, semantics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _status_rows(),
        )
        db.executemany(
            "INSERT INTO crm_category (id, entity_type_id, name, sort, is_default, created_at)"
            " VALUES (?, 2, ?, ?, ?, ?)",
            [
                (cat, name, sort, "Y" if cat == 0 else "N", created + cat * 86400)
                for cat, name, sort, _ in PIPELINES
            ],
        )
        db.executemany(
            "INSERT INTO crm_currency (currency, amount_cnt, amount, sort, base, full_name,"
            " format_string, dec_point, thousands_sep, decimals, date_update)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row + (created,) for row in CURRENCIES],
        )
        enum_id = 0
        for i, (entity, readable, utype, label, multiple, values) in enumerate(USER_FIELDS):
            name = uf_code(readable, i, readable_codes=config.readable_uf)
            cur = db.execute(
                "INSERT INTO crm_userfield (entity_id, field_name, user_type_id, xml_id, sort,"
                " multiple, mandatory, settings, label) VALUES (?, ?, ?, NULL, ?, ?, 'N', ?, ?)",
                (entity, name, utype, 100 + 10 * i, "Y" if multiple else "N",
                 json.dumps(_SETTINGS[utype]), label),
            )  # fmt: skip
            for j, value in enumerate(values):
                enum_id += 1
                xml = hashlib.md5(f"{name}:{value}".encode()).hexdigest()
                db.execute(
                    "INSERT INTO crm_userfield_enum (id, field_id, value, sort, def, xml_id)"
                    " VALUES (?, ?, ?, ?, 'N', ?)",
                    (enum_id, cur.lastrowid, value, (j + 1) * 10, xml),
                )
