"""The LangGraph Server HTTP API for served graphs: what ``langgraph-sdk`` calls.

Assistants (one per graph: search, get, graph, schemas), threads (create, get, update,
delete, search, state, state edits, history) and runs (create, wait, stream with one or
several stream modes, get, list, join, cancel; stateless runs through ``/runs/wait``
and ``/runs/stream``; ``command={"resume": ...}`` continues an interrupt). Threads and
runs live next to the checkpoints (:mod:`.backend`, :mod:`.store`), so replicas sharing
a PostgreSQL database share them. Every route sits behind the server's guard (API keys,
body size and time, concurrency slots) and bodies are validated (:mod:`.models`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

from runwire.deploy.server.graph_api.assistants import AssistantRoutes
from runwire.deploy.server.graph_api.backend import GraphBackend
from runwire.deploy.server.graph_api.execution import GraphRuns
from runwire.deploy.server.graph_api.metrics import GraphMetrics
from runwire.deploy.server.graph_api.runs import RunRoutes
from runwire.deploy.server.graph_api.served import (
    THREAD_KEYS,
    ServedGraph,
    ThreadedGraph,
    is_graph,
)
from runwire.deploy.server.graph_api.threads import ThreadRoutes

__all__ = [
    "RESERVED_PREFIXES",
    "THREAD_KEYS",
    "GraphBackend",
    "GraphRuns",
    "ServedGraph",
    "ThreadedGraph",
    "created_at",
    "is_graph",
    "mount",
    "route_labeler",
    "threaded_forms",
]

RESERVED_PREFIXES = ("assistants", "threads", "runs")
"""First path segments the graph API takes: no pipeline may have these names then."""
RESERVED_PATHS = tuple(f"/{prefix}" for prefix in RESERVED_PREFIXES)

_ROUTE_CLASSES = (AssistantRoutes, ThreadRoutes, RunRoutes)


def threaded_forms(runnable: Any, saver: Any) -> tuple[Any, Any]:
    """``(stateless, threaded)``: a graph file compiled without and with ``saver``."""
    return runnable.compile(), runnable.compile(checkpointer=saver)


def mount(
    app: Any,
    graphs: Mapping[str, ServedGraph],
    backend: GraphBackend,
    *,
    registry: Any,
    state: Any,
    timeout: float,
    max_json_depth: int,
) -> GraphRuns:
    """Add the graph API's routes to ``app``, and open ``backend`` at its start-up (its
    shutdown, :meth:`GraphBackend.aclose`, is the app's: see ``create_app``)."""
    clash = sorted(set(graphs) & set(RESERVED_PREFIXES)) or sorted(
        set(getattr(state, "pipelines", ())) & set(RESERVED_PREFIXES)
    )
    if clash:
        raise ValueError(
            f"pipeline name {clash[0]!r} is taken by the graph API's /{clash[0]} routes; "
            "rename the pipeline"
        )
    metrics = GraphMetrics(registry)
    runs = GraphRuns(dict(graphs), backend.store, metrics, state, timeout, backend.runs)
    for cls in _ROUTE_CLASSES:
        for method, path, handler in cls(runs, max_json_depth).routes():
            runs.paths.append(path)
            app.add_api_route(
                path,
                handler,
                methods=[method],
                tags=["graphs"],
                name=f"graph_api_{method.lower()}_{path}",
                response_class=Response,
            )

    app.router.on_startup.append(backend.start)
    return runs


def route_labeler(paths: list[str]) -> Callable[[str], tuple[str, str] | None]:
    """Path -> ``("-", route template)`` for the graph API's routes ``paths`` (metrics
    labels: a bounded set, never a raw id)."""
    templates = sorted(set(paths), key=lambda t: (t.count("{"), -len(t)))  # literals first
    compiled = [(re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", t) + "$"), t) for t in templates]

    def label(path: str) -> tuple[str, str] | None:
        if not path.startswith(RESERVED_PATHS):
            return None
        for pattern, template in compiled:
            if pattern.match(path):
                return ("-", template)
        return None

    return label


def created_at() -> str:
    """When graphs were loaded: their assistants' creation time."""
    return datetime.now(UTC).isoformat()
