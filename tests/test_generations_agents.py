"""Generation, ChatGeneration (and chunks) and the agent steps: behaviour as in LangChain,
the files langchain-core wrote (fixtures) load and dump back byte for byte, and, when the
peer is installed, langchain-core loads what runwire writes."""

from __future__ import annotations

import json
import operator
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import runwire
from runwire.schema.agents import (
    AgentAction,
    AgentActionMessageLog,
    AgentFinish,
    AgentStep,
    ToolAgentAction,
)
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    FunctionMessage,
    HumanMessage,
    HumanMessageChunk,
)
from runwire.schema.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
    merge_chat_generation_chunks,
)

DATA = json.loads((Path(__file__).parent / "fixtures" / "langchain_data.json").read_text())
CASES: dict[str, str] = DATA["cases"]
RESULTS: dict[str, str] = DATA["results"]
OUTPUT_CASES = [
    "generation",
    "generation_chunk",
    "chat_generation",
    "chat_generation_blocks",
    "chat_generation_chunk",
]
AGENT_CASES = [
    "agent_action",
    "agent_action_str",
    "agent_action_message_log",
    "agent_finish",
]


def compact(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def load(text: str) -> Any:
    return runwire.loads(text, allowed_objects="all")


# -- generations ---------------------------------------------------------------------------
def test_chat_generation_text_comes_from_the_message() -> None:
    assert ChatGeneration(message=AIMessage("hi")).text == "hi"
    assert ChatGeneration(text="ignored", message=AIMessage("real")).text == "real"
    blocks = AIMessage(["a", {"type": "text", "text": "b"}, {"type": "image_url"}])
    assert ChatGeneration(message=blocks).text == "ab"
    legacy = AIMessage(["a", {"type": "text", "text": "b"}, {"text": "c"}, {"type": "x"}])
    assert ChatGeneration(message=legacy).text == "abc"  # a block with text and no type
    with pytest.raises(ValidationError):
        ChatGeneration(text="no message")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ChatGenerationChunk(message=AIMessage("not a chunk"))


def test_generation_types() -> None:
    assert Generation(text="t").type == "Generation"
    assert GenerationChunk(text="t").type == "Generation"  # LangChain's chunk keeps it
    assert ChatGeneration(message=AIMessage("")).type == "ChatGeneration"
    assert ChatGenerationChunk(message=AIMessageChunk("")).type == "ChatGenerationChunk"


def test_generation_chunks_add() -> None:
    total = GenerationChunk(text="Pa", generation_info={"a": {"n": 1}}) + GenerationChunk(
        text="ris", generation_info={"a": {"m": 2}, "b": 3}
    )
    assert total == GenerationChunk(text="Paris", generation_info={"a": {"n": 1, "m": 2}, "b": 3})
    assert runwire.dumps(total, dialect="langchain") == compact(RESULTS["generation_chunk_sum"])
    assert (GenerationChunk(text="a") + GenerationChunk(text="b")).generation_info is None
    with pytest.raises(TypeError, match="unsupported operand"):
        GenerationChunk(text="a") + Generation(text="b")  # type: ignore[operator]


def test_chat_generation_chunks_add() -> None:
    first = ChatGenerationChunk(
        message=AIMessageChunk("Pa", id="lc_run-1"), generation_info={"a": {"n": 1}}
    )
    total = first + ChatGenerationChunk(message=AIMessageChunk("ris", id="msg_9"))
    assert total.text == "Paris" and total.message.id == "msg_9"
    assert runwire.dumps(total, dialect="langchain") == compact(
        RESULTS["chat_generation_chunk_sum"]
    )
    many = operator.add(
        ChatGenerationChunk(message=AIMessageChunk("a")),
        [
            ChatGenerationChunk(message=AIMessageChunk("b"), generation_info={"x": 1}),
            ChatGenerationChunk(message=AIMessageChunk("c")),
        ],
    )
    assert runwire.dumps(many, dialect="langchain") == compact(
        RESULTS["chat_generation_chunk_list_sum"]
    )
    with pytest.raises(TypeError, match="unsupported operand"):
        first + GenerationChunk(text="x")  # type: ignore[operator]
    mixed = ChatGenerationChunk(message=HumanMessageChunk("a"))
    assert (mixed + ChatGenerationChunk(message=HumanMessageChunk("b"))).text == "ab"


def test_merge_chat_generation_chunks() -> None:
    chunks = [ChatGenerationChunk(message=AIMessageChunk(c)) for c in "abc"]
    assert merge_chat_generation_chunks([]) is None
    assert merge_chat_generation_chunks(chunks[:1]) is chunks[0]
    merged = merge_chat_generation_chunks(chunks)
    assert merged is not None and merged.text == "abc"


@pytest.mark.parametrize("name", OUTPUT_CASES + AGENT_CASES)
def test_langchain_written_files_load_and_dump_back_byte_for_byte(name: str) -> None:
    obj = load(CASES[name])
    assert runwire.dumps(obj, dialect="langchain") == compact(CASES[name])
    assert load(runwire.dumps(obj)) == obj
    assert load(runwire.dumps(obj, dialect="langchain")) == obj


def test_loaded_generations() -> None:
    gen = load(CASES["chat_generation_blocks"])
    assert type(gen) is ChatGeneration and gen.text == "abc"
    assert gen.generation_info == {"model": "m"} and gen.message.id == "m-1"
    chunk = load(CASES["chat_generation_chunk"])
    assert type(chunk) is ChatGenerationChunk and type(chunk.message) is AIMessageChunk
    assert type(load(CASES["core_id_generation"])) is Generation


def test_generation_info_is_data() -> None:
    node = json.loads(CASES["generation"])
    node["kwargs"]["generation_info"] = {"m": json.loads(CASES["legacy_schema_ai"])}
    with pytest.raises(runwire.ManifestError):
        load(json.dumps(node))


# -- agents ---------------------------------------------------------------------------------
def test_agent_steps_take_positional_fields_like_langchain() -> None:
    action = AgentAction("search", {"q": "x"}, "log")
    assert (action.tool, action.tool_input, action.log, action.type) == (
        "search",
        {"q": "x"},
        "log",
        "AgentAction",
    )
    assert AgentFinish({"output": 1}, "done").return_values == {"output": 1}
    with pytest.raises(TypeError, match="at most 3 positional"):
        AgentAction("a", "b", "c", "d")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="twice"):
        AgentAction("a", "b", "c", log="d")  # type: ignore[misc]
    with pytest.raises(ValidationError):
        AgentAction("a", 5, "c")  # type: ignore[arg-type]


def test_agent_messages() -> None:
    log = [AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "1"}])]
    assert AgentAction("t", "i", "thinking").messages == [AIMessage("thinking")]
    with_log = AgentActionMessageLog("t", "i", "l", message_log=log)
    assert with_log.messages == log and with_log.type == "AgentActionMessageLog"
    assert AgentFinish({"output": 1}, "done").messages == [AIMessage("done")]
    step = AgentStep(action=with_log, observation={"temp": "18°"})
    assert step.messages == [FunctionMessage('{"temp": "18°"}', name="t")]
    assert AgentStep(action=AgentAction("t", "i", "l"), observation=3).messages == [
        HumanMessage("3")
    ]
    assert AgentStep(action=AgentAction("t", "i", "l"), observation={1}).messages == [
        HumanMessage("{1}")
    ]


def test_agent_message_lists_match_langchain_results() -> None:
    for name, value in (
        ("action_messages", AgentAction("t", "i", "log").messages),
        (
            "message_log_messages",
            AgentActionMessageLog("t", "i", "l", message_log=[AIMessage("m")]).messages,
        ),
        ("finish_messages", AgentFinish({"output": 1}, "done").messages),
    ):
        assert runwire.dumps(value, dialect="langchain") == compact(RESULTS[name]), name


def test_agent_step_is_not_serializable_like_langchain() -> None:
    node = runwire.dumpd(AgentStep(action=AgentAction("t", "i", "l"), observation=1))
    assert node["type"] == "not_implemented"


def test_tool_agent_action_and_its_langchain_ids() -> None:
    action = ToolAgentAction("t", {"a": 1}, "", message_log=[], tool_call_id="call_1")
    node = runwire.dumpd(action, dialect="langchain")
    assert node["id"] == ["langchain", "schema", "agent", "ToolAgentAction"]
    assert node["kwargs"]["type"] == "AgentActionMessageLog"  # inherited, as in LangChain
    for ident in (
        ["langchain", "schema", "agent", "OpenAIToolAgentAction"],
        ["langchain", "agents", "output_parsers", "tools", "ToolAgentAction"],
    ):
        assert load(json.dumps({**node, "id": ident})) == action
    with pytest.raises(ValidationError):
        ToolAgentAction("t", "i", "l", message_log=[])  # type: ignore[call-arg]


def test_loaded_agent_steps() -> None:
    log = load(CASES["agent_action_message_log"])
    assert type(log) is AgentActionMessageLog
    assert log.message_log[0].tool_calls[0]["id"] == "call_1"
    finish = load(CASES["core_id_agent_finish"])
    assert type(finish) is AgentFinish and finish.return_values == {"output": 1}
    assert load(CASES["agent_action_str"]).tool_input == "2 + 2"


# -- against langchain-core -----------------------------------------------------------------
@pytest.mark.parametrize("name", OUTPUT_CASES + AGENT_CASES)
def test_langchain_loads_what_runwire_writes(name: str) -> None:
    lc_load = pytest.importorskip("langchain_core.load")
    text = runwire.dumps(load(CASES[name]), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = lc_load.loads(text, allowed_objects="all")
    assert compact(lc_load.dumps(theirs)) == compact(CASES[name])


def test_texts_match_langchain_for_odd_contents() -> None:
    lc = pytest.importorskip("langchain_core.outputs")
    lc_messages = pytest.importorskip("langchain_core.messages")
    contents: list[Any] = [
        "",
        [],
        [{"text": "legacy"}, "s", {"type": "text", "text": "t"}],
        [{"type": "reasoning", "text": "no"}, {"type": "text", "text": "yes"}],
    ]
    for content in contents:
        theirs = lc.ChatGeneration(message=lc_messages.AIMessage(content=content)).text
        assert ChatGeneration(message=AIMessage(content)).text == theirs, content
