"""``CompiledStateGraph``: a built graph as a runwire ``Runnable``.

``invoke``/``stream`` and their async twins take LangGraph's keyword arguments; state
inspection and editing (``get_state``, ``update_state``...) live in ``state_api``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from runwire.graph.constants import INTERRUPT
from runwire.graph.context import Runtime
from runwire.graph.engine import Loop
from runwire.graph.errors import GraphInterrupt
from runwire.graph.plan import build_plan
from runwire.graph.state_api import StateAPI
from runwire.graph.stream import MISSING, Formatter, MessagesHandler
from runwire.graph.types import GraphOutput
from runwire.runtime.base import Runnable

if TYPE_CHECKING:
    from pydantic import BaseModel

    from runwire.graph.builder import StateGraph

__all__ = ["CompiledStateGraph"]

_DURABILITY = ("sync", "async", "exit")


def _modes(stream_mode: Any) -> tuple[list[str], bool]:
    if isinstance(stream_mode, str):
        return [stream_mode], False
    return list(stream_mode), True


class CompiledStateGraph(StateAPI, Runnable[Any, Any]):
    """A compiled ``StateGraph``: invoke it, stream it, inspect and edit its threads."""

    sync_is_cheap = False
    stream_mode = "updates"

    def __init__(
        self,
        builder: StateGraph,
        *,
        checkpointer: Any = None,
        store: Any = None,
        interrupt_before: tuple[str, ...] = (),
        interrupt_after: tuple[str, ...] = (),
        name: str = "LangGraph",
    ) -> None:
        self.builder = builder
        self.plan = build_plan(builder)
        self.checkpointer = checkpointer
        self.store = store
        self.interrupt_before_nodes = interrupt_before
        self.interrupt_after_nodes = interrupt_after
        self.name = name

    def __repr__(self) -> str:
        return f"CompiledStateGraph(name={self.name!r}, nodes={list(self.builder.nodes)})"

    # -- schemas -----------------------------------------------------------------------
    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """JSON Schema of the input: the input schema's keys, all optional."""
        return self.plan.input.json_schema(self.get_name("Input"))

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """JSON Schema of the output: the output schema's keys."""
        return self.plan.output.json_schema(self.get_name("Output"))

    def get_input_schema(self, config: Any = None) -> type[BaseModel]:
        """A pydantic model of the input."""
        return _model(self.get_input_jsonschema(), self.plan.input)

    def get_output_schema(self, config: Any = None) -> type[BaseModel]:
        """A pydantic model of the output."""
        return _model(self.get_output_jsonschema(), self.plan.output)

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Any:
        """The graph's nodes and edges as a drawable ``Graph`` (``.draw_mermaid()``)."""
        from runwire.graph.drawing import graph_of

        if xray:
            raise NotImplementedError(
                "get_graph(xray=...) (subgraphs drawn inside) is not implemented"
            )
        return graph_of(self.builder, self.interrupt_before_nodes, self.interrupt_after_nodes)

    # -- running -----------------------------------------------------------------------
    def _prepare(
        self,
        config: Any,
        modes: Sequence[str],
        *,
        context: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: str | None,
        subgraphs: bool,
    ) -> Loop:
        from runwire.runtime.config import ensure_config

        config = ensure_config(config)
        configurable = config["configurable"]
        parent = configurable.get("__pregel_parent")
        if parent is None and configurable.get("checkpoint_ns"):
            # a root run starts at its thread's root, as LangGraph's does: a caller's
            # namespace (a RemoteGraph sends its parent task's) and, with it, any
            # checkpoint id are dropped
            configurable = {**configurable, "checkpoint_ns": "", "checkpoint_id": None}
            config["configurable"] = configurable
        if durability is None:
            durability = configurable.get("__pregel_durability", "async")
        if durability not in _DURABILITY:
            raise ValueError(f"durability must be one of {_DURABILITY}, got {durability!r}")
        mode_set = frozenset(modes)
        if parent is not None and parent.sink is not None:
            mode_set = mode_set | parent.sink.modes
        loop = Loop(
            self,
            config,
            modes=mode_set,
            interrupt_before=_names(interrupt_before, self.interrupt_before_nodes),
            interrupt_after=_names(interrupt_after, self.interrupt_after_nodes),
            durability=durability,
            parent=parent,
        )
        runtime = configurable.get("__pregel_runtime") if parent is not None else None
        if runtime is None or context is not None:
            runtime = Runtime(context=context, store=self.store)
        loop.runtime = runtime.override(stream_writer=lambda chunk: loop.emit("custom", chunk))
        if parent is None and subgraphs:
            loop.forward = _Forward(loop, mode_set)
        if "messages" in mode_set and parent is None:
            handler = MessagesHandler(
                lambda ns, payload: _queue(loop, ns, "messages", payload), subgraphs
            )
            loop.messages = handler
            callbacks = config.get("callbacks")
            config["callbacks"] = _add_handler(callbacks, handler)
        return loop

    def stream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        print_mode: Any = (),
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding what each ``stream_mode`` reports as it happens."""
        from runwire.graph.runner import run

        loop, traced, emit, live = self._open_stream(
            input, config, context, stream_mode, print_mode, output_keys, interrupt_before,
            interrupt_after, durability, subgraphs, debug, version,
        )  # fmt: skip
        try:
            for event in run(loop, input, live):
                chunk = emit(*event)
                if chunk is not MISSING:
                    yield chunk
        except BaseException as exc:
            _end(traced, None, exc)
            raise
        _end(traced, self._result(loop, output_keys, "v1"), None)
        self._raise_to_parent(loop)

    async def astream(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = None,
        print_mode: Any = (),
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async ``stream``: a step's nodes run concurrently."""
        from runwire.graph.runner import arun

        loop, traced, emit, live = self._open_stream(
            input, config, context, stream_mode, print_mode, output_keys, interrupt_before,
            interrupt_after, durability, subgraphs, debug, version,
        )  # fmt: skip
        try:
            async for event in arun(loop, input, live or subgraphs):
                chunk = emit(*event)
                if chunk is not MISSING:
                    yield chunk
        except BaseException as exc:
            _end(traced, None, exc)
            raise
        _end(traced, self._result(loop, output_keys, "v1"), None)
        self._raise_to_parent(loop)

    def _open_stream(
        self,
        input: Any,
        config: Any,
        context: Any,
        stream_mode: Any,
        print_mode: Any,
        output_keys: Any,
        interrupt_before: Any,
        interrupt_after: Any,
        durability: Any,
        subgraphs: bool,
        debug: bool | None,
        version: str,
    ) -> tuple[Loop, Any, Any, bool]:
        """One ``stream`` call's loop, its trace, ``emit(ns, mode, payload)`` (prints
        ``print_mode`` events, returns the chunk to yield or ``MISSING``) and whether nodes
        must run live (their custom writes and tokens arrive while they run)."""
        modes, multi = _modes(stream_mode or self.stream_mode)
        printed = _printed(print_mode, debug)
        fmt = Formatter(multi, subgraphs, version, output_keys)
        loop, traced = self._traced(
            config,
            input,
            context,
            interrupt_before,
            interrupt_after,
            durability,
            modes=[*modes, *(m for m in printed if m not in modes)],
            subgraphs=subgraphs,
        )
        wanted = frozenset(modes)

        def emit(ns: tuple[str, ...], mode: str, payload: Any) -> Any:
            if mode in printed:
                _print_event(ns, mode, payload)
            if mode not in wanted:
                return MISSING
            chunk = fmt(ns, mode, payload)
            if chunk is not MISSING:
                _stream(traced, chunk)
            return chunk

        return loop, traced, emit, bool((wanted | printed) & _LIVE)

    def _raise_to_parent(self, loop: Loop) -> None:
        if loop.parent is not None and (loop.interrupts or loop.static_stop):
            raise GraphInterrupt(loop.interrupts)

    def _result(self, loop: Loop, output_keys: Any, version: str) -> Any:
        fmt = Formatter(False, False, version, output_keys)
        value = fmt.values(loop.output())
        interrupts = tuple(loop.interrupts)
        if version == "v2":
            return GraphOutput(value, interrupts)
        if interrupts and isinstance(value, dict):
            return {**value, INTERRUPT: list(interrupts)}
        return value

    def invoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        print_mode: Any = (),
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to its end (or to an interrupt) and return its output state."""
        if stream_mode != "values":
            return list(
                self.stream(
                    input,
                    config,
                    context=context,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                    version=version,
                )
            )
        from runwire.graph.runner import run

        printed = _printed(print_mode, kwargs.get("debug"))
        loop, traced = self._traced(
            config, input, context, interrupt_before, interrupt_after, durability, modes=printed
        )
        try:
            for ns, mode, payload in run(loop, input, bool(printed & _LIVE)):
                if mode in printed:
                    _print_event(ns, mode, payload)
        except BaseException as exc:
            _end(traced, None, exc)
            raise
        result = self._result(loop, output_keys, version)
        _end(traced, result, None)
        self._raise_to_parent(loop)
        return result

    async def ainvoke(
        self,
        input: Any,
        config: Any = None,
        *,
        context: Any = None,
        stream_mode: Any = "values",
        print_mode: Any = (),
        output_keys: str | Sequence[str] | None = None,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        durability: str | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Async ``invoke``."""
        if stream_mode != "values":
            return [
                chunk
                async for chunk in self.astream(
                    input,
                    config,
                    context=context,
                    stream_mode=stream_mode,
                    output_keys=output_keys,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    durability=durability,
                    version=version,
                )
            ]
        from runwire.graph.runner import arun

        printed = _printed(print_mode, kwargs.get("debug"))
        loop, traced = self._traced(
            config, input, context, interrupt_before, interrupt_after, durability, modes=printed
        )
        try:
            async for ns, mode, payload in arun(loop, input, bool(printed & _LIVE)):
                if mode in printed:
                    _print_event(ns, mode, payload)
        except BaseException as exc:
            _end(traced, None, exc)
            raise
        result = self._result(loop, output_keys, version)
        _end(traced, result, None)
        self._raise_to_parent(loop)
        return result

    def _traced(
        self,
        config: Any,
        input: Any,
        context: Any,
        before: Any,
        after: Any,
        durability: Any,
        *,
        modes: Sequence[str] = (),
        subgraphs: bool = False,
    ) -> tuple[Loop, Any]:
        """The loop of one call, inside a run of its own when callbacks are present."""
        from runwire.runtime.callbacks import callback_context
        from runwire.runtime.config import child_config, ensure_config

        config = ensure_config(config)
        ctx = callback_context(config.get("callbacks"))
        traced = None
        if ctx is not None:
            run = ctx.start(
                name=config.get("run_name") or self.get_name(),
                run_type="chain",
                inputs=input,
                tags=config["tags"],
                metadata=config["metadata"],
                run_id=config.get("run_id"),
            )
            config = child_config(config, ctx.under(run))
            traced = (ctx, run)
        loop = self._prepare(
            config,
            modes,
            context=context,
            interrupt_before=before,
            interrupt_after=after,
            durability=durability,
            subgraphs=subgraphs,
        )
        return loop, traced


def _stream(traced: Any, chunk: Any) -> None:
    if traced is not None:
        traced[0].stream(traced[1], chunk)


def _end(traced: Any, output: Any, error: BaseException | None) -> None:
    if traced is None:
        return
    ctx, run = traced
    if error is None or isinstance(error, GraphInterrupt):
        ctx.end(run, output)
    else:
        ctx.error(run, error)


class _Forward:
    """The root run's collector of subgraph events (``subgraphs=True``)."""

    __slots__ = ("loop", "modes")

    def __init__(self, loop: Loop, modes: frozenset[str]) -> None:
        self.loop = loop
        self.modes = modes

    def __call__(self, ns: tuple[str, ...], mode: str, payload: Any) -> None:
        if mode in self.modes:
            _queue(self.loop, ns, mode, payload)


def _queue(loop: Loop, ns: tuple[str, ...], mode: str, payload: Any) -> None:
    loop.out.append((ns, mode, payload))
    if loop.notify is not None:
        loop.notify()


def _names(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return (value,) if isinstance(value, str) else tuple(value)


def _add_handler(callbacks: Any, handler: Any) -> Any:
    from runwire.runtime.callbacks import CallbackContext

    if callbacks is None:
        return [handler]
    if isinstance(callbacks, CallbackContext):
        return callbacks.with_handlers([handler])
    if isinstance(callbacks, list | tuple):
        return [*callbacks, handler]
    return [callbacks, handler]


def _model(schema: dict[str, Any], info: Any) -> Any:
    if info.kind == "pydantic":
        return info.schema
    from runwire.runtime.schemas import root_model

    return root_model(schema.get("title", "State"), dict[str, Any])


_LIVE = frozenset(("custom", "messages"))
"""Modes whose events come while a node runs (the runner streams those live)."""


def _printed(print_mode: Any, debug: bool | None) -> frozenset[str]:
    """The modes printed to stdout: ``print_mode``, or updates and values for ``debug``."""
    if debug:
        return frozenset(("updates", "values"))
    if not print_mode:
        return frozenset()
    return frozenset((print_mode,) if isinstance(print_mode, str) else print_mode)


def _print_event(ns: tuple[str, ...], mode: str, payload: Any) -> None:
    """One ``print_mode`` event on stdout, as ``[mode] chunk`` (namespaced for subgraphs)."""
    if mode == "values":  # (state, interrupts, updated channels)
        payload = payload[0]
    where = f" {'|'.join(ns)}" if ns else ""
    print(f"[{mode}]{where} {payload!r}", flush=True)
