"""``StateGraph`` as a file: a registered component that builds and runs a state graph.

```yaml
_type: StateGraph
state:
  messages: {type: array, reducer: add_messages}
  question: {type: string}
input: [question]
output: [messages]
nodes:
  agent: {reads: {question: question}, writes: messages, run: {_type: sequence, steps: [...]}}
edges: [[START, agent]]
routes:
  agent: [{when: "messages[-1].tool_calls", to: tools}, {to: END}]
interrupt_before: [tools]
```

Every part is data: channels with named reducers (``graph.files.state``), nodes that are
runnables with ``reads``/``writes`` (``graph.files.nodes``), routes as JMESPath
(``graph.files.routes``); a node may be another ``StateGraph`` (a subgraph). The
component is a runnable: ``invoke``/``stream``... run the compiled graph, and
``compile(checkpointer=...)`` gives the ``CompiledStateGraph`` to run with threads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator

from runwire.graph.builder import StateGraph as GraphBuilder
from runwire.graph.compiled import CompiledStateGraph
from runwire.graph.files.checks import graph_problems, raise_problems
from runwire.graph.files.nodes import MappedNode, NodeFile
from runwire.graph.files.routes import Route, Router, node_name
from runwire.graph.files.state import ChannelSpec, state_schema
from runwire.runtime.base import Runnable
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.serializable import FieldsEqual

__all__ = ["StateGraph"]


class StateGraph(FieldsEqual, RunnableSerializable[Any, Any]):
    """A state graph written as data (see the module docstring for the format)."""

    state: dict[str, dict[str, Any]]
    """The state's keys: ``{type, reducer, default, description}`` (see ``ChannelSpec``)."""
    nodes: dict[str, Any]
    """Node name -> a runnable (reads the state, returns an update) or ``{run, reads, writes}``."""
    edges: list[list[str | list[str]]] = Field(default_factory=list)
    """``[source, target]`` pairs; ``[[a, b], c]`` waits for both ``a`` and ``b``."""
    routes: dict[str, Any] = Field(default_factory=dict)
    """Node -> its conditional routes, or a router runnable returning node names."""
    input: list[str] | None = None
    """The keys the graph takes as input (all state keys when absent)."""
    output: list[str] | None = None
    """The keys the graph returns (all state keys when absent)."""
    interrupt_before: list[str] = Field(default_factory=list)
    """Stop before these nodes (needs a checkpointer to resume)."""
    interrupt_after: list[str] = Field(default_factory=list)
    """Stop after these nodes."""

    _compiled: CompiledStateGraph | None = PrivateAttr(default=None)
    _channels: dict[str, ChannelSpec] = PrivateAttr(default_factory=dict)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "graph"]

    @field_validator("state")
    @classmethod
    def _channel_specs(cls, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            key: ChannelSpec.model_validate(spec).model_dump(exclude_defaults=True)
            for key, spec in state.items()
        }

    @field_validator("nodes")
    @classmethod
    def _node_specs(cls, nodes: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in nodes.items():
            if isinstance(spec, Runnable):
                out[name] = spec
                continue
            if not isinstance(spec, dict):
                raise ValueError(
                    f"node {name!r} is a runnable or {{run, reads, writes}}, "
                    f"got {type(spec).__name__}"
                )
            run = spec.get("run")
            if run is None:
                raise ValueError(f"node {name!r} has no `run` (the runnable it runs)")
            if not isinstance(run, Runnable):
                shape = "a mapping" if isinstance(run, dict) else type(run).__name__
                fix = (
                    "; branches run on the same input are written "
                    "{_type: parallel, branches: {name: runnable, ...}}"
                    if isinstance(run, dict)
                    else ""
                )
                raise ValueError(f"node {name!r}: `run` must be a runnable, got {shape}{fix}")
            parsed = NodeFile.model_validate(spec)
            out[name] = {"run": parsed.run, **parsed.model_dump(exclude={"run"}, exclude_none=True)}
        return out

    @field_validator("routes")
    @classmethod
    def _route_specs(cls, routes: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for source, spec in routes.items():
            if isinstance(spec, Runnable):
                out[source] = spec
            elif isinstance(spec, list):
                out[source] = [Route.model_validate(r).model_dump(exclude_none=True) for r in spec]
            else:
                raise ValueError(
                    f"routes of {source!r} are a list of routes or a router runnable, "
                    f"got {type(spec).__name__}"
                )
        return out

    @field_validator("edges")
    @classmethod
    def _pairs(cls, edges: list[list[Any]]) -> list[list[Any]]:
        for edge in edges:
            if len(edge) != 2:
                raise ValueError(f"an edge is [source, target], got {edge!r}")
        return edges

    def model_post_init(self, context: Any) -> None:
        raise_problems(type(self).__name__, graph_problems(self.__dict__))
        self._channels = {k: ChannelSpec.model_validate(v) for k, v in self.state.items()}
        self._compiled = self.compile()

    # -- building ----------------------------------------------------------------------
    def builder(self) -> GraphBuilder:
        """The graph as ``runwire.graph.StateGraph`` calls (not compiled)."""
        name = self.name or "Graph"
        keys = (self.input, self.output)
        unknown = sorted({k for ks in keys for k in ks or () if k not in self.state})
        if unknown:
            raise ValueError(f"input/output name keys missing from state: {unknown}")
        graph = GraphBuilder(
            state_schema(f"{name}State", self._channels),
            input_schema=self._projection(f"{name}Input", self.input),
            output_schema=self._projection(f"{name}Output", self.output),
        )
        for node, spec in self.nodes.items():
            graph.add_node(node, self._node(node, spec))
        for source, target in self.edges:
            graph.add_edge(_sources(source), node_name(target))
        for source, routes in self.routes.items():
            if isinstance(routes, Runnable):
                graph.add_conditional_edges(node_name(source), routes)
                continue
            parsed = [Route.model_validate(r) for r in routes]
            router = Router(source, parsed, self._channels)
            graph.add_conditional_edges(node_name(source), router, router.destinations)
        return graph

    def _projection(self, name: str, keys: list[str] | None) -> type | None:
        if keys is None:
            return None
        return state_schema(name, {key: self._channels[key] for key in keys})

    def _node(self, name: str, spec: Any) -> Any:
        if isinstance(spec, StateGraph):
            return spec.graph
        if isinstance(spec, dict):
            return MappedNode(name, NodeFile.model_validate(spec), self._channels)
        return spec

    def compile(self, checkpointer: Any = None, **kwargs: Any) -> CompiledStateGraph:
        """The runnable graph; pass a checkpointer to run with threads."""
        return self.builder().compile(
            checkpointer=checkpointer,
            interrupt_before=self.interrupt_before or None,
            interrupt_after=self.interrupt_after or None,
            name=self.name or "LangGraph",
            **kwargs,
        )

    @property
    def graph(self) -> CompiledStateGraph:
        """The compiled graph this component runs (no checkpointer)."""
        assert self._compiled is not None
        return self._compiled

    # -- running: the compiled graph's --------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the graph on ``input`` (LangGraph's ``invoke`` options as keywords)."""
        return self.graph.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        return await self.graph.ainvoke(input, config, **kwargs)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Stream the run (``stream_mode=...`` as LangGraph's)."""
        yield from self.graph.stream(input, config, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async ``stream``."""
        async for part in self.graph.astream(input, config, **kwargs):
            yield part

    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the input keys."""
        return self.graph.get_input_jsonschema(config)

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the output keys."""
        return self.graph.get_output_jsonschema(config)

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A pydantic model of the input."""
        return self.graph.get_input_schema(config)

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A pydantic model of the output."""
        return self.graph.get_output_schema(config)

    def get_graph(self, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The drawable nodes and edges (``.draw_mermaid()``)."""
        return self.graph.get_graph(config, **kwargs)


def _sources(source: str | list[str]) -> str | list[str]:
    if isinstance(source, list):
        return [node_name(s) for s in source]
    return node_name(source)
