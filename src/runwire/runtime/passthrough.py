"""Passing input through: ``RunnablePassthrough``, ``RunnableAssign`` and ``RunnablePick``."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from pydantic import Field

from runwire.runtime.base import Input, add_chunks, child
from runwire.runtime.config import RunnableConfig
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.serializable import RunnableSerializable
from runwire.runtime.tracing import AddableDict

__all__ = ["RunnableAssign", "RunnablePassthrough", "RunnablePick"]


class RunnablePassthrough(RunnableSerializable[Input, Input]):
    """Returns its input unchanged (optionally calling ``func`` on it first)."""

    input_type: Any = Field(default=None, exclude=True)
    func: Callable[..., Any] | None = Field(default=None, exclude=True)
    afunc: Callable[..., Any] | None = Field(default=None, exclude=True)

    sync_is_cheap = True

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if len(args) > 2:
            raise TypeError("RunnablePassthrough() takes at most func and afunc positionally")
        for field, value in zip(("func", "afunc"), args, strict=False):
            if field in kwargs:
                raise TypeError(f"RunnablePassthrough() got {field!r} twice")
            kwargs[field] = value
        if inspect.iscoroutinefunction(kwargs.get("func")):
            kwargs["afunc"], kwargs["func"] = kwargs["func"], None
        return kwargs

    @classmethod
    def assign(cls, **kwargs: Any) -> RunnableAssign:  # type: ignore[override]
        """Pass the input dict through with keys added, computed from it."""
        return RunnableAssign(mapper=RunnableParallel(kwargs))

    @property
    def InputType(self) -> Any:
        return self.input_type or Any

    @property
    def OutputType(self) -> Any:
        return self.input_type or Any

    def _side_effect(self, value: Any, config: RunnableConfig) -> None:
        if self.func is not None:
            _call_maybe_with_config(self.func, value, config)

    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Input:
        if self.func is None:
            return self._call_with_config(_identity, input, config)

        def run(value: Any, cfg: RunnableConfig) -> Any:
            self._side_effect(value, cfg)
            return value

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Input:
        async def run(value: Any, cfg: RunnableConfig) -> Any:
            if self.afunc is not None:
                await _call_maybe_with_config(self.afunc, value, cfg)
            else:
                self._side_effect(value, cfg)
            return value

        return await self._acall_with_config(run, input, config)

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Input]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            total: Any = None
            for chunk in chunks:
                total = chunk if total is None else add_chunks(total, chunk)
                yield chunk
            if total is not None:
                self._side_effect(total, cfg)

        yield from self._transform_with_config(input, run, config)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Input]:
        yield from self.transform(iter([input]), config)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Input]:
        async def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            total: Any = None
            async for chunk in chunks:
                total = chunk if total is None else add_chunks(total, chunk)
                yield chunk
            if total is not None:
                if self.afunc is not None:
                    await _call_maybe_with_config(self.afunc, total, cfg)
                else:
                    self._side_effect(total, cfg)

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Input]:
        yield await self.ainvoke(input, config)


def _identity(value: Any, config: RunnableConfig) -> Any:
    return value


def _call_maybe_with_config(func: Callable[..., Any], value: Any, config: RunnableConfig) -> Any:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return func(value)
    return func(value, config=config) if "config" in params else func(value)


class RunnableAssign(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """Returns the input dict plus the keys its ``mapper`` computes from it."""

    mapper: RunnableParallel[dict[str, Any]]

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            kwargs["mapper"] = args[0]
        return kwargs

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return self.mapper.sync_is_cheap

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        base = name or self.name or f"RunnableAssign<{','.join(self.mapper.steps__)}>"
        return super().get_name(suffix, name=base)

    def get_input_schema(self, config: RunnableConfig | None = None) -> Any:
        return self.mapper.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> Any:
        from runwire.runtime.schemas import object_model

        fields: dict[str, tuple[Any, Any]] = {}
        source = self.mapper.get_input_schema(config)
        if "root" not in source.model_fields:
            fields.update({k: (f.annotation, f) for k, f in source.model_fields.items()})
        fields.update({k: (s.OutputType, None) for k, s in self.mapper.steps__.items()})
        return object_model(self.get_name("Output"), fields)

    @property
    def config_specs(self) -> list[Any]:
        return self.mapper.config_specs

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        def run(value: Any, cfg: RunnableConfig) -> dict[str, Any]:
            _require_dict(value)
            return {**value, **self.mapper.invoke(value, child(cfg))}

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        async def run(value: Any, cfg: RunnableConfig) -> dict[str, Any]:
            _require_dict(value)
            return {**value, **await self.mapper.ainvoke(value, child(cfg))}

        return await self._acall_with_config(run, input, config)

    def transform(
        self, input: Iterator[dict[str, Any]], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[dict[str, Any]]:
            keys = set(self.mapper.steps__)
            seen: list[Any] = []
            for chunk in chunks:  # the input streams through as it comes
                _require_dict(chunk)
                seen.append(chunk)
                passed = AddableDict({k: v for k, v in chunk.items() if k not in keys})
                if passed:
                    yield passed
            yield from self.mapper.transform(iter(seen), child(cfg))

        yield from self._transform_with_config(input, run, config)

    async def atransform(
        self,
        input: AsyncIterator[dict[str, Any]],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        async def run(
            chunks: AsyncIterator[Any], cfg: RunnableConfig
        ) -> AsyncIterator[dict[str, Any]]:
            keys = set(self.mapper.steps__)
            seen: list[Any] = []
            async for chunk in chunks:
                _require_dict(chunk)
                seen.append(chunk)
                passed = AddableDict({k: v for k, v in chunk.items() if k not in keys})
                if passed:
                    yield passed

            async def replay() -> AsyncIterator[Any]:
                for chunk in seen:
                    yield chunk

            async for out in self.mapper.atransform(replay(), child(cfg)):
                yield out

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk

    def stream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        yield from self.transform(iter([input]), config)


def _require_dict(value: Any, owner: str = "RunnableAssign") -> None:
    if not isinstance(value, dict):
        raise TypeError(
            f"{owner} takes a dict input, got {type(value).__name__}: "
            "put a step that returns a dict before it"
        )


class RunnablePick(RunnableSerializable[dict[str, Any], Any]):
    """Picks one key (a value) or several keys (a dict) from a dict input."""

    keys: str | list[str]

    sync_is_cheap = True

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            kwargs["keys"] = args[0]
        return kwargs

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        keys = self.keys if isinstance(self.keys, str) else ",".join(self.keys)
        return super().get_name(suffix, name=name or self.name or f"RunnablePick<{keys}>")

    def _pick(self, value: Any) -> Any:
        _require_dict(value, "RunnablePick")
        if isinstance(self.keys, str):
            return value.get(self.keys)
        picked = AddableDict({k: value[k] for k in self.keys if k in value})
        return picked or None

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return self._call_with_config(lambda v, _: self._pick(v), input, config)

    def transform(
        self, input: Iterator[dict[str, Any]], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            for chunk in chunks:
                picked = self._pick(chunk)
                if picked is not None:
                    yield picked

        yield from self._transform_with_config(input, run, config)

    def stream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self.transform(iter([input]), config)

    async def atransform(
        self,
        input: AsyncIterator[dict[str, Any]],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        async def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            async for chunk in chunks:
                picked = self._pick(chunk)
                if picked is not None:
                    yield picked

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk
