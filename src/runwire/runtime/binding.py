"""``RunnableBinding``: another runnable, called with bound kwargs, config, types or listeners.

A binding adds no run of its own: every call goes straight to ``bound`` with the bound
kwargs merged under the call's kwargs and the bound config merged under the call's
config (tags unioned, metadata merged, callbacks added). ``config_factories`` compute
more config per call; ``with_listeners`` uses one to watch the bound runnable's run.

``RunnableBindingBase`` is LangChain's base class, loaded as itself: it calls the same
way, but ``bind``/``with_config``/... wrap it in a new binding (the generic ``Runnable``
behaviour) where ``RunnableBinding`` folds them into itself and forwards other
attributes to ``bound``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import wraps
from typing import Any

from pydantic import BaseModel, Field, field_validator

from runwire.runtime.base import Input, Output, Runnable
from runwire.runtime.callbacks import Run
from runwire.runtime.config import RunnableConfig, get_config_list, merge_configs
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.nodes import SerializedConstructor, SerializedNotImplemented

__all__ = ["RunnableBinding", "RunnableBindingBase", "listeners_binding"]

ConfigFactory = Callable[[RunnableConfig], RunnableConfig]
Listener = Callable[..., Any]


# -- the binding ---------------------------------------------------------------------
class RunnableBindingBase(RunnableSerializable[Input, Output]):
    """``bound`` called with ``kwargs`` and ``config`` merged in (LangChain's base class)."""

    bound: Runnable[Any, Any]
    """The runnable every call goes to."""
    kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments passed to every call (the call's own kwargs win)."""
    config: dict[str, Any] = Field(default_factory=dict)
    """A ``RunnableConfig`` merged under every call's config."""
    config_factories: list[ConfigFactory] = Field(default_factory=list, exclude=True)
    """Functions of the merged config returning more config to merge in (not written)."""
    custom_input_type: Any = None
    """Declared input type (a type annotation or a pydantic model), for schemas."""
    custom_output_type: Any = None
    """Declared output type (a type annotation or a pydantic model), for schemas."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @field_validator("kwargs", "config", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("config_factories", mode="before")
    @classmethod
    def _no_factories(cls, value: Any) -> Any:
        return [] if value is None else value

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain always writes ``config``, even empty; so does this."""
        node = super().to_json()
        kwargs = node.get("kwargs")
        if kwargs is None or "config" in kwargs:
            return node
        after = "kwargs" if "kwargs" in kwargs else "bound"
        rebuilt: dict[str, Any] = {}
        for key, value in kwargs.items():
            rebuilt[key] = value
            if key == after:
                rebuilt["config"] = {}
        node["kwargs"] = rebuilt  # type: ignore[typeddict-item]
        return node

    # -- names, types, schemas ---------------------------------------------------------
    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The bound runnable's name (LangChain's behaviour: a binding is transparent)."""
        return self.bound.get_name(suffix, name=name)

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return self.bound.sync_is_cheap

    @property
    def InputType(self) -> Any:
        if self.custom_input_type is not None:
            return self.custom_input_type
        return self.bound.InputType

    @property
    def OutputType(self) -> Any:
        if self.custom_output_type is not None:
            return self.custom_output_type
        return self.bound.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        if self.custom_input_type is not None:
            return _schema(self.get_name("Input"), self.custom_input_type)
        return self.bound.get_input_schema(self._schema_config(config))

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        if self.custom_output_type is not None:
            return _schema(self.get_name("Output"), self.custom_output_type)
        return self.bound.get_output_schema(self._schema_config(config))

    def _schema_config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        return merge_configs(self.config, config) if self.config else config  # type: ignore[arg-type]

    @property
    def config_specs(self) -> list[Any]:
        return self.bound.config_specs

    # -- config and kwargs for one call -------------------------------------------------
    def _merged(self, config: RunnableConfig | None) -> RunnableConfig | None:
        """The call's config with the bound config and the factories' config merged in."""
        if not self.config and not self.config_factories:
            return config  # nothing bound: the bound runnable ensures the config itself
        merged = merge_configs(self.config, config)  # type: ignore[arg-type]
        if self.config_factories:
            merged = merge_configs(merged, *(f(merged) for f in self.config_factories))
        return merged

    def _merged_list(
        self, config: RunnableConfig | Sequence[RunnableConfig] | None, length: int
    ) -> Any:
        if not self.config and not self.config_factories:
            return config
        return [self._merged(c) for c in get_config_list(config, length)]

    def _kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if not self.kwargs:
            return kwargs
        return {**self.kwargs, **kwargs} if kwargs else self.kwargs

    # -- calls -------------------------------------------------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        return self.bound.invoke(input, self._merged(config), **self._kwargs(kwargs))

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        return await self.bound.ainvoke(input, self._merged(config), **self._kwargs(kwargs))

    def batch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        return self.bound.batch(
            inputs,
            self._merged_list(config, len(inputs)),
            return_exceptions=return_exceptions,
            **self._kwargs(kwargs),
        )

    async def abatch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        return await self.bound.abatch(
            inputs,
            self._merged_list(config, len(inputs)),
            return_exceptions=return_exceptions,
            **self._kwargs(kwargs),
        )

    def batch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[int, Output | Exception]]:
        yield from self.bound.batch_as_completed(
            inputs,
            self._merged_list(config, len(inputs)),
            return_exceptions=return_exceptions,
            **self._kwargs(kwargs),
        )

    async def abatch_as_completed(
        self,
        inputs: Sequence[Input],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[tuple[int, Output | Exception]]:
        async for item in self.bound.abatch_as_completed(
            inputs,
            self._merged_list(config, len(inputs)),
            return_exceptions=return_exceptions,
            **self._kwargs(kwargs),
        ):
            yield item

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        yield from self.bound.stream(input, self._merged(config), **self._kwargs(kwargs))

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        async for chunk in self.bound.astream(input, self._merged(config), **self._kwargs(kwargs)):
            yield chunk

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        yield from self.bound.transform(input, self._merged(config), **self._kwargs(kwargs))

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        async for chunk in self.bound.atransform(
            input, self._merged(config), **self._kwargs(kwargs)
        ):
            yield chunk


class RunnableBinding(RunnableBindingBase[Input, Output]):
    """``bound`` called with ``kwargs`` and ``config`` merged in (``bind``, ``with_config``...).

    Wrapping it again folds into this one binding; other attributes come from ``bound``.
    """

    # -- wrappers: a binding of a binding is one binding ----------------------------------
    def bind(self, **kwargs: Any) -> Runnable[Input, Output]:
        return self.model_copy(update={"kwargs": {**self.kwargs, **kwargs}})

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        # LangChain replaces keys here (a later ``tags`` replaces earlier ones), no merge
        return self.model_copy(update={"config": {**self.config, **(config or {}), **kwargs}})

    def with_types(
        self, *, input_type: Any = None, output_type: Any = None
    ) -> Runnable[Input, Output]:
        return self.model_copy(
            update={
                "custom_input_type": (
                    input_type if input_type is not None else self.custom_input_type
                ),
                "custom_output_type": (
                    output_type if output_type is not None else self.custom_output_type
                ),
            }
        )

    def with_listeners(
        self,
        *,
        on_start: Listener | None = None,
        on_end: Listener | None = None,
        on_error: Listener | None = None,
    ) -> Runnable[Input, Output]:
        factory = _listener_factory(on_start, on_end, on_error)
        return self.model_copy(update={"config_factories": [factory, *self.config_factories]})

    def with_retry(self, **kwargs: Any) -> Runnable[Input, Output]:
        """Retry the bound runnable; this binding's kwargs and config stay outside."""
        return self.model_copy(update={"bound": self.bound.with_retry(**kwargs)})

    def __getattr__(self, name: str) -> Any:
        """Other attributes come from the bound runnable; its methods that take a
        ``config`` get this binding's config merged in."""
        if name.startswith("_"):
            return super().__getattr__(name)  # type: ignore[misc]
        bound = self.__dict__.get("bound")
        if bound is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        attr = getattr(bound, name)
        if not self.config or not callable(attr):
            return attr
        return _with_bound_config(attr, self.config)


def _with_bound_config(attr: Callable[..., Any], bound_config: dict[str, Any]) -> Any:
    try:
        params = list(inspect.signature(attr).parameters.values())
    except (TypeError, ValueError):
        return attr
    index = next((i for i, p in enumerate(params) if p.name == "config"), None)
    if index is None:
        return attr
    positional = params[index].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD

    @wraps(attr)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if positional and len(args) > index:
            args = (
                *args[:index],
                merge_configs(bound_config, args[index]),
                *args[index + 1 :],
            )  # type: ignore[arg-type]
            return attr(*args, **kwargs)
        kwargs["config"] = merge_configs(bound_config, kwargs.get("config"))  # type: ignore[arg-type]
        return attr(*args, **kwargs)

    return wrapper


def _schema(name: str, annotation: Any) -> type[BaseModel]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    from runwire.runtime.schemas import root_model

    return root_model(name, annotation)


# -- listeners -----------------------------------------------------------------------
def _adapt_listener(func: Listener | None) -> Callable[[Run, RunnableConfig], Any] | None:
    """Call a listener as ``f(run)``, ``f(run, config=...)`` or ``f(run, config)``."""
    if func is None:
        return None
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return lambda run, config: func(run)
    if "config" in params:
        return lambda run, config: func(run, config=config)
    positional = [
        p
        for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    takes_two = len(positional) >= 2 or any(
        p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()
    )
    if takes_two:
        return lambda run, config: func(run, config)
    return lambda run, config: func(run)


class _RootListener:
    """A handler that reports only the first run it sees (the bound runnable's run)."""

    __slots__ = ("config", "on_end_fn", "on_error_fn", "on_start_fn", "root_id")

    def __init__(
        self,
        config: RunnableConfig,
        on_start: Callable[[Run, RunnableConfig], Any] | None,
        on_end: Callable[[Run, RunnableConfig], Any] | None,
        on_error: Callable[[Run, RunnableConfig], Any] | None,
    ) -> None:
        self.config = config
        self.on_start_fn = on_start
        self.on_end_fn = on_end
        self.on_error_fn = on_error
        self.root_id: Any = None

    def on_start(self, run: Run) -> None:
        if self.root_id is not None:
            return
        self.root_id = run.id
        if self.on_start_fn is not None:
            self.on_start_fn(run, self.config)

    def on_end(self, run: Run) -> None:
        if run.id == self.root_id and self.on_end_fn is not None:
            self.on_end_fn(run, self.config)

    def on_error(self, run: Run) -> None:
        if run.id == self.root_id and self.on_error_fn is not None:
            self.on_error_fn(run, self.config)


def _listener_factory(
    on_start: Listener | None, on_end: Listener | None, on_error: Listener | None
) -> ConfigFactory:
    start, end, error = (
        _adapt_listener(on_start),
        _adapt_listener(on_end),
        _adapt_listener(on_error),
    )

    def factory(config: RunnableConfig) -> RunnableConfig:
        return {"callbacks": [_RootListener(config, start, end, error)]}

    return factory


def listeners_binding(
    runnable: Runnable[Input, Output],
    *,
    on_start: Listener | None = None,
    on_end: Listener | None = None,
    on_error: Listener | None = None,
) -> RunnableBinding[Input, Output]:
    """``runnable`` calling ``on_start/on_end/on_error(run[, config])`` around each of its runs.

    Only the runnable's own run is reported, not the runs of its children; listeners
    are not written by ``dumps`` (code is not data).
    """
    return RunnableBinding(
        bound=runnable,
        kwargs={},
        config={},
        config_factories=[_listener_factory(on_start, on_end, on_error)],
    )
