"""Blocking AWS calls from async code: one bounded thread pool, and ``abatch`` in it.

The pool holds ``RUNWIRE_AWS_MAX_WORKERS`` threads (default 64), shared by every AWS
class, so async callers never block the event loop on boto3.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from runwire.errors import ProviderSetupError

__all__ = ["PooledAbatch", "aws_executor", "iterate_in_aws_thread", "run_in_aws_thread"]

T = TypeVar("T")

_DEFAULT_WORKERS = 64


def _max_workers() -> int:
    raw = os.environ.get("RUNWIRE_AWS_MAX_WORKERS", "")
    try:
        value = int(raw) if raw else _DEFAULT_WORKERS
    except ValueError:
        raise ProviderSetupError(
            f"RUNWIRE_AWS_MAX_WORKERS must be a whole number, got {raw!r}"
        ) from None
    if value < 1:
        raise ProviderSetupError(f"RUNWIRE_AWS_MAX_WORKERS must be at least 1, got {value}")
    return value


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def aws_executor() -> ThreadPoolExecutor:
    """The one thread pool blocking AWS calls run in from async code."""
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(_max_workers(), thread_name_prefix="runwire-aws")
    return _executor


async def run_in_aws_thread(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in the AWS pool, keeping context variables."""
    ctx = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(aws_executor(), partial(ctx.run, func, *args, **kwargs))


async def iterate_in_aws_thread(iterator: Iterator[T]) -> AsyncIterator[T]:
    """Step a blocking iterator in the AWS pool, one item per hop."""
    done: Any = object()
    while True:
        item = await run_in_aws_thread(next, iterator, done)
        if item is done:
            return
        yield item


class PooledAbatch:
    """For AWS runnables: ``abatch`` whose workers live in the AWS threads.

    Every call of these models is a blocking boto3 call, so the base ``abatch`` (one
    event-loop round trip per input) leaves a thread idle between calls whenever the
    loop waits for the GIL. Here each worker thread takes the next input itself; the
    loop only waits for the workers. ``max_concurrency`` bounds the workers, as does
    the pool size; a failure stops the workers from starting more calls.
    """

    async def abatch(
        self,
        inputs: list[Any],
        config: Any = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        from runwire.runtime.config import get_config_list

        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency") or len(inputs)
        results: list[Any] = [None] * len(inputs)
        pending = iter(range(len(inputs)))
        lock = threading.Lock()
        stop = threading.Event()
        invoke = self.invoke  # type: ignore[attr-defined]

        def worker() -> None:
            while not stop.is_set():
                with lock:
                    index = next(pending, None)
                if index is None:
                    return
                try:
                    results[index] = invoke(inputs[index], configs[index], **kwargs)
                except Exception as exc:
                    if not return_exceptions:
                        stop.set()
                        raise
                    results[index] = exc

        workers = min(limit, len(inputs), _max_workers())
        try:
            await asyncio.gather(*(run_in_aws_thread(worker) for _ in range(workers)))
        finally:
            stop.set()  # on failure or cancellation, no worker starts another call
        return results
