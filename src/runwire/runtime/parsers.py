"""Output parsers: model output (a string or a message) to a string, JSON, a model or a list.

All four are cheap pure-Python runnables (``run_type = "parser"``) with a wire form.
While streaming, ``StrOutputParser`` passes each chunk's text on, ``JsonOutputParser``
(and ``PydanticOutputParser``) yields the partial object each time it grows, and
``CommaSeparatedListOutputParser`` yields each finished item as a one-element list.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from io import StringIO
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from runwire.errors import ManifestError
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.merge import parse_partial_json
from runwire.schema.messages import AnyMessage, BaseMessage
from runwire.schema.serializable import FieldsEqual

__all__ = [
    "BaseOutputParser",
    "CommaSeparatedListOutputParser",
    "JsonOutputParser",
    "OutputParserException",
    "PydanticOutputParser",
    "StrOutputParser",
    "message_text",
    "parse_json_markdown",
]


class OutputParserException(ValueError):
    """Model output that a parser could not parse; ``llm_output`` holds the offending text."""

    def __init__(
        self,
        error: Any,
        observation: str | None = None,
        llm_output: str | None = None,
        send_to_llm: bool = False,
    ) -> None:
        super().__init__(error)
        if send_to_llm and (observation is None or llm_output is None):
            raise ValueError("send_to_llm=True needs both observation and llm_output")
        self.observation = observation
        self.llm_output = llm_output
        self.send_to_llm = send_to_llm


def message_text(message: BaseMessage) -> str:
    """The text a parser sees in a message: string content, or its text blocks joined.

    Blocks count when typed ``"text"`` or untyped with a ``"text"`` key (older providers).
    """
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type", "text") == "text":
            text = block.get("text")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseMessage):
        return message_text(value)
    raise TypeError(
        f"an output parser takes a str or a message, got {type(value).__name__}: "
        "put it after a chat model, an LLM or a step that returns text"
    )


# -- JSON in model output ------------------------------------------------------------
_FENCE = re.compile(r"```(json)?(.*)", re.DOTALL)
_STRIP = " \n\r\t`"
_FAILED: Any = object()


def _parse_stripped(text: str) -> Any:
    text = text.strip(_STRIP)
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    value = parse_partial_json(text)
    return _FAILED if value is None else value


def _parse_json_text(text: str) -> Any:
    """The JSON value in ``text``, or ``_FAILED`` (also for JSON nested too deeply to read)."""
    try:
        value = _parse_stripped(text)
        if value is _FAILED:
            match = _FENCE.search(text)
            if match is not None:
                value = _parse_stripped(match.group(2))
    except RecursionError:
        return _FAILED
    return value


def parse_json_markdown(text: str) -> Any:
    """Parse JSON from model output: bare, cut off, or inside a ```json fence.

    Like LangChain, a truncated value is closed rather than refused. Raises
    ``OutputParserException`` when no JSON can be read.
    """
    value = _parse_json_text(text)
    if value is _FAILED:
        raise OutputParserException(f"Invalid json output: {text}", llm_output=text)
    return value


# -- bases -------------------------------------------------------------------------------
class BaseOutputParser(RunnableSerializable[Any, Any]):
    """Base of the parsers: ``invoke`` reads the text of its input and calls ``parse``."""

    run_type = "parser"
    sync_is_cheap = True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "output_parsers"]

    @property
    def InputType(self) -> Any:
        return str | AnyMessage

    def parse(self, text: str) -> Any:
        """Parse one complete model output."""
        raise NotImplementedError(f"{type(self).__name__} must implement parse(text)")

    async def aparse(self, text: str) -> Any:
        """Async ``parse`` (parsing is cheap: it runs inline)."""
        return self.parse(text)

    def parse_with_prompt(self, completion: str, prompt: Any) -> Any:
        """Parse with the prompt at hand (for parsers that retry); by default ``parse``."""
        return self.parse(completion)

    def get_format_instructions(self) -> str:
        """Instructions for the model on how to format its output."""
        raise NotImplementedError(f"{type(self).__name__} has no format instructions")

    def _input_text(self, value: Any) -> str:
        """The text of one input (or streamed chunk): a string or a message."""
        return _text_of(value)

    def _parse_input(self, value: Any, config: RunnableConfig) -> Any:
        return self.parse(self._input_text(value))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._parse_input, input, config)


class _StreamState:
    """What a streaming parser keeps between chunks (``feed`` and ``close`` give outputs)."""

    def feed(self, text: str) -> Iterable[Any]:
        raise NotImplementedError

    def close(self) -> Iterable[Any]:
        return ()


class StreamingOutputParser(BaseOutputParser):
    """A parser that streams its output as input chunks come (``_transform`` and
    ``_atransform`` say how), each stream one traced run."""

    def _transform(self, chunks: Iterator[Any], config: RunnableConfig) -> Iterator[Any]:
        raise NotImplementedError

    def _atransform(self, chunks: AsyncIterator[Any], config: RunnableConfig) -> AsyncIterator[Any]:
        raise NotImplementedError

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        yield from self._transform_with_config(input, self._transform, config)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for out in self._atransform_with_config(input, self._atransform, config):
            yield out


class BaseTransformOutputParser(StreamingOutputParser):
    """A parser that streams: each input chunk goes through a ``_StreamState``."""

    def _stream_state(self) -> _StreamState:
        raise NotImplementedError

    def _transform(self, chunks: Iterator[Any], config: RunnableConfig) -> Iterator[Any]:
        state = self._stream_state()
        for chunk in chunks:
            yield from state.feed(self._input_text(chunk))
        yield from state.close()

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig
    ) -> AsyncIterator[Any]:
        state = self._stream_state()
        async for chunk in chunks:
            for out in state.feed(self._input_text(chunk)):
                yield out
        for out in state.close():
            yield out


# -- StrOutputParser -------------------------------------------------------------------
class _PerChunk(_StreamState):
    """Parses every chunk on its own."""

    def __init__(self, parser: BaseOutputParser) -> None:
        self.parse = parser.parse

    def feed(self, text: str) -> Iterable[Any]:
        return (self.parse(text),)


class StrOutputParser(BaseTransformOutputParser):
    """The text of the model output, as a string; streams each chunk's text."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def OutputType(self) -> Any:
        return str

    def parse(self, text: str) -> str:
        return text

    def _stream_state(self) -> _StreamState:
        return _PerChunk(self)


# -- JSON ------------------------------------------------------------------------------
class _Cumulative(_StreamState):
    """Re-parses the text so far after every chunk; yields the result when it changes."""

    def __init__(self, parser: JsonOutputParser) -> None:
        self.parser = parser
        self.text = ""
        self.last: Any = None

    def feed(self, text: str) -> Iterable[Any]:
        self.text += text
        parsed = self.parser._parse_partial(self.text)
        if parsed is None or parsed == self.last:
            return ()
        self.last = parsed
        return (parsed,)


def _reduced_schema(schema: dict[str, Any]) -> str:
    reduced = {k: v for k, v in schema.items() if k not in ("title", "type")}
    return json.dumps(reduced, ensure_ascii=False)


_SCHEMA_INSTRUCTIONS = (
    "Reply with one JSON value that conforms to the JSON Schema below, and nothing else: "
    "no explanation, no Markdown code fence.\n"
    'For example, for the schema {{"properties": {{"tags": {{"type": "array", "items": '
    '{{"type": "string"}}}}}}, "required": ["tags"]}} the object {{"tags": ["a", "b"]}} '
    'is valid, while {{"properties": {{"tags": ["a", "b"]}}}} is not.\n'
    "The schema:\n```\n{schema}\n```"
)


class JsonOutputParser(BaseTransformOutputParser):
    """Parses JSON from the model output (bare or in a ```json fence; truncated JSON is closed).

    ``json_schema`` only shapes the format instructions: this parser does not validate
    (``PydanticOutputParser`` does). Streaming yields the partial object each time it grows.
    """

    json_schema: dict[str, Any] | None = None
    """JSON Schema of the expected output, for ``get_format_instructions``."""

    lc_data_fields = frozenset({"json_schema"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    def parse(self, text: str) -> Any:
        return parse_json_markdown(text.strip())

    def _input_text(self, value: Any) -> str:
        if isinstance(value, BaseMessage):  # as LangChain: a refusal is not bad JSON
            from runwire.runtime.parsers_refusal import raise_if_refused

            raise_if_refused(value)
        return _text_of(value)

    def _parse_partial(self, text: str) -> Any:
        """The value so far, or ``None`` while nothing can be read yet."""
        value = _parse_json_text(text.strip())
        return None if value is _FAILED else value

    def _stream_state(self) -> _StreamState:
        return _Cumulative(self)

    def get_format_instructions(self) -> str:
        if self.json_schema is None:
            return "Return a JSON object."
        return _SCHEMA_INSTRUCTIONS.format(schema=_reduced_schema(self.json_schema))


class PydanticOutputParser(FieldsEqual, JsonOutputParser):
    """Parses JSON and checks it against a schema: a model instance, or a validated dict.

    Built from a class (``PydanticOutputParser(pydantic_object=Model)``) it returns
    ``Model`` instances. Its wire form is the class's JSON Schema, never a Python path;
    loaded back without the class, it validates with ``jsonschema`` and returns dicts.
    Such a schema must be self-contained (no remote or file ``$ref``: nothing is ever
    fetched) and its patterns are matched by RE2 in linear time; both are checked when
    the parser is built (see :mod:`runwire.runtime.parser_schema`).
    """

    json_schema: dict[str, Any]  # type: ignore[assignment]
    """JSON Schema the output must conform to."""
    pydantic_object: type[BaseModel] | None = Field(default=None, exclude=True)
    """The class to build instances of; fills ``json_schema`` (not part of the wire form)."""

    _validator: Any = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _schema_from_model(cls, data: Any) -> Any:
        if isinstance(data, dict):
            model = data.get("pydantic_object")
            if model is not None:
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    raise TypeError(
                        f"pydantic_object must be a pydantic BaseModel class, got {model!r}"
                    )
                if data.get("json_schema") is None:
                    data = {**data, "json_schema": model.model_json_schema()}
            elif data.get("json_schema") is None:
                raise TypeError(
                    "PydanticOutputParser needs pydantic_object=<a BaseModel class> "
                    "or json_schema=<a JSON Schema dict>"
                )
        return data

    @model_validator(mode="after")
    def _safe_schema(self) -> PydanticOutputParser:
        if self.pydantic_object is None:
            from runwire.runtime.parser_schema import schema_validator

            self._validator = schema_validator(self.json_schema)
        return self

    @property
    def OutputType(self) -> Any:
        return self.pydantic_object or dict[str, Any]

    def _schema_name(self) -> str:
        if self.pydantic_object is not None:
            return self.pydantic_object.__name__
        return str(self.json_schema.get("title") or "object")

    def _check(self, value: Any) -> Any:
        if self.pydantic_object is not None:
            try:
                return self.pydantic_object.model_validate(value)
            except ValidationError as exc:
                raise self._failure(value, str(exc)) from exc
        validator = self._validator
        if validator is None:
            from runwire.runtime.parser_schema import schema_validator

            validator = self._validator = self._schema_call(schema_validator, self.json_schema)
        from jsonschema.exceptions import best_match

        from runwire.runtime.parser_schema import SchemaStepsExceeded, counting_steps

        try:
            with counting_steps():
                error = self._schema_call(lambda v: best_match(validator.iter_errors(v)), value)
        except SchemaStepsExceeded as exc:
            raise self._failure(value, str(exc)) from None
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise self._failure(value, error.message + (f" (at /{where})" if where else ""))
        return value

    def _schema_call(self, function: Any, argument: Any) -> Any:
        """``function(argument)``; a problem of the schema itself becomes a ManifestError."""
        from referencing.exceptions import Unresolvable

        from runwire.runtime.parser_schema import SchemaStepsExceeded

        try:
            return function(argument)
        except SchemaStepsExceeded:
            raise
        except (Unresolvable, RecursionError, ValueError) as exc:
            if isinstance(exc, Unresolvable):
                reason = f"a $ref cannot be resolved inside the schema ({exc})"
            elif isinstance(exc, RecursionError):
                reason = "the schema refers to itself without descending into the value"
            else:
                reason = str(exc)
            raise ManifestError(
                f"{type(self).__name__}: json_schema cannot be used: {reason}",
                path="$.kwargs.json_schema",
                hint="make the schema self-contained ($defs + '#/$defs/<name>' refs), "
                "without self-referencing cycles",
            ) from None

    def _failure(self, value: Any, reason: str) -> OutputParserException:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (RecursionError, ValueError):
            text = "<output nested too deeply to show>"
        return OutputParserException(
            f"Failed to parse {self._schema_name()} from completion {text}. Got: {reason}",
            llm_output=text,
        )

    def parse(self, text: str) -> Any:
        return self._check(super().parse(text))

    def _parse_partial(self, text: str) -> Any:
        value = super()._parse_partial(text)
        if value is None:
            return None
        try:
            return self._check(value)
        except OutputParserException:
            return None

    def get_format_instructions(self) -> str:
        return _SCHEMA_INSTRUCTIONS.format(schema=_reduced_schema(self.json_schema))


# -- lists -------------------------------------------------------------------------------
class _ListItems(_StreamState):
    """Buffers text; yields every item followed by a separator, the rest at the end."""

    def __init__(self, parser: CommaSeparatedListOutputParser) -> None:
        self.parser = parser
        self.buffer = ""

    def feed(self, text: str) -> Iterable[Any]:
        self.buffer += text
        parts = self.parser.parse(self.buffer)
        if len(parts) < 2:
            return ()
        self.buffer = parts[-1]
        return [[part] for part in parts[:-1]]

    def close(self) -> Iterable[Any]:
        return [[part] for part in self.parser.parse(self.buffer)]


class CommaSeparatedListOutputParser(BaseTransformOutputParser):
    """``"a, b, c"`` to ``["a", "b", "c"]`` (CSV rules: quoted items may hold commas).

    Streaming yields each item as a one-element list as soon as the comma after it arrives.
    """

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def OutputType(self) -> Any:
        return list[str]

    def parse(self, text: str) -> list[str]:
        try:
            reader = csv.reader(StringIO(text), quotechar='"', delimiter=",", skipinitialspace=True)
            return [item for row in reader for item in row]
        except csv.Error:
            return [part.strip() for part in text.split(",")]

    def _stream_state(self) -> _StreamState:
        return _ListItems(self)

    def get_format_instructions(self) -> str:
        return (  # LangChain's words: pipelines loaded from its files prompt the same
            "Your response should be a list of comma separated values, "
            "eg: `foo, bar, baz` or `foo,bar,baz`"
        )
