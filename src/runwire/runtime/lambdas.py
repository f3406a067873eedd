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


def _apply(
    fn: Any, takes_config: bool, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]
) -> Any:
    """``fn(value, **kwargs)``, with ``config=cfg`` too when ``fn`` takes it."""
    return fn(value, config=cfg, **kwargs) if takes_config else fn(value, **kwargs)


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


async def _agathered(chunks: AsyncIterator[Any]) -> Any:
    """Async :func:`_gathered`."""
    final: Any = NOTHING
    async for chunk in chunks:
        final = chunk if final is NOTHING else add_chunks(final, chunk)
    return final


class _ThroughTransform:
    """``stream``/``astream`` as ``transform``/``atransform`` of a one-chunk input."""

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self.transform(iter([input]), config, **kwargs)  # type: ignore[attr-defined]

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):  # type: ignore[attr-defined]
            yield chunk


class RunnableLambda(_NotSerializable, _ThroughTransform, Runnable[Input, Output]):
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
                return out.invoke(value, self._nested(cfg))
            return out

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        if self.afunc is None:
            return await run_in_executor(config, self.invoke, input, config, **kwargs)

        async def run(value: Any, cfg: RunnableConfig) -> Any:
            if self._agen:
                return await _agathered(self._acall(value, cfg, kwargs))
            out = await self._acall(value, cfg, kwargs)
            if isinstance(out, Runnable):
                return await out.ainvoke(value, self._nested(cfg))
            return out

        return await self._acall_with_config(run, input, config)

    def _call(self, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]) -> Any:
        return _apply(self.func, self._func_config, value, cfg, kwargs)

    def _acall(self, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]) -> Any:
        return _apply(self.afunc, self._afunc_config, value, cfg, kwargs)

    def _nested(self, cfg: RunnableConfig) -> RunnableConfig:
        """The config for a runnable the function returned (one level less to recurse)."""
        limit = cfg.get("recursion_limit", 25)
        if limit <= 0:
            raise RecursionError(f"recursion limit reached: {self.name} returned a runnable")
        return {**cfg, "recursion_limit": limit - 1}

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """One run over the gathered input: a generator function's chunks as it yields
        them, a returned runnable's stream, else the one output (as LangChain streams a
        lambda, so ``astream_events`` sees its ``on_chain_stream``)."""
        if self.func is None:  # only an async function
            yield from super().transform(input, config, **kwargs)
            return

        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            value = _gathered(chunks)
            if value is NOTHING:  # no input at all: no call
                return
            out = self._call(value, cfg, kwargs)
            if self._gen:
                yield from out
            elif isinstance(out, Runnable):
                yield from out.stream(value, self._nested(cfg))
            else:
                yield out

        yield from self._transform_with_config(input, run, config)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async ``transform``; a sync function runs in a worker thread (a generator's
        chunks then come once it ends)."""

        def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            async def gen() -> AsyncIterator[Any]:
                value = await _agathered(chunks)
                if value is NOTHING:  # no input at all: no call
                    return
                if self._agen:
                    async for item in self._acall(value, cfg, kwargs):
                        yield item
                    return
                if self.afunc is not None:
                    out = await self._acall(value, cfg, kwargs)
                elif self._gen:  # a sync generator, off the loop: its chunks once it ends
                    for item in await run_in_executor(cfg, self._listed, value, cfg, kwargs):
                        yield item
                    return
                else:
                    out = await run_in_executor(cfg, self._call, value, cfg, kwargs)
                if isinstance(out, Runnable):
                    async for item in out.astream(value, self._nested(cfg)):
                        yield item
                else:
                    yield out

            return gen()

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    def _listed(self, value: Any, cfg: RunnableConfig, kwargs: dict[str, Any]) -> list[Any]:
        """A sync generator function's chunks, as a list (run in a worker thread)."""
        return list(self._call(value, cfg, kwargs))


class RunnableGenerator(_NotSerializable, _ThroughTransform, Runnable[Input, Output]):
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
