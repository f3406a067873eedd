"""The same graphs built through runwire.graph and LangGraph give the same streams.

Each case builds its graph from a table of public names, once per implementation, and
compares every chunk with ids and timestamps blanked out.
"""

import operator
import re
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")


def _names(kind: str) -> SimpleNamespace:
    if kind == "runwire":
        import runwire.graph as g
        from runwire.graph.checkpoint import InMemorySaver

        return SimpleNamespace(
            StateGraph=g.StateGraph, START=g.START, END=g.END, Send=g.Send,
            Command=g.Command, interrupt=g.interrupt, writer=g.get_stream_writer,
            Saver=InMemorySaver,
        )  # fmt: skip
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.config import get_stream_writer
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command, Send, interrupt

    return SimpleNamespace(
        StateGraph=StateGraph, START=START, END=END, Send=Send, Command=Command,
        interrupt=interrupt, writer=get_stream_writer, Saver=InMemorySaver,
    )  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _UUID.sub("<id>", value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if hasattr(value, "value") and hasattr(value, "id"):  # an Interrupt
        return ("Interrupt", _plain(value.value))
    return value


class State(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def _fan(lg: SimpleNamespace) -> Any:
    graph = lg.StateGraph(State)
    graph.add_node("a", lambda s: {"log": ["a"]})
    graph.add_node("b1", lambda s: {"log": ["b1"]})
    graph.add_node("b2", lambda s: {"log": ["b2"]})
    graph.add_node("c", lambda s: {"log": ["c"]})
    graph.add_node("join", lambda s: {"n": len(s["log"])})
    graph.add_edge(lg.START, "a")
    graph.add_edge(lg.START, "c")
    graph.add_edge("a", "b1")
    graph.add_edge("b1", "b2")
    graph.add_edge(["b2", "c"], "join")
    return graph.compile()


def _map_reduce(lg: SimpleNamespace) -> Any:
    def square(item: int) -> dict[str, Any]:
        lg.writer()(f"squaring {item}")
        return {"log": [item * item]}

    graph = lg.StateGraph(State)
    graph.add_node("count", lambda s: {"n": s["n"] - 1})
    graph.add_node("square", square)
    graph.add_edge(lg.START, "count")
    graph.add_conditional_edges(
        "count", lambda s: [lg.Send("square", i) for i in range(s["n"])] or lg.END
    )
    graph.add_edge("square", "count")
    return graph.compile()


def _command(lg: SimpleNamespace) -> Any:
    def decide(state: State) -> Any:
        target = "big" if state["n"] > 1 else "small"
        return lg.Command(update={"log": ["decided"]}, goto=target)

    graph = lg.StateGraph(State)
    graph.add_node("decide", decide)
    graph.add_node("big", lambda s: {"log": ["big"]})
    graph.add_node("small", lambda s: {"log": ["small"]})
    graph.add_edge(lg.START, "decide")
    return graph.compile()


def _subgraph(lg: SimpleNamespace) -> Any:
    sub = lg.StateGraph(State)
    sub.add_node("inner", lambda s: {"log": ["inner"], "n": s["n"] + 1})
    sub.add_edge(lg.START, "inner")
    graph = lg.StateGraph(State)
    graph.add_node("sub", sub.compile())
    graph.add_node("after", lambda s: {"log": ["after"]})
    graph.add_edge(lg.START, "sub")
    graph.add_edge("sub", "after")
    return graph.compile()


_MODES = ["values", "updates", "custom", "tasks"]


@pytest.mark.parametrize("build", [_fan, _map_reduce, _command, _subgraph])
@pytest.mark.parametrize("subgraphs", [False, True])
def test_streams_match_langgraph(build, subgraphs):
    outputs = []
    for kind in ("runwire", "langgraph"):
        app = build(_names(kind))
        chunks = list(app.stream({"n": 3, "log": []}, stream_mode=_MODES, subgraphs=subgraphs))
        outputs.append((_plain(chunks), _plain(app.invoke({"n": 3, "log": []}))))
    assert outputs[0] == outputs[1]


def _asking(lg: SimpleNamespace) -> Any:
    def ask(state: State) -> dict[str, Any]:
        first = lg.interrupt("first?")
        second = lg.interrupt("second?")
        return {"log": [first, second]}

    graph = lg.StateGraph(State)
    graph.add_node("ask", ask)
    graph.add_node("p", lambda s: {"log": [lg.interrupt("p?")]})
    graph.add_edge(lg.START, "ask")
    graph.add_edge(lg.START, "p")
    return graph.compile(checkpointer=lg.Saver())


def test_interrupt_and_resume_match_langgraph():
    outputs = []
    for kind in ("runwire", "langgraph"):
        lg = _names(kind)
        app = _asking(lg)
        config = {"configurable": {"thread_id": "t"}}
        seen = [_plain(app.invoke({"n": 0, "log": []}, config))]
        for _ in range(3):
            pending = app.get_state(config).interrupts
            answers = {i.id: f"answer to {i.value}" for i in pending}
            seen.append(_plain(list(app.stream(lg.Command(resume=answers), config, version="v2"))))
        history = [
            (s.metadata["step"], s.metadata["source"], s.next)
            for s in app.get_state_history(config)
        ]
        outputs.append((seen, history))
    assert outputs[0] == outputs[1]


def _no_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _no_timestamps(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list | tuple):
        return type(value)(_no_timestamps(v) for v in value)
    return value


def _interrupting_subgraph(lg: SimpleNamespace) -> Any:
    sub = lg.StateGraph(State)
    sub.add_node("inner", lambda s: {"log": [lg.interrupt("sub?")]})
    sub.add_node("inner2", lambda s: {"log": ["inner2"]})
    sub.add_edge(lg.START, "inner")
    sub.add_edge("inner", "inner2")
    graph = lg.StateGraph(State)
    graph.add_node("pre", lambda s: {"log": ["pre"]})
    graph.add_node("sub", sub.compile())
    graph.add_node("post", lambda s: {"log": ["post"]})
    graph.add_edge(lg.START, "pre")
    graph.add_edge("pre", "sub")
    graph.add_edge("sub", "post")
    return graph.compile(checkpointer=lg.Saver())


def test_subgraph_interrupt_streams_and_history_match_langgraph():
    outputs = []
    for kind in ("runwire", "langgraph"):
        lg = _names(kind)
        app = _interrupting_subgraph(lg)
        config = {"configurable": {"thread_id": "s"}}
        modes = ["updates", "values"]
        first = list(app.stream({"n": 0, "log": []}, config, stream_mode=modes, subgraphs=True))
        resume = lg.Command(resume="ans")
        second = list(app.stream(resume, config, stream_mode=modes, subgraphs=True))
        history = [
            (s.metadata["step"], s.metadata["source"], s.next)
            for s in app.get_state_history(config)
        ]
        outputs.append(_plain((first, second, history)))
    assert outputs[0] == outputs[1]


def test_checkpoints_and_debug_modes_match_langgraph():
    outputs = []
    for kind in ("runwire", "langgraph"):
        app = _interrupting_subgraph(_names(kind))
        config = {"configurable": {"thread_id": "d"}}
        chunks = list(app.stream({"n": 0, "log": []}, config, stream_mode=["checkpoints", "debug"]))
        outputs.append(_no_timestamps(_plain(chunks)))
    assert outputs[0] == outputs[1]


def _ask_first(lg: SimpleNamespace, name: str, node: Any) -> Any:
    """``node`` that first asks ``"<name>?"`` and appends the answer to its log update."""

    def ask(state: Any) -> Any:
        answer = lg.interrupt(f"{name}?")
        out = node(state)
        return {**out, "log": [*out.get("log", []), answer]} if isinstance(out, dict) else out

    return ask


def _random_graph(
    lg: SimpleNamespace, seed: int, asking: Any = (), before: Any = None, saver: Any = None
) -> Any:
    """A random graph of plain, None-returning, Command and Send-fanning nodes; the nodes
    named in ``asking`` interrupt first."""
    import random

    rnd = random.Random(seed)
    names = [f"n{i}" for i in range(rnd.randint(2, 6))]
    graph = lg.StateGraph(State)
    add_node = graph.add_node

    def add(name: str, node: Any) -> None:
        add_node(name, _ask_first(lg, name, node) if name in asking else node)

    graph.add_node = add
    for i, name in enumerate(names):
        kind, later = rnd.choice(["plain", "plain", "command", "none"]), names[i + 1 :]
        if kind == "command" and later:
            target = rnd.choice(later)
            graph.add_node(
                name, lambda s, n=name, t=target: lg.Command(update={"log": [n]}, goto=t)
            )
        elif kind == "none":
            graph.add_node(name, lambda s: None)
        else:
            graph.add_node(name, lambda s, n=name: {"log": [n], "n": len(s["log"])})
    graph.add_node("worker", lambda arg: {"log": [f"w{arg}"]})
    graph.add_edge(lg.START, names[0])
    for i, name in enumerate(names[:-1]):
        later, roll = names[i + 1 :], rnd.random()
        if roll < 0.4:
            graph.add_edge(name, rnd.choice(later))
        elif roll < 0.6:
            graph.add_edge(name, rnd.choice(later))
            graph.add_edge(name, rnd.choice(later))
        elif roll < 0.8:
            ends = [*later, lg.END]
            pick = rnd.choice(ends)
            graph.add_conditional_edges(
                name, lambda s, p=pick: p if len(s["log"]) < 6 else lg.END, ends
            )
        else:
            count = rnd.randint(0, 3)
            graph.add_conditional_edges(
                name, lambda s, k=count: [lg.Send("worker", j) for j in range(k)]
            )
    if len(names) >= 3 and rnd.random() < 0.5:
        graph.add_edge([names[1], names[2]], names[-1])
    return graph.compile(checkpointer=saver, interrupt_before=before)


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_match_langgraph(seed):
    outputs = []
    for kind in ("runwire", "langgraph"):
        app = _random_graph(_names(kind), seed)
        config = {"recursion_limit": 12}
        try:
            result: Any = (
                app.invoke({"n": 0, "log": []}, config),
                list(app.stream({"n": 0, "log": []}, config, stream_mode=["updates", "values"])),
            )
        except Exception as exc:  # the same error on both sides counts as a match
            result = type(exc).__name__
        outputs.append(_plain(result))
    assert outputs[0] == outputs[1]


def _updates_unordered(chunks: list[Any]) -> list[Any]:
    """Updates between two values chunks as a sorted group: LangGraph runs a resumed step's
    nodes in threads, so their order there is not fixed."""
    out: list[Any] = []
    group: list[str] = []
    for chunk in chunks:
        if chunk[0] == "updates":
            group.append(repr(chunk))
        else:
            out += [sorted(group), chunk]
            group = []
    return [*out, sorted(group)]


def _session(lg: SimpleNamespace, seed: int) -> list[Any]:
    """Run a random graph with interrupts to its end, resuming every pause; the outputs,
    streams and the thread's history."""
    import random

    rnd = random.Random(seed * 7 + 1)
    names = [f"n{i}" for i in range(random.Random(seed).randint(2, 6))]
    asking = set(rnd.sample(names, min(len(names), rnd.randint(1, 2))))
    before = [rnd.choice(names)] if rnd.random() < 0.3 else None
    app = _random_graph(lg, seed, asking, before, lg.Saver())
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": 15}
    seen: list[Any] = []
    try:
        seen.append(_plain(app.invoke({"n": 0, "log": []}, config)))
        for _ in range(6):
            state = app.get_state(config)
            if not state.next:
                break
            answers = {i.id: f"a:{i.value}" for i in state.interrupts}
            command = lg.Command(resume=answers) if answers else None
            chunks = list(app.stream(command, config, stream_mode=["updates", "values"]))
            seen.append(_updates_unordered(_plain(chunks)))
        history = app.get_state_history(config)
        seen.append(_plain([(s.metadata["step"], s.next, s.values) for s in history]))
    except Exception as exc:  # the same error on both sides counts as a match
        seen.append(type(exc).__name__)
    return seen


@pytest.mark.parametrize("seed", range(30))
def test_random_interrupt_sessions_match_langgraph(seed):
    assert _session(_names("runwire"), seed) == _session(_names("langgraph"), seed)
