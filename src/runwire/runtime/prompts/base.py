"""``BasePromptTemplate``: the fields and the runnable behaviour every prompt template shares.

A prompt is a runnable from a dict of variables to a :class:`PromptValue` (run type
``"prompt"``). A prompt with exactly one input variable also takes that variable's
value alone. Missing variables raise ``KeyError`` naming them, as LangChain does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwire.runtime.callbacks import RunType
from runwire.runtime.config import RunnableConfig, ensure_config
from runwire.runtime.prompts.values import (
    ChatPromptValueConcrete,
    PromptValue,
    StringPromptValue,
)
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["BasePromptTemplate"]


def _inferred_not_required(schema: dict[str, Any]) -> None:
    """``input_variables`` is inferred from the template: authors need not write it."""
    required = schema.get("required")
    if required and "input_variables" in required:
        required.remove("input_variables")
        if not required:
            del schema["required"]


class BasePromptTemplate(RunnableSerializable[dict[str, Any], PromptValue], ABC):
    """Fields (LangChain's names and defaults) and invoke/format plumbing of prompts."""

    model_config = ConfigDict(json_schema_extra=_inferred_not_required)

    input_variables: list[str]
    """Variables the caller must give (inferred from the template)."""
    optional_variables: list[str] = Field(default_factory=list)
    """Variables the caller may give (optional message placeholders)."""
    input_types: dict[str, Any] = Field(default_factory=dict, exclude=True)
    """Types of variables that are not strings (placeholders take message lists)."""
    output_parser: Any = None
    """How to parse the model's reply to this prompt (kept for LangChain parity)."""
    partial_variables: dict[str, Any] = Field(default_factory=dict)
    """Variables already filled in: values, or zero-argument callables called per format."""
    metadata: dict[str, Any] | None = None
    """Metadata added to the run's config (tracing)."""
    tags: list[str] | None = None
    """Tags added to the run's config (tracing)."""

    run_type: ClassVar[RunType] = "prompt"
    sync_is_cheap: ClassVar[bool] = True

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "prompts"]

    @model_validator(mode="after")
    def _check_variable_names(self) -> Self:
        inputs, partials = self.input_variables, self.partial_variables
        if "stop" in inputs or "stop" in partials:
            raise ValueError(
                "a prompt variable cannot be named 'stop' (it is reserved for model calls); "
                "rename it"
            )
        if partials:
            overlap = set(inputs).intersection(partials)
            if overlap:
                raise ValueError(f"variables are both input and partial: {sorted(overlap)}")
        return self

    # -- types and schemas -------------------------------------------------------------
    @property
    def OutputType(self) -> Any:
        return StringPromptValue | ChatPromptValueConcrete

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """One field per variable: required inputs, then optional ones (default ``None``)."""
        from runwire.runtime.schemas import object_model

        fields: dict[str, tuple[Any, Any]] = {
            name: (self.input_types.get(name, str), ...) for name in self.input_variables
        }
        for name in self.optional_variables:
            fields[name] = (self.input_types.get(name, str), None)
        return object_model("PromptInput", fields)

    # -- formatting --------------------------------------------------------------------
    @abstractmethod
    def format(self, **kwargs: Any) -> Any:
        """Fill the template with ``kwargs`` (and the partial variables)."""

    async def aformat(self, **kwargs: Any) -> Any:
        """Async ``format``."""
        return self.format(**kwargs)

    @abstractmethod
    def format_prompt(self, **kwargs: Any) -> PromptValue:
        """Fill the template and return a prompt value."""

    async def aformat_prompt(self, **kwargs: Any) -> PromptValue:
        """Async ``format_prompt``."""
        return self.format_prompt(**kwargs)

    def _merge_partials(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The partial variables (callables called) overridden by ``kwargs``."""
        partials = self.partial_variables
        if not partials:
            return kwargs
        merged = {k: v() if callable(v) else v for k, v in partials.items()}
        merged.update(kwargs)
        return merged

    def partial(self, **kwargs: Any) -> Self:
        """A copy with some variables filled in (values or zero-argument callables)."""
        data = dict(self.__dict__)
        data["input_variables"] = [v for v in self.input_variables if v not in kwargs]
        data["partial_variables"] = {**self.partial_variables, **kwargs}
        return type(self).model_validate(data)

    # -- running -----------------------------------------------------------------------
    def _check_input(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            if len(self.input_variables) != 1:
                raise TypeError(
                    f"{type(self).__name__} takes a dict of variables "
                    f"{self.input_variables}, got {type(value).__name__}"
                )
            return {self.input_variables[0]: value}
        missing = [name for name in self.input_variables if name not in value]
        if missing:
            raise KeyError(
                f"Input to {type(self).__name__} is missing variables {missing}. "
                f"Expected: {self.input_variables}. Received: {list(value)}. "
                f"If {{{missing[0]}}} is meant as literal text, escape it as "
                f"{{{{{missing[0]}}}}} (f-string templates)."
            )
        return value

    def _run(self, value: Any, config: RunnableConfig) -> PromptValue:
        return self.format_prompt(**self._check_input(value))

    def _own_config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        if not (self.metadata or self.tags):
            return config
        full = ensure_config(config)
        if self.metadata:
            full["metadata"] = {**full["metadata"], **self.metadata}
        if self.tags:
            full["tags"] = [*full["tags"], *self.tags]
        return full

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> PromptValue:
        """Format the prompt from a dict of variables (or the single variable's value)."""
        return self._call_with_config(self._run, input, self._own_config(config), "prompt")
