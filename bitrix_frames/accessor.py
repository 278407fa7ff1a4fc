"""The ``df.bitrix`` accessor: entity, field specs, labels and refresh of a loaded frame.

Everything it knows comes from ``df.attrs["bitrix"]`` (set by the loaders, kept by the Parquet
cache), so it works offline and after a round trip through Parquet.

Example::

    deals = portal.deals()
    deals.bitrix.entity                      # 'deal'
    deals.bitrix.labels()                    # stage/source/user... columns as human labels
    deals.bitrix.label("STAGE_ID")           # one labelled Series
    deals.bitrix.codes("STAGE_ID", ["General: Won"])   # labels -> codes
    deals = deals.bitrix.refresh()           # same filter/select, fresh data
    deals.bitrix.titles()                    # columns named as users see them ("Priority")
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .cache import refresh_frame
from .contract import BitrixClient
from .errors import ValidationError
from .frames import client_for, load, specs_frame
from .schema.labels import code_for, label_map, label_series, labelled_frame
from .schema.specs import ColumnSpec, spec_from_dict
from .writeback import plan as plan_write

__all__ = ["BitrixAccessor"]


@pd.api.extensions.register_dataframe_accessor("bitrix")
class BitrixAccessor:
    """Bitrix24 metadata and helpers of a frame made by :func:`bitrix_frames.frames.load`."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    @property
    def meta(self) -> dict[str, Any]:
        """``df.attrs["bitrix"]`` (raises if the frame was not loaded by bitrix_frames)."""
        meta = self._df.attrs.get("bitrix")
        if not isinstance(meta, dict):
            raise ValidationError("this DataFrame carries no Bitrix24 metadata (attrs['bitrix'])")
        return meta

    @property
    def entity(self) -> str:
        """``lead``, ``deal``, ``contact``, ``company``, ``task`` or ``user``."""
        return self.meta["entity"]

    @property
    def portal(self) -> str:
        """Masked webhook URL of the portal the frame came from."""
        return self.meta.get("portal", "")

    @property
    def filter(self) -> dict[str, Any]:
        """The (encoded) filter the frame was loaded with."""
        return dict(self.meta.get("filter") or {})

    @property
    def select(self) -> list[str] | None:
        return self.meta.get("select")

    @property
    def specs(self) -> dict[str, ColumnSpec]:
        """Column name -> :class:`~bitrix_frames.schema.ColumnSpec` of the frame's columns."""
        return {name: spec_from_dict(d) for name, d in (self.meta.get("fields") or {}).items()}

    @property
    def fields(self) -> pd.DataFrame:
        """Field metadata of the frame's columns, one row per column (as ``portal.fields``)."""
        return specs_frame(self.specs.values())

    def _spec(self, column: str) -> ColumnSpec:
        try:
            return self.specs[column]
        except KeyError:
            raise ValidationError(f"no metadata for column {column!r}") from None

    def title_map(self) -> dict[str, str]:
        """Column code -> the field's title as users see it (for user fields their label, not
        the ``UF_CRM_1684312345678`` code); a title two columns share gets the code appended.

        Example::

            >>> deals.bitrix.title_map()["UF_CRM_1684312345678"]
            'Priority'
        """
        fields = self.meta.get("fields") or {}
        titles = {c: str((fields.get(c) or {}).get("title") or c) for c in self._df.columns}
        seen: dict[str, int] = {}
        for title in titles.values():
            seen[title] = seen.get(title, 0) + 1
        taken = set(self._df.columns)
        return {
            code: (
                title
                if seen[title] == 1 and (title == code or title not in taken)
                else f"{title} ({code})"
            )
            for code, title in titles.items()
        }

    def titles(self, *, reverse: bool = False) -> pd.DataFrame:
        """A copy with columns renamed from field codes to titles (``reverse=True``: back to
        codes). The metadata stays, so labels, refresh and write-back still work after
        ``reverse``.

        Example::

            >>> deals.bitrix.titles()[["Title", "Priority"]].head(1)
            >>> deals.bitrix.titles().bitrix.titles(reverse=True).equals(deals)
            True
        """
        titled = self.meta.get("titled")
        if reverse:
            if not titled:
                return self._df.copy()
            out = self._df.rename(columns={t: c for c, t in titled.items()})
            out.attrs["bitrix"] = {k: v for k, v in self.meta.items() if k != "titled"}
            return out
        if titled:
            return self._df.copy()
        mapping = self.title_map()
        out = self._df.rename(columns=mapping)
        out.attrs["bitrix"] = {**self.meta, "titled": mapping}
        return out

    def label(self, column: str) -> pd.Series:
        """One column with human labels (categorical of names in code order).

        Example::

            >>> deals.bitrix.label("ASSIGNED_BY_ID").iloc[0]
            'Anna Petrova'
        """
        return label_series(self._df[column], self._spec(column))

    def labels(self) -> pd.DataFrame:
        """A copy where every labelled column (stages, statuses, sources, pipelines, enums,
        currencies, users) shows labels instead of codes; other columns are unchanged."""
        return labelled_frame(self._df, self.specs)

    def label_map(self, column: str) -> dict[str, Any]:
        """Label -> code of one column (the inverse of :meth:`label`)."""
        return label_map(self._spec(column))

    def codes(self, column: str, values: Any, pipeline: Any = None) -> Any:
        """Labels (or codes) -> API codes for ``column``; a list in, a list out.

        ``pipeline`` (deal CATEGORY_ID) resolves plain stage names. Unknown labels raise
        :class:`~bitrix_frames.schema.LabelError`.
        """
        spec = self._spec(column)
        if isinstance(values, (list, tuple, pd.Series, pd.Index)):
            return [code_for(spec, v, pipeline=pipeline) for v in values]
        return code_for(spec, values, pipeline=pipeline)

    def refresh(
        self, client: BitrixClient | None = None, *, incremental: bool = False
    ) -> pd.DataFrame:
        """Reload with the same filter/select/order (``incremental``: only changed rows, see
        :func:`bitrix_frames.cache.refresh_frame`). ``client`` defaults to the Client that loaded
        the frame, if it is still alive."""
        meta = self.meta
        client = client or client_for(meta.get("portal", ""))
        if client is None:
            raise ValidationError("refresh needs a client: df.bitrix.refresh(client)")
        if incremental:
            return refresh_frame(client, self._df)
        return load(
            client,
            meta["entity"],
            filter=meta.get("filter"),
            select=meta.get("select"),
            order=meta.get("order"),
        )

    def plan(self, after: pd.DataFrame, *, client: BitrixClient | None = None, **kw: Any) -> Any:
        """Diff this frame against ``after`` into a write-back :class:`~bitrix_frames.writeback.Plan`
        (nothing is sent until ``.apply()``): ``deals.bitrix.plan(edited).apply()``. ``client``
        defaults to the Client that loaded the frame; other keywords go to
        :func:`bitrix_frames.writeback.plan` (``allow_deletes`` ...)."""
        client = client or client_for(self.meta.get("portal", ""))
        if client is None:
            raise ValidationError("plan needs a client: df.bitrix.plan(after, client=...)")
        before = self.titles(reverse=True)
        if isinstance(after.attrs.get("bitrix"), dict) and after.attrs["bitrix"].get("titled"):
            after = after.bitrix.titles(reverse=True)
        return plan_write(client, before, after, **kw)
