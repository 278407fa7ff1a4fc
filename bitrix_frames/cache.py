"""Parquet cache of typed frames with incremental refresh, and ``export``.

* ``write_parquet`` / ``read_parquet`` store a frame in the dataset's Arrow schema
  (:mod:`bitrix_frames.schema.to_arrow`: nullable ints, ``timestamp[us, UTC]``, ``date32``,
  dictionary-encoded stages, ``list<...>`` and ``list<struct<...>>``, titles and labels in the field
  metadata), which plain pandas, DuckDB and Polars read with real types; ``read_parquet`` gives back
  the identical frame, ``attrs`` included. Only the masked portal URL is ever written; the file
  name is a hash.
* ``refresh_frame`` fetches rows whose modified date (``DATE_MODIFY``; tasks ``CHANGED_DATE``) is
  ``>=`` the newest one in the frame minus ``overlap`` (5 minutes: same-second writes and small clock
  steps on the portal) and merges them. The merged frame is a superset of the portal's matching
  rows (every one is unchanged, so cached, or was just fetched); the rows deleted or moved out of
  the filter are found by ID-range counts (:mod:`bitrix_frames.deletions`): the first 20 ride in
  the changed rows' request, and only ranges whose counts fall short are narrowed down, so the
  requests grow with the number of deletions, not with the table. Lists without ID keyset paging
  fall back to one COUNT and, when it differs, an ID-only listing. Rows that appear while
  refreshing make it start over (twice at most, then a full load). Entities without a modified
  date (users) are reloaded in full. Append-only lists (stage history) fetch the rows above the
  frame's largest ID plus one COUNT in the same request; the ID list is read only when the count
  shows rows went away (their record was deleted).
* ``cached_load`` = read the cache if present and refresh it, else load in full; then write.

Example::

    deals = cached_load(client, "deal")      # full load, written under paths.cache_dir()/frames
    deals = cached_load(client, "deal")      # only changes fetched
    export(client, "lead", "leads.parquet")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import deletions
from .entities import entity as _entity
from .frames import load, load_with
from .paths import cache_dir
from .schema.specs import STRING_DTYPE
from .schema.to_arrow import META_KEY, frame_to_table, json_default, table_to_frame

__all__ = ["cache_path", "cached_load", "export", "read_parquet", "refresh_frame", "write_parquet"]

DEFAULT_OVERLAP = dt.timedelta(minutes=5)
FIRST_PROBES = 20
"""ID-range counts sent with the changed rows (the rest of that request reads 27 pages of them)."""
REFRESH_ATTEMPTS = 3


def _object_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].dtype == object]


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a typed frame to Parquet atomically, in the dataset's Arrow schema.

    Plain ``pd.read_parquet``, pyarrow, DuckDB and Polars read the file with real types (see
    :mod:`bitrix_frames.schema.to_arrow`); :func:`read_parquet` gives back the identical frame.

    Example::

        >>> write_parquet(deals, "deals.parquet")
        PosixPath('deals.parquet')
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    table = frame_to_table(df)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def _restore_strings(df: pd.DataFrame) -> pd.DataFrame:
    """``string`` columns back to pyarrow storage (files of format 1).

    pandas 2.2 rebuilds the ``string`` dtype named in the Parquet pandas metadata with Python
    storage; the frames never hold Python-storage strings, so any such column came from there.
    """
    for col in df.columns:
        dtype = df[col].dtype
        if (
            isinstance(dtype, pd.StringDtype)
            and dtype.storage == "python"
            and dtype != STRING_DTYPE
        ):
            df[col] = df[col].astype(STRING_DTYPE)
    return df


def _read_format1(table: pa.Table, extra: dict) -> pd.DataFrame:
    """Files written before the Arrow schema (JSON text lists, categories in our metadata)."""
    df = _restore_strings(table.to_pandas())
    for col in extra.get("json_columns", []):
        if col in df.columns:
            df[col] = pd.Series(
                [None if v is None or v is pd.NA else json.loads(v) for v in df[col].tolist()],
                index=df.index,
                dtype=object,
            )
    for col, cats in (extra.get("categories") or {}).items():
        if col in df.columns:
            values = (
                df[col].astype(object)
                if isinstance(df[col].dtype, pd.CategoricalDtype)
                else df[col]
            )
            df[col] = pd.Categorical(values, categories=pd.Index(cats) if cats else None)
    if df.index.dtype.kind in "iu":  # pyarrow restores a nullable Int64 index as int64
        df.index = df.index.astype("Int64")
    df.attrs = extra.get("attrs") or {}
    return df


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a frame written by :func:`write_parquet`, or a partitioned export directory
    (:func:`bitrix_frames.export.export`), with every dtype, category and ``attrs`` restored.

    Example::

        >>> read_parquet("deals.parquet").equals(deals)
        True
    """
    path = Path(path).expanduser()
    if path.is_dir():
        from .datasets import read_dataset

        return read_dataset(path)
    table = pq.read_table(path)
    extra = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
    if extra.get("format") is None:
        return _read_format1(table, extra)
    return table_to_frame(table)


def _url_key(client: Any) -> str:
    webhook = getattr(client, "webhook", None)
    secret_url = getattr(webhook, "base_url", None) or client.masked_url
    return hashlib.sha256(secret_url.encode()).hexdigest()[:16]


def cache_path(
    client: Any,
    entity: str,
    directory: str | Path,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
) -> Path:
    """``<directory>/<entity>-<hash>.parquet``; the hash covers the webhook URL, filter and select
    (the URL is hashed, never stored)."""
    ent = _entity(entity)
    spec = json.dumps(
        [filter or {}, list(select) if select is not None else None],
        sort_keys=True,
        default=json_default,
    )
    digest = hashlib.sha256((_url_key(client) + spec).encode()).hexdigest()[:16]
    return Path(directory).expanduser() / f"{ent.name}-{digest}.parquet"


def _align_categories(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Give categorical columns of both frames the same categories (a's order first), so concat
    keeps them categorical."""
    for col in a.columns:
        if col in b.columns and isinstance(a[col].dtype, pd.CategoricalDtype):
            ca, cb = (
                a[col].cat.categories,
                b[col].cat.categories if isinstance(b[col].dtype, pd.CategoricalDtype) else None,
            )
            if cb is None or ca.equals(cb):
                continue
            union = pd.Index([*ca, *(c for c in cb if c not in set(ca))])
            a = a.assign(**{col: a[col].cat.set_categories(union)})
            b = b.assign(**{col: b[col].cat.set_categories(union)})
    return a, b


def _count_command(method: str, filter: Mapping[str, Any]) -> tuple[str, dict]:
    """One page with ``start=0``: its ``total`` is the number of matching rows."""
    return (method, {"filter": dict(filter), "select": ["ID"], "start": 0})


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def refresh_frame(
    client: Any, df: pd.DataFrame, *, overlap: dt.timedelta = DEFAULT_OVERLAP
) -> pd.DataFrame:
    """Bring a loaded (or cached) frame up to date fetching only what changed (see module doc).

    Example::

        >>> deals = refresh_frame(client, deals)
    """
    meta = df.attrs.get("bitrix") or {}
    ent = _entity(meta["entity"])
    mod = ent.modified_field
    base_filter = dict(meta.get("filter") or {})
    select, order = meta.get("select"), meta.get("order")
    if ent.append_only and len(df):
        return _refresh_appended(client, df, ent, base_filter)
    if mod is None or mod not in df.columns or df[mod].isna().all():
        return load(client, ent, filter=base_filter, select=select, order=order)
    for _ in range(REFRESH_ATTEMPTS):
        try:
            return _refresh_once(client, df, ent, base_filter, overlap)
        except deletions.RowsAppeared:
            continue  # a row was created or moved in while refreshing: fetch the changes again
    return load(client, ent, filter=base_filter, select=select, order=order)


def _refresh_once(
    client: Any, df: pd.DataFrame, ent: Any, base_filter: dict, overlap: dt.timedelta
) -> pd.DataFrame:
    meta = df.attrs["bitrix"]
    mod = ent.modified_field
    since = df[mod].max() - overlap
    key = f">={mod}"
    if key in base_filter:  # the caller's own lower bound stays in force
        since = max(since, _utc(base_filter[key]))
    method = ent.list_method
    probes = deletions.shape_of(method) is not None
    wire = ent.wire({"filter": base_filter})  # the probes' filter as sent (crm.item: camelCase)
    wire_filter, fixed = wire.pop("filter"), wire
    # The deletion check rides in the changed rows' request: ID-range counts, or one COUNT.
    companions = (
        deletions.first_probes(method, wire_filter, df.index, FIRST_PROBES, fixed)
        if probes
        else {"n": _count_command(method, base_filter)}
    )
    changed, side = load_with(
        client,
        ent,
        companions,
        filter={**base_filter, key: since.isoformat()},
        select=meta.get("select"),
        order=meta.get("order"),
    )
    old, new = _align_categories(df.drop(index=changed.index, errors="ignore"), changed)
    merged = pd.concat([old, new[old.columns]]) if len(new) else old
    if probes:
        gone = deletions.find_gone(client, method, wire_filter, merged.index, side, fixed)
        if gone:
            merged = merged[~merged.index.isin(list(gone))]
    else:
        side["n"]  # raises the COUNT's own error, if it failed
        total = side.total.get("n")
        if total is None or total != len(merged):
            ids = client.list(method, filter=base_filter or None, select=["ID"])
            alive = pd.Index([int(r.get("ID", r.get("id"))) for r in ids], dtype="Int64")
            merged = merged[merged.index.isin(alive)]
    merged = merged.sort_index()
    merged.attrs = {"bitrix": {**changed.attrs["bitrix"], "filter": base_filter}}
    return merged


def _refresh_appended(client: Any, df: pd.DataFrame, ent: Any, base_filter: dict) -> pd.DataFrame:
    """An append-only list (stage history): the rows above the frame's largest ID, and in the
    same request one COUNT; only when the count says rows went away (their record was deleted) is
    the ID list read to drop them."""
    meta = df.attrs["bitrix"]
    key = f">{ent.id_field}"
    after = int(df.index.max())
    if key in base_filter:  # the caller's own lower bound stays in force
        after = max(after, int(base_filter[key]))
    method = ent.list_method
    count = (method, ent.wire(_count_command(method, base_filter)[1]))
    new, side = load_with(
        client,
        ent,
        {"n": count},
        filter={**base_filter, key: after},
        select=meta.get("select"),
        order=meta.get("order"),
    )
    old, new = _align_categories(df, new.drop(index=df.index, errors="ignore"))
    merged = pd.concat([old, new[old.columns]]) if len(new) else old
    side["n"]  # raises the COUNT's own error, if it failed
    if side.total.get("n") != len(merged):
        ids = client.list(
            method,
            filter=base_filter or None,
            select=[ent.id_field],
            params=ent.params or None,
        )
        alive = pd.Index([int(r[ent.id_field]) for r in ids], dtype="Int64")
        merged = merged[merged.index.isin(alive)]
    merged = merged.sort_index()
    merged.attrs = {"bitrix": {**new.attrs.get("bitrix", meta), "filter": base_filter}}
    return merged


def cached_load(
    client: Any,
    entity: str,
    path: str | Path | None = None,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
    *,
    refresh: bool = True,
    overlap: dt.timedelta = DEFAULT_OVERLAP,
) -> pd.DataFrame:
    """Load ``entity`` through a Parquet cache: ``path`` is a ``.parquet`` file or a directory
    (file name from :func:`cache_path`); None is ``frames/`` in :func:`bitrix_frames.paths.cache_dir`
    (``$BITRIX_FRAMES_CACHE``, else the platform's user cache directory). A present cache is refreshed incrementally (unless
    ``refresh=False``) and written back; a missing one is filled by a full load.

    Example::

        >>> deals = cached_load(client, "deal", ".cache", filter={"CATEGORY_ID": 0})
    """
    target = Path(path).expanduser() if path is not None else cache_dir() / "frames"
    if target.suffix != ".parquet":
        target = cache_path(client, entity, target, filter, select)
    if target.exists():
        df = read_parquet(target)
        if not refresh:
            return df
        df = refresh_frame(client, df, overlap=overlap)
    else:
        df = load(client, entity, filter=filter, select=select, order=order)
    write_parquet(df, target)
    return df


def export(client: Any, entity: str, out_path: str | Path, **load_kw: Any) -> Path:
    """``bitrix-frames export ENTITY --out FILE.parquet|csv|xlsx``: stream one entity to a file
    (see :func:`bitrix_frames.datasets.export`; ``partition_by=COL`` writes a directory).

    Parquet keeps dtypes and metadata; CSV gets codes as text, list columns as JSON; xlsx labels.

    Example::

        >>> export(client, "deal", "deals.csv")
        PosixPath('deals.csv')
    """
    from .datasets import export as stream_export

    out = Path(out_path).expanduser()
    stream_export(client, entity, out, **load_kw)
    return out
