"""Type conversion between Bitrix24 fields and pandas columns, one module per direction.

* :mod:`.specs`     field metadata -> :class:`ColumnSpec` (name, dtype, flags, allowed values)
* :mod:`.to_pandas` API records -> typed DataFrame
* :mod:`.to_api`    column values -> API values (filters, write-back); filter/select checks
* :mod:`.labels`    codes <-> human labels

Example::

    from bitrix_frames.schema import build_specs, to_frame
    specs = build_specs("deal", client.call("crm.deal.fields"), dicts)
    df = to_frame(client.list("crm.deal.list", select=["*", "UF_*"]), specs, "deal")
"""

from __future__ import annotations

from .labels import LabelError, code_for, label_map, label_series
from .specs import ColumnSpec, Dictionaries, build_specs, spec_from_dict
from .to_api import (
    BadValue,
    FilterError,
    SelectError,
    encode_filter,
    encode_select,
    money_to_api,
    record_to_api,
    split_operator,
    value_to_api,
)
from .to_pandas import convert_column, to_frame

__all__ = [
    "BadValue",
    "ColumnSpec",
    "Dictionaries",
    "FilterError",
    "LabelError",
    "SelectError",
    "build_specs",
    "code_for",
    "convert_column",
    "encode_filter",
    "encode_select",
    "label_map",
    "label_series",
    "money_to_api",
    "record_to_api",
    "spec_from_dict",
    "split_operator",
    "to_frame",
    "value_to_api",
]
