"""Samples of the issue-15 classes of one area, merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
This area: more messages, LLM generations, agent actions, router/binding/each bases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runwire.runtime.binding import RunnableBindingBase
from runwire.runtime.each import RunnableEachBase
from runwire.runtime.passthrough import RunnablePassthrough
from runwire.runtime.prompts import PromptTemplate
from runwire.runtime.router import RouterRunnable
from runwire.schema.agents import AgentAction, AgentActionMessageLog, AgentFinish, ToolAgentAction
from runwire.schema.message_base import BaseMessage, BaseMessageChunk
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
)
from runwire.schema.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)

_CALL = {"name": "search", "args": {"q": "x"}, "id": "call_1"}

SAMPLES: dict[str, Callable[[], Any]] = {
    "ChatMessage": lambda: ChatMessage(
        content="Objection!", role="critic", name="ann", additional_kwargs={"lc": 1}
    ),
    "ChatMessageChunk": lambda: ChatMessageChunk(content="Obj", role="critic", id="c-1"),
    "FunctionMessage": lambda: FunctionMessage(
        content='{"temp": 18}', name="get_weather", response_metadata={"ms": 3}
    ),
    "FunctionMessageChunk": lambda: FunctionMessageChunk(content="4", name="calc"),
    "BaseMessage": lambda: BaseMessage(content="x", type="custom", id="b-1"),
    "BaseMessageChunk": lambda: BaseMessageChunk(content=["a", {"type": "text"}], type="custom"),
    "Generation": lambda: Generation(text="Paris", generation_info={"finish_reason": "stop"}),
    "GenerationChunk": lambda: GenerationChunk(text="Par"),
    "ChatGeneration": lambda: ChatGeneration(
        message=AIMessage("Paris", tool_calls=[_CALL]), generation_info={"lc": "escaped"}
    ),
    "ChatGenerationChunk": lambda: ChatGenerationChunk(message=AIMessageChunk("Par", id="r-1")),
    "AgentAction": lambda: AgentAction("search", {"query": "weather"}, "I should search."),
    "AgentActionMessageLog": lambda: AgentActionMessageLog(
        "search", "x", "thinking", message_log=[AIMessage("", tool_calls=[_CALL])]
    ),
    "ToolAgentAction": lambda: ToolAgentAction(
        "search",
        {"q": "x"},
        "",
        message_log=[AIMessage("", tool_calls=[_CALL])],
        tool_call_id="call_1",
    ),
    "AgentFinish": lambda: AgentFinish({"output": "42"}, "Final Answer: 42"),
    "RouterRunnable": lambda: RouterRunnable(
        {"prompt": PromptTemplate.from_template("Say {word}"), "same": RunnablePassthrough()}
    ),
    "RunnableBindingBase": lambda: RunnableBindingBase(
        bound=RunnablePassthrough(), kwargs={"stop": ["x"]}, config={"tags": ["t"]}
    ),
    "RunnableEachBase": lambda: RunnableEachBase(bound=PromptTemplate.from_template("<{a}>")),
}
