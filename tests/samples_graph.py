"""Samples of the graph-file classes, merged into ``conftest.SAMPLES``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _state_graph() -> Any:
    from runwire.graph.files import StateGraph
    from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick

    return StateGraph(
        name="notes",
        state={"notes": {"type": "array", "reducer": "add"}, "topic": {"type": "string"}},
        input=["topic"],
        nodes={
            "write": {"reads": "topic", "writes": "notes", "run": RunnablePassthrough()},
            "pick": RunnablePick(keys=["notes"]),
        },
        edges=[["START", "write"], ["write", "pick"]],
        routes={"pick": [{"when": "length(notes) < `2`", "to": "write"}, {"to": "END"}]},
        interrupt_before=["pick"],
    )


def _tool() -> Any:
    from runwire.runtime.passthrough import RunnablePick
    from runwire.runtime.tool import Tool

    return Tool(
        name="get_weather",
        description="Weather for a city.",
        args_schema={"type": "object", "properties": {"city": {"type": "string"}}},
        runnable=RunnablePick(keys="city"),
        response_format="content",
        return_direct=True,
    )


def _tool_node() -> Any:
    from runwire.graph.prebuilt import ToolNode

    return ToolNode(tools=[_tool()], handle_tool_errors="try again", messages_key="history")


def _react_agent() -> Any:
    from runwire.graph.agents import ReactAgent
    from runwire.runtime.models.fakes import FakeChatModel

    return ReactAgent(
        model=FakeChatModel(),
        tools=[_tool()],
        prompt="Be brief.",
        response_format={"title": "Answer", "type": "object", "properties": {}},
        max_iterations=4,
        interrupt_before=["tools"],
    )


def _ask_human() -> Any:
    from runwire.graph.prebuilt import AskHuman

    return AskHuman(question="Send this reply?")


SAMPLES: dict[str, Callable[[], Any]] = {
    "AskHuman": _ask_human,
    "StateGraph": _state_graph,
    "Tool": _tool,
    "ToolNode": _tool_node,
    "ReactAgent": _react_agent,
}
