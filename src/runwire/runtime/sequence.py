"""``RunnableSequence``: steps run one after the other, each fed the previous output.

Streaming flows through: the sequence chains every step's ``transform``, so a step
that transforms chunk by chunk (a parser, a passthrough, a streaming model) passes
chunks on as they come; a step that cannot waits for its whole input.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import Field

from runwire.runtime.base import Input, Output, Runnable, child
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["RunnableSequence"]


class RunnableSequence(RunnableSerializable[Input, Output]):
    """``a | b | c``: the output of each step is the input of the next."""

    first: Runnable[Any, Any]
    middle: list[Runnable[Any, Any]] = Field(default_factory=list)
    last: Runnable[Any, Any]

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if not args:
            return kwargs
        from runwire.runtime.base import coerce_to_runnable

        steps: list[Runnable[Any, Any]] = []
        for arg in args:
            step = coerce_to_runnable(arg)
            steps.extend(step.steps if isinstance(step, RunnableSequence) else [step])
        if len(steps) < 2:
            raise ValueError(f"a RunnableSequence needs at least 2 steps, got {len(steps)}")
        return {"first": steps[0], "middle": steps[1:-1], "last": steps[-1], **kwargs}

    @property
    def steps(self) -> list[Runnable[Any, Any]]:
        """All steps, in order."""
        return [self.first, *self.middle, self.last]

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return all(step.sync_is_cheap for step in self.steps)

    # -- types and schemas -------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        return self.first.InputType

    @property
    def OutputType(self) -> Any:
        return self.last.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.first.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.last.get_output_schema(config)

    @property
    def config_specs(self) -> list[Any]:
        from runwire.runtime.configurable_spec import unique_specs

        return unique_specs(spec for step in self.steps for spec in step.config_specs)

    # -- calls -------------------------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        def run(value: Any, cfg: RunnableConfig) -> Any:
            for i, step in enumerate(self.steps):
                step_config = child(cfg, f"seq:step:{i + 1}")
                value = (
                    step.invoke(value, step_config, **kwargs)
                    if i == 0
                    else step.invoke(value, step_config)
                )
            return value

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        async def run(value: Any, cfg: RunnableConfig) -> Any:
            for i, step in enumerate(self.steps):
                step_config = child(cfg, f"seq:step:{i + 1}")
                value = await (
                    step.ainvoke(value, step_config, **kwargs)
                    if i == 0
                    else step.ainvoke(value, step_config)
                )
            return value

        return await self._acall_with_config(run, input, config)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            for i, step in enumerate(self.steps):
                step_config = child(cfg, f"seq:step:{i + 1}")
                chunks = (
                    step.transform(chunks, step_config, **kwargs)
                    if i == 0
                    else step.transform(chunks, step_config)
                )
            return chunks

        yield from self._transform_with_config(input, run, config)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        yield from self.transform(iter([input]), config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            for i, step in enumerate(self.steps):
                step_config = child(cfg, f"seq:step:{i + 1}")
                chunks = (
                    step.atransform(chunks, step_config, **kwargs)
                    if i == 0
                    else step.atransform(chunks, step_config)
                )
            return chunks

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    def __or__(self, other: Any) -> Runnable[Input, Any]:
        from runwire.runtime.base import coerce_to_runnable

        nxt = coerce_to_runnable(other)
        if isinstance(nxt, RunnableSequence):
            return RunnableSequence(*self.steps, *nxt.steps, name=self.name or nxt.name)
        return RunnableSequence(*self.steps, nxt, name=self.name)

    def __ror__(self, other: Any) -> Runnable[Any, Output]:
        from runwire.runtime.base import coerce_to_runnable

        prev = coerce_to_runnable(other)
        head = prev.steps if isinstance(prev, RunnableSequence) else [prev]
        return RunnableSequence(*head, *self.steps, name=self.name)
