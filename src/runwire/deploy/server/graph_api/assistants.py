"""The assistants routes: one assistant per served graph, as LangGraph Server makes one
per graph of its ``langgraph.json`` (its id derived from the graph's name; the name
itself is accepted as an id too). Read-only: assistants come from the deployment."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runwire.deploy.server.graph_api.execution import GraphRuns
from runwire.deploy.server.graph_api.http import (
    Handler,
    answer_errors,
    json_response,
    log_fields,
    read_body,
)
from runwire.deploy.server.graph_api.models import AssistantSearch

__all__ = ["AssistantRoutes"]


class AssistantRoutes:
    """The handlers (see the module docstring)."""

    def __init__(self, runs: GraphRuns, max_json_depth: int) -> None:
        self.runs = runs
        self.max_json_depth = max_json_depth

    def routes(self) -> list[tuple[str, str, Handler]]:
        a = "/assistants/{assistant_id}"
        return [
            ("POST", "/assistants/search", self.search),
            ("POST", "/assistants/count", self.count),
            ("GET", a, self.get),
            ("GET", a + "/graph", self.graph),
            ("GET", a + "/schemas", self.schemas),
        ]

    def _found(self, request: Request) -> Any:
        graph = self.runs.graph(request.path_params["assistant_id"])
        log_fields(request, pipeline=graph.name)
        return graph

    def _matching(self, body: AssistantSearch) -> list[dict[str, Any]]:
        found = []
        for graph in self.runs.graphs.values():
            assistant = graph.assistant()
            if body.graph_id is not None and graph.name != body.graph_id:
                continue
            if body.name is not None and body.name.lower() not in graph.name.lower():
                continue
            metadata = assistant["metadata"]
            if any(metadata.get(k) != v for k, v in (body.metadata or {}).items()):
                continue
            found.append(assistant)
        key = body.sort_by or "created_at"
        found.sort(key=lambda a: (str(a[key]), a["assistant_id"]))
        if (body.sort_order or "desc") == "desc":
            found.reverse()
        return found

    @answer_errors
    async def search(self, request: Request) -> Response:
        """``POST /assistants/search``."""
        body = await read_body(request, AssistantSearch, self.max_json_depth)
        found = self._matching(body)[body.offset : body.offset + body.limit]
        if body.select:
            found = [{k: v for k, v in a.items() if k in body.select} for a in found]
        return json_response(found)

    @answer_errors
    async def count(self, request: Request) -> Response:
        """``POST /assistants/count``."""
        body = await read_body(request, AssistantSearch, self.max_json_depth)
        return json_response(len(self._matching(body)))

    @answer_errors
    async def get(self, request: Request) -> Response:
        """``GET /assistants/{id}``."""
        return json_response(self._found(request).assistant())

    @answer_errors
    async def graph(self, request: Request) -> Response:
        """``GET /assistants/{id}/graph``: nodes and edges."""
        return json_response(self._found(request).graph_json)

    @answer_errors
    async def schemas(self, request: Request) -> Response:
        """``GET /assistants/{id}/schemas``: input, output, state and config schemas."""
        return json_response(self._found(request).schemas)
