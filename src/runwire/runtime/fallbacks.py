"""``RunnableWithFallbacks``: a runnable, then each fallback in turn while they fail.

Only ``exceptions_to_handle`` move on to the next fallback; any other error propagates
at once. When every runnable fails, the FIRST error is raised (LangChain). With
``exception_key`` the input must be a dict and each fallback gets the previous error
under that key. A stream falls back only while nothing has been yielded yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from functools import wraps
from typing import Any

from pydantic import field_validator

from runwire.runtime.base import Input, Output, Runnable, child
from runwire.runtime.config import RunnableConfig, get_config_list
from runwire.runtime.configurable_spec import unique_specs
from runwire.runtime.retry import (
    BatchRuns,
    ExceptionTypes,
    exception_types_from_wire,
    exception_types_to_wire,
)
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["RunnableWithFallbacks"]


class RunnableWithFallbacks(RunnableSerializable[Input, Output]):
    """``runnable``, and on a handled error each of ``fallbacks`` in order."""

    runnable: Runnable[Any, Any]
    """The runnable tried first."""
    fallbacks: list[Runnable[Any, Any]]
    """The runnables tried next, in order."""
    lc_raw_fields = frozenset({"exceptions_to_handle"})  # LangChain's not_implemented form

    exceptions_to_handle: ExceptionTypes = (Exception,)
    """Errors that move on to the next fallback; others propagate at once."""
    exception_key: str | None = None
    """If set, fallbacks get the previous error in their (dict) input under this key."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @field_validator("exceptions_to_handle", mode="before")
    @classmethod
    def _exception_names(cls, value: Any) -> Any:
        return exception_types_from_wire(value)

    @property
    def lc_attributes(self) -> dict[str, Any]:
        return {"exceptions_to_handle": exception_types_to_wire(self.exceptions_to_handle)}

    @property
    def runnables(self) -> Iterator[Runnable[Any, Any]]:
        """The runnable, then its fallbacks."""
        yield self.runnable
        yield from self.fallbacks

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return all(r.sync_is_cheap for r in self.runnables)

    # -- types and schemas -------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        return self.runnable.InputType

    @property
    def OutputType(self) -> Any:
        return self.runnable.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.runnable.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.runnable.get_output_schema(config)

    @property
    def config_specs(self) -> list[Any]:
        return unique_specs(spec for r in self.runnables for spec in r.config_specs)

    # -- helpers -----------------------------------------------------------------------
    def _check_input(self, value: Any) -> None:
        if self.exception_key is not None and not isinstance(value, dict):
            raise ValueError(
                f"with exception_key={self.exception_key!r} the input must be a dict, "
                f"got {type(value).__name__}"
            )

    def _with_error(self, value: Any, error: BaseException | None) -> Any:
        """The input for the next fallback (a copy: the caller's dict is not touched)."""
        if self.exception_key is None or error is None:
            return value
        return {**value, self.exception_key: error}

    # -- one input ---------------------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        self._check_input(input)
        handled = self.exceptions_to_handle

        def run(value: Any, cfg: RunnableConfig) -> Any:
            first: BaseException | None = None
            last: BaseException | None = None
            for runnable in self.runnables:
                try:
                    return runnable.invoke(self._with_error(value, last), child(cfg), **kwargs)
                except handled as exc:
                    first = first or exc
                    last = exc
            raise first  # type: ignore[misc]

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        self._check_input(input)
        handled = self.exceptions_to_handle

        async def run(value: Any, cfg: RunnableConfig) -> Any:
            first: BaseException | None = None
            last: BaseException | None = None
            for runnable in self.runnables:
                try:
                    return await runnable.ainvoke(
                        self._with_error(value, last), child(cfg), **kwargs
                    )
                except handled as exc:
                    first = first or exc
                    last = exc
            raise first  # type: ignore[misc]

        return await self._acall_with_config(run, input, config)

    # -- many inputs: the failures go on to the next fallback together --------------------
    def _record(
        self,
        pending: dict[int, Any],
        outputs: list[Any],
        results: dict[int, Any],
        errors: dict[int, BaseException],
        return_exceptions: bool,
    ) -> BaseException | None:
        """Sort one round's outputs; returns an unhandled error to raise, if any."""
        to_raise: BaseException | None = None
        for (index, value), output in zip(list(pending.items()), outputs, strict=True):
            if not isinstance(output, BaseException):
                results[index] = output
                del pending[index]
            elif isinstance(output, self.exceptions_to_handle):
                errors.setdefault(index, output)  # the first error is the one reported
                pending[index] = self._with_error(value, output)
            else:  # not handled: final at once
                del pending[index]
                if return_exceptions:
                    results[index] = output
                else:
                    to_raise = to_raise or output
        return to_raise

    def batch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        for value in inputs:
            self._check_input(value)
        if not inputs:
            return []
        runs = BatchRuns(self, inputs, get_config_list(config, len(inputs)))
        pending: dict[int, Any] = dict(enumerate(inputs))
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        try:
            for runnable in self.runnables:
                outputs = runnable.batch(
                    list(pending.values()),
                    [child(runs.configs[i]) for i in pending],
                    return_exceptions=True,
                    **kwargs,
                )
                to_raise = self._record(pending, outputs, results, errors, return_exceptions)
                if to_raise is not None:
                    raise to_raise
                if not pending:
                    break
        except BaseException as exc:
            runs.fail(exc)
            raise
        return runs.finish(
            [results.get(i, errors.get(i)) for i in range(len(inputs))], return_exceptions
        )

    async def abatch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        for value in inputs:
            self._check_input(value)
        if not inputs:
            return []
        runs = BatchRuns(self, inputs, get_config_list(config, len(inputs)))
        pending: dict[int, Any] = dict(enumerate(inputs))
        results: dict[int, Any] = {}
        errors: dict[int, BaseException] = {}
        try:
            for runnable in self.runnables:
                outputs = await runnable.abatch(
                    list(pending.values()),
                    [child(runs.configs[i]) for i in pending],
                    return_exceptions=True,
                    **kwargs,
                )
                to_raise = self._record(pending, outputs, results, errors, return_exceptions)
                if to_raise is not None:
                    raise to_raise
                if not pending:
                    break
        except BaseException as exc:
            runs.fail(exc)
            raise
        return runs.finish(
            [results.get(i, errors.get(i)) for i in range(len(inputs))], return_exceptions
        )

    # -- streams: fall back only before the first chunk -----------------------------------
    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        self._check_input(input)

        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            value = next(chunks)
            first: BaseException | None = None
            last: BaseException | None = None
            for runnable in self.runnables:
                try:
                    stream = runnable.stream(self._with_error(value, last), child(cfg), **kwargs)
                    chunk = next(stream)
                except StopIteration:
                    return  # an empty stream is a success
                except self.exceptions_to_handle as exc:
                    first = first or exc
                    last = exc
                    continue
                yield chunk
                yield from stream
                return
            raise first  # type: ignore[misc]

        yield from self._transform_with_config(iter((input,)), run, config)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        self._check_input(input)

        async def one() -> AsyncIterator[Any]:
            yield input

        async def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            value = await anext(aiter(chunks))
            first: BaseException | None = None
            last: BaseException | None = None
            for runnable in self.runnables:
                try:
                    stream = aiter(
                        runnable.astream(self._with_error(value, last), child(cfg), **kwargs)
                    )
                    chunk = await anext(stream)
                except StopAsyncIteration:
                    return
                except self.exceptions_to_handle as exc:
                    first = first or exc
                    last = exc
                    continue
                yield chunk
                async for chunk in stream:
                    yield chunk
                return
            raise first  # type: ignore[misc]

        async for chunk in self._atransform_with_config(one(), run, config):
            yield chunk

    def __getattr__(self, name: str) -> Any:
        """Attributes of ``runnable``; a method returning a runnable (``bind(...)``) is
        applied to every fallback too and gives a new ``RunnableWithFallbacks``."""
        if name.startswith("_"):
            return super().__getattr__(name)  # type: ignore[misc]
        runnable = self.__dict__.get("runnable")
        if runnable is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        attr = getattr(runnable, name)
        if not callable(attr) or isinstance(attr, type):
            return attr
        return self._rewrapping(name, attr)

    def _rewrapping(self, name: str, attr: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(attr)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if not isinstance(result, Runnable):
                return result
            fallbacks = [getattr(f, name)(*args, **kwargs) for f in self.fallbacks]
            return self.model_copy(update={"runnable": result, "fallbacks": fallbacks})

        return wrapped
