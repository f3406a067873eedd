"""``RunnableBranch``: the first branch whose condition holds runs; else the default.

``RunnableBranch((cond1, r1), (cond2, r2), default)``: conditions are runnables or
plain functions of the input, evaluated in order; only the chosen branch runs (and
streams). Conditions that are functions make the branch unloadable (code is not data).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from runwire.runtime.base import Input, Output, Runnable, child, coerce_to_runnable
from runwire.runtime.config import RunnableConfig
from runwire.runtime.configurable_spec import unique_specs
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["RunnableBranch"]

Branch = tuple[Runnable[Any, Any], Runnable[Any, Any]]


def _coerce_pair(pair: Any, position: int) -> Branch:
    if not isinstance(pair, tuple | list):
        raise TypeError(
            f"RunnableBranch branch {position} must be a (condition, runnable) pair, "
            f"got {type(pair).__name__}"
        )
    if len(pair) != 2:
        raise ValueError(
            f"RunnableBranch branch {position} must be a (condition, runnable) pair, "
            f"got {len(pair)} items"
        )
    return coerce_to_runnable(pair[0]), coerce_to_runnable(pair[1])


def _coerce_default(default: Any) -> Runnable[Any, Any]:
    if not (isinstance(default, Runnable | Mapping) or callable(default)):
        raise TypeError(
            "the last argument of RunnableBranch (the default) must be a runnable, "
            f"a callable or a dict, got {type(default).__name__}"
        )
    return coerce_to_runnable(default)


class RunnableBranch(RunnableSerializable[Input, Output]):
    """Runs the runnable of the first ``(condition, runnable)`` pair whose condition is
    truthy for the input, else ``default``."""

    branches: list[Branch]
    """``(condition, runnable)`` pairs, tried in order."""
    default: Runnable[Any, Any]
    """Runs when no condition holds."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args or "default" not in kwargs:
            if len(args) < 2:
                raise ValueError(
                    "RunnableBranch takes (condition, runnable) pairs then a default: "
                    f"got {len(args)} argument(s), need at least 2"
                )
            if "branches" in kwargs or "default" in kwargs:
                raise TypeError("RunnableBranch: pass branches positionally or by keyword")
            return {
                **kwargs,
                "branches": [_coerce_pair(p, i + 1) for i, p in enumerate(args[:-1])],
                "default": _coerce_default(args[-1]),
            }
        if "branches" in kwargs:
            kwargs["branches"] = [_coerce_pair(p, i + 1) for i, p in enumerate(kwargs["branches"])]
        if "default" in kwargs:
            kwargs["default"] = _coerce_default(kwargs["default"])
        return kwargs

    def _everything(self) -> list[Runnable[Any, Any]]:
        """Default, then branch runnables, then conditions (LangChain's schema order)."""
        return [self.default, *(r for _, r in self.branches), *(c for c, _ in self.branches)]

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return all(r.sync_is_cheap for r in self._everything())

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        for runnable in self._everything():
            if runnable.get_input_jsonschema(config).get("type") is not None:
                return runnable.get_input_schema(config)
        return super().get_input_schema(config)

    @property
    def config_specs(self) -> list[Any]:
        return unique_specs(spec for r in self._everything() for spec in r.config_specs)

    # -- choosing ----------------------------------------------------------------------
    def _choose(self, value: Any, config: RunnableConfig) -> tuple[Runnable[Any, Any], str]:
        for index, (condition, runnable) in enumerate(self.branches, 1):
            if condition.invoke(value, child(config, f"condition:{index}")):
                return runnable, f"branch:{index}"
        return self.default, "branch:default"

    async def _achoose(self, value: Any, config: RunnableConfig) -> tuple[Runnable[Any, Any], str]:
        for index, (condition, runnable) in enumerate(self.branches, 1):
            if await condition.ainvoke(value, child(config, f"condition:{index}")):
                return runnable, f"branch:{index}"
        return self.default, "branch:default"

    # -- calls -------------------------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        def run(value: Any, cfg: RunnableConfig) -> Any:
            runnable, tag = self._choose(value, cfg)
            return runnable.invoke(value, child(cfg, tag), **kwargs)

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        async def run(value: Any, cfg: RunnableConfig) -> Any:
            runnable, tag = await self._achoose(value, cfg)
            return await runnable.ainvoke(value, child(cfg, tag), **kwargs)

        return await self._acall_with_config(run, input, config)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            value = next(chunks)
            runnable, tag = self._choose(value, cfg)
            yield from runnable.stream(value, child(cfg, tag), **kwargs)

        yield from self._transform_with_config(iter((input,)), run, config)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            value = await anext(aiter(chunks))
            runnable, tag = await self._achoose(value, cfg)
            async for chunk in runnable.astream(value, child(cfg, tag), **kwargs):
                yield chunk

        async for chunk in self._atransform_with_config(one(), run, config):
            yield chunk
