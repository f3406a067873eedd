"""The graph API's threads and runs tables, on SQLite and on a real PostgreSQL: one run
per thread (busy, missing, a dead replica's lease), release, cancel requests, delete."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from runwire.deploy.server.graph_api.backend import PostgresDatabase
from runwire.deploy.server.graph_api.store import GraphStore, RunRow, SqliteDatabase, now


def _run(run_id: str, thread_id: str, background: bool = False) -> RunRow:
    at = now()
    return RunRow(run_id, thread_id, "assistant", at, at, "running", {"k": 1}, "reject", background)


async def _contract(store: GraphStore) -> None:
    assert await store.create_thread("t1", {"user": "ada"})
    assert not await store.create_thread("t1", {})  # exists already
    assert await store.claim("t1", _run("r1", "t1"), "g", 60, create=False) == "ok"
    assert await store.claim("t1", _run("r2", "t1"), "g", 60, create=False) == "busy"
    assert await store.claim("t1", _run("r2", "t1"), "g", 60, create=True) == "busy"
    assert await store.run("t1", "r2") is None  # a refused run leaves no record
    assert await store.claim("nope", _run("r3", "nope"), "g", 60, create=False) == "missing"
    thread = await store.thread("t1")
    assert thread is not None and thread.effective_status() == "busy" and thread.run_id == "r1"
    await store.release(
        "t1",
        "r1",
        run_status="success",
        thread_status="interrupted",
        values={"a": [1, "x"]},
        interrupts={"task": [{"value": 1, "id": "i"}]},
    )
    thread = await store.thread("t1")
    assert thread is not None and (thread.status, thread.values) == ("interrupted", {"a": [1, "x"]})
    assert thread.graph_id == "g" and thread.metadata == {"user": "ada"}
    created = thread.created_at
    assert await store.claim("t1", _run("r6", "t1"), "g2", 60, create=True) == "ok"
    thread = await store.thread("t1")  # an existing thread is taken, not made again
    assert thread is not None and (thread.created_at, thread.metadata) == (created, {"user": "ada"})
    assert (thread.run_id, thread.graph_id, thread.values) == ("r6", "g2", {"a": [1, "x"]})
    await store.release(
        "t1", "r6", run_status="success", thread_status="idle", values={"a": 2}, interrupts={}
    )
    assert (await store.run("t1", "r1")).status == "success"  # type: ignore[union-attr]

    # a replica that died holding a thread: its lease runs out and the thread is free
    assert await store.claim("t2", _run("r4", "t2"), "g", -1, create=True) == "ok"
    assert (await store.thread("t2")).effective_status() == "idle"  # type: ignore[union-attr]
    assert await store.claim("t2", _run("r5", "t2", background=True), "g", 60, create=False) == "ok"

    # cancel requests reach background runs only
    assert not await store.request_cancel("t1", "r1")  # ended
    assert await store.request_cancel("t2", "r5")
    assert await store.cancelling(["r4", "r5"]) == ["r5"]
    assert (await store.run("t2", "r5")).to_json()["status"] == "running"  # type: ignore[union-attr]

    listed = await store.runs("t2", limit=10, offset=0, status=None)
    assert sorted(r.run_id for r in listed) == ["r4", "r5"]
    found = await store.threads(ids=None, order_by="created_at", descending=False, limit=10)
    assert [t.thread_id for t in found] == ["t1", "t2"]
    assert await store.delete_thread("t2")
    assert await store.thread("t2") is None and await store.run("t2", "r5") is None


def _with_sqlite(test: Callable[[GraphStore], Awaitable[None]]) -> None:
    import threading

    conn = sqlite3.connect(":memory:", check_same_thread=False)
    try:
        asyncio.run(test(GraphStore(SqliteDatabase(conn, threading.RLock()))))
    finally:
        conn.close()


def test_store_on_sqlite() -> None:
    _with_sqlite(_contract)


def test_store_on_postgres(postgres_dsn: str) -> None:
    from psycopg_pool import AsyncConnectionPool

    async def main() -> None:
        kwargs: dict[str, Any] = {"autocommit": True}
        async with AsyncConnectionPool(postgres_dsn, kwargs=kwargs, open=False) as pool:
            await _contract(GraphStore(PostgresDatabase(pool)))

    asyncio.run(main())


@pytest.mark.parametrize("text", ["'; DROP TABLE runwire_threads; --", "a?b", "100%"])
def test_ids_are_parameters_never_sql(text: str) -> None:
    async def test(store: GraphStore) -> None:
        assert await store.create_thread(text, {"note": text})
        thread = await store.thread(text)
        assert thread is not None and thread.metadata == {"note": text}

    _with_sqlite(test)


def test_a_run_channel_replays_then_follows_and_drops_the_oldest_past_its_bound() -> None:
    from runwire.deploy.server.graph_api.channel import RunChannel

    async def main() -> None:
        channel = RunChannel(max_bytes=10)
        await channel.put(b"aaaa")
        early = asyncio.create_task(_collect(channel))
        await asyncio.sleep(0)  # it has read "aaaa" and waits
        await channel.put(b"bbbb")
        await channel.put(b"cccc")  # 12 bytes: "aaaa" is dropped for later readers
        late = asyncio.create_task(_collect(channel))
        await asyncio.sleep(0)
        await channel.put(b"dd")
        await channel.close()
        assert await early == [b"aaaa", b"bbbb", b"cccc", b"dd"]
        assert await late == [b"bbbb", b"cccc", b"dd"]
        assert await _collect(channel) == [b"bbbb", b"cccc", b"dd"]  # after the end: what is kept

    asyncio.run(main())


async def _collect(channel: Any) -> list[bytes]:
    return [frame async for frame in channel.follow()]
