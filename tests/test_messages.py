"""Messages and chunks: construction, coercion, ``text`` and chunk addition (LangChain's rules)."""

from __future__ import annotations

import functools
import operator
import warnings
from typing import Any

import pytest
from pydantic import ValidationError

from runwire import Document
from runwire.schema.merge import merge_dicts, merge_lists, parse_partial_json
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    SystemMessageChunk,
    ToolMessage,
    ToolMessageChunk,
    message_chunk_to_message,
)

TOKENS = ("input_tokens", "output_tokens", "total_tokens")
USAGE_1 = {**dict(zip(TOKENS, (5, 0, 5), strict=True)), "input_token_details": {"cache_read": 3}}
USAGE_2 = {
    **dict(zip(TOKENS, (0, 10, 10), strict=True)),
    **{"input_token_details": {"cache_read": 1}, "output_token_details": {"reasoning": 4}},
}


# -- construction ----------------------------------------------------------------------


def test_positional_content() -> None:
    assert HumanMessage("hi") == HumanMessage(content="hi")
    assert SystemMessage(["a", {"type": "text", "text": "b"}]).content[1]["text"] == "b"
    assert Document("text") == Document(page_content="text")
    assert Document("text", metadata={"k": 1}).metadata == {"k": 1}
    with pytest.raises(TypeError):
        HumanMessage("a", "b")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        HumanMessage("a", content="b")  # type: ignore[misc]


def test_types_and_validation() -> None:
    kinds = (HumanMessage("x"), SystemMessage("x"), AIMessage("x"))
    assert [m.type for m in kinds] == ["human", "system", "ai"]
    assert ToolMessage("x", tool_call_id="1").type == "tool"
    assert AIMessageChunk("x").type == "AIMessageChunk"
    with pytest.raises(ValidationError):
        HumanMessage("x", type="ai")
    with pytest.raises(ValidationError):
        HumanMessage(5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Document()  # type: ignore[call-arg]


def test_ids_are_coerced_to_str() -> None:
    assert HumanMessage("x", id=5).id == "5"
    assert Document("x", id=3).id == "3"
    assert AIMessage("x").id is None


def test_tool_message_coercion() -> None:
    msg = ToolMessage(5, tool_call_id=7)
    assert (msg.content, msg.tool_call_id) == ("5", "7")
    assert ToolMessage([1, "a", {"x": 1}], tool_call_id="c").content == ["1", "a", {"x": 1}]
    assert ToolMessage((1, 2), tool_call_id="c").content == ["1", "2"]
    assert ToolMessage(2.5, tool_call_id="c").content == "2.5"
    with pytest.raises(ValidationError):
        ToolMessage("x", tool_call_id="c", status="maybe")


def test_tool_call_id_none_is_refused() -> None:
    with pytest.raises(ValidationError):
        ToolMessage("x", tool_call_id=None)


def test_tool_calls_are_tagged() -> None:
    msg = AIMessage(
        "",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}],
        invalid_tool_calls=[{"name": "g", "args": "{", "id": "2", "error": "e"}],
    )
    assert msg.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "1", "type": "tool_call"}]
    assert msg.invalid_tool_calls[0]["type"] == "invalid_tool_call"
    chunk = AIMessageChunk("", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}])
    assert chunk.tool_call_chunks == [
        {"name": "f", "args": '{"a": 1}', "id": "1", "index": None, "type": "tool_call_chunk"}
    ]


def test_text_property() -> None:
    assert HumanMessage("plain").text == "plain"
    blocks = [{"type": "text", "text": "b"}, {"type": "image_url"}, {"type": "text", "text": 3}]
    content = ["a", *blocks, "c"]
    assert AIMessage(content).text == "abc"
    assert AIMessage([]).text == ""


# -- merging primitives ----------------------------------------------------------------


def test_merge_dicts_semantics() -> None:
    left = dict(n=1, s="a", d={"x": 1}, none=None, l=[1], id="same", index=0, keep=True)
    right = dict(n=2, s="b", d={"x": 2, "y": "z"}, none="v", l=[2], id="same", index=3, keep=True)
    merged = merge_dicts(left, {**right, "new": None})
    assert merged == {**right, "n": 3, "s": "ab", "d": {"x": 3, "y": "z"}, "l": [1, 2], "new": None}
    assert left["n"] == 1 and left["d"] == {"x": 1}  # inputs are not modified
    assert merge_dicts({"a": "x"}, {"a": None}) == {"a": "x"}
    with pytest.raises(TypeError):
        merge_dicts({"a": 1}, {"a": "1"})
    with pytest.raises(TypeError):
        merge_dicts({"a": True}, {"a": False})
    with pytest.raises(TypeError):
        merge_dicts({"a": 1.5}, {"a": 2.5})


def test_merge_lists_by_index() -> None:
    left = [{"index": 0, "text": "He", "type": "text"}, "raw"]
    right = [{"index": 0, "text": "llo", "type": "text"}, {"index": 1, "text": "!"}, "more"]
    hello = {"index": 0, "text": "Hello", "type": "text"}
    assert merge_lists(left, right) == [hello, "raw", {"index": 1, "text": "!"}, "more"]
    conflicting = [{"index": 0, "id": "b", "args": "x"}]
    assert len(merge_lists([{"index": 0, "id": "a", "args": "y"}], conflicting)) == 2
    assert merge_lists(None, [1]) == [1] and merge_lists([1], None) == [1]


def test_parse_partial_json() -> None:
    assert parse_partial_json('{"city": "Par') == {"city": "Par"}
    assert parse_partial_json('{"a": [1, 2') == {"a": [1, 2]}
    assert parse_partial_json('{"a": 1}') == {"a": 1}
    assert parse_partial_json("]") is None


# -- chunk addition ---------------------------------------------------------------------


def test_string_content_concatenates() -> None:
    total = AIMessageChunk("Hel") + AIMessageChunk("lo") + AIMessageChunk(" there")
    assert type(total) is AIMessageChunk and total.content == "Hello there"
    assert (HumanMessageChunk("a") + HumanMessageChunk("b")).content == "ab"
    rest = [SystemMessageChunk("b"), SystemMessageChunk("c")]
    assert SystemMessageChunk("a").__add__(rest).content == "abc"


def test_list_content_merges_by_index() -> None:
    a = AIMessageChunk([{"type": "text", "text": "Hel", "index": 0}])
    b = AIMessageChunk(
        [{"type": "text", "text": "lo", "index": 0}, {"type": "text", "text": "!", "index": 1}]
    )
    assert (a + b).content == [
        {"type": "text", "text": "Hello", "index": 0},
        {"type": "text", "text": "!", "index": 1},
    ]
    assert (
        HumanMessageChunk("a") + HumanMessageChunk([{"type": "text", "text": "b"}])
    ).content == ["a", {"type": "text", "text": "b"}]
    assert (HumanMessageChunk(["a"]) + HumanMessageChunk("b")).content == ["ab"]
    assert a.content == [{"type": "text", "text": "Hel", "index": 0}]  # operands unchanged


def test_kwargs_and_metadata_merge() -> None:
    a = AIMessageChunk(
        "",
        additional_kwargs={"function_call": {"arguments": None}, "n": 1},
        response_metadata={"model_provider": "openai", "finish_reason": "", "created": 1},
    )
    b = AIMessageChunk(
        "",
        additional_kwargs={"function_call": {"arguments": '{"a"'}, "n": 2},
        response_metadata={"model_provider": "openai", "finish_reason": "stop", "created": 2},
    )
    total = a + b
    assert total.additional_kwargs == {"function_call": {"arguments": '{"a"'}, "n": 3}
    assert total.response_metadata == {
        "model_provider": "openai",
        "finish_reason": "stop",
        "created": 2,
    }


def test_tool_call_chunks_merge_into_tool_calls() -> None:
    pieces = [
        AIMessageChunk(
            "",
            tool_call_chunks=[{"name": "search", "args": '{"q": "wea', "id": "call_1", "index": 0}],
        ),
        AIMessageChunk(
            "", tool_call_chunks=[{"name": None, "args": 'ther"}', "id": None, "index": 0}]
        ),
        AIMessageChunk(
            "", tool_call_chunks=[{"name": "calc", "args": "", "id": "call_2", "index": 1}]
        ),
    ]
    total = functools.reduce(operator.add, pieces)
    assert total.tool_calls == [
        {"name": "search", "args": {"q": "weather"}, "id": "call_1", "type": "tool_call"},
        {"name": "calc", "args": {}, "id": "call_2", "type": "tool_call"},
    ]
    assert total.tool_call_chunks[0] == {
        "name": "search",
        "args": '{"q": "weather"}',
        "id": "call_1",
        "index": 0,
        "type": "tool_call_chunk",
    }
    assert pieces[0] + pieces[1:] == total
    partial = pieces[0] + AIMessageChunk(
        "", tool_call_chunks=[{"name": None, "args": '", "n": [1', "id": None, "index": 0}]
    )
    assert partial.tool_calls[0]["args"] == {"q": "wea", "n": [1]}
    broken = AIMessageChunk(
        "", tool_call_chunks=[{"name": "f", "args": "][", "id": "x", "index": 0}]
    )
    assert broken.tool_calls == []
    assert broken.invalid_tool_calls == [
        {"name": "f", "args": "][", "id": "x", "error": None, "type": "invalid_tool_call"}
    ]


def test_usage_metadata_is_summed() -> None:
    total = (
        AIMessageChunk("", usage_metadata=USAGE_1)
        + AIMessageChunk("")
        + AIMessageChunk("", usage_metadata=USAGE_2)
    )
    assert total.usage_metadata == {
        "input_tokens": 5,
        "output_tokens": 10,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 4},
    }
    assert (AIMessageChunk("a") + AIMessageChunk("b")).usage_metadata is None


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["run-1", "chatcmpl-9"], "chatcmpl-9"),
        (["chatcmpl-9", "run-1"], "chatcmpl-9"),
        (["lc_run-1", "msg_1"], "msg_1"),
        ([None, "run-2", "run-3"], "run-2"),
        (["run-2", None], "run-2"),
        ([None, None], None),
    ],
)
def test_provider_id_is_preferred(ids: list[Any], expected: str | None) -> None:
    total = functools.reduce(operator.add, [AIMessageChunk("x", id=i) for i in ids])
    assert total.id == expected


def test_chunk_position_last_survives() -> None:
    assert (
        AIMessageChunk("a") + AIMessageChunk("b", chunk_position="last")
    ).chunk_position == "last"
    assert (AIMessageChunk("a") + AIMessageChunk("b")).chunk_position is None


def test_tool_message_chunks() -> None:
    a = ToolMessageChunk("1", tool_call_id="c")
    total = a + ToolMessageChunk("8", tool_call_id="c", status="error")
    assert (total.content, total.tool_call_id, total.status) == ("18", "c", "error")
    with pytest.raises(ValueError, match="tool_call_id"):
        a + ToolMessageChunk("x", tool_call_id="other")


def test_tool_message_chunk_artifacts_merge() -> None:
    total = ToolMessageChunk("a", tool_call_id="c") + ToolMessageChunk(
        "b", tool_call_id="c", artifact={"rows": 2}
    )
    assert total.artifact == {"rows": 2}


@pytest.mark.parametrize("other", [AIMessage("b"), "b", 1, [AIMessageChunk("b"), "c"]])
def test_adding_a_non_chunk_raises_type_error(other: Any) -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        AIMessageChunk("a") + other


def test_message_chunk_to_message() -> None:
    chunk = AIMessageChunk(
        "hi",
        id="m1",
        name="bot",
        usage_metadata=USAGE_1,
        chunk_position="last",
        tool_call_chunks=[{"name": "f", "args": '{"a": 1}', "id": "1", "index": 0}],
    )
    msg = message_chunk_to_message(chunk)
    assert type(msg) is AIMessage
    assert msg == AIMessage(
        "hi",
        id="m1",
        name="bot",
        usage_metadata=USAGE_1,
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "1"}],
    )
    tool = message_chunk_to_message(ToolMessageChunk("x", tool_call_id="c", artifact=[1]))
    assert tool == ToolMessage("x", tool_call_id="c", artifact=[1])
    assert message_chunk_to_message(HumanMessageChunk("h")) == HumanMessage("h")
    assert message_chunk_to_message(SystemMessageChunk("s")) == SystemMessage("s")
    plain = HumanMessage("h")
    assert message_chunk_to_message(plain) is plain


# -- RemoveMessage ---------------------------------------------------------------------

LC_REMOVE = (
    '{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "RemoveMessage"],'
    ' "kwargs": {"content": "", "type": "remove", "id": "m1"}}'
)
"""A RemoveMessage as ``langchain_core.load.dumps`` writes it."""


def test_remove_message_takes_its_id_positionally_and_has_no_content() -> None:
    message = RemoveMessage("m1")
    assert message == RemoveMessage(id="m1")
    assert (message.type, message.content, message.id) == ("remove", "", "m1")
    assert RemoveMessage(id=7).id == "7"
    with pytest.raises(ValueError, match="does not take content"):
        RemoveMessage(id="m1", content="hi")
    with pytest.raises(ValidationError):
        RemoveMessage()  # type: ignore[call-arg]


def test_remove_message_round_trips_through_lc_json() -> None:
    import runwire

    message = RemoveMessage("m1", name="trim")
    text = runwire.dumps(message)
    assert '"id":["runwire","messages","RemoveMessage"]' in text
    assert runwire.loads(text) == message
    assert '"langchain","schema","messages","RemoveMessage"' in runwire.dumps(
        message, dialect="langchain"
    )


@pytest.mark.parametrize(
    "ident",
    [
        ["langchain", "schema", "messages", "RemoveMessage"],
        ["langchain_core", "messages", "RemoveMessage"],
        ["langchain_core", "messages", "modifier", "RemoveMessage"],
    ],
)
def test_a_langchain_remove_message_loads(ident: list[str]) -> None:
    import runwire

    text = LC_REMOVE.replace('["langchain", "schema", "messages", "RemoveMessage"]', str(ident))
    loaded = runwire.loads(text.replace("'", '"'))
    assert type(loaded) is RemoveMessage and loaded.id == "m1"


def test_remove_message_is_the_graph_one() -> None:
    graph = pytest.importorskip("runwire.graph")
    from runwire.graph import messages

    assert graph.RemoveMessage is messages.RemoveMessage is RemoveMessage


def test_langchain_reads_a_remove_message_runwire_wrote() -> None:
    load = pytest.importorskip("langchain_core.load")
    import runwire

    text = runwire.dumps(RemoveMessage("m1"), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = load.loads(text, allowed_objects="messages")
    assert type(theirs).__name__ == "RemoveMessage" and theirs.id == "m1"
    assert runwire.loads(load.dumps(theirs)) == RemoveMessage("m1")
