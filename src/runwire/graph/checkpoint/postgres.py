"""``PostgresSaver``: checkpoints in PostgreSQL (psycopg 3, a connection pool), shared by replicas.

Two tables, ``runwire_checkpoints`` and ``runwire_checkpoint_writes`` (named apart from
LangGraph's, so both can live in one database), made by :meth:`PostgresSaver.setup`
through numbered migrations recorded in ``runwire_checkpoint_migrations``; setup takes a
transaction-scoped advisory lock, so replicas that start together migrate once. Rows
are what :class:`~runwire.graph.checkpoint.sqlite.SqliteSaver` stores: the whole
checkpoint as lc JSON bytes, its metadata as lc JSON (a ``json`` column, kept byte for
byte), each write as lc JSON, all read back through the safe loader; a row of another
type (pickle, msgpack) or a tampered one is a ``ManifestError``.

Every statement is a constant with ``%s`` parameters: no filter key or value, and
nothing stored, is ever spliced into SQL. Ids, task ids and paths compare with the
``"C"`` collation, so history order never depends on the database's locale.
:class:`~runwire.graph.checkpoint.postgres_aio.AsyncPostgresSaver` is the asyncio twin.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runwire.errors import ManifestError, ProviderError
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
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

    from runwire.graph.checkpoint.serde import LcJsonSerializer
    from runwire.runtime.config import RunnableConfig

__all__ = ["MIGRATIONS", "PostgresSaver", "check_autocommit", "connect_error", "protect_dsn"]

MIGRATIONS: tuple[str, ...] = (
    """CREATE TABLE runwire_checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT COLLATE "C" NOT NULL,
    parent_checkpoint_id TEXT COLLATE "C",
    type TEXT NOT NULL,
    checkpoint BYTEA NOT NULL,
    metadata JSON NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
)""",
    """CREATE TABLE runwire_checkpoint_writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT COLLATE "C" NOT NULL,
    task_id TEXT COLLATE "C" NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    value BYTEA NOT NULL,
    task_path TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
)""",
)
"""Schema migrations, applied in order; migration ``i`` is version ``i + 1``. Append
only: a released migration is never edited."""

_LOCK_KEY = 0x72756E7769726531  # "runwire1": the advisory lock setup holds
_SETUP = (
    "SELECT pg_advisory_xact_lock(%s)",
    "CREATE TABLE IF NOT EXISTS runwire_checkpoint_migrations"
    " (v INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "SELECT coalesce(max(v), 0) FROM runwire_checkpoint_migrations",
    "INSERT INTO runwire_checkpoint_migrations (v) VALUES (%s)",
)
_WRITES_AGG = """
    LEFT JOIN LATERAL (
        SELECT array_agg(w.task_id ORDER BY w.task_path, w.task_id, w.idx) AS task_ids,
               array_agg(w.channel ORDER BY w.task_path, w.task_id, w.idx) AS channels,
               array_agg(w.type ORDER BY w.task_path, w.task_id, w.idx) AS types,
               array_agg(w.value ORDER BY w.task_path, w.task_id, w.idx) AS vals
        FROM runwire_checkpoint_writes w
        WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
          AND w.checkpoint_id = c.checkpoint_id
    ) w ON true"""
_SELECT = (
    "SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type,"
    " c.checkpoint, c.metadata::text, w.task_ids, w.channels, w.types, w.vals"
    " FROM runwire_checkpoints c" + _WRITES_AGG
)
_LATEST = (
    f"{_SELECT} WHERE c.thread_id = %s AND c.checkpoint_ns = %s"
    " ORDER BY c.checkpoint_id DESC LIMIT 1"
)
_BY_ID = f"{_SELECT} WHERE c.thread_id = %s AND c.checkpoint_ns = %s AND c.checkpoint_id = %s"
_CHECKPOINT_KEY = "thread_id, checkpoint_ns, checkpoint_id"
_WRITE_KEY = f"{_CHECKPOINT_KEY}, task_id, idx"


@dataclass(frozen=True)
class _Table:
    """How to insert rows into one table: the head, the columns' types (for ``unnest``),
    what ``unnest`` selects, and the conflict rule."""

    head: str
    types: tuple[str, ...]
    select: str
    conflict: str


_PUTS = _Table(
    "INSERT INTO runwire_checkpoints (thread_id, checkpoint_ns, checkpoint_id,"
    " parent_checkpoint_id, type, checkpoint, metadata)",
    ("text", "text", "text", "text", "text", "bytea", "text"),
    "t, ns, id, parent, kind, data, meta::json FROM unnest({}) AS c(t, ns, id, parent, kind,"
    " data, meta)",
    f" ON CONFLICT ({_CHECKPOINT_KEY}) DO UPDATE SET"
    " parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,"
    " checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata",
)
_WRITES = _Table(
    f"INSERT INTO runwire_checkpoint_writes ({_WRITE_KEY}, channel, type, value, task_path)",
    ("text", "text", "text", "text", "int", "text", "text", "bytea", "text"),
    "* FROM unnest({})",
    f" ON CONFLICT ({_WRITE_KEY}) DO UPDATE SET channel = EXCLUDED.channel,"
    " type = EXCLUDED.type, value = EXCLUDED.value, task_path = EXCLUDED.task_path"
    " WHERE EXCLUDED.idx < 0",
)
"""A stored checkpoint is replaced; so is a write of a special channel (negative
index), while a regular write keeps what is stored."""
_VALUES_MAX = 64
"""Up to this many rows, a statement lists them as ``VALUES`` (parameters psycopg dumps
in C); more go as column arrays, one parameter per column, through ``unnest``."""


def _insert(table: _Table, rows: int, first: int) -> str:
    width = len(table.types)
    if rows > _VALUES_MAX:
        arrays = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(table.types))
        return f"{table.head} SELECT {table.select.format(arrays)}{table.conflict}"
    values = ", ".join(
        "(" + ", ".join(f"${first + r * width + c}" for c in range(width)) + ")"
        for r in range(rows)
    )
    return f"{table.head} VALUES {values}{table.conflict}"


def _count(table: _Table, rows: int) -> int:
    return len(table.types) * (1 if rows > _VALUES_MAX else rows)


@functools.lru_cache(maxsize=256)
def batch_sql(writes: int, puts: int) -> str:
    """One statement storing ``writes`` write rows and ``puts`` checkpoints (Postgres runs
    a data-modifying ``WITH`` once, whether or not the query reads it).

    Its parameters are numbered (``$1``): it is sent through a raw cursor, so psycopg
    never parses it (psycopg caches the parse of statements of at most 50 parameters
    only, and parsing one of a hundred cost a tenth of a served run).
    """
    if not puts:
        return _insert(_WRITES, writes, 1)
    if not writes:
        return _insert(_PUTS, puts, 1)
    first = 1 + _count(_WRITES, writes)
    return f"WITH w AS ({_insert(_WRITES, writes, 1)}) {_insert(_PUTS, puts, first)}"


_PUT = batch_sql(0, 1)
_DELETE = (
    "DELETE FROM runwire_checkpoints WHERE thread_id = %s",
    "DELETE FROM runwire_checkpoint_writes WHERE thread_id = %s",
)
_ESCAPED = "(c.metadata -> '__lc_escaped__' IS NOT NULL OR c.metadata -> '__rw__' IS NOT NULL)"
"""Metadata stored whole as an escape or envelope (a user key ``lc``): SQL cannot see its
keys, so such rows are left to the Python check."""
_MATCH_TEXT = "(json_typeof(c.metadata -> %s) = 'string' AND c.metadata ->> %s = %s)"
_MATCH_NULL = "coalesce(json_typeof(c.metadata -> %s), 'null') = 'null'"
_MATCH_NUMBER = (
    "(CASE json_typeof(c.metadata -> %s)"
    " WHEN 'number' THEN (c.metadata ->> %s)::numeric = %s::numeric"
    " WHEN 'boolean' THEN (c.metadata ->> %s)::boolean::int = %s::numeric ELSE false END)"
)
"""Python's ``==`` in SQL: ``1 == 1.0 == True``; the number goes as text, parsed by Postgres."""

_Row = tuple[Any, ...]
"""thread id, namespace, checkpoint id, parent id, type, checkpoint bytes, metadata text,
then the writes as four arrays (task ids, channels, types, values) or NULLs."""


def _sql_value(value: Any) -> bool:
    """Whether a filter value is matched in SQL (a JSON scalar SQL compares exactly)."""
    kind = type(value)
    if kind is int:
        return -(2**63) <= value < 2**63
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    return kind is str or kind is bool or value is None


def protect_dsn(dsn: str) -> None:
    """Register ``dsn`` and its password for masking in every error and log line."""
    from runwire.redaction import register_secret

    register_secret(dsn)
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(dsn).get("password")
    except Exception:  # an unparsable DSN: psycopg says so when connecting
        password = None
    if isinstance(password, str):
        register_secret(password)


def connect_error(exc: Exception, dsn: str | None = None) -> ProviderError:
    """A driver's connection failure as a ``ProviderError`` (secrets masked).

    Given ``dsn`` (a pool that timed out opening), one direct connection is tried to
    tell why: the pool's own error only says it waited.
    """
    if dsn is not None:
        import psycopg

        try:
            psycopg.connect(dsn, connect_timeout=5).close()
        except psycopg.Error as direct:
            exc = direct
    return ProviderError("postgres", "connect", type(exc).__name__, str(exc))


def check_autocommit(conn: Any) -> Any:
    """``conn`` if it is in autocommit mode; else a ``ValueError`` (a pool would roll back
    every write the saver makes on a connection in a transaction)."""
    if not conn.autocommit:
        raise ValueError(
            "a Postgres saver needs autocommit connections: pass "
            'ConnectionPool(dsn, kwargs={"autocommit": True}) or connect(dsn, autocommit=True)'
        )
    return conn


def filter_clause(filter: dict[str, Any] | None) -> tuple[list[str], list[Any], bool]:
    """``(conditions, params, exact)`` for a metadata filter; not ``exact`` when some item
    is left to the Python check (the SQL then only narrows)."""
    where: list[str] = []
    params: list[Any] = []
    exact = True
    for key, value in (filter or {}).items():
        if type(key) is not str:
            raise TypeError(f"metadata filter keys are strings, got {type(key).__name__}")
        if "\x00" in key or not _sql_value(value) or (type(value) is str and "\x00" in value):
            exact = False  # checked in Python only
        elif value is None:
            where.append(_MATCH_NULL)
            params.append(key)
        elif type(value) is str:
            where.append(_MATCH_TEXT)
            params += (key, key, value)
        else:
            number = str(int(value)) if type(value) is bool else repr(value)
            where.append(_MATCH_NUMBER)
            params += (key, key, number, key, number)
    if where:
        where = [f"({_ESCAPED} OR ({' AND '.join(where)}))"]
    return where, params, exact


def list_query(
    config: RunnableConfig | None,
    filter: dict[str, Any] | None,
    before: RunnableConfig | None,
    limit: int | None,
) -> tuple[str, list[Any], bool]:
    """``(sql, params, exact)`` of :meth:`PostgresSaver.list` (see ``filter_clause``)."""
    where: list[str] = []
    params: list[Any] = []
    if config is not None:
        conf = config.get("configurable") or {}
        where.append("c.thread_id = %s")
        params.append(_address(config)[0])
        for key in ("checkpoint_ns", "checkpoint_id"):
            if conf.get(key) is not None and (key == "checkpoint_ns" or conf[key]):
                where.append(f"c.{key} = %s")  # key is one of two constants
                params.append(str(conf[key]))
    before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id")
    if before_id:
        where.append("c.checkpoint_id < %s")
        params.append(str(before_id))
    matches, values, exact = filter_clause(filter)
    where += matches
    params += values
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY c.checkpoint_id DESC"
    if limit is not None and exact:
        sql += " LIMIT %s"
        params.append(max(limit, 0))
    return sql, params, exact


class PostgresRows:
    """What the sync and async Postgres savers share: rows in, rows out."""

    serde: LcJsonSerializer

    def put_params(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> tuple[tuple[Any, ...], RunnableConfig]:
        """The parameters of ``_PUT`` and the config of the stored checkpoint."""
        thread_id, ns, parent = _address(config)
        data = self.serde.dumps(checkpoint)
        meta = self.serde.dumps(checkpoint_metadata(config, metadata)).decode()
        row = (thread_id, ns, checkpoint["id"], parent, FORMAT, data, meta)
        return row, saved_config(thread_id, ns, checkpoint["id"])

    def write_rows(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> list[tuple[Any, ...]]:
        """The rows storing a task's writes (one per index: a repeated special channel
        keeps its last value, as storing them one by one would)."""
        thread_id, ns, checkpoint_id = _writes_address(config)
        rows: dict[int, tuple[Any, ...]] = {}
        for i, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, i)
            row = (thread_id, ns, checkpoint_id, str(task_id), idx, channel, FORMAT)
            rows[idx] = (*row, self.serde.dumps(value), task_path)
        return list(rows.values())

    def batch_statement(self, ops: Sequence[tuple[str, tuple[Any, ...]]]) -> tuple[str, Any]:
        """One statement storing queued ``("put", args)`` and ``("put_writes", args)``
        calls (see ``BaseCheckpointSaver.aput_batch``), with what storing them in order
        would leave: a later checkpoint or special write replaces, a regular write stays."""
        writes: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        puts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for name, args in ops:
            if name == "put":
                row = self.put_params(args[0], args[1], args[2])[0]
                puts[row[:3]] = row
                continue
            for row in self.write_rows(*args):
                if row[4] < 0 or row[:5] not in writes:
                    writes[row[:5]] = row
        sql = batch_sql(len(writes), len(puts))
        return sql, _params(writes.values(), 9) + _params(puts.values(), 7)

    def metadata_of(self, row: _Row) -> dict[str, Any]:
        """A row's metadata, read through the safe loader."""
        raw = row[6]
        value = self.serde.loads(raw.encode() if isinstance(raw, str) else raw)
        if type(value) is not dict:
            raise ManifestError(
                "stored checkpoint metadata is not an object",
                hint="the checkpoint was edited or damaged; restore it from a good copy",
            )
        return value

    def tuple_query(self, config: RunnableConfig) -> tuple[str, tuple[Any, ...], bool]:
        """The query of ``get_tuple``, its parameters, and whether it names a checkpoint."""
        thread_id, ns, checkpoint_id = _address(config)
        if checkpoint_id is None:
            return _LATEST, (thread_id, ns), False
        return _BY_ID, (thread_id, ns, checkpoint_id), True

    def listed(
        self, rows: Sequence[_Row], filter: dict[str, Any] | None, limit: int | None
    ) -> Iterator[CheckpointTuple]:
        """``list``'s rows as tuples: those whose metadata has every ``filter`` item (the
        exact, Python check), at most ``limit`` of them."""
        for row in rows:
            metadata = self.metadata_of(row)
            if filter and any(metadata.get(k) != v for k, v in filter.items()):
                continue
            yield self.build(row, metadata, None)
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    return

    def build(
        self, row: _Row, metadata: dict[str, Any] | None, config: RunnableConfig | None
    ) -> CheckpointTuple:
        """A row as a ``CheckpointTuple``; a tampered value is a ``ManifestError`` saying where."""
        thread_id, ns, checkpoint_id, parent, kind, data, _, task_ids, channels, kinds, vals = row
        loads_typed = self.serde.loads_typed
        try:
            checkpoint = check_checkpoint(loads_typed((kind, bytes(data))))
        except ManifestError as exc:
            raise located(exc, f"checkpoint {checkpoint_id}") from None
        pending = []
        for task_id, channel, kind_, value in zip(
            task_ids or (), channels or (), kinds or (), vals or (), strict=True
        ):
            try:
                pending.append((task_id, channel, loads_typed((kind_, bytes(value)))))
            except ManifestError as exc:
                raise located(exc, f"write of task {task_id} to {channel!r}") from None
        return CheckpointTuple(
            config=config or saved_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.metadata_of(row) if metadata is None else metadata,  # type: ignore[arg-type]
            parent_config=saved_config(thread_id, ns, parent) if parent else None,
            pending_writes=pending,
        )


def _pool_kwargs() -> dict[str, Any]:
    return {"autocommit": True}


def raw_execute(conn: Connection[Any], sql: str, params: Sequence[Any]) -> None:
    """Run a statement with ``$n`` parameters (see :func:`batch_sql`)."""
    from psycopg import RawCursor

    with RawCursor(conn) as cursor:
        cursor.execute(sql, params)


def _params(rows: Collection[tuple[Any, ...]], width: int) -> tuple[Any, ...]:
    """The parameters of ``rows`` in :func:`batch_sql`: the rows' values one after the
    other, or, past ``_VALUES_MAX`` rows, ``width`` column lists (for ``unnest``)."""
    if len(rows) <= _VALUES_MAX:
        return tuple(itertools.chain.from_iterable(rows))
    columns: tuple[list[Any], ...] = tuple([] for _ in range(width))
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class PostgresSaver(PostgresRows, BaseCheckpointSaver):
    """Checkpoints in PostgreSQL through a psycopg ``ConnectionPool`` (or one connection).

    Thread safe; several processes (replicas) may share one database.

    Args:
        conn: a ``psycopg_pool.ConnectionPool`` whose connections are in autocommit mode
            (``kwargs={"autocommit": True}``; ``from_conn_string`` makes one), or a single
            autocommit ``psycopg.Connection`` (used under a lock).
        serde: the serializer (default: :class:`LcJsonSerializer` with its defaults).
    """

    def __init__(
        self, conn: ConnectionPool | Connection[Any], *, serde: LcJsonSerializer | None = None
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.Lock()
        self.is_setup = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(setup={self.is_setup})"

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        serde: LcJsonSerializer | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> Iterator[PostgresSaver]:
        """A saver on a pool of ``min_size`` to ``max_size`` connections to ``conn_string``
        (a libpq DSN or URL), its tables set up; the pool is closed on exit.

        ``timeout``: seconds to wait for a connection. The DSN is masked in every error.
        """
        from psycopg_pool import ConnectionPool, PoolTimeout

        protect_dsn(conn_string)
        pool = ConnectionPool(
            conn_string,
            min_size=min_size,
            max_size=max_size,
            kwargs=_pool_kwargs(),
            timeout=timeout,
            open=False,
            name="runwire-checkpoints",
        )
        try:
            try:
                pool.open(wait=True, timeout=timeout)
            except PoolTimeout as exc:
                raise connect_error(exc, conn_string) from None
            saver = cls(pool, serde=serde)
            saver.setup()
            yield saver
        finally:
            pool.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        from psycopg import Connection, OperationalError

        try:
            if isinstance(self.conn, Connection):
                with self.lock:
                    yield check_autocommit(self.conn)
            else:
                with self.conn.connection() as conn:
                    yield check_autocommit(conn)
        except OperationalError as exc:
            raise connect_error(exc) from None

    def setup(self) -> None:
        """Create or migrate the tables (idempotent; concurrent callers migrate once)."""
        if self.is_setup:
            return
        with self._connection() as conn, conn.transaction():
            conn.execute(_SETUP[0], (_LOCK_KEY,))
            conn.execute(_SETUP[1])
            done = conn.execute(_SETUP[2]).fetchone()[0]  # type: ignore[index]
            for version, migration in enumerate(MIGRATIONS[done:], start=done + 1):
                conn.execute(migration)  # type: ignore[arg-type]
                conn.execute(_SETUP[3], (version,))
        self.is_setup = True

    def _ready(self) -> None:
        if not self.is_setup:
            self.setup()

    # -- writing -----------------------------------------------------------------------
    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` whole (every channel value) as a child of ``config``'s."""
        row, saved = self.put_params(config, checkpoint, metadata)
        self._ready()
        with self._connection() as conn:
            raw_execute(conn, _PUT, row)
        return saved

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes; a regular write already stored at its index is kept."""
        rows = self.write_rows(config, writes, task_id, task_path)
        self._ready()
        with self._connection() as conn:
            raw_execute(conn, batch_sql(len(rows), 0), _params(rows, 9))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of ``thread_id``."""
        self._ready()
        with self._connection() as conn, conn.transaction():
            for sql in _DELETE:
                conn.execute(sql, (str(thread_id),))

    # -- reading -----------------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The addressed checkpoint, or the thread's latest in its namespace."""
        sql, params, named = self.tuple_query(config)
        self._ready()
        with self._connection() as conn:
            row = conn.execute(sql, params).fetchone()
        if row is None:
            return None
        return self.build(row, None, config if named else None)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Matching checkpoints newest first (see ``BaseCheckpointSaver.list``)."""
        sql, params, _ = list_query(config, filter, before, limit)
        if limit is not None and limit <= 0:
            return
        self._ready()
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()  # type: ignore[arg-type]
        yield from self.listed(rows, filter, limit)
