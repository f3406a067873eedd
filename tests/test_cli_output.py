"""Printing outputs: JSON shapes (LangServe's for messages), terminal and pipe modes, secrets."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, SecretStr

from runwire.cli.output import (
    ChunkWriter,
    awrite_stream,
    json_line,
    to_jsonable,
    write_chunk,
    write_result,
    write_stream,
)
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptValue, ChatPromptValueConcrete, StringPromptValue
from runwire.schema.documents import Document
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

SECRET = "sk-very-secret-0123456789"
MASK = "**********"


class Tty(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


class Credentials(BaseModel):
    user: str
    api_key: SecretStr


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


class WithOpaque(BaseModel):
    """A model json mode cannot dump (an arbitrary object), holding a secret too."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque
    token: SecretStr


class Color(Enum):
    RED = "red"


@dataclass
class Point:
    x: int
    y: tuple[int, ...]


# -- to_jsonable -------------------------------------------------------------------------------

# What LangServe sends (orjson of langchain_core's model_dump) for the same objects.
AI_HI = {
    "content": "hi",
    "additional_kwargs": {},
    "response_metadata": {},
    "type": "ai",
    "name": None,
    "id": None,
    "tool_calls": [],
    "invalid_tool_calls": [],
    "usage_metadata": None,
}
HUMAN_Q = {
    "content": "q",
    "additional_kwargs": {},
    "response_metadata": {},
    "type": "human",
    "name": None,
    "id": None,
}


def test_messages_dump_like_langserve() -> None:
    assert to_jsonable(AIMessage(content="hi")) == AI_HI
    assert to_jsonable(HumanMessage(content="q")) == HUMAN_Q
    chunk = to_jsonable(AIMessageChunk(content="hi"))
    assert chunk == {
        **AI_HI,
        "type": "AIMessageChunk",
        "tool_call_chunks": [],
        "chunk_position": None,
    }
    assert list(to_jsonable(AIMessage(content="hi"))) == list(AI_HI)  # same key order too


def test_message_with_tool_calls_and_usage() -> None:
    message = AIMessage(
        content="",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}],
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    )
    data = to_jsonable(message)
    assert data["tool_calls"] == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert data["usage_metadata"]["total_tokens"] == 3
    json.dumps(data, allow_nan=False)  # plain JSON data


def test_documents_and_prompt_values() -> None:
    doc = Document(page_content="text", metadata={"source": "a.txt"})
    assert to_jsonable(doc) == {
        "id": None,
        "metadata": {"source": "a.txt"},
        "page_content": "text",
        "type": "Document",
    }
    assert to_jsonable(StringPromptValue(text="q")) == {"text": "q", "type": "StringPromptValue"}
    assert to_jsonable(ChatPromptValue(messages=[HumanMessage(content="q")])) == {
        "messages": [HUMAN_Q]
    }
    concrete = ChatPromptValueConcrete(messages=[HumanMessage(content="q")])
    assert to_jsonable(concrete) == {"messages": [HUMAN_Q], "type": "ChatPromptValueConcrete"}


def test_nested_structures() -> None:
    value = {
        "answer": AIMessage(content="hi"),
        "history": (SystemMessage(content="s"), [HumanMessage(content="q")]),
        "tags": {"b", "a", "c"},
        "docs": [Document(page_content="x")],
        2: "int key",
        None: "null key",
        True: "bool key",
    }
    data = to_jsonable(value)
    assert data["answer"] == AI_HI
    assert data["history"][0]["type"] == "system"
    assert data["history"][1] == [HUMAN_Q]
    assert data["tags"] == ["a", "b", "c"]
    assert data["docs"][0]["page_content"] == "x"
    assert data["2"] == "int key"
    assert data["null"] == "null key"
    assert data["true"] == "bool key"
    assert json.loads(json_line(value)) == data


def test_scalars_and_odd_types() -> None:
    assert to_jsonable(b"\x00\xffhi") == base64.b64encode(b"\x00\xffhi").decode()
    assert to_jsonable(bytearray(b"ab")) == "YWI="
    assert to_jsonable(Color.RED) == "red"
    assert to_jsonable(dt.date(2024, 5, 1)) == "2024-05-01"
    assert to_jsonable(dt.datetime(2024, 5, 1, 12, 30)) == "2024-05-01T12:30:00"
    assert to_jsonable(Point(1, (2, 3))) == {"x": 1, "y": [2, 3]}
    assert to_jsonable(ValueError("boom")) == {"type": "ValueError", "message": "boom"}
    assert to_jsonable(math.nan) is None
    assert to_jsonable(-math.inf) is None
    assert to_jsonable(1.5) == 1.5
    assert to_jsonable(2**70) == str(2**70)
    assert to_jsonable(2**40) == 2**40
    assert to_jsonable(Opaque()) == "<opaque>"
    assert to_jsonable({3, 1, 2}) == [1, 2, 3]
    assert to_jsonable({100, 9, 10}) == [9, 10, 100]  # natural order when comparable
    assert to_jsonable(frozenset({"x", 1})) == ["x", 1]  # mixed: by canonical JSON text
    assert type(to_jsonable(Color.RED)) is str


def test_secrets_are_masked() -> None:
    creds = Credentials(user="ann", api_key=SecretStr(SECRET))
    assert to_jsonable(creds) == {"user": "ann", "api_key": MASK}
    assert to_jsonable(SecretStr(SECRET)) == MASK
    assert to_jsonable({"nested": [creds]}) == {"nested": [{"user": "ann", "api_key": MASK}]}
    # json mode cannot dump the arbitrary object: the python-mode fallback masks too
    data = to_jsonable(WithOpaque(thing=Opaque(), token=SecretStr(SECRET)))
    assert data == {"thing": "<opaque>", "token": MASK}


@pytest.mark.parametrize("pretty", [True, False])
@pytest.mark.parametrize(
    "value",
    [
        Credentials(user="ann", api_key=SecretStr(SECRET)),
        {"creds": Credentials(user="ann", api_key=SecretStr(SECRET))},
        SecretStr(SECRET),
        WithOpaque(thing=Opaque(), token=SecretStr(SECRET)),
    ],
)
def test_no_secret_is_ever_printed(value: Any, pretty: bool) -> None:
    for write in (write_result, write_chunk):
        out = io.StringIO()
        write(value, stream=out, pretty=pretty)
        assert SECRET not in out.getvalue()
        assert MASK in out.getvalue()


# -- write_result ------------------------------------------------------------------------------


def test_write_result_piped_is_one_json_line_per_value() -> None:
    out = io.StringIO()
    write_result("Paris.", stream=out)
    write_result({"a": [1, 2]}, stream=out)
    write_result(AIMessage(content="hi"), stream=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert [json.loads(line) for line in lines] == ["Paris.", {"a": [1, 2]}, AI_HI]


def test_write_result_terminal_prints_strings_raw_and_values_as_json() -> None:
    out = Tty()
    write_result("line one\nline two", stream=out)
    assert out.getvalue() == "line one\nline two\n"
    out = Tty()
    write_result("ends with newline\n", stream=out)
    assert out.getvalue() == "ends with newline\n"
    out = io.StringIO()  # forced pretty on a plain stream: indented JSON, no colour codes
    write_result({"answer": AIMessage(content="hi"), "n": 1}, stream=out, pretty=True)
    text = out.getvalue()
    assert "\n  " in text  # indented over several lines
    assert json.loads(text) == {"answer": AI_HI, "n": 1}


def test_write_result_terminal_highlights_json() -> None:
    out = Tty()
    write_result({"a": 1}, stream=out)
    assert "\x1b[" in out.getvalue()  # rich colours for a terminal


def test_write_result_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_result("x")
    captured = capsys.readouterr()
    assert captured.out == '"x"\n'  # captured stdout is no terminal: JSON
    assert captured.err == ""


# -- streaming ---------------------------------------------------------------------------------


def test_write_chunk_terminal_writes_text_as_it_comes() -> None:
    out = io.StringIO()
    write_chunk("Hel", stream=out, pretty=True)
    write_chunk(AIMessageChunk(content="lo"), stream=out, pretty=True)
    write_chunk(AIMessageChunk(content=[{"type": "text", "text": "!"}]), stream=out, pretty=True)
    assert out.getvalue() == "Hello!"
    write_chunk({"step": 1}, stream=out, pretty=True)
    assert out.getvalue() == 'Hello!{"step":1}\n'


def test_write_chunk_piped_is_one_json_line_per_chunk() -> None:
    out = io.StringIO()
    write_chunk("Hel", stream=out)
    write_chunk(AIMessageChunk(content="lo"), stream=out)
    write_chunk({"step": 1}, stream=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == "Hel"
    assert lines[1]["type"] == "AIMessageChunk" and lines[1]["content"] == "lo"
    assert lines[2] == {"step": 1}


def test_chunk_writer_keeps_json_on_its_own_lines() -> None:
    out = io.StringIO()
    with ChunkWriter(stream=out, pretty=True) as writer:
        for chunk in ["Hel", "lo", {"a": 1}, "", "x"]:
            writer.write(chunk)
    assert out.getvalue() == 'Hello\n{"a":1}\nx\n'


def test_write_stream_of_a_real_model() -> None:
    model = FakeChatModel(responses=["Paris is the capital."], chunk_size=4)
    out = Tty()
    write_stream(model.stream("capital?"), stream=out)
    assert out.getvalue() == "Paris is the capital.\n"
    piped = io.StringIO()
    write_stream(model.stream("capital?"), stream=piped)
    chunks = [json.loads(line) for line in piped.getvalue().splitlines()]
    assert len(chunks) > 1
    assert "".join(c["content"] for c in chunks) == "Paris is the capital."


def test_awrite_stream() -> None:
    model = FakeChatModel(responses=["a b c"], chunk_size=0)
    out = io.StringIO()
    asyncio.run(awrite_stream(model.astream("q"), stream=out, pretty=True))
    assert out.getvalue() == "a b c\n"
