"""Graph contract: Send, Command (update, goto, PARENT, with resume) and Runnables as nodes.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py); every
expected value is what LangGraph 1.2 does.
"""

import asyncio
import itertools
import operator
from typing import Annotated, Any, TypedDict


class Items(TypedDict):
    items: Annotated[list, operator.add]


def _append(name: str) -> Any:
    return lambda state: {"items": [name]}


# -- Send and Command ----------------------------------------------------------------------


class MapReduce(TypedDict):
    subjects: list
    results: Annotated[list, operator.add]


def test_send_maps_each_item_to_a_node_and_reduces(lg):
    graph = lg.StateGraph(MapReduce)
    graph.add_node("work", lambda arg: {"results": [arg["subject"].upper()]})
    graph.add_node("done", lambda s: {"results": ["done"]})
    graph.add_conditional_edges(
        lg.START, lambda s: [lg.Send("work", {"subject": x}) for x in s["subjects"]]
    )
    graph.add_edge("work", "done")
    out = graph.compile().invoke({"subjects": ["a", "b", "c"]})
    # the Send writes land in send order; "done" runs once after all of them
    assert out == {"subjects": ["a", "b", "c"], "results": ["A", "B", "C", "done"]}


def test_send_argument_is_the_node_input_not_the_state(lg):
    seen = []
    graph = lg.StateGraph(MapReduce)
    graph.add_node("work", lambda arg: seen.append(arg) or {})
    graph.add_conditional_edges(lg.START, lambda s: [lg.Send("work", {"n": 1})])
    graph.compile().invoke({"subjects": []})
    assert seen == [{"n": 1}]


def test_command_from_a_node_updates_and_goes_to(lg):
    def decide(state):
        return lg.Command(update={"items": ["decided"]}, goto="b")

    graph = lg.StateGraph(Items)
    graph.add_node("decide", decide, destinations=("a", "b"))
    graph.add_node("a", _append("a"))
    graph.add_node("b", _append("b"))
    graph.add_edge(lg.START, "decide")
    assert graph.compile().invoke({"items": []}) == {"items": ["decided", "b"]}


def test_command_goto_a_list_and_send(lg):
    def decide(state):
        return lg.Command(goto=["a", lg.Send("b", {"items": ["sent"]})])

    graph = lg.StateGraph(Items)
    graph.add_node("decide", decide)
    graph.add_node("a", _append("a"))
    graph.add_node("b", lambda arg: {"items": arg["items"] + ["b"]})
    graph.add_edge(lg.START, "decide")
    assert graph.compile().invoke({"items": []}) == {"items": ["a", "sent", "b"]}


def test_command_parent_goes_to_a_node_of_the_parent_graph(lg):
    sub = lg.StateGraph(Items)
    sub.add_node(
        "inner",
        lambda s: lg.Command(graph=lg.Command.PARENT, goto="after", update={"items": ["inner"]}),
    )
    sub.add_edge(lg.START, "inner")

    graph = lg.StateGraph(Items)
    graph.add_node("sub", sub.compile(), destinations=("after",))
    graph.add_node("after", _append("after"))
    graph.add_node("never", _append("never"))
    graph.add_edge(lg.START, "sub")
    graph.add_edge("sub", "never")
    out = graph.compile().invoke({"items": []})
    # Surprising: the subgraph node still counts as finished, so its static edge to
    # "never" fires as well as the Command's goto (both run in the next step).
    assert out == {"items": ["inner", "after", "never"]}


def test_stream_updates_show_a_command_update_and_each_send(lg):
    def decide(state):
        sends = [lg.Send("work", {"items": [1]}), lg.Send("work", {"items": [2]})]
        return lg.Command(update={"items": ["d"]}, goto=sends)

    graph = lg.StateGraph(Items)
    graph.add_node("decide", decide)
    graph.add_node("work", lambda arg: {"items": [arg["items"][0] * 10]})
    graph.add_edge(lg.START, "decide")
    app = graph.compile()
    assert list(app.stream({"items": []})) == [
        {"decide": {"items": ["d"]}},
        {"work": {"items": [10]}},
        {"work": {"items": [20]}},
    ]
    assert app.invoke({"items": []}) == {"items": ["d", 10, 20]}


def test_command_goto_end_finishes(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", lambda s: lg.Command(goto=lg.END, update={"items": ["a"]}))
    graph.add_node("b", _append("b"))
    graph.add_edge(lg.START, "a")
    assert graph.compile().invoke({"items": []}) == {"items": ["a"]}


_threads = itertools.count()


def test_command_resume_with_update_applies_the_update_first(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("ask", lambda s: {"items": [lg.interrupt("?"), *s["items"]]})
    graph.add_edge(lg.START, "ask")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = {"configurable": {"thread_id": f"c{next(_threads)}"}}
    app.invoke({"items": []}, config)
    # the node re-runs on a state that already holds the update
    out = app.invoke(lg.Command(resume="R", update={"items": ["u"]}), config)
    assert out == {"items": ["u", "R", "u"]}


# -- a Command as the input of a new thread (LangGraph's surprising rule, matched) ----------


class Tagged(TypedDict):
    items: Annotated[list, operator.add]
    x: str


def _a_then_b(lg: Any, checkpointer: Any = None) -> Any:
    graph = lg.StateGraph(Tagged)
    graph.add_node("a", _append("a"))
    graph.add_node("b", _append("b"))
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b")
    return graph.compile(checkpointer=checkpointer)


def _new_thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": f"new{next(_threads)}"}}


def test_a_command_update_on_a_new_thread_applies_twice_and_runs_the_graph(lg):
    for saver in (None, lg.InMemorySaver()):
        app = _a_then_b(lg, saver)
        config = _new_thread()
        chunks = list(
            app.stream(lg.Command(update={"items": ["u"], "x": "1"}), config, stream_mode="values")
        )
        assert chunks == [
            {"items": ["u", "u"], "x": "1"},
            {"items": ["u", "u", "a"], "x": "1"},
            {"items": ["u", "u", "a", "b"], "x": "1"},
        ]
        if saver is not None:
            assert len(list(app.get_state_history(config))) == 4


def test_a_command_goto_on_a_new_thread_also_takes_the_start_edges(lg):
    app = _a_then_b(lg, lg.InMemorySaver())
    chunks = list(
        app.stream(
            lg.Command(update={"items": ["u"]}, goto="b"), _new_thread(), stream_mode="updates"
        )
    )
    # a (the START edge) and b (the goto) run in the first step, then b again after a
    assert chunks == [{"a": {"items": ["a"]}}, {"b": {"items": ["b"]}}, {"b": {"items": ["b"]}}]
    out = _a_then_b(lg).invoke(lg.Command(goto="b"))
    assert out == {"items": ["a", "b", "b"]}


def test_a_command_resume_on_a_new_thread_runs_the_graph_and_needs_a_saver(lg):
    import pytest

    app = _a_then_b(lg, lg.InMemorySaver())
    assert app.invoke(lg.Command(resume="r"), _new_thread()) == {"items": ["a", "b"]}
    with pytest.raises(RuntimeError, match="without checkpointer"):
        _a_then_b(lg).invoke(lg.Command(resume="r"))


def test_a_runnable_is_a_node(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("r", lg.RunnableLambda(lambda s: {"items": [len(s["items"])]}))
    graph.add_edge(lg.START, "r")
    assert graph.compile().invoke({"items": ["x"]}) == {"items": ["x", 1]}


def test_ainvoke_send_and_command(lg):
    async def work(arg):
        return {"results": [arg["subject"] * 2]}

    graph = lg.StateGraph(MapReduce)
    graph.add_node("work", work)
    graph.add_conditional_edges(
        lg.START, lambda s: [lg.Send("work", {"subject": x}) for x in s["subjects"]]
    )
    out = asyncio.run(graph.compile().ainvoke({"subjects": ["a", "b"]}))
    assert out == {"subjects": ["a", "b"], "results": ["aa", "bb"]}
