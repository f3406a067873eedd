"""Graph contract: stream modes alone and together, subgraph namespaces, v2 parts, output_keys.

The messages mode has its own module, test_contract_messages.py.

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


def test_stream_tasks_triggers_of_a_join_and_a_send(lg):
    graph = lg.StateGraph(State)
    for name in ("p", "q", "join"):
        graph.add_node(name, _append(name))
    graph.add_node("w", lambda arg: {"items": [arg["v"]]})
    graph.add_edge(lg.START, "p")
    graph.add_edge(lg.START, "q")
    graph.add_edge(["p", "q"], "join")
    graph.add_conditional_edges("join", lambda s: [lg.Send("w", {"v": 1})])
    parts = graph.compile().stream({"items": []}, stream_mode="tasks")
    starts = [(p["name"], p["triggers"], p["input"]) for p in parts if "triggers" in p]
    assert sorted(starts[:2]) == [
        ("p", ("branch:to:p",), {"items": []}),
        ("q", ("branch:to:q",), {"items": []}),
    ]
    # a join lists every channel that can trigger it; a Send's task is a "push"
    assert starts[2:] == [
        ("join", ("branch:to:join", "join:p+q:join"), {"items": ["p", "q"]}),
        ("w", ("__pregel_push",), {"v": 1}),
    ]


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


class _Ask(TypedDict):
    question: str


class _Answer(TypedDict):
    answer: str


class _Whole(TypedDict):
    question: str
    answer: str
    notes: str


class _Draft(TypedDict):
    draft: str


def test_values_stream_every_channel_while_invoke_returns_the_output_schema(lg):
    graph = lg.StateGraph(_Whole, input_schema=_Ask, output_schema=_Answer)

    def draft(state: _Whole) -> dict[str, Any]:
        return {"draft": state["question"] + "?", "notes": "n"}

    def answer(state: _Draft) -> dict[str, Any]:  # reads a channel of its own schema
        return {"answer": state["draft"] + "!"}

    graph.add_node("draft", draft)
    graph.add_node("answer", answer)
    graph.add_edge(lg.START, "draft")
    graph.add_edge("draft", "answer")
    app = graph.compile()
    assert app.invoke({"question": "q"}) == {"answer": "q?!"}
    assert list(app.stream({"question": "q"}, stream_mode="values")) == [
        {"question": "q"},
        {"question": "q", "notes": "n", "draft": "q?"},
        {"question": "q", "answer": "q?!", "notes": "n", "draft": "q?"},
    ]


class _XY(TypedDict, total=False):
    x: int
    y: int


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("x", [{"a": 1}, {"b": None}, {"c": 3}, {"d": None}]),
        (["x"], [{"a": {"x": 1}}, {"b": None}, {"c": {"x": 3}}, {"d": None}]),
        (["x", "y"], [{"a": {"x": 1}}, {"b": {"y": 2}}, {"c": {"x": 3, "y": 4}}, {"d": None}]),
    ],
)
def test_output_keys_narrow_each_update(lg, keys, expected):
    graph = lg.StateGraph(_XY)
    graph.add_node("a", lambda s: {"x": 1})
    graph.add_node("b", lambda s: {"y": 2})
    graph.add_node("c", lambda s: {"x": 3, "y": 4})
    graph.add_node("d", lambda s: None)
    for src, dst in [(lg.START, "a"), ("a", "b"), ("b", "c"), ("c", "d"), ("d", lg.END)]:
        graph.add_edge(src, dst)
    app = graph.compile()
    assert list(app.stream({"x": 0}, stream_mode="updates", output_keys=keys)) == expected


@pytest.mark.parametrize("mode", ["values", "updates"])
def test_astream_matches_stream(lg, mode):
    app = _with_subgraph(lg)

    async def run() -> list[Any]:
        return [part async for part in app.astream({"items": []}, stream_mode=mode)]

    assert asyncio.run(run()) == list(app.stream({"items": []}, stream_mode=mode))
