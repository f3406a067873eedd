"""A graph as served: its assistant, its stateless and threaded forms, its JSON views.

Every served graph manifest (a ``StateGraph`` or ``ReactAgent`` file) is compiled twice:
without a checkpointer (stateless runs, and LangServe calls without a thread id) and
with the deployment's checkpointer (runs on threads). :class:`ThreadedGraph` is what
the LangServe routes run: a call whose ``config.configurable.thread_id`` is set runs on
that thread, any other runs stateless.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runwire.runtime.base import Runnable

__all__ = [
    "THREAD_KEYS",
    "ServedGraph",
    "ThreadedGraph",
    "assistant_id_of",
    "interrupt_json",
    "is_graph",
    "snapshot_json",
]

NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
"""LangGraph Server's namespace for the ids of the assistants it makes per graph."""

THREAD_KEYS = frozenset(("thread_id", "checkpoint_id", "checkpoint_ns"))
"""The configurable keys that address a thread (clients may always send them)."""


def is_graph(runnable: Any) -> bool:
    """Whether ``runnable`` is a graph file that compiles with a checkpointer."""
    return callable(getattr(runnable, "compile", None))


def assistant_id_of(graph_id: str) -> str:
    """The id of a graph's assistant, as LangGraph Server derives it."""
    return str(uuid.uuid5(NAMESPACE_GRAPH, graph_id))


class ThreadedGraph(Runnable[Any, Any]):
    """Runs on a thread when the config names one, statelessly otherwise."""

    def __init__(self, stateless: Any, threaded: Any, ensure: Any = None) -> None:
        self.stateless = stateless
        self.threaded = threaded
        self.ensure = ensure
        """Awaited before a threaded async call: opens the checkpointer if not yet open."""
        self.name = getattr(stateless, "name", None)

    def _pick(self, config: Any) -> Any:
        configurable = (config or {}).get("configurable") or {}
        return self.threaded if "thread_id" in configurable else self.stateless

    async def _apick(self, config: Any) -> Any:
        picked = self._pick(config)
        if picked is self.threaded and self.ensure is not None:
            await self.ensure()
        return picked

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self._pick(config).invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return await (await self._apick(config)).ainvoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        yield from self._pick(config).stream(input, config, **kwargs)

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        async for chunk in (await self._apick(config)).astream(input, config, **kwargs):
            yield chunk

    async def astream_events(
        self, input: Any, config: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for event in (await self._apick(config)).astream_events(input, config, **kwargs):
            yield event

    def get_input_schema(self, config: Any = None) -> Any:
        return self.stateless.get_input_schema(config)

    def get_output_schema(self, config: Any = None) -> Any:
        return self.stateless.get_output_schema(config)

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.stateless.get_input_jsonschema(config)

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.stateless.get_output_jsonschema(config)

    @property
    def config_specs(self) -> list[Any]:
        return list(self.stateless.config_specs)

    def get_graph(self, config: Any = None, **kwargs: Any) -> Any:
        return self.stateless.get_graph(config, **kwargs)


@dataclass
class ServedGraph:
    """One graph of the deployment, with its assistant."""

    name: str
    stateless: Any
    """The graph compiled without a checkpointer."""
    threaded: Any
    """The graph compiled with the deployment's checkpointer."""
    endpoints: Any
    """Its :class:`~runwire.deploy.server.endpoints.PipelineEndpoints` (input and config
    decoding, failure mapping)."""
    created_at: str
    nodes: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self.nodes = frozenset(self.threaded.builder.nodes)

    @cached_property
    def assistant_id(self) -> str:
        return assistant_id_of(self.name)

    def assistant(self) -> dict[str, Any]:
        """The graph's assistant, as LangGraph Server describes its default ones."""
        return {
            "assistant_id": self.assistant_id,
            "graph_id": self.name,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "version": 1,
            "name": self.name,
            "description": None,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }

    @cached_property
    def graph_json(self) -> dict[str, Any]:
        """Nodes and edges in LangGraph Server's ``/graph`` shape."""
        drawn = self.stateless.get_graph().to_json()
        nodes = []
        for node in drawn["nodes"]:
            start_or_end = node["id"] in ("__start__", "__end__")
            nodes.append(
                {
                    "id": node["id"],
                    "type": "schema" if start_or_end else "runnable",
                    "data": node["name"] if start_or_end else {"name": node["name"]},
                    **({"metadata": node["metadata"]} if node.get("metadata") else {}),
                }
            )
        return {"nodes": nodes, "edges": drawn["edges"]}

    @cached_property
    def schemas(self) -> dict[str, Any]:
        """Input, output, state and config schemas (``/schemas``)."""
        endpoints = self.endpoints
        state_schema = self.threaded.plan.state.json_schema(f"{self.name}State")
        return {
            "graph_id": self.name,
            "input_schema": endpoints.input_jsonschema,
            "output_schema": endpoints.output_jsonschema,
            "state_schema": state_schema,
            "config_schema": endpoints.config_jsonschema,
            "context_schema": None,
        }


def interrupt_json(interrupt: Any) -> dict[str, Any]:
    """An ``Interrupt`` as the API shows it: ``{"value": ..., "id": ...}``."""
    if isinstance(interrupt, dict):
        return {"value": interrupt.get("value"), "id": interrupt.get("id")}
    return {"value": interrupt.value, "id": interrupt.id}


def checkpoint_json(config: Any) -> dict[str, Any] | None:
    """A checkpoint's config as the API shows it (``None`` for none)."""
    if not config:
        return None
    configurable = config.get("configurable") or {}
    return {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": configurable.get("checkpoint_map"),
    }


def snapshot_json(snapshot: Any) -> dict[str, Any]:
    """A ``StateSnapshot`` as LangGraph Server's ``ThreadState``."""
    tasks = []
    for task in snapshot.tasks:
        state = task.state
        tasks.append(
            {
                "id": task.id,
                "name": task.name,
                "error": type(task.error).__name__ if task.error is not None else None,
                "interrupts": [interrupt_json(i) for i in task.interrupts],
                "checkpoint": checkpoint_json(state) if isinstance(state, dict) else None,
                "state": snapshot_json(state) if hasattr(state, "tasks") else None,
                "result": task.result,
            }
        )
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "checkpoint": checkpoint_json(snapshot.config),
        "metadata": snapshot.metadata,
        "created_at": snapshot.created_at,
        "parent_checkpoint": checkpoint_json(snapshot.parent_config),
        "tasks": tasks,
        "interrupts": [interrupt_json(i) for i in snapshot.interrupts],
    }
