"""``StateGraph``: declare nodes and edges over a state schema, then ``compile``.

Building is plain bookkeeping; ``compile`` validates the graph (errors name the nodes)
and precomputes what the executor needs: each node's call, its outgoing writes, its
branches and the join barriers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwire.graph.constants import END, START
from runwire.graph.types import RetryPolicy

__all__ = ["Branch", "NodeSpec", "StateGraph"]

_INJECTED = ("config", "writer", "runtime", "store")


@dataclass(slots=True)
class NodeSpec:
    """One node as declared: its action and options."""

    name: str
    action: Any
    input_schema: Any = None
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None
    destinations: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
    defer: bool = False
    injected: tuple[str, ...] = ()
    is_async: bool = False
    is_runnable: bool = False
    is_graph: bool = False


@dataclass(slots=True)
class Branch:
    """A conditional edge: ``router(state)`` names where to go next."""

    router: Any
    ends: dict[Hashable, str] | None = None
    injected: tuple[str, ...] = ()
    is_async: bool = False
    is_runnable: bool = False
    targets: tuple[str, ...] = field(default=())


def _injected(fn: Any) -> tuple[tuple[str, ...], bool]:
    """Which of config/writer/runtime/store ``fn`` takes, and whether it is async."""
    target = fn if inspect.isroutine(fn) else getattr(fn, "__call__", fn)  # noqa: B004
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return (), False
    names = tuple(n for n in _INJECTED if n in params)
    is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(target)
    return names, is_async


def _input_schema_of(fn: Any, state_schema: Any) -> Any:
    """The schema a function node reads, from its first parameter's annotation."""
    try:
        from typing import get_type_hints

        params = list(inspect.signature(fn).parameters)
        if not params:
            return None
        hint = get_type_hints(fn).get(params[0])
    except Exception:  # unresolvable annotations: read the whole state
        return None
    is_schema = hasattr(hint, "__required_keys__") or hasattr(hint, "model_fields")
    if isinstance(hint, type) and hint is not state_schema and is_schema:
        return hint
    return None


class StateGraph:
    """A graph whose nodes read and update one shared state (LangGraph's builder)."""

    def __init__(
        self,
        state_schema: Any = None,
        context_schema: Any = None,
        *,
        input_schema: Any = None,
        output_schema: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"StateGraph got unexpected arguments: {sorted(kwargs)}")
        if state_schema is None:
            raise ValueError("StateGraph needs a state schema (a TypedDict or pydantic model)")
        self.state_schema = state_schema
        self.context_schema = context_schema
        self.input_schema = input_schema or state_schema
        self.output_schema = output_schema or state_schema
        self.nodes: dict[str, NodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, dict[str, Branch]] = {}
        self.compiled = False

    # -- nodes -------------------------------------------------------------------------
    def add_node(
        self,
        node: str | Any,
        action: Any = None,
        *,
        defer: bool = False,
        metadata: dict[str, Any] | None = None,
        input_schema: Any = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: Any = None,
        destinations: dict[str, str] | tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> StateGraph:
        """Add a node: a function (sync or async), a Runnable or a compiled graph."""
        if kwargs:
            raise TypeError(f"add_node got unexpected arguments: {sorted(kwargs)}")
        if cache_policy is not None:
            raise NotImplementedError("node cache policies are not implemented in runwire")
        if defer:
            raise NotImplementedError("deferred nodes (defer=True) are not implemented in runwire")
        if not isinstance(node, str):
            action = node
            node = getattr(action, "name", None) if _is_runnable(action) else None
            node = node or getattr(action, "__name__", None) or type(action).__name__
        if action is None:
            raise ValueError(f"node {node!r} needs an action (a function or runnable)")
        if node in self.nodes:
            raise ValueError(f"Node `{node}` already present.")
        if node in (START, END):
            raise ValueError(f"Node `{node}` is reserved.")
        for char in (":", "|"):
            if char in node:
                raise ValueError(
                    f"'{char}' is a reserved character and is not allowed in the node names."
                )
        from runwire.graph.compiled import CompiledStateGraph

        is_graph = isinstance(action, CompiledStateGraph)
        is_runnable = _is_runnable(action)
        injected, is_async = ((), False) if is_runnable else _injected(action)
        if input_schema is None and not is_runnable:
            input_schema = _input_schema_of(action, self.state_schema)
        self.nodes[node] = NodeSpec(
            name=node,
            action=action,
            input_schema=input_schema,
            retry_policy=retry_policy,
            destinations=tuple(destinations or ()),
            metadata=metadata,
            defer=defer,
            injected=injected,
            is_async=is_async,
            is_runnable=is_runnable,
            is_graph=is_graph,
        )
        return self

    def add_sequence(self, nodes: Sequence[Any | tuple[str, Any]]) -> StateGraph:
        """Add nodes, each followed by the next."""
        if not nodes:
            raise ValueError("Sequence requires at least one node.")
        previous: str | None = None
        for item in nodes:
            if isinstance(item, tuple):
                name, action = item
                self.add_node(name, action)
            else:
                before = set(self.nodes)
                self.add_node(item)
                (name,) = set(self.nodes) - before
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    # -- edges -------------------------------------------------------------------------
    def add_edge(self, start_key: str | list[str], end_key: str) -> StateGraph:
        """Go from ``start_key`` to ``end_key``; from a list, once all of them have run."""
        if isinstance(start_key, str):
            if start_key == END:
                raise ValueError("END cannot be a start node")
            if end_key == START:
                raise ValueError("START cannot be an end node")
            self.edges.add((start_key, end_key))
            return self
        for start in start_key:
            if start == END:
                raise ValueError("END cannot be a start node")
        self.waiting_edges.add((tuple(start_key), end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Any,
        path_map: dict[Hashable, str] | list[str] | None = None,
    ) -> StateGraph:
        """After ``source``, call ``path(state)`` and go where it says (via ``path_map``)."""
        is_runnable = _is_runnable(path)
        injected, is_async = ((), False) if is_runnable else _injected(path)
        name = getattr(path, "__name__", None) or getattr(path, "name", None) or "condition"
        ends = (
            dict(zip(path_map, path_map, strict=True)) if isinstance(path_map, list) else path_map
        )
        if ends is None:
            ends = _literal_ends(path)
        branches = self.branches.setdefault(source, {})
        if name in branches:
            raise ValueError(f"Branch with name `{name}` already exists for node `{source}`")
        branches[name] = Branch(path, ends, injected, is_async, is_runnable)
        return self

    def set_entry_point(self, key: str) -> StateGraph:
        """Start at ``key`` (``add_edge(START, key)``)."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self, path: Any, path_map: dict[Hashable, str] | list[str] | None = None
    ) -> StateGraph:
        """Start where ``path(input)`` says."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph:
        """End after ``key`` (``add_edge(key, END)``)."""
        return self.add_edge(key, END)

    # -- checks and compile ------------------------------------------------------------
    def validate(self, interrupt: Sequence[str] | None = None) -> StateGraph:
        """Check that every edge names known nodes and that the graph has an entry."""
        known = set(self.nodes)
        sources = {src for src, _ in self.edges} | set(self.branches)
        for starts, _ in self.waiting_edges:
            sources.update(starts)
        for src in sources:
            if src != START and src not in known:
                raise ValueError(f"Found edge starting at unknown node '{src}'")
        if START not in sources:
            raise ValueError(
                "Graph must have an entrypoint: add at least one edge from START to another node"
            )
        for _, dst in (*self.edges, *self.waiting_edges):
            if dst != END and dst not in known:
                raise ValueError(f"Found edge ending at unknown node `{dst}`")
        for src, branches in self.branches.items():
            for branch in branches.values():
                for dst in (branch.ends or {}).values():
                    if dst != END and dst not in known:
                        raise ValueError(
                            f"At '{src}' node, a conditional edge routes to unknown node `{dst}`"
                        )
        for name in interrupt or ():
            if name != "*" and name not in known:
                raise ValueError(f"Interrupt node `{name}` not found")
        self.compiled = True
        return self

    def compile(
        self,
        checkpointer: Any = None,
        *,
        cache: Any = None,
        store: Any = None,
        interrupt_before: Sequence[str] | str | None = None,
        interrupt_after: Sequence[str] | str | None = None,
        debug: bool = False,
        name: str | None = None,
    ) -> Any:
        """Validate and return the runnable ``CompiledStateGraph``."""
        from runwire.graph.compiled import CompiledStateGraph

        if cache is not None:
            raise NotImplementedError("graph caches (compile(cache=...)) are not implemented")
        if debug:
            raise NotImplementedError("compile(debug=True) is not implemented: stream_mode='debug'")

        before = _names(interrupt_before)
        after = _names(interrupt_after)
        self.validate([*before, *after])
        return CompiledStateGraph(
            self,
            checkpointer=checkpointer,
            store=store,
            interrupt_before=before,
            interrupt_after=after,
            name=name or "LangGraph",
        )


def _names(value: Sequence[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _is_runnable(thing: Any) -> bool:
    from runwire.runtime.base import Runnable

    return isinstance(thing, Runnable)


def _literal_ends(path: Any) -> dict[Hashable, str] | None:
    """Targets named by a router's ``Literal[...]`` return annotation, if it has one."""
    import typing

    try:
        hint = typing.get_type_hints(path).get("return")
    except Exception:  # no resolvable annotation
        return None
    if typing.get_origin(hint) is typing.Literal:
        return {v: v for v in typing.get_args(hint)}
    return None


RouterFn = Callable[..., Any]
