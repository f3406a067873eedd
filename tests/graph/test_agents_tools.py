"""Tools, ToolNode, tools_condition and the ReAct agent, in Python and as files."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import runwire
from runwire.graph import END
from runwire.graph.agents import ReactAgent, create_react_agent
from runwire.graph.checkpoint import InMemorySaver
from runwire.graph.prebuilt import ToolNode, tools_condition
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.passthrough import RunnablePick
from runwire.runtime.tool import Tool, ToolArgumentsError
from runwire.schema.messages import AIMessage, HumanMessage, ToolMessage

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def weather(**extra: Any) -> Tool:
    return Tool(
        name="get_weather",
        description="Weather for a city.",
        args_schema=CITY,
        runnable=RunnablePick(keys="city"),
        **extra,
    )


def _call(name: str, args: dict[str, Any], id: str) -> dict[str, Any]:
    return {"name": name, "args": args, "id": id, "type": "tool_call"}


# -- Tool ------------------------------------------------------------------------------------


def test_a_tool_runs_on_arguments_or_on_a_tool_call() -> None:
    tool = weather()
    assert tool.invoke({"city": "Paris"}) == "Paris"
    assert tool.invoke("Oslo") == "Oslo"  # one argument: a string is that argument
    message = tool.invoke(_call("get_weather", {"city": "Rome"}, "c1"))
    assert message == ToolMessage("Rome", tool_call_id="c1", name="get_weather")


def test_tool_arguments_are_checked_against_the_schema() -> None:
    with pytest.raises(ToolArgumentsError, match="'city' is a required property"):
        weather().invoke({"town": "Paris"})
    with pytest.raises(ValueError, match="describes an object"):
        Tool(
            name="t",
            description="d",
            args_schema={"type": "string"},
            runnable=RunnablePick(keys="x"),
        )
    with pytest.raises(ValueError, match="pattern"):
        Tool(name="no spaces", description="d", runnable=RunnablePick(keys="x"))


def test_results_that_are_not_text_are_json_and_artifacts_are_kept() -> None:
    data = Tool(name="data", description="d", runnable=RunnableLambda(lambda args: {"n": 1}))
    assert data.invoke(_call("data", {}, "c")).content == '{"n": 1}'
    both = Tool(
        name="both",
        description="d",
        response_format="content_and_artifact",
        runnable=RunnableLambda(lambda args: ["2 rows", [{"id": 1}, {"id": 2}]]),
    )
    message = both.invoke(_call("both", {}, "c"))
    assert (message.content, message.artifact) == ("2 rows", [{"id": 1}, {"id": 2}])


def test_a_tool_binds_to_a_chat_model_and_round_trips() -> None:
    bound = FakeChatModel().bind_tools([weather()])
    reply = bound.invoke([HumanMessage('get_weather {"city": "Lima"}')])
    assert reply.tool_calls == [_call("get_weather", {"city": "Lima"}, "call_1")]
    text = runwire.dumps(weather())
    assert runwire.dumps(runwire.loads(text, allowed_objects="all")) == text


# -- ToolNode and tools_condition ----------------------------------------------------------


def _state(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [HumanMessage("q"), AIMessage("", tool_calls=list(calls))]}


def test_tool_node_answers_every_call_in_order() -> None:
    node = ToolNode(tools=[weather()])
    calls = [_call("get_weather", {"city": c}, f"id{i}") for i, c in enumerate("ABCD")]
    out = node.invoke(_state(*calls))
    assert [(m.content, m.tool_call_id) for m in out["messages"]] == [
        ("A", "id0"), ("B", "id1"), ("C", "id2"), ("D", "id3"),
    ]  # fmt: skip
    assert asyncio.run(node.ainvoke(_state(*calls))) == out
    as_list = node.invoke(_state(*calls)["messages"])
    assert as_list == out["messages"]


def test_tool_node_errors_as_langgraph_answers_them() -> None:
    node = ToolNode(tools=[weather()])
    out = node.invoke(_state(_call("nope", {}, "a"), _call("get_weather", {}, "b")))
    unknown, wrong = out["messages"]
    assert unknown.content == "Error: nope is not a valid tool, try one of [get_weather]."
    assert unknown.status == wrong.status == "error"
    assert wrong.content.startswith("Error invoking tool 'get_weather' with kwargs {} with error:")

    def boom(args: Any) -> Any:
        raise RuntimeError("disk full")

    failing = Tool(name="f", description="d", runnable=RunnableLambda(boom))
    with pytest.raises(RuntimeError, match="disk full"):
        ToolNode(tools=[failing]).invoke(_state(_call("f", {}, "x")))
    handled = ToolNode(tools=[failing], handle_tool_errors=True).invoke(_state(_call("f", {}, "x")))
    assert handled["messages"][0].content == (
        "Error: RuntimeError('disk full')\n Please fix your mistakes."
    )
    fixed = ToolNode(tools=[failing], handle_tool_errors="try later")
    assert fixed.invoke(_state(_call("f", {}, "x")))["messages"][0].content == "try later"
    with pytest.raises(ValueError, match="unique"):
        ToolNode(tools=[weather(), weather()])


def test_tools_condition_routes_while_the_model_asks_for_tools() -> None:
    assert tools_condition(_state(_call("get_weather", {"city": "x"}, "a"))) == "tools"
    assert tools_condition({"messages": [AIMessage("done")]}) == END
    assert tools_condition([AIMessage("", tool_calls=[_call("t", {}, "a")])]) == "tools"


# -- the ReAct agent --------------------------------------------------------------------------


def _kinds(messages: list[Any]) -> list[tuple[str, Any]]:
    return [(type(m).__name__, m.content) for m in messages]


def test_create_react_agent_calls_the_tool_then_answers() -> None:
    agent = create_react_agent(FakeChatModel(), [weather()], prompt="Be brief.")
    out = agent.invoke({"messages": [HumanMessage('get_weather {"city": "Paris"}')]})
    assert _kinds(out["messages"]) == [
        ("HumanMessage", 'get_weather {"city": "Paris"}'),
        ("AIMessage", ""),
        ("ToolMessage", "Paris"),
        ("AIMessage", "Paris"),
    ]
    lines = agent.get_graph().draw_mermaid(with_styles=False).splitlines()
    assert lines[1:] == [
        "\t__start__ --> agent;",
        "\tagent -.-> __end__;",
        "\tagent -.-> tools;",
        "\ttools --> agent;",
    ]


def test_a_return_direct_tool_ends_the_run_with_its_result() -> None:
    agent = create_react_agent(FakeChatModel(), [weather(return_direct=True)])
    out = agent.invoke({"messages": [HumanMessage('get_weather {"city": "Oslo"}')]})
    assert _kinds(out["messages"])[-1] == ("ToolMessage", "Oslo")


def test_interrupt_before_tools_lets_a_human_approve(tmp_path: Path) -> None:
    agent = create_react_agent(
        FakeChatModel(), [weather()], checkpointer=InMemorySaver(), interrupt_before=["tools"]
    )
    config = {"configurable": {"thread_id": "t"}}
    agent.invoke({"messages": [HumanMessage('get_weather {"city": "Quito"}')]}, config)
    assert agent.get_state(config).next == ("tools",)
    out = agent.invoke(None, config)
    assert _kinds(out["messages"])[-1] == ("AIMessage", "Quito")


AGENT_FILE = """\
_type: ReactAgent
model: {_type: FakeChatModel}
prompt: Answer from the tools.
max_iterations: 3
tools:
  - _type: Tool
    name: get_weather
    description: Weather for a city.
    args_schema: {type: object, properties: {city: {type: string}}, required: [city]}
    runnable: {_type: RunnablePick, keys: city}
"""


def test_a_react_agent_file_loads_runs_and_round_trips(tmp_path: Path) -> None:
    (tmp_path / "runwire.yaml").write_text("")
    (tmp_path / "agent.yaml").write_text(AGENT_FILE)
    agent = runwire.load_file(tmp_path / "agent.yaml", root=tmp_path)
    assert isinstance(agent, ReactAgent)
    out = agent.invoke({"messages": [HumanMessage('get_weather {"city": "Lima"}')]})
    assert _kinds(out["messages"])[-1] == ("AIMessage", "Lima")
    text = runwire.dumps(agent)
    again = runwire.loads(text, allowed_objects="all")
    assert runwire.dumps(again) == text and again == agent
    assert json.loads(text)["kwargs"]["max_iterations"] == 3


def test_max_iterations_bounds_the_model_calls() -> None:
    from runwire.graph import GraphRecursionError

    question = {"messages": [HumanMessage('get_weather {"city": "x"}')]}
    # a tool call takes two model calls: the call, then the answer
    assert ReactAgent(model=FakeChatModel(), tools=[weather()], max_iterations=2).invoke(question)
    with pytest.raises(GraphRecursionError):
        ReactAgent(model=FakeChatModel(), tools=[weather()], max_iterations=1).invoke(question)


def test_an_agent_over_the_bedrock_emulator_calls_tools_then_answers(bedrock: Any) -> None:
    from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
    from runwire.providers.aws import ChatBedrockConverse

    model = ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        region_name="us-east-1",
        endpoint_url=bedrock.endpoint_url,
        aws_access_key_id=EMULATOR_KEY_ID,
        aws_secret_access_key=EMULATOR_SECRET,
    )
    agent = create_react_agent(model, [weather()], prompt="Use the tools.")
    out = agent.invoke({"messages": [HumanMessage('get_weather {"city": "Paris"}')]})
    kinds = [type(m).__name__ for m in out["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    call = out["messages"][1].tool_calls[0]
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris"})
    assert out["messages"][2].content == "Paris"
    assert out["messages"][3].text == "Paris"  # the emulator answers with the tool result


def test_several_tool_calls_in_one_turn_run_together(bedrock: Any) -> None:
    from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
    from runwire.providers.aws import ChatBedrockConverse
    from runwire.testing.bedrock.replies import Reply

    bedrock.script(
        Reply(
            tool_use=[
                {"name": "get_weather", "input": {"city": "Paris"}},
                {"name": "get_weather", "input": {"city": "Rome"}},
            ]
        ),
        Reply(text="Paris and Rome are sunny."),
    )
    model = ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        region_name="us-east-1",
        endpoint_url=bedrock.endpoint_url,
        aws_access_key_id=EMULATOR_KEY_ID,
        aws_secret_access_key=EMULATOR_SECRET,
    )
    agent = create_react_agent(model, [weather()])
    out = agent.invoke({"messages": [HumanMessage("Weather in Paris and Rome?")]})
    kinds = [type(m).__name__ for m in out["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "ToolMessage", "AIMessage"]
    assert [m.content for m in out["messages"][2:4]] == ["Paris", "Rome"]
    # both results went back to the model in one user turn, in call order
    results = bedrock.requests[-1].body["messages"][-1]["content"]
    assert [r["toolResult"]["content"][0]["text"] for r in results] == ["Paris", "Rome"]
    assert out["messages"][-1].text == "Paris and Rome are sunny."


def test_a_retriever_is_a_tool_of_one_query_argument() -> None:
    from runwire.runtime.models.retriever import BaseRetriever
    from runwire.schema.documents import Document

    class Faq(BaseRetriever):
        def _get_relevant_documents(self, query: str) -> list[Document]:
            return [Document(f"{query}: 2 days"), Document(f"{query}: free over $50")]

    search = Tool(
        name="search_faq",
        description="Search the FAQ.",
        args_schema={"type": "object", "properties": {"query": {"type": "string"}}},
        runnable=Faq(),
    )
    message = search.invoke(_call("search_faq", {"query": "shipping"}, "s"))
    assert message.content == "shipping: 2 days\n\nshipping: free over $50"
