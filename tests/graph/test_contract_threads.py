"""Graph contract: threads over time (replay, fork), subgraphs, the graph as a Runnable.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py); every
expected value is what LangGraph 1.2 does.
"""

import asyncio
import itertools
import operator
import os
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict  # pydantic needs it for JSON schemas on 3.11

PEER = os.environ.get("RUNWIRE_GRAPH_PEER", "runwire")


class Items(TypedDict):
    items: Annotated[list, operator.add]


_threads = itertools.count()


def _thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": f"h{next(_threads)}"}}


def _append(name: str) -> Any:
    return lambda state: {"items": [name]}


def _linear(lg, names: str = "abc") -> Any:
    graph = lg.StateGraph(Items)
    for name in names:
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, names[0])
    for src, dst in itertools.pairwise(names):
        graph.add_edge(src, dst)
    return graph


# -- replay and fork -----------------------------------------------------------------------


def test_invoke_from_a_past_checkpoint_replays_the_rest(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    history = list(app.get_state_history(config))
    assert len(history) == 5
    before_b = next(s for s in history if s.next == ("b",))
    assert before_b.values == {"items": ["a"]}
    assert app.invoke(None, before_b.config) == {"items": ["a", "b", "c"]}
    # the replay re-runs b and c from there, adding checkpoints to the same thread
    assert len(list(app.get_state_history(config))) == 8


def test_update_state_on_a_past_checkpoint_forks_the_thread(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    before_b = next(s for s in app.get_state_history(config) if s.next == ("b",))
    fork = app.update_state(before_b.config, {"items": ["fork"]})
    assert fork["configurable"]["checkpoint_id"] != before_b.config["configurable"]["checkpoint_id"]
    assert app.invoke(None, fork) == {"items": ["a", "fork", "b", "c"]}
    assert app.get_state(config).values == {"items": ["a", "fork", "b", "c"]}
    assert len(list(app.get_state_history(config))) == 8


def test_get_state_of_an_unknown_thread_is_empty(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    state = app.get_state(_thread())
    assert (state.values, state.next, state.tasks) == ({}, (), ())
    assert list(app.get_state_history(_thread())) == []


def test_state_history_limit_and_before(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    newest_two = list(app.get_state_history(config, limit=2))
    assert [s.metadata["step"] for s in newest_two] == [3, 2]
    older = list(app.get_state_history(config, before=newest_two[-1].config))
    assert [s.metadata["step"] for s in older] == [1, 0, -1]


def _in_namespace(config: dict[str, Any], **more: Any) -> dict[str, Any]:
    """``config`` as a caller that runs in a namespace of its own sends it (a RemoteGraph
    inside a parent graph's node sends the parent task's ``checkpoint_ns``)."""
    return {"configurable": {**config["configurable"], "checkpoint_ns": "caller:1", **more}}


def test_a_root_run_starts_at_the_threads_root_whatever_namespace_it_is_given(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    chunks = list(app.stream({"items": []}, _in_namespace(config), stream_mode="values"))
    assert chunks == [{"items": list(done)} for done in ("", "a", "ab", "abc")]
    assert app.get_state(config).values == {"items": list("abc")}  # the thread's own
    again = list(app.stream(None, _in_namespace(config), stream_mode="updates", subgraphs=True))
    assert again == []  # it continues the thread's head: nothing left to run
    fresh = _in_namespace(_thread())
    events = list(app.stream({"items": []}, fresh, stream_mode="updates", subgraphs=True))
    assert [ns for ns, _ in events] == [(), (), ()]  # the root's events at the root


def test_a_root_run_given_a_namespace_ignores_its_checkpoint_id(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    before_b = next(s for s in app.get_state_history(config) if s.next == ("b",))
    asked = _in_namespace(config, checkpoint_id=before_b.config["configurable"]["checkpoint_id"])
    assert app.invoke(None, asked) == {"items": list("abc")}
    assert len(list(app.get_state_history(config))) == 5  # no replay from before b


# -- subgraphs -----------------------------------------------------------------------------


def test_static_interrupt_inside_a_subgraph(lg):
    sub = _linear(lg, "xy").compile(interrupt_before=["y"])
    graph = lg.StateGraph(Items)
    graph.add_node("sub", sub)
    graph.add_edge(lg.START, "sub")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    assert app.invoke({"items": []}, config) == {"items": []}
    inner = app.get_state(config, subgraphs=True).tasks[0].state
    assert (inner.values, inner.next) == ({"items": ["x"]}, ("y",))
    assert app.invoke(None, config) == {"items": ["x", "y"]}


def test_custom_stream_of_a_subgraph_needs_subgraphs_true(lg):
    def x(state):
        lg.get_stream_writer()("from-x")
        return {"items": ["x"]}

    sub = lg.StateGraph(Items)
    sub.add_node("x", x)
    sub.add_edge(lg.START, "x")
    graph = lg.StateGraph(Items)
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "sub")
    app = graph.compile()
    parts = list(app.stream({"items": []}, stream_mode="custom", subgraphs=True))
    assert lg.normalise(parts) == [(("sub:<id>",), "from-x")]
    # Surprising: without subgraphs=True a subgraph's custom writes are dropped
    assert list(app.stream({"items": []}, stream_mode="custom")) == []


def test_subgraph_called_from_inside_a_node(lg):
    sub = _linear(lg, "xy").compile()

    def call_sub(state):
        out = sub.invoke({"items": ["in"]})
        return {"items": out["items"]}

    graph = lg.StateGraph(Items)
    graph.add_node("call", call_sub)
    graph.add_edge(lg.START, "call")
    assert graph.compile().invoke({"items": []}) == {"items": ["in", "x", "y"]}


def test_subgraph_with_a_different_state_schema_shares_common_keys(lg):
    class Inner(TypedDict):
        items: Annotated[list, operator.add]
        private: str

    sub = lg.StateGraph(Inner)
    sub.add_node("work", lambda s: {"private": "p", "items": ["work"]})
    sub.add_node("use", lambda s: {"items": [s["private"]]})
    sub.add_edge(lg.START, "work")
    sub.add_edge("work", "use")
    graph = lg.StateGraph(Items)
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "sub")
    assert graph.compile().invoke({"items": ["in"]}) == {"items": ["in", "in", "work", "p"]}


# -- the compiled graph as a Runnable ------------------------------------------------------


def test_compiled_graph_composes_with_pipe(lg):
    chain = _linear(lg).compile() | (lambda out: out["items"])
    assert chain.invoke({"items": []}) == ["a", "b", "c"]


def test_compiled_graph_batch(lg):
    app = _linear(lg).compile()
    assert app.batch([{"items": []}, {"items": ["z"]}]) == [
        {"items": ["a", "b", "c"]},
        {"items": ["z", "a", "b", "c"]},
    ]


def test_compiled_graph_abatch(lg):
    app = _linear(lg).compile()
    assert asyncio.run(app.abatch([{"items": []}, {"items": ["z"]}])) == [
        {"items": ["a", "b", "c"]},
        {"items": ["z", "a", "b", "c"]},
    ]


def test_input_and_output_json_schemas_follow_the_schemas(lg):
    class State(TypedDict):
        items: Annotated[list, operator.add]
        note: str

    class Out(TypedDict):
        note: str

    graph = lg.StateGraph(State, output_schema=Out)
    graph.add_node("a", _append("a"))
    graph.add_edge(lg.START, "a")
    app = graph.compile()
    assert app.get_input_jsonschema() == {
        "properties": {
            "items": {"items": {}, "title": "Items", "type": "array"},
            "note": {"title": "Note", "type": "string"},
        },
        "required": ["items", "note"],
        "title": "State",
        "type": "object",
    }
    assert app.get_output_jsonschema() == {
        "properties": {"note": {"title": "Note", "type": "string"}},
        "required": ["note"],
        "title": "Out",
        "type": "object",
    }


# -- context -------------------------------------------------------------------------------


@dataclass
class Ctx:
    user: str


def test_dataclass_context_reaches_sync_and_async_nodes(lg):
    def sync_node(state, runtime):
        return {"items": [f"sync:{runtime.context.user}"]}

    async def async_node(state, runtime):
        return {"items": [f"async:{runtime.context.user}"]}

    graph = lg.StateGraph(Items, context_schema=Ctx)
    graph.add_node("s", sync_node)
    graph.add_node("t", async_node)
    graph.add_edge(lg.START, "s")
    graph.add_edge("s", "t")
    app = graph.compile()
    out = asyncio.run(app.ainvoke({"items": []}, context=Ctx(user="bo")))
    assert out == {"items": ["sync:bo", "async:bo"]}


def test_context_is_none_when_not_given(lg):
    seen = []

    def node(state, runtime):
        seen.append(runtime.context)
        return {}

    graph = lg.StateGraph(Items, context_schema=Ctx)
    graph.add_node("n", node)
    graph.add_edge(lg.START, "n")
    graph.compile().invoke({"items": []})
    assert seen == [None]


# -- async variants ------------------------------------------------------------------------


def test_astream_v2_with_subgraphs_and_interrupt(lg):
    sub = lg.StateGraph(Items)
    sub.add_node("ask", lambda s: {"items": [lg.interrupt("sub?")]})
    sub.add_edge(lg.START, "ask")
    graph = lg.StateGraph(Items)
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "sub")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()

    async def run(value: Any) -> list[Any]:
        parts = app.astream(value, config, stream_mode="updates", subgraphs=True, version="v2")
        return [part async for part in parts]

    first = asyncio.run(run({"items": []}))
    assert [(p["type"], lg.normalise(p["ns"]), list(p["data"])) for p in first] == [
        ("updates", ("sub:<id>",), ["__interrupt__"]),
        ("updates", (), ["__interrupt__"]),
    ]
    resumed = asyncio.run(run(lg.Command(resume="yes")))
    assert lg.normalise(resumed) == [
        {"type": "updates", "ns": ("sub:<id>",), "data": {"ask": {"items": ["yes"]}}},
        {"type": "updates", "ns": (), "data": {"sub": {"items": ["yes"]}}},
    ]


def test_async_node_error_resumes_on_the_thread(lg):
    failing = [True]

    async def shaky(state):
        if failing[0]:
            raise ValueError("not yet")
        return {"items": ["shaky"]}

    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    graph.add_node("shaky", shaky)
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "shaky")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    with pytest.raises(ValueError, match="not yet"):
        asyncio.run(app.ainvoke({"items": []}, config))
    assert app.get_state(config).next == ("shaky",)
    failing[0] = False
    assert asyncio.run(app.ainvoke(None, config)) == {"items": ["a", "shaky"]}


def test_aget_state_history_matches_the_sync_history(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()

    async def run() -> list[Any]:
        await app.ainvoke({"items": []}, config)
        return [s async for s in app.aget_state_history(config)]

    steps = [s.metadata["step"] for s in asyncio.run(run())]
    assert steps == [s.metadata["step"] for s in app.get_state_history(config)]
    assert steps == [3, 2, 1, 0, -1]


def test_get_state_of_a_past_checkpoint_is_the_record_of_its_step(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    before_b = next(s for s in app.get_state_history(config) if s.next == ("b",))
    past = app.get_state(before_b.config)  # asked by checkpoint id: not the thread now
    assert (past.values, past.next) == ({"items": ["a"]}, ("b",))
    assert [(t.name, t.result) for t in past.tasks] == [("b", {"items": ["b"]})]


def _routed(lg) -> Any:
    """a, then b or c as a router picks; paused before either."""
    graph = lg.StateGraph(Items)
    for name in "abc":
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, "a")
    graph.add_conditional_edges("a", lambda s: "c" if "go-c" in s["items"] else "b", ["b", "c"])
    return graph.compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b", "c"])


def test_update_without_as_node_is_the_last_nodes_and_routes_again(lg):
    app = _routed(lg)
    config = _thread()
    app.invoke({"items": []}, config)
    assert app.get_state(config).next == ("b",)
    app.update_state(config, {"items": ["go-c"]})  # as a, whose router now picks c
    assert app.get_state(config).next == ("c",)


def test_update_without_as_node_on_a_new_thread_is_an_input(lg):
    app = _routed(lg)
    config = _thread()
    app.update_state(config, {"items": ["z"]})
    state = app.get_state(config)
    assert (state.values, state.next, state.metadata["step"]) == ({"items": ["z"]}, ("a",), 0)
    assert app.invoke(None, config) == {"items": ["z", "a"]}


# -- update_state as START or END -------------------------------------------------------------


def test_update_state_as_start_writes_and_schedules_what_follows_start(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    app.invoke({"items": []}, config)
    app.update_state(config, {"items": ["z"]}, as_node=lg.START)
    state = app.get_state(config)
    assert (state.values, state.next) == ({"items": ["a", "z"]}, ("a",))
    assert (state.metadata["source"], state.metadata["step"]) == ("update", 2)
    updates = list(app.stream(None, config, stream_mode="updates"))
    assert updates == [{"a": {"items": ["a"]}}, {"__interrupt__": ()}]  # b's interrupt again


def test_update_state_as_start_follows_a_router_from_start(lg):
    graph = lg.StateGraph(Items)
    for name in "xy":
        graph.add_node(name, _append(name))
    graph.add_conditional_edges(lg.START, lambda s: "y" if "go-y" in s["items"] else "x")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    app.update_state(config, {"items": ["go-y"]}, as_node=lg.START)
    assert app.get_state(config).next == ("y",)
    assert app.invoke(None, config) == {"items": ["x", "go-y", "y"]}


def test_update_state_as_end_only_clears_what_is_pending(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    app.invoke({"items": []}, config)
    with pytest.raises(lg.InvalidUpdateError, match="Node __end__ does not exist"):
        app.update_state(config, {"items": ["z"]}, as_node=lg.END)
    app.update_state(config, None, as_node=lg.END)
    state = app.get_state(config)
    assert (state.values, state.next) == ({"items": ["a"]}, ())


@pytest.mark.skipif(PEER != "runwire", reason="runwire lacks what LangGraph does here")
@pytest.mark.parametrize("as_node", ["__copy__", "__input__"])
def test_update_state_as_copy_or_input_is_not_implemented(lg, as_node):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    saved = len(list(app.get_state_history(config)))
    with pytest.raises(NotImplementedError, match=f"as_node='{as_node}'"):
        app.update_state(config, None, as_node=as_node)
    assert len(list(app.get_state_history(config))) == saved  # nothing written


# -- update_state without as_node ------------------------------------------------------------


def test_update_state_after_two_parallel_nodes_needs_as_node(lg):
    graph = lg.StateGraph(Items)
    for name in "abc":
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, "a")
    graph.add_edge(lg.START, "b")
    graph.add_edge(["a", "b"], "c")
    app = graph.compile(checkpointer=lg.InMemorySaver(), interrupt_before=["c"])
    config = _thread()
    assert app.invoke({"items": []}, config) == {"items": ["a", "b"]}
    with pytest.raises(lg.InvalidUpdateError, match="Ambiguous update, specify as_node"):
        app.update_state(config, {"items": ["u"]})
    app.update_state(config, {"items": ["u"]}, as_node="a")
    assert app.get_state(config).values == {"items": ["a", "b", "u"]}


def test_update_state_after_one_node_is_that_nodes_update(lg):
    app = _linear(lg, "ab").compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    app.invoke({"items": []}, config)
    app.update_state(config, {"items": ["u"]})
    state = app.get_state(config)
    assert (state.values, state.next) == ({"items": ["a", "u"]}, ("b",))


# -- bulk_update_state -------------------------------------------------------------------------


def _paused_before_c(lg):
    return _linear(lg, "abc").compile(checkpointer=lg.InMemorySaver(), interrupt_before=["c"])


def test_bulk_update_state_applies_each_superstep_as_one_step(lg):
    app = _paused_before_c(lg)
    config = _thread()
    app.invoke({"items": []}, config)
    before = len(list(app.get_state_history(config)))
    new = app.bulk_update_state(
        config,
        [
            [lg.StateUpdate({"items": ["x"]}, "a"), lg.StateUpdate({"items": ["y"]}, "b")],
            [lg.StateUpdate({"items": ["z"]}, "c")],
        ],
    )
    state = app.get_state(config)
    assert state.config == new
    assert state.values == {"items": ["a", "b", "x", "y", "z"]}
    assert state.next == ()  # c's update took c's edge to the end
    history = list(app.get_state_history(config))
    assert len(history) == before + 2
    assert [h.metadata["source"] for h in history[:2]] == ["update", "update"]
    assert history[1].values == {"items": ["a", "b", "x", "y"]}
    assert history[1].next == ("b", "c")  # both updates took their node's edge


def test_bulk_update_state_refuses_empty_supersteps(lg):
    app = _paused_before_c(lg)
    config = _thread()
    with pytest.raises(ValueError, match="No supersteps provided"):
        app.bulk_update_state(config, [])
    with pytest.raises(ValueError, match="No updates provided"):
        app.bulk_update_state(config, [[lg.StateUpdate({"items": ["x"]}, "a")], []])
    app.invoke({"items": []}, config)
    two = [lg.StateUpdate({"items": ["x"]}, "a"), lg.StateUpdate({"items": ["y"]})]
    with pytest.raises(lg.InvalidUpdateError, match="as_node is required"):
        app.bulk_update_state(config, [two])


def test_abulk_update_state_matches_the_sync_form(lg):
    app = _paused_before_c(lg)
    config = _thread()
    app.invoke({"items": []}, config)
    updates = [[lg.StateUpdate({"items": ["x"]}, "a"), lg.StateUpdate({"items": ["y"]}, "b")]]
    asyncio.run(app.abulk_update_state(config, updates))
    state = app.get_state(config)
    assert (state.values, state.next) == ({"items": ["a", "b", "x", "y"]}, ("b", "c"))


def test_an_update_keeps_a_met_join_pending_until_its_node_runs(lg):
    graph = lg.StateGraph(Items)
    for name in "abc":
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, "a")
    graph.add_edge(lg.START, "b")
    graph.add_edge(["a", "b"], "c")
    app = graph.compile(checkpointer=lg.InMemorySaver(), interrupt_before=["c"])
    config = _thread()
    app.invoke({"items": []}, config)
    app.update_state(config, {"items": ["z"]}, as_node="c")
    # the join of a and b is still met: c is next, and runs on resume
    assert app.get_state(config).next == ("c",)
    assert app.invoke(None, config) == {"items": ["a", "b", "z", "c"]}
    assert app.get_state(config).next == ()


def test_a_join_in_a_loop_waits_again_each_round(lg):
    class Loop(TypedDict):
        items: Annotated[list, operator.add]

    graph = lg.StateGraph(Loop)
    for name in "ab":
        graph.add_node(name, _append(name))
    graph.add_node("c", _append("c"))
    graph.add_edge(lg.START, "a")
    graph.add_edge(lg.START, "b")
    graph.add_edge(["a", "b"], "c")
    graph.add_conditional_edges("c", lambda s: ["a", "b"] if s["items"].count("c") < 2 else lg.END)
    app = graph.compile(checkpointer=lg.InMemorySaver())
    assert app.invoke({"items": []}, _thread()) == {"items": ["a", "b", "c", "a", "b", "c"]}
