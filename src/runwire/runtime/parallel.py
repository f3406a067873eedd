"""``RunnableParallel``: the same input to several runnables, their outputs as a dict."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from runwire.runtime.base import Input, Runnable, child, coerce_to_runnable
from runwire.runtime.config import RunnableConfig, map_in_contexts
from runwire.runtime.configurable_spec import unique_specs
from runwire.runtime.serializable import RunnableSerializable
from runwire.runtime.tracing import AddableDict

__all__ = ["RunnableParallel"]


class RunnableParallel(RunnableSerializable[Input, dict[str, Any]]):
    """``{"a": r1, "b": r2}``: runs every branch on the input, returns ``{"a": .., "b": ..}``."""

    steps__: Mapping[str, Runnable[Any, Any]]

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if len(args) > 1:
            raise TypeError("RunnableParallel() takes one mapping of branches")
        name = kwargs.pop("name", None)
        steps = dict(args[0]) if args else dict(kwargs.pop("steps__", None) or {})
        steps.update(kwargs)
        out: dict[str, Any] = {"steps__": {k: coerce_to_runnable(v) for k, v in steps.items()}}
        if name is not None:
            out["name"] = name
        return out

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return all(step.sync_is_cheap for step in self.steps__.values())

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        base = name or self.name or f"RunnableParallel<{','.join(self.steps__)}>"
        return super().get_name(suffix, name=base)

    # -- types and schemas -------------------------------------------------------------
    @property
    def InputType(self) -> Any:
        for step in self.steps__.values():
            if step.InputType is not Any:
                return step.InputType
        return Any

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        from runwire.runtime.schemas import object_model

        fields: dict[str, tuple[Any, Any]] = {}
        for step in self.steps__.values():
            schema = step.get_input_schema(config)
            if "root" in schema.model_fields:
                continue
            for key, info in schema.model_fields.items():
                fields[key] = (info.annotation, info)
        if not fields:
            return super().get_input_schema(config)
        return object_model(self.get_name("Input"), fields)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        from runwire.runtime.schemas import object_model

        return object_model(
            self.get_name("Output"),
            {key: (step.OutputType, None) for key, step in self.steps__.items()},
        )

    @property
    def config_specs(self) -> list[Any]:
        return unique_specs(s for step in self.steps__.values() for s in step.config_specs)

    # -- calls -------------------------------------------------------------------------
    def invoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        def run(value: Any, cfg: RunnableConfig) -> dict[str, Any]:
            items = list(self.steps__.items())
            calls = [(step, child(cfg, f"map:key:{key}")) for key, step in items]
            if self.sync_is_cheap or len(items) == 1:
                outputs = [step.invoke(value, c) for step, c in calls]
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=cfg.get("max_concurrency")) as pool:
                    outputs = list(
                        map_in_contexts(pool, lambda sc: sc[0].invoke(value, sc[1]), calls)
                    )
            return {key: out for (key, _), out in zip(items, outputs, strict=True)}

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        import asyncio

        async def run(value: Any, cfg: RunnableConfig) -> dict[str, Any]:
            limit = cfg.get("max_concurrency")
            gate = asyncio.Semaphore(limit) if limit else None

            async def one(key: str, step: Runnable[Any, Any]) -> Any:
                if gate is None:
                    return await step.ainvoke(value, child(cfg, f"map:key:{key}"))
                async with gate:
                    return await step.ainvoke(value, child(cfg, f"map:key:{key}"))

            keys = list(self.steps__)
            outputs = await asyncio.gather(*(one(k, self.steps__[k]) for k in keys))
            return dict(zip(keys, outputs, strict=True))

        return await self._acall_with_config(run, input, config)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[dict[str, Any]]:
            values = list(chunks)  # every branch needs the whole input stream
            for key, step in self.steps__.items():
                for chunk in step.transform(iter(values), child(cfg, f"map:key:{key}")):
                    yield AddableDict({key: chunk})

        yield from self._transform_with_config(input, run, config)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        yield from self.transform(iter([input]), config)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        async def run(
            chunks: AsyncIterator[Any], cfg: RunnableConfig
        ) -> AsyncIterator[dict[str, Any]]:
            import asyncio

            values = [chunk async for chunk in chunks]
            queue: asyncio.Queue[Any] = asyncio.Queue()
            done = object()

            async def feed() -> AsyncIterator[Any]:
                for value in values:
                    yield value

            async def branch(key: str, step: Runnable[Any, Any]) -> None:
                try:
                    async for chunk in step.atransform(feed(), child(cfg, f"map:key:{key}")):
                        queue.put_nowait(AddableDict({key: chunk}))
                finally:
                    queue.put_nowait(done)

            tasks = [asyncio.ensure_future(branch(k, s)) for k, s in self.steps__.items()]
            try:
                remaining = len(tasks)
                while remaining:
                    item = await queue.get()
                    if item is done:
                        remaining -= 1
                        continue
                    yield item
                await asyncio.gather(*tasks)  # re-raise a branch's error
            finally:
                for task in tasks:
                    task.cancel()

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk
