"""Threads and runs of the graph API, kept in the checkpointer's database.

Two tables next to the checkpoints, so replicas sharing one database see the same
threads: ``runwire_threads`` (a thread's metadata, status, latest values and
interrupts, and which run holds it) and ``runwire_runs`` (one row per run). SQLite
keeps them in the checkpoint file, on the saver's own connection and lock; PostgreSQL
in the same database, through a pool of its own (:mod:`.postgres_db`).

A run takes its thread with one conditional ``UPDATE`` (``status`` not ``busy``, or a
lease that has run out), so two replicas never run one thread at once; the lease frees a
thread whose replica died mid-run. Every statement is a constant with parameters; the
JSON columns are written by this module and only ever parsed as JSON.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from runwire.deploy.server.protocol import encode

__all__ = ["SCHEMA", "Database", "GraphStore", "RunRow", "SqliteDatabase", "ThreadRow", "now"]

SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS runwire_threads (
    thread_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    graph_id TEXT,
    state_values TEXT,
    interrupts TEXT NOT NULL,
    run_id TEXT,
    lease_until DOUBLE PRECISION
)""",
    """CREATE TABLE IF NOT EXISTS runwire_runs (
    run_id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL,
    assistant_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL,
    multitask_strategy TEXT NOT NULL,
    background INTEGER NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS runwire_runs_thread ON runwire_runs (thread_id, created_at)",
)

_THREAD_COLUMNS = (
    "thread_id, created_at, updated_at, metadata, status, graph_id, state_values, interrupts,"
    " run_id, lease_until"
)
_RUN_COLUMNS = (
    "run_id, thread_id, assistant_id, created_at, updated_at, status, metadata,"
    " multitask_strategy, background"
)
_INSERT_THREAD = (
    f"INSERT INTO runwire_threads ({_THREAD_COLUMNS}) VALUES (?, ?, ?, ?, 'idle', NULL, NULL,"
    " '{}', NULL, NULL) ON CONFLICT (thread_id) DO NOTHING"
)
_CLAIM = (
    "UPDATE runwire_threads SET status = 'busy', run_id = ?, lease_until = ?, updated_at = ?,"
    " graph_id = ? WHERE thread_id = ? AND (status <> 'busy' OR lease_until < ?)"
)
_INSERT_RUN = f"INSERT INTO runwire_runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_CLAIMED_RUN = (
    f"INSERT INTO runwire_runs ({_RUN_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " WHERE EXISTS (SELECT 1 FROM runwire_threads WHERE thread_id = ? AND run_id = ?)"
)
"""The run's record, written in the claim's transaction only when the claim took."""
_CLAIMED = f"INSERT INTO runwire_runs ({_RUN_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? FROM t"
_ONE_CLAIM = {
    True: f"WITH t AS (INSERT INTO runwire_threads ({_THREAD_COLUMNS}) VALUES (?, ?, ?, '{{}}',"
    " 'busy', ?, NULL, '{}', ?, ?) ON CONFLICT (thread_id) DO UPDATE SET status = 'busy',"
    " run_id = EXCLUDED.run_id, lease_until = EXCLUDED.lease_until,"
    " updated_at = EXCLUDED.updated_at, graph_id = EXCLUDED.graph_id"
    " WHERE runwire_threads.status <> 'busy' OR runwire_threads.lease_until < ?"
    f" RETURNING thread_id) {_CLAIMED}",
    False: f"WITH t AS ({_CLAIM} RETURNING thread_id) {_CLAIMED}",
}
"""The claim as one statement where the database runs ``INSERT``/``UPDATE`` inside
``WITH`` (PostgreSQL): the thread taken (made first when ``create``) and the run
recorded only when it took, atomic alone, one round trip."""
_RELEASE = (
    "UPDATE runwire_threads SET status = ?, state_values = ?, interrupts = ?, run_id = NULL,"
    " lease_until = NULL, updated_at = ? WHERE thread_id = ? AND run_id = ?"
)
_SET_RUN = "UPDATE runwire_runs SET status = ?, updated_at = ? WHERE run_id = ?"
_ONE_RELEASE = f"WITH r AS ({_SET_RUN}) {_RELEASE}"
_FINAL_RUN = (
    "UPDATE runwire_runs SET status = ?, updated_at = ? WHERE run_id = ?"
    " AND status IN ('pending', 'running')"
)

_ORDER_COLUMNS = {
    "thread_id": "thread_id",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
THREAD_STATUSES = ("idle", "busy", "interrupted", "error")
RUN_STATUSES = ("pending", "running", "error", "success", "timeout", "interrupted")
CANCELLING = "cancelling"
"""A background run another replica was asked to cancel (shown as ``running``)."""
FINAL_RUN_STATUSES = frozenset(("error", "success", "timeout", "interrupted"))


def now() -> str:
    """The time as the API shows it: ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat()


def _json(value: Any) -> str:
    return encode(value).decode()


def _parse(text: str | bytes | None, default: Any = None) -> Any:
    return default if text is None else orjson.loads(text)


class Database(Protocol):
    """What the store needs of a database: statements with ``?`` parameters."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows a query returns."""
        ...

    async def execute(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """Run ``statements`` in one transaction; the row count of each."""
        ...

    async def setup(self, schema: Sequence[str]) -> None:
        """Create the tables (idempotent)."""
        ...

    writes_in_with: bool
    """Whether ``WITH`` may hold ``INSERT``/``UPDATE`` (then several writes go as one
    statement: no transaction to open and commit)."""


class SqliteDatabase:
    """The SQLite file of a :class:`~runwire.graph.checkpoint.sqlite.SqliteSaver`, through
    the saver's connection and lock (one writer per process; WAL lets others read)."""

    writes_in_with = False

    def __init__(self, conn: Any, lock: Any, *, inline: bool = False) -> None:
        self.conn = conn
        self.lock = lock
        self.inline = inline
        """Run the statements on the event loop, as the saver does (``inline_async``)."""

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def _execute(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        with self.lock, self.conn:
            return [self.conn.execute(sql, tuple(params)).rowcount for sql, params in statements]

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.inline:
            return self._fetch(sql, params)
        return await asyncio.to_thread(self._fetch, sql, params)

    async def execute(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        if self.inline:
            return self._execute(statements)
        return await asyncio.to_thread(self._execute, statements)

    async def setup(self, schema: Sequence[str]) -> None:
        def create() -> None:
            with self.lock, self.conn:
                for statement in schema:
                    self.conn.execute(statement)

        await asyncio.to_thread(create)


@dataclass(frozen=True, slots=True)
class ThreadRow:
    """A thread as stored."""

    thread_id: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any]
    status: str
    graph_id: str | None
    values: Any
    interrupts: dict[str, Any]
    run_id: str | None
    lease_until: float | None

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> ThreadRow:
        return cls(
            row[0],
            row[1],
            row[2],
            _parse(row[3], {}),
            row[4],
            row[5],
            _parse(row[6]),
            _parse(row[7], {}),
            row[8],
            row[9],
        )

    def effective_status(self, at: float | None = None) -> str:
        """``busy`` only while the run's lease holds (a dead replica's run frees it)."""
        if self.status == "busy" and (self.lease_until or 0) < (at or time.time()):
            return "idle"
        return self.status


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run as stored."""

    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: str
    metadata: dict[str, Any]
    multitask_strategy: str
    background: bool = False
    """Started by ``POST /threads/{id}/runs``: any replica may cancel it."""

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> RunRow:
        return cls(
            row[0], row[1], row[2], row[3], row[4], row[5], _parse(row[6], {}), row[7], bool(row[8])
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.assistant_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": "running" if self.status == CANCELLING else self.status,
            "metadata": self.metadata,
            "multitask_strategy": self.multitask_strategy,
            "kwargs": {},
        }


class GraphStore:
    """Threads and runs on a :class:`Database` (see the module docstring)."""

    def __init__(self, db: Database | None) -> None:
        self.db: Any = db
        """Set when the server starts (see :class:`~.backend.GraphBackend`)."""
        self.opener: Any = None
        """Opens ``db`` when it is first needed (an app served without its lifespan)."""
        self._ready = False

    async def setup(self) -> None:
        if self.db is None and self.opener is not None:
            await self.opener()
        if not self._ready:
            await self.db.setup(SCHEMA)
            self._ready = True

    # -- threads -------------------------------------------------------------------
    async def create_thread(self, thread_id: str, metadata: dict[str, Any]) -> bool:
        """Insert a thread; False when one with that id exists already."""
        await self.setup()
        at = now()
        (count,) = await self.db.execute([(_INSERT_THREAD, (thread_id, at, at, _json(metadata)))])
        return count == 1

    async def thread(self, thread_id: str) -> ThreadRow | None:
        await self.setup()
        rows = await self.db.fetch(
            f"SELECT {_THREAD_COLUMNS} FROM runwire_threads WHERE thread_id = ?", (thread_id,)
        )
        return ThreadRow.of(rows[0]) if rows else None

    async def threads(
        self,
        *,
        ids: Sequence[str] | None,
        order_by: str,
        descending: bool,
        limit: int,
        offset: int = 0,
    ) -> list[ThreadRow]:
        """At most ``limit`` threads (of ``ids`` when given) from ``offset``, in order."""
        await self.setup()
        column = _ORDER_COLUMNS[order_by]  # one of a few constants
        sql = f"SELECT {_THREAD_COLUMNS} FROM runwire_threads"
        params: list[Any] = []
        if ids is not None:
            if not ids:
                return []
            sql += f" WHERE thread_id IN ({', '.join('?' * len(ids))})"
            params = list(ids)
        direction = "DESC" if descending else "ASC"
        sql += f" ORDER BY {column} {direction}, thread_id {direction} LIMIT ? OFFSET ?"
        rows = await self.db.fetch(sql, [*params, limit, offset])
        return [ThreadRow.of(row) for row in rows]

    async def update_metadata(self, thread_id: str, metadata: dict[str, Any]) -> bool:
        (count,) = await self.db.execute(
            [
                (
                    "UPDATE runwire_threads SET metadata = ?, updated_at = ? WHERE thread_id = ?",
                    (_json(metadata), now(), thread_id),
                )
            ]
        )
        return count == 1

    async def set_values(self, thread_id: str, graph_id: str, values: Any, status: str) -> None:
        """After a state edit: the thread's latest values, status and graph."""
        await self.db.execute(
            [
                (
                    "UPDATE runwire_threads SET state_values = ?, status = ?, graph_id = ?,"
                    " updated_at = ? WHERE thread_id = ? AND status <> 'busy'",
                    (_json(values), status, graph_id, now(), thread_id),
                )
            ]
        )

    async def delete_thread(self, thread_id: str) -> bool:
        counts = await self.db.execute(
            [
                ("DELETE FROM runwire_runs WHERE thread_id = ?", (thread_id,)),
                ("DELETE FROM runwire_threads WHERE thread_id = ?", (thread_id,)),
            ]
        )
        return counts[1] == 1

    # -- runs ----------------------------------------------------------------------
    async def claim(
        self,
        thread_id: str,
        run: RunRow,
        graph_id: str,
        lease_s: float,
        *,
        create: bool,
    ) -> str:
        """Take the thread for ``run`` and record the run: ``"ok"``, ``"busy"`` or
        ``"missing"`` (a thread that does not exist, and ``create`` is false)."""
        await self.setup()
        stamp = time.time()
        claim = (run.run_id, stamp + lease_s, run.created_at, graph_id, thread_id, stamp)
        if self.db.writes_in_with:
            made = (thread_id, run.created_at, run.created_at, graph_id, *claim[:2], stamp)
            params = made if create else claim
            statements = [(_ONE_CLAIM[create], (*params, *_run_params(run)))]
        else:
            statements = [
                (_CLAIM, claim),
                (_INSERT_CLAIMED_RUN, (*_run_params(run), thread_id, run.run_id)),
            ]
            if create:
                new_thread = (thread_id, run.created_at, run.created_at, "{}")
                statements.insert(0, (_INSERT_THREAD, new_thread))
        counts = await self.db.execute(statements)  # one transaction: one commit
        if counts[-1] != 1:
            found = await self.thread(thread_id)
            return "missing" if found is None else "busy"
        return "ok"

    async def release(
        self,
        thread_id: str,
        run_id: str,
        *,
        run_status: str,
        thread_status: str,
        values: Any,
        interrupts: dict[str, Any],
    ) -> None:
        """The run ended: record its status and the thread's, values and interrupts."""
        at = now()
        run_params = (run_status, at, run_id)
        params = (thread_status, _json(values), _json(interrupts), at, thread_id, run_id)
        if self.db.writes_in_with:
            await self.db.execute([(_ONE_RELEASE, (*run_params, *params))])
        else:
            await self.db.execute([(_SET_RUN, run_params), (_RELEASE, params)])

    async def add_stateless_run(self, run: RunRow) -> None:
        await self.setup()
        await self.db.execute([(_INSERT_RUN, _run_params(run))])

    async def set_run_status(self, run_id: str, status: str, *, final_only: bool = False) -> None:
        sql = _FINAL_RUN if final_only else _SET_RUN
        await self.db.execute([(sql, (status, now(), run_id))])

    async def request_cancel(self, thread_id: str, run_id: str) -> bool:
        """Ask the replica running a background run to cancel it (it polls for this)."""
        (count,) = await self.db.execute(
            [
                (
                    "UPDATE runwire_runs SET status = ?, updated_at = ? WHERE run_id = ?"
                    " AND thread_id = ? AND background = 1 AND status IN ('pending', 'running')",
                    (CANCELLING, now(), run_id, thread_id),
                )
            ]
        )
        return count == 1

    async def cancelling(self, run_ids: Sequence[str]) -> list[str]:
        """Which of ``run_ids`` some replica was asked to cancel."""
        if not run_ids:
            return []
        rows = await self.db.fetch(
            "SELECT run_id FROM runwire_runs WHERE status = ?"
            f" AND run_id IN ({', '.join('?' * len(run_ids))})",
            [CANCELLING, *run_ids],
        )
        return [row[0] for row in rows]

    async def run(self, thread_id: str, run_id: str) -> RunRow | None:
        await self.setup()
        rows = await self.db.fetch(
            f"SELECT {_RUN_COLUMNS} FROM runwire_runs WHERE run_id = ? AND thread_id = ?",
            (run_id, thread_id),
        )
        return RunRow.of(rows[0]) if rows else None

    async def runs(
        self, thread_id: str, *, limit: int, offset: int, status: str | None
    ) -> list[RunRow]:
        await self.setup()
        sql = f"SELECT {_RUN_COLUMNS} FROM runwire_runs WHERE thread_id = ?"
        params: list[Any] = [thread_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?"
        rows = await self.db.fetch(sql, [*params, limit, offset])
        return [RunRow.of(row) for row in rows]


def _run_params(run: RunRow) -> tuple[Any, ...]:
    return (
        run.run_id,
        run.thread_id,
        run.assistant_id,
        run.created_at,
        run.updated_at,
        run.status,
        _json(run.metadata),
        run.multitask_strategy,
        int(run.background),
    )
