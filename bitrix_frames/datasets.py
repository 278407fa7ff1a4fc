"""Streamed exports: pages become Arrow record batches as they arrive, then go straight to disk.

:func:`stream` reads an entity like :func:`~bitrix_frames.frames.load` but never holds every row:
the reading threads hand each response's rows (at most 2,500) to a bounded queue, and the caller's
thread turns each response into Arrow arrays of the dataset's schema as it takes it
(:mod:`bitrix_frames.schema.from_rows`), gathering them into record batches of ``batch_rows``
(default 10,000; Arrow arrays, not row dicts). When the queue is full the readers wait, so about
``(max_workers + 2) x 2,500`` row dicts exist at once, whatever the entity's size;
:attr:`Stream.peak_rows` counts those handed over and not yet converted.

:func:`export` writes one file (``.parquet``, ``.csv``, ``.xlsx`` with labels) or, with
``partition_by``, a hive-partitioned Parquet directory (``DIR/STAGE_ID=WON/part-0.parquet``) plus
``_common_metadata`` holding the full schema. Plain pyarrow, DuckDB
(``read_parquet('DIR/**/*.parquet', hive_partitioning=true)``), Polars and ``pd.read_parquet(DIR)``
read it; :func:`read_dataset` restores the typed frame. Rows are in ID order within each
response, not across them (the ID ranges are read in parallel).

Example::

    export(client, "deal", "deals", partition_by="STAGE_ID")
    df = read_dataset("deals")
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .contract import BitrixClient, PagingClient
from .errors import ValidationError
from .frames import LoadPlan, plan_load
from .schema.labels import labelled_frame
from .schema.specs import spec_from_dict
from .schema.to_arrow import META_KEY, columns_to_frame, table_to_frame

__all__ = ["Stream", "export", "read_dataset", "stream"]

_DONE = object()
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
FLUSH_ROWS = 50_000
"""Rows buffered across partitions before they are written as row groups."""
EXCEL_ROWS = 1_048_575


class _Stopped(Exception):
    """Raised inside the reading threads when the consumer stops early (``limit``)."""


class Stream:
    """Typed chunks of an entity as they arrive: iterate for ``(frame_chunk, record_batch)``.

    ``schema`` is known after the first chunk; ``rows`` counts the rows yielded so far and
    ``peak_rows`` the most rows received from the portal but not yet converted and released.
    """

    def __init__(
        self,
        plan: LoadPlan,
        *,
        limit: int | None,
        progress: bool | None,
        batch_rows: int = 10_000,
    ) -> None:
        self.plan, self.limit, self.progress = plan, limit, progress
        self.batch_rows = max(1, batch_rows)
        self.schema: pa.Schema | None = None
        self._attrs: dict = {}
        self.rows = 0
        self.peak_rows = 0
        self._held = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()

    def _sink(self, rows: list[dict]) -> None:
        if self._stop.is_set():
            raise _Stopped
        with self._lock:
            self._held += len(rows)
            self.peak_rows = max(self.peak_rows, self._held)
        while not self._stop.is_set():
            try:
                self._queue.put(rows, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _read(self) -> None:
        from .paging import list_rows
        from .query import ListQuery

        plan = self.plan
        wire = plan.wire_query()
        query = ListQuery(
            filter=dict(wire["filter"] or {}),
            select=wire["select"],
            order=wire["order"],
            params=dict(wire["params"] or {}),
        )
        try:
            if plan.ent.owner_keys:  # product rows: read per owner group, deals by default
                from .product_rows import read_rows

                read_rows(plan, progress=self.progress, sink=self._sink)
                self._queue.put(_DONE)
                return
            list_rows(
                cast(PagingClient, plan.client),  # the Client; the contract types the frames layer
                plan.ent.list_method,
                query,
                progress=self.progress,
                sink=self._sink,
                shape=plan.ent.keyset,
            )
            self._queue.put(_DONE)
        except _Stopped:
            self._queue.put(_DONE)
        except BaseException as exc:  # handed to the consumer's thread
            self._queue.put(exc)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Record batches of the dataset schema, each of at least ``batch_rows`` rows (fewer at
        the end); every response is converted as soon as it is taken from the queue."""
        reader = threading.Thread(target=self._read, name="bitrix-stream", daemon=True)
        reader.start()
        parts: list[pa.RecordBatch] = []
        held = 0
        yielded = False
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                n = len(item)
                rows = item if self.limit is None else item[: max(0, self.limit - self.rows - held)]
                del item
                if rows:
                    if self.schema is None:
                        self.schema = self.plan.schema(rows)
                    parts.append(self.plan.batch(rows, self.schema))
                    held += len(rows)
                del rows
                with self._lock:
                    self._held -= n
                full = self.limit is not None and self.rows + held >= self.limit
                if parts and (held >= self.batch_rows or full):
                    self.rows += held
                    yield _combine(parts)
                    parts, held, yielded = [], 0, True
                if full:
                    break
            if parts:
                self.rows += held
                yield _combine(parts)
                yielded = True
            if not yielded:  # nothing matched: one empty batch carries the schema
                self.schema = self.plan.schema([])
                yield self.plan.batch([], self.schema)
        finally:
            self._stop.set()
            while reader.is_alive():
                with contextlib.suppress(queue.Empty):
                    self._queue.get(timeout=0.1)
            reader.join()

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, pa.RecordBatch]]:
        for batch in self.batches():
            assert self.schema is not None
            yield columns_to_frame(self.schema, [[c] for c in batch.columns]), batch


def _combine(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    table = pa.Table.from_batches(parts).combine_chunks()  # dictionaries are unified
    return table.to_batches()[0]


def stream(
    client: BitrixClient,
    entity: str,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
    *,
    limit: int | None = None,
    progress: bool | None = None,
    batch_rows: int = 10_000,
) -> Stream:
    """A :class:`Stream` of ``entity`` (filter/select/order checked now, before any request);
    responses are gathered into chunks of at least ``batch_rows`` rows (fewer at the end).

    Example::

        >>> for chunk, batch in stream(client, "deal", limit=100):
        ...     print(len(chunk), batch.schema.field("STAGE_ID").type)
    """
    if limit is not None and limit < 0:
        raise ValidationError(f"limit must be >= 0, got {limit}")
    plan = plan_load(client, entity, filter, select, order)
    return Stream(plan, limit=limit, progress=progress, batch_rows=batch_rows)


# --- writers -----------------------------------------------------------------------------------


def _write_parquet(chunks: Stream, out: Path) -> None:
    writer = None
    tmp = out.with_name(out.name + ".tmp")
    try:
        for batch in chunks.batches():
            if writer is None:
                writer = pq.ParquetWriter(tmp, batch.schema)
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(out)


def _json(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _flat(chunk: pd.DataFrame) -> pd.DataFrame:
    flat = chunk.copy(deep=False)
    flat.attrs = {}  # pandas deep-copies attrs on every column access
    for col in chunk.columns:
        if flat[col].dtype == object:
            flat[col] = [_json(v) for v in flat[col].tolist()]
    return flat


def _write_csv(chunks: Stream, out: Path) -> None:
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        header = True
        for chunk, _ in chunks:
            _flat(chunk).to_csv(fh, header=header)
            header = False
    tmp.replace(out)


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").tz_localize(None).to_pydatetime() if value.tz else value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_xlsx(chunks: Stream, out: Path) -> None:
    try:
        from openpyxl import Workbook
    except ImportError as exc:  # pragma: no cover - the xlsx extra
        raise ValidationError(
            "writing .xlsx needs openpyxl: pip install 'bitrix-frames[xlsx]'"
        ) from exc
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    header = True
    specs: dict = {}
    for chunk, _ in chunks:
        if not specs:
            fields = chunk.attrs["bitrix"]["fields"]
            specs = {name: spec_from_dict(d) for name, d in fields.items()}
        labelled = labelled_frame(chunk, specs)
        if header:
            sheet.title = chunk.attrs["bitrix"]["entity"]
            fields = chunk.attrs["bitrix"]["fields"]
            titles = [fields.get(c, {}).get("title") or c for c in labelled.columns]
            sheet.append(["ID", *titles])
            header = False
        if chunks.rows > EXCEL_ROWS:
            raise ValidationError(
                f"an .xlsx sheet holds at most {EXCEL_ROWS:,} rows; use --limit or .parquet"
            )
        columns = [labelled.index.tolist()] + [labelled[c].tolist() for c in labelled.columns]
        for row in zip(*columns, strict=True):
            sheet.append([_excel_value(v) for v in row])
    tmp = out.with_name(out.name + ".tmp")
    book.save(tmp)
    tmp.replace(out)


def _partition_text(value: Any) -> str:
    if value is None:
        return NULL_PARTITION
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return urllib.parse.quote(str(value), safe="")


class _Partitions:
    """Per-partition buffers of record batches, flushed as row groups into one file each."""

    def __init__(self, root: Path, column: str, schema: pa.Schema) -> None:
        self.root, self.column = root, column
        self.file_schema = schema.remove(schema.get_field_index(column))
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.buffers: dict[str, list[pa.RecordBatch]] = {}
        self.buffered = 0

    def add(self, batch: pa.RecordBatch) -> None:
        keys = batch.column(self.column)
        encoded = keys if pa.types.is_dictionary(keys.type) else keys.dictionary_encode()
        texts = [_partition_text(v) for v in encoded.dictionary.to_pylist()]  # once per value
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        rest = batch.drop_columns([self.column])
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            text = NULL_PARTITION if code < 0 else texts[code]
            self.buffers.setdefault(text, []).append(rest.take(pa.array(rows)))
            self.buffered += len(rows)
        if self.buffered >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for text, parts in self.buffers.items():
            writer = self.writers.get(text)
            if writer is None:
                folder = self.root / f"{self.column}={text}"
                folder.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(folder / "part-0.parquet", self.file_schema)
                self.writers[text] = writer
            writer.write_table(pa.Table.from_batches(parts, schema=self.file_schema))
        self.buffers.clear()
        self.buffered = 0

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _write_partitioned(chunks: Stream, out: Path, column: str) -> None:
    if out.exists() and not (out / "_common_metadata").exists() and any(out.iterdir()):
        raise ValidationError(f"{out} exists and is not an export directory; choose another --out")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    parts: _Partitions | None = None
    try:
        for batch in chunks.batches():
            if parts is None:
                if column not in batch.schema.names or column == batch.schema.field(0).name:
                    raise ValidationError(
                        f"cannot partition by {column!r}: not a column of the export"
                    )
                parts = _Partitions(tmp, column, batch.schema)
            parts.add(batch)
        if parts is not None:
            parts.flush()
            parts.close()
        pq.write_metadata(chunks.schema, tmp / "_common_metadata")
    except BaseException:
        if parts is not None:
            parts.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)


def export(
    client: BitrixClient,
    entity: str,
    out_path: str | Path,
    filter: Mapping[str, Any] | None = None,
    select: Iterable[str] | None = None,
    order: Mapping[str, str] | None = None,
    *,
    partition_by: str | None = None,
    limit: int | None = None,
    progress: bool | None = None,
    batch_rows: int = 10_000,
) -> Stream:
    """Stream ``entity`` to ``out_path``: ``.parquet``, ``.csv``, ``.xlsx`` (labels, titles as
    header) or, with ``partition_by``, a hive-partitioned Parquet directory. Returns the finished
    :class:`Stream` (``rows``, ``peak_rows``, ``schema``).

    Example::

        >>> export(client, "deal", "deals", partition_by="STAGE_ID").rows
        30000
    """
    out = Path(out_path).expanduser()
    suffix = out.suffix.lower()
    if partition_by is None and suffix not in (".parquet", ".csv", ".xlsx"):
        raise ValidationError(
            f"export writes .parquet, .csv or .xlsx files (or a directory with --partition-by), "
            f"not {suffix or 'no suffix'!r}"
        )
    if partition_by is not None and suffix in (".csv", ".xlsx"):
        raise ValidationError("--partition-by writes a Parquet directory, not a .csv/.xlsx file")
    chunks = stream(
        client, entity, filter, select, order, limit=limit, progress=progress, batch_rows=batch_rows
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if partition_by is not None:
        _write_partitioned(chunks, out, partition_by)
    elif suffix == ".parquet":
        _write_parquet(chunks, out)
    elif suffix == ".csv":
        _write_csv(chunks, out)
    else:
        _write_xlsx(chunks, out)
    return chunks


def read_dataset(path: str | Path) -> pd.DataFrame:
    """The typed frame of a partitioned export directory (sorted by ID).

    Example::

        >>> read_dataset("deals")["STAGE_ID"].dtype
        CategoricalDtype(...)
    """
    root = Path(path).expanduser()
    schema = pq.read_schema(root / "_common_metadata")
    if META_KEY not in (schema.metadata or {}):
        raise ValidationError(f"{root} is not a bitrix_frames export")
    table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
    columns = []
    for f in schema:
        col = table.column(f.name)
        if col.type != f.type:
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            if pa.types.is_dictionary(f.type):
                col = pc.cast(col, f.type.value_type).dictionary_encode()
            else:
                col = pc.cast(col, f.type)
        columns.append(col)
    table = pa.Table.from_arrays(columns, schema=schema)
    return table_to_frame(table).sort_index()
