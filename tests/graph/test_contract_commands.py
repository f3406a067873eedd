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
