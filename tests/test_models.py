"""Model bases and fakes: input coercion, chat models, LLMs, tools, retrievers, embeddings."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

import runwire
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.embeddings import Embeddings
from runwire.runtime.models.fakes import FakeChatModel, FakeEmbeddings
from runwire.runtime.models.inputs import to_messages, to_prompt_string
from runwire.runtime.models.llm import BaseLLM
from runwire.runtime.models.retriever import BaseRetriever
from runwire.runtime.models.tools import (
    ToolCallOutputParser,
    convert_to_openai_function,
    convert_to_openai_tool,
    parse_google_docstring,
)
from runwire.runtime.parsers import OutputParserException, StrOutputParser
from runwire.schema.coerce import convert_to_message as to_message
from runwire.schema.coerce import get_buffer_string as buffer_string
from runwire.schema.documents import Document
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def total(chunks: list[Any]) -> Any:
    out = chunks[0]
    for chunk in chunks[1:]:
        out = out + chunk
    return out


def same_reply(a: BaseMessage, b: BaseMessage) -> bool:
    """Equal but for the run-specific message id."""
    keys = ("content", "tool_calls", "usage_metadata", "response_metadata")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


class Recorder:
    """A callback handler that keeps what it is told."""

    def __init__(self, wants_streaming: bool = False) -> None:
        self.wants_streaming = wants_streaming
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

    def streamed(self) -> list[Any]:
        return [data for kind, data in self.events if kind == "stream"]


class PromptValueLike:
    """Something shaped like a prompt value (the prompts package is not imported)."""

    def to_messages(self) -> list[BaseMessage]:
        return [SystemMessage(content="sys"), HumanMessage(content="hi")]

    def to_string(self) -> str:
        return "System: sys\nHuman: hi"


# -- inputs ----------------------------------------------------------------------------
def test_to_messages_from_strings_and_prompt_values() -> None:
    assert to_messages("hello") == [HumanMessage(content="hello")]
    assert to_messages(PromptValueLike()) == PromptValueLike().to_messages()
    message = AIMessage(content="x")
    assert to_messages(message) == [message]
    assert to_messages([message, "y"]) == [message, HumanMessage(content="y")]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (("human", "a"), HumanMessage(content="a")),
        (("user", "a"), HumanMessage(content="a")),
        (("ai", "a"), AIMessage(content="a")),
        (("assistant", "a"), AIMessage(content="a")),
        (("system", "a"), SystemMessage(content="a")),
        (
            ("developer", "a"),
            SystemMessage(content="a", additional_kwargs={"__openai_role__": "developer"}),
        ),
        (["human", "list pair"], HumanMessage(content="list pair")),
        ({"role": "user", "content": "a"}, HumanMessage(content="a")),
        ({"type": "ai", "content": "a", "id": "m1"}, AIMessage(content="a", id="m1")),
        ({"role": "assistant", "content": None}, AIMessage(content="")),
        (
            {"role": "tool", "content": "42", "tool_call_id": "c1", "status": "error"},
            ToolMessage(content="42", tool_call_id="c1", status="error"),
        ),
        (
            {"role": "user", "content": "a", "name": "bob", "foo": 1},
            HumanMessage(content="a", name="bob", additional_kwargs={"foo": 1}),
        ),
    ],
)
def test_to_message_roles(item: Any, expected: BaseMessage) -> None:
    assert to_message(item) == expected


def test_to_message_converts_openai_tool_calls() -> None:
    message = to_message(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
            ],
        }
    )
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "c1", "type": "tool_call"}]


def test_to_message_reads_a_message_constructor_node_as_data() -> None:
    node = {"lc": 1, "type": "constructor", "id": ["x", "HumanMessage"], "kwargs": {"content": "n"}}
    assert to_message(node) == HumanMessage(content="n")


def test_input_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="a model takes a string, a prompt value or a list"):
        to_messages(42)
    with pytest.raises(TypeError, match="cannot make a message from int"):
        to_messages([1])
    with pytest.raises(ValueError, match="unexpected message role 'robot'"):
        to_messages([("robot", "beep")])
    with pytest.raises(ValueError, match="needs 'role'"):
        to_messages([{"text": "x"}])
    with pytest.raises(ValueError, match=r"must be \(role, content\)"):
        to_messages([("a", "b", "c")])


def test_prompt_strings_for_llms() -> None:
    messages = [
        SystemMessage(content="s"),
        HumanMessage(content="h"),
        AIMessage(content="a", tool_calls=[{"name": "t", "args": {}, "id": "1"}]),
        ToolMessage(content="r", tool_call_id="1"),
    ]
    expected = (
        "System: s\nHuman: h\nAI: a[{'name': 't', 'args': {}, 'id': '1', 'type': 'tool_call'}]"
        "\nTool: r"
    )
    assert buffer_string(messages) == expected
    assert to_prompt_string(messages) == expected
    assert to_prompt_string("raw") == "raw"
    assert to_prompt_string(PromptValueLike()) == "System: sys\nHuman: hi"


# -- FakeChatModel: invoke, stream, batch ----------------------------------------------
def test_fake_invoke_cycles_responses_and_echoes_without_them() -> None:
    model = FakeChatModel(responses=["one", "two"])
    assert [model.invoke("x").content for _ in range(3)] == ["one", "two", "one"]
    echo = FakeChatModel()
    assert echo.invoke([("human", "first"), ("ai", "mid"), ("human", "last")]).content == "last"
    assert echo.invoke([SystemMessage(content="only system")]).content == ""


def test_fake_invoke_message_shape() -> None:
    reply = FakeChatModel(responses=["hi"]).invoke("x")
    assert isinstance(reply, AIMessage)
    assert reply.id is not None
    assert reply.id.startswith("lc_run-")
    assert reply.id.endswith("-0")
    assert reply.response_metadata == {"finish_reason": "stop", "model_name": "fake-chat-model"}
    assert reply.usage_metadata is None


def test_fake_honours_stop_words() -> None:
    model = FakeChatModel(responses=["alpha STOP beta"])
    assert model.invoke("x", stop=["STOP"]).content == "alpha "


@pytest.mark.parametrize(
    ("chunk_size", "pieces"),
    [
        (0, ["The ", "quick ", "brown ", "fox", ""]),
        (4, ["The ", "quic", "k br", "own ", "fox", ""]),
        (100, ["The quick brown fox", ""]),
    ],
)
def test_fake_stream_pieces_sum_to_the_invoke_result(chunk_size: int, pieces: list[str]) -> None:
    model = FakeChatModel(responses=["The quick brown fox"], chunk_size=chunk_size, usage=True)
    chunks = list(model.stream("go"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.content for c in chunks] == pieces
    assert [c.chunk_position for c in chunks] == [None] * (len(pieces) - 1) + ["last"]
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].id.startswith("lc_run-") and not chunks[0].id.endswith("-0")
    assert same_reply(total(chunks), model.invoke("go"))


def test_fake_astream_and_ainvoke() -> None:
    model = FakeChatModel(responses=["a b c"], usage=True)
    chunks = run(collect(model.astream("go")))
    assert [c.content for c in chunks] == ["a ", "b ", "c", ""]
    reply = run(model.ainvoke("go"))
    assert same_reply(total(chunks), reply)


def test_fake_batch_and_abatch() -> None:
    model = FakeChatModel()
    assert [m.content for m in model.batch(["a", "b", "c"])] == ["a", "b", "c"]
    assert [m.content for m in run(model.abatch(["d", "e"]))] == ["d", "e"]


def test_usage_metadata_counts_whitespace_tokens() -> None:
    model = FakeChatModel(responses=["three word reply"], usage=True)
    reply = model.invoke([("system", "be brief"), ("human", "say it please")])
    assert reply.usage_metadata == {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    chunks = list(model.stream([("human", "x")]))
    assert total(chunks).usage_metadata == {
        "input_tokens": 1,
        "output_tokens": 3,
        "total_tokens": 4,
    }


# -- models without streaming, custom subclasses ---------------------------------------
class EchoModel(BaseChatModel):
    """Only ``_generate``: streaming falls back to invoke."""

    calls: int = 0

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        self.calls += 1
        return AIMessage(
            content=messages[-1].text.upper(),
            usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
            response_metadata={"kwargs": sorted(kwargs)},
        )


class StreamOnlyModel(BaseChatModel):
    """``_generate`` and a sync ``_stream``: the async path steps it in a thread."""

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        return AIMessage(content="ab")

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        yield AIMessageChunk(content="a", id="provider-id")
        yield AIMessageChunk(content="b", chunk_position="last")


def test_base_chat_model_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        BaseChatModel()  # type: ignore[abstract]


def test_stream_falls_back_to_invoke_without_stream_support() -> None:
    model = EchoModel()
    chunks = list(model.stream("hey"))
    assert len(chunks) == 1
    assert type(chunks[0]) is AIMessage
    assert chunks[0].content == "HEY"
    assert [c.content for c in run(collect(model.astream("yo")))] == ["YO"]


def test_usage_and_metadata_flow_through_unchanged() -> None:
    reply = EchoModel().invoke("x", stop=["s"], temperature=0)
    assert reply.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert reply.response_metadata == {"kwargs": ["temperature"]}


def test_default_async_paths_run_the_sync_ones_in_a_thread() -> None:
    main = threading.get_ident()
    seen: list[int] = []

    class Threaded(EchoModel):
        def _generate(self, messages: list[BaseMessage], stop: Any = None, **kw: Any) -> AIMessage:
            seen.append(threading.get_ident())
            return super()._generate(messages, stop, **kw)

    assert run(Threaded().ainvoke("q")).content == "Q"
    assert seen and seen[0] != main


def test_provider_ids_and_last_markers_are_kept() -> None:
    model = StreamOnlyModel()
    chunks = list(model.stream("x"))
    assert [c.content for c in chunks] == ["a", "b"]  # no extra closing chunk
    assert chunks[0].id == "provider-id"
    assert chunks[1].id.startswith("lc_run-")
    achunks = run(collect(model.astream("x")))
    assert [c.content for c in achunks] == ["a", "b"]
    assert total(achunks).id == "provider-id"


def test_an_empty_stream_is_an_error() -> None:
    class Silent(EchoModel):
        def _stream(self, messages: Any, stop: Any = None, **kw: Any) -> Iterator[AIMessageChunk]:
            return iter(())

    with pytest.raises(ValueError, match="No generation chunks were returned"):
        list(Silent().stream("x"))


def test_disable_streaming() -> None:
    model = FakeChatModel(responses=["a b"], disable_streaming=True)
    chunks = list(model.stream("x"))
    assert len(chunks) == 1 and type(chunks[0]) is AIMessage
    assert [type(c) for c in run(collect(model.astream("x")))] == [AIMessage]
    tool_calling = FakeChatModel(responses=["a b"], disable_streaming="tool_calling")
    assert len(list(tool_calling.stream("x"))) == 3  # no tools: streams
    with_tools = tool_calling.bind_tools([{"name": "lookup", "parameters": {}}])
    assert [type(c) for c in with_tools.stream("x")] == [AIMessage]
    assert [type(c) for c in tool_calling.stream("x", tools=[{"name": "t"}])] == [AIMessage]
    assert len(list(FakeChatModel(responses=["a b"]).stream("x", stream=False))) == 1


def test_output_version_v1_is_refused_clearly() -> None:
    with pytest.raises(NotImplementedError, match="output_version='v1'"):
        FakeChatModel(output_version="v1").invoke("x")
    assert FakeChatModel(output_version="v0").invoke("x").content == "x"


# -- callbacks -------------------------------------------------------------------------
def test_stream_is_one_chat_model_run_with_a_stream_event_per_chunk() -> None:
    handler = Recorder()
    model = FakeChatModel(responses=["a b c"])
    chunks = list(model.stream("question", {"callbacks": [handler], "tags": ["t"]}))
    assert handler.events[0] == ("start", "chat_model")
    assert handler.streamed() == chunks
    kind, output = handler.events[-1]
    assert kind == "end"
    assert output == total(chunks)
    run_ = handler.runs[0]
    assert run_.inputs == {"messages": [[HumanMessage(content="question")]]}
    assert run_.tags == ["t"]
    assert chunks[0].id == f"lc_run--{run_.id}"  # LangChain's "-".join(("lc_run-", id))


def test_astream_callbacks() -> None:
    handler = Recorder()
    chunks = run(collect(FakeChatModel(responses=["x y"]).astream("q", {"callbacks": [handler]})))
    assert handler.streamed() == chunks
    assert handler.events[-1] == ("end", total(chunks))


def test_invoke_streams_for_handlers_that_want_tokens() -> None:
    quiet, loud = Recorder(), Recorder(wants_streaming=True)
    model = FakeChatModel(responses=["a b"])
    reply = model.invoke("q", {"callbacks": [quiet]})
    assert quiet.streamed() == []
    assert quiet.events[-1] == ("end", reply)
    assert reply.id == f"lc_run--{quiet.runs[0].id}-0"
    reply = model.invoke("q", {"callbacks": [loud]})
    assert [c.content for c in loud.streamed()] == ["a ", "b", ""]
    assert type(reply) is AIMessage and reply.content == "a b"
    assert reply.id == f"lc_run--{loud.runs[0].id}"
    areply = run(model.ainvoke("q", {"callbacks": [Recorder(wants_streaming=True)]}))
    assert type(areply) is AIMessage and areply.content == "a b"


def test_model_level_callbacks_tags_and_metadata() -> None:
    handler = Recorder()
    model = FakeChatModel(callbacks=[handler], tags=["model"], metadata={"m": 1})
    model.invoke("q", {"tags": ["call"], "metadata": {"c": 2}})
    run_ = handler.runs[0]
    assert run_.tags == ["call", "model"]
    assert run_.metadata == {"c": 2, "m": 1}
    assert runwire.dumpd(model)["kwargs"] == {}  # excluded from the wire form


def test_errors_reach_the_handlers() -> None:
    class Broken(EchoModel):
        def _generate(self, messages: Any, stop: Any = None, **kw: Any) -> AIMessage:
            raise RuntimeError("provider down")

    handler = Recorder()
    with pytest.raises(RuntimeError, match="provider down"):
        Broken().invoke("q", {"callbacks": [handler]})
    assert handler.events == [("start", "chat_model"), ("error", "RuntimeError")]


def test_run_name_and_run_id_from_config() -> None:
    handler = Recorder()
    import uuid

    rid = uuid.uuid4()
    reply = FakeChatModel().invoke("q", {"callbacks": [handler], "run_name": "m", "run_id": rid})
    assert handler.runs[0].name == "m"
    assert reply.id == f"lc_run--{rid}-0"
    assert FakeChatModel().invoke("q", {"run_id": rid}).id == f"lc_run--{rid}-0"


# -- prompt-less chains ----------------------------------------------------------------
def test_model_then_str_parser() -> None:
    chain = FakeChatModel(responses=["hi there"]) | StrOutputParser()
    assert chain.invoke("hello") == "hi there"
    assert list(chain.stream("hello")) == ["hi ", "there", ""]
    assert run(chain.ainvoke("hello")) == "hi there"
    assert run(collect(chain.astream("hello"))) == ["hi ", "there", ""]


def test_chain_callbacks_nest_the_model_run() -> None:
    handler = Recorder()
    chain = FakeChatModel(responses=["a b"]) | StrOutputParser()
    assert "".join(chain.stream("q", {"callbacks": [handler]})) == "a b"
    runs = {r.run_type: r for r in handler.runs}
    assert sorted(runs) == ["chain", "chat_model", "parser"]
    assert handler.runs[0] is runs["chain"]
    model_run = runs["chat_model"]
    assert model_run.parent_ids == [str(runs["chain"].id)]
    assert "seq:step:1" in model_run.tags


# -- tools -----------------------------------------------------------------------------
class Person(BaseModel):
    """A person to look up.

    Second paragraph."""

    name: str = Field(description="full name")
    age: int | None = None


class Inner(BaseModel):
    z: int


class Outer(BaseModel):
    inner: Inner
    title: str


class Movie(TypedDict):
    """A movie.

    Args:
        title: the title
    """

    title: str
    year: Annotated[int, ..., "release year"]
    rating: Annotated[float, 5.0, "stars"]


def add(a: int, b: int = 2, *args: Any, config: Any = None, **kwargs: Any) -> int:
    """Add two numbers.

    More text.

    Args:
        a: first number
        b: second number,
            continued
    """
    return a + b


def test_convert_pydantic_class() -> None:
    spec = convert_to_openai_function(Person)
    assert spec == {
        "name": "Person",
        "description": "A person to look up.\n\nSecond paragraph.",
        "parameters": {
            "properties": {
                "name": {"description": "full name", "type": "string"},
                "age": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            },
            "required": ["name"],
            "type": "object",
        },
    }


def test_convert_inlines_refs_and_keeps_a_property_named_title() -> None:
    params = convert_to_openai_function(Outer)["parameters"]
    assert "$defs" not in params
    assert params["properties"]["inner"] == {
        "properties": {"z": {"type": "integer"}},
        "required": ["z"],
        "type": "object",
    }
    assert params["properties"]["title"] == {"type": "string"}


def test_convert_typed_dict() -> None:
    assert convert_to_openai_function(Movie) == {
        "name": "Movie",
        "description": "A movie.",
        "parameters": {
            "properties": {
                "title": {"description": "the title", "type": "string"},
                "year": {"description": "release year", "type": "integer"},
                "rating": {"default": 5.0, "description": "stars", "type": "number"},
            },
            "required": ["title", "year"],
            "type": "object",
        },
    }


def test_convert_function_with_google_docstring() -> None:
    assert convert_to_openai_function(add) == {
        "name": "add",
        "description": "Add two numbers. More text.",
        "parameters": {
            "properties": {
                "a": {"description": "first number", "type": "integer"},
                "b": {"default": 2, "description": "second number, continued", "type": "integer"},
            },
            "required": ["a"],
            "type": "object",
        },
    }
    assert parse_google_docstring(None) == ("", {})


def test_convert_dict_forms() -> None:
    params = {"type": "object", "properties": {"q": {"type": "string"}}}
    expected = {"name": "search", "description": "find", "parameters": params}
    assert convert_to_openai_function(expected | {"extra": 1}) == expected
    assert convert_to_openai_function({"type": "function", "function": expected}) == expected
    anthropic = {"name": "search", "description": "find", "input_schema": params}
    assert convert_to_openai_function(anthropic) == expected
    bedrock = {
        "toolSpec": {"name": "search", "description": "find", "inputSchema": {"json": params}}
    }
    assert convert_to_openai_function(bedrock) == expected
    schema = {"title": "search", "description": "find", **params}
    assert convert_to_openai_function(schema) == expected
    assert convert_to_openai_tool(schema) == {"type": "function", "function": expected}
    assert convert_to_openai_tool({"type": "web_search"}) == {"type": "web_search"}
    with pytest.raises(ValueError, match="top-level 'title'"):
        convert_to_openai_function(params)
    with pytest.raises(TypeError, match="cannot use int as a tool"):
        convert_to_openai_function(3)


def test_base_bind_tools_is_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="EchoModel does not support tool calling"):
        EchoModel().bind_tools([Person])
    with pytest.raises(NotImplementedError, match="needs tool calling"):
        EchoModel().with_structured_output(Person)
    with pytest.raises(ValueError, match="unsupported arguments"):
        FakeChatModel().with_structured_output(Person, colour="red")


def test_fake_bind_tools_records_tools_and_calls_named_ones() -> None:
    model = FakeChatModel(responses=["plain answer"])
    bound = model.bind_tools([Person, add])
    assert [t["name"] for t in bound.tools] == ["Person", "add"]
    assert model.tools == []  # the original is untouched
    reply = bound.invoke('please add {"a": 1, "b": 5}')
    assert reply.content == ""
    assert reply.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 5}, "id": "call_1", "type": "tool_call"}
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert bound.invoke("address me").content == "plain answer"  # whole words only
    no_args = bound.invoke("find Person")
    assert no_args.tool_calls[0]["name"] == "Person"
    assert no_args.tool_calls[0]["args"] == {}


def test_fake_tool_choice() -> None:
    tools = [Person, add]
    forced = FakeChatModel().bind_tools(tools, tool_choice="any")
    assert forced.invoke("nothing named").tool_calls[0]["name"] == "Person"
    named = FakeChatModel().bind_tools(tools, tool_choice="add")
    assert named.invoke("Person").tool_calls[0]["name"] == "add"
    as_dict = FakeChatModel().bind_tools(tools, tool_choice={"function": {"name": "add"}})
    assert as_dict.invoke("x").tool_calls[0]["name"] == "add"
    off = FakeChatModel().bind_tools(tools, tool_choice="none")
    assert off.invoke("add").tool_calls == []
    via_kwargs = FakeChatModel().invoke("call add", tools=[add])
    assert via_kwargs.tool_calls[0]["name"] == "add"


def test_fake_streams_tool_calls_as_chunks() -> None:
    bound = FakeChatModel(usage=True).bind_tools([add])
    chunks = list(bound.stream('add {"a": 2}'))
    assert chunks[0].tool_call_chunks[0]["name"] == "add"
    summed = total(chunks)
    assert summed.tool_calls == [
        {"name": "add", "args": {"a": 2}, "id": "call_1", "type": "tool_call"}
    ]
    fresh = FakeChatModel(usage=True).bind_tools([add])
    assert same_reply(summed, fresh.invoke('add {"a": 2}'))
    assert summed.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}


# -- structured output -----------------------------------------------------------------
PERSON_TEXT = 'Make {"name": "Ann", "age": 31}'


def test_structured_output_pydantic() -> None:
    structured = FakeChatModel().with_structured_output(Person)
    assert structured.invoke(PERSON_TEXT) == Person(name="Ann", age=31)
    assert run(structured.ainvoke(PERSON_TEXT)) == Person(name="Ann", age=31)
    assert list(structured.stream(PERSON_TEXT)) == [Person(name="Ann", age=31)]
    assert run(collect(structured.astream(PERSON_TEXT))) == [Person(name="Ann", age=31)]
    with pytest.raises(ValidationError):
        structured.invoke('{"age": 3}')


def test_structured_output_typed_dict_and_json_schema() -> None:
    movie = FakeChatModel().with_structured_output(Movie)
    assert movie.invoke('{"title": "Up", "year": 2009}') == {"title": "Up", "year": 2009}
    schema = {
        "title": "answer",
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }
    answer = FakeChatModel().with_structured_output(schema)
    assert answer.invoke('{"text": "42"}') == {"text": "42"}
    openai_tool = {"type": "function", "function": {"name": "answer", "parameters": {}}}
    assert FakeChatModel().with_structured_output(openai_tool).invoke("{}") == {}


def test_structured_output_include_raw() -> None:
    structured = FakeChatModel().with_structured_output(Person, include_raw=True)
    out = structured.invoke(PERSON_TEXT)
    assert list(out) == ["raw", "parsed", "parsing_error"]
    assert isinstance(out["raw"], AIMessage)
    assert out["raw"].tool_calls[0]["name"] == "Person"
    assert out["parsed"] == Person(name="Ann", age=31)
    assert out["parsing_error"] is None
    bad = structured.invoke('{"age": "x"}')
    assert bad["parsed"] is None
    assert isinstance(bad["parsing_error"], ValidationError)
    streamed = list(structured.stream(PERSON_TEXT))
    assert len(streamed) == 1 and streamed[0]["parsed"] == Person(name="Ann", age=31)
    assert run(structured.ainvoke(PERSON_TEXT))["parsed"] == Person(name="Ann", age=31)


def test_structured_output_streams_dict_partials() -> None:
    schema = {"title": "answer", "type": "object", "properties": {"text": {"type": "string"}}}
    parser = ToolCallOutputParser(schema)
    pieces = ['{"te', 'xt": "hel', 'lo"}']
    chunks = [
        AIMessageChunk(
            content="",
            tool_call_chunks=[
                {"name": None if i else "answer", "args": p, "id": None if i else "1", "index": 0}
            ],
        )
        for i, p in enumerate(pieces)
    ]
    assert list(parser.transform(iter(chunks))) == [{}, {"text": "hel"}, {"text": "hello"}]


def test_tool_call_parser_edge_cases() -> None:
    by_model = ToolCallOutputParser(Person)
    assert by_model.invoke(AIMessage(content="no tools")) is None
    other = AIMessage(content="", tool_calls=[{"name": "other", "args": {}, "id": "1"}])
    with pytest.raises(OutputParserException, match="Unknown tool type: 'other'"):
        by_model.invoke(other)
    assert ToolCallOutputParser(Movie).invoke(other) is None
    legacy = AIMessage(
        content="",
        additional_kwargs={
            "tool_calls": [
                {"id": "1", "function": {"name": "Movie", "arguments": '{"title": "x"}'}}
            ]
        },
    )
    assert ToolCallOutputParser(Movie).invoke(legacy) == {"title": "x"}
    with pytest.raises(TypeError, match="expected a model message"):
        by_model.invoke("text")


# -- BaseLLM ---------------------------------------------------------------------------
class ShoutLLM(BaseLLM):
    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return prompt.upper()


class StreamingLLM(ShoutLLM):
    def _stream(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Iterator[str]:
        yield from prompt.upper().split(" ")


def test_llm_invoke_takes_strings_messages_and_prompt_values() -> None:
    llm = ShoutLLM()
    assert llm.invoke("hi") == "HI"
    assert llm.invoke([("system", "s"), ("human", "h")]) == "SYSTEM: S\nHUMAN: H"
    assert llm.invoke(PromptValueLike()) == "SYSTEM: SYS\nHUMAN: HI"
    assert run(llm.ainvoke("a")) == "A"
    assert llm.OutputType is str and llm.run_type == "llm"
    with pytest.raises(TypeError):
        llm.invoke(3)


def test_llm_stream() -> None:
    assert list(ShoutLLM().stream("a b")) == ["A B"]  # no _stream: one chunk
    assert list(StreamingLLM().stream("a b")) == ["A", "B"]
    assert run(collect(StreamingLLM().astream("a b"))) == ["A", "B"]
    assert run(collect(ShoutLLM().astream("a b"))) == ["A B"]


def test_llm_callbacks() -> None:
    handler = Recorder()
    list(StreamingLLM().stream("a b", {"callbacks": [handler]}))
    assert handler.events == [
        ("start", "llm"),
        ("stream", "A"),
        ("stream", "B"),
        ("end", "AB"),
    ]
    assert handler.runs[0].inputs == {"prompts": ["a b"]}
    loud = Recorder(wants_streaming=True)  # LLMs do not stream on invoke (LangChain)
    assert StreamingLLM().invoke("c d", {"callbacks": [loud]}) == "C D"
    assert loud.events == [("start", "llm"), ("end", "C D")]
    assert run(StreamingLLM().ainvoke("c d", {"callbacks": [loud]})) == "C D"


# -- retrievers ------------------------------------------------------------------------
class KeywordRetriever(BaseRetriever):
    docs: list[Document]
    k: int = 2

    def _get_relevant_documents(self, query: str, *, k: int | None = None) -> list[Document]:
        hits = [d for d in self.docs if query in d.page_content]
        return hits[: k or self.k]


class PlainRetriever(BaseRetriever):
    def _get_relevant_documents(self, query: str) -> list[Document]:
        return [Document(page_content=query)]


DOCS = [Document(page_content=t) for t in ("red apple", "green apple", "red car", "apple pie")]


def test_retriever_invoke_and_kwargs() -> None:
    retriever = KeywordRetriever(docs=DOCS)
    assert retriever.invoke("apple") == DOCS[:2]
    assert retriever.invoke("apple", k=3) == [DOCS[0], DOCS[1], DOCS[3]]
    assert PlainRetriever().invoke("q", k=3) == [Document(page_content="q")]  # not passed on
    assert run(retriever.ainvoke("red")) == [DOCS[0], DOCS[2]]
    assert run(retriever.ainvoke("apple", k=1)) == [DOCS[0]]
    assert run(PlainRetriever().ainvoke("q", k=1)) == [Document(page_content="q")]
    assert retriever.batch(["car", "pie"]) == [[DOCS[2]], [DOCS[3]]]


def test_retriever_runs() -> None:
    handler = Recorder()
    retriever = KeywordRetriever(docs=DOCS, tags=["kb"], metadata={"source": "test"})
    out = retriever.invoke("car", {"callbacks": [handler]})
    assert handler.events == [("start", "retriever"), ("end", out)]
    assert handler.runs[0].inputs == {"query": "car"}
    assert handler.runs[0].tags == ["kb"]
    assert handler.runs[0].metadata == {"source": "test"}
    assert retriever.run_type == "retriever"
    assert retriever.OutputType == list[Document]


# -- embeddings ------------------------------------------------------------------------
def test_fake_embeddings_are_deterministic_unit_vectors() -> None:
    emb = FakeEmbeddings(size=16)
    a, b = emb.embed_documents(["alpha", "beta"])
    assert len(a) == 16
    assert math.isclose(math.fsum(x * x for x in a), 1.0)
    assert a != b
    assert emb.embed_query("alpha") == a
    assert FakeEmbeddings(size=16).embed_query("alpha") == a
    assert run(emb.aembed_query("alpha")) == a
    assert run(emb.aembed_documents(["beta"])) == [b]
    with pytest.raises(ValidationError):
        FakeEmbeddings(size=0)


def test_embeddings_async_defaults() -> None:
    class Lengths(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(len(t))] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return [float(len(text))]

    assert run(Lengths().aembed_documents(["ab", "c"])) == [[2.0], [1.0]]
    assert run(Lengths().aembed_query("abc")) == [3.0]
    with pytest.raises(TypeError):
        Embeddings()  # type: ignore[abstract]


# -- wire forms ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "obj",
    [
        FakeChatModel(),
        FakeChatModel(responses=["a", "b"], chunk_size=3, usage=True, disable_streaming=True),
        FakeChatModel(name="fake").bind_tools([Person], tool_choice="any"),
        FakeEmbeddings(size=8),
    ],
    ids=["plain", "options", "tools", "embeddings"],
)
@pytest.mark.parametrize("dialect", ["runwire", "langchain"])
def test_fakes_round_trip(obj: Any, dialect: Any) -> None:
    text = runwire.dumps(obj, dialect=dialect)
    data = json.loads(text)
    assert data["id"] == ["runwire", "models", type(obj).__name__]  # no LangChain alias
    back = runwire.loads(text, allowed_objects="all")
    assert type(back) is type(obj)
    assert back == obj
    assert runwire.dumps(back, dialect=dialect) == text


def test_fake_chat_model_wire_kwargs() -> None:
    assert runwire.dumpd(FakeChatModel()) == {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "models", "FakeChatModel"],
        "kwargs": {},
        "name": "FakeChatModel",
    }
    bound = FakeChatModel(responses=["x"], output_version="v0").bind_tools([add])
    kwargs = runwire.dumpd(bound)["kwargs"]
    assert kwargs["responses"] == ["x"]
    assert kwargs["output_version"] == "v0"
    assert kwargs["tools"][0]["name"] == "add"
    loaded = runwire.loads(runwire.dumps(bound), allowed_objects="all")
    assert loaded.invoke('add {"a": 1}').tool_calls[0]["args"] == {"a": 1}
    assert runwire.dumpd(FakeEmbeddings(size=3))["kwargs"] == {"size": 3}
