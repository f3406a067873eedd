"""runwire.graph streaming beyond the contract suite: live async events, model tokens."""

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from runwire.graph import START, MessagesState, StateGraph, get_stream_writer
from runwire.runtime.models.fakes import FakeChatModel


class Log(TypedDict):
    log: Annotated[list, operator.add]


def test_astream_yields_custom_events_while_the_node_still_runs():
    async def main() -> list[Any]:
        gate = asyncio.Event()

        async def slow(state):
            writer = get_stream_writer()
            writer("first")
            await gate.wait()  # only set once "first" reached the consumer
            writer("second")
            return {"log": ["slow"]}

        graph = StateGraph(Log)
        graph.add_node("slow", slow)
        graph.add_edge(START, "slow")
        got = []
        async for chunk in graph.compile().astream({"log": []}, stream_mode=["custom", "updates"]):
            got.append(chunk)
            if chunk == ("custom", "first"):
                gate.set()
        return got

    got = asyncio.run(asyncio.wait_for(main(), 10))
    assert got == [
        ("custom", "first"),
        ("custom", "second"),
        ("updates", {"slow": {"log": ["slow"]}}),
    ]


def test_stream_yields_custom_events_while_a_sync_node_still_runs():
    import threading

    gate = threading.Event()

    def slow(state):
        writer = get_stream_writer()
        writer("first")
        assert gate.wait(10), "the first event did not reach the consumer while the node ran"
        writer("second")
        return {"log": ["slow"]}

    graph = StateGraph(Log)
    graph.add_node("slow", slow)
    graph.add_edge(START, "slow")
    got = []
    for chunk in graph.compile().stream({"log": []}, stream_mode=["custom", "updates"]):
        got.append(chunk)
        if chunk == ("custom", "first"):
            gate.set()
    assert got == [
        ("custom", "first"),
        ("custom", "second"),
        ("updates", {"slow": {"log": ["slow"]}}),
    ]


def _chat_app() -> Any:
    model = FakeChatModel(responses=["hi yo"], chunk_size=1)

    def call(state, config):
        return {"messages": [model.invoke(state["messages"], config)]}

    graph = StateGraph(MessagesState)
    graph.add_node("call", call)
    graph.add_edge(START, "call")
    return graph.compile()


def test_messages_mode_streams_tokens_of_a_model_given_the_node_config():
    parts = list(_chat_app().stream({"messages": [("user", "hey")]}, stream_mode="messages"))
    assert "".join(chunk.content for chunk, _ in parts) == "hi yo"
    assert {meta["langgraph_node"] for _, meta in parts} == {"call"}
    assert len({chunk.id for chunk, _ in parts}) == 1


def test_astream_messages_mode_yields_the_same_tokens():
    async def main() -> list[Any]:
        return [
            chunk.content
            async for chunk, _ in _chat_app().astream(
                {"messages": [("user", "hey")]}, stream_mode="messages"
            )
        ]

    assert "".join(asyncio.run(main())) == "hi yo"


def test_messages_returned_by_a_node_without_a_model_come_whole():
    from runwire.schema.messages import AIMessage

    graph = StateGraph(MessagesState)
    graph.add_node("say", lambda s: {"messages": [AIMessage("done", id="m1")]})
    graph.add_edge(START, "say")
    parts = list(graph.compile().stream({"messages": []}, stream_mode="messages"))
    assert [(m.content, meta["langgraph_node"]) for m, meta in parts] == [("done", "say")]


def test_astream_events_show_the_graph_and_its_nodes_as_runs():
    graph = StateGraph(Log)
    graph.add_node("a", lambda s: {"log": ["a"]})
    graph.add_node("b", lambda s: {"log": ["b"]})
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    app = graph.compile()

    async def main() -> list[tuple[str, str]]:
        return [(e["event"], e["name"]) async for e in app.astream_events({"log": []})]

    events = asyncio.run(main())
    assert events[0] == ("on_chain_start", "LangGraph")
    assert events[-1] == ("on_chain_end", "LangGraph")
    assert ("on_chain_end", "a") in events and ("on_chain_end", "b") in events
    assert events.index(("on_chain_end", "a")) < events.index(("on_chain_start", "b"))
