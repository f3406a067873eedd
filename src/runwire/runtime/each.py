"""``RunnableEach``: another runnable applied to every item of a list input (``r.map()``).

``RunnableEachBase`` is LangChain's base class, loaded as itself: it runs the same way,
but is named ``RunnableEachBase`` and ``bind``/``with_config``/... wrap it (the generic
``Runnable`` behaviour) where ``RunnableEach`` applies them to the bound runnable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from runwire.runtime.base import Input, Output, Runnable, child
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["RunnableEach", "RunnableEachBase"]


def _items(value: Any) -> list[Any]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise TypeError(
            f"RunnableEach takes a list input (one item per call), got {type(value).__name__}"
        )
    return list(value)


class RunnableEachBase(RunnableSerializable[list[Input], list[Output]]):
    """Calls ``bound`` on each item of the input list (as one batch); returns the outputs."""

    bound: Runnable[Any, Any]
    """The runnable applied to every item."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return self.bound.sync_is_cheap

    # -- types and schemas -------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        return list[self.bound.InputType]  # type: ignore[name-defined]

    @property
    def OutputType(self) -> Any:
        return list[self.bound.OutputType]  # type: ignore[name-defined]

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        from runwire.runtime.schemas import root_model

        item = self.bound.get_input_schema(config)
        return root_model(self.get_name("Input"), list[item])  # type: ignore[valid-type]

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        from runwire.runtime.schemas import root_model

        item = self.bound.get_output_schema(config)
        return root_model(self.get_name("Output"), list[item])  # type: ignore[valid-type]

    @property
    def config_specs(self) -> list[Any]:
        return self.bound.config_specs

    # -- calls -------------------------------------------------------------------------
    def invoke(
        self, input: list[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Output]:
        def run(value: Any, cfg: RunnableConfig) -> list[Any]:
            items = _items(value)
            return self.bound.batch(items, [child(cfg) for _ in items], **kwargs)

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: list[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Output]:
        async def run(value: Any, cfg: RunnableConfig) -> list[Any]:
            items = _items(value)
            return await self.bound.abatch(items, [child(cfg) for _ in items], **kwargs)

        return await self._acall_with_config(run, input, config)


class RunnableEach(RunnableEachBase[Input, Output]):
    """``bound`` on each item of a list input; wrappers apply to ``bound`` (``r.map()``)."""

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        base = name or self.name or f"RunnableEach<{self.bound.get_name()}>"
        return super().get_name(suffix, name=base)

    # -- wrappers apply to the bound runnable (LangChain) ---------------------------------
    def bind(self, **kwargs: Any) -> RunnableEach[Input, Output]:
        return RunnableEach(bound=self.bound.bind(**kwargs))

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> RunnableEach[Input, Output]:
        return RunnableEach(bound=self.bound.with_config(config, **kwargs))

    def with_listeners(
        self,
        *,
        on_start: Callable[..., Any] | None = None,
        on_end: Callable[..., Any] | None = None,
        on_error: Callable[..., Any] | None = None,
    ) -> RunnableEach[Input, Output]:
        return RunnableEach(
            bound=self.bound.with_listeners(on_start=on_start, on_end=on_end, on_error=on_error)
        )
