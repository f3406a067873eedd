"""``AsyncPostgresSaver``: :class:`~runwire.graph.checkpoint.postgres.PostgresSaver` on asyncio.

The same tables, rows, migrations and safe loading, through a psycopg
``AsyncConnectionPool``: an async graph run (``ainvoke``, ``astream``) never blocks its
event loop on the database. Its sync methods (for code running in another thread while
the saver's loop runs, as LangGraph's ``AsyncPostgresSaver`` allows) hand the call to
that loop and wait; called on the loop's own thread they raise instead of deadlocking.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from runwire.graph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from runwire.graph.checkpoint.postgres import (
    _DELETE,
    _LOCK_KEY,
    _PUT,
    _SETUP,
    MIGRATIONS,
    PostgresRows,
    check_autocommit,
    connect_error,
    list_query,
    protect_dsn,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from runwire.graph.checkpoint.serde import LcJsonSerializer
    from runwire.runtime.config import RunnableConfig

__all__ = ["AsyncPostgresSaver"]


class AsyncPostgresSaver(PostgresRows, BaseCheckpointSaver):
    """Checkpoints in PostgreSQL through a psycopg ``AsyncConnectionPool`` (or one connection).

    Args:
        conn: an ``AsyncConnectionPool`` whose connections are in autocommit mode
            (``from_conn_string`` makes one), or a single autocommit ``AsyncConnection``.
        serde: the serializer (default: :class:`LcJsonSerializer` with its defaults).
    """

    def __init__(
        self,
        conn: AsyncConnectionPool | AsyncConnection[Any],
        *,
        serde: LcJsonSerializer | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = asyncio.Lock()
        self.is_setup = False
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop the saver's connections belong to (the first one it ran on)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(setup={self.is_setup})"

    @classmethod
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        serde: LcJsonSerializer | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
    ) -> AbstractAsyncContextManager[AsyncPostgresSaver]:
        """``async with``: a saver on a pool of connections to ``conn_string``, its tables
        set up; the pool is closed on exit (see ``PostgresSaver.from_conn_string``)."""
        return _open(cls, conn_string, serde, min_size, max_size, timeout)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        from psycopg import AsyncConnection, OperationalError

        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        try:
            if isinstance(self.conn, AsyncConnection):
                async with self.lock:
                    yield check_autocommit(self.conn)
            else:
                async with self.conn.connection() as conn:
                    yield check_autocommit(conn)
        except OperationalError as exc:
            raise connect_error(exc) from None

    async def asetup(self) -> None:
        """Create or migrate the tables (idempotent; concurrent callers migrate once)."""
        if self.is_setup:
            return
        async with self._connection() as conn, conn.transaction():
            await conn.execute(_SETUP[0], (_LOCK_KEY,))
            await conn.execute(_SETUP[1])
            done = (await (await conn.execute(_SETUP[2])).fetchone())[0]  # type: ignore[index]
            for version, migration in enumerate(MIGRATIONS[done:], start=done + 1):
                await conn.execute(migration)  # type: ignore[arg-type]
                await conn.execute(_SETUP[3], (version,))
        self.is_setup = True

    async def _ready(self) -> None:
        if not self.is_setup:
            await self.asetup()

    # -- the async contract ------------------------------------------------------------
    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` whole (every channel value) as a child of ``config``'s."""
        row, saved = self.put_params(config, checkpoint, metadata)
        await self._ready()
        async with self._connection() as conn:
            await _raw_execute(conn, _PUT, row)
        return saved

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes; a regular write already stored at its index is kept."""
        await self.aput_batch([("put_writes", (config, writes, task_id, task_path))])

    async def aput_batch(self, ops: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Store queued ``aput``/``aput_writes`` calls in one statement (one round trip,
        atomic; see ``BaseCheckpointSaver.aput_batch``)."""
        if not ops:
            return
        statement = self.batch_statement(ops)
        await self._ready()
        async with self._connection() as conn:
            await _raw_execute(conn, *statement)

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of ``thread_id``."""
        await self._ready()
        async with self._connection() as conn, conn.transaction():
            for sql in _DELETE:
                await conn.execute(sql, (str(thread_id),))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The addressed checkpoint, or the thread's latest in its namespace."""
        sql, params, named = self.tuple_query(config)
        await self._ready()
        async with self._connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
        if row is None:
            return None
        return self.build(row, None, config if named else None)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Matching checkpoints newest first (see ``BaseCheckpointSaver.list``)."""
        sql, params, _ = list_query(config, filter, before, limit)
        if limit is not None and limit <= 0:
            return
        await self._ready()
        async with self._connection() as conn:
            rows = await (await conn.execute(sql, params)).fetchall()  # type: ignore[arg-type]
        for item in self.listed(rows, filter, limit):
            yield item

    # -- sync methods: run on the saver's loop from another thread ----------------------
    def _on_loop(self, coro: Any) -> Any:
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop or not loop.is_running():
            coro.close()
            raise RuntimeError(
                "AsyncPostgresSaver's sync methods only work from another thread while the "
                "saver's event loop runs: use ainvoke/astream (or PostgresSaver in sync code)"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def setup(self) -> None:
        """Sync :meth:`asetup` (see the module docs)."""
        self._on_loop(self.asetup())

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Sync :meth:`aput`."""
        return self._on_loop(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Sync :meth:`aput_writes`."""
        self._on_loop(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Sync :meth:`adelete_thread`."""
        self._on_loop(self.adelete_thread(thread_id))

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Sync :meth:`aget_tuple`."""
        return self._on_loop(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Sync :meth:`alist` (the matches are gathered on the loop, then yielded)."""

        async def gather() -> list[CheckpointTuple]:
            found = self.alist(config, filter=filter, before=before, limit=limit)
            return [item async for item in found]

        yield from self._on_loop(gather())


async def _raw_execute(conn: AsyncConnection[Any], sql: str, params: Sequence[Any]) -> None:
    """Run a statement with ``$n`` parameters (see ``postgres.batch_sql``)."""
    from psycopg import AsyncRawCursor

    async with AsyncRawCursor(conn) as cursor:
        await cursor.execute(sql, params)


@asynccontextmanager
async def _open(
    cls: type[AsyncPostgresSaver],
    conn_string: str,
    serde: LcJsonSerializer | None,
    min_size: int,
    max_size: int,
    timeout: float,
) -> AsyncIterator[AsyncPostgresSaver]:
    from psycopg_pool import AsyncConnectionPool, PoolTimeout

    protect_dsn(conn_string)
    pool = AsyncConnectionPool(
        conn_string,
        min_size=min_size,
        max_size=max_size,
        kwargs={"autocommit": True},
        timeout=timeout,
        open=False,
        name="runwire-checkpoints",
    )
    try:
        try:
            await pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            raise connect_error(exc, conn_string) from None
        saver = cls(pool, serde=serde)
        await saver.asetup()
        yield saver
    finally:
        await pool.close()
