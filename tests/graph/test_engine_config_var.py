"""Code a node calls without a config inherits the node's (``var_child_runnable_config``)."""

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from runwire.graph import START, MessagesState, StateGraph
from runwire.graph.checkpoint import InMemorySaver
from runwire.runtime.config import (
    current_config,
    ensure_config,
    set_child_config,
    var_child_runnable_config,
)
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel


class _State(TypedDict):
    user: Any


def _one_node(node: Any, **compile_kwargs: Any) -> Any:
    graph = StateGraph(_State)
    graph.add_node("work", node)
    graph.add_edge(START, "work")
    return graph.compile(**compile_kwargs)


def test_ensure_config_outside_any_run_is_the_defaults():
    assert var_child_runnable_config.get() is None
    assert current_config() is None
    assert ensure_config() == {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": 25,
        "configurable": {},
    }


def test_ensure_config_inherits_every_set_key_and_copies_mutable_ones():
    parent = {"tags": ["a"], "metadata": {"m": 1}, "configurable": {"k": 2}, "recursion_limit": 7}
    with set_child_config(parent):  # type: ignore[arg-type]
        inherited = ensure_config()
        inherited["tags"].append("b")
        inherited["metadata"]["x"] = 1
    assert inherited["recursion_limit"] == 7
    assert parent == {
        "tags": ["a"],
        "metadata": {"m": 1},
        "configurable": {"k": 2},
        "recursion_limit": 7,
    }
    assert var_child_runnable_config.get() is None


def test_ensure_config_keys_given_replace_the_inherited_ones_whole():
    with set_child_config({"tags": ["a"], "metadata": {"m": 1}, "configurable": {"k": 2}}):
        config = ensure_config({"tags": ["b"], "metadata": None, "run_name": "x"})
    # LangChain's rule: a given key wins whole (no merge), None means "not given"
    assert config["tags"] == ["b"]
    assert config["metadata"] == {"m": 1}
    assert config["configurable"] == {"k": 2}
    assert config["run_name"] == "x"


def test_set_child_config_takes_a_function_called_only_when_asked():
    calls = []

    def build() -> Any:
        calls.append(1)
        return {"tags": ["lazy"]}

    with set_child_config(build):
        assert calls == []
        assert ensure_config()["tags"] == ["lazy"]
        assert current_config() == {"tags": ["lazy"]}
    assert len(calls) == 2


def test_a_function_node_sees_the_graph_config_without_taking_one():
    seen = {}

    def work(state):
        seen.update(ensure_config())
        return {}

    app = _one_node(work, checkpointer=InMemorySaver())
    app.invoke({"user": 1}, {"configurable": {"thread_id": "t1", "user": "u"}, "tags": ["run"]})
    assert seen["configurable"]["thread_id"] == "t1"
    assert seen["configurable"]["user"] == "u"
    assert seen["metadata"]["langgraph_node"] == "work"
    assert "run" in seen["tags"]
    assert "run_name" not in seen and "run_id" not in seen


def test_a_runnable_called_in_a_node_without_config_reads_the_graph_configurable():
    reader = RunnableLambda(lambda x, config: config["configurable"].get("user"))
    app = _one_node(lambda state: {"user": reader.invoke(None)})
    assert app.invoke({"user": None}, {"configurable": {"user": "ann"}}) == {"user": "ann"}


def test_the_inherited_config_is_reset_after_each_node():
    app = _one_node(lambda state: {"user": 1})
    app.invoke({"user": 0})
    assert var_child_runnable_config.get() is None


def _chat_graph(model: Any, call: Any) -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("call", call)
    graph.add_edge(START, "call")
    return graph.compile()


def _text(parts: list[Any]) -> str:
    return "".join(m.content for m, _ in parts)


def test_stream_messages_of_a_model_invoked_without_config_come_as_tokens():
    model = FakeChatModel(responses=["hi yo"], chunk_size=1)
    app = _chat_graph(model, lambda s: {"messages": [model.invoke(s["messages"])]})
    parts = list(app.stream({"messages": [("user", "q")]}, stream_mode="messages"))
    assert _text(parts) == "hi yo"
    assert len(parts) >= 5  # one chunk per character (+ LangChain's closing empty chunk)
    assert {meta["langgraph_node"] for _, meta in parts} == {"call"}
    assert len({m.id for m, _ in parts}) == 1


def test_astream_messages_of_an_async_node_invoking_without_config_come_as_tokens():
    model = FakeChatModel(responses=["abc"], chunk_size=1)

    async def call(state):
        return {"messages": [await model.ainvoke(state["messages"])]}

    async def run() -> list[Any]:
        app = _chat_graph(model, call)
        return [p async for p in app.astream({"messages": [("user", "q")]}, stream_mode="messages")]

    parts = asyncio.run(run())
    assert _text(parts) == "abc"
    assert len(parts) >= 3


def test_astream_messages_of_a_sync_runnable_node_run_in_a_thread_come_as_tokens():
    model = FakeChatModel(responses=["xyz"], chunk_size=1)
    threads = set()

    def call(state):
        threads.add(threading.current_thread().name)
        return {"messages": [model.invoke(state["messages"])]}

    async def run() -> list[Any]:
        app = _chat_graph(model, RunnableLambda(call))
        return [p async for p in app.astream({"messages": [("user", "q")]}, stream_mode="messages")]

    parts = asyncio.run(run())
    assert _text(parts) == "xyz"
    assert len(parts) >= 3
    assert threads and threading.main_thread().name not in threads


@pytest.mark.parametrize("mode", ["updates", "values"])
def test_a_model_invoked_without_config_outside_messages_mode_returns_whole(mode):
    model = FakeChatModel(responses=["ok"], chunk_size=1)
    app = _chat_graph(model, lambda s: {"messages": [model.invoke(s["messages"])]})
    out = app.invoke({"messages": [("user", "q")]}, stream_mode=mode)
    messages = out["messages"] if mode == "values" else out[-1]["call"]["messages"]
    assert messages[-1].content == "ok"


class _Log(TypedDict):
    log: Annotated[list[str], operator.add]


def test_a_graph_invoked_in_a_node_without_config_runs_as_its_subgraph():
    from runwire.graph import Command, interrupt

    sub = StateGraph(_Log)
    sub.add_node("inner", lambda s: {"log": ["inner:" + interrupt("q")]})
    sub.add_edge(START, "inner")
    inner = sub.compile()
    graph = StateGraph(_Log)
    graph.add_node("call", lambda s: {"log": inner.invoke({"log": ["x"]})["log"]})
    graph.add_edge(START, "call")
    app = graph.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "n"}}
    # as with LangGraph: the inner graph's interrupt pauses the outer one, resume continues it
    paused = app.invoke({"log": []}, config)
    assert [i.value for i in paused["__interrupt__"]] == ["q"]
    assert app.get_state(config).next == ("call",)
    assert app.invoke(Command(resume="ok"), config) == {"log": ["x", "inner:ok"]}


def test_an_async_function_node_without_a_config_parameter_inherits_the_graph_config():
    seen = {}

    async def work(state):
        seen.update(ensure_config())
        return {}

    app = _one_node(work)
    asyncio.run(app.ainvoke({"user": 1}, {"configurable": {"user": "u"}}))
    assert seen["configurable"]["user"] == "u"
    assert seen["metadata"]["langgraph_node"] == "work"
