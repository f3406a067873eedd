"""Postgres savers for the saver tests: sync, or async on an event loop in its own thread.

``open_saver("postgres", dsn)`` is a ``PostgresSaver``; ``open_saver("postgres-async",
dsn)`` an ``AsyncPostgresSaver`` opened on a loop running in a background thread, so the
sync contract tests drive it through its sync methods (each handed to that loop) and
async code runs on ``saver.loop``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["loop_thread", "open_saver"]


@contextmanager
def loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a daemon thread, stopped and closed on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="saver-loop", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@contextmanager
def open_saver(kind: str, dsn: str, **options: Any) -> Iterator[Any]:
    """A ``postgres`` or ``postgres-async`` saver on ``dsn``, its tables set up."""
    if kind == "postgres":
        from runwire.graph.checkpoint import PostgresSaver

        with PostgresSaver.from_conn_string(dsn, **options) as saver:
            yield saver
        return
    from runwire.graph.checkpoint import AsyncPostgresSaver

    with loop_thread() as loop:
        manager = AsyncPostgresSaver.from_conn_string(dsn, **options)

        def run(coro: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

        saver = run(manager.__aenter__())
        try:
            yield saver
        finally:
            run(manager.__aexit__(None, None, None))
