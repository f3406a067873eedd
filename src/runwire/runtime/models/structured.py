"""``with_structured_output`` as a serializable runnable: a chat model answering with a schema.

``RunnableWithStructuredOutput`` holds the chat model, the schema as JSON Schema, the
method and ``include_raw``, so a file can hold it (LangChain returns a sequence with
Python callables in it, written as ``not_implemented``). When called it runs what
LangChain's ``with_structured_output`` runs:

- ``function_calling``: the model with the schema bound as its one tool, forced
  (``BaseChatModel._structured_tool_choice``), then ``PydanticToolsParser`` (first call,
  validated) or ``JsonOutputKeyToolsParser`` (first call to the tool, as a dict);
- ``json_mode`` / ``json_schema``: the model bound to answer in JSON (only models that
  implement ``_bind_structured_output`` for that method), then ``PydanticOutputParser``
  or ``JsonOutputParser``.
With ``include_raw`` the output is ``{"raw": message, "parsed": value or None,
"parsing_error": exception or None}`` and parsing errors are caught.

Built from a pydantic class it returns instances of it; its file holds the class's JSON
Schema and ``check_schema: true``, so the loaded copy checks the same schema and returns
dicts. A plain JSON Schema is not checked unless ``check_schema`` is set (LangChain does
not check dict schemas either).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from runwire.runtime.base import Runnable
from runwire.runtime.config import RunnableConfig
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.serializable import FieldsEqual

__all__ = ["RunnableWithStructuredOutput", "StructuredMethod"]

StructuredMethod = Literal["function_calling", "json_mode", "json_schema"]


class _WithRaw(Runnable[Any, Any]):
    """``{"raw": message, "parsed": ..., "parsing_error": ...}`` around a parser.

    Streaming gives the one complete dict at the end (LangChain streams ``raw``,
    ``parsed`` and ``parsing_error`` as three chunks, and drops ``parsed`` when the
    parser fails mid-stream).
    """

    run_type = "parser"
    sync_is_cheap = True

    def __init__(self, parser: Runnable[Any, Any]) -> None:
        self.parser = parser
        self.name = "StructuredOutputWithRaw"

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._parse, input, config)

    def _parse(self, message: Any, config: RunnableConfig) -> dict[str, Any]:
        try:
            parsed = self.parser.invoke(message, config)
        except Exception as exc:
            return {"raw": message, "parsed": None, "parsing_error": exc}
        return {"raw": message, "parsed": parsed, "parsing_error": None}


@cache
def _repairing(base: type) -> type:
    """``base`` (a tool-call parser) repairing stringified arguments first (langchain-aws)."""
    from runwire.runtime.parsers_tools import repair_stringified_args

    class Repairing(base):  # type: ignore[misc, valid-type]
        schema_properties: dict[str, Any] | None = Field(default=None, exclude=True)

        def parse_result(self, message: Any, *, partial: bool = False) -> Any:
            message = repair_stringified_args(message, self.schema_properties)
            return super().parse_result(message, partial=partial)

    Repairing.__name__ = Repairing.__qualname__ = f"Repairing{base.__name__}"
    return Repairing


def _schema_of(schema: Any) -> tuple[dict[str, Any] | None, type[BaseModel] | None]:
    """(JSON Schema titled with the tool name, pydantic class or None) of a user schema."""
    if schema is None:
        return None, None
    from runwire.runtime.parsers_tools import tool_schema

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return tool_schema(schema), schema
    return tool_schema(schema), None


class RunnableWithStructuredOutput(FieldsEqual, RunnableSerializable[Any, Any]):
    """A chat model whose answer is parsed into ``json_schema``'s shape.

    Made by ``model.with_structured_output(schema, method=..., include_raw=...)`` or
    written in a file. Calls go to the model and its parser (no run of its own).
    """

    model: BaseChatModel
    """The chat model."""
    json_schema: dict[str, Any] | None = None
    """The answer's JSON Schema, titled with its name (the tool name for
    ``function_calling``); may be left out for ``json_mode``."""
    method: StructuredMethod = "function_calling"
    """How the model is asked for the structure."""
    include_raw: bool = False
    """Return ``{"raw", "parsed", "parsing_error"}`` instead of the parsed value."""
    strict: bool | None = None
    """Ask the provider to enforce the schema strictly (when it can)."""
    check_schema: bool = False
    """Check the answer against ``json_schema`` (set when built from a pydantic class)."""
    pydantic_schema: type[BaseModel] | None = Field(default=None, exclude=True)
    """The class answers are validated into (not part of the wire form)."""

    _chain: Any = PrivateAttr(default=None)

    lc_data_fields = frozenset({"json_schema"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "models"]

    @field_validator("model", mode="before")
    @classmethod
    def _chat_model(cls, value: Any) -> Any:
        if not isinstance(value, BaseChatModel):
            raise ValueError(
                f"model must be a chat model, got {type(value).__name__}: structured output "
                "wraps a chat model (ChatBedrockConverse, FakeChatModel, ...)"
            )
        return value

    @model_validator(mode="after")
    def _build(self) -> RunnableWithStructuredOutput:
        if self.json_schema is None and self.method != "json_mode":
            raise ValueError(f"method={self.method!r} needs a schema (json_schema)")
        if self.json_schema is not None and not isinstance(self.json_schema.get("title"), str):
            raise ValueError("json_schema needs a 'title': the name of the answer (tool name)")
        self._chain = self.model._bind_structured_output(self) | self._parser()
        return self

    @property
    def name_of_answer(self) -> str | None:
        """The schema's title: the tool the model is asked to call."""
        return None if self.json_schema is None else self.json_schema["title"]

    def _parser(self) -> Runnable[Any, Any]:
        parser = self._tools_parser() if self.method == "function_calling" else self._json_parser()
        return _WithRaw(parser) if self.include_raw else parser

    def _tools_parser(self) -> Runnable[Any, Any]:
        from runwire.runtime.parsers_tools import JsonOutputKeyToolsParser, PydanticToolsParser

        extra: dict[str, Any] = {}
        pydantic_parser: type = PydanticToolsParser
        key_parser: type = JsonOutputKeyToolsParser
        if self.model.structured_output_repairs_args:
            pydantic_parser, key_parser = _repairing(pydantic_parser), _repairing(key_parser)
            parameters = self.tool_spec().get("parameters") or {}
            extra["schema_properties"] = parameters.get("properties") or None
        if self.pydantic_schema is not None:
            return pydantic_parser(tools=[self.pydantic_schema], first_tool_only=True, **extra)
        if self.check_schema:
            return pydantic_parser(tools=[self.json_schema], first_tool_only=True, **extra)
        return key_parser(key_name=self.name_of_answer, first_tool_only=True, **extra)

    def _json_parser(self) -> Runnable[Any, Any]:
        from runwire.runtime.parsers import JsonOutputParser, PydanticOutputParser

        if self.pydantic_schema is not None:
            return PydanticOutputParser(pydantic_object=self.pydantic_schema)
        if self.check_schema and self.json_schema is not None:
            return PydanticOutputParser(json_schema=self.json_schema)
        return JsonOutputParser()

    def tool_spec(self) -> dict[str, Any]:
        """The tool as ``{"name", "description", "parameters"}``."""
        from runwire.runtime.models.tools import convert_to_openai_function

        return convert_to_openai_function(self.tool)

    @property
    def tool(self) -> Any:
        """What is bound as the tool: the pydantic class, else the schema as an OpenAI tool
        dict (the one form every provider's ``bind_tools`` reads)."""
        if self.pydantic_schema is not None:
            return self.pydantic_schema
        from runwire.runtime.models.tools import convert_to_openai_tool

        return convert_to_openai_tool(self.json_schema)

    @property
    def InputType(self) -> Any:
        return self.model.InputType

    @property
    def OutputType(self) -> Any:
        if self.include_raw:
            return dict[str, Any]
        return self.pydantic_schema or dict[str, Any]

    # -- calls: straight to the chain ----------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._chain.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return await self._chain.ainvoke(input, config, **kwargs)

    def batch(self, inputs: list[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        return self._chain.batch(inputs, config, **kwargs)

    async def abatch(self, inputs: list[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        return await self._chain.abatch(inputs, config, **kwargs)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self._chain.stream(input, config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for out in self._chain.astream(input, config, **kwargs):
            yield out

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self._chain.transform(input, config, **kwargs)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for out in self._chain.atransform(input, config, **kwargs):
            yield out


def structured_output(
    model: Any,
    schema: Any = None,
    *,
    method: StructuredMethod | None = None,
    include_raw: bool = False,
    strict: bool | None = None,
    **kwargs: Any,
) -> RunnableWithStructuredOutput:
    """``model.with_structured_output(schema, ...)``: see ``RunnableWithStructuredOutput``.

    ``schema``: a pydantic class, a TypedDict, a JSON Schema with a ``title``, or an
    OpenAI/Anthropic/Bedrock tool dict (``None`` only with ``method="json_mode"``).
    """
    if kwargs:
        raise ValueError(f"with_structured_output got unsupported arguments {sorted(kwargs)}")
    json_schema, pydantic_schema = _schema_of(schema)
    return RunnableWithStructuredOutput(
        model=model,
        json_schema=json_schema,
        method=method or "function_calling",
        include_raw=include_raw,
        strict=strict,
        check_schema=pydantic_schema is not None,
        pydantic_schema=pydantic_schema,
    )
