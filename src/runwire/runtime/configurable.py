"""Runnables configured per call: ``configurable_fields`` and ``configurable_alternatives``.

A ``RunnableConfigurableFields`` wraps a runnable and rebuilds it with other field values
taken from ``config["configurable"]``; a ``RunnableConfigurableAlternatives`` picks one
of several runnables by a key found there. Both then hand the call over unchanged (they
are not runs of their own). The field declarations (``ConfigurableField`` and the
option variants) are plain named tuples: on the wire they are JSON lists, as LangChain
writes them, e.g. ``["temperature", null, null, null, false]``; they live in
:mod:`runwire.runtime.configurable_spec`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from functools import wraps
from typing import Any

from pydantic import BaseModel, ValidationError, model_validator

from runwire.errors import TemplateError
from runwire.runtime.base import Input, Output, Runnable
from runwire.runtime.config import RunnableConfig, ensure_config, get_config_list, merge_configs
from runwire.runtime.configurable_spec import (
    AnyConfigurableField,
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    ConfigurableFieldSpec,
    FieldDecl,
    WhichDecl,
    options_enum,
    options_spec,
    pick_option,
    prefix_config_spec,
    refuse_client_jinja2,
    unique_specs,
)
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.trust import trust_of, trust_scope

__all__ = [
    "AnyConfigurableField",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "RunnableConfigurableAlternatives",
    "RunnableConfigurableFields",
    "prefix_config_spec",
]


def _check_fields(default: Any, fields: Mapping[str, Any]) -> None:
    """Every key must be a field of ``default``; option defaults must be options."""
    if not isinstance(default, BaseModel):
        raise ValueError(
            "configurable fields need a pydantic runnable (a RunnableSerializable) as "
            f"default, got {type(default).__name__}"
        )
    known = type(default).model_fields
    for key, spec in fields.items():
        if key not in known:
            raise ValueError(
                f"configurable field {key!r} is not a field of {type(default).__name__}: "
                f"use one of {sorted(known)}"
            )
        if isinstance(spec, ConfigurableFieldSingleOption | ConfigurableFieldMultiOption):
            chosen = [spec.default] if isinstance(spec.default, str) else list(spec.default)
            for choice in chosen:
                if choice not in spec.options:
                    raise ValueError(
                        f"configurable {spec.id!r}: default {choice!r} is not one of its "
                        f"options {sorted(spec.options)}"
                    )


class _DynamicRunnable(RunnableSerializable[Input, Output]):
    """A runnable chosen or rebuilt per call from ``config["configurable"]``."""

    default: Runnable[Any, Any]
    config: dict[str, Any] | None = None

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @abstractmethod
    def _prepare(
        self, config: RunnableConfig
    ) -> tuple[Runnable[Input, Output], RunnableConfig]: ...

    def prepare(
        self, config: RunnableConfig | None = None
    ) -> tuple[Runnable[Input, Output], RunnableConfig]:
        """The runnable this config selects (through every nested level) and its config."""
        runnable: Runnable[Input, Output] = self
        cfg: RunnableConfig = config if config is not None else {}
        while isinstance(runnable, _DynamicRunnable):
            if runnable.config:
                cfg = merge_configs(runnable.config, cfg)  # type: ignore[arg-type]
            runnable, cfg = runnable._prepare(cfg)
        return runnable, cfg

    @property
    def InputType(self) -> Any:
        return self.default.InputType

    @property
    def OutputType(self) -> Any:
        return self.default.OutputType

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        runnable, cfg = self.prepare(config)
        return runnable.get_input_schema(cfg)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        runnable, cfg = self.prepare(config)
        return runnable.get_output_schema(cfg)

    def with_config(
        self, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Runnable[Input, Output]:
        merged = ensure_config(merge_configs(self.config, config, kwargs))  # type: ignore[arg-type]
        return type(self).model_validate({**self.__dict__, "config": merged})

    # -- calls: all delegated to the prepared runnable ---------------------------------
    def invoke(self, input: Input, config: RunnableConfig | None = None, **kwargs: Any) -> Output:
        runnable, cfg = self.prepare(config)
        return runnable.invoke(input, cfg, **kwargs)

    async def ainvoke(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Output:
        runnable, cfg = self.prepare(config)
        return await runnable.ainvoke(input, cfg, **kwargs)

    def _prepare_all(
        self, configs: list[RunnableConfig]
    ) -> list[tuple[Runnable[Input, Output], RunnableConfig]] | None:
        """Prepared configs when every one selects ``default`` unchanged, else ``None``."""
        try:
            prepared = [self.prepare(c) for c in configs]
        except Exception:  # let the per-input calls raise (or return) the error
            return None
        return prepared if prepared and all(p is self.default for p, _ in prepared) else None

    def batch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        configs = get_config_list(config, len(inputs))
        prepared = self._prepare_all(configs)
        if prepared:  # every input runs on the default: keep its own (maybe native) batch
            configs = [c for _, c in prepared]
            return self.default.batch(
                inputs, configs, return_exceptions=return_exceptions, **kwargs
            )
        return super().batch(inputs, configs, return_exceptions=return_exceptions, **kwargs)

    async def abatch(
        self,
        inputs: list[Input],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Output]:
        configs = get_config_list(config, len(inputs))
        prepared = self._prepare_all(configs)
        if prepared:
            configs = [c for _, c in prepared]
            return await self.default.abatch(
                inputs, configs, return_exceptions=return_exceptions, **kwargs
            )
        return await super().abatch(inputs, configs, return_exceptions=return_exceptions, **kwargs)

    def stream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        runnable, cfg = self.prepare(config)
        return runnable.stream(input, cfg, **kwargs)

    async def astream(
        self, input: Input, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        runnable, cfg = self.prepare(config)
        async for chunk in runnable.astream(input, cfg, **kwargs):
            yield chunk

    def transform(
        self, input: Iterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Output]:
        runnable, cfg = self.prepare(config)
        return runnable.transform(input, cfg, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Input], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Output]:
        runnable, cfg = self.prepare(config)
        async for chunk in runnable.atransform(input, cfg, **kwargs):
            yield chunk

    def __getattr__(self, name: str) -> Any:
        """Other attributes come from ``default``; methods given a config with
        ``configurable`` run on the runnable that config selects (as in LangChain)."""
        if name.startswith("__") or "default" not in self.__dict__:
            return super().__getattr__(name)  # type: ignore[misc]
        if name.startswith("_"):
            try:
                return super().__getattr__(name)  # type: ignore[misc]
            except AttributeError:
                pass
        attr = getattr(self.__dict__["default"], name)
        if not callable(attr):
            return attr

        @wraps(attr)
        def delegate(*args: Any, **kwargs: Any) -> Any:
            for key, arg in [*enumerate(args), *kwargs.items()]:
                if isinstance(arg, dict) and isinstance(arg.get("configurable"), dict):
                    runnable, cfg = self.prepare(arg)  # type: ignore[arg-type]
                    if isinstance(key, int):
                        args = (*args[:key], cfg, *args[key + 1 :])
                    else:
                        kwargs = {**kwargs, key: cfg}
                    return getattr(runnable, name)(*args, **kwargs)
            if self.config:
                return getattr(self.prepare()[0], name)(*args, **kwargs)
            return attr(*args, **kwargs)

        return delegate


class RunnableConfigurableFields(_DynamicRunnable[Input, Output]):
    """``default`` rebuilt with the field values ``config["configurable"]`` sets.

    A template or template format set by a request's config never renders as jinja2
    unless ``allow_jinja2`` is true (option fields, which the deployer wrote, may).
    """

    fields: dict[str, FieldDecl]
    allow_jinja2: bool = False
    """Let a request's config set a template that renders as jinja2 (trusted callers only)."""

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = super()._init_kwargs(args, kwargs)
        _check_fields(kwargs.get("default"), kwargs.get("fields") or {})  # plain errors
        return kwargs

    @model_validator(mode="after")
    def _valid_fields(self) -> RunnableConfigurableFields[Input, Output]:
        _check_fields(self.default, self.fields)
        return self

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        # a configurable template_format may pick a format that renders off the loop
        return self.default.sync_is_cheap and "template_format" not in self.fields

    @property
    def config_specs(self) -> list[Any]:
        known = type(self.default).model_fields
        specs = []
        for key, spec in self.fields.items():
            info = known[key]
            if isinstance(spec, ConfigurableField):
                specs.append(
                    ConfigurableFieldSpec(
                        id=spec.id,
                        name=spec.name,
                        description=spec.description or info.description,
                        annotation=spec.annotation or info.annotation,
                        default=getattr(self.default, key),
                        is_shared=spec.is_shared,
                    )
                )
            else:
                specs.append(options_spec(spec, info.description))
        return unique_specs([*specs, *self.default.config_specs])

    def configurable_fields(self, **fields: Any) -> RunnableSerializable[Input, Output]:
        wider = self.default.configurable_fields(**{**self.fields, **fields})
        return wider.model_copy(update={"allow_jinja2": True}) if self.allow_jinja2 else wider

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable[Input, Output], RunnableConfig]:
        values = config.get("configurable") or {}
        updates: dict[str, Any] = {}
        chosen: dict[str, str] = {}
        for key, spec in self.fields.items():
            if isinstance(spec, ConfigurableField):
                if spec.id in values:
                    updates[key] = values[spec.id]
                    chosen[key] = spec.id
            elif isinstance(spec, ConfigurableFieldSingleOption):
                updates[key] = pick_option(spec, values.get(spec.id) or spec.default)
            else:
                keys = values.get(spec.id, spec.default)
                if isinstance(keys, str) or not isinstance(keys, Sequence):
                    raise ValueError(
                        f"configurable {spec.id!r}: expected a list of option keys, got {keys!r}"
                    )
                updates[key] = [pick_option(spec, k) for k in keys]
        if not updates:
            return self.default, config
        if chosen and not self.allow_jinja2:
            refuse_client_jinja2(self.default, chosen, updates)
        return self._rebuild(updates), config

    def _rebuild(self, updates: dict[str, Any]) -> RunnableSerializable[Input, Output]:
        cls = type(self.default)
        current = self.default.__dict__
        values = {name: current[name] for name in cls.model_fields if name in current}
        values.update(updates)
        try:
            with trust_scope(trust_of(self.default)):  # no more trusted than the original
                return cls.model_validate(values)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            field = str(problem["loc"][0]) if problem["loc"] else None
            spec = self.fields.get(field) if field else None
            which = f"configurable {spec.id!r} (field {field!r})" if spec else f"{cls.__name__}"
            cause = (problem.get("ctx") or {}).get("error")
            if isinstance(cause, TemplateError):  # a bad template from the request: a 422
                raise TemplateError(f"{which}: {cause.message}", hint=cause.hint) from None
            raise ValueError(f"{which}: {problem['msg']}") from exc


class RunnableConfigurableAlternatives(_DynamicRunnable[Input, Output]):
    """``default`` or one of ``alternatives``, by the key ``config["configurable"][which.id]``.

    With ``prefix_keys`` each alternative's own configurable ids are namespaced as
    ``"{which.id}=={key}/{id}"``.
    """

    which: WhichDecl
    alternatives: dict[str, Runnable[Any, Any] | Callable[[], Runnable[Any, Any]]]
    default_key: str = "default"
    prefix_keys: bool

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        return self.default.sync_is_cheap and all(
            alt.sync_is_cheap for alt in self.alternatives.values() if isinstance(alt, Runnable)
        )

    @property
    def config_specs(self) -> list[Any]:
        which = self.which
        keys = tuple(dict.fromkeys([*self.alternatives, self.default_key]))
        specs = [
            ConfigurableFieldSpec(
                id=which.id,
                name=which.name,
                description=which.description,
                annotation=options_enum(which.name or which.id, keys),
                default=self.default_key,
                is_shared=which.is_shared,
            )
        ]
        branches = [(self.default_key, self.default), *self.alternatives.items()]
        for key, alt in branches:
            if not isinstance(alt, Runnable):
                continue
            for spec in alt.config_specs:
                prefixed = self.prefix_keys
                specs.append(prefix_config_spec(spec, f"{which.id}=={key}") if prefixed else spec)
        return unique_specs(specs)

    def configurable_fields(self, **fields: Any) -> RunnableSerializable[Input, Output]:
        return type(self)(
            which=self.which,
            default=self.default.configurable_fields(**fields),  # type: ignore[attr-defined]
            alternatives=self.alternatives,
            default_key=self.default_key,
            prefix_keys=self.prefix_keys,
        )

    def _prepare(self, config: RunnableConfig) -> tuple[Runnable[Input, Output], RunnableConfig]:
        values = config.get("configurable") or {}
        key = values.get(self.which.id, self.default_key)
        if self.prefix_keys:
            prefix = f"{self.which.id}=={key}/"
            config = {
                **config,
                "configurable": {k.removeprefix(prefix): v for k, v in values.items()},
            }  # type: ignore[assignment]
        if key == self.default_key:
            return self.default, config
        try:
            alt = self.alternatives[key]
        except (KeyError, TypeError):
            expected = sorted([*self.alternatives, self.default_key])
            raise ValueError(
                f"configurable {self.which.id!r}: unknown alternative {key!r}, "
                f"expected one of {expected}"
            ) from None
        return (alt if isinstance(alt, Runnable) else alt()), config
