"""``RunnableRetry``: another runnable, tried again (with backoff) when it raises.

Retries follow LangChain: ``invoke``/``ainvoke`` retry the whole call, ``batch``/``abatch``
retry only the inputs that failed, streams are not retried. Every attempt after the first
is tagged ``retry:attempt:N`` for the handlers. tenacity's stop, wait and retry strategies
decide when to try again; they are consulted only after a failure.

Exception classes are written to the wire by name (``"ValueError"``), from a table of
the builtin exceptions plus the classes given to :func:`register_exception_type`;
LangChain writes them as ``not_implemented`` nodes, which nothing can load back.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import WithJsonSchema, field_validator

from runwire.runtime.base import Input, Output, Runnable, child
from runwire.runtime.binding import RunnableBinding
from runwire.runtime.callbacks import callback_context
from runwire.runtime.config import RunnableConfig, child_config, get_config_list

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "EXCEPTION_TYPES",
    "BatchRuns",
    "ExceptionTypes",
    "RunnableRetry",
    "exception_types_from_wire",
    "exception_types_to_wire",
    "register_exception_type",
]

# -- exception classes by name ------------------------------------------------------------
EXCEPTION_TYPES: dict[str, type[BaseException]] = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
}
"""Name -> exception class accepted in manifests: every builtin ``Exception`` subclass,
plus the classes given to :func:`register_exception_type`."""

_NAMES: dict[type[BaseException], str] = {cls: cls.__name__ for cls in EXCEPTION_TYPES.values()}


def register_exception_type(cls: type[BaseException], name: str | None = None) -> str:
    """Let manifests name ``cls`` (by default as ``"module.QualName"``); returns the name."""
    if not (inspect.isclass(cls) and issubclass(cls, BaseException)):
        raise TypeError(f"expected an exception class, got {cls!r}")
    name = name or f"{cls.__module__}.{cls.__qualname__}"
    known = EXCEPTION_TYPES.get(name)
    if known is not None and known is not cls:
        raise ValueError(f"exception name {name!r} is already taken by {known!r}")
    EXCEPTION_TYPES[name] = cls
    _NAMES.setdefault(cls, name)
    return name


def _exception_class(item: Any) -> type[BaseException]:
    if inspect.isclass(item) and issubclass(item, BaseException):
        return item
    if isinstance(item, dict) and item.get("type") == "not_implemented":
        ident = item.get("id") or []
        if len(ident) == 2 and ident[0] == "builtins":  # LangChain's form of a builtin
            item = ident[1]
    if isinstance(item, str):
        cls = EXCEPTION_TYPES.get(item)
        if cls is not None:
            return cls
        raise ValueError(
            f"unknown exception type {item!r}: expected a builtin exception name such as "
            "'Exception', 'ValueError', 'TimeoutError' or 'ConnectionError', or a class "
            "registered with runwire.runtime.retry.register_exception_type"
        )
    raise ValueError(f"expected an exception class or its name, got {item!r}")


def exception_types_from_wire(value: Any) -> Any:
    """Exception classes from names, classes or one class (a tuple); other values unchanged."""
    if isinstance(value, str) or (inspect.isclass(value) and issubclass(value, BaseException)):
        return (_exception_class(value),)
    if isinstance(value, list | tuple):
        return tuple(_exception_class(item) for item in value)
    return value


def exception_types_to_wire(types: Sequence[type[BaseException]]) -> list[Any]:
    """Names of known classes; other classes stay classes (written as not_implemented)."""
    return [_NAMES.get(cls, cls) for cls in types]


_EXCEPTION_NAMES_SCHEMA = WithJsonSchema(
    {"type": "array", "items": {"type": "string", "description": "an exception class name"}}
)
ExceptionTypes = Annotated[tuple[type[BaseException], ...], _EXCEPTION_NAMES_SCHEMA]
"""A tuple of exception classes, written and read as a list of names."""
RetryOn = Annotated[
    tuple[type[BaseException], ...] | Callable[[BaseException], bool], _EXCEPTION_NAMES_SCHEMA
]


# -- one tracked run per batch input -----------------------------------------------------
class BatchRuns:
    """One run per input of a batch, as if each input were invoked on its own."""

    __slots__ = ("configs", "contexts", "runs")

    def __init__(
        self, owner: Runnable[Any, Any], inputs: Sequence[Any], configs: list[RunnableConfig]
    ) -> None:
        self.contexts: list[Any] = []
        self.runs: list[Any] = []
        self.configs: list[RunnableConfig] = []
        """The config of each input's child call (under that input's run)."""
        for value, config in zip(inputs, configs, strict=True):
            ctx = callback_context(config["callbacks"])
            if ctx is None:
                self.contexts.append(None)
                self.runs.append(None)
                self.configs.append(child(config))
                continue
            run = owner._start_run(ctx, value, config, None)
            self.contexts.append(ctx)
            self.runs.append(run)
            self.configs.append(child_config(config, ctx.under(run)))

    def end(self, index: int, output: Any) -> None:
        """Close one input's run with its output or its exception."""
        ctx = self.contexts[index]
        if ctx is None:
            return
        if isinstance(output, BaseException):
            ctx.error(self.runs[index], output)
        else:
            ctx.end(self.runs[index], output)

    def fail(self, error: BaseException) -> None:
        """Close every run with one error (the batch as a whole failed)."""
        for index in range(len(self.runs)):
            self.end(index, error)

    def finish(
        self, outputs: list[Any], return_exceptions: bool, error: BaseException | None = None
    ) -> list[Any]:
        """Close the runs; raise ``error`` or the first exception unless returning them."""
        for index, output in enumerate(outputs):
            self.end(index, output)
        if return_exceptions:
            return outputs
        if error is not None:
            raise error
        for output in outputs:
            if isinstance(output, BaseException):
                raise output
        return outputs


# -- the retry wrapper -------------------------------------------------------------------
_TENACITY: ModuleType | None = None
_RENAME_INITIAL = False
"""tenacity >= 9.2 calls ``initial`` ``multiplier`` (and warns about the old name)."""


def _tenacity() -> ModuleType:
    global _TENACITY, _RENAME_INITIAL
    if _TENACITY is None:
        import tenacity

        params = inspect.signature(tenacity.wait_exponential_jitter).parameters
        _RENAME_INITIAL = "multiplier" in params
        _TENACITY = tenacity
    return _TENACITY


def _jitter_params(params: dict[str, float] | None) -> dict[str, float]:
    if not params:
        return {}
    if _RENAME_INITIAL and "initial" in params and "multiplier" not in params:
        params = {("multiplier" if k == "initial" else k): v for k, v in params.items()}
    return params


def _attempt_config(config: RunnableConfig, attempt: int) -> RunnableConfig:
    return child(config, f"retry:attempt:{attempt}" if attempt > 1 else None)


class RunnableRetry(RunnableBinding[Input, Output]):
    """``bound``, retried on ``retry_exception_types`` up to ``max_attempt_number`` times.

    Like LangChain's, it is a binding that wraps rather than merges: ``bind``,
    ``with_config``... on a retry return a new binding around it.
    """

    lc_raw_fields = frozenset({"retry_exception_types"})  # LangChain's not_implemented form

    retry_exception_types: RetryOn = (Exception,)
    """Exception classes to retry on, or a predicate ``f(exception) -> bool``."""
    wait_exponential_jitter: bool = True
    """Wait between attempts with exponential backoff and jitter (else retry at once)."""
    exponential_jitter_params: dict[str, float] | None = None
    """``tenacity.wait_exponential_jitter`` arguments: initial, max, exp_base, jitter."""
    max_attempt_number: int = 3
    """Attempts in all, the first included (``0``: no limit)."""

    bind = Runnable.bind
    with_config = Runnable.with_config
    with_types = Runnable.with_types
    with_listeners = Runnable.with_listeners
    with_retry = Runnable.with_retry
    batch_as_completed = Runnable.batch_as_completed  # through invoke: retried too
    abatch_as_completed = Runnable.abatch_as_completed

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """Waiting between attempts blocks: only a no-wait retry of a cheap runnable is cheap."""
        return self.bound.sync_is_cheap and not self.wait_exponential_jitter

    @field_validator("retry_exception_types", mode="before")
    @classmethod
    def _exception_names(cls, value: Any) -> Any:
        return exception_types_from_wire(value)

    @property
    def lc_attributes(self) -> dict[str, Any]:
        types = self.retry_exception_types
        if isinstance(types, tuple):
            return {"retry_exception_types": exception_types_to_wire(types)}
        return {}

    def _retry_kwargs(self) -> dict[str, Any]:
        tenacity = _tenacity()
        kwargs: dict[str, Any] = {}
        if self.max_attempt_number:
            kwargs["stop"] = tenacity.stop_after_attempt(self.max_attempt_number)
        if self.wait_exponential_jitter:
            kwargs["wait"] = tenacity.wait_exponential_jitter(
                **_jitter_params(self.exponential_jitter_params)
            )
        types = self.retry_exception_types
        if not isinstance(types, tuple):
            kwargs["retry"] = tenacity.retry_if_exception(types)
        elif types:
            kwargs["retry"] = tenacity.retry_if_exception_type(types)
        return kwargs

    def _should_retry(self, error: BaseException) -> bool:
        types = self.retry_exception_types
        if isinstance(types, tuple):
            return isinstance(error, types or Exception)
        return bool(types(error))

    # -- one input: retry the whole call ---------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        def run(value: Any, cfg: RunnableConfig) -> Any:
            try:  # the first attempt costs nothing extra
                return RunnableBinding.invoke(self, value, _attempt_config(cfg, 1), **kwargs)
            except Exception as exc:  # BaseExceptions (cancellation...) are never retried
                failure = exc
            backoff = _Backoff(self)
            while (wait := backoff.after_failure(failure)) is not None:
                if wait > 0:
                    time.sleep(wait)
                try:
                    attempt = _attempt_config(cfg, backoff.attempt)
                    return RunnableBinding.invoke(self, value, attempt, **kwargs)
                except Exception as exc:
                    failure = exc
            raise failure

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        async def run(value: Any, cfg: RunnableConfig) -> Any:
            try:
                attempt = _attempt_config(cfg, 1)
                return await RunnableBinding.ainvoke(self, value, attempt, **kwargs)
            except Exception as exc:
                failure = exc
            backoff = _Backoff(self)
            while (wait := backoff.after_failure(failure)) is not None:
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    attempt = _attempt_config(cfg, backoff.attempt)
                    return await RunnableBinding.ainvoke(self, value, attempt, **kwargs)
                except Exception as exc:
                    failure = exc
            raise failure

        return await self._acall_with_config(run, input, config)

    # -- many inputs: retry only the failures --------------------------------------------
    def _record(
        self, pending: list[int], outputs: list[Any], results: list[Any], stop_early: bool
    ) -> tuple[list[int], BaseException | None]:
        """Record one attempt: (inputs to retry, an error to stop at, if any)."""
        again: list[int] = []
        fatal: BaseException | None = None
        for index, output in zip(pending, outputs, strict=True):
            results[index] = output
            if isinstance(output, Exception):
                if self._should_retry(output):
                    again.append(index)
                elif stop_early and fatal is None:
                    fatal = output
        return again, fatal

    def batch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        if not inputs:
            return []
        runs = BatchRuns(self, inputs, get_config_list(config, len(inputs)))
        results: list[Any] = [None] * len(inputs)
        pending = list(range(len(inputs)))
        backoff: _Backoff | None = None
        attempt = 1
        try:
            while True:
                outputs = RunnableBinding.batch(
                    self,
                    [inputs[i] for i in pending],
                    [_attempt_config(runs.configs[i], attempt) for i in pending],
                    return_exceptions=True,
                    **kwargs,
                )
                pending, fatal = self._record(pending, outputs, results, not return_exceptions)
                if fatal is not None or not pending:
                    break
                backoff = backoff or _Backoff(self)
                wait = backoff.after_failure(results[pending[0]])
                if wait is None:
                    break
                if wait > 0:
                    time.sleep(wait)
                attempt = backoff.attempt
        except BaseException as exc:
            runs.fail(exc)
            raise
        return runs.finish(results, return_exceptions, fatal)

    async def abatch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        if not inputs:
            return []
        runs = BatchRuns(self, inputs, get_config_list(config, len(inputs)))
        results: list[Any] = [None] * len(inputs)
        pending = list(range(len(inputs)))
        backoff: _Backoff | None = None
        attempt = 1
        try:
            while True:
                outputs = await RunnableBinding.abatch(
                    self,
                    [inputs[i] for i in pending],
                    [_attempt_config(runs.configs[i], attempt) for i in pending],
                    return_exceptions=True,
                    **kwargs,
                )
                pending, fatal = self._record(pending, outputs, results, not return_exceptions)
                if fatal is not None or not pending:
                    break
                backoff = backoff or _Backoff(self)
                wait = backoff.after_failure(results[pending[0]])
                if wait is None:
                    break
                if wait > 0:
                    await asyncio.sleep(wait)
                attempt = backoff.attempt
        except BaseException as exc:
            runs.fail(exc)
            raise
        return runs.finish(results, return_exceptions, fatal)


class _Backoff:
    """tenacity's stop, wait and retry strategies, asked after each failed attempt.

    Made only once an attempt has failed, so a call that succeeds at once pays nothing.
    """

    __slots__ = ("retrying", "state")

    def __init__(self, owner: RunnableRetry[Any, Any]) -> None:
        tenacity = _tenacity()
        self.retrying = tenacity.Retrying(**owner._retry_kwargs())
        self.state = tenacity.RetryCallState(self.retrying, fn=None, args=(), kwargs={})

    @property
    def attempt(self) -> int:
        """The number of the next attempt (2 for the first retry)."""
        return self.state.attempt_number

    def after_failure(self, error: BaseException) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up (tenacity's order:
        the retry condition, then the wait, then the stop condition)."""
        state, retrying = self.state, self.retrying
        state.set_exception((type(error), error, error.__traceback__))
        if not retrying.retry(state):
            return None
        wait = float(retrying.wait(state))
        state.upcoming_sleep = wait
        if retrying.stop(state):
            return None
        state.idle_for += wait
        state.prepare_for_next_attempt()
        return wait
