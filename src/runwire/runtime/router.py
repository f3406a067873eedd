"""``RouterRunnable``: routes ``{"key": k, "input": x}`` to ``runnables[k]`` with ``x``.

As in LangChain, the router adds no run of its own: the chosen runnable runs with the
call's config (``invoke``, ``stream`` pass no extra kwargs; ``batch`` does). A batch
checks every key before running anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from pydantic import field_validator
from typing_extensions import TypedDict

from runwire.runtime.base import Output, Runnable, _run_workers, coerce_to_runnable
from runwire.runtime.config import RunnableConfig, get_config_list, map_in_contexts
from runwire.runtime.configurable_spec import unique_specs
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["RouterInput", "RouterRunnable"]


class RouterInput(TypedDict):
    """Router input."""

    key: str
    """The key of the runnable to run."""
    input: Any
    """The input of that runnable."""


class RouterRunnable(RunnableSerializable[RouterInput, Output]):
    """Runs the runnable that the input's ``key`` names on the input's ``input``.

    ``RouterRunnable({"math": math_chain, "poem": poem_chain})``; values may be
    runnables, callables or dicts (coerced as in a sequence).
    """

    runnables: dict[str, Runnable[Any, Any]]
    """The routes: key -> runnable."""

    lc_positional = "runnables"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @field_validator("runnables", mode="before")
    @classmethod
    def _coerce(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: coerce_to_runnable(r) for key, r in value.items()}
        return value

    @property
    def InputType(self) -> Any:
        return RouterInput

    @property
    def config_specs(self) -> list[Any]:
        return unique_specs(spec for r in self.runnables.values() for spec in r.config_specs)

    def _route(self, input: RouterInput) -> tuple[Runnable[Any, Any], Any]:
        key = input["key"]
        if key not in self.runnables:
            raise ValueError(f"No runnable associated with key '{key}'")
        return self.runnables[key], input["input"]

    def _routes(self, inputs: list[RouterInput]) -> list[tuple[Runnable[Any, Any], Any]]:
        keys = [i["key"] for i in inputs]
        values = [i["input"] for i in inputs]
        if any(key not in self.runnables for key in keys):
            raise ValueError("One or more keys do not have a corresponding runnable")
        return [(self.runnables[k], v) for k, v in zip(keys, values, strict=True)]

    # -- calls -------------------------------------------------------------------------
    def invoke(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        runnable, value = self._route(input)
        return runnable.invoke(value, config)

    async def ainvoke(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        runnable, value = self._route(input)
        return await runnable.ainvoke(value, config)

    def batch(
        self,
        inputs: list[RouterInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        if not inputs:
            return []
        routes = self._routes(inputs)
        configs = get_config_list(config, len(inputs))
        call = _caller(kwargs, return_exceptions)
        jobs = [(r, v, c) for (r, v), c in zip(routes, configs, strict=True)]
        if len(jobs) == 1 or all(r.sync_is_cheap for r, _ in routes):
            return [call(job) for job in jobs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=configs[0].get("max_concurrency")) as pool:
            return list(map_in_contexts(pool, call, jobs))

    async def abatch(
        self,
        inputs: list[RouterInput],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        if not inputs:
            return []
        routes = self._routes(inputs)
        configs = get_config_list(config, len(inputs))
        results: list[Any] = [None] * len(inputs)
        pending = iter(range(len(inputs)))

        async def worker() -> None:
            for index in pending:
                runnable, value = routes[index]
                try:
                    results[index] = await runnable.ainvoke(value, configs[index], **kwargs)
                except Exception as exc:
                    if not return_exceptions:
                        raise
                    results[index] = exc

        await _run_workers(worker, configs[0].get("max_concurrency"), len(inputs))
        return results

    def stream(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        runnable, value = self._route(input)
        yield from runnable.stream(value, config)

    async def astream(
        self, input: RouterInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        runnable, value = self._route(input)
        async for chunk in runnable.astream(value, config):
            yield chunk


def _caller(kwargs: dict[str, Any], return_exceptions: bool) -> Callable[[Any], Any]:
    def call(job: tuple[Runnable[Any, Any], Any, RunnableConfig]) -> Any:
        runnable, value, config = job
        try:
            return runnable.invoke(value, config, **kwargs)
        except Exception as exc:
            if not return_exceptions:
                raise
            return exc

    return call
