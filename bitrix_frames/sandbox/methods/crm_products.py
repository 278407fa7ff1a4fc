"""Products and product rows: ``crm.product.{fields,list,get}``, ``crm.item.productrow.{fields,
list,get}`` and the classic ``crm.deal.productrows.get`` / ``crm.lead.productrows.get``.

Faithful to the docs (``crm/universal/product-rows/``, ``crm/deals/crm-deal-productrows-get.md``,
``crm/outdated/products/``) and the core's ``Controller\\Item\\ProductRow``:

- ``crm.item.productrow.list`` needs the filter keys ``=ownerType`` (short code ``D``, ``L``, ...)
  and ``=ownerId`` (an id or an array of ids); without them: 400 ``REQUIRED_ARG_MISSING``
  ``Argument '=ownerType' is required``. Filter/order keys are camelCase (the core upper-cases
  them), ORM operators, exact-offset paging of 50 with ``total``/``next``, ``start=-1`` without a
  count; a ``<``/``>`` key with an array value: 400 ``INVALID_ARG_VALUE``; an unknown field: 400
  ``INVALID_ARG_VALUE``. Rows are camelCase with typed numbers under ``result.productRows``.
- ``crm.deal.productrows.get`` (``id``): UPPER_SNAKE rows in SORT order, ``ID``/``OWNER_ID`` as
  strings, ``PRICE_ACCOUNT`` as a 2-decimal string; bad id: ``The parameter id is invalid or not
  defined.``, unknown deal: ``Not found``. Reserve keys (inventory management) are not emitted.
- ``crm.product.list`` is a legacy list (strings, ``start`` rounded to 50, unknown filter keys
  dropped).

Whole-number amounts are written as JSON integers, as the docs print them (``"price": 90000``).

Example::

    METHODS["crm.item.productrow.list"](call, {"filter": {"=ownerType": "D", "=ownerId": [1, 2]}})
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from ..api import ApiError, Call, Page, method
from ..filters import Column, order_clause, parse_key, where_clause
from ..listing import fetch_page
from ..products import ROW_COLUMNS
from ..values import fmt_datetime, fmt_decimal
from .crm import array_param, param

# --- product rows --------------------------------------------------------------------------------

_ROW_TYPES: dict[str, str] = {
    "ID": "int", "OWNER_ID": "int", "OWNER_TYPE": "str", "PRODUCT_ID": "int",
    "PRODUCT_NAME": "str", "PRICE": "float", "PRICE_ACCOUNT": "float", "PRICE_EXCLUSIVE": "float",
    "PRICE_NETTO": "float", "PRICE_BRUTTO": "float", "QUANTITY": "float",
    "DISCOUNT_TYPE_ID": "int", "DISCOUNT_RATE": "float", "DISCOUNT_SUM": "float",
    "TAX_RATE": "float", "TAX_INCLUDED": "str", "CUSTOMIZED": "str", "MEASURE_CODE": "int",
    "MEASURE_NAME": "str", "SORT": "int", "XML_ID": "str", "TYPE": "int", "STORE_ID": "int",
}  # fmt: skip
"""crm.item.productrow.list keys (UPPER_SNAKE as the core filters them) in output order."""

_ROW_COLUMNS = {name: Column(f"r.{name}", kind) for name, kind in _ROW_TYPES.items()}

# name, type, flags (q required, r read-only, I immutable), title -- crm.item.productrow.fields
_ROW_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("id", "integer", "r", "ID"),
    ("ownerId", "integer", "qI", "Owner ID"),
    ("ownerType", "string", "qI", "Owner Type"),
    ("productId", "integer", "q", "Product"),
    ("productName", "string", "", "Product Name"),
    ("price", "double", "", "Price"),
    ("priceExclusive", "double", "r", "Discounted price excluding tax"),
    ("priceNetto", "double", "r", "PRICE_NETTO"),
    ("priceBrutto", "double", "r", "PRICE_BRUTTO"),
    ("quantity", "double", "", "Quantity"),
    ("discountTypeId", "integer", "", "Discount Type"),
    ("discountRate", "double", "", "Discount Amount"),
    ("discountSum", "double", "", "Discount Total"),
    ("taxRate", "double", "", "Tax"),
    ("taxIncluded", "char", "", "Tax included in price"),
    ("customized", "char", "", "Modified"),
    ("measureCode", "integer", "", "Unit of Measure Code"),
    ("measureName", "string", "", "Unit of Measure"),
    ("sort", "integer", "", "Sorting"),
    ("type", "integer", "r", "TYPE"),
    ("storeId", "integer", "r", "STORE_ID"),
)


def _camel(name: str) -> str:
    head, *rest = name.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)


def _upper(name: str) -> str:
    """``ownerType`` -> ``OWNER_TYPE`` (the core's convertKeysToUpper)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


_CAMEL = {name: _camel(name) for name in _ROW_TYPES}


def _number(value: float | None) -> int | float | None:
    """A stored amount as the docs print it: whole numbers as JSON integers."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _camel_row(row: sqlite3.Row) -> dict:
    out: dict[str, Any] = {}
    for name, kind in _ROW_TYPES.items():
        value = row[name]
        out[_CAMEL[name]] = _number(value) if kind == "float" else value
    return out


def _upper_keys(mapping: dict) -> dict:
    out = {}
    for key, value in mapping.items():
        op = parse_key(str(key).strip(), "orm")
        out[op.prefix + _upper(op.field)] = value
    return out


def _check_filter(filt: dict) -> None:
    """The core's required keys and its check of ``<``/``>`` keys (see module docstring)."""
    owner_type = filt.get("=OWNER_TYPE")
    if owner_type in (None, "", 0, "0", False, []):
        raise ApiError("Argument '=ownerType' is required", "REQUIRED_ARG_MISSING")
    owner_id = filt.get("=OWNER_ID")
    if not isinstance(owner_id, (list, dict)):
        try:
            missing = owner_id is None or float(owner_id) <= 0
        except (TypeError, ValueError):
            missing = False  # PHP 8 compares a non-numeric string with 0 as text
        if missing:
            raise ApiError("Argument '=ownerId' is required", "REQUIRED_ARG_MISSING")
    for key, value in filt.items():
        if (
            ("<" in key or ">" in key)
            and "><" not in key
            and not isinstance(value, (str, int, float))
        ):
            raise ApiError(
                f"Value for filter key '{key}' should be either string or number",
                "INVALID_ARG_VALUE",
            )


@method("crm.item.productrow.fields")
def productrow_fields(call: Call, params: dict) -> dict:
    fields = {}
    for name, ftype, flags, title in _ROW_FIELDS:
        fields[name] = {
            "type": ftype,
            "isRequired": "q" in flags,
            "isReadOnly": "r" in flags,
            "isImmutable": "I" in flags,
            "isMultiple": False,
            "isDynamic": False,
            "title": title,
        }
    return {"fields": fields}


@method("crm.item.productrow.list")
def productrow_list(call: Call, params: dict) -> Page:
    raw_filter = params.get("filter")
    raw_order = params.get("order")
    filt = _upper_keys(raw_filter) if isinstance(raw_filter, dict) else {}
    order = _upper_keys(raw_order) if isinstance(raw_order, dict) else {}
    _check_filter(filt)
    where, args = where_clause(filt, _ROW_COLUMNS, call.config.tz, strict=True, dialect="orm")
    order_by = order_clause(order, _ROW_COLUMNS)
    order_by = f"{order_by}, r.ID ASC" if order_by else "r.ID ASC"
    rows, total, nxt = fetch_page(
        call,
        from_sql="crm_product_row r",
        where=where,
        args=args,
        order_by=order_by,
        mode="exact",
    )
    return Page({"productRows": [_camel_row(r) for r in rows]}, total, nxt)


@method("crm.item.productrow.get")
def productrow_get(call: Call, params: dict) -> dict:
    try:
        row_id = int(params.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        row_id = 0
    rows = call.store.query("SELECT * FROM crm_product_row WHERE ID = ?", (row_id,))
    if not rows:
        raise ApiError("Element not found", "NOT_FOUND")
    call.return_rows(1)
    return {"productRow": _camel_row(rows[0])}


def _classic_rows(call: Call, params: dict, owner_type: str, table: str) -> list[dict]:
    raw = param(params, "id")
    try:
        owner_id = int(float(raw)) if not isinstance(raw, bool) else 0
    except (TypeError, ValueError):
        owner_id = 0
    if owner_id <= 0:
        raise ApiError("The parameter id is invalid or not defined.")
    if not call.store.query(f'SELECT 1 FROM {table} WHERE "ID" = ?', (owner_id,)):
        raise ApiError("Not found")
    rows = call.store.query(
        "SELECT r.*, p.NAME AS ORIGINAL_NAME FROM crm_product_row r "
        "LEFT JOIN crm_product p ON p.ID = r.PRODUCT_ID "
        "WHERE r.OWNER_TYPE = ? AND r.OWNER_ID = ? ORDER BY r.SORT, r.ID",
        (owner_type, owner_id),
    )
    call.return_rows(len(rows))
    out = []
    for r in rows:
        item: dict[str, Any] = {}
        for name in ROW_COLUMNS:
            value = r[name]
            if name in ("ID", "OWNER_ID"):
                value = str(value)
            elif name == "PRICE_ACCOUNT":
                value = fmt_decimal(value)
            elif _ROW_TYPES.get(name) == "float":
                value = _number(value)
            item[name] = value
            if name == "PRODUCT_NAME":
                item["ORIGINAL_PRODUCT_NAME"] = r["ORIGINAL_NAME"] or value
        out.append(item)
    return out


@method("crm.deal.productrows.get")
def deal_productrows_get(call: Call, params: dict) -> list[dict]:
    return _classic_rows(call, params, "D", "crm_deal")


@method("crm.lead.productrows.get")
def lead_productrows_get(call: Call, params: dict) -> list[dict]:
    return _classic_rows(call, params, "L", "crm_lead")


# --- catalogue -----------------------------------------------------------------------------------

# name, type, flags, title -- crm.product.fields (docs crm/outdated/products/crm-product-fields.md)
_PRODUCT_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("ID", "integer", "r", "ID"),
    ("NAME", "string", "q", "Name"),
    ("ACTIVE", "char", "", "Active"),
    ("CATALOG_ID", "integer", "", "Catalog"),
    ("SECTION_ID", "integer", "", "Section"),
    ("PRICE", "double", "", "Price"),
    ("CURRENCY_ID", "string", "", "Currency"),
    ("MEASURE", "integer", "", "Unit of measure"),
    ("VAT_ID", "integer", "", "VAT rate"),
    ("VAT_INCLUDED", "char", "", "VAT included"),
    ("SORT", "integer", "", "Sort"),
    ("XML_ID", "string", "", "External code"),
    ("DESCRIPTION", "string", "", "Description"),
    ("DESCRIPTION_TYPE", "string", "", "Description type"),
    ("PREVIEW_PICTURE", "product_file", "", "Preview picture"),
    ("DETAIL_PICTURE", "product_file", "", "Detailed picture"),
    ("CREATED_BY", "integer", "r", "Created by"),
    ("MODIFIED_BY", "integer", "r", "Modified by"),
    ("DATE_CREATE", "datetime", "r", "Created"),
    ("TIMESTAMP_X", "datetime", "r", "Modified"),
)
_PRODUCT_KINDS = {"integer": "int", "double": "float", "datetime": "datetime", "char": "yn"}
_PRODUCT_COLUMNS = {
    name: Column(f"p.{name}", _PRODUCT_KINDS.get(ftype, "str"))
    for name, ftype, _, _ in _PRODUCT_FIELDS
    if ftype != "product_file"
}


def _product(row: sqlite3.Row, keys: list[str], call: Call) -> dict:
    out: dict[str, Any] = {}
    for name in keys:
        ftype = next(t for n, t, _, _ in _PRODUCT_FIELDS if n == name)
        value = row[name] if ftype != "product_file" else None
        if value is None:
            out[name] = None
        elif ftype == "integer":
            out[name] = str(value)
        elif ftype == "double":
            out[name] = fmt_decimal(value)
        elif ftype == "datetime":
            out[name] = fmt_datetime(value, call.config.tz)
        else:
            out[name] = value
    return out


@method("crm.product.fields")
def product_fields(call: Call, params: dict) -> dict:
    return {
        name: {
            "type": ftype,
            "isRequired": "q" in flags,
            "isReadOnly": "r" in flags,
            "isImmutable": False,
            "isMultiple": False,
            "isDynamic": False,
            "title": title,
        }
        for name, ftype, flags, title in _PRODUCT_FIELDS
    }


@method("crm.product.list")
def product_list(call: Call, params: dict) -> Page:
    filt = array_param(params, "filter")
    order = array_param(params, "order")
    raw = param(params, "select")
    wanted = [str(x).upper() for x in (raw.values() if isinstance(raw, dict) else raw or [])]
    names = [n for n, _, _, _ in _PRODUCT_FIELDS]
    keys = names if not wanted or "*" in wanted else [n for n in names if n in wanted]
    if "ID" not in keys:
        keys.insert(0, "ID")
    where, args = where_clause(filt, _PRODUCT_COLUMNS, call.config.tz)
    order_by = order_clause(order, _PRODUCT_COLUMNS)
    order_by = f"{order_by}, p.ID ASC" if order_by else "p.ID ASC"
    rows, total, nxt = fetch_page(
        call, from_sql="crm_product p", where=where, args=args, order_by=order_by
    )
    return Page([_product(r, keys, call) for r in rows], total, nxt)


@method("crm.product.get")
def product_get(call: Call, params: dict) -> dict:
    raw = param(params, "id")
    try:
        product_id = int(float(raw)) if not isinstance(raw, bool) else 0
    except (TypeError, ValueError):
        product_id = 0
    if product_id <= 0:
        raise ApiError("ID is not defined or invalid.")
    rows = call.store.query("SELECT * FROM crm_product WHERE ID = ?", (product_id,))
    if not rows:
        raise ApiError("Not found")
    call.return_rows(1)
    return _product(rows[0], [n for n, _, _, _ in _PRODUCT_FIELDS], call)
