"""Python functions as runnables: ``RunnableLambda`` and ``RunnableGenerator``.

Neither has a wire form (code is not data): ``to_json`` gives a ``not_implemented``
node, as in LangChain.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from runwire.runtime.base import NOTHING, Input, Output, Runnable, add_chunks, run_in_executor
from runwire.runtime.config import RunnableConfig
from runwire.schema.nodes import SerializedNotImplemented, not_implemented_node

__all__ = ["RunnableGenerator", "RunnableLambda", "coerce_callable"]


def _accepts_config(func: Callable[..., Any]) -> bool:
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _func_name(func: Callable[..., Any], default: str) -> str:
    name = getattr(func, "__name__", None)
    return name if name and name != "<lambda>" else default


class _NotSerializable:
    """``to_json`` for runnables that wrap code."""

    def to_json(self) -> SerializedNotImplemented:
        return not_implemented_node(self)


def _gathered(chunks: Iterator[Any]) -> Any:
    """A streamed input as one value (chunks added, as ``transform`` gathers them)."""
    final: Any = NOTHING
    for chunk in chunks:
        final = chunk if final is NOTHING else add_chunks(final, chunk)
    return final


class RunnableLambda(_NotSerializable, Runnable[Input, Output]):
    """A function as a runnable; a returned runnable is invoked in turn (recursion-limited).

    A generator function (or async generator function) streams what it yields, one
    chunk each, and ``invoke`` returns the chunks added together, as in LangChain. Keyword
    arguments given to ``invoke`` (or bound with ``bind``) are passed to the function.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            func, afunc = None, func  # type: ignore[assignment]
        if func is None and afunc is None:
            raise TypeError("RunnableLambda needs a function")
        self.func = func
        self.afunc = afunc
        self.name = name or _func_name(func or afunc, "RunnableLambda")  # type: ignore[arg-type]
        self._func_config = func is not None and _accepts_config(func)
        self._afunc_config = afunc is not None and _accepts_config(afunc)
        self._gen = func is not None and inspect.isgeneratorfunction(func)
        self._agen = afunc is not None and inspect.isasyncgenfunction(afunc)

    def __repr__(self) -> str:
        return f"RunnableLambda({self.name})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RunnableLambda)
            and self.func == other.func
            and self.afunc == other.afunc
        )

    __hash__ = object.__hash__

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        if self.func is None:
            import asyncio

            return asyncio.run(self.ainvoke(input, config, **kwargs))

        def run(value: Any, cfg: RunnableConfig) -> Any:
            out = self._call(value, cfg, kwargs)
            if self._gen:
                return _gathered(out)
            if isinstance(out, Runnable):
                limit = cfg.get("recursion_limit", 25)
                if limit <= 0:
                    raise RecursionError(
                        f"recursion limit reached: {self.name} returned a runnable"
                    )
                return out.invoke(value, {**cfg, "recursion_limit": limit - 1})
            return out

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        if self.afunc is None:
            return await run_in_executor(config, self.invoke, input, config, **kwargs)

        async def run(value: Any, cfg: RunnableConfig) -> Any:
            if self._agen:
                final: Any = NOTHING
                async for chunk in self._acall(value, cfg, kwargs):
                    final = chunk if final is NOTHING else add_chunks(final, chunk)
                return final
            out = await self._acall(value, cfg, kwargs)
            if isinstance(out, Runnable):
                limit = cfg.get("recursion_limit", 25)
                if limit <= 0:
                    raise RecursionError(
                        f"recursion limit reached: {self.name} returned a runnable"
                    )
                return await out.ainvoke(value, {**cfg, "recursion_limit": limit - 1})
            return out

        return await self._acall_with_config(run, input, config)

    def _call(self, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]) -> Any:
        if self._func_config:
            return self.func(value, config=cfg, **kwargs)  # type: ignore[misc]
        return self.func(value, **kwargs)  # type: ignore[misc]

    def _acall(self, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]) -> Any:
        if self._afunc_config:
            return self.afunc(value, config=cfg, **kwargs)  # type: ignore[misc]
        return self.afunc(value, **kwargs)  # type: ignore[misc]

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """A generator function's chunks as it yields them; else the one output."""
        if not self._gen:
            yield from super().stream(input, config, **kwargs)
            return

        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            return self._call(_gathered(chunks), cfg, kwargs)  # type: ignore[no-any-return]

        yield from self._transform_with_config(iter([input]), run, config)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """An async generator function's chunks as it yields them (a sync generator's,
        run in a worker thread, once it ends); else the one output."""
        if self._agen:

            async def one() -> AsyncIterator[Any]:
                yield input

            def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
                async def gen() -> AsyncIterator[Any]:
                    final: Any = NOTHING
                    async for chunk in chunks:
                        final = chunk if final is NOTHING else add_chunks(final, chunk)
                    async for out in self._acall(final, cfg, kwargs):
                        yield out

                return gen()

            async for chunk in self._atransform_with_config(one(), run, config):
                yield chunk
        elif self._gen and self.afunc is None:
            items = await run_in_executor(
                config, lambda: list(self.stream(input, config, **kwargs))
            )
            for item in items:
                yield item
        else:
            async for chunk in super().astream(input, config, **kwargs):
                yield chunk


class RunnableGenerator(_NotSerializable, Runnable[Input, Output]):
    """A generator over the input stream as a runnable (it streams natively)."""

    def __init__(
        self,
        transform: Callable[..., Iterator[Any]] | Callable[..., AsyncIterator[Any]],
        atransform: Callable[..., AsyncIterator[Any]] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if inspect.isasyncgenfunction(transform):
            self._transform, self._atransform = None, transform
        else:
            self._transform, self._atransform = transform, atransform
        self.name = name or _func_name(transform, "RunnableGenerator")

    def __repr__(self) -> str:
        return f"RunnableGenerator({self.name})"

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        if self._transform is None:
            raise NotImplementedError(f"{self.name} has only an async generator: use astream")
        gen = self._transform

        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            return gen(chunks, config=cfg) if _accepts_config(gen) else gen(chunks)

        yield from self._transform_with_config(input, run, config)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        yield from self.transform(iter([input]), config)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        final: Any = None
        for chunk in self.stream(input, config):
            final = chunk if final is None else add_chunks(final, chunk)
        return final

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        if self._atransform is None:  # a sync generator: run it in a thread, then replay
            items = [chunk async for chunk in input]
            chunks = await run_in_executor(
                config, lambda: list(self.transform(iter(items), config))
            )
            for chunk in chunks:
                yield chunk
            return
        agen = self._atransform

        def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            return agen(chunks, config=cfg) if _accepts_config(agen) else agen(chunks)

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        final: Any = None
        async for chunk in self.astream(input, config):
            final = chunk if final is None else add_chunks(final, chunk)
        return final


def coerce_callable(func: Callable[..., Any]) -> Runnable[Any, Any]:
    """A generator function becomes a RunnableGenerator, any other callable a RunnableLambda."""
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        return RunnableGenerator(func)
    return RunnableLambda(func)
