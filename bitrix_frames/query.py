"""The query of a list read as one value: :class:`ListQuery` (filter, select, order, params).

The public API keeps its keywords (``client.list(method, filter=..., select=...)``); below it the
four travel together, checked once.

Example::

    q = ListQuery.checked("crm.deal.list", filter={"CLOSED": "N"}, select=["ID", "TITLE"])
    q.filter, q.select, q.order, q.params      # ({'CLOSED': 'N'}, ['ID', 'TITLE'], None, {})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ValidationError

__all__ = ["ListQuery"]

_OWN_KEYS = ("filter", "select", "order", "start")


@dataclass(frozen=True)
class ListQuery:
    """What a list method is asked: ``filter``, ``select`` (None = the method's default),
    ``order`` (None = unordered) and any other ``params`` of the method."""

    filter: dict[str, Any] = field(default_factory=dict)
    select: list[str] | None = None
    order: dict[str, str] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def checked(
        cls,
        method: str,
        *,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | None = None,
        order: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> ListQuery:
        """The query of ``method`` from caller arguments; a clear
        :class:`~bitrix_frames.errors.ValidationError` for a wrong shape."""
        for name, value in (("filter", filter), ("order", order), ("params", params)):
            if value is not None and not isinstance(value, Mapping):
                raise ValidationError(
                    f"{name} must be a dict, not {type(value).__name__}", method=method
                )
        clash = [k for k in params or {} if str(k).lower() in _OWN_KEYS]
        if clash:
            raise ValidationError(
                f"pass {', '.join(map(str, clash))} as arguments of list(), not inside params",
                method=method,
            )
        if select is not None and (isinstance(select, str) or not isinstance(select, list | tuple)):
            raise ValidationError("select must be a list of field names", method=method)
        return cls(
            filter=dict(filter or {}),
            select=list(select) if select else None,
            order=dict(order) if order else None,
            params=dict(params or {}),
        )
