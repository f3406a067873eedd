"""Async runs use the saver's async methods only (so a SQLite saver never blocks the loop)."""

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from runwire.graph import END, START, Command, StateGraph, interrupt
from runwire.graph.checkpoint import InMemorySaver
from runwire.graph.checkpoint.base import BaseCheckpointSaver
from runwire.graph.checkpoint.sqlite import SqliteSaver


class AsyncOnlySaver(BaseCheckpointSaver):
    """An in-memory saver whose sync methods fail: a test that only async ones are used."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = InMemorySaver()
        self.calls: list[str] = []

    def _sync(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a sync saver method was called in an async run")

    get_tuple = put = put_writes = list = delete_thread = _sync  # type: ignore[assignment]

    async def aget_tuple(self, config: Any) -> Any:
        self.calls.append("aget_tuple")
        return self.inner.get_tuple(config)

    async def alist(self, config: Any, **kwargs: Any) -> Any:
        self.calls.append("alist")
        for item in self.inner.list(config, **kwargs):
            yield item

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, versions: Any) -> Any:
        self.calls.append("aput")
        return self.inner.put(config, checkpoint, metadata, versions)

    async def aput_writes(self, config: Any, writes: Any, task_id: str, path: str = "") -> None:
        self.calls.append("aput_writes")
        self.inner.put_writes(config, writes, task_id, path)


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _graph(checkpointer: Any) -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"log": [f"asked:{interrupt('name?')}"]}

    graph = StateGraph(State)
    graph.add_node("first", lambda s: {"log": ["first"]})
    graph.add_node("ask", ask)
    graph.add_node("last", lambda s: {"log": ["last"]})
    graph.add_edge(START, "first")
    graph.add_edge("first", "ask")
    graph.add_edge("ask", "last")
    graph.add_edge("last", END)
    return graph.compile(checkpointer=checkpointer)


def _thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


async def _session(app: Any, config: dict[str, Any]) -> dict[str, Any]:
    paused = await app.ainvoke({"log": ["in"]}, config)
    state = await app.aget_state(config)
    resumed = [c async for c in app.astream(Command(resume="ann"), config)]
    await app.aupdate_state(config, {"log": ["edited"]})
    history = [s async for s in app.aget_state_history(config)]
    final = await app.aget_state(config)
    return {
        "paused": paused["log"],
        "next": state.next,
        "resumed": resumed,
        "final": final.values["log"],
        "history": [(s.metadata["source"], s.metadata["step"], s.next) for s in history],
    }


def _sync_session(app: Any, config: dict[str, Any]) -> dict[str, Any]:
    paused = app.invoke({"log": ["in"]}, config)
    state = app.get_state(config)
    resumed = list(app.stream(Command(resume="ann"), config))
    app.update_state(config, {"log": ["edited"]})
    history = list(app.get_state_history(config))
    return {
        "paused": paused["log"],
        "next": state.next,
        "resumed": resumed,
        "final": app.get_state(config).values["log"],
        "history": [(s.metadata["source"], s.metadata["step"], s.next) for s in history],
    }


def test_an_async_session_never_calls_a_sync_saver_method():
    saver = AsyncOnlySaver()
    seen = asyncio.run(_session(_graph(saver), _thread("t")))
    assert seen["final"] == ["in", "first", "asked:ann", "last", "edited"]
    assert {"aget_tuple", "alist", "aput", "aput_writes"} <= set(saver.calls)


def test_an_async_session_saves_what_a_sync_session_saves():
    saver = AsyncOnlySaver()
    async_seen = asyncio.run(_session(_graph(saver), _thread("t")))
    sync_seen = _sync_session(_graph(InMemorySaver()), _thread("t"))
    assert async_seen == sync_seen


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_every_durability_saves_through_the_async_methods(durability):
    saver = AsyncOnlySaver()
    app = _graph(saver)

    async def run() -> Any:
        await app.ainvoke({"log": ["in"]}, _thread("d"), durability=durability)
        await app.ainvoke(Command(resume="bo"), _thread("d"), durability=durability)
        return await app.aget_state(_thread("d"))

    state = asyncio.run(run())
    assert state.values["log"] == ["in", "first", "asked:bo", "last"]
    assert state.next == ()


def test_a_subgraph_in_an_async_run_uses_the_async_methods_too():
    saver = AsyncOnlySaver()
    sub = StateGraph(State)
    sub.add_node("inner", lambda s: {"log": [f"inner:{interrupt('ok?')}"]})
    sub.add_edge(START, "inner")
    graph = StateGraph(State)
    graph.add_node("sub", sub.compile())
    graph.add_edge(START, "sub")
    app = graph.compile(checkpointer=saver)

    async def run() -> Any:
        await app.ainvoke({"log": []}, _thread("s"))
        paused = await app.aget_state(_thread("s"), subgraphs=True)
        done = await app.ainvoke(Command(resume="yes"), _thread("s"))
        return paused, done

    paused, done = asyncio.run(run())
    assert paused.tasks[0].state.next == ("inner",)
    assert done["log"] == ["inner:yes"]


def test_a_time_travel_fork_in_an_async_run_reads_through_aget_tuple():
    saver = AsyncOnlySaver()
    app = _graph(saver)

    async def run() -> Any:
        await app.ainvoke({"log": ["in"]}, _thread("f"))
        await app.ainvoke(Command(resume="x"), _thread("f"))
        history = [s async for s in app.aget_state_history(_thread("f"))]
        before_ask = next(s for s in history if s.next == ("ask",))
        await app.ainvoke(None, before_ask.config)
        return await app.aget_state(_thread("f"))

    state = asyncio.run(run())
    assert state.next == ("ask",)  # the fork ran into the interrupt again
    assert state.values["log"] == ["in", "first"]


class _ThreadRecordingSqlite(SqliteSaver):
    """Records which threads ran the saver's sync work."""

    threads: set[int]

    def put(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.get_ident())
        return super().put(*args, **kwargs)

    def get_tuple(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.get_ident())
        return super().get_tuple(*args, **kwargs)


def test_a_sqlite_saver_async_run_works_off_the_event_loop_thread(tmp_path):
    with _ThreadRecordingSqlite.from_conn_string(str(tmp_path / "g.db")) as saver:
        saver.threads = set()
        app = _graph(saver)

        async def run() -> Any:
            loop_thread = threading.get_ident()
            await app.ainvoke({"log": ["in"]}, _thread("q"))
            out = await app.ainvoke(Command(resume="sql"), _thread("q"))
            return loop_thread, out

        loop_thread, out = asyncio.run(run())
        assert out["log"] == ["in", "first", "asked:sql", "last"]
        assert saver.threads and loop_thread not in saver.threads
        assert _graph(saver).get_state(_thread("q")).values["log"] == out["log"]


def test_aupdate_state_routes_through_an_async_router():
    async def choose(state: State) -> str:
        return "b"

    graph = StateGraph(State)
    graph.add_node("a", lambda s: {"log": ["a"]})
    graph.add_node("b", lambda s: {"log": ["b"]})
    graph.add_edge(START, "a")
    graph.add_conditional_edges("a", choose, ["b", END])
    saver = AsyncOnlySaver()
    app = graph.compile(checkpointer=saver, interrupt_before=["a"])

    async def run() -> Any:
        await app.ainvoke({"log": []}, _thread("r"))
        await app.aupdate_state(_thread("r"), {"log": ["by hand"]}, as_node="a")
        return await app.aget_state(_thread("r"))

    state = asyncio.run(run())
    assert state.next == ("b",)
    assert state.values["log"] == ["by hand"]


class SlowBatchSaver(InMemorySaver):
    """Holds each ``aput_batch`` until the test lets it go; records batches and nodes."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.events: list[str] = []
        self.gate = asyncio.Event()
        self.fail = fail

    async def aput_batch(self, ops: Any) -> None:
        self.events.append(f"batch:{len(ops)}")
        await self.gate.wait()
        if self.fail:
            raise OSError("the database went away")
        await super().aput_batch(ops)


def _chain(saver: SlowBatchSaver) -> Any:
    def node(name: str) -> Any:
        async def run(state: State) -> dict[str, Any]:
            await asyncio.sleep(0)  # a real suspension: a waiting save may start
            saver.events.append(name)
            return {"log": [name]}

        return run

    graph = StateGraph(State)
    for name in ("a", "b", "c"):
        graph.add_node(name, node(name))
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge("c", END)
    return graph.compile(checkpointer=saver)


@pytest.mark.parametrize("durability", ["async", "sync"])
def test_async_durability_saves_while_the_next_steps_run(durability: str) -> None:
    saver = SlowBatchSaver()
    app = _chain(saver)
    config = {"configurable": {"thread_id": "t"}}

    async def run() -> Any:
        task = asyncio.ensure_future(app.ainvoke({"log": []}, config, durability=durability))
        for _ in range(50):
            await asyncio.sleep(0)
        seen = list(saver.events)
        saver.gate.set()
        return seen, await task

    seen, result = asyncio.run(run())
    assert result == {"log": ["a", "b", "c"]}
    if durability == "async":  # every node ran while the first batch was held
        assert seen == ["batch:3", "a", "b", "c"]
        assert saver.events == [*seen, "batch:6"]  # the saves made meanwhile joined up
    else:  # each step waits for its saves
        assert seen == ["batch:3"]
        assert saver.events == ["batch:3", "a", "batch:2", "b", "batch:2", "c", "batch:2"]
    steps = [t.metadata["step"] for t in saver.list(config)]
    assert steps == [3, 2, 1, 0, -1]  # the same checkpoints either way


def test_a_failed_background_save_fails_the_run() -> None:
    saver = SlowBatchSaver(fail=True)
    saver.gate.set()
    with pytest.raises(OSError, match="went away"):
        asyncio.run(_chain(saver).ainvoke({"log": []}, {"configurable": {"thread_id": "t"}}))
