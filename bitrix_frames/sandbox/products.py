"""Product catalogue and product rows: tables and the price arithmetic of a row.

A product row stores the per-unit prices the core derives from the catalogue price, the discount
and the tax (docs ``crm_item_product_row``): ``priceNetto`` (no discount, no tax), ``discountSum``
(per unit, on the netto price), ``priceExclusive`` (discounted, no tax), ``priceBrutto`` (no
discount, with tax) and ``price`` (discounted, with tax). The row's amount is
``price x quantity`` rounded to cents; a deal or lead whose amount is computed from its products
(``IS_MANUAL_OPPORTUNITY = N``) has ``OPPORTUNITY`` = the sum of its rows' amounts and
``TAX_VALUE`` = the sum of ``(price - priceExclusive) x quantity``. The docs' own example row
(brutto 100000, tax 10 % included, discount 10 %) comes out as price 90000, exclusive 81818.18,
netto 90909.09, discount 9090.91 -- the numbers the docs print.

Example::

    row = price_row(netto=100.0, quantity=2, discount_rate=10.0, tax_rate=20.0, tax_included=False)
    row["PRICE"], amount_cents(row)      # (108.0, 21600)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .store import register_schema

OWNER_TYPES: dict[str, int] = {"L": 1, "D": 2, "C": 3, "CO": 4}
"""Short symbolic owner codes of product rows -> entityTypeId (docs ``object_type``)."""

MEASURES: dict[int, str] = {796: "pcs", 6: "m", 112: "l", 166: "kg", 356: "h"}
"""Unit-of-measure codes (OKEI, as in the docs' examples) -> names."""

register_schema(
    """
CREATE TABLE IF NOT EXISTS crm_product (
  ID INTEGER PRIMARY KEY, NAME TEXT, ACTIVE TEXT, CATALOG_ID INTEGER, SECTION_ID INTEGER,
  PRICE REAL, CURRENCY_ID TEXT, MEASURE INTEGER, VAT_ID INTEGER, VAT_INCLUDED TEXT,
  SORT INTEGER, XML_ID TEXT, DESCRIPTION TEXT, DESCRIPTION_TYPE TEXT, CREATED_BY INTEGER,
  MODIFIED_BY INTEGER, DATE_CREATE INTEGER, TIMESTAMP_X INTEGER, TYPE INTEGER, TAX_RATE REAL);
CREATE TABLE IF NOT EXISTS crm_product_row (
  ID INTEGER PRIMARY KEY, OWNER_TYPE TEXT NOT NULL, OWNER_ID INTEGER NOT NULL,
  PRODUCT_ID INTEGER, PRODUCT_NAME TEXT, PRODUCT_DESCRIPTION TEXT, PRICE REAL,
  PRICE_ACCOUNT REAL, PRICE_EXCLUSIVE REAL, PRICE_NETTO REAL, PRICE_BRUTTO REAL, QUANTITY REAL,
  DISCOUNT_TYPE_ID INTEGER, DISCOUNT_RATE REAL, DISCOUNT_SUM REAL, TAX_RATE REAL,
  TAX_INCLUDED TEXT, CUSTOMIZED TEXT, MEASURE_CODE INTEGER, MEASURE_NAME TEXT, SORT INTEGER,
  XML_ID TEXT, TYPE INTEGER, STORE_ID INTEGER);
CREATE INDEX IF NOT EXISTS crm_product_row_owner ON crm_product_row (OWNER_TYPE, OWNER_ID);
"""
)

ROW_COLUMNS: tuple[str, ...] = (
    "ID", "OWNER_TYPE", "OWNER_ID", "PRODUCT_ID", "PRODUCT_NAME", "PRODUCT_DESCRIPTION", "PRICE",
    "PRICE_ACCOUNT", "PRICE_EXCLUSIVE", "PRICE_NETTO", "PRICE_BRUTTO", "QUANTITY",
    "DISCOUNT_TYPE_ID", "DISCOUNT_RATE", "DISCOUNT_SUM", "TAX_RATE", "TAX_INCLUDED", "CUSTOMIZED",
    "MEASURE_CODE", "MEASURE_NAME", "SORT", "XML_ID", "TYPE", "STORE_ID",
)  # fmt: skip
"""Stored columns of ``crm_product_row`` in table order."""

_CENT = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def price_row(
    *,
    netto: float,
    quantity: float,
    discount_rate: float = 0.0,
    tax_rate: float | None = None,
    tax_included: bool = True,
) -> dict:
    """Per-unit prices of a row from the netto price, a percentage discount and a tax rate.

    >>> r = price_row(netto=90909.09, quantity=3, discount_rate=10, tax_rate=10)
    >>> r["PRICE"], r["PRICE_EXCLUSIVE"], r["PRICE_BRUTTO"], r["DISCOUNT_SUM"]
    (90000.0, 81818.18, 100000.0, 9090.91)
    """
    rate = Decimal(str(tax_rate or 0)) / 100
    net = _money(Decimal(str(netto)))
    discount = _money(net * Decimal(str(discount_rate)) / 100)
    exclusive = net - discount
    return {
        "PRICE": float(_money(exclusive * (1 + rate))),
        "PRICE_EXCLUSIVE": float(exclusive),
        "PRICE_NETTO": float(net),
        "PRICE_BRUTTO": float(_money(net * (1 + rate))),
        "QUANTITY": float(quantity),
        "DISCOUNT_TYPE_ID": 2,
        "DISCOUNT_RATE": float(discount_rate),
        "DISCOUNT_SUM": float(discount),
        "TAX_RATE": None if tax_rate is None else float(tax_rate),
        "TAX_INCLUDED": "Y" if tax_included else "N",
    }


def row_for_amount(cents: int, tax_rate: float | None) -> dict:
    """A one-unit row whose amount is exactly ``cents`` (tax included, no discount).

    >>> r = row_for_amount(12345, 20.0); (r["PRICE"], r["PRICE_EXCLUSIVE"], amount_cents(r))
    (123.45, 102.88, 12345)
    """
    price = Decimal(cents) / 100
    rate = Decimal(str(tax_rate or 0)) / 100
    exclusive = _money(price / (1 + rate))
    return {
        "PRICE": float(price),
        "PRICE_EXCLUSIVE": float(exclusive),
        "PRICE_NETTO": float(exclusive),
        "PRICE_BRUTTO": float(price),
        "QUANTITY": 1.0,
        "DISCOUNT_TYPE_ID": 2,
        "DISCOUNT_RATE": 0.0,
        "DISCOUNT_SUM": 0.0,
        "TAX_RATE": None if tax_rate is None else float(tax_rate),
        "TAX_INCLUDED": "Y",
    }


def amount_cents(row: dict) -> int:
    """The row's amount ``price x quantity`` in cents (rounded half up)."""
    total = Decimal(str(row["PRICE"])) * Decimal(str(row["QUANTITY"]))
    return int(_money(total) * 100)


def tax_cents(row: dict) -> int:
    """The tax the row carries, ``(price - priceExclusive) x quantity``, in cents."""
    per_unit = Decimal(str(row["PRICE"])) - Decimal(str(row["PRICE_EXCLUSIVE"]))
    return int(_money(per_unit * Decimal(str(row["QUANTITY"]))) * 100)
