"""``StructuredPrompt``: a chat prompt that carries the schema its model must answer in.

``StructuredPrompt(messages, schema) | model`` is ``prompt | model.with_structured_output(
schema, **structured_output_kwargs)``, as in LangChain. In a file the schema is a JSON
Schema (a dict); a pydantic class works from Python (and is written as LangChain writes
it: ``not_implemented``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from runwire.runtime.base import Runnable, coerce_to_runnable
from runwire.runtime.prompts.chat import ChatPromptTemplate

__all__ = ["StructuredPrompt"]

_OWN_KWARGS = frozenset(
    ("messages", "schema_", "schema", "structured_output_kwargs", "template_format")
)


class StructuredPrompt(ChatPromptTemplate):
    """A chat prompt with an output schema: ``StructuredPrompt([("human", "{q}")],
    {"title": "Answer", "type": "object", ...}, method="json_schema")``.

    Keyword arguments that are not fields go to ``structured_output_kwargs``, the
    arguments of the model's ``with_structured_output``.
    """

    schema_: dict[str, Any] | type
    """The output schema: a JSON Schema (with a ``title``) or a pydantic class."""
    structured_output_kwargs: dict[str, Any] = Field(default_factory=dict)
    """More arguments of ``with_structured_output`` (``method``, ``include_raw``, ...)."""

    lc_data_fields = frozenset({"schema_", "structured_output_kwargs"})

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if len(args) > 2:
            raise TypeError("StructuredPrompt() takes at most two positional arguments")
        for name, value in zip(("messages", "schema_"), args, strict=False):
            if name in kwargs:
                raise TypeError(f"StructuredPrompt() got {name!r} twice")
            kwargs[name] = value
        if "schema" in kwargs:
            kwargs["schema_"] = kwargs.get("schema_") or kwargs.pop("schema")
        fields = set(cls.model_fields) | _OWN_KWARGS
        extra = {key: kwargs.pop(key) for key in list(kwargs) if key not in fields}
        if extra:
            kwargs["structured_output_kwargs"] = {
                **(kwargs.get("structured_output_kwargs") or {}),
                **extra,
            }
        return kwargs

    @model_validator(mode="before")
    @classmethod
    def _check_schema(cls, values: Any) -> Any:
        if isinstance(values, dict) and not values.get("schema_"):
            raise ValueError(
                "Must pass in a non-empty structured output schema. Received: "
                f"{values.get('schema_')!r}"
            )
        return values

    @classmethod
    def from_messages_and_schema(
        cls, messages: Any, schema: dict[str, Any] | type, **kwargs: Any
    ) -> StructuredPrompt:
        """A structured prompt; ``kwargs`` that are not fields go to the model's
        ``with_structured_output``."""
        return cls(messages, schema, **kwargs)

    def __or__(self, other: Any) -> Runnable[Any, Any]:
        return self.pipe(other)

    def pipe(self, *others: Any, name: str | None = None) -> Runnable[Any, Any]:
        """``self``, then ``others[0].with_structured_output(schema, **kwargs)``, then the
        rest of ``others``. The first must be a model with ``with_structured_output``."""
        from runwire.runtime.sequence import RunnableSequence

        first = others[0] if others else None
        method = getattr(first, "with_structured_output", None)
        if not callable(method):
            got = type(first).__name__ if others else "nothing"
            raise NotImplementedError(
                "Structured prompts need to be piped to a language model: "
                f"{got} has no with_structured_output(schema, **kwargs)"
            )
        model = method(self.schema_, **self.structured_output_kwargs)
        rest = [coerce_to_runnable(o) for o in others[1:]]
        return RunnableSequence(self, model, *rest, name=name)
