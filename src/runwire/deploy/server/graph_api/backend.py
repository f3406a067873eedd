"""Where served graphs keep their threads: the deployment's checkpointer and the graph
API's tables beside it, opened when the server starts (in its event loop).

The checkpointer is the one ``runwire.yaml`` names (``checkpointer:``; SQLite by
default, see :mod:`runwire.deploy.checkpointers`). With SQLite the threads and runs
tables go in the same file, on the saver's connection and lock, in WAL mode with
``synchronous=NORMAL`` (what SQLite advises for WAL: a committed run survives a crash of
the server process, and commits wait for no fsync; a power cut may lose the last ones);
with PostgreSQL in the
same database, through the saver's own connection pool, so replicas sharing the
database share threads. Graphs are compiled before the server starts, with a
:class:`DeferredSaver` that forwards to the saver once it is open.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from runwire.deploy.server.graph_api.store import Database, GraphStore, SqliteDatabase

__all__ = ["DeferredSaver", "GraphBackend", "LocalRuns", "PostgresDatabase", "memory_saver"]

logger = logging.getLogger("runwire.serve")

Opener = Callable[[], AbstractAsyncContextManager[Any]]


class LocalRuns:
    """The background runs of this process: their tasks (with their prepared runs), the
    frames ``join_stream`` follows and the task reading cancel requests. The backend
    keeps them, so every build of a reloading server (``serve --reload``) sees, cancels
    and, at shutdown, stops the same runs."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[asyncio.Task[Any], Any]] = {}
        self.channels: dict[str, Any] = {}
        self.poller: asyncio.Task[Any] | None = None

    async def stop(self) -> None:
        """Cancel the runs still running (the drain's time is up) and wait while each
        releases its thread, so another replica can continue it."""
        tasks = [task for task, _ in self.tasks.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            logger.warning("stopping %d graph run(s) still running; continue them", len(tasks))
            await asyncio.gather(*tasks, return_exceptions=True)


class DeferredSaver:
    """Stands for the checkpointer until the server opens it, then forwards to it."""

    def __init__(self) -> None:
        self.target: Any = None

    def __getattr__(self, name: str) -> Any:
        target = self.__dict__.get("target")
        if target is None:
            raise RuntimeError("the graphs' checkpointer is opened when the server starts")
        return getattr(target, name)

    def __repr__(self) -> str:
        return f"DeferredSaver({type(self.target).__name__ if self.target else 'not open'})"


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")  # the store's statements hold no other '?'


class PostgresDatabase:
    """The graph API's tables in PostgreSQL, through a psycopg ``AsyncConnectionPool``
    of autocommit connections (the checkpointer's)."""

    writes_in_with = True

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def __repr__(self) -> str:
        return "PostgresDatabase()"

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(_pg(sql), tuple(params))
            return await cur.fetchall()

    async def execute(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """One transaction, its statements pipelined (one round trip, not one each); one
        statement alone is atomic, sent without a transaction around it."""
        async with self.pool.connection() as conn:
            if len(statements) == 1:
                sql, params = statements[0]
                return [(await conn.execute(_pg(sql), tuple(params))).rowcount]
            async with conn.pipeline(), conn.transaction():
                cursors = [
                    await conn.execute(_pg(sql), tuple(params)) for sql, params in statements
                ]
            return [cur.rowcount for cur in cursors]

    async def setup(self, schema: Sequence[str]) -> None:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (0x72756E7769726532,))
            for statement in schema:
                await conn.execute(statement)


def database_for(saver: Any) -> Database:
    """The database of the graph API's tables: the saver's."""
    conn = getattr(saver, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        with saver.lock:  # WAL: a commit survives the process, without an fsync each
            conn.execute("PRAGMA synchronous=NORMAL")
        return SqliteDatabase(conn, saver.lock, inline=getattr(saver, "inline_async", False))
    if conn is not None and hasattr(conn, "connection"):  # a psycopg async pool
        return PostgresDatabase(conn)
    raise TypeError(
        f"graphs are served with a SQLite or PostgreSQL checkpointer, not {type(saver).__name__}"
    )


@asynccontextmanager
async def memory_saver() -> AsyncIterator[Any]:
    """A SQLite saver in memory: for apps made in tests (gone with the process)."""
    from runwire.graph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


class GraphBackend:
    """The checkpointer and the store of threads and runs, opened by :meth:`start`."""

    def __init__(self, opener: Opener | None = None) -> None:
        self.opener: Opener = opener or memory_saver
        self.saver = DeferredSaver()
        self.store = GraphStore(None)
        self.store.opener = self.start
        self.runs = LocalRuns()
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Open the checkpointer (and its tables) in the running loop."""
        async with self._lock:
            if self.saver.target is not None:
                return
            saver = await self._stack.enter_async_context(self.opener())
            self.store.db = database_for(saver)
            await self.store.setup()
            self.saver.target = saver

    async def aclose(self) -> None:
        """At shutdown: stop the background runs still running, then close the
        checkpointer's connections."""
        await self.runs.stop()
        await self._stack.aclose()
        self.saver.target = None
        await asyncio.sleep(0)
