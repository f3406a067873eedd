"""Hand-written fixtures in LangChain's exact wire format load and dump back identically.

The fixtures under ``fixtures/langchain`` are what ``langchain_core.load.dumps`` writes
(ids, kwargs, key order); langchain_core itself is not imported here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runwire
from conftest import FAKE_SECRET
from runwire.errors import SecretPlacementError
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
    SystemMessageChunk,
    ToolMessage,
    ToolMessageChunk,
)

FIXTURES = Path(__file__).parent / "fixtures" / "langchain"
ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.json"))
PRIMARY_LC_IDS = {
    "AIMessage": ["langchain", "schema", "messages", "AIMessage"],
    "Document": ["langchain", "schema", "document", "Document"],
}


def read(name: str) -> tuple[str, Any]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text, json.loads(text)


def node_orders(value: Any) -> list[Any]:
    """Key order of every constructor node and of its kwargs, depth first."""
    found: list[Any] = []
    if isinstance(value, dict):
        if value.get("type") == "constructor" and "kwargs" in value:
            found.append((value["id"][-1], list(value), list(value["kwargs"])))
        for item in value.values():
            found += node_orders(item)
    elif isinstance(value, list):
        for item in value:
            found += node_orders(item)
    return found


def as_primary_id(data: Any) -> Any:
    """LangChain writes the first id of a class; alias ids in a fixture are mapped to it."""
    if isinstance(data, dict) and data.get("type") == "constructor":
        name = data["id"][-1]
        return {**data, "id": PRIMARY_LC_IDS.get(name, data["id"])}
    return data


def test_fixture_set_is_complete() -> None:
    assert {
        "ai_message.json",
        "ai_message_core_id.json",
        "chat_history.json",
        "document.json",
        "human_message_escaped.json",
    } <= set(ALL_FIXTURES)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_langchain_dialect_reproduces_the_fixture(name: str) -> None:
    text, data = read(name)
    obj = runwire.loads(text)
    out = json.loads(runwire.dumps(obj, dialect="langchain"))
    want = as_primary_id(data)
    assert out == want
    assert node_orders(out) == node_orders(want)
    # the runwire dialect differs only in ids, and loads back to the same object
    assert runwire.loads(runwire.dumps(obj)) == obj


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_fixture_loads_the_same_from_text_and_from_data(name: str) -> None:
    text, data = read(name)
    assert runwire.loads(text) == runwire.load(data) == runwire.loads(text.encode())


def test_ai_message_fixture() -> None:
    msg = runwire.loads(read("ai_message.json")[0])
    assert type(msg) is AIMessage
    assert msg.id == "run-4f5a2e1c-7d4b-4c1e-9a49-2b5f0c8e1d3a-0"
    assert msg.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Paris", "unit": "celsius"},
            "id": "call_Xk2bQ9fLmN",
            "type": "tool_call",
        }
    ]
    assert msg.usage_metadata["output_token_details"] == {"audio": 0, "reasoning": 0}
    assert msg.response_metadata["token_usage"]["total_tokens"] == 70
    assert msg.additional_kwargs == {"refusal": None}
    assert msg.invalid_tool_calls == []


def test_ai_message_with_langchain_core_id() -> None:
    msg = runwire.loads(read("ai_message_core_id.json")[0])
    assert type(msg) is AIMessage
    assert msg.name == "forecaster"
    assert msg.text == "Paris is sunny, 18 degrees."
    assert msg.invalid_tool_calls[0]["args"] == '{"city": "Par'
    assert msg.invalid_tool_calls[0]["type"] == "invalid_tool_call"


def test_escaped_user_dict_loads_as_that_dict_and_never_as_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_SECRET)
    text, data = read("human_message_escaped.json")
    for options in ({}, {"secrets_from_env": True}, {"secrets_map": {"OPENAI_API_KEY": "x"}}):
        msg = runwire.loads(text, **options)
        assert type(msg) is HumanMessage
        pasted = msg.additional_kwargs["pasted"]
        assert pasted == {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}
        assert type(pasted) is dict
        assert FAKE_SECRET not in repr(msg)
    assert json.loads(runwire.dumps(msg, dialect="langchain")) == data


def test_unescaped_secret_in_additional_kwargs_is_refused() -> None:
    """The same node without LangChain's escape is a secret in the wrong place."""
    _, data = read("human_message_escaped.json")
    extra = data["kwargs"]["additional_kwargs"]
    extra["pasted"] = extra["pasted"]["__lc_escaped__"]
    with pytest.raises(SecretPlacementError) as info:
        runwire.load(data, secrets_map={"OPENAI_API_KEY": FAKE_SECRET})
    assert info.value.path == "$.kwargs.additional_kwargs.pasted"


def test_document_fixture() -> None:
    doc = runwire.loads(read("document.json")[0])
    assert type(doc) is runwire.Document
    assert doc.id == "doc-42"
    assert doc.page_content == "Paris is the capital and largest city of France."
    assert doc.metadata == {"source": "https://example.com/paris", "page": 3, "score": 0.87}


def test_chat_history_fixture_has_every_kind() -> None:
    text, data = read("chat_history.json")
    history = runwire.loads(text)
    assert [type(m) for m in history] == [
        SystemMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
        AIMessageChunk,
        HumanMessageChunk,
        SystemMessageChunk,
        ToolMessageChunk,
        runwire.Document,
    ]
    tool, chunk = history[3], history[4]
    assert (tool.tool_call_id, tool.artifact, tool.name) == (
        "call_1",
        {"raw": {"temp_c": 18}},
        "get_weather",
    )
    assert chunk.chunk_position == "last"
    assert chunk.tool_calls == [
        {"name": "log", "args": {"level": "in"}, "id": "call_2", "type": "tool_call"}
    ]
    assert history[7].status == "error"
    assert history[1].text == "Weather in Paris?"
    assert json.loads(runwire.dumps(history, dialect="langchain")) == data


def test_chat_history_is_refused_under_messages_only_because_of_the_document() -> None:
    text, data = read("chat_history.json")
    with pytest.raises(runwire.ManifestError) as info:
        runwire.loads(text, allowed_objects="messages")
    assert info.value.path == "$[8].id"
    assert len(runwire.load(data[:8], allowed_objects="messages")) == 8
