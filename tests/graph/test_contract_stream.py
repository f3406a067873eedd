"""Graph contract: every stream mode alone and together, subgraph namespaces, v2 parts, output_keys.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py); every
expected value is what LangGraph 1.2 does. Ids and timestamps are compared through
``lg.normalise`` (``<id>``, ``<ts>``).
"""

import asyncio
import itertools
import operator
from typing import Annotated, Any, TypedDict

import pytest


class State(TypedDict):
    items: Annotated[list, operator.add]
    note: str


_threads = itertools.count()


def _thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": f"s{next(_threads)}"}}


def _append(name: str) -> Any:
    return lambda state: {"items": [name]}


def _two_steps(lg, checkpointer: Any = None) -> Any:
    """a (writes through get_stream_writer) then b (writes through its writer parameter)."""

    def a(state):
        lg.get_stream_writer()({"progress": "a"})
        return {"items": ["a"]}

    def b(state, writer):
        writer("b-custom")
        return {"items": ["b"], "note": "n"}

    graph = lg.StateGraph(State)
    graph.add_node("a", a)
    graph.add_node("b", b)
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b")
    return graph.compile(checkpointer=checkpointer)


def _with_subgraph(lg) -> Any:
    sub = lg.StateGraph(State)
    sub.add_node("x", _append("x"))
    sub.add_node("y", _append("y"))
    sub.add_edge(lg.START, "x")
    sub.add_edge("x", "y")
    graph = lg.StateGraph(State)
    graph.add_node("pre", _append("pre"))
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "pre")
    graph.add_edge("pre", "sub")
    return graph.compile()


def _asking(lg) -> Any:
    graph = lg.StateGraph(State)
    graph.add_node("ask", lambda s: {"items": [lg.interrupt("?")]})
    graph.add_edge(lg.START, "ask")
    return graph.compile(checkpointer=lg.InMemorySaver())


# -- each mode alone -----------------------------------------------------------------------


def test_stream_values_yields_the_input_then_the_state_after_each_step(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="values"))
    assert parts == [{"items": []}, {"items": ["a"]}, {"items": ["a", "b"], "note": "n"}]


def test_stream_default_mode_is_updates(lg):
    parts = list(_two_steps(lg).stream({"items": []}))
    assert parts == [{"a": {"items": ["a"]}}, {"b": {"items": ["b"], "note": "n"}}]


def test_stream_updates_yields_each_node_update(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="updates"))
    assert parts == [{"a": {"items": ["a"]}}, {"b": {"items": ["b"], "note": "n"}}]


def test_stream_updates_of_parallel_nodes_come_one_per_node(lg):
    graph = lg.StateGraph(State)
    graph.add_node("p", _append("p"))
    graph.add_node("q", _append("q"))
    graph.add_edge(lg.START, "p")
    graph.add_edge(lg.START, "q")
    parts = list(graph.compile().stream({"items": []}, stream_mode="updates"))
    assert sorted(parts, key=str) == [{"p": {"items": ["p"]}}, {"q": {"items": ["q"]}}]


def test_stream_custom_yields_what_nodes_write(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="custom"))
    assert parts == [{"progress": "a"}, "b-custom"]


def test_stream_tasks_yields_task_starts_and_results(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="tasks"))
    assert lg.normalise(parts) == [
        {"id": "<id>", "name": "a", "input": {"items": []}, "triggers": ("branch:to:a",)},
        {"id": "<id>", "name": "a", "error": None, "interrupts": [], "result": {"items": ["a"]}},
        {"id": "<id>", "name": "b", "input": {"items": ["a"]}, "triggers": ("branch:to:b",)},
        {
            "id": "<id>",
            "name": "b",
            "error": None,
            "interrupts": [],
            "result": {"items": ["b"], "note": "n"},
        },
    ]
    assert parts[0]["id"] == parts[1]["id"] != parts[2]["id"]


def test_stream_tasks_reports_an_interrupt_in_the_result(lg):
    parts = list(_asking(lg).stream({"items": []}, _thread(), stream_mode="tasks"))
    assert [p["name"] for p in parts] == ["ask", "ask"]
    result = parts[1]
    assert (result["error"], result["result"]) == (None, {})
    assert [i["value"] for i in result["interrupts"]] == ["?"]
    assert all(isinstance(i["id"], str) for i in result["interrupts"])


def test_stream_debug_without_checkpointer_has_task_events(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="debug"))
    assert [(p["type"], p["step"], p["payload"]["name"]) for p in parts] == [
        ("task", 1, "a"),
        ("task_result", 1, "a"),
        ("task", 2, "b"),
        ("task_result", 2, "b"),
    ]
    assert lg.normalise(parts[1]) == {
        "type": "task_result",
        "step": 1,
        "timestamp": "<ts>",
        "payload": {
            "id": "<id>",
            "name": "a",
            "error": None,
            "interrupts": [],
            "result": {"items": ["a"]},
        },
    }


def test_stream_debug_with_checkpointer_adds_checkpoint_events(lg):
    app = _two_steps(lg, lg.InMemorySaver())
    parts = list(app.stream({"items": []}, _thread(), stream_mode="debug"))
    assert [(p["type"], p["step"]) for p in parts] == [
        ("checkpoint", -1),
        ("checkpoint", 0),
        ("task", 1),
        ("task_result", 1),
        ("checkpoint", 1),
        ("task", 2),
        ("task_result", 2),
        ("checkpoint", 2),
    ]
    assert parts[0]["payload"]["next"] == ["__start__"]
    assert parts[-1]["payload"]["values"] == {"items": ["a", "b"], "note": "n"}


def test_stream_checkpoints_yields_each_saved_checkpoint(lg):
    config = _thread()
    thread = config["configurable"]["thread_id"]
    parts = list(
        _two_steps(lg, lg.InMemorySaver()).stream({"items": []}, config, stream_mode="checkpoints")
    )
    assert [(p["metadata"]["step"], p["metadata"]["source"], p["next"]) for p in parts] == [
        (-1, "input", ["__start__"]),
        (0, "loop", ["a"]),
        (1, "loop", ["b"]),
        (2, "loop", []),
    ]
    ckpt = {"configurable": {"checkpoint_id": "<id>", "checkpoint_ns": "", "thread_id": thread}}
    assert lg.normalise(parts[1]) == {
        "config": ckpt,
        "metadata": {"parents": {}, "source": "loop", "step": 0},
        "next": ["a"],
        "parent_config": ckpt,
        "tasks": [{"id": "<id>", "interrupts": (), "name": "a", "state": None}],
        "values": {"items": []},
    }
    assert parts[0]["parent_config"] is None
    assert parts[2]["parent_config"] == parts[1]["config"]
    assert parts[-1]["tasks"] == []
    assert parts[-1]["values"] == {"items": ["a", "b"], "note": "n"}


# -- messages ------------------------------------------------------------------------------


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


# -- several modes at once -----------------------------------------------------------------


def test_several_modes_yield_mode_and_data_pairs_in_order(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode=["updates", "custom"]))
    assert parts == [
        ("custom", {"progress": "a"}),
        ("updates", {"a": {"items": ["a"]}}),
        ("custom", "b-custom"),
        ("updates", {"b": {"items": ["b"], "note": "n"}}),
    ]


def test_values_and_updates_interleave_per_step(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode=["values", "updates"]))
    assert [mode for mode, _ in parts] == ["values", "updates", "values", "updates", "values"]


def test_astream_several_modes(lg):
    app = _two_steps(lg)

    async def run() -> list[Any]:
        modes = ["updates", "custom", "values"]
        return [part async for part in app.astream({"items": []}, stream_mode=modes)]

    assert asyncio.run(run()) == [
        ("values", {"items": []}),
        ("custom", {"progress": "a"}),
        ("updates", {"a": {"items": ["a"]}}),
        ("values", {"items": ["a"]}),
        ("custom", "b-custom"),
        ("updates", {"b": {"items": ["b"], "note": "n"}}),
        ("values", {"items": ["a", "b"], "note": "n"}),
    ]


# -- interrupts in streams -----------------------------------------------------------------


def test_stream_values_ends_with_the_interrupt_key(lg):
    parts = list(_asking(lg).stream({"items": []}, _thread(), stream_mode="values"))
    assert parts[0] == {"items": []}
    assert parts[1]["items"] == []
    assert [i.value for i in parts[1]["__interrupt__"]] == ["?"]


def test_stream_updates_reports_an_interrupt_as_its_own_update(lg):
    [part] = _asking(lg).stream({"items": []}, _thread(), stream_mode="updates")
    assert list(part) == ["__interrupt__"]
    assert isinstance(part["__interrupt__"], tuple)
    assert [i.value for i in part["__interrupt__"]] == ["?"]


# -- subgraphs -----------------------------------------------------------------------------


def test_stream_subgraphs_yields_namespace_and_update(lg):
    parts = list(_with_subgraph(lg).stream({"items": []}, stream_mode="updates", subgraphs=True))
    assert lg.normalise(parts) == [
        ((), {"pre": {"items": ["pre"]}}),
        (("sub:<id>",), {"x": {"items": ["x"]}}),
        (("sub:<id>",), {"y": {"items": ["y"]}}),
        ((), {"sub": {"items": ["pre", "x", "y"]}}),
    ]
    assert parts[1][0] == parts[2][0]


def test_stream_without_subgraphs_hides_subgraph_steps(lg):
    parts = list(_with_subgraph(lg).stream({"items": []}, stream_mode="updates"))
    assert parts == [{"pre": {"items": ["pre"]}}, {"sub": {"items": ["pre", "x", "y"]}}]


def test_stream_subgraphs_with_several_modes_yields_triples(lg):
    modes = ["values", "updates"]
    parts = _with_subgraph(lg).stream({"items": []}, stream_mode=modes, subgraphs=True)
    assert lg.normalise(list(parts)) == [
        ((), "values", {"items": []}),
        ((), "updates", {"pre": {"items": ["pre"]}}),
        ((), "values", {"items": ["pre"]}),
        (("sub:<id>",), "values", {"items": ["pre"]}),
        (("sub:<id>",), "updates", {"x": {"items": ["x"]}}),
        (("sub:<id>",), "values", {"items": ["pre", "x"]}),
        (("sub:<id>",), "updates", {"y": {"items": ["y"]}}),
        (("sub:<id>",), "values", {"items": ["pre", "x", "y"]}),
        ((), "updates", {"sub": {"items": ["pre", "x", "y"]}}),
        # the subgraph's whole state is appended to the parent's by operator.add
        ((), "values", {"items": ["pre", "pre", "x", "y"]}),
    ]


# -- version v2 ----------------------------------------------------------------------------


def test_stream_v2_yields_typed_parts(lg):
    parts = list(_two_steps(lg).stream({"items": []}, stream_mode="values", version="v2"))
    assert parts == [
        {"type": "values", "ns": (), "data": {"items": []}, "interrupts": ()},
        {"type": "values", "ns": (), "data": {"items": ["a"]}, "interrupts": ()},
        {"type": "values", "ns": (), "data": {"items": ["a", "b"], "note": "n"}, "interrupts": ()},
    ]


def test_stream_v2_several_modes_and_subgraphs(lg):
    app = _with_subgraph(lg)
    parts = app.stream({"items": []}, stream_mode="updates", subgraphs=True, version="v2")
    assert lg.normalise(list(parts)) == [
        {"type": "updates", "ns": (), "data": {"pre": {"items": ["pre"]}}},
        {"type": "updates", "ns": ("sub:<id>",), "data": {"x": {"items": ["x"]}}},
        {"type": "updates", "ns": ("sub:<id>",), "data": {"y": {"items": ["y"]}}},
        {"type": "updates", "ns": (), "data": {"sub": {"items": ["pre", "x", "y"]}}},
    ]
    parts = _two_steps(lg).stream({"items": []}, stream_mode=["custom", "updates"], version="v2")
    assert list(parts) == [
        {"type": "custom", "ns": (), "data": {"progress": "a"}},
        {"type": "updates", "ns": (), "data": {"a": {"items": ["a"]}}},
        {"type": "custom", "ns": (), "data": "b-custom"},
        {"type": "updates", "ns": (), "data": {"b": {"items": ["b"], "note": "n"}}},
    ]


def test_stream_v2_values_carry_interrupts(lg):
    app = _asking(lg)
    config = _thread()
    parts = list(app.stream({"items": []}, config, stream_mode=["values", "updates"], version="v2"))
    assert [(p["type"], list(p["data"])) for p in parts] == [
        ("values", ["items"]),
        ("updates", ["__interrupt__"]),
        ("values", ["items"]),
    ]
    assert parts[0]["interrupts"] == ()
    assert [i.value for i in parts[2]["interrupts"]] == ["?"]
    resumed = app.stream(lg.Command(resume="R"), config, stream_mode="updates", version="v2")
    assert list(resumed) == [{"type": "updates", "ns": (), "data": {"ask": {"items": ["R"]}}}]


def test_stream_v2_messages_part(lg):
    app, _ = _chat_graph(lg)
    parts = list(app.stream({"messages": [("user", "q")]}, stream_mode="messages", version="v2"))
    assert {(p["type"], p["ns"]) for p in parts} == {("messages", ())}
    assert "".join(p["data"][0].content for p in parts) == "hi yo"
    assert lg.normalise(_meta(parts[0]["data"][1])) == _CALL_META


# -- output_keys ---------------------------------------------------------------------------


def test_output_keys_as_a_string_yields_the_bare_value(lg):
    app = _two_steps(lg)
    assert app.invoke({"items": []}, output_keys="items") == ["a", "b"]
    # Surprising: values are only emitted for steps that wrote the selected key
    assert list(app.stream({"items": []}, stream_mode="values", output_keys="note")) == ["n"]


def test_output_keys_as_a_list_yields_a_dict(lg):
    app = _two_steps(lg)
    assert app.invoke({"items": []}, output_keys=["items"]) == {"items": ["a", "b"]}
    parts = list(app.stream({"items": []}, stream_mode="values", output_keys=["note"]))
    assert parts == [{"note": "n"}]


@pytest.mark.parametrize("mode", ["values", "updates"])
def test_astream_matches_stream(lg, mode):
    app = _with_subgraph(lg)

    async def run() -> list[Any]:
        return [part async for part in app.astream({"items": []}, stream_mode=mode)]

    assert asyncio.run(run()) == list(app.stream({"items": []}, stream_mode=mode))
