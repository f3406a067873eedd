"""``SqliteSaver``: checkpoints in one SQLite file (stdlib ``sqlite3``), safe to share.

Two tables, ``checkpoints`` and ``writes``, created by :meth:`SqliteSaver.setup` (run on
first use; idempotent). The file is in WAL mode, so other processes may read while one
writes. Every statement is a constant with ``?`` parameters: nothing stored, and no
filter key, is ever spliced into SQL. Values are lc JSON (:class:`LcJsonSerializer`);
a row of any other type (pickle, msgpack) is refused with a ``ManifestError``.

The async methods run the sync ones in a worker thread (LangGraph's ``SqliteSaver`` has
none; its ``AsyncSqliteSaver`` needs aiosqlite), or, with ``inline_async=True``, on the
event loop itself: a served file's calls take microseconds, while each hop to a thread
and back costs more than the call (a 3-node graph's run: 2.1 ms through threads, 0.7 ms
inline). Inline suits a file one process writes; :class:`WalCheckpointer` then moves
the WAL's checkpoints (its only fsyncs, with ``synchronous=NORMAL``) off the loop.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runwire.errors import ManifestError
from runwire.graph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    _address,
    _writes_address,
    check_checkpoint,
    checkpoint_metadata,
    located,
    saved_config,
)
from runwire.graph.checkpoint.serde import FORMAT

if TYPE_CHECKING:
    from runwire.graph.checkpoint.serde import LcJsonSerializer
    from runwire.runtime.config import RunnableConfig

__all__ = ["SqliteSaver", "WalCheckpointer"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT NOT NULL,
    checkpoint BLOB NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    value BLOB NOT NULL,
    task_path TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
"""
_SELECT = (
    "SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,"
    " metadata FROM checkpoints"
)
_WRITES = (
    "SELECT task_id, channel, type, value FROM writes"
    " WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
    " ORDER BY task_path, task_id, idx"
)
_PUT = "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?)"
_PUT_WRITE = {
    True: "INSERT OR REPLACE INTO writes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    False: "INSERT OR IGNORE INTO writes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
}
_SQL_KEY = re.compile(r'[^"\\\x00-\x1f]{1,256}')
"""Metadata keys matched in SQL (as a JSON path parameter); others only in Python."""
_ESCAPED = (
    "json_extract(metadata, '$.__lc_escaped__') IS NOT NULL"
    " OR json_extract(metadata, '$.__rw__') IS NOT NULL"
)
"""Metadata stored whole as an escape or envelope (a user key ``lc``): SQL cannot see its
keys, so such rows are left to the Python check."""
_Row = tuple[str, str, str, str | None, str, bytes, str]


def _sql_value(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return -(2**63) <= value < 2**63
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    return kind is str or kind is bool or value is None


class SqliteSaver(BaseCheckpointSaver):
    """Checkpoints in SQLite through one connection, guarded by a lock (thread safe).

    Args:
        conn: a ``sqlite3`` connection; open it with ``check_same_thread=False`` to use
            the saver from several threads (``from_conn_string`` does).
        serde: the serializer (default: :class:`LcJsonSerializer` with its defaults).
        inline_async: run the async methods' SQLite calls on the event loop instead of
            in a worker thread (see the module docstring).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        serde: LcJsonSerializer | None = None,
        inline_async: bool = False,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.RLock()
        self.is_setup = False
        self.inline_async = inline_async

    async def _blocking(self, fn: Any, *args: Any) -> Any:
        if self.inline_async:
            return fn(*args)
        return await super()._blocking(fn, *args)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, serde: LcJsonSerializer | None = None, inline_async: bool = False
    ) -> Iterator[SqliteSaver]:
        """A saver on the database file ``conn_string`` (or ``":memory:"``), closed on exit."""
        conn = sqlite3.connect(conn_string, check_same_thread=False)
        try:
            saver = cls(conn, serde=serde, inline_async=inline_async)
            saver.setup()
            yield saver
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the tables if missing and turn on WAL mode; safe to call again."""
        with self.lock:
            if self.is_setup:
                return
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.executescript(_SCHEMA)
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(writes)")}
            if "task_path" not in columns:
                raise ManifestError(
                    "this database's tables were made by another checkpointer (LangGraph's "
                    "SqliteSaver?): its writes table has no task_path column",
                    hint="use a new database file; runwire never reads pickle or msgpack rows",
                )
            self.is_setup = True

    @contextmanager
    def _cursor(self, *, write: bool = False) -> Iterator[sqlite3.Cursor]:
        self.setup()
        with self.lock:
            cur = self.conn.cursor()
            try:
                if write:
                    with self.conn:  # one transaction, committed (or rolled back) here
                        yield cur
                else:
                    yield cur
            finally:
                cur.close()

    # -- writing -----------------------------------------------------------------------
    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` whole (every channel value) as a child of ``config``'s."""
        thread_id, ns, parent = _address(config)
        data = self.serde.dumps(checkpoint)
        meta = self.serde.dumps(checkpoint_metadata(config, metadata)).decode()
        with self._cursor(write=True) as cur:
            cur.execute(_PUT, (thread_id, ns, checkpoint["id"], parent, FORMAT, data, meta))
        return saved_config(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes; a regular write already stored at its index is kept."""
        thread_id, ns, checkpoint_id = _writes_address(config)
        rows: dict[bool, list[tuple[Any, ...]]] = {True: [], False: []}
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            row = (thread_id, ns, checkpoint_id, task_id, idx, channel, FORMAT)
            rows[idx < 0].append((*row, self.serde.dumps(value), task_path))
        with self._cursor(write=True) as cur:
            for special, batch in rows.items():
                if batch:
                    cur.executemany(_PUT_WRITE[special], batch)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of ``thread_id``."""
        with self._cursor(write=True) as cur:
            cur.execute("DELETE FROM checkpoints WHERE thread_id = ?", (str(thread_id),))
            cur.execute("DELETE FROM writes WHERE thread_id = ?", (str(thread_id),))

    # -- reading -----------------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The addressed checkpoint, or the thread's latest in its namespace."""
        thread_id, ns, checkpoint_id = _address(config)
        with self._cursor() as cur:
            if checkpoint_id is None:
                cur.execute(
                    f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ?"
                    " ORDER BY checkpoint_id DESC LIMIT 1",
                    (thread_id, ns),
                )
            else:
                cur.execute(
                    f"{_SELECT} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
                    (thread_id, ns, checkpoint_id),
                )
            row = cur.fetchone()
            if row is None:
                return None
            writes = self._writes(cur, row)
        return self._build(row, writes, None, config if checkpoint_id else None)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Matching checkpoints newest first (see ``BaseCheckpointSaver.list``)."""
        where: list[str] = []
        params: list[Any] = []
        if config is not None:
            conf = config.get("configurable") or {}
            where.append("thread_id = ?")
            params.append(_address(config)[0])
            for key in ("checkpoint_ns", "checkpoint_id"):
                if conf.get(key) is not None and (key == "checkpoint_ns" or conf[key]):
                    where.append(f"{key} = ?")  # key is one of two constants
                    params.append(conf[key])
        before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id")
        if before_id:
            where.append("checkpoint_id < ?")
            params.append(before_id)
        exact = True
        matches: list[str] = []
        for key, value in (filter or {}).items():
            if type(key) is not str:
                raise TypeError(f"metadata filter keys are strings, got {type(key).__name__}")
            if not (_SQL_KEY.fullmatch(key) and _sql_value(value)):
                exact = False  # checked in Python below
                continue
            matches.append(
                "json_extract(metadata, ?) IS NULL"
                if value is None
                else "json_extract(metadata, ?) = ?"
            )
            params.append(f'$."{key}"')
            if value is not None:
                params.append(value)
        if matches:
            where.append(f"({_ESCAPED} OR ({' AND '.join(matches)}))")
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY checkpoint_id DESC"
        if limit is not None and exact:
            sql += " LIMIT ?"
            params.append(max(limit, 0))
        if limit is not None and limit <= 0:
            return
        with self._cursor() as cur:
            cur.execute(sql, params)
            rows: list[_Row] = cur.fetchall()
        for row in rows:
            metadata = self._metadata(row)
            if filter and not all(metadata.get(k) == v for k, v in filter.items()):
                continue
            with self._cursor() as cur:
                writes = self._writes(cur, row)
            yield self._build(row, writes, metadata, None)
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    return

    @staticmethod
    def _writes(cur: sqlite3.Cursor, row: _Row) -> list[tuple[str, str, str, bytes]]:
        cur.execute(_WRITES, row[:3])
        return cur.fetchall()

    def _metadata(self, row: _Row) -> dict[str, Any]:
        raw = row[6]
        value = self.serde.loads(raw.encode() if isinstance(raw, str) else raw)
        if type(value) is not dict:
            raise ManifestError(
                "stored checkpoint metadata is not an object",
                hint="the checkpoint was edited or damaged; restore it from a good copy",
            )
        return value

    def _build(
        self,
        row: _Row,
        writes: list[tuple[str, str, str, bytes]],
        metadata: dict[str, Any] | None,
        config: RunnableConfig | None,
    ) -> CheckpointTuple:
        thread_id, ns, checkpoint_id, parent, kind, data, _ = row
        loads_typed = self.serde.loads_typed
        try:
            checkpoint = check_checkpoint(loads_typed((kind, data)))
        except ManifestError as exc:
            raise located(exc, f"checkpoint {checkpoint_id}") from None
        pending = []
        for task_id, channel, kind, value in writes:
            try:
                pending.append((task_id, channel, loads_typed((kind, value))))
            except ManifestError as exc:
                raise located(exc, f"write of task {task_id} to {channel!r}") from None
        return CheckpointTuple(
            config=config or saved_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=self._metadata(row) if metadata is None else metadata,  # type: ignore[arg-type]
            parent_config=saved_config(thread_id, ns, parent) if parent else None,
            pending_writes=pending,
        )


class WalCheckpointer:
    """Checkpoints a WAL-mode SQLite file from a thread of its own, every ``interval``
    seconds (``PRAGMA wal_checkpoint(PASSIVE)``: writers are never blocked), so a
    connection with ``PRAGMA wal_autocheckpoint=0`` never checkpoints (nor fsyncs) in the
    thread that writes. A context manager: the thread stops, after a last checkpoint, on
    exit."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        """Checkpoints run so far."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="runwire-wal", daemon=True)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:  # busy or gone: the next round tries again
                    pass
                if stopping:
                    return
        finally:
            conn.close()

    def __enter__(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
