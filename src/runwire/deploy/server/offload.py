"""Running a request's pipeline off the event loop.

Most pipeline steps either wait on I/O (models, retrievers) or do microseconds of
Python work (prompts, parsers), so the server runs them on its event loop. A step whose
work a client chooses - a ``configurable`` template - may instead be CPU-bound for as
long as its limits allow, and nothing can interrupt Python code that never awaits: on
the loop it would stall every other request, ``/healthz`` included, and outlive the
request timeout. :class:`Offloader` runs such calls on worker threads instead; the
server then stops waiting at the deadline (504) while the loop keeps serving. A thread
cannot be killed, so the step still finishes in the background; the template limits
bound how long that takes.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Literal

__all__ = ["OffloadPolicy", "Offloader"]

OffloadPolicy = Literal["configurable", "always", "never"]
"""Which requests run off the loop: those setting ``configurable`` values, all, none."""

_DONE = object()


def _finish(private: asyncio.AbstractEventLoop, source: Any) -> None:
    """Close an async iterator on its private loop, then the loop itself."""
    try:
        close = getattr(source, "aclose", None)
        if close is not None:
            private.run_until_complete(close())
        private.run_until_complete(private.shutdown_asyncgens())
        private.run_until_complete(private.shutdown_default_executor())
    finally:
        private.close()


class Offloader:
    """Runs calls, sync iterators and async iterators on worker threads.

    ``max_threads`` bounds the shared pool of :meth:`call`; each stream gets a thread of
    its own, so the calls into one iterator stay in order.
    """

    def __init__(self, max_threads: int) -> None:
        self.max_threads = max_threads
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.max_threads, thread_name_prefix="runwire-run")
        return self._pool

    async def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """``func(*args)`` on a worker thread, in a copy of the caller's context."""
        loop = asyncio.get_running_loop()
        run = partial(contextvars.copy_context().run, func, *args)
        return await loop.run_in_executor(self._executor(), run)

    async def iterate(self, iterator: Iterator[Any]) -> AsyncIterator[Any]:
        """The items of a sync ``iterator``, each computed on the stream's own thread."""
        loop = asyncio.get_running_loop()
        thread = ThreadPoolExecutor(1, thread_name_prefix="runwire-stream")
        step = partial(contextvars.copy_context().run, next, iterator, _DONE)
        try:
            while (item := await loop.run_in_executor(thread, step)) is not _DONE:
                yield item
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                thread.submit(close)  # after a step still running, if any
            thread.shutdown(wait=False)

    async def iterate_async(self, make: Callable[[], AsyncIterator[Any]]) -> AsyncIterator[Any]:
        """The items of the async iterator ``make()``, run on a private event loop that
        turns, on the stream's own thread, only while the next item is awaited."""
        loop = asyncio.get_running_loop()
        thread = ThreadPoolExecutor(1, thread_name_prefix="runwire-stream")
        private = asyncio.new_event_loop()
        source = make()
        context = contextvars.copy_context()

        def step() -> Any:
            return context.run(private.run_until_complete, anext(source, _DONE))

        try:
            while (item := await loop.run_in_executor(thread, step)) is not _DONE:
                yield item
        finally:
            thread.submit(_finish, private, source)  # after a step still running, if any
            thread.shutdown(wait=False)
