"""Portal metadata fetched once per Client and kept in memory: fields, statuses, pipelines,
currencies, user-field enums and user names.

The first request for an entity's specs sends one ``batch`` (fields method, ``crm.status.list``,
``crm.category.list``, ``crm.currency.list``, ``crm.X.userfield.list`` and the first ``user.get``
page for the user-name labels; the other pages follow only on portals with more than 50 users);
later loads send nothing. ``forget(client)`` drops the cache.

Example::

    meta = metadata(client)
    specs = meta.specs("deal")          # {column: ColumnSpec}
    meta.statuses()[:1]                 # raw crm.status.list rows
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from .contract import BitrixClient
from .entities import Entity
from .entities import entity as _entity
from .envelope import show
from .errors import MalformedResponse
from .paging import row_id, unwrap
from .schema.specs import ColumnSpec, Dictionaries, build_specs

__all__ = ["PortalMetadata", "forget", "metadata", "user_name"]


def user_name(row: dict[str, Any]) -> str:
    """Display name of a ``user.get`` row: ``NAME LAST_NAME``, else e-mail, else ``#id``."""
    name = " ".join(str(row.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()
    return name or str(row.get("EMAIL") or "").strip() or f"#{row.get('ID')}"


class PortalMetadata:
    """Lazily fetched, cached metadata of one portal (one Client)."""

    def __init__(self, client: BitrixClient) -> None:
        self._client = weakref.ref(client) if _weakrefable(client) else (lambda c=client: c)
        self._lock = threading.RLock()
        self._fields: dict[str, dict] = {}
        self._userfields: dict[str, list[dict]] = {}
        self._specs: dict[str, dict[str, ColumnSpec]] = {}
        self._statuses: list[dict] | None = None
        self._pipelines: dict[int, list[dict]] = {}  # by entityTypeId
        self._currencies: list[dict] | None = None
        self._users: dict[int, str] | None = None

    @property
    def client(self) -> Any:
        client = self._client()
        if client is None:
            raise RuntimeError("the Client of this metadata cache was garbage-collected")
        return client

    # -- fetching -----------------------------------------------------------------------------
    def prefetch_commands(self, entity: str | Entity) -> dict[str, tuple[str, dict]]:
        """The batch commands that fetch what ``entity``'s specs still need (``{}``: nothing).

        A caller that sends them beside its own commands (``client.list_with``) hands the
        result to :meth:`absorb`; :meth:`specs` then sends nothing.
        """
        ent = _entity(entity)
        crm = ent.entity_type_id is not None
        commands: dict[str, tuple[str, dict]] = {}
        with self._lock:
            if ent.name not in self._fields and ent.fields_method is None:
                self._fields[ent.name] = dict(ent.static_fields)
            if ent.name not in self._fields and ent.fields_method is not None:
                commands["fields"] = (ent.fields_method, ent.params)
            if crm and self._statuses is None:
                commands["statuses"] = ("crm.status.list", {"order": {"SORT": "ASC"}})
            if crm and ent.pipelines_of not in self._pipelines:
                commands["pipelines"] = ("crm.category.list", {"entityTypeId": ent.pipelines_of})
            if crm and self._currencies is None:
                commands["currencies"] = ("crm.currency.list", {"order": {"SORT": "ASC"}})
            if ent.userfield_method and ent.name not in self._userfields:
                commands["userfields"] = (ent.userfield_method, {})
            if commands and self._users is None and _needs_users(ent):
                commands["users"] = ("user.get", {"start": 0})  # the first page rides along
        return commands

    def absorb(self, entity: str | Entity, commands: dict, res: Any) -> None:
        """Keep the results of :meth:`prefetch_commands` (``res``: their ``BatchResult``)."""
        ent = _entity(entity)
        with self._lock:
            if "fields" in commands:
                if "fields" in res.errors:
                    raise res.errors["fields"]
                self._fields[ent.name] = _fields(res.result.get("fields"), commands["fields"][0])
            # A dictionary the webhook may not read (its command failed) is left empty.
            if "statuses" in commands:
                self._statuses = _rows(res, "statuses", commands)
            if "pipelines" in commands:
                got = res.result.get("pipelines")
                got = (
                    got.get("categories") if isinstance(got, dict) and "categories" in got else got
                )
                self._pipelines[ent.pipelines_of] = _rows(res, "pipelines", commands, got)
            if "currencies" in commands:
                self._currencies = _rows(res, "currencies", commands)
            if "userfields" in commands:
                self._userfields[ent.name] = _rows(res, "userfields", commands)
            if "users" in commands and "users" not in res.errors:
                rows = _rows(res, "users", commands)
                if res.total.get("users", len(rows) + 1) <= len(rows):
                    self._users = _user_names(rows)

    def _prefetch(self, ent: Entity) -> None:
        """One batch for everything ``ent`` still needs."""
        commands = self.prefetch_commands(ent)
        if commands:
            self.absorb(ent, commands, self.client.batch(commands))
        if self._users is None and _needs_users(ent):
            self.users()

    def fields(self, entity: str | Entity) -> dict[str, Any]:
        """Raw result of the entity's fields method."""
        ent = _entity(entity)
        with self._lock:
            if ent.name not in self._fields:
                self._prefetch(ent)
            return self._fields[ent.name]

    def statuses(self) -> list[dict]:
        """All ``crm.status.list`` rows (every dictionary, SORT order)."""
        with self._lock:
            if self._statuses is None:
                got = self.client.call("crm.status.list", {"order": {"SORT": "ASC"}})
                self._statuses = unwrap(got, None, "crm.status.list")
            return self._statuses

    def pipelines(self, entity_type_id: int = 2) -> list[dict]:
        """Pipelines of an entity type (``crm.category.list``; default 2 = deals)."""
        with self._lock:
            if entity_type_id not in self._pipelines:
                got = self.client.call("crm.category.list", {"entityTypeId": entity_type_id})
                self._pipelines[entity_type_id] = unwrap(got, "categories", "crm.category.list")
            return self._pipelines[entity_type_id]

    def currencies(self) -> list[dict]:
        """``crm.currency.list`` rows."""
        with self._lock:
            if self._currencies is None:
                got = self.client.call("crm.currency.list", {"order": {"SORT": "ASC"}})
                self._currencies = unwrap(got, None, "crm.currency.list")
            return self._currencies

    def userfields(self, entity: str | Entity) -> list[dict]:
        """``crm.X.userfield.list`` rows of a CRM entity (empty for tasks and users)."""
        ent = _entity(entity)
        with self._lock:
            if ent.userfield_method and ent.name not in self._userfields:
                got = self.client.call(ent.userfield_method, {})
                self._userfields[ent.name] = unwrap(got, None, ent.userfield_method)
            return self._userfields.get(ent.name, [])

    def users(self) -> dict[int, str]:
        """User id -> display name, for every user the webhook may see (active or not)."""
        with self._lock:
            if self._users is None:
                self._users = _user_names(self.client.list("user.get"))
            return self._users

    def dictionaries(self, entity: str | Entity) -> Dictionaries:
        """The dictionaries :func:`~bitrix_frames.schema.build_specs` needs for ``entity``."""
        ent = _entity(entity)
        with self._lock:
            self._prefetch(ent)
            crm = ent.entity_type_id is not None
            return Dictionaries(
                statuses=self.statuses() if crm else [],
                pipelines=self.pipelines(ent.pipelines_of) if crm else [],
                currencies=self.currencies() if crm else [],
                userfields=self.userfields(ent),
                users=self.users() if _needs_users(ent) else {},
            )

    def specs(self, entity: str | Entity) -> dict[str, ColumnSpec]:
        """Column specs of ``entity`` (built once)."""
        ent = _entity(entity)
        with self._lock:
            if ent.name not in self._specs:
                dicts = self.dictionaries(ent)
                self._specs[ent.name] = build_specs(ent, self.fields(ent), dicts)
            return self._specs[ent.name]


_USER_TYPES = ("user", "employee")


def _needs_users(ent: Entity) -> bool:
    """Whether the entity's columns may hold user IDs (their names are labels); an entity typed by
    ``static_fields`` without user fields (stage history) needs no ``user.get`` listing."""
    if ent.fields_method is not None:
        return True
    return any(f.get("type") in _USER_TYPES for f in ent.static_fields.values())


def _user_names(rows: list[dict]) -> dict[int, str]:
    ids = [row_id(r, "ID", "user.get") for r in rows]
    return {i: user_name(r) for i, r in sorted(zip(ids, rows, strict=True), key=_first)}


def _rows(res: Any, name: str, commands: dict, value: Any = None) -> list[dict]:
    """Rows of one prefetch command (PHP renders a 0..n-1 map as an array, other maps as
    objects); [] when the command failed; MalformedResponse when the result holds no rows."""
    if name in res.errors:
        return []
    got = res.result.get(name) if value is None else value
    return unwrap(got, None, commands[name][0])


def _fields(value: Any, method: str) -> dict:
    """A fields method's result: an object of field descriptions (``user.fields``: captions),
    ``[]`` when empty."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict | str) for v in value.values()):
        raise MalformedResponse(
            f"fields result is {show(value)}, not field descriptions", method=method
        )
    return value


def _first(pair: tuple) -> Any:
    return pair[0]


def _weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STRONG: dict[int, PortalMetadata] = {}
_CACHE_LOCK = threading.Lock()


def metadata(client: BitrixClient) -> PortalMetadata:
    """The metadata cache of ``client`` (created on first use, lives as long as the client).

    Example::

        >>> metadata(client) is metadata(client)
        True
    """
    with _CACHE_LOCK:
        if _weakrefable(client):
            meta = _CACHE.get(client)
            if meta is None:
                meta = _CACHE[client] = PortalMetadata(client)
            return meta
        return _STRONG.setdefault(id(client), PortalMetadata(client))


def forget(client: BitrixClient) -> None:
    """Drop the cached metadata of ``client`` (after fields, stages or users changed)."""
    with _CACHE_LOCK:
        if _weakrefable(client):
            _CACHE.pop(client, None)
        else:
            _STRONG.pop(id(client), None)
