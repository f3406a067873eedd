"""What a running node can reach: ``interrupt``, ``get_stream_writer``, ``Runtime``.

The executor sets a ``TaskScope`` in a context variable around each node call, so these
work from any depth of the node's own code (threads and tasks copy the context).
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from runwire.graph.errors import GraphInterrupt
from runwire.graph.types import Interrupt

__all__ = ["Runtime", "TaskScope", "get_runtime", "get_stream_writer", "interrupt"]

C = TypeVar("C")
_MISSING: Any = object()


def _no_writer(chunk: Any) -> None:
    return None


@dataclass(slots=True)
class Runtime(Generic[C]):
    """Run-scoped values handed to nodes that take a ``runtime`` parameter."""

    context: C = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_writer
    previous: Any = None

    def override(self, **changes: Any) -> Runtime[C]:
        """A copy with some fields replaced."""
        return replace(self, **changes)


@dataclass(slots=True)
class TaskScope:
    """One task's view of the run: its id, resume values and the stream writer."""

    task: Any
    """The running task (or its id): its ``id`` is hashed only if an interrupt needs it."""
    namespace: str
    runtime: Runtime[Any]
    resume: list[Any] = field(default_factory=list)
    null_resume: list[Any] = field(default_factory=list)
    """A shared one-item box holding a resume value for whichever interrupt comes first."""
    counter: int = 0
    config: Any = None
    make_config: Callable[[], Any] | None = None
    """Builds ``config`` when a node asks for it and it was not built up front."""


_SCOPE: contextvars.ContextVar[TaskScope | None] = contextvars.ContextVar(
    "runwire_graph_task", default=None
)


def current_scope() -> TaskScope:
    """The running task's scope; an error outside a graph node."""
    scope = _SCOPE.get()
    if scope is None:
        raise RuntimeError("called outside of a graph node: only nodes can do this")
    return scope


def interrupt_id(namespace: str, task_id: str, index: int) -> str:
    """A stable id for the ``index``-th interrupt of a task."""
    text = f"{namespace}|{task_id}|{index}".encode()
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def interrupt(value: Any) -> Any:
    """Pause the graph here, showing ``value``; returns the value given on resume.

    The node runs again from its start on resume: each ``interrupt`` call, in order,
    returns the resume value given for it (``Command(resume=...)``).
    """
    scope = current_scope()
    index = scope.counter
    scope.counter += 1
    if index < len(scope.resume):
        return scope.resume[index]
    if scope.null_resume:
        answer = scope.null_resume.pop()
        scope.resume.append(answer)
        return answer
    task_id = scope.task if isinstance(scope.task, str) else scope.task.id
    raise GraphInterrupt([Interrupt(value=value, id=interrupt_id(scope.namespace, task_id, index))])


def get_stream_writer() -> Callable[[Any], None]:
    """The running node's writer to the ``custom`` stream (a no-op outside graphs)."""
    scope = _SCOPE.get()
    return _no_writer if scope is None else scope.runtime.stream_writer


def get_runtime(context_schema: Any = None) -> Runtime[Any]:
    """The running node's ``Runtime``."""
    return current_scope().runtime


def get_config() -> Any:
    """The running node's config."""
    scope = current_scope()
    if scope.config is None and scope.make_config is not None:
        scope.config = scope.make_config()
    return scope.config
