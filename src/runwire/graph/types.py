"""The values graphs exchange with their nodes and callers (LangGraph's ``types``).

Plain slotted classes and named tuples: cheap to create on every step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

__all__ = [
    "All",
    "Command",
    "Durability",
    "GraphOutput",
    "Interrupt",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
]

StreamMode = Literal["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"]
Durability = Literal["sync", "async", "exit"]
All = Literal["*"]


class Send:
    """Run ``node`` in the next step with ``arg`` as its input (map-reduce fan-out)."""

    __slots__ = ("arg", "node")

    def __init__(self, node: str, arg: Any) -> None:
        self.node = node
        self.arg = arg

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Send) and (self.node, self.arg) == (other.node, other.arg)

    def __hash__(self) -> int:
        return hash(self.node)

    def __repr__(self) -> str:
        return f"Send(node={self.node!r}, arg={self.arg!r})"


@dataclass(slots=True)
class Interrupt:
    """A pause requested by ``interrupt(value)``; resume it with ``Command(resume=...)``."""

    value: Any
    id: str = "placeholder-id"
    response_schema: Any = None


@dataclass(slots=True)
class Command:
    """What a node (or a caller) asks of the graph: update state, go somewhere, resume.

    ``graph=Command.PARENT`` sends the command to the graph that contains this subgraph.
    """

    graph: str | None = None
    update: Any = None
    resume: Any = None
    goto: Send | str | Sequence[Send | str] = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def update_pairs(self) -> list[tuple[str, Any]]:
        """The update as ``(key, value)`` pairs."""
        update = self.update
        if update is None:
            return []
        if isinstance(update, dict):
            return list(update.items())
        if isinstance(update, list | tuple) and all(
            isinstance(p, tuple) and len(p) == 2 for p in update
        ):
            return list(update)
        from runwire.graph.state import object_updates

        found = object_updates(update)
        return list(found.items()) if found is not None else [("__root__", update)]

    def goto_list(self) -> list[Send | str]:
        """``goto`` as a list."""
        goto = self.goto
        if isinstance(goto, str | Send):
            return [goto]
        return list(goto or ())


class PregelTask(NamedTuple):
    """A task of a step, as ``StateSnapshot.tasks`` shows it."""

    id: str
    name: str
    path: tuple[Any, ...]
    error: Exception | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any = None


class StateSnapshot(NamedTuple):
    """A thread's state at one checkpoint."""

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...] = ()


class StateUpdate(NamedTuple):
    """One update for ``bulk_update_state``."""

    values: dict[str, Any] | None
    as_node: str | None = None
    task_id: str | None = None


class GraphOutput(NamedTuple):
    """What ``invoke(..., version="v2")`` returns: the output and any interrupts."""

    value: Any
    interrupts: tuple[Interrupt, ...] = ()


_NOT_RETRIED = (
    ValueError,
    TypeError,
    ArithmeticError,
    ImportError,
    LookupError,
    NameError,
    SyntaxError,
    RuntimeError,
    ReferenceError,
    StopIteration,
    StopAsyncIteration,
    OSError,
)
"""Errors a retry will not fix (LangGraph's list); ``ConnectionError`` is retried anyway."""


def _default_retry_on(exc: Exception) -> bool:
    """LangGraph's default: connection errors and HTTP 5xx yes, programming errors no."""
    if isinstance(exc, ConnectionError):
        return True
    response = getattr(exc, "response", None)
    if type(exc).__name__ in ("HTTPStatusError", "HTTPError") and response is not None:
        return 500 <= getattr(response, "status_code", 0) < 600
    return not isinstance(exc, _NOT_RETRIED)


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """How a failing node is retried (LangGraph's fields and defaults)."""

    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: type[Exception] | Sequence[type[Exception]] | Callable[[Exception], bool] = field(
        default=_default_retry_on
    )

    def should_retry(self, exc: Exception) -> bool:
        """Whether ``exc`` is worth another attempt."""
        retry_on = self.retry_on
        if isinstance(retry_on, type):
            return isinstance(exc, retry_on)
        if isinstance(retry_on, Sequence):
            return isinstance(exc, tuple(retry_on))
        return bool(retry_on(exc))

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt + 1``."""
        import random

        wait = min(self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1))
        return wait + random.uniform(0, 1) if self.jitter else wait


@dataclass(slots=True)
class Overwrite:
    """Write ``value`` to a reducer key as is, bypassing the reducer."""

    value: Any
