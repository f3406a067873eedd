"""Graph contract: checkpoints, interrupts and resume, update_state, durability, failed steps.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py); every
expected value is what LangGraph 1.2 does.
"""

import asyncio
import itertools
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest


class Items(TypedDict):
    items: Annotated[list, operator.add]


_threads = itertools.count()


def _thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": f"t{next(_threads)}"}}


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


def _history(app, config) -> list[tuple[int, str, tuple]]:
    """(step, source, next) of each checkpoint of the thread, newest first."""
    return [
        (s.metadata["step"], s.metadata["source"], s.next) for s in app.get_state_history(config)
    ]


# -- interrupt() ---------------------------------------------------------------------------


def _asking_graph(lg, calls: list[str]) -> Any:
    def ask(state):
        calls.append("ask")
        first = lg.interrupt("first?")
        second = lg.interrupt({"q": "second?"})
        return {"items": [first, second]}

    graph = lg.StateGraph(Items)
    graph.add_node("ask", ask)
    graph.add_edge(lg.START, "ask")
    return graph.compile(checkpointer=lg.InMemorySaver())


def test_interrupt_pauses_and_reports_under_the_interrupt_key(lg):
    app = _asking_graph(lg, [])
    config = _thread()
    out = app.invoke({"items": []}, config)
    assert out["items"] == []
    [pending] = out["__interrupt__"]
    assert isinstance(pending, lg.Interrupt)
    assert pending.value == "first?"
    assert isinstance(pending.id, str) and pending.id
    state = app.get_state(config)
    assert state.next == ("ask",)
    assert [i.value for i in state.interrupts] == ["first?"]
    assert [(t.name, [i.value for i in t.interrupts]) for t in state.tasks] == [("ask", ["first?"])]


def test_several_interrupts_in_one_node_resume_one_at_a_time(lg):
    calls: list[str] = []
    app = _asking_graph(lg, calls)
    config = _thread()
    app.invoke({"items": []}, config)
    out = app.invoke(lg.Command(resume="A"), config)
    assert [i.value for i in out["__interrupt__"]] == [{"q": "second?"}]
    assert out["items"] == []
    assert app.invoke(lg.Command(resume="B"), config) == {"items": ["A", "B"]}
    # the node re-runs from its start on every resume; earlier answers are replayed
    assert calls == ["ask", "ask", "ask"]
    assert app.get_state(config).next == ()


def test_parallel_interrupts_resume_with_a_map_of_interrupt_ids(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("n1", lambda s: {"items": [lg.interrupt("one")]})
    graph.add_node("n2", lambda s: {"items": [lg.interrupt("two")]})
    graph.add_edge(lg.START, "n1")
    graph.add_edge(lg.START, "n2")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    out = app.invoke({"items": []}, config)
    pending = out["__interrupt__"]
    assert sorted(i.value for i in pending) == ["one", "two"]
    assert len({i.id for i in pending}) == 2
    answers = {i.id: i.value.upper() for i in pending}
    assert app.invoke(lg.Command(resume=answers), config) == {"items": ["ONE", "TWO"]}


def test_one_resume_value_for_several_interrupts_is_an_error(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("n1", lambda s: {"items": [lg.interrupt("one")]})
    graph.add_node("n2", lambda s: {"items": [lg.interrupt("two")]})
    graph.add_edge(lg.START, "n1")
    graph.add_edge(lg.START, "n2")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    with pytest.raises(RuntimeError, match="interrupt id"):
        app.invoke(lg.Command(resume="same"), config)


def test_interrupt_without_a_checkpointer_still_stops_and_reports(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("ask", lambda s: {"items": [lg.interrupt("?")]})
    graph.add_edge(lg.START, "ask")
    # Surprising: no error without a checkpointer; the run stops and reports the
    # interrupt, which nothing can resume (invoke gives a list, stream a tuple).
    out = graph.compile().invoke({"items": []})
    assert (out["items"], [i.value for i in out["__interrupt__"]]) == ([], ["?"])
    [update] = graph.compile().stream({"items": []})
    assert isinstance(update["__interrupt__"], tuple)


def test_interrupt_inside_a_subgraph_surfaces_in_the_parent_and_resumes(lg):
    sub = lg.StateGraph(Items)
    sub.add_node("inner", lambda s: {"items": [lg.interrupt("sub?")]})
    sub.add_edge(lg.START, "inner")
    graph = lg.StateGraph(Items)
    graph.add_node("pre", _append("pre"))
    graph.add_node("sub", sub.compile())
    graph.add_edge(lg.START, "pre")
    graph.add_edge("pre", "sub")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    out = app.invoke({"items": []}, config)
    assert [i.value for i in out["__interrupt__"]] == ["sub?"]
    state = app.get_state(config, subgraphs=True)
    assert state.next == ("sub",)
    inner = state.tasks[0].state
    assert (inner.values, inner.next) == ({"items": ["pre"]}, ("inner",))
    # Surprising but LangGraph's: the subgraph returns its whole state (["pre", "yes"]),
    # which operator.add appends to the parent's ["pre"], so "pre" appears twice.
    assert app.invoke(lg.Command(resume="yes"), config) == {"items": ["pre", "pre", "yes"]}


def test_invoke_v2_returns_graph_output_with_interrupts(lg):
    app = _asking_graph(lg, [])
    out = app.invoke({"items": []}, _thread(), version="v2")
    assert isinstance(out, lg.GraphOutput)
    assert out.value == {"items": []}
    assert [i.value for i in out.interrupts] == ["first?"]


def test_invoke_v2_without_interrupts_has_empty_interrupts(lg):
    out = _linear(lg).compile().invoke({"items": []}, version="v2")
    assert isinstance(out, lg.GraphOutput)
    assert (out.value, tuple(out.interrupts)) == ({"items": ["a", "b", "c"]}, ())


# -- static interrupts ---------------------------------------------------------------------


def test_interrupt_before_at_compile_time_stops_before_the_node(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    # a static interrupt adds no __interrupt__ key to invoke's output
    assert app.invoke({"items": []}, config) == {"items": ["a"]}
    assert app.get_state(config).next == ("b",)
    assert app.invoke(None, config) == {"items": ["a", "b", "c"]}


def test_interrupt_after_at_compile_time_stops_after_the_node(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_after=["a"])
    config = _thread()
    assert app.invoke({"items": []}, config) == {"items": ["a"]}
    assert app.get_state(config).next == ("b",)
    assert app.invoke(None, config) == {"items": ["a", "b", "c"]}


def test_interrupt_before_and_after_at_call_time(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    assert app.invoke({"items": []}, config, interrupt_before=["c"]) == {"items": ["a", "b"]}
    assert app.get_state(config).next == ("c",)
    assert app.invoke(None, config) == {"items": ["a", "b", "c"]}
    other = _thread()
    assert app.invoke({"items": []}, other, interrupt_after=["b"]) == {"items": ["a", "b"]}
    assert app.get_state(other).next == ("c",)


# -- update_state --------------------------------------------------------------------------


def test_update_state_then_continue(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    app.invoke({"items": []}, config)
    new_config = app.update_state(config, {"items": ["edited"]})
    assert new_config["configurable"]["thread_id"] == config["configurable"]["thread_id"]
    assert isinstance(new_config["configurable"]["checkpoint_id"], str)
    state = app.get_state(config)
    # the update goes through the reducer, as if written by the node that ran last
    assert (state.values, state.next) == ({"items": ["a", "edited"]}, ("b",))
    assert app.invoke(None, config) == {"items": ["a", "edited", "b", "c"]}


def test_update_state_as_node_skips_that_node(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["b"])
    config = _thread()
    app.invoke({"items": []}, config)
    app.update_state(config, {"items": ["as-b"]}, as_node="b")
    state = app.get_state(config)
    assert (state.values, state.next) == ({"items": ["a", "as-b"]}, ("c",))
    assert (state.metadata["source"], state.metadata["step"]) == ("update", 2)
    assert app.invoke(None, config) == {"items": ["a", "as-b", "c"]}


# -- durability and history ----------------------------------------------------------------


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_durability_sync_and_async_keep_a_checkpoint_per_step(lg, durability):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config, durability=durability)
    assert _history(app, config) == [
        (3, "loop", ()),
        (2, "loop", ("c",)),
        (1, "loop", ("b",)),
        (0, "loop", ("a",)),
        (-1, "input", ("__start__",)),
    ]


def test_durability_exit_keeps_only_the_final_checkpoint(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config, durability="exit")
    assert _history(app, config) == [(3, "loop", ())]
    assert app.get_state(config).values == {"items": ["a", "b", "c"]}


def test_durability_exit_with_an_interrupt_saves_where_it_stopped(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _append("a"))
    graph.add_node("ask", lambda s: {"items": [lg.interrupt("?")]})
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "ask")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    out = app.invoke({"items": []}, config, durability="exit")
    assert (out["items"], [i.value for i in out["__interrupt__"]]) == (["a"], ["?"])
    assert _history(app, config) == [(1, "loop", ("ask",))]
    assert app.invoke(lg.Command(resume="R"), config, durability="exit") == {"items": ["a", "R"]}
    assert _history(app, config) == [(2, "loop", ()), (1, "loop", ("ask",))]


def test_state_snapshot_shape(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": []}, config)
    state = app.get_state(config)
    assert isinstance(state, lg.StateSnapshot)
    assert (state.values, state.next, state.tasks, tuple(state.interrupts)) == (
        {"items": ["a", "b", "c"]},
        (),
        (),
        (),
    )
    assert lg.normalise(state.config) == {
        "configurable": {"thread_id": config["configurable"]["thread_id"], "checkpoint_ns": "",
                         "checkpoint_id": "<id>"}
    }  # fmt: skip
    assert (
        state.parent_config["configurable"]["checkpoint_id"]
        != (state.config["configurable"]["checkpoint_id"])
    )
    assert (state.metadata["source"], state.metadata["step"]) == ("loop", 3)
    assert isinstance(state.created_at, str)


def test_a_second_invoke_on_a_thread_continues_its_state(lg):
    app = _linear(lg, "a").compile(checkpointer=lg.InMemorySaver())
    config = _thread()
    app.invoke({"items": ["x"]}, config)
    assert app.invoke({"items": ["y"]}, config) == {"items": ["x", "a", "y", "a"]}


# -- a failed step -------------------------------------------------------------------------


def _signalling_saver(lg, value: Any, event: threading.Event) -> Any:
    """An InMemorySaver that sets ``event`` once a task's writes holding ``value`` are saved."""

    class Signalling(lg.InMemorySaver):
        def put_writes(self, config, writes, *args, **kwargs):
            super().put_writes(config, writes, *args, **kwargs)
            if any(v == value for _, v in writes):
                event.set()

    return Signalling()


def test_node_error_leaves_the_thread_resumable_without_rerunning_siblings(lg):
    runs: list[str] = []
    failing = [True]
    saved = threading.Event()
    fine_thread: list[int] = []

    def fine(state):
        runs.append("fine")
        fine_thread.append(threading.get_ident())
        return {"items": ["fine"]}

    def shaky(state):
        runs.append("shaky")
        if failing[0]:
            # LangGraph runs the two in worker threads at once and drops a sibling still
            # running when one task fails: fail only once the sibling's write is saved.
            # An engine running a step's nodes one after another in one thread has
            # finished "fine" already and saves its write after the failure.
            if fine_thread != [threading.get_ident()]:
                saved.wait(timeout=10)
            raise RuntimeError("down")
        return {"items": ["shaky"]}

    graph = lg.StateGraph(Items)
    graph.add_node("fine", fine)
    graph.add_node("shaky", shaky)
    graph.add_node("join", _append("join"))
    graph.add_edge(lg.START, "fine")
    graph.add_edge(lg.START, "shaky")
    graph.add_edge(["fine", "shaky"], "join")
    app = graph.compile(checkpointer=_signalling_saver(lg, ["fine"], saved))
    config = _thread()
    with pytest.raises(RuntimeError, match="down"):
        app.invoke({"items": []}, config)
    state = app.get_state(config)
    # the successful sibling's write is saved and already shows in the snapshot's values
    assert (state.values, state.next) == ({"items": ["fine"]}, ("shaky",))
    assert sorted((t.name, t.error is None) for t in state.tasks) == [
        ("fine", True),
        ("shaky", False),
    ]
    assert "down" in next(t.error for t in state.tasks if t.name == "shaky")
    failing[0] = False
    assert app.invoke(None, config) == {"items": ["fine", "shaky", "join"]}
    # "fine" ran once: its saved write was reused, only the failed task ran again
    assert sorted(runs) == ["fine", "shaky", "shaky"]


# -- async ---------------------------------------------------------------------------------


def test_ainvoke_interrupt_and_resume(lg):
    async def ask(state):
        return {"items": [lg.interrupt("async?")]}

    graph = lg.StateGraph(Items)
    graph.add_node("ask", ask)
    graph.add_edge(lg.START, "ask")
    app = graph.compile(checkpointer=lg.InMemorySaver())
    config = _thread()

    async def run() -> tuple[Any, Any, Any]:
        first = await app.ainvoke({"items": []}, config)
        state = await app.aget_state(config)
        last = await app.ainvoke(lg.Command(resume="yes"), config)
        return first, state, last

    first, state, last = asyncio.run(run())
    assert [i.value for i in first["__interrupt__"]] == ["async?"]
    assert state.next == ("ask",)
    assert last == {"items": ["yes"]}


def test_ainvoke_static_interrupt_and_update_state(lg):
    app = _linear(lg).compile(checkpointer=lg.InMemorySaver(), interrupt_before=["c"])
    config = _thread()

    async def run() -> Any:
        await app.ainvoke({"items": []}, config)
        await app.aupdate_state(config, {"items": ["edit"]})
        return await app.ainvoke(None, config)

    assert asyncio.run(run()) == {"items": ["a", "b", "edit", "c"]}
