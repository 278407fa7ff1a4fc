"""``connect()`` and the :class:`Portal` facade: the one object a notebook user holds.

The Portal owns a :class:`~bitrix_frames.client.Client` (HTTP, throttle, retries, list paging) and
delegates to the frames layer for typed loaders and to the write-back layer for plans.

Example::

    import bitrix_frames as bf
    portal = bf.connect()                                  # BITRIX_WEBHOOK_URL or .env
    deals = portal.deals(filter={">OPPORTUNITY": 1000})
    plan = portal.plan(deals, edited)                      # nothing sent yet
    report = plan.apply()
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import accessor as _accessor  # noqa: F401  (registers df.bitrix for every Portal user)
from .batch import BatchResult, Command
from .client import Client
from .errors import ValidationError

if TYPE_CHECKING:
    from .writeback import Plan

LIMIT_COLUMNS = ["kind", "method", "used", "limit", "unit", "reset_at", "wait"]
"""The columns of :meth:`Portal.limits`."""


def connect(url: str | None = None, **options: Any) -> Portal:
    """Connect to a portal through its incoming webhook.

    ``url=None`` reads ``BITRIX_WEBHOOK_URL`` from the environment (or a ``.env`` file). Options go
    to :class:`~bitrix_frames.client.Client` (``rate``, ``burst``, ``timeout``, ``max_workers``,
    ``deadline``, ``max_response_bytes``, ``max_decoded_bytes``, ``verify``, ``proxies`` ...);
    ``verify`` and ``proxies`` default to the standard environment variables
    (``REQUESTS_CA_BUNDLE``, ``HTTPS_PROXY``, ``NO_PROXY`` ...; see docs/loading.md).
    The ``rate`` and ``burst`` given here are the ones used, whatever an earlier ``connect()`` to
    the same portal was given; open connections to one portal only share the bucket's level (what
    the portal has counted), see :meth:`Portal.limits`.

    Example::

        >>> portal = connect("https://x.bitrix24.com/rest/1/s3cr3t/")
        >>> portal
        Portal('https://x.bitrix24.com/rest/1/***/')
    """
    return Portal(Client.from_url(url, **options))


class Portal:
    """A Bitrix24 portal seen through one webhook: typed loaders, raw calls and write-back."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"Portal({self.client.masked_url!r})"

    @property
    def masked_url(self) -> str:
        """The webhook URL with its secret replaced by ``***``."""
        return self.client.masked_url

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- limits ------------------------------------------------------------------------------
    def limits(self) -> pd.DataFrame:
        """Where this connection stands against the portal's limits, one row per limit.

        Columns: ``kind`` (``request rate`` or ``operating time``), ``method`` (``*`` for the
        request-rate bucket), ``used`` (requests in the portal's counter as estimated here /
        operating seconds of the method in the rolling ten minutes), ``limit`` (the burst / the
        operating limit), ``unit`` (``requests`` / ``seconds``), ``reset_at`` (UTC: when the bucket
        is empty if nothing more is sent / when the method's oldest operating minute expires, NaT
        when the portal did not say), ``wait`` (seconds the next call would pause now).
        ``attrs`` holds this connection's ``rate`` and ``burst``.

        Example::

            >>> portal.limits()                                     # doctest: +SKIP
                         kind         method  used  limit      unit                  reset_at  wait
            0    request rate              *   3.0   50.0  requests  2026-12-01 23:40:02+00:00   0.0
            1  operating time  crm.deal.list   1.2  480.0   seconds  2026-12-01 23:49:40+00:00   0.0
        """
        frame = pd.DataFrame(self.client.limits(), columns=LIMIT_COLUMNS)
        frame["reset_at"] = pd.to_datetime(frame["reset_at"], unit="s", utc=True).dt.round("s")
        frame.attrs.update(rate=self.client.rate, burst=self.client.burst)
        return frame

    # -- raw escape hatches ------------------------------------------------------------------
    def call(self, method: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        """Call any REST method and return its ``result``: ``portal.call("crm.lead.get", id=5)``."""
        return self.client.call(method, params, **kw)

    def batch(
        self, commands: Mapping[str, Command] | list[Command], *, halt: bool = False
    ) -> BatchResult:
        """Run ``{"name": (method, params)}`` commands through ``batch`` (any number, 50 per request)."""
        return self.client.batch(commands, halt=halt)

    def list(self, method: str, **kw: Any) -> builtins.list[dict]:
        """Every row of a list method as plain dicts (see :meth:`Client.list`)."""
        return self.client.list(method, **kw)

    def download(self, frame: pd.DataFrame, row: Any, column: str) -> bytes | builtins.list[bytes]:
        """The file(s) in ``frame.loc[row, column]`` of a loaded frame (a ``file`` field).

        File columns hold file ids; the URL is the documented ``downloadUrl`` of the core
        (``/bitrix/components/bitrix/crm.<entity>.show/show_file.php?...``).

        Example::

            contacts = portal.contacts(select=["*", "PHOTO"])
            png = portal.download(contacts, 12, "PHOTO")
        """
        from .files import file_urls

        urls = file_urls(frame, row, column)
        data = [self.client.download(u) for u in urls]
        return data if isinstance(frame.loc[row, column], list) else (data[0] if data else b"")

    # -- typed loaders ---------------------------------------------------------------------
    def load(self, entity: str, **kw: Any) -> pd.DataFrame:
        """A typed DataFrame of ``entity`` (lead, deal, contact, company, task, user), indexed by ID."""
        from . import frames

        return frames.load(self.client, entity, **kw)

    def leads(self, **kw: Any) -> pd.DataFrame:
        """Leads as a typed DataFrame: ``portal.leads(filter={"STATUS_ID": "NEW"})``."""
        return self.load("lead", **kw)

    def deals(self, **kw: Any) -> pd.DataFrame:
        """Deals as a typed DataFrame: ``portal.deals(filter={">OPPORTUNITY": 1000})``."""
        return self.load("deal", **kw)

    def contacts(self, **kw: Any) -> pd.DataFrame:
        """Contacts (phones and e-mails kept) as a typed DataFrame."""
        return self.load("contact", **kw)

    def companies(self, **kw: Any) -> pd.DataFrame:
        """Companies as a typed DataFrame."""
        return self.load("company", **kw)

    def tasks(self, **kw: Any) -> pd.DataFrame:
        """Tasks as a typed DataFrame with UPPER_SNAKE columns like the CRM frames."""
        return self.load("task", **kw)

    def users(self, **kw: Any) -> pd.DataFrame:
        """Users as a typed DataFrame."""
        return self.load("user", **kw)

    def stage_history(self, entity: str = "deal", **kw: Any) -> pd.DataFrame:
        """Every stage move of deals (or ``"lead"`` statuses) from ``crm.stagehistory.list``,
        one row per entry, indexed by the entry ``ID``.

        Columns (deal): ``TYPE_ID`` (1 created, 2 moved to a working stage, 3 moved to a final
        stage, 5 moved to another pipeline), ``OWNER_ID`` (the deal), ``CREATED_TIME`` (UTC: when
        it entered the stage), ``CATEGORY_ID`` (pipeline), ``STAGE_SEMANTIC_ID`` (``P``/``S``/``F``,
        labels process/success/fail) and ``STAGE_ID`` (stage codes in pipeline order, labels as
        in the deal frame). Leads: ``STATUS_SEMANTIC_ID`` and ``STATUS_ID``, no pipeline. Rows
        come in ID order; sort by ``OWNER_ID``, ``CREATED_TIME`` for per-record paths.

        Example::

            history = portal.stage_history("deal", filter={">=CREATED_TIME": "2026-01-01"})
            history.bitrix.labels()["STAGE_ID"].value_counts()
        """
        kind = str(entity).strip().lower()
        if kind not in ("deal", "lead"):
            raise ValidationError(f"stage_history() reads 'deal' or 'lead', not {entity!r}")
        return self.load(f"{kind}_stage_history", **kw)

    def deal_contacts(self, filter: Mapping[str, Any] | None = None, **kw: Any) -> pd.DataFrame:
        """Deal <-> contact bindings, one row per pair: ``DEAL_ID``, ``CONTACT_ID``,
        ``IS_PRIMARY`` and ``POSITION`` (place in the deal's SORT order), read through
        ``crm.item.list`` at 2,500 deals per request; ``sort=True`` gives the portal's ``SORT``
        numbers instead (``crm.deal.contact.items.get``, 50 deals per request).

        Example::

            pairs = portal.deal_contacts()
            pairs.groupby("DEAL_ID").size().describe()      # contacts per deal
        """
        from .links import deal_contacts

        return deal_contacts(self.client, filter, **kw)

    def activities(self, **kw: Any) -> pd.DataFrame:
        """CRM activities (calls, e-mails, meetings, tasks) as a typed DataFrame:
        ``portal.activities(filter={"OWNER_TYPE_ID": 2, "COMPLETED": False})``."""
        return self.load("activity", **kw)

    def product_rows(
        self,
        owner: str = "deal",
        owner_ids: Any = None,
        filter: Mapping[str, Any] | None = None,
        *,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Product rows of every ``owner`` record (``deal``, ``lead``, ``contact``, ``company``)
        or of ``owner_ids``, indexed by row ID: ``portal.product_rows("deal", owner_ids=[5, 9])``.
        Owners travel as arrays, many per command: about (owners + rows) / 2,500 requests."""
        from .product_rows import load_product_rows

        return load_product_rows(self.client, owner, owner_ids, filter, progress=progress)

    def smart_processes(self, **kw: Any) -> pd.DataFrame:
        """The portal's smart processes (``crm.type.list``), one row per type, index ``ID``;
        ``ENTITY_TYPE_ID`` is what :meth:`items` takes."""
        from .items import smart_processes

        return smart_processes(self.client, **kw)

    def items(self, entity_type_id_or_title: int | str, **kw: Any) -> pd.DataFrame:
        """Items of a smart process (``crm.item.list``) as a typed DataFrame indexed by ``ID``:
        columns are the fields' ``upperName`` (``STAGE_ID``, ``UF_CRM_7_1721812653715``), the
        stage a categorical in pipeline order with labels. Takes an entityTypeId (1-4: leads,
        deals, contacts, companies through the universal API) or a title; write back with
        :meth:`plan`. ``portal.items("Contracts", filter={"STAGE_ID": "DT1038_12:NEW"})``."""
        from . import frames
        from .items import item_entity_for

        return frames.load(self.client, item_entity_for(self.client, entity_type_id_or_title), **kw)

    # -- metadata ----------------------------------------------------------------------------
    def fields(self, entity: str) -> pd.DataFrame:
        """Field metadata of ``entity``, one row per field: ``portal.fields("deal")``."""
        from . import frames

        return frames.fields_frame(self.client, entity)

    def stages(self) -> pd.DataFrame:
        """Deal stages of every pipeline, in pipeline and stage SORT order."""
        from . import frames

        return frames.stages(self.client)

    def pipelines(self) -> pd.DataFrame:
        """Deal pipelines (categories)."""
        from . import frames

        return frames.pipelines(self.client)

    def statuses(self, entity_id: str | None = None) -> pd.DataFrame:
        """``crm.status.list`` dictionaries (lead statuses, sources, deal types ...)."""
        from . import frames

        return (
            frames.statuses(self.client)
            if entity_id is None
            else frames.statuses(self.client, entity_id)
        )

    # -- write-back ----------------------------------------------------------------------------
    def plan(self, before: pd.DataFrame, after: pd.DataFrame, **kw: Any) -> Plan:
        """Diff two frames into validated adds, updates and deletes; nothing is sent until
        ``.apply()``: ``portal.plan(deals, edited, allow_deletes=False)``."""
        from .writeback import plan

        return plan(self.client, before, after, **kw)
