"""Callbacks: a small handler protocol told when runs start, stream, end or fail.

A handler is any object with some of ``on_start(run)``, ``on_stream(run, chunk)``,
``on_end(run)``, ``on_error(run)`` and ``on_custom_event(run, name, data)``; missing
methods are skipped. Pass handlers as ``config={"callbacks": [handler]}``.

Runs are tracked only when a handler is present: a call with no callbacks does no
bookkeeping at all (no ids, no clocks), which keeps plain ``invoke`` cheap.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["CallbackContext", "CallbackHandler", "Run", "RunType", "callback_context"]

RunType = Literal[
    "chain", "chat_model", "llm", "prompt", "parser", "retriever", "tool", "embedding"
]


@dataclass(slots=True, eq=False)
class Run:
    """One call of one runnable, as handlers see it."""

    id: uuid.UUID
    name: str
    run_type: RunType
    parent_ids: list[str]
    """Ids of the enclosing runs, outermost first (astream_events' ``parent_ids``)."""
    tags: list[str]
    metadata: dict[str, Any]
    inputs: Any
    outputs: Any = None
    error: BaseException | None = None
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None

    @property
    def parent_run_id(self) -> uuid.UUID | None:
        """Id of the direct parent run, if any."""
        return uuid.UUID(self.parent_ids[-1]) if self.parent_ids else None


class CallbackHandler(Protocol):
    """What a handler may implement (every method is optional)."""

    def on_start(self, run: Run) -> None: ...
    def on_stream(self, run: Run, chunk: Any) -> None: ...
    def on_end(self, run: Run) -> None: ...
    def on_error(self, run: Run) -> None: ...
    def on_custom_event(self, run: Run, name: str, data: Any) -> None: ...


def _notify(handlers: Iterable[Any], method: str, *args: Any) -> None:
    for handler in handlers:
        fn = getattr(handler, method, None)
        if fn is not None:
            fn(*args)


@dataclass(slots=True, frozen=True)
class CallbackContext:
    """Handlers plus where we are in the run tree: the parent run and one-run tags.

    ``local_tags`` apply to the next run only (LangChain's non-inheritable tags, e.g.
    ``seq:step:2``); the config's tags are inherited by every descendant.
    """

    handlers: tuple[Any, ...]
    parent: Run | None = None
    local_tags: tuple[str, ...] = ()

    def start(
        self,
        *,
        name: str,
        run_type: RunType,
        inputs: Any,
        tags: list[str],
        metadata: dict[str, Any],
        run_id: uuid.UUID | None = None,
    ) -> Run:
        """Open a run under the current parent and tell the handlers."""
        parent_ids = [*self.parent.parent_ids, str(self.parent.id)] if self.parent else []
        run = Run(
            id=run_id or uuid.uuid4(),
            name=name,
            run_type=run_type,
            parent_ids=parent_ids,
            tags=[*self.local_tags, *(t for t in tags if t not in self.local_tags)],
            metadata=dict(metadata),
            inputs=inputs,
        )
        _notify(self.handlers, "on_start", run)
        return run

    def stream(self, run: Run, chunk: Any) -> None:
        """Tell the handlers about one streamed chunk."""
        _notify(self.handlers, "on_stream", run, chunk)

    def end(self, run: Run, outputs: Any) -> None:
        """Close a run with its output."""
        run.outputs = outputs
        run.end_time = time.time()
        _notify(self.handlers, "on_end", run)

    def error(self, run: Run, error: BaseException) -> None:
        """Close a run with an error."""
        run.error = error
        run.end_time = time.time()
        _notify(self.handlers, "on_error", run)

    def custom_event(self, name: str, data: Any) -> None:
        """Report a custom event from inside the current run."""
        if self.parent is None:
            raise RuntimeError("custom events can only be sent from inside a run")
        _notify(self.handlers, "on_custom_event", self.parent, name, data)

    def under(self, run: Run, tag: str | None = None) -> CallbackContext:
        """The context for the children of ``run`` (optionally tagging the next child)."""
        return CallbackContext(self.handlers, run, (tag,) if tag else ())

    def tagged(self, tag: str) -> CallbackContext:
        """The same context with a one-run tag for the next child."""
        return CallbackContext(self.handlers, self.parent, (*self.local_tags, tag))

    def with_handlers(self, extra: Iterable[Any]) -> CallbackContext:
        """The same context with more handlers."""
        return CallbackContext((*self.handlers, *extra), self.parent, self.local_tags)


def callback_context(callbacks: Any) -> CallbackContext | None:
    """The context for a config's ``callbacks`` value (``None`` when there are none)."""
    if callbacks is None:
        return None
    if isinstance(callbacks, CallbackContext):
        return callbacks if callbacks.handlers else None
    handlers = tuple(callbacks) if isinstance(callbacks, list | tuple) else (callbacks,)
    return CallbackContext(handlers) if handlers else None
