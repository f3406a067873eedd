"""ChatMessage, FunctionMessage (and chunks), BaseMessage, the legacy message ids and the
message helpers over them, checked against what langchain-core wrote (fixtures) and, when
installed, against langchain-core itself."""

from __future__ import annotations

import json
import operator
import warnings
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import runwire
from runwire.errors import NotAllowedError
from runwire.schema.coerce import convert_to_messages, get_buffer_string
from runwire.schema.message_base import BaseMessage, BaseMessageChunk
from runwire.schema.messages import (
    AIMessage,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    message_chunk_to_message,
)

DATA = json.loads((Path(__file__).parent / "fixtures" / "langchain_data.json").read_text())
CASES: dict[str, str] = DATA["cases"]
RESULTS: dict[str, str] = DATA["results"]
MESSAGE_CASES = [
    "chat_message",
    "chat_message_chunk",
    "function_message",
    "function_message_chunk",
    "base_message",
    "base_message_chunk",
]
LEGACY = {
    "legacy_schema_ai": AIMessage,
    "legacy_schema_human": HumanMessage,
    "legacy_schema_system": SystemMessage,
    "legacy_schema_chat": ChatMessage,
    "legacy_schema_function": FunctionMessage,
    "core_id_chat_chunk": ChatMessageChunk,
}


def compact(text: str) -> str:
    """LangChain's text in runwire's byte layout (same keys and order, no spaces)."""
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


# -- construction ----------------------------------------------------------------------
def test_chat_message_needs_a_role_and_keeps_it() -> None:
    msg = ChatMessage("Objection!", role="critic")
    assert (msg.type, msg.role, msg.text) == ("chat", "critic", "Objection!")
    with pytest.raises(ValidationError):
        ChatMessage("x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ChatMessage("x", role="r", type="human")


def test_function_message_needs_a_name() -> None:
    msg = FunctionMessage('{"t": 1}', name="weather")
    assert (msg.type, msg.name) == ("function", "weather")
    with pytest.raises(ValidationError):
        FunctionMessage("x")  # type: ignore[call-arg]
    assert FunctionMessageChunk("x", name="f").type == "FunctionMessageChunk"
    assert ChatMessageChunk("x", role="r").type == "ChatMessageChunk"


# -- chunk addition ---------------------------------------------------------------------
def test_chat_chunks_add_and_refuse_other_roles() -> None:
    total = ChatMessageChunk("a", role="r", id="x") + ChatMessageChunk(
        "b", role="r", additional_kwargs={"k": "v"}
    )
    assert total == ChatMessageChunk("ab", role="r", id="x", additional_kwargs={"k": "v"})
    assert runwire.dumps(total, dialect="langchain") == compact(RESULTS["chat_chunk_sum"])
    with pytest.raises(ValueError, match="different roles"):
        ChatMessageChunk("a", role="r") + ChatMessageChunk("b", role="s")
    with pytest.raises(ValueError, match="different roles"):
        operator.add(ChatMessageChunk("a", role="r"), [ChatMessageChunk("b", role="s")])


def test_chat_chunk_plus_another_kind_keeps_its_role() -> None:
    total = ChatMessageChunk("a", role="r") + HumanMessageChunk("b")
    assert type(total) is ChatMessageChunk and total.role == "r" and total.content == "ab"
    assert runwire.dumps(total, dialect="langchain") == compact(
        RESULTS["chat_chunk_plus_human_chunk"]
    )
    many = operator.add(
        ChatMessageChunk("a", role="r"), [ChatMessageChunk("b", role="r"), HumanMessageChunk("c")]
    )
    assert many.content == "abc" and many.role == "r"


def test_function_chunks_add_and_refuse_other_names() -> None:
    total = FunctionMessageChunk("4", name="calc") + FunctionMessageChunk(
        "2", name="calc", response_metadata={"m": 1}
    )
    assert runwire.dumps(total, dialect="langchain") == compact(RESULTS["function_chunk_sum"])
    with pytest.raises(ValueError, match="different names"):
        FunctionMessageChunk("a", name="f") + FunctionMessageChunk("b", name="g")
    summed = reduce(operator.add, [FunctionMessageChunk(c, name="f") for c in "abc"])
    assert summed == FunctionMessageChunk("abc", name="f")
    with pytest.raises(TypeError, match="unsupported operand"):
        FunctionMessageChunk("a", name="f") + "b"  # type: ignore[operator]


def test_base_message_chunks_add_keeping_their_type() -> None:
    total = BaseMessageChunk(content="a", type="custom") + BaseMessageChunk(
        content="b", type="custom"
    )
    assert (type(total), total.type, total.content) == (BaseMessageChunk, "custom", "ab")


def test_chunks_become_messages() -> None:
    chat = message_chunk_to_message(ChatMessageChunk("a", role="r", id="1"))
    assert chat == ChatMessage("a", role="r", id="1")
    func = message_chunk_to_message(FunctionMessageChunk("a", name="f"))
    assert func == FunctionMessage("a", name="f")
    assert type(func) is FunctionMessage


# -- wire form ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", MESSAGE_CASES)
def test_langchain_written_messages_load_and_dump_back_byte_for_byte(name: str) -> None:
    obj = runwire.loads(CASES[name], allowed_objects="all")
    assert runwire.dumps(obj, dialect="langchain") == compact(CASES[name])
    assert runwire.loads(runwire.dumps(obj), allowed_objects="all") == obj


def test_loaded_messages_are_the_right_classes() -> None:
    chat = runwire.loads(CASES["chat_message"], allowed_objects="all")
    assert type(chat) is ChatMessage
    assert (chat.role, chat.name, chat.id) == ("critic", "ann", "c-1")
    func = runwire.loads(CASES["function_message"], allowed_objects="all")
    assert type(func) is FunctionMessage
    assert (func.name, func.additional_kwargs) == ("get_weather", {"k": 1})
    base = runwire.loads(CASES["base_message"], allowed_objects="all")
    assert type(base) is BaseMessage and base.type == "custom"
    chunk = runwire.loads(CASES["base_message_chunk"], allowed_objects="all")
    assert type(chunk) is BaseMessageChunk


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_legacy_ids_load_and_dump_as_langchain_writes_today(name: str) -> None:
    obj = runwire.loads(CASES[name], allowed_objects="all")
    assert type(obj) is LEGACY[name]
    data = json.loads(CASES[name])
    data["id"] = ["langchain", "schema", "messages", LEGACY[name].__name__]
    assert runwire.dumps(obj, dialect="langchain") == compact(json.dumps(data))


def test_allowed_objects_messages_leaves_out_chat_and_function_messages() -> None:
    """As in LangChain: ``allowed_objects="messages"`` covers the core message classes only."""
    assert type(runwire.loads(CASES["legacy_schema_ai"], allowed_objects="messages")) is AIMessage
    for name in ("chat_message", "function_message", "base_message"):
        with pytest.raises(NotAllowedError):
            runwire.loads(CASES[name], allowed_objects="messages")
    assert type(runwire.loads(CASES["chat_message"], allowed_objects="core")) is ChatMessage


def test_content_is_data_never_objects() -> None:
    node = json.loads(CASES["chat_message"])
    node["kwargs"]["additional_kwargs"] = {"x": json.loads(CASES["legacy_schema_ai"])}
    with pytest.raises(runwire.ManifestError):
        runwire.loads(json.dumps(node), allowed_objects="all")
    escaped = ChatMessage("a", role="r", additional_kwargs={"lc": 1, "type": "secret"})
    assert runwire.loads(runwire.dumps(escaped), allowed_objects="all") == escaped


# -- helpers ------------------------------------------------------------------------------
def test_buffer_string_prefixes_function_and_chat_messages() -> None:
    messages = [
        HumanMessage("hi"),
        FunctionMessage("18C", name="weather"),
        ChatMessage("Objection!", role="Critic"),
    ]
    assert get_buffer_string(messages) == "Human: hi\nFunction: 18C\nCritic: Objection!"
    assert get_buffer_string(messages[1:2], function_prefix="Fn") == "Fn: 18C"


def test_convert_to_messages_knows_function_and_remove() -> None:
    out = convert_to_messages(
        [
            {"role": "function", "name": "f", "content": "x"},
            {"role": "remove", "id": "m1", "content": ""},
            json.loads(CASES["function_message"]),
        ]
    )
    assert out[0] == FunctionMessage("x", name="f")
    assert out[1] == RemoveMessage("m1")
    assert out[2] == FunctionMessage('{"temp": 18}', name="get_weather", additional_kwargs={"k": 1})
    with pytest.raises(ValidationError):
        convert_to_messages([("function", "no name")])
    with pytest.raises(ValueError, match="unexpected message role 'critic'"):
        convert_to_messages([{"role": "critic", "content": "x"}])


def test_pretty_repr_hides_empty_fields() -> None:
    assert repr(ChatMessage("a", role="r")) == "ChatMessage(content='a', type='chat', role='r')"


# -- against langchain-core -----------------------------------------------------------------
def lc_load(text: str) -> Any:
    load = pytest.importorskip("langchain_core.load")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load.loads(text, allowed_objects="all")


@pytest.mark.parametrize("name", MESSAGE_CASES)
def test_langchain_loads_what_runwire_writes(name: str) -> None:
    load = pytest.importorskip("langchain_core.load")
    ours = runwire.loads(CASES[name], allowed_objects="all")
    theirs = lc_load(runwire.dumps(ours, dialect="langchain"))
    assert compact(load.dumps(theirs)) == compact(CASES[name])


def test_sums_and_buffer_strings_match_langchain() -> None:
    lc = pytest.importorskip("langchain_core.messages")
    theirs = lc.ChatMessageChunk(content="a", role="r") + lc.SystemMessageChunk(content="b")
    ours = ChatMessageChunk("a", role="r") + runwire.SystemMessageChunk("b")
    assert runwire.dumps(ours, dialect="langchain") == compact(
        pytest.importorskip("langchain_core.load").dumps(theirs)
    )
    lc_messages = [
        lc.FunctionMessage(content="18C", name="w"),
        lc.ChatMessage(content="x", role="Judge"),
    ]
    ours_messages = [FunctionMessage("18C", name="w"), ChatMessage("x", role="Judge")]
    assert get_buffer_string(ours_messages) == lc.get_buffer_string(lc_messages)


def test_chat_prompt_values_hold_the_new_messages() -> None:
    value = runwire.loads(CASES["prompt_value_messages"], allowed_objects="all")
    assert [type(m) for m in value.messages] == [ChatMessage, FunctionMessage, HumanMessage]
    assert runwire.dumps(value, dialect="langchain") == compact(CASES["prompt_value_messages"])
    assert value.to_string() == json.loads(RESULTS["prompt_value_string"])


DATA_CASES = sorted(set(CASES) - {"router", "binding_base", "each_base", "core_id_router"})


@pytest.mark.parametrize("name", DATA_CASES)
def test_model_dump_matches_langchain(name: str) -> None:
    """LangServe sends these objects as their ``model_dump()``: same keys, same order."""
    ours = runwire.loads(CASES[name], allowed_objects="all").model_dump()
    theirs = lc_load(CASES[name]).model_dump()
    assert ours == theirs
    assert list(ours) == list(theirs)


LC_INVALID_CALL = (
    '{"lc":1,"type":"constructor","id":["langchain","schema","messages","AIMessage"],'
    '"kwargs":{"content":"","type":"ai","invalid_tool_calls":[{"type":"invalid_tool_call",'
    '"id":"2","name":"f","args":"{","error":null}],"tool_calls":[]}}'
)
"""What langchain-core 1.8 writes for ``AIMessage("", invalid_tool_calls=[...])``."""


def test_invalid_tool_calls_and_remove_messages_are_written_as_langchain_writes_them() -> None:
    call = {"name": "f", "args": "{", "id": "2", "error": None}
    assert runwire.dumps(AIMessage("", invalid_tool_calls=[call]), dialect="langchain") == (
        LC_INVALID_CALL
    )
    assert runwire.dumps(runwire.loads(LC_INVALID_CALL), dialect="langchain") == LC_INVALID_CALL
    kwargs = runwire.dumpd(RemoveMessage("m-1"), dialect="langchain")["kwargs"]
    assert list(kwargs.items()) == [("content", ""), ("type", "remove"), ("id", "m-1")]


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["lc_abc", "lc_run-1"], "lc_run-1"),
        (["lc_abc", "msg_1"], "msg_1"),
        (["lc_abc", "lc_def"], "lc_abc"),
        (["lc_run-1", "run-2"], "lc_run-1"),  # runwire: a legacy run- id is generated
    ],
)
def test_chunk_ids_rank_as_in_langchain(ids: list[str], expected: str) -> None:
    """A provider id, else the first ``lc_run-`` id, else the first other ``lc_`` id.
    LangChain 1.8 takes older LangChain's ``run-`` ids for provider ids; runwire does not."""
    total = reduce(operator.add, [runwire.AIMessageChunk("x", id=i) for i in ids])
    assert total.id == expected


def test_chunks_of_different_kinds_add_as_in_langchain() -> None:
    """langchain-core's own test_message_chunks cases across kinds."""
    ai = runwire.AIMessageChunk
    assert ChatMessageChunk("I am", role="User") + ai(" indeed.") == ChatMessageChunk(
        "I am indeed.", role="User"
    )
    assert ai("I am") + ChatMessageChunk(" indeed.", role="User") == ai("I am indeed.")
    rich = ai(
        "I am",
        id="a1",
        response_metadata={"x": 1},
        usage_metadata={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
        tool_call_chunks=[{"name": "f", "args": "{}", "id": "1", "index": 0}],
    )
    total = rich + HumanMessageChunk(" x", id="h")
    want = (
        '{"lc":1,"type":"constructor","id":["langchain","schema","messages","AIMessageChunk"],'
        '"kwargs":{"content":"I am x","response_metadata":{"x":1},"type":"AIMessageChunk",'
        '"id":"a1","tool_calls":[],"invalid_tool_calls":[]}}'
    )  # what langchain-core 1.8 writes for the same sum: tool chunks and usage dropped
    assert runwire.dumps(total, dialect="langchain") == want
    assert operator.add(ai("a"), [HumanMessageChunk("b"), ai("c")]).content == "abc"
