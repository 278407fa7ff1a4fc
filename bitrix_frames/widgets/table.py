"""A sortable, searchable, paged table of a frame, formatted by :mod:`bitrix_frames.display`.

The table is an `itables <https://mwouts.github.io/itables/>`_ DataTable in offline mode: the
DataTables bundle travels inside the page (:func:`bundle_html`, once per page), so the table
works without a network and in a saved standalone HTML page. Cells show the formatted text; a
column whose text does not sort like its values (amounts, counts, stages, datetimes) sorts by a
hidden key column holding the values.

Example::

    from bitrix_frames.widgets.table import bundle_html, table_html
    from IPython.display import HTML, display
    display(HTML(bundle_html()), HTML(table_html(deals)))
"""

from __future__ import annotations

import functools
import html
import itertools
from collections.abc import Mapping
from typing import Any

import pandas as pd
from itables import options as itables_options
from itables.javascript import generate_init_offline_itables_html, to_html_datatable

from bitrix_frames.display import column_specs, display_frame, sort_keys
from bitrix_frames.schema.specs import ColumnSpec

__all__ = ["bundle_html", "table_html"]

_IDS = itertools.count(1)
_CSS = (
    "<style>.bf-table td,.bf-table th{white-space:nowrap}"
    ".bf-table td.dt-type-numeric,.bf-table td.bf-num{text-align:right}</style>"
)


@functools.lru_cache(maxsize=1)
def bundle_html() -> str:
    """The DataTables bundle (JS and CSS, ~700 kB) as one HTML snippet; show it once per page.

    Example::

        display(HTML(bundle_html()))
    """
    return generate_init_offline_itables_html(itables_options.dt_bundle) + _CSS


def _with_index(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with a named index (``ID``) as its first column."""
    if df.index.name is None or df.index.name in df.columns:
        return df
    out = df.reset_index()
    out.attrs = df.attrs
    return out


def _plain_key(key: pd.Series) -> Any:
    """A sort key as a plain numpy column, NA lowest: itables passes int and float columns
    through untouched (object columns cost it a pandas formatting pass per cell)."""
    numbers = pd.to_numeric(key, errors="coerce")
    if pd.api.types.is_integer_dtype(numbers.dtype):
        return numbers.astype("Int64").fillna(_NA_INT).astype("int64").to_numpy()
    return numbers.astype("Float64").fillna(_NA_FLOAT).astype("float64").to_numpy()


_NA_INT = -(2**53)  # below any rank or epoch second, still exact in JavaScript
_NA_FLOAT = -1e300


def _is_number(series: pd.Series, spec: ColumnSpec | None) -> bool:
    if spec is not None and spec.kind in ("category", "currency_of", "user", "link", "file"):
        return False
    dtype = series.dtype
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not isinstance(dtype, pd.CategoricalDtype)
    )


def table_html(
    df: pd.DataFrame,
    specs: Mapping[str, ColumnSpec] | None = None,
    *,
    tz: Any = None,
    page_length: int = 10,
    table_id: str | None = None,
) -> str:
    """``df`` as an interactive table: formatted cells, sorting by value, search and paging.

    Needs :func:`bundle_html` somewhere on the page. ``specs`` defaults to the frame's metadata.

    Example::

        HTML(table_html(panel.value, page_length=25))
    """
    specs = dict(column_specs(df) if specs is None else specs)
    frame = _with_index(df)
    shown = display_frame(frame, specs, tz=tz)
    keys = sort_keys(frame, specs)
    data = shown.copy()
    data.columns = [html.escape(str(c)) for c in data.columns]
    column_defs: list[dict[str, Any]] = []
    for i, col in enumerate(frame.columns):
        if _is_number(frame[col], specs.get(col)):
            column_defs.append({"targets": i, "className": "bf-num"})
        if col not in keys:
            continue
        j = len(data.columns)
        data[f"bf-sort-{i}"] = _plain_key(keys[col])
        column_defs.append({"targets": i, "orderData": [j]})
        column_defs.append({"targets": j, "visible": False, "searchable": False})
    return to_html_datatable(
        data,
        connected=False,
        table_id=table_id or f"bf-table-{next(_IDS)}",
        showIndex=False,
        maxBytes=0,
        maxRows=0,
        pageLength=page_length,
        lengthMenu=[10, 25, 50, 100],
        columnDefs=column_defs,
        classes="display compact bf-table",
        order=[],
        allow_html=False,
        format_floats_in_python=False,
        text_in_header_can_be_selected=False,  # a click on a header sorts by it
        warn_on_undocumented_option=False,
    )
