"""Output parsers: parsing, streaming (sync and async), errors and wire forms."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel, Field

import runwire
from runwire.runtime.parsers import (
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    OutputParserException,
    PydanticOutputParser,
    StrOutputParser,
    parse_json_markdown,
)
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage


class Recorder:
    """A callback handler that keeps what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.runs: list[Any] = []

    def on_start(self, run: Any) -> None:
        self.runs.append(run)
        self.events.append(("start", run.run_type))

    def on_stream(self, run: Any, chunk: Any) -> None:
        self.events.append(("stream", chunk))

    def on_end(self, run: Any) -> None:
        self.events.append(("end", run.outputs))

    def on_error(self, run: Any) -> None:
        self.events.append(("error", type(run.error).__name__))


class Person(BaseModel):
    """Someone."""

    name: str = Field(description="full name")
    age: int


async def agen(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- StrOutputParser -----------------------------------------------------------------
def test_str_parser_takes_strings_and_message_text() -> None:
    parser = StrOutputParser()
    assert parser.invoke("plain") == "plain"
    assert parser.invoke(AIMessage(content="from ai")) == "from ai"
    assert parser.invoke(HumanMessage(content="from human")) == "from human"
    blocks = AIMessage(
        content=[
            {"type": "text", "text": "a"},
            "b",
            {"type": "image_url", "image_url": {"url": "x"}},
            {"text": "c"},  # an untyped (older) text block
            {"type": "tool_use", "id": "1", "name": "t", "input": {}},
        ]
    )
    assert parser.invoke(blocks) == "abc"


def test_str_parser_refuses_other_inputs_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="takes a str or a message, got dict"):
        StrOutputParser().invoke({"a": 1})


def test_str_parser_async_and_types() -> None:
    parser = StrOutputParser()
    assert run(parser.ainvoke(AIMessage(content="x"))) == "x"
    assert parser.OutputType is str
    assert parser.run_type == "parser"
    assert parser.sync_is_cheap


def test_str_parser_transform_yields_each_chunk_as_it_arrives() -> None:
    seen: list[str] = []

    def chunks() -> Iterator[Any]:
        for piece in ["Hel", "lo", " world"]:
            seen.append(piece)
            yield AIMessageChunk(content=piece)

    out = []
    for text in StrOutputParser().transform(chunks()):
        out.append(text)
        assert len(seen) == len(out)  # one output per input chunk, no buffering
    assert out == ["Hel", "lo", " world"]
    assert list(StrOutputParser().transform(iter(["a", "b"]))) == ["a", "b"]


def test_str_parser_atransform() -> None:
    chunks = [AIMessageChunk(content="a"), AIMessageChunk(content="b")]
    assert run(collect(StrOutputParser().atransform(agen(chunks)))) == ["a", "b"]


def test_str_parser_run_for_callbacks() -> None:
    handler = Recorder()
    out = list(StrOutputParser().transform(iter(["a", "b"]), {"callbacks": [handler]}))
    assert out == ["a", "b"]
    assert handler.events == [
        ("start", "parser"),
        ("stream", "a"),
        ("stream", "b"),
        ("end", "ab"),
    ]
    assert handler.runs[0].inputs == "ab"
    handler = Recorder()
    StrOutputParser().invoke("x", {"callbacks": [handler]})
    assert handler.events == [("start", "parser"), ("end", "x")]


# -- JsonOutputParser ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('  {"a": [1, 2]}\n', {"a": [1, 2]}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```\n{"a": 1}\n```', {"a": 1}),
        ('Here it is:\n```json\n{"a": "b"}\n```\nDone.', {"a": "b"}),
        ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),  # raw newline inside a string
        ('{"a": {"b": [1, 2', {"a": {"b": [1, 2]}}),  # cut off: closed, as in LangChain
        ("[1, 2, 3]", [1, 2, 3]),
        ("null", None),
        ("42", 42),
    ],
)
def test_json_parser_parses(text: str, expected: Any) -> None:
    assert JsonOutputParser().invoke(text) == expected
    assert JsonOutputParser().invoke(AIMessage(content=text)) == expected


@pytest.mark.parametrize("text", ["", "not json at all", "```\n```", "}{"])
def test_json_parser_errors_are_output_parser_exceptions(text: str) -> None:
    with pytest.raises(OutputParserException, match="Invalid json output") as info:
        JsonOutputParser().invoke(text)
    assert isinstance(info.value, ValueError)
    assert info.value.llm_output == text.strip()


def test_parse_json_markdown_helper() -> None:
    assert parse_json_markdown('```json {"x": true} ```') == {"x": True}
    with pytest.raises(OutputParserException):
        parse_json_markdown("nope")


def test_output_parser_exception_keeps_its_fields() -> None:
    exc = OutputParserException("bad", observation="obs", llm_output="out", send_to_llm=True)
    assert (str(exc), exc.observation, exc.llm_output, exc.send_to_llm) == (
        "bad",
        "obs",
        "out",
        True,
    )
    with pytest.raises(ValueError, match="send_to_llm"):
        OutputParserException("bad", send_to_llm=True)


JSON_PIECES = ['{"na', 'me": "Al', 'ice", "ta', 'gs": ["a",', ' "b"]', "}"]
JSON_PARTIALS = [
    {},
    {"name": "Al"},
    {"name": "Alice"},
    {"name": "Alice", "tags": ["a"]},
    {"name": "Alice", "tags": ["a", "b"]},
]


def test_json_parser_streams_growing_partials() -> None:
    out = list(JsonOutputParser().transform(iter(JSON_PIECES)))
    assert out == JSON_PARTIALS  # only changes are yielded
    chunks = [AIMessageChunk(content=p) for p in JSON_PIECES]
    assert list(JsonOutputParser().transform(iter(chunks))) == JSON_PARTIALS


def test_json_parser_streams_through_a_fence() -> None:
    pieces = ["```js", "on\n{", '"a": ', "1}", "\n```"]
    assert list(JsonOutputParser().transform(iter(pieces))) == [{}, {"a": 1}]


def test_json_parser_astreams_growing_partials() -> None:
    out = run(collect(JsonOutputParser().atransform(agen(JSON_PIECES))))
    assert out == JSON_PARTIALS


def test_json_parser_stream_run_output_is_the_last_value() -> None:
    handler = Recorder()
    list(JsonOutputParser().transform(iter(JSON_PIECES), {"callbacks": [handler]}))
    assert handler.events[-1] == ("end", {"name": "Alice", "tags": ["a", "b"]})


def test_json_parser_format_instructions() -> None:
    assert JsonOutputParser().get_format_instructions() == "Return a JSON object."
    schema = {"title": "T", "type": "object", "properties": {"x": {"type": "integer"}}}
    text = JsonOutputParser(json_schema=schema).get_format_instructions()
    assert '{"properties": {"x": {"type": "integer"}}}' in text
    assert '"title": "T"' not in text


def test_json_parser_wire_form_and_round_trip() -> None:
    schema = {"type": "object", "properties": {"lc": {"type": "string"}}}  # an "lc" key
    parser = JsonOutputParser(json_schema=schema)
    data = runwire.dumpd(parser)
    assert data["id"] == ["runwire", "output_parsers", "JsonOutputParser"]
    back = runwire.loads(runwire.dumps(parser), allowed_objects="all")
    assert back == parser
    assert back.json_schema == schema
    assert runwire.dumpd(JsonOutputParser())["kwargs"] == {}


# -- PydanticOutputParser ------------------------------------------------------------
def test_pydantic_parser_returns_model_instances() -> None:
    parser = PydanticOutputParser(pydantic_object=Person)
    assert parser.json_schema == Person.model_json_schema()
    assert parser.invoke('{"name": "Ann", "age": 31}') == Person(name="Ann", age=31)
    fenced = AIMessage(content='```json\n{"name": "Bo", "age": 2}\n```')
    assert parser.invoke(fenced) == Person(name="Bo", age=2)
    assert parser.OutputType is Person
    assert isinstance(parser, JsonOutputParser)


def test_pydantic_parser_validation_error() -> None:
    parser = PydanticOutputParser(pydantic_object=Person)
    with pytest.raises(OutputParserException, match="Failed to parse Person from completion") as e:
        parser.invoke('{"name": "Ann", "age": "old"}')
    assert json.loads(e.value.llm_output) == {"name": "Ann", "age": "old"}
    with pytest.raises(OutputParserException, match="Invalid json output"):
        parser.invoke("no json")


def test_pydantic_parser_wire_form_is_a_json_schema_not_a_python_path() -> None:
    parser = PydanticOutputParser(pydantic_object=Person)
    text = runwire.dumps(parser)
    data = json.loads(text)
    assert data["id"] == ["runwire", "output_parsers", "PydanticOutputParser"]
    assert data["kwargs"] == {"json_schema": Person.model_json_schema()}
    assert Person.__module__ not in text
    assert "pydantic_object" not in text
    assert runwire.dumpd(parser, dialect="langchain")["id"] == data["id"]


def test_pydantic_parser_loaded_from_its_schema_validates_with_jsonschema() -> None:
    parser = PydanticOutputParser(pydantic_object=Person)
    back = runwire.loads(runwire.dumps(parser), allowed_objects="all")
    assert back.pydantic_object is None
    assert back.invoke('{"name": "Ann", "age": 31}') == {"name": "Ann", "age": 31}
    assert back.OutputType == dict[str, Any]
    with pytest.raises(OutputParserException, match="'old' is not of type 'integer'") as e:
        back.invoke('{"name": "Ann", "age": "old"}')
    assert "/age" in str(e.value)
    with pytest.raises(OutputParserException, match="'age' is a required property"):
        back.invoke('{"name": "Ann"}')
    # the same instructions either way
    assert back.get_format_instructions() == parser.get_format_instructions()
    assert '"full name"' in parser.get_format_instructions()


def test_pydantic_parser_round_trip_equality() -> None:
    parser = PydanticOutputParser(json_schema=Person.model_json_schema())
    parser.invoke('{"name": "Ann", "age": 1}')  # fills the validator cache
    back = runwire.loads(runwire.dumps(parser), allowed_objects="all")
    assert back == parser
    assert runwire.dumps(back) == runwire.dumps(parser)


def test_pydantic_parser_streams_only_valid_objects() -> None:
    pieces = ['{"name": "A', 'nn"', ', "age": ', "31", "}"]
    parser = PydanticOutputParser(pydantic_object=Person)
    assert list(parser.transform(iter(pieces))) == [Person(name="Ann", age=31)]
    by_schema = PydanticOutputParser(json_schema=Person.model_json_schema())
    assert run(collect(by_schema.atransform(agen(pieces)))) == [{"name": "Ann", "age": 31}]


def test_pydantic_parser_needs_a_schema() -> None:
    with pytest.raises(TypeError, match="pydantic_object=<a BaseModel class>"):
        PydanticOutputParser()
    with pytest.raises(TypeError, match="must be a pydantic BaseModel class"):
        PydanticOutputParser(pydantic_object=dict)


# -- CommaSeparatedListOutputParser --------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a, b, c", ["a", "b", "c"]),
        ("a,b,c", ["a", "b", "c"]),
        ('"x, y", z', ["x, y", "z"]),
        ("single", ["single"]),
        ("", []),
    ],
)
def test_list_parser_parses(text: str, expected: list[str]) -> None:
    parser = CommaSeparatedListOutputParser()
    assert parser.invoke(text) == expected
    assert parser.invoke(AIMessage(content=text)) == expected


def test_list_parser_streams_each_item_when_it_is_complete() -> None:
    consumed: list[str] = []

    def chunks() -> Iterator[str]:
        for piece in ["app", "le, ban", "ana,", " cher", "ry"]:
            consumed.append(piece)
            yield piece

    out = []
    for item in CommaSeparatedListOutputParser().transform(chunks()):
        out.append((item, len(consumed)))
    assert out == [(["apple"], 2), (["banana"], 3), (["cherry"], 5)]


def test_list_parser_astreams_items_one_by_one() -> None:
    chunks = [AIMessageChunk(content=p) for p in ["a,", " b", ", c"]]
    out = run(collect(CommaSeparatedListOutputParser().atransform(agen(chunks))))
    assert out == [["a"], ["b"], ["c"]]


def test_list_parser_format_instructions_and_types() -> None:
    parser = CommaSeparatedListOutputParser()
    assert "comma separated values" in parser.get_format_instructions()
    assert parser.OutputType == list[str]
    with pytest.raises(NotImplementedError):
        StrOutputParser().get_format_instructions()


# -- wire forms ----------------------------------------------------------------------
LANGCHAIN_FORMS = {
    StrOutputParser: {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "schema", "output_parser", "StrOutputParser"],
        "kwargs": {},
        "name": "StrOutputParser",
    },
    CommaSeparatedListOutputParser: {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "output_parsers", "list", "CommaSeparatedListOutputParser"],
        "kwargs": {},
        "name": "CommaSeparatedListOutputParser",
    },
}


@pytest.mark.parametrize("cls", list(LANGCHAIN_FORMS))
def test_langchain_dialect_matches_langchain_exactly(cls: type) -> None:
    obj = cls()
    assert json.loads(runwire.dumps(obj, dialect="langchain")) == LANGCHAIN_FORMS[cls]
    assert runwire.dumpd(obj)["id"] == ["runwire", "output_parsers", cls.__name__]
    back = runwire.loads(json.dumps(LANGCHAIN_FORMS[cls]))
    assert type(back) is cls
    assert back == obj


def test_langchain_core_ids_load_too() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain_core", "output_parsers", "string", "StrOutputParser"],
        "kwargs": {"name": "text"},
    }
    back = runwire.loads(json.dumps(node))
    assert isinstance(back, StrOutputParser)
    assert back.get_name() == "text"
    assert runwire.dumpd(back, dialect="langchain")["kwargs"] == {"name": "text"}


@pytest.mark.parametrize(
    "obj",
    [
        StrOutputParser(),
        StrOutputParser(name="s"),
        CommaSeparatedListOutputParser(),
        JsonOutputParser(),
        PydanticOutputParser(json_schema={"type": "object"}),
    ],
    ids=lambda o: type(o).__name__,
)
def test_parsers_round_trip(obj: Any) -> None:
    text = runwire.dumps(obj)
    back = runwire.loads(text, allowed_objects="all")
    assert type(back) is type(obj)
    assert back == obj
    assert runwire.dumps(back) == text
