"""Graph contract: the messages stream mode (a fake chat model on each side, see conftest.py).

Written against LangGraph's public API through the ``lg`` fixture; every expected value is
what LangGraph 1.2 does. Ids are compared through ``lg.normalise`` (``<id>``).
"""

import asyncio
from typing import Any

# -- one graph ------------------------------------------------------------------------------


def _chat_graph(lg) -> tuple[Any, Any]:
    model = lg.chat_model(["hi yo", "ok"])

    def call(state):
        return {"messages": [model.invoke(state["messages"])]}

    graph = lg.StateGraph(lg.MessagesState)
    graph.add_node("call", call)
    graph.add_edge(lg.START, "call")
    return graph.compile(), model


_LANGGRAPH_KEYS = (
    "langgraph_step",
    "langgraph_node",
    "langgraph_triggers",
    "langgraph_path",
    "langgraph_checkpoint_ns",
    "checkpoint_ns",
)


def _meta(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: metadata[k] for k in _LANGGRAPH_KEYS}


_CALL_META = {
    "langgraph_step": 1,
    "langgraph_node": "call",
    "langgraph_triggers": ("branch:to:call",),
    "langgraph_path": ("__pregel_pull", "call"),
    "langgraph_checkpoint_ns": "call:<id>",
    "checkpoint_ns": "call:<id>",
}


def test_stream_messages_yields_model_chunks_with_node_metadata(lg):
    app, _ = _chat_graph(lg)
    parts = list(app.stream({"messages": [("user", "hey")]}, stream_mode="messages"))
    # the node calls invoke(), yet the model streams: the messages mode streams every
    # chat model call made inside a node
    assert [(type(m).__name__, m.content) for m, _ in parts] == [
        ("AIMessageChunk", c) for c in "hi yo"
    ]
    assert all(lg.normalise(_meta(meta)) == _CALL_META for _, meta in parts)
    assert len({m.id for m, _ in parts}) == 1


def test_stream_messages_chunks_share_the_id_of_the_stored_message(lg):
    app, _ = _chat_graph(lg)
    parts = list(app.stream({"messages": [("user", "hey")]}, stream_mode=["messages", "values"]))
    chunk_ids = {data[0].id for mode, data in parts if mode == "messages"}
    final = [data for mode, data in parts if mode == "values"][-1]
    assert [m.content for m in final["messages"]] == ["hey", "hi yo"]
    assert chunk_ids == {final["messages"][-1].id}


def test_astream_messages_yields_the_same_chunks(lg):
    app, _ = _chat_graph(lg)

    async def run() -> list[Any]:
        state = {"messages": [("user", "hey")]}
        return [part async for part in app.astream(state, stream_mode="messages")]

    parts = asyncio.run(run())
    assert "".join(m.content for m, _ in parts) == "hi yo"
    assert lg.normalise(_meta(parts[0][1])) == _CALL_META


def test_stream_messages_includes_messages_a_node_returns_without_a_model(lg):
    graph = lg.StateGraph(lg.MessagesState)
    graph.add_node("plain", lambda s: {"messages": [lg.AIMessage(content="direct", id="d1")]})
    graph.add_edge(lg.START, "plain")
    parts = list(graph.compile().stream({"messages": [("user", "q")]}, stream_mode="messages"))
    # the input's messages are not emitted; a node's new message is, whole
    assert [(type(m).__name__, m.content, m.id) for m, _ in parts] == [
        ("AIMessage", "direct", "d1")
    ]
    assert parts[0][1]["langgraph_node"] == "plain"


def _chat_subgraph(lg) -> Any:
    model = lg.chat_model(["ab"])

    async def call(state):
        return {"messages": [await model.ainvoke(state["messages"])]}

    sub = lg.StateGraph(lg.MessagesState)
    sub.add_node("call", call)
    sub.add_edge(lg.START, "call")
    graph = lg.StateGraph(lg.MessagesState)
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "sub")
    return graph.compile()


def _astream_list(app: Any, **kwargs: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [part async for part in app.astream({"messages": [("user", "q")]}, **kwargs)]

    return asyncio.run(run())


def test_astream_messages_of_a_subgraph_with_subgraphs_true(lg):
    parts = _astream_list(_chat_subgraph(lg), stream_mode="messages", subgraphs=True)
    assert [(lg.normalise(ns), m.content) for ns, (m, _) in parts] == [
        (("sub:<id>",), "a"),
        (("sub:<id>",), "b"),
    ]
    meta = lg.normalise(_meta(parts[0][1][1]))
    # the model's checkpoint_ns is the subgraph's; langgraph_checkpoint_ns adds the node
    assert (meta["checkpoint_ns"], meta["langgraph_checkpoint_ns"]) == (
        "sub:<id>",
        "sub:<id>|call:<id>",
    )
    assert meta["langgraph_node"] == "call"


def test_astream_messages_of_a_subgraph_without_subgraphs(lg):
    parts = _astream_list(_chat_subgraph(lg), stream_mode="messages")
    # Surprising: the subgraph's chunks are hidden, and its new message comes whole,
    # attributed to the parent's node, when that node finishes
    assert [(type(m).__name__, m.content, meta["langgraph_node"]) for m, meta in parts] == [
        ("AIMessage", "ab", "sub")
    ]


def test_stream_v2_messages_part(lg):
    app, _ = _chat_graph(lg)
    parts = list(app.stream({"messages": [("user", "q")]}, stream_mode="messages", version="v2"))
    assert {(p["type"], p["ns"]) for p in parts} == {("messages", ())}
    assert "".join(p["data"][0].content for p in parts) == "hi yo"
    assert lg.normalise(_meta(parts[0]["data"][1])) == _CALL_META
