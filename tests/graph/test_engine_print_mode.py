"""print_mode (and debug=True) print events to stdout without changing what is returned."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest

from runwire.graph import END, START, StateGraph


class _State(TypedDict):
    x: int


def _app() -> Any:
    graph = StateGraph(_State)
    graph.add_node("a", lambda s: {"x": s["x"] + 1})
    graph.add_node("b", lambda s: {"x": s["x"] * 10})
    graph.add_edge(START, "a")
    graph.add_edge("a", "b")
    graph.add_edge("b", END)
    return graph.compile()


def test_invoke_prints_the_modes_asked_and_returns_the_same(capsys: Any) -> None:
    app = _app()
    assert app.invoke({"x": 1}, print_mode="updates") == app.invoke({"x": 1}) == {"x": 20}
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["[updates] {'a': {'x': 2}}", "[updates] {'b': {'x': 20}}"]


def test_stream_yields_stream_modes_and_prints_print_modes(capsys: Any) -> None:
    parts = list(_app().stream({"x": 1}, stream_mode="updates", print_mode="values"))
    assert parts == [{"a": {"x": 2}}, {"b": {"x": 20}}]
    assert capsys.readouterr().out.splitlines() == [
        "[values] {'x': 1}",
        "[values] {'x': 2}",
        "[values] {'x': 20}",
    ]


@pytest.mark.parametrize("call", ["invoke", "ainvoke"])
def test_debug_prints_updates_and_values(capsys: Any, call: str) -> None:
    app = _app()
    if call == "invoke":
        result = app.invoke({"x": 1}, debug=True)
    else:
        result = asyncio.run(app.ainvoke({"x": 1}, debug=True))
    assert result == {"x": 20}
    out = capsys.readouterr().out
    assert out.count("[updates]") == 2 and out.count("[values]") == 3
