"""The Runnable protocol: one object, many ways to call it.

Subclasses implement ``invoke`` (and, when they have one, a native ``ainvoke`` or
``transform``); everything else - batching, streaming, async, callbacks, schemas,
composition - comes from here. Calls with no callbacks do no run bookkeeping.
"""

from __future__ import annotations

import contextvars
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args

from runwire.runtime.callbacks import CallbackContext, RunType
from runwire.runtime.config import (
    RunnableConfig,
    child_config,
    get_config_list,
    map_in_contexts,
)
from runwire.runtime.tracing import NOTHING, Traced, add_chunks

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "Input",
    "Output",
    "Runnable",
    "add_chunks",
    "child",
    "coerce_to_runnable",
    "run_in_executor",
]

Input = TypeVar("Input")
Output = TypeVar("Output")
T = TypeVar("T")


def child(config: RunnableConfig, tag: str | None = None) -> RunnableConfig:
    """The config for a child call: run name/id dropped, callbacks moved under this run."""
    callbacks = config.get("callbacks")
    if isinstance(callbacks, CallbackContext) and tag is not None:
        callbacks = callbacks.tagged(tag)
    return child_config(config, callbacks)


async def run_in_executor(
    config: RunnableConfig | None, func: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run a blocking function in the default executor, keeping context variables."""
    import asyncio

    ctx = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(ctx.run, func, *args, **kwargs))


class Runnable(Traced, ABC, Generic[Input, Output]):
    """A unit of work that can be invoked, batched, streamed and composed."""

    name: str | None
    """The runnable's name; when unset, the class name is used (see ``get_name``)."""
    run_type: ClassVar[RunType] = "chain"
    """What kind of run this is for callbacks and events (``on_{run_type}_start``...)."""
    sync_is_cheap: ClassVar[bool] = False
    """True when ``invoke`` never blocks: ``ainvoke`` then calls it directly, no thread."""

    # -- names and types ---------------------------------------------------------------
    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The runnable's name (``name`` field, else the class name), with a suffix."""
        base = name or getattr(self, "name", None) or type(self).__name__
        if suffix:
            return base + suffix.title() if base[0].isupper() else f"{base}_{suffix.lower()}"
        return base

    def _type_args(self) -> tuple[Any, ...]:
        for klass in type(self).__mro__:
            for base in getattr(klass, "__orig_bases__", ()):
                args = get_args(base)
                if len(args) == 2 and not any(isinstance(a, TypeVar) for a in args):
                    return args
        return (Any, Any)

    @property
    def InputType(self) -> Any:
        """The type of input this runnable accepts."""
        return self._type_args()[0]

    @property
    def OutputType(self) -> Any:
        """The type of output this runnable produces."""
        return self._type_args()[1]

    # -- schemas -----------------------------------------------------------------------
    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A pydantic model of the input."""
        from runwire.runtime.schemas import root_model

        return root_model(self.get_name("Input"), self.InputType)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A pydantic model of the output."""
        from runwire.runtime.schemas import root_model

        return root_model(self.get_name("Output"), self.OutputType)

    @property
    def input_schema(self) -> type[BaseModel]:
        """``get_input_schema()``: a pydantic model of the input (LangChain's property)."""
        return self.get_input_schema()

    @property
    def output_schema(self) -> type[BaseModel]:
        """``get_output_schema()``: a pydantic model of the output (LangChain's property)."""
        return self.get_output_schema()

    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the input."""
        return self.get_input_schema(config).model_json_schema()

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the output."""
        return self.get_output_schema(config).model_json_schema()

    @property
    def config_specs(self) -> list[Any]:
        """The configurable fields this runnable (and its children) expose."""
        return []

    def config_schema(self, *, include: Sequence[str] | None = None) -> type[BaseModel]:
        """A pydantic model of the config: ``configurable`` plus the ``include``d keys."""
        from runwire.runtime.schemas import config_model

        return config_model(self.get_name("Config"), self.config_specs, include or ())

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """JSON Schema of the config."""
        return self.config_schema(include=include).model_json_schema()

    # -- calling -----------------------------------------------------------------------
    @abstractmethod
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        """Run on one input."""

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        """Run on one input without blocking the event loop."""
        if self.sync_is_cheap:
            return self.invoke(input, config, **kwargs)
        return await run_in_executor(config, self.invoke, input, config, **kwargs)

    def batch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Run on many inputs, in threads bounded by ``max_concurrency``."""
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))

        def call(pair: tuple[Input, RunnableConfig]) -> Any:
            try:
                return self.invoke(pair[0], pair[1], **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        from concurrent.futures import ThreadPoolExecutor

        if len(inputs) == 1 or self.sync_is_cheap:
            return [call(pair) for pair in zip(inputs, configs, strict=True)]
        with ThreadPoolExecutor(max_workers=configs[0].get("max_concurrency")) as pool:
            return list(map_in_contexts(pool, call, list(zip(inputs, configs, strict=True))))

    def batch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Output | Exception]]:
        """Run on many inputs, yielding ``(index, output)`` as each finishes."""
        if not inputs:
            return
        configs = get_config_list(config, len(inputs))

        def call(index: int) -> tuple[int, Any]:
            try:
                return index, self.invoke(inputs[index], configs[index], **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return index, exc
                raise

        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=configs[0].get("max_concurrency")) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, call, i) for i in range(len(inputs))
            ]
            for future in as_completed(futures):
                yield future.result()

    async def abatch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        """Run on many inputs concurrently, at most ``max_concurrency`` at a time.

        A fixed pool of workers pulls inputs in order and writes each output in its
        place, so 10,000 inputs do not mean 10,000 tasks; the first failure (unless
        ``return_exceptions``) cancels the workers and is raised.
        """
        if not inputs:
            return []
        configs = get_config_list(config, len(inputs))
        results: list[Any] = [None] * len(inputs)
        next_index = iter(range(len(inputs)))
        ainvoke = self.ainvoke

        async def worker() -> None:
            for index in next_index:
                try:
                    results[index] = await ainvoke(inputs[index], configs[index], **kwargs)
                except Exception as exc:
                    if not return_exceptions:
                        raise
                    results[index] = exc

        await _run_workers(worker, configs[0].get("max_concurrency"), len(inputs))
        return results

    async def abatch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Output | Exception]]:
        """Run on many inputs concurrently, yielding ``(index, output)`` as each finishes.

        A fixed pool of workers pulls inputs in order, so ``max_concurrency`` is a hard
        bound and 10,000 inputs do not mean 10,000 tasks.
        """
        if not inputs:
            return
        import asyncio

        configs = get_config_list(config, len(inputs))
        limit = configs[0].get("max_concurrency") or len(inputs)
        queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
        next_index = iter(range(len(inputs)))

        async def worker() -> None:
            for index in next_index:
                try:
                    result = await self.ainvoke(inputs[index], configs[index], **kwargs)
                except Exception as exc:
                    if not return_exceptions:
                        queue.put_nowait((index, _Failure(exc)))
                        return
                    result = exc
                queue.put_nowait((index, result))

        workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(inputs)))]
        try:
            for _ in range(len(inputs)):
                index, result = await queue.get()
                if isinstance(result, _Failure):
                    raise result.error
                yield index, result
        finally:
            await _stop(workers)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the output; by default one chunk, the whole output."""
        yield self.invoke(input, config, **kwargs)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Stream the output asynchronously; by default one chunk."""
        yield await self.ainvoke(input, config, **kwargs)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        """Stream the output of a streamed input; by default the input is gathered first."""
        final: Any = NOTHING
        for chunk in input:
            final = chunk if final is NOTHING else add_chunks(final, chunk)
        if final is not NOTHING:
            yield from self.stream(final, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        """Async ``transform``; by default the input is gathered first."""
        final: Any = NOTHING
        async for chunk in input:
            final = chunk if final is NOTHING else add_chunks(final, chunk)
        if final is not NOTHING:
            async for out in self.astream(final, config, **kwargs):
                yield out

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: str = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream LangChain's v2 events (on_chain_start, on_chat_model_stream, ...)."""
        from runwire.runtime.events import stream_events

        if version != "v2":
            raise NotImplementedError("only astream_events(version='v2') is implemented")
        return stream_events(
            self,
            input,
            config,
            filters=(
                include_names,
                include_types,
                include_tags,
                exclude_names,
                exclude_types,
                exclude_tags,
            ),
            **kwargs,
        )

    # -- composition -------------------------------------------------------------------
    def __or__(self, other: Any) -> Runnable[Input, Any]:
        from runwire.runtime.sequence import RunnableSequence

        return RunnableSequence(self, coerce_to_runnable(other))

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        from runwire.runtime.sequence import RunnableSequence

        return RunnableSequence(coerce_to_runnable(other), self)

    def pipe(self, *others: Any, name: str | None = None) -> Runnable[Input, Any]:
        """``self | others[0] | ...`` as one sequence, optionally named."""
        from runwire.runtime.sequence import RunnableSequence

        return RunnableSequence(self, *(coerce_to_runnable(o) for o in others), name=name)

    def pick(self, keys: str | list[str]) -> Runnable[Input, Any]:
        """Pick keys from this runnable's dict output."""
        from runwire.runtime.passthrough import RunnablePick

        return self | RunnablePick(keys=keys)

    def assign(self, **kwargs: Any) -> Runnable[Input, dict[str, Any]]:
        """Add keys to this runnable's dict output, computed from it."""
        from runwire.runtime.parallel import RunnableParallel
        from runwire.runtime.passthrough import RunnableAssign

        return self | RunnableAssign(mapper=RunnableParallel(kwargs))

    # -- wrappers (each returns a new runnable; defined in its own module) -------------
    def bind(self, **kwargs: Any) -> Runnable[Input, Output]:
        """The same runnable, always called with these keyword arguments."""
        from runwire.runtime.binding import RunnableBinding

        return RunnableBinding(bound=self, kwargs=kwargs, config={})

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        """The same runnable, always called with this config merged in."""
        from runwire.runtime.binding import RunnableBinding

        return RunnableBinding(bound=self, kwargs={}, config={**(config or {}), **kwargs})

    def with_types(
        self, *, input_type: Any = None, output_type: Any = None
    ) -> Runnable[Input, Output]:
        """The same runnable, declaring other input/output types (for schemas)."""
        from runwire.runtime.binding import RunnableBinding

        return RunnableBinding(
            bound=self,
            kwargs={},
            config={},
            custom_input_type=input_type,
            custom_output_type=output_type,
        )

    def with_listeners(
        self,
        *,
        on_start: Callable[..., Any] | None = None,
        on_end: Callable[..., Any] | None = None,
        on_error: Callable[..., Any] | None = None,
    ) -> Runnable[Input, Output]:
        """The same runnable, calling ``on_start/on_end/on_error(run)`` around each run."""
        from runwire.runtime.binding import listeners_binding

        return listeners_binding(self, on_start=on_start, on_end=on_end, on_error=on_error)

    def with_retry(
        self,
        *,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        exponential_jitter_params: dict[str, float] | None = None,
        stop_after_attempt: int = 3,
    ) -> Runnable[Input, Output]:
        """The same runnable, retried on the given exceptions (LangChain's parameters)."""
        from runwire.runtime.retry import RunnableRetry

        return RunnableRetry(
            bound=self,
            kwargs={},
            config={},
            retry_exception_types=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            exponential_jitter_params=exponential_jitter_params,
            max_attempt_number=stop_after_attempt,
        )

    def with_fallbacks(
        self,
        fallbacks: Sequence[Runnable[Input, Output]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
        exception_key: str | None = None,
    ) -> Runnable[Input, Output]:
        """This runnable, then each fallback in turn while they raise a handled error."""
        from runwire.runtime.fallbacks import RunnableWithFallbacks

        return RunnableWithFallbacks(
            runnable=self,
            fallbacks=list(fallbacks),
            exceptions_to_handle=exceptions_to_handle,
            exception_key=exception_key,
        )

    def map(self) -> Runnable[list[Input], list[Output]]:
        """A runnable that applies this one to every item of a list input."""
        from runwire.runtime.each import RunnableEach

        return RunnableEach(bound=self)


async def _stop(tasks: list[Any]) -> None:
    """Cancel ``tasks`` and wait until each has ended."""
    import asyncio

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _run_workers(
    worker: Callable[[], Awaitable[None]], limit: int | None, count: int
) -> None:
    """Run ``min(limit, count)`` copies of ``worker``; the first failure stops them all."""
    import asyncio

    tasks = [asyncio.ensure_future(worker()) for _ in range(min(limit or count, count))]
    try:
        await asyncio.gather(*tasks)
    finally:
        await _stop(tasks)


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def coerce_to_runnable(thing: Any) -> Runnable[Any, Any]:
    """A runnable from a runnable, a callable, a generator function or a dict of them."""
    if isinstance(thing, Runnable):
        return thing
    if isinstance(thing, dict):
        from runwire.runtime.parallel import RunnableParallel

        return RunnableParallel(thing)
    if callable(thing):
        from runwire.runtime.lambdas import coerce_callable

        return coerce_callable(thing)
    raise TypeError(
        f"expected a Runnable, callable or dict, got {type(thing).__name__}: "
        "wrap the value in a RunnableLambda or a RunnablePassthrough"
    )
