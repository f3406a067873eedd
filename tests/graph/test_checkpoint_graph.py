"""A graph paused in one process resumes in another through one SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runwire.graph.checkpoint import InMemorySaver, SqliteSaver

graph_api = pytest.importorskip("runwire.graph")
pytest.importorskip("runwire.graph.builder")

GRAPH = """
import operator
from typing import Annotated, TypedDict
from runwire import AIMessage, HumanMessage
from runwire.graph import END, START, StateGraph, add_messages, interrupt

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}


class State(TypedDict):
    messages: Annotated[list, add_messages]
    log: Annotated[list, operator.add]
    data: dict


def draft(state):
    reply = AIMessage(content="draft", id="a1", additional_kwargs={"payload": ENVELOPE})
    return {"messages": [reply], "log": ["draft"], "data": {"spec": ENVELOPE}}


def review(state):
    answer = interrupt({"question": "ship it?", "spec": ENVELOPE})
    return {"log": [answer]}


builder = StateGraph(State)
builder.add_node("draft", draft)
builder.add_node("review", review)
builder.add_edge(START, "draft")
builder.add_edge("draft", "review")
builder.add_edge("review", END)
"""

FIRST_HALF = (
    GRAPH
    + """
import sys
from runwire.graph.checkpoint import SqliteSaver
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "thread-1"}}
    out = graph.invoke({"messages": [HumanMessage(content="hi", id="h1")], "log": []}, config)
    assert "__interrupt__" in out, out
"""
)


def build_graph() -> object:
    scope: dict[str, object] = {}
    exec(
        compile(GRAPH, "graph", "exec", dont_inherit=True), scope
    )  # the same graph as the other process
    return scope["builder"]


def test_a_graph_paused_in_another_process_resumes_here_with_data_intact(tmp_path: Path) -> None:
    path = str(tmp_path / "graph.db")
    done = subprocess.run(
        [sys.executable, "-c", FIRST_HALF, path], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    envelope = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
    with SqliteSaver.from_conn_string(path) as saver:
        graph = build_graph().compile(checkpointer=saver)  # type: ignore[attr-defined]
        config = {"configurable": {"thread_id": "thread-1"}}
        paused = graph.get_state(config)
        assert paused.next == ("review",)
        assert paused.interrupts[0].value == {"question": "ship it?", "spec": envelope}
        out = graph.invoke(graph_api.Command(resume="yes"), config)
    assert out["log"] == ["draft", "yes"]
    assert out["data"] == {"spec": envelope}
    assert out["messages"][1].additional_kwargs == {"payload": envelope}


def test_the_same_run_gives_the_same_history_on_both_savers(tmp_path: Path) -> None:
    builder = build_graph()
    histories = []
    with SqliteSaver.from_conn_string(str(tmp_path / "h.db")) as sqlite_saver:
        for saver in (InMemorySaver(), sqlite_saver):
            graph = builder.compile(checkpointer=saver)  # type: ignore[attr-defined]
            config = {"configurable": {"thread_id": "t"}}
            graph.invoke({"messages": [], "log": []}, config)
            graph.invoke(graph_api.Command(resume="ok"), config)
            histories.append(
                [
                    (s.metadata["step"], s.next, s.values.get("log"), s.values.get("data"))
                    for s in graph.get_state_history(config)
                ]
            )
    assert histories[0] == histories[1]
    assert histories[0][0][2] == ["draft", "ok"]
