"""Samples of the graph-file classes, merged into ``conftest.SAMPLES``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _state_graph() -> Any:
    from runwire.graph.files import StateGraph
    from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick

    return StateGraph(
        name="notes",
        state={"notes": {"type": "array", "reducer": "add"}, "topic": {"type": "string"}},
        input=["topic"],
        nodes={
            "write": {"reads": "topic", "writes": "notes", "run": RunnablePassthrough()},
            "pick": RunnablePick(keys=["notes"]),
        },
        edges=[["START", "write"], ["write", "pick"]],
        routes={"pick": [{"when": "length(notes) < `2`", "to": "write"}, {"to": "END"}]},
        interrupt_before=["pick"],
    )


SAMPLES: dict[str, Callable[[], Any]] = {"StateGraph": _state_graph}
