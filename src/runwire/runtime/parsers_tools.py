"""Tool-call parsers: a model message's tool calls as JSON, or checked against schemas.

They behave as LangChain's ``openai_tools`` parsers: the input is a chat message (text
is refused); its ``tool_calls`` are read, else the legacy OpenAI-style
``additional_kwargs["tool_calls"]``; each call becomes ``{"type": <tool name>, "args":
{...}}`` (plus ``"id"`` with ``return_id``). Streaming sums the message chunks and
yields the partial result every time it changes (arguments parsed as far as they
have arrived). A model that refused raises ``ModelRefusalError`` (see ``parsers_refusal``).

``PydanticToolsParser`` checks each call against its tool's schema. In a file its
tools are JSON Schemas (each titled with the tool name), never Python classes: built
from pydantic classes it returns instances, loaded from a file it returns the
arguments as checked dicts (validated like ``PydanticOutputParser``: no outside
``$ref``, RE2 patterns).
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from runwire.runtime.config import RunnableConfig
from runwire.runtime.parsers import (
    OutputParserException,
    PydanticOutputParser,
    StreamingOutputParser,
)
from runwire.runtime.parsers_refusal import raise_if_refused
from runwire.runtime.tracing import add_chunks
from runwire.schema.merge import parse_partial_json
from runwire.schema.messages import AIMessage, BaseMessage
from runwire.schema.serializable import FieldsEqual

__all__ = [
    "JsonOutputKeyToolsParser",
    "JsonOutputToolsParser",
    "PydanticToolsParser",
    "parse_tool_calls",
    "repair_stringified_args",
    "tool_schema",
]

_NOT_CHAT = "This output parser can only be used with a chat generation."


def _parse_tool_call(
    raw: dict[str, Any], *, partial: bool, strict: bool, return_id: bool
) -> dict[str, Any] | None:
    function = raw.get("function")
    if not isinstance(function, dict):
        return None
    arguments = function.get("arguments")
    if partial:
        if not isinstance(arguments, str):
            return None
        args = parse_partial_json(arguments)
        if args is None:
            return None
    elif not arguments:
        args = {}
    else:
        try:
            args = json.loads(arguments, strict=strict)
        except (json.JSONDecodeError, TypeError) as exc:
            raise OutputParserException(
                f"Function {function.get('name')} arguments:\n\n{arguments}\n\nare not valid "
                f"JSON. Received JSONDecodeError {exc}"
            ) from exc
    parsed: dict[str, Any] = {"name": function.get("name") or "", "args": args or {}}
    if return_id:
        parsed["id"] = raw.get("id")
        parsed["type"] = "tool_call"
    return parsed


def parse_tool_calls(
    raw_calls: list[dict[str, Any]],
    *,
    partial: bool = False,
    strict: bool = False,
    return_id: bool = True,
) -> list[dict[str, Any]]:
    """Legacy OpenAI-style tool calls (``{"function": {"name", "arguments"}}``) as dicts.

    Every call whose arguments are not JSON is reported in one ``OutputParserException``.
    """
    calls: list[dict[str, Any]] = []
    errors: list[str] = []
    for raw in raw_calls:
        try:
            parsed = _parse_tool_call(raw, partial=partial, strict=strict, return_id=return_id)
        except OutputParserException as exc:
            errors.append(str(exc))
            continue
        if parsed:
            calls.append(parsed)
    if errors:
        raise OutputParserException("\n\n".join(errors))
    return calls


def repair_stringified_args(message: BaseMessage, properties: dict[str, Any] | None) -> Any:
    """``message`` with tool-call arguments a model sent as JSON strings unwrapped.

    langchain-aws's structured output does this for Bedrock models: an argument whose
    declared type (in ``properties``) is ``object``/``array`` but that arrived as a string
    holding that JSON (or ``{key: that}``) is replaced by the decoded value.
    """
    if not properties or not isinstance(message, AIMessage) or not message.tool_calls:
        return message
    calls = [
        {**call, "args": _repaired_args(call["args"], properties)} for call in message.tool_calls
    ]
    if calls == message.tool_calls:
        return message
    return message.model_copy(update={"tool_calls": calls})


def _repaired_args(args: Any, properties: dict[str, Any]) -> Any:
    if not isinstance(args, dict):
        return args
    repaired: dict[str, Any] = {}
    for key, value in args.items():
        declared = (properties.get(key) or {}).get("type")
        repaired[key] = value
        if not isinstance(value, str) or declared not in ("array", "object"):
            continue
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            continue
        expected: type = list if declared == "array" else dict
        if isinstance(loaded, expected):
            repaired[key] = loaded
        elif isinstance(loaded, dict) and isinstance(loaded.get(key), expected):
            repaired[key] = loaded[key]
    return repaired


def tool_schema(tool: Any) -> dict[str, Any]:
    """A tool as the JSON Schema a file holds: titled with the tool's name.

    A pydantic class gives its ``model_json_schema()``; a JSON Schema with a ``title``
    is kept as it is; other tool dicts (OpenAI, Anthropic, Bedrock) and TypedDicts are
    converted (``{"title": name, "description": ..., **parameters}``).
    """
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return tool.model_json_schema()
    if isinstance(tool, dict) and isinstance(tool.get("title"), str) and "name" not in tool:
        return tool
    from runwire.runtime.models.tools import convert_to_openai_function

    spec = convert_to_openai_function(tool)
    schema: dict[str, Any] = {"title": spec["name"]}
    if spec.get("description"):
        schema["description"] = spec["description"]
    schema.update(spec.get("parameters") or {"type": "object", "properties": {}})
    return schema


def _tool_name(tool: type[BaseModel]) -> str:
    return str(tool.model_config.get("title") or tool.__name__)


class JsonOutputToolsParser(StreamingOutputParser):
    """Every tool call of a message as ``{"type": name, "args": {...}}`` (a list).

    ``first_tool_only`` returns the first call (``None`` without one); ``return_id``
    adds each call's ``id``; ``strict`` refuses control characters in legacy JSON
    arguments.
    """

    strict: bool = False
    """Refuse control characters inside strings of legacy JSON arguments."""
    return_id: bool = False
    """Add each call's ``id``."""
    first_tool_only: bool = False
    """Return only the first call (``None`` when there is none) instead of a list."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def InputType(self) -> Any:
        return AIMessage

    def parse(self, text: str) -> Any:
        raise OutputParserException(_NOT_CHAT)

    def _calls(self, message: BaseMessage, partial: bool) -> list[dict[str, Any]] | None:
        """The message's calls as ``{"args", "type"[, "id"]}``; ``None`` when it has no
        ``tool_calls`` at all (not even legacy ones)."""
        raise_if_refused(message)
        if isinstance(message, AIMessage) and message.tool_calls:
            calls = [dict(call) for call in message.tool_calls]
            if not self.return_id:
                for call in calls:
                    call.pop("id", None)
        else:
            raw = message.additional_kwargs.get("tool_calls")
            if raw is None:
                return None
            calls = parse_tool_calls(
                copy.deepcopy(raw), partial=partial, strict=self.strict, return_id=self.return_id
            )
        for call in calls:
            call["type"] = call.pop("name")
        return calls

    def parse_result(self, message: BaseMessage, *, partial: bool = False) -> Any:
        """The tool calls of ``message`` (``partial``: arguments parsed as far as they go)."""
        calls = self._calls(message, partial)
        if calls is None:
            return []
        if self.first_tool_only:
            return calls[0] if calls else None
        return calls

    def _parse_input(self, value: Any, config: RunnableConfig) -> Any:
        if not isinstance(value, BaseMessage):
            raise OutputParserException(_NOT_CHAT)
        return self.parse_result(value)

    # -- streaming: the partial result of the chunks so far ----------------------------
    def _step(self, total: Any, chunk: Any, last: Any) -> tuple[Any, Any, bool]:
        if not isinstance(chunk, BaseMessage):
            raise OutputParserException(_NOT_CHAT)
        total = chunk if total is None else add_chunks(total, chunk)
        parsed = self.parse_result(total, partial=True)
        return total, parsed, parsed is not None and parsed != last

    def _transform(self, chunks: Iterator[Any], config: RunnableConfig) -> Iterator[Any]:
        total = last = None
        for chunk in chunks:
            total, parsed, changed = self._step(total, chunk, last)
            if changed:
                last = parsed
                yield parsed

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig
    ) -> AsyncIterator[Any]:
        total = last = None
        async for chunk in chunks:
            total, parsed, changed = self._step(total, chunk, last)
            if changed:
                last = parsed
                yield parsed


class JsonOutputKeyToolsParser(JsonOutputToolsParser):
    """The arguments of the calls to one tool, ``key_name`` (a list, or the first one).

    With ``return_id`` the whole calls (``{"type", "args", "id"}``) are returned.
    """

    key_name: str
    """The tool whose calls are returned."""

    def parse_result(self, message: BaseMessage, *, partial: bool = False) -> Any:
        calls = self._calls(message, partial)
        if calls is None:
            return None if self.first_tool_only else []
        mine = [call for call in calls if call["type"] == self.key_name]
        if self.first_tool_only:
            if not mine:
                return None
            return mine[0] if self.return_id else mine[0]["args"]
        return mine if self.return_id else [call["args"] for call in mine]


class PydanticToolsParser(FieldsEqual, JsonOutputToolsParser):
    """Tool calls checked against their tools' schemas: instances, or checked dicts.

    ``tools`` takes pydantic classes (the output is an instance of the called tool's
    class, ``ValidationError`` when it does not fit) or JSON Schemas titled with the
    tool name (the output is the arguments, ``OutputParserException`` when they do not
    fit). The wire form holds JSON Schemas only. A call to a tool not listed raises
    ``OutputParserException``. While streaming, calls that do not fit yet are left out.
    """

    tools: list[dict[str, Any]]
    """The tools' JSON Schemas, each with a ``title``: the tool name."""
    pydantic_tools: list[type[BaseModel]] = Field(default_factory=list, exclude=True)
    """The classes the schemas came from (not part of the wire form)."""

    _checkers: dict[str, Any] = PrivateAttr(default_factory=dict)

    lc_data_fields = frozenset({"tools"})

    @model_validator(mode="before")
    @classmethod
    def _schemas_from_classes(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("tools"), list | tuple):
            classes = [t for t in data["tools"] if isinstance(t, type) and issubclass(t, BaseModel)]
            schemas = [tool_schema(t) for t in data["tools"]]
            for schema in schemas:
                if not isinstance(schema.get("title"), str):
                    raise ValueError("every tool schema needs a 'title': the tool name")
            data = {**data, "tools": schemas}
            if classes:
                data["pydantic_tools"] = [*classes, *data.get("pydantic_tools", ())]
        return data

    @model_validator(mode="after")
    def _build_checkers(self) -> PydanticToolsParser:
        checkers: dict[str, Any] = {}
        for schema in self.tools:
            checkers[schema["title"]] = PydanticOutputParser(json_schema=schema)
        for model in self.pydantic_tools:  # a class wins over its schema
            checkers[_tool_name(model)] = model
        self._checkers = checkers
        return self

    @property
    def OutputType(self) -> Any:
        one: Any = self.pydantic_tools[0] if len(self.pydantic_tools) == 1 else Any
        return one if self.first_tool_only else list[one]

    def parse_result(self, message: BaseMessage, *, partial: bool = False) -> Any:
        found = super().parse_result(message, partial=partial)
        if not found:
            return None if self.first_tool_only else []
        calls = [found] if self.first_tool_only else found
        objects = []
        for call in calls:
            args = call["args"]
            if not isinstance(args, dict):
                if partial:
                    continue
                raise ValueError(f"Tool arguments must be specified as a dict, received: {args}")
            checker = self._checkers.get(call["type"])
            if checker is None:
                available = ", ".join(self._checkers) or "<no_tools>"
                raise OutputParserException(
                    f"Unknown tool type: {call['type']!r}. Available tools: {available}"
                )
            try:
                if isinstance(checker, PydanticOutputParser):
                    objects.append(checker._check(args))
                else:
                    objects.append(checker(**args))
            except ValueError:  # pydantic's ValidationError and OutputParserException
                if partial:
                    continue
                raise
        if self.first_tool_only:
            return objects[0] if objects else None
        return objects
