"""Run bookkeeping: how a runnable call becomes a tracked run when callbacks are present.

With no callbacks the helpers call straight through, so plain calls pay nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from runwire.runtime.callbacks import CallbackContext, Run, RunType, callback_context
from runwire.runtime.config import RunnableConfig, child_config, ensure_config

__all__ = ["NOTHING", "AddableDict", "Traced", "add_chunks"]


def add_chunks(left: Any, right: Any) -> Any:
    """Sum two stream chunks; chunks that cannot add replace each other (LangChain)."""
    try:
        return left + right
    except TypeError:
        return right


class AddableDict(dict[str, Any]):
    """A streamed dict chunk: ``+`` merges key by key, adding the values of shared keys.

    Parallel and assign steps stream these, so their chunks sum to the full output.
    """

    def __add__(self, other: dict[str, Any]) -> AddableDict:  # type: ignore[override]
        merged = AddableDict(self)
        for key, value in other.items():
            current = merged.get(key)
            merged[key] = value if current is None else add_chunks(current, value)
        return merged

    def __radd__(self, other: dict[str, Any]) -> AddableDict:
        return AddableDict(other) + self


class _Nothing:
    __slots__ = ()


NOTHING: Any = _Nothing()


class _Collector:
    """Passes chunks through while summing them (the run's input, for callbacks)."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self.chunks = chunks
        self.total: Any = None

    def __iter__(self) -> Iterator[Any]:
        for chunk in self.chunks:
            self.total = chunk if self.total is None else add_chunks(self.total, chunk)
            yield chunk


class _AsyncCollector:
    """Async ``_Collector``."""

    def __init__(self, chunks: AsyncIterator[Any]) -> None:
        self.chunks = chunks
        self.total: Any = None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Any]:
        async for chunk in self.chunks:
            self.total = chunk if self.total is None else add_chunks(self.total, chunk)
            yield chunk


class Traced:
    """Mixin of ``Runnable``: wraps a call or a stream as one run for the handlers."""

    if TYPE_CHECKING:  # provided by Runnable
        run_type: RunType

        def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str: ...

    def _call_with_config(
        self,
        func: Callable[[Any, RunnableConfig], Any],
        input: Any,
        config: RunnableConfig | None,
        run_type: RunType | None = None,
    ) -> Any:
        """Call ``func(input, config)`` as one run: handlers see start and end/error."""
        config = ensure_config(config)
        ctx = callback_context(config["callbacks"])
        if ctx is None:
            if "run_name" in config or "run_id" in config:
                config = child_config(config, None)
            return func(input, config)
        run = self._start_run(ctx, input, config, run_type)
        try:
            output = func(input, child_config(config, ctx.under(run)))
        except BaseException as exc:
            ctx.error(run, exc)
            raise
        ctx.end(run, output)
        return output

    async def _acall_with_config(
        self,
        func: Callable[[Any, RunnableConfig], Awaitable[Any]],
        input: Any,
        config: RunnableConfig | None,
        run_type: RunType | None = None,
    ) -> Any:
        """Async ``_call_with_config``."""
        config = ensure_config(config)
        ctx = callback_context(config["callbacks"])
        if ctx is None:
            if "run_name" in config or "run_id" in config:
                config = child_config(config, None)
            return await func(input, config)
        run = self._start_run(ctx, input, config, run_type)
        try:
            output = await func(input, child_config(config, ctx.under(run)))
        except BaseException as exc:
            ctx.error(run, exc)
            raise
        ctx.end(run, output)
        return output

    def _start_run(
        self, ctx: CallbackContext, input: Any, config: RunnableConfig, run_type: RunType | None
    ) -> Run:
        return ctx.start(
            name=config.get("run_name") or self.get_name(),
            run_type=run_type or self.run_type,
            inputs=input,
            tags=config["tags"],
            metadata=config["metadata"],
            run_id=config.get("run_id"),
        )

    def _transform_with_config(
        self,
        chunks: Iterator[Any],
        transformer: Callable[[Iterator[Any], RunnableConfig], Iterator[Any]],
        config: RunnableConfig | None,
        run_type: RunType | None = None,
    ) -> Iterator[Any]:
        """Stream ``transformer(chunks, config)`` as one run; the output is the chunks' sum."""
        config = ensure_config(config)
        ctx = callback_context(config["callbacks"])
        if ctx is None:
            yield from transformer(chunks, config)
            return
        chunks = iter(chunks)
        first = next(chunks, NOTHING)  # the run starts with its input, as LangChain's does:
        if first is not NOTHING:  # a step after a failed one never starts
            chunks = itertools.chain((first,), chunks)
        inputs = _Collector(chunks)
        run = self._start_run(ctx, None, config, run_type)
        output: Any = NOTHING
        try:
            for chunk in transformer(iter(inputs), child_config(config, ctx.under(run))):
                ctx.stream(run, chunk)
                output = chunk if output is NOTHING else add_chunks(output, chunk)
                yield chunk
        except BaseException as exc:
            run.inputs = inputs.total
            ctx.error(run, exc)
            raise
        run.inputs = inputs.total
        ctx.end(run, None if output is NOTHING else output)

    async def _atransform_with_config(
        self,
        chunks: AsyncIterator[Any],
        transformer: Callable[[AsyncIterator[Any], RunnableConfig], AsyncIterator[Any]],
        config: RunnableConfig | None,
        run_type: RunType | None = None,
    ) -> AsyncIterator[Any]:
        """Async ``_transform_with_config``."""
        config = ensure_config(config)
        ctx = callback_context(config["callbacks"])
        if ctx is None:
            async for chunk in transformer(chunks, config):
                yield chunk
            return
        first = await anext(aiter(chunks), NOTHING)  # as in the sync form
        if first is not NOTHING:
            chunks = _prepended(first, chunks)
        inputs = _AsyncCollector(chunks)
        run = self._start_run(ctx, None, config, run_type)
        output: Any = NOTHING
        try:
            async for chunk in transformer(inputs, child_config(config, ctx.under(run))):
                ctx.stream(run, chunk)
                output = chunk if output is NOTHING else add_chunks(output, chunk)
                yield chunk
        except BaseException as exc:
            run.inputs = inputs.total
            ctx.error(run, exc)
            raise
        run.inputs = inputs.total
        ctx.end(run, None if output is NOTHING else output)


async def _prepended(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``first``, then what ``rest`` yields."""
    yield first
    async for item in rest:
        yield item
