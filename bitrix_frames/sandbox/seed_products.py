"""Deterministic product catalogue and product rows for a share of the seeded deals and leads.

- about 40 catalogue products (goods and services, several VAT rates and units);
- deals with ``IS_MANUAL_OPPORTUNITY = N`` and an amount (about 70 % of them) get 1-5 rows whose
  amounts add up to the deal's ``OPPORTUNITY`` to the cent (the last row takes the remainder at a
  customised price); their ``TAX_VALUE`` becomes the rows' tax. The other computed deals keep
  their amount and have no rows;
- about 40 % of the manual-amount deals get rows that do not add up (the amount was typed in);
- about 20 % of the leads with an amount get rows that add up to it (leads compute theirs).

Seeded from its own ``random.Random`` so the records seeded before it stay as they were.

Example::

    seed_products(store, config, {"deal": [1, 2], "lead": [1]}, user_ids=[1])
"""

from __future__ import annotations

import random
import sqlite3
from functools import lru_cache

from .config import SandboxConfig
from .products import MEASURES, ROW_COLUMNS, amount_cents, price_row, row_for_amount, tax_cents
from .store import Store

CATALOG_ID = 25
_GOODS = ["Laptop", "Monitor", "Keyboard", "Mouse", "Headset", "Printer", "Router", "Webcam", "Dock", "Tablet", "Phone", "Cable kit", "Desk", "Chair", "Lamp", "Projector", "Scanner", "Speaker", "SSD", "Server rack"]  # fmt: skip
_SERVICES = ["Installation", "Support plan", "Training", "Consulting hour", "Delivery", "Audit", "Licence", "Maintenance", "Migration", "Setup fee"]  # fmt: skip
_VAT = [None, 0.0, 10.0, 20.0]


def _catalogue(rng: random.Random, base: str, now_ts: int, users: list[int]) -> list[dict]:
    products: list[dict] = []
    names = [(n, 1) for n in _GOODS] + [(n, 7) for n in _SERVICES]
    for pid, (name, ptype) in enumerate(names, start=1):
        for variant in ("", " Pro") if pid % 2 else ("",):
            created = now_ts - rng.randint(200, 900) * 86400
            products.append(
                {
                    "ID": len(products) + 1,
                    "NAME": name + variant,
                    "ACTIVE": "Y" if rng.random() < 0.9 else "N",
                    "CATALOG_ID": CATALOG_ID,
                    "SECTION_ID": 1 if ptype == 1 else 2,
                    "PRICE": float(rng.randint(2, 400) * 25) * (3 if variant else 1),
                    "CURRENCY_ID": base,
                    "MEASURE": 356 if ptype == 7 else rng.choice((796, 796, 796, 6, 166)),
                    "TAX_RATE": rng.choice(_VAT),
                    "VAT_INCLUDED": "Y" if rng.random() < 0.7 else "N",
                    "SORT": 100 + 10 * len(products),
                    "XML_ID": f"sku-{1000 + len(products)}",
                    "DESCRIPTION": None,
                    "DESCRIPTION_TYPE": "text",
                    "CREATED_BY": rng.choice(users),
                    "MODIFIED_BY": rng.choice(users),
                    "DATE_CREATE": created,
                    "TIMESTAMP_X": created + rng.randint(0, 100) * 86400,
                    "TYPE": ptype,
                }
            )
    for p in products:
        p["VAT_ID"] = _VAT.index(p["TAX_RATE"]) if p["TAX_RATE"] is not None else None
    return products


def _rates(store: Store) -> tuple[dict[str, float], str]:
    """Currency -> value of one unit in the portal's units, and the base currency."""
    rows = store.query("SELECT currency, amount, amount_cnt, base FROM crm_currency ORDER BY sort")
    base = next((r[0] for r in rows if r[3] == "Y"), rows[0][0] if rows else "USD")
    return {r[0]: (r[1] or 1.0) / (r[2] or 1) for r in rows}, base


@lru_cache(maxsize=4096)
def _unit(price: float, rate: float | None, tax_included: bool, discount: float) -> tuple:
    """One unit of a catalogue product at a discount: (row items, amount in cents)."""
    netto = price / (1 + (rate or 0) / 100) if tax_included else price
    row = price_row(netto=netto, quantity=1, discount_rate=discount, tax_rate=rate,
                    tax_included=tax_included)  # fmt: skip
    return tuple(row.items()), amount_cents(row)


def _free_rows(rng: random.Random, products: list[dict], budget_cents: int, n: int) -> list[dict]:
    """Up to ``n`` catalogue rows whose amounts stay within ``budget_cents``."""
    rows = []
    for _ in range(n):
        product = rng.choice(products)
        discount = rng.choice((0.0, 0.0, 0.0, 5.0, 10.0, 15.0))
        items, unit = _unit(product["PRICE"], product["TAX_RATE"],
                            product["VAT_INCLUDED"] == "Y", discount)  # fmt: skip
        most = budget_cents // unit if unit else 0
        if most < 1:
            continue
        row = dict(items)
        row["QUANTITY"] = float(rng.randint(1, min(most, 10)))
        budget_cents -= amount_cents(row)
        rows.append(_with_product(row, product, customized="N"))
    return rows


def _with_product(row: dict, product: dict, customized: str) -> dict:
    measure = product["MEASURE"]
    return row | {
        "PRODUCT_ID": product["ID"],
        "PRODUCT_NAME": product["NAME"],
        "MEASURE_CODE": measure,
        "MEASURE_NAME": MEASURES.get(measure, "pcs"),
        "TYPE": 4 if product["TYPE"] == 1 else 7,
        "CUSTOMIZED": customized,
    }


def _rows_for(rng: random.Random, products: list[dict], cents: int) -> list[dict]:
    """1-5 rows adding up to exactly ``cents`` (the last one takes the remainder)."""
    rows = _free_rows(rng, products, int(cents * 0.8), rng.randint(0, 4))
    rest = cents - sum(amount_cents(r) for r in rows)
    product = rng.choice([p for p in products if p["TYPE"] == 7])
    rows.append(_with_product(row_for_amount(rest, product["TAX_RATE"]), product, "Y"))
    return rows


def seed_products(
    store: Store, config: SandboxConfig, ids: dict[str, list[int]], user_ids: list[int]
) -> None:
    """Create the catalogue and the product rows (see the module docstring)."""
    rng = random.Random(f"{config.seed}:products")
    users = user_ids or [config.user_id]
    rates, base = _rates(store)
    now_ts = int(store.scalar("SELECT MAX(DATE_CREATE) FROM crm_deal") or 0) or 1_700_000_000
    products = _catalogue(rng, base, now_ts, users)
    owners: list[tuple[str, int, str, list[dict]]] = []  # (type, id, currency, rows)
    taxes: list[tuple[float, int]] = []
    deals = store.query('SELECT "ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY", "CURRENCY_ID" '
                        'FROM crm_deal ORDER BY "ID"')  # fmt: skip
    for deal_id, opportunity, manual, currency in deals:
        cents = round((opportunity or 0) * 100)
        if manual == "N" and cents > 0 and rng.random() < 0.7:
            rows = _rows_for(rng, products, cents)
            owners.append(("D", deal_id, currency, rows))
            taxes.append((sum(tax_cents(r) for r in rows) / 100, deal_id))
        elif manual == "Y" and rng.random() < 0.4:
            rows = _free_rows(rng, products, 5_000_000, rng.randint(1, 4))
            owners.append(("D", deal_id, currency, rows))
    leads = store.query('SELECT "ID", "OPPORTUNITY", "CURRENCY_ID" FROM crm_lead ORDER BY "ID"')
    for lead_id, opportunity, currency in leads:
        cents = round((opportunity or 0) * 100)
        if cents > 0 and rng.random() < 0.2:
            owners.append(("L", lead_id, currency, _rows_for(rng, products, cents)))
    base_rate = rates.get(base, 1.0)
    table: list[tuple] = []
    for owner_type, owner_id, currency, rows in owners:
        factor = rates.get(currency, base_rate) / base_rate
        for sort, row in enumerate(rows, start=1):
            row_id = len(table) + 1
            row |= {
                "ID": row_id,
                "OWNER_TYPE": owner_type,
                "OWNER_ID": owner_id,
                "PRICE_ACCOUNT": round(row["PRICE"] * factor, 2),
                "SORT": sort * 10,
                "XML_ID": f"sale_basket_{row_id}",
                "STORE_ID": 0 if row["TYPE"] == 7 else 1,
            }
            table.append(tuple(row.get(c) for c in ROW_COLUMNS))
    product_cols = list(products[0]) if products else []
    with store.transaction() as db:
        insert = sqlite3.Connection.executemany  # our own ints: no need for the store's clamping
        insert(
            db,
            f"INSERT INTO crm_product ({', '.join(product_cols)}) "
            f"VALUES ({', '.join('?' * len(product_cols))})",
            [tuple(p[c] for c in product_cols) for p in products],
        )
        insert(
            db,
            f"INSERT INTO crm_product_row ({', '.join(ROW_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ROW_COLUMNS))})",
            table,
        )
        insert(db, 'UPDATE crm_deal SET "TAX_VALUE" = ? WHERE "ID" = ?', taxes)
        for name, count in (("crm_product", len(products)), ("crm_product_row", len(table))):
            db.execute(
                "INSERT INTO sequence (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                (name, count),
            )
