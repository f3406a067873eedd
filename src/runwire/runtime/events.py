"""``astream_events``: a run's callbacks as LangChain's v2 stream of event dicts.

A callback handler turns every start, chunk, end and custom event into a dict
``{"event": "on_{run_type}_{start|stream|end}", "name", "run_id", "parent_ids", "tags",
"metadata", "data"}`` and queues it while the runnable streams in a task; the
consumer reads the queue. Errors reach the consumer after the events sent before them.

LangChain's rules are kept: a start event carries ``input`` only when the input was
known at start (streaming runs learn it at the end), an end event carries ``output``
and ``input``; the first event sent gets the call's input and the root's end event
loses it; chains fail silently (only tools send ``on_tool_error``); filters apply to
names, run types (a custom event's type is its name) and tags.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from runwire.runtime.callbacks import CallbackContext, Run
from runwire.runtime.config import RunnableConfig, ensure_config

__all__ = ["EventFilter", "EventStreamHandler", "adispatch_custom_event", "dispatch_custom_event"]

_Names = Sequence[str] | None


@dataclasses.dataclass(frozen=True, slots=True)
class EventFilter:
    """LangChain's include/exclude rules: any include matches, then no exclude may."""

    include_names: _Names = None
    include_types: _Names = None
    include_tags: _Names = None
    exclude_names: _Names = None
    exclude_types: _Names = None
    exclude_tags: _Names = None

    def accepts(self, name: str, kind: str, tags: Sequence[str]) -> bool:
        """Whether an event of this name, type (run type or custom name) and tags passes."""
        inames, itypes, itags = self.include_names, self.include_types, self.include_tags
        keep = inames is None and itypes is None and itags is None
        if inames is not None:
            keep = keep or name in inames
        if itypes is not None:
            keep = keep or kind in itypes
        if itags is not None:
            keep = keep or any(tag in itags for tag in tags)
        if self.exclude_names is not None:
            keep = keep and name not in self.exclude_names
        if self.exclude_types is not None:
            keep = keep and kind not in self.exclude_types
        if self.exclude_tags is not None:
            keep = keep and not any(tag in self.exclude_tags for tag in tags)
        return keep


# -- what model-like runs report as input and output (LangChain's shapes) -------------


def _messages(value: Any) -> Any:
    if isinstance(value, dict) and "messages" in value:
        return value
    if hasattr(value, "to_messages"):  # a prompt value
        return {"messages": [value.to_messages()]}
    if isinstance(value, str):
        from runwire.schema.messages import HumanMessage

        return {"messages": [[HumanMessage(content=value)]]}
    if isinstance(value, list | tuple):
        return {"messages": [list(value)]}
    return {"messages": [[value]]}


def _prompts(value: Any) -> Any:
    if isinstance(value, dict) and "prompts" in value:
        return value
    if hasattr(value, "to_string"):
        return {"prompts": [value.to_string()]}
    return {"prompts": [value if isinstance(value, str) else str(value)]}


def _query(value: Any) -> Any:
    return value if isinstance(value, dict) and "query" in value else {"query": value}


def _generations(value: Any) -> Any:
    if isinstance(value, dict) and "generations" in value:
        return value
    text = value if isinstance(value, str) else getattr(value, "text", value)
    gen = {"text": text, "generation_info": None, "type": "Generation"}
    return {"generations": [[gen]], "llm_output": None}


_INPUTS: dict[str, Callable[[Any], Any]] = {
    "chat_model": _messages,
    "llm": _prompts,
    "retriever": _query,
}
_OUTPUTS: dict[str, Callable[[Any], Any]] = {"llm": _generations}


def _truthy(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:  # arrays and other values without one truth value
        return True


class EventStreamHandler:
    """Callback handler that queues v2 events for ``stream_events``.

    Thread-safe: handlers called from executor threads hand their events to the
    event loop with ``call_soon_threadsafe``, so the queue keeps their order.
    """

    wants_streaming = True
    """Chat models stream even when invoked, so token events reach the consumer."""

    def __init__(
        self,
        queue: asyncio.Queue[Any],
        loop: asyncio.AbstractEventLoop,
        event_filter: EventFilter,
        root_id: str,
    ) -> None:
        self.queue = queue
        self.loop = loop
        self.thread = threading.get_ident()
        self.filter = event_filter
        self.root_id = root_id
        self.seen: set[str] = set()
        self.runs: dict[Run, tuple[str, list[str], bool]] = {}
        """Per run, computed at its start: its id, its parent ids, whether it passes."""
        self.root: Run | None = None
        self.root_streamed = False
        self.held: dict[str, Any] | None = None
        """The root's end event, when the root's output chunks are still to be sent."""

    def _put(self, event: dict[str, Any]) -> None:
        if threading.get_ident() == self.thread:
            self.queue.put_nowait(event)
        else:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    def _parent_ids(self, run: Run) -> list[str]:
        # ids up to the first ancestor this handler never saw start (as LangChain)
        ids = run.parent_ids
        for i in range(len(ids) - 1, -1, -1):
            if ids[i] not in self.seen:
                return ids[i:]
        return list(ids)

    def _emit(self, run: Run, phase: str, data: Any) -> dict[str, Any] | None:
        """The event of a run (``None`` when filtered out); queued unless it is held."""
        info = self.runs.get(run)
        if info is None:  # a run that started before this handler was attached
            info = self._register(run)
        run_id, parents, passes = info
        if not passes:
            return None
        event = {
            "event": f"on_{run.run_type}_{phase}",
            "name": run.name,
            "run_id": run_id,
            "parent_ids": parents,
            "tags": run.tags,
            "metadata": run.metadata,
            "data": data,
        }
        if phase == "end" and run is self.root and not self.root_streamed:
            self.held = event  # sent after the root's output chunks (see tap_root)
        else:
            self._put(event)
        return event

    def _register(self, run: Run) -> tuple[str, list[str], bool]:
        run_id = str(run.id)
        info = (
            run_id,
            self._parent_ids(run),
            self.filter.accepts(run.name, run.run_type, run.tags),
        )
        self.seen.add(run_id)
        self.runs[run] = info
        if run_id == self.root_id:
            self.root = run
        return info

    def on_start(self, run: Run) -> None:
        self._register(run)
        kind = run.run_type
        if run.inputs is None:  # a streaming run: its input is known at its end
            data = {}
        elif kind in _INPUTS:
            data = {"input": _INPUTS[kind](run.inputs)}
        elif kind == "tool":
            data = {"input": run.inputs if _truthy(run.inputs) else {}}
        else:
            data = {"input": run.inputs}
        self._emit(run, "start", data)

    def on_stream(self, run: Run, chunk: Any) -> None:
        if run is self.root:
            self.root_streamed = True
        self._emit(run, "stream", {"chunk": chunk})

    def on_end(self, run: Run) -> None:
        kind = run.run_type
        inputs = run.inputs
        if kind in _INPUTS:
            inputs = _INPUTS[kind](inputs) if inputs is not None else None
        elif kind != "tool" and not _truthy(inputs):
            inputs = {}
        output = _OUTPUTS[kind](run.outputs) if kind in _OUTPUTS else run.outputs
        self._emit(run, "end", {"output": output, "input": inputs})

    def on_error(self, run: Run) -> None:
        if run.run_type == "tool":  # LangChain sends error events for tools only
            self._emit(
                run, "error", {"error": run.error, "input": run.inputs, "tool_call_id": None}
            )

    def on_custom_event(self, run: Run, name: str, data: Any) -> None:
        if not self.filter.accepts(name, name, run.tags):  # its type is its name
            return
        info = self.runs.get(run)
        self._put(
            {
                "event": "on_custom_event",
                "name": name,
                "run_id": info[0] if info else str(run.id),
                "parent_ids": info[1] if info else self._parent_ids(run),
                "tags": run.tags,
                "metadata": run.metadata,
                "data": data,
            }
        )

    def tap_root(self, chunk: Any) -> None:
        """A chunk of the root's output: a stream event of the root run, unless that run
        streamed it itself. A root that only invokes (its run ends before its one chunk
        comes out) still gets start, stream, end, in that order, as in LangChain."""
        root = self.root
        if root is not None and not self.root_streamed:
            self._emit(root, "stream", {"chunk": chunk})

    def finish(self) -> None:
        """The root's output is complete: send its held end event."""
        if self.held is not None:
            event, self.held = self.held, None
            self._put(event)


def _with_handler(callbacks: Any, handler: Any) -> Any:
    if callbacks is None:
        return [handler]
    if isinstance(callbacks, CallbackContext):
        return callbacks.with_handlers([handler])
    if isinstance(callbacks, list | tuple):
        return [*callbacks, handler]
    return [callbacks, handler]


class _Done:
    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


async def stream_events(
    runnable: Any,
    input: Any,
    config: RunnableConfig | None = None,
    *,
    filters: Sequence[_Names] = (),
    **kwargs: Any,
) -> AsyncIterator[dict[str, Any]]:
    """Run ``runnable.astream(input, config, **kwargs)`` and yield its v2 events.

    ``filters`` is ``(include_names, include_types, include_tags, exclude_names,
    exclude_types, exclude_tags)``; missing or ``None`` entries do not filter.
    """
    config = ensure_config(config)
    run_id = config.get("run_id") or uuid.uuid4()
    config["run_id"] = run_id
    queue: asyncio.Queue[Any] = asyncio.Queue()
    handler = EventStreamHandler(
        queue, asyncio.get_running_loop(), EventFilter(*filters), str(run_id)
    )
    config["callbacks"] = _with_handler(config.get("callbacks"), handler)

    async def produce() -> None:
        error: BaseException | None = None
        try:
            stream = runnable.astream(input, config, **kwargs)
            try:
                async for chunk in stream:
                    handler.tap_root(chunk)
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            handler.finish()
        except BaseException as exc:
            error = exc
            if not isinstance(exc, Exception):
                raise
        finally:  # always tell the consumer, whatever ended the run
            queue.put_nowait(_Done(error))

    task = asyncio.ensure_future(produce())
    first_id: str | None = None
    try:
        while True:
            event = await queue.get()
            if isinstance(event, _Done):
                if event.error is not None:
                    raise event.error
                return
            data = event["data"]
            if first_id is None:
                # LangChain gives the first event sent the call's input ...
                first_id = event["run_id"]
                if isinstance(data, dict):
                    event = {**event, "data": {**data, "input": input}}
            elif (
                event["run_id"] == first_id
                and event["event"].endswith("_end")
                and isinstance(data, dict)
                and "input" in data
            ):  # ... and so drops it from that run's end event
                event = {**event, "data": {k: v for k, v in data.items() if k != "input"}}
            yield event
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- custom events ----------------------------------------------------------------------


def _custom_event_target(config: RunnableConfig | None) -> tuple[CallbackContext, Run] | None:
    """The handlers and the current run of a config, ``None`` when nobody listens."""
    if config is None:
        raise RuntimeError(
            "dispatch_custom_event needs the config of the current run: pass the "
            "`config` your function received (e.g. def step(x, config): ...)"
        )
    callbacks = config.get("callbacks")
    if callbacks is None:
        return None  # called in a run that has no handlers: nothing to tell
    if not isinstance(callbacks, CallbackContext) or callbacks.parent is None:
        raise RuntimeError(
            "custom events can only be dispatched from inside a run (a RunnableLambda, "
            "RunnableGenerator or tool) with the config that run received"
        )
    if not callbacks.handlers:
        return None
    return callbacks, callbacks.parent


def dispatch_custom_event(name: str, data: Any, config: RunnableConfig | None = None) -> None:
    """Send a custom event (``on_custom_event`` for ``astream_events``) from inside a run.

    The event belongs to the current run; its tags and metadata are the ones the run
    passes on to its children (LangChain's). Without handlers it is a no-op.
    """
    target = _custom_event_target(config)
    if target is None:
        return
    ctx, run = target
    # the current run as its children see it: inherited tags and metadata only
    tags = list(config.get("tags") or ())  # type: ignore[union-attr]
    metadata = dict(config.get("metadata") or {})  # type: ignore[union-attr]
    view = dataclasses.replace(run, tags=tags, metadata=metadata)
    CallbackContext(ctx.handlers, view).custom_event(name, data)


async def adispatch_custom_event(
    name: str, data: Any, config: RunnableConfig | None = None
) -> None:
    """Async ``dispatch_custom_event``."""
    dispatch_custom_event(name, data, config)
