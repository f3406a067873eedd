"""Graph contract: state, reducers, edges, loops, fan-out/fan-in, Send, Command, limits.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py); every
expected value is what LangGraph 1.2 does.
"""

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest


class Items(TypedDict):
    items: Annotated[list, operator.add]


class Value(TypedDict):
    value: str


def _append(name: str) -> Any:
    return lambda state: {"items": [name]}


# -- reducers ------------------------------------------------------------------------------


def test_operator_add_reducer_concatenates_every_update(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    graph.add_node("b", _append("b"))
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", lg.END)
    assert graph.compile().invoke({"items": ["in"]}) == {"items": ["in", "a", "b"]}


def test_channel_without_reducer_keeps_the_last_value(lg):
    graph = lg.StateGraph(Value)
    graph.add_node("a", lambda s: {"value": s["value"] + "-a"})
    graph.add_node("b", lambda s: {"value": s["value"] + "-b"})
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b")
    assert graph.compile().invoke({"value": "x"}) == {"value": "x-a-b"}


def test_custom_reducer_receives_current_and_update(lg):
    seen = []

    def keep_max(current: int, update: int) -> int:
        seen.append((current, update))
        return max(current, update)

    class State(TypedDict):
        best: Annotated[int, keep_max]

    graph = lg.StateGraph(State)
    graph.add_node("a", lambda s: {"best": 3})
    graph.add_node("b", lambda s: {"best": 1})
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b")
    assert graph.compile().invoke({"best": 2}) == {"best": 3}
    # Surprising: the input is also reduced, starting from the reducer channel's
    # default - here int() == 0 - so the reducer sees (0, 2) first.
    assert seen == [(0, 2), (2, 3), (3, 1)]


def test_node_returning_none_or_empty_dict_changes_nothing(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("none", lambda s: None)
    graph.add_node("empty", lambda s: {})
    graph.add_edge(lg.START, "none")
    graph.add_edge("none", "empty")
    assert graph.compile().invoke({"items": [1]}) == {"items": [1]}


def test_add_messages_appends_and_replaces_by_id(lg):
    class State(TypedDict):
        messages: Annotated[list, lg.add_messages]

    def reply(state):
        return {"messages": [lg.AIMessage(content="hi", id="ai-1")]}

    def edit(state):
        return {"messages": [lg.AIMessage(content="hello", id="ai-1")]}

    graph = lg.StateGraph(State)
    graph.add_node("reply", reply)
    graph.add_node("edit", edit)
    graph.add_edge(lg.START, "reply")
    graph.add_edge("reply", "edit")
    out = graph.compile().invoke({"messages": [lg.HumanMessage(content="hey", id="h-1")]})
    assert [(m.type, m.content, m.id) for m in out["messages"]] == [
        ("human", "hey", "h-1"),
        ("ai", "hello", "ai-1"),
    ]


def test_add_messages_assigns_ids_and_coerces_tuples_and_dicts(lg):
    class State(TypedDict):
        messages: Annotated[list, lg.add_messages]

    graph = lg.StateGraph(State)
    graph.add_node("a", lambda s: {"messages": [("ai", "one"), {"role": "user", "content": "2"}]})
    graph.add_edge(lg.START, "a")
    out = graph.compile().invoke({"messages": "start"})
    assert [(type(m).__name__, m.content) for m in out["messages"]] == [
        ("HumanMessage", "start"),
        ("AIMessage", "one"),
        ("HumanMessage", "2"),
    ]
    assert all(isinstance(m.id, str) and m.id for m in out["messages"])


def test_remove_message_deletes_by_id(lg):
    class State(TypedDict):
        messages: Annotated[list, lg.add_messages]

    graph = lg.StateGraph(State)
    graph.add_node("trim", lambda s: {"messages": [lg.RemoveMessage(id="m1")]})
    graph.add_edge(lg.START, "trim")
    start = [lg.HumanMessage(content="a", id="m1"), lg.HumanMessage(content="b", id="m2")]
    out = graph.compile().invoke({"messages": start})
    assert [m.id for m in out["messages"]] == ["m2"]


def test_remove_message_of_unknown_id_raises(lg):
    class State(TypedDict):
        messages: Annotated[list, lg.add_messages]

    graph = lg.StateGraph(State)
    graph.add_node("trim", lambda s: {"messages": [lg.RemoveMessage(id="nope")]})
    graph.add_edge(lg.START, "trim")
    with pytest.raises(ValueError, match="nope"):
        graph.compile().invoke({"messages": [lg.HumanMessage(content="a", id="m1")]})


def test_messages_state_uses_add_messages(lg):
    graph = lg.StateGraph(lg.MessagesState)
    graph.add_node("a", lambda s: {"messages": [lg.AIMessage(content="x", id="x")]})
    graph.add_edge(lg.START, "a")
    out = graph.compile().invoke({"messages": [lg.HumanMessage(content="q", id="q")]})
    assert [m.id for m in out["messages"]] == ["q", "x"]


# -- conditional edges and loops -----------------------------------------------------------


def _router_graph(lg, path_map):
    graph = lg.StateGraph(Items)
    graph.add_node("start", _append("start"))
    graph.add_node("left", _append("left"))
    graph.add_node("right", _append("right"))
    graph.add_edge(lg.START, "start")
    router = lambda s: "go-left" if len(s["items"]) > 1 else "go-right"  # noqa: E731
    graph.add_conditional_edges("start", router, path_map)
    return graph.compile()


def test_conditional_edge_with_path_map_dict(lg):
    app = _router_graph(lg, {"go-left": "left", "go-right": "right"})
    assert app.invoke({"items": []}) == {"items": ["start", "right"]}
    assert app.invoke({"items": ["x"]}) == {"items": ["x", "start", "left"]}


def test_conditional_edge_with_path_list_returns_node_names(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    graph.add_node("b", _append("b"))
    graph.add_node("c", _append("c"))
    graph.add_edge(lg.START, "a")
    graph.add_conditional_edges("a", lambda s: "c", ["b", "c"])
    assert graph.compile().invoke({"items": []}) == {"items": ["a", "c"]}


def test_router_returning_a_list_runs_every_target_in_one_step(lg):
    graph = lg.StateGraph(Items)
    for name in ("a", "b", "c"):
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, "a")
    graph.add_conditional_edges("a", lambda s: ["c", "b"])
    # the writes of one step are applied in node-name order, not in the router's order
    assert graph.compile().invoke({"items": []}) == {"items": ["a", "b", "c"]}


def test_router_returning_end_finishes(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    graph.add_edge(lg.START, "a")
    graph.add_conditional_edges("a", lambda s: lg.END)
    assert graph.compile().invoke({"items": []}) == {"items": ["a"]}


def test_loop_runs_until_the_stop_condition(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("step", lambda s: {"items": [len(s["items"])]})
    graph.add_edge(lg.START, "step")
    graph.add_conditional_edges("step", lambda s: lg.END if len(s["items"]) >= 4 else "step")
    assert graph.compile().invoke({"items": []}) == {"items": [0, 1, 2, 3]}


def test_recursion_limit_raises_graph_recursion_error(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("step", _append("x"))
    graph.add_edge(lg.START, "step")
    graph.add_edge("step", "step")
    with pytest.raises(lg.GraphRecursionError):
        graph.compile().invoke({"items": []}, {"recursion_limit": 5})


def test_recursion_limit_counts_supersteps(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("step", lambda s: {"items": [1]})
    graph.add_edge(lg.START, "step")
    graph.add_conditional_edges("step", lambda s: lg.END if len(s["items"]) >= 3 else "step")
    # Surprising: the step that applies the input counts too, so three runs of "step"
    # need a limit of four; a limit of three raises.
    assert graph.compile().invoke({"items": []}, {"recursion_limit": 4}) == {"items": [1, 1, 1]}
    with pytest.raises(lg.GraphRecursionError):
        graph.compile().invoke({"items": []}, {"recursion_limit": 3})


# -- fan-out / fan-in ----------------------------------------------------------------------


def _uneven_fan(lg, join_on_list: bool):
    graph = lg.StateGraph(Items)
    for name in ("fork", "short", "long1", "long2", "join"):
        graph.add_node(name, _append(name))
    graph.add_edge(lg.START, "fork")
    graph.add_edge("fork", "short")
    graph.add_edge("fork", "long1")
    graph.add_edge("long1", "long2")
    if join_on_list:
        graph.add_edge(["short", "long2"], "join")
    else:
        graph.add_edge("short", "join")
        graph.add_edge("long2", "join")
    return graph.compile()


def test_join_on_a_list_of_sources_waits_for_every_branch(lg):
    out = _uneven_fan(lg, join_on_list=True).invoke({"items": []})
    assert out == {"items": ["fork", "long1", "short", "long2", "join"]}


def test_join_on_separate_edges_runs_once_per_arrival(lg):
    out = _uneven_fan(lg, join_on_list=False).invoke({"items": []})
    assert out == {"items": ["fork", "long1", "short", "join", "long2", "join"]}


def test_parallel_branches_see_the_same_state(lg):
    seen = {}

    def reader(name):
        def node(state):
            seen[name] = list(state["items"])
            return {"items": [name]}

        return node

    graph = lg.StateGraph(Items)
    graph.add_node("fork", _append("fork"))
    graph.add_node("b", reader("b"))
    graph.add_node("a", reader("a"))
    graph.add_edge(lg.START, "fork")
    graph.add_edge("fork", "a")
    graph.add_edge("fork", "b")
    assert graph.compile().invoke({"items": []}) == {"items": ["fork", "a", "b"]}
    assert seen == {"a": ["fork"], "b": ["fork"]}


def test_concurrent_last_value_writes_raise_invalid_update_error(lg):
    graph = lg.StateGraph(Value)
    graph.add_node("a", lambda s: {"value": "a"})
    graph.add_node("b", lambda s: {"value": "b"})
    graph.add_edge(lg.START, "a")
    graph.add_edge(lg.START, "b")
    with pytest.raises(lg.InvalidUpdateError):
        graph.compile().invoke({"value": ""})


def test_add_sequence_chains_nodes(lg):
    graph = lg.StateGraph(Items)
    graph.add_sequence([("one", _append("1")), ("two", _append("2"))])
    graph.add_edge(lg.START, "one")
    assert graph.compile().invoke({"items": []}) == {"items": ["1", "2"]}


# -- schemas and context -------------------------------------------------------------------


class Overall(TypedDict):
    question: str
    scratch: str
    answer: str


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


def test_input_and_output_schemas_filter_the_graph_io(lg):
    seen = {}

    def think(state):
        seen.update(state)
        return {"scratch": "thinking about " + state["question"]}

    graph = lg.StateGraph(Overall, input_schema=In, output_schema=Out)
    graph.add_node("think", think)
    graph.add_node("answer", lambda s: {"answer": s["scratch"].upper()})
    graph.add_edge(lg.START, "think")
    graph.add_edge("think", "answer")
    out = graph.compile().invoke({"question": "q", "scratch": "ignored"})
    assert out == {"answer": "THINKING ABOUT Q"}
    # the node's input is its own schema (the state schema) read from the channels
    assert seen == {"question": "q"}


def test_node_with_its_own_input_schema_reads_only_those_keys(lg):
    seen = []

    def node(state: In):
        seen.append(state)
        return {"answer": "a"}

    graph = lg.StateGraph(Overall)
    graph.add_node("node", node)
    graph.add_edge(lg.START, "node")
    out = graph.compile().invoke({"question": "q", "scratch": "s"})
    assert seen == [{"question": "q"}]
    assert out == {"question": "q", "scratch": "s", "answer": "a"}


def test_context_schema_reaches_nodes_through_runtime(lg):
    class Ctx(TypedDict):
        user: str

    def node(state, runtime):
        return {"value": f"hello {runtime.context['user']}"}

    graph = lg.StateGraph(Value, context_schema=Ctx)
    graph.add_node("node", node)
    graph.add_edge(lg.START, "node")
    assert graph.compile().invoke({"value": ""}, context={"user": "ann"}) == {"value": "hello ann"}


def test_config_is_injected_into_nodes_that_ask(lg):
    def node(state, config):
        return {"value": config["configurable"]["who"]}

    graph = lg.StateGraph(Value)
    graph.add_node("node", node)
    graph.add_edge(lg.START, "node")
    out = graph.compile().invoke({"value": ""}, {"configurable": {"who": "cfg"}})
    assert out == {"value": "cfg"}


def test_pydantic_state_schema_round_trips(lg):
    from pydantic import BaseModel

    class State(BaseModel):
        count: int = 0
        log: Annotated[list, operator.add] = []

    graph = lg.StateGraph(State)
    graph.add_node("inc", lambda s: {"count": s.count + 1, "log": ["inc"]})
    graph.add_edge(lg.START, "inc")
    assert graph.compile().invoke({"count": 1}) == {"count": 2, "log": ["inc"]}


def test_a_state_object_writes_its_set_and_non_none_fields(lg):
    from pydantic import BaseModel

    class State(BaseModel):
        log: Annotated[list, operator.add] = []
        count: int = 0
        note: str | None = None
        limit: int = 5

    graph = lg.StateGraph(State)
    graph.add_node("inc", lambda s: State(count=s.count + 1, note=None))
    graph.add_edge(lg.START, "inc")
    app = graph.compile()
    # defaults that are not None are written too; a None default only when set
    assert list(app.stream(State(limit=7), stream_mode="values")) == [
        {"log": [], "count": 0, "limit": 7},
        {"log": [], "count": 1, "note": None, "limit": 5},
    ]
    updates = list(app.stream(State(), stream_mode="updates"))
    assert updates == [{"inc": {"log": [], "count": 1, "note": None, "limit": 5}}]
    kept = graph.compile(checkpointer=lg.InMemorySaver())  # the input checkpoint holds it
    config = {"configurable": {"thread_id": "state-object"}}
    done = {"log": ["in"], "count": 1, "note": None, "limit": 5}
    assert kept.invoke(State(log=["in"]), config) == done
    assert kept.get_state(config).values == done


# -- errors --------------------------------------------------------------------------------


def test_node_exception_propagates_unchanged(lg):
    class Boom(RuntimeError):
        pass

    def fail(state):
        raise Boom("node failed")

    graph = lg.StateGraph(Items)
    graph.add_node("fail", fail)
    graph.add_edge(lg.START, "fail")
    with pytest.raises(Boom, match="node failed"):
        graph.compile().invoke({"items": []})


def test_update_to_an_unknown_key_is_an_invalid_update(lg):
    graph = lg.StateGraph(Value)
    graph.add_node("a", lambda s: "not a dict")
    graph.add_edge(lg.START, "a")
    with pytest.raises(lg.InvalidUpdateError):
        graph.compile().invoke({"value": ""})


def test_unknown_keys_in_input_and_updates_are_ignored(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", lambda s: {"bogus": 1})
    graph.add_edge(lg.START, "a")
    # Surprising: neither the input's nor a node's unknown key is an error
    assert graph.compile().invoke({"items": [], "other": 2}) == {"items": []}


def test_pydantic_state_validates_the_input(lg):
    from pydantic import BaseModel, ValidationError

    class State(BaseModel):
        count: int = 0

    graph = lg.StateGraph(State)
    graph.add_node("inc", lambda s: {"count": s.count + 1})
    graph.add_edge(lg.START, "inc")
    app = graph.compile()
    assert app.invoke(State(count=5)) == {"count": 6}
    with pytest.raises(ValidationError):
        app.invoke({"count": "not a number"})


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda g, lg: None, "entrypoint"),
        (lambda g, lg: (g.add_edge(lg.START, "a"), g.add_edge("a", "zz")), "zz"),
    ],
    ids=["no edge from START", "edge to an unknown node"],
)
def test_compile_refuses_an_incomplete_graph(lg, build, message):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    build(graph, lg)
    with pytest.raises(ValueError, match=message):
        graph.compile()


def test_add_node_refuses_duplicate_and_reserved_names(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    with pytest.raises(ValueError, match="already present"):
        graph.add_node("a", _append("a"))
    with pytest.raises(ValueError, match="reserved"):
        graph.add_node("__start__", _append("x"))


# -- async ---------------------------------------------------------------------------------


def test_ainvoke_runs_async_nodes_and_fan_out(lg):
    async def slow(state):
        await asyncio.sleep(0)
        return {"items": ["slow"]}

    graph = lg.StateGraph(Items)
    graph.add_node("fork", _append("fork"))
    graph.add_node("slow", slow)
    graph.add_node("fast", _append("fast"))
    graph.add_node("join", _append("join"))
    graph.add_edge(lg.START, "fork")
    graph.add_edge("fork", "slow")
    graph.add_edge("fork", "fast")
    graph.add_edge(["slow", "fast"], "join")
    out = asyncio.run(graph.compile().ainvoke({"items": []}))
    assert out == {"items": ["fork", "fast", "slow", "join"]}


def test_ainvoke_propagates_node_errors(lg):
    async def fail(state):
        raise KeyError("missing")

    graph = lg.StateGraph(Items)
    graph.add_node("fail", fail)
    graph.add_edge(lg.START, "fail")
    with pytest.raises(KeyError):
        asyncio.run(graph.compile().ainvoke({"items": []}))
