"""Errors of the graph runtime (LangGraph's names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runwire.errors import RunwireError

__all__ = [
    "EmptyInputError",
    "GraphInterrupt",
    "GraphRecursionError",
    "InvalidUpdateError",
    "NodeInterrupt",
    "ParentCommand",
]


class GraphRecursionError(RecursionError, RunwireError):
    """The graph ran ``recursion_limit`` supersteps without finishing."""


class InvalidUpdateError(RunwireError, ValueError):
    """A node's update cannot be applied (wrong type, or two values for a single-value key)."""


class EmptyInputError(RunwireError, ValueError):
    """The graph got no input and has no saved state to continue from."""


class GraphInterrupt(Exception):
    """Internal: a node paused the graph; carries the ``Interrupt`` values."""

    def __init__(self, interrupts: Sequence[Any] = ()) -> None:
        super().__init__(tuple(interrupts))
        self.interrupts: tuple[Any, ...] = tuple(interrupts)


class NodeInterrupt(GraphInterrupt):
    """Raised from a node to pause the graph with one value (prefer ``interrupt()``)."""

    def __init__(self, value: Any, id: str | None = None) -> None:
        from runwire.graph.types import Interrupt

        super().__init__([Interrupt(value=value, id=id or "placeholder-id")])


class ParentCommand(Exception):
    """Internal: a subgraph node sent a ``Command(graph=Command.PARENT)`` upward."""

    def __init__(self, command: Any) -> None:
        super().__init__(command)
        self.command = command
