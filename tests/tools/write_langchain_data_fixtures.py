"""Write tests/fixtures/langchain_data.json: what langchain-core writes for the messages,
generations, agent actions and runnable bases that runwire loads (see
tests/test_generations_agents.py, tests/test_messages_more.py, tests/test_router_bases.py).

Run with the peer installed (the ``bench`` extra):
``python tests/tools/write_langchain_data_fixtures.py``.
Each case is the text ``langchain_core.load.dumps`` wrote, checked to load back in
langchain-core; ``results`` are LangChain's outputs (chunk sums, router calls) dumped too.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from langchain_core.agents import AgentAction, AgentActionMessageLog, AgentFinish
from langchain_core.load import dumps, loads
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    BaseMessageChunk,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    SystemMessage,
)
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)
from langchain_core.prompt_values import ChatPromptValue
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import RouterRunnable, RunnablePassthrough
from langchain_core.runnables.base import RunnableBindingBase, RunnableEachBase

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "langchain_data.json"
warnings.filterwarnings("ignore")


def _legacy(obj: Any, ident: list[str]) -> str:
    """``obj`` written under an older id LangChain still loads (it never writes these)."""
    data = json.loads(dumps(obj))
    data["id"] = ident
    return json.dumps(data)


def cases() -> dict[str, str]:
    router = RouterRunnable(
        {"upper": PromptTemplate.from_template("Say {word}!"), "same": RunnablePassthrough()}
    )
    ai_blocks = AIMessage(
        content=["a", {"type": "text", "text": "b"}, {"text": "c"}, {"type": "image_url"}],
        id="m-1",
    )
    objects: dict[str, Any] = {
        "chat_message": ChatMessage(content="hi", role="critic", name="ann", id="c-1"),
        "chat_message_chunk": ChatMessageChunk(content="hi", role="critic", id="c-2"),
        "function_message": FunctionMessage(
            content='{"temp": 18}', name="get_weather", additional_kwargs={"k": 1}
        ),
        "function_message_chunk": FunctionMessageChunk(content="4", name="calc"),
        "base_message": BaseMessage(content="x", type="custom"),
        "base_message_chunk": BaseMessageChunk(content="x", type="custom"),
        "generation": Generation(text="Paris", generation_info={"finish_reason": "stop"}),
        "generation_chunk": GenerationChunk(text="Par"),
        "chat_generation": ChatGeneration(message=AIMessage("Paris is sunny.")),
        "chat_generation_blocks": ChatGeneration(message=ai_blocks, generation_info={"model": "m"}),
        "chat_generation_chunk": ChatGenerationChunk(
            message=AIMessageChunk(content="Par", id="run-1")
        ),
        "agent_action": AgentAction("search", {"query": "weather"}, "I should search."),
        "agent_action_str": AgentAction("calculator", "2 + 2", "Calculate."),
        "agent_action_message_log": AgentActionMessageLog(
            tool="search",
            tool_input={"q": "x"},
            log="thinking",
            message_log=[
                AIMessage(
                    "",
                    tool_calls=[{"name": "search", "args": {"q": "x"}, "id": "call_1"}],
                )
            ],
        ),
        "agent_finish": AgentFinish({"output": "42"}, "Final Answer: 42"),
        "router": router,
        "binding_base": RunnableBindingBase(
            bound=PromptTemplate.from_template("{a}"),
            kwargs={"stop": ["x"]},
            config={"tags": ["t"]},
        ),
        "each_base": RunnableEachBase(bound=PromptTemplate.from_template("<{a}>")),
        "prompt_value_messages": ChatPromptValue(
            messages=[
                ChatMessage(content="a", role="Critic"),
                FunctionMessage(content="b", name="f"),
                HumanMessage("c"),
            ]
        ),
    }
    texts = {name: dumps(obj) for name, obj in objects.items()}
    texts["legacy_schema_ai"] = _legacy(AIMessage("old"), ["langchain", "schema", "AIMessage"])
    texts["legacy_schema_human"] = _legacy(
        HumanMessage("old"), ["langchain", "schema", "HumanMessage"]
    )
    texts["legacy_schema_system"] = _legacy(
        SystemMessage("old"), ["langchain", "schema", "SystemMessage"]
    )
    texts["legacy_schema_chat"] = _legacy(
        ChatMessage(content="old", role="r"), ["langchain", "schema", "ChatMessage"]
    )
    texts["legacy_schema_function"] = _legacy(
        FunctionMessage(content="old", name="f"), ["langchain", "schema", "FunctionMessage"]
    )
    texts["core_id_chat_chunk"] = _legacy(
        ChatMessageChunk(content="c", role="r"),
        ["langchain_core", "messages", "chat", "ChatMessageChunk"],
    )
    texts["core_id_generation"] = _legacy(
        Generation(text="g"), ["langchain_core", "outputs", "generation", "Generation"]
    )
    texts["core_id_agent_finish"] = _legacy(
        AgentFinish({"output": 1}, "l"), ["langchain_core", "agents", "AgentFinish"]
    )
    texts["core_id_router"] = _legacy(
        RouterRunnable({"a": RunnablePassthrough()}),
        ["langchain_core", "runnables", "router", "RouterRunnable"],
    )
    for text in texts.values():  # every case is a file LangChain loads
        loads(text, allowed_objects="all")
    return texts


def results() -> dict[str, str]:
    info = {"generation_info": {"a": {"n": 1}}}
    router = RouterRunnable(
        {"upper": PromptTemplate.from_template("Say {word}!"), "same": RunnablePassthrough()}
    )
    values: dict[str, Any] = {
        "chat_chunk_sum": ChatMessageChunk(content="a", role="r", id="x")
        + ChatMessageChunk(content="b", role="r", additional_kwargs={"k": "v"}),
        "chat_chunk_plus_human_chunk": ChatMessageChunk(content="a", role="r")
        + HumanMessageChunk(content="b"),
        "function_chunk_sum": FunctionMessageChunk(content="4", name="calc")
        + FunctionMessageChunk(content="2", name="calc", response_metadata={"m": 1}),
        "generation_chunk_sum": GenerationChunk(text="Pa", generation_info={"a": {"n": 1}})
        + GenerationChunk(text="ris", generation_info={"a": {"m": 2}, "b": 3}),
        "chat_generation_chunk_sum": ChatGenerationChunk(
            message=AIMessageChunk(content="Pa", id="lc_run-1"), **info
        )
        + ChatGenerationChunk(message=AIMessageChunk(content="ris", id="msg_9")),
        "chat_generation_chunk_list_sum": ChatGenerationChunk(message=AIMessageChunk("a")).__add__(
            [
                ChatGenerationChunk(message=AIMessageChunk("b"), generation_info={"x": 1}),
                ChatGenerationChunk(message=AIMessageChunk("c")),
            ]
        ),
        "router_invoke": router.invoke({"key": "upper", "input": {"word": "hi"}}),
        "router_batch": router.batch(
            [{"key": "same", "input": 1}, {"key": "upper", "input": {"word": "yo"}}]
        ),
        "router_stream": list(router.stream({"key": "same", "input": "s"})),
        "each_base_invoke": RunnableEachBase(bound=PromptTemplate.from_template("<{a}>")).invoke(
            [{"a": 1}, {"a": 2}]
        ),
        "action_messages": AgentAction("t", "i", "log").messages,
        "message_log_messages": AgentActionMessageLog(
            tool="t", tool_input="i", log="l", message_log=[AIMessage("m")]
        ).messages,
        "finish_messages": AgentFinish({"output": 1}, "done").messages,
        "prompt_value_string": ChatPromptValue(
            messages=[
                ChatMessage(content="a", role="Critic"),
                FunctionMessage(content="b", name="f"),
                HumanMessage("c"),
            ]
        ).to_string(),
    }
    return {name: dumps(value) for name, value in values.items()}


def main() -> None:
    data = {"cases": cases(), "results": results()}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(data['cases'])} cases, {len(data['results'])} results)")


if __name__ == "__main__":
    main()
