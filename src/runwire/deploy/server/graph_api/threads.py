"""The threads routes: create, get, update, delete, search, and a thread's state (read,
edit, history).

A thread belongs to the graph of its first run (or of ``metadata.graph_id`` given at
creation; with one graph served, to that one); its state is read from the checkpointer
through that graph. The thread row (:mod:`.store`) keeps what listing needs without
loading checkpoints: metadata, status, latest values and waiting interrupts.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runwire.deploy.server import protocol
from runwire.deploy.server.graph_api.execution import GraphRuns
from runwire.deploy.server.graph_api.http import (
    ApiError,
    answer_errors,
    json_response,
    log_fields,
    read_body,
)
from runwire.deploy.server.graph_api.models import (
    CheckpointStateRequest,
    HistoryRequest,
    StateUpdateRequest,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
)
from runwire.deploy.server.graph_api.served import (
    ServedGraph,
    assistant_id_of,
    checkpoint_json,
    snapshot_json,
)
from runwire.deploy.server.graph_api.store import ThreadRow
from runwire.redaction import redact

__all__ = ["ThreadRoutes", "thread_json"]

MAX_SCAN = 10_000
"""Most threads a filtered search reads (metadata, values and status are matched here)."""


def thread_json(thread: ThreadRow) -> dict[str, Any]:
    """A thread as LangGraph Server shows it."""
    metadata = dict(thread.metadata)
    if thread.graph_id is not None:
        metadata.setdefault("graph_id", thread.graph_id)
        metadata.setdefault("assistant_id", assistant_id_of(thread.graph_id))
    return {
        "thread_id": thread.thread_id,
        "created_at": thread.created_at,
        "updated_at": thread.updated_at,
        "metadata": metadata,
        "status": thread.effective_status(),
        "values": thread.values,
        "interrupts": thread.interrupts,
        "config": {},
    }


def _matches(thread: dict[str, Any], search: ThreadSearch) -> bool:
    if search.status is not None and thread["status"] != search.status:
        return False
    for key, value in (search.metadata or {}).items():
        if thread["metadata"].get(key) != value:
            return False
    values = thread["values"] if isinstance(thread["values"], dict) else {}
    return all(values.get(key) == value for key, value in (search.values or {}).items())


class ThreadRoutes:
    """The handlers (see the module docstring)."""

    def __init__(self, runs: GraphRuns, max_json_depth: int) -> None:
        self.runs = runs
        self.store = runs.store
        self.max_json_depth = max_json_depth

    def routes(self) -> list[tuple[str, str, Any]]:
        t = "/threads/{thread_id}"
        return [
            ("POST", "/threads", self.create),
            ("POST", "/threads/search", self.search),
            ("GET", t, self.get),
            ("PATCH", t, self.patch),
            ("DELETE", t, self.delete),
            ("GET", t + "/state", self.get_state),
            ("POST", t + "/state", self.update_state),
            ("POST", t + "/state/checkpoint", self.state_at),
            ("GET", t + "/state/{checkpoint_id}", self.state_at),
            ("POST", t + "/history", self.history),
        ]

    async def _thread(self, request: Request) -> ThreadRow:
        thread_id = request.path_params["thread_id"]
        log_fields(request, thread_id=thread_id)
        found = await self.store.thread(thread_id)
        if found is None:
            raise ApiError(404, f"thread {thread_id!r} not found")
        return found

    def _graph_of(self, thread: ThreadRow) -> ServedGraph | None:
        name = thread.graph_id or thread.metadata.get("graph_id")
        if isinstance(name, str) and name in self.runs.graphs:
            return self.runs.graphs[name]
        if len(self.runs.graphs) == 1:
            return next(iter(self.runs.graphs.values()))
        return None

    @answer_errors
    async def create(self, request: Request) -> Response:
        """``POST /threads``."""
        body = await read_body(request, ThreadCreate, self.max_json_depth)
        thread_id = body.thread_id or str(uuid.uuid4())
        log_fields(request, thread_id=thread_id)
        created = await self.store.create_thread(thread_id, body.metadata or {})
        if not created and body.if_exists == "raise":
            raise ApiError(409, f"thread {thread_id!r} already exists")
        thread = await self.store.thread(thread_id)
        assert thread is not None
        return json_response(thread_json(thread))

    @answer_errors
    async def get(self, request: Request) -> Response:
        """``GET /threads/{id}``."""
        return json_response(thread_json(await self._thread(request)))

    @answer_errors
    async def patch(self, request: Request) -> Response:
        """``PATCH /threads/{id}``: merge metadata."""
        body = await read_body(request, ThreadPatch, self.max_json_depth)
        thread = await self._thread(request)
        await self.store.update_metadata(thread.thread_id, {**thread.metadata, **body.metadata})
        updated = await self.store.thread(thread.thread_id)
        assert updated is not None
        return json_response(thread_json(updated))

    @answer_errors
    async def delete(self, request: Request) -> Response:
        """``DELETE /threads/{id}``: the thread, its runs and its checkpoints."""
        thread = await self._thread(request)
        for run_id in self.runs.thread_runs(thread.thread_id):
            task = self.runs.cancel_background(run_id)
            if task is not None:
                await asyncio.wait([task], timeout=self.runs.timeout)
        if thread.effective_status() == "busy" and thread.run_id not in self.runs.background:
            current = await self.store.thread(thread.thread_id)
            if current is not None and current.effective_status() == "busy":
                raise ApiError(409, f"thread {thread.thread_id!r} is busy with a run")
        graph = self._graph_of(thread)
        if graph is not None:
            await graph.threaded.checkpointer.adelete_thread(thread.thread_id)
        await self.store.delete_thread(thread.thread_id)
        return Response(status_code=204)

    @answer_errors
    async def search(self, request: Request) -> Response:
        """``POST /threads/search``."""
        body = await read_body(request, ThreadSearch, self.max_json_depth)
        filtered = bool(body.metadata or body.values or body.status)
        rows = await self.store.threads(
            ids=body.ids,
            order_by=body.sort_by or "created_at",
            descending=(body.sort_order or "desc") == "desc",
            limit=MAX_SCAN if filtered else body.limit,
            offset=0 if filtered else body.offset,
        )
        threads = [thread_json(row) for row in rows]
        if filtered:
            threads = [t for t in threads if _matches(t, body)]
            threads = threads[body.offset : body.offset + body.limit]
        return json_response(threads)

    # -- state ----------------------------------------------------------------------
    def _graph(self, thread: ThreadRow) -> ServedGraph:
        graph = self._graph_of(thread)
        if graph is None:
            raise ApiError(409, f"thread {thread.thread_id!r} has no graph yet: run it first")
        return graph

    @staticmethod
    def _empty(thread: ThreadRow) -> dict[str, Any]:
        return {
            "values": {},
            "next": [],
            "checkpoint": {
                "thread_id": thread.thread_id,
                "checkpoint_ns": "",
                "checkpoint_id": None,
            },
            "metadata": None,
            "created_at": None,
            "parent_checkpoint": None,
            "tasks": [],
            "interrupts": [],
        }

    async def _state(self, thread: ThreadRow, checkpoint: dict[str, Any], subgraphs: bool) -> Any:
        graph = self._graph_of(thread)
        if graph is None:
            return self._empty(thread)
        config = {"configurable": {**checkpoint, "thread_id": thread.thread_id}}
        snapshot = await graph.threaded.aget_state(config, subgraphs=subgraphs)
        if snapshot.metadata is None and not snapshot.values:
            return self._empty(thread)
        return snapshot_json(snapshot)

    @answer_errors
    async def get_state(self, request: Request) -> Response:
        """``GET /threads/{id}/state``: the latest state."""
        thread = await self._thread(request)
        subgraphs = request.query_params.get("subgraphs", "false").lower() == "true"
        return json_response(await self._state(thread, {}, subgraphs))

    @answer_errors
    async def state_at(self, request: Request) -> Response:
        """``GET /threads/{id}/state/{checkpoint_id}``, ``POST .../state/checkpoint``."""
        thread = await self._thread(request)
        if request.method == "POST":
            body = await read_body(request, CheckpointStateRequest, self.max_json_depth)
            point = body.checkpoint.model_dump(exclude_none=True, exclude={"thread_id"})
            point.pop("checkpoint_map", None)
            subgraphs = body.subgraphs
        else:
            point = {"checkpoint_id": request.path_params["checkpoint_id"][:256]}
            subgraphs = request.query_params.get("subgraphs", "false").lower() == "true"
        return json_response(await self._state(thread, point, subgraphs))

    @answer_errors
    async def update_state(self, request: Request) -> Response:
        """``POST /threads/{id}/state``: write values as a node would."""
        body = await read_body(request, StateUpdateRequest, self.max_json_depth)
        thread = await self._thread(request)
        if thread.effective_status() == "busy":
            raise ApiError(409, f"thread {thread.thread_id!r} is busy with a run")
        graph = self._graph(thread)
        configurable: dict[str, Any] = {"thread_id": thread.thread_id}
        checkpoint_id = body.checkpoint_id or (body.checkpoint and body.checkpoint.checkpoint_id)
        if checkpoint_id:
            configurable["checkpoint_id"] = checkpoint_id
        if body.as_node is not None and body.as_node not in graph.nodes | {"__start__"}:
            raise protocol.invalid(("body", "as_node"), "unknown_node", f"no node {body.as_node!r}")
        values = protocol.decode_objects(body.values)
        try:
            saved = await graph.threaded.aupdate_state(
                {"configurable": configurable}, values, as_node=body.as_node
            )
        except (ValueError, KeyError, TypeError) as exc:
            problem = {"type": "invalid_update", "loc": ["body"], "msg": redact(str(exc))[:1000]}
            raise ApiError(422, [problem]) from None
        snapshot = await graph.threaded.aget_state(
            {"configurable": {"thread_id": thread.thread_id}}
        )
        status = "interrupted" if snapshot.next else "idle"
        await self.store.set_values(thread.thread_id, graph.name, snapshot.values, status)
        return json_response({"checkpoint": checkpoint_json(saved)})

    @answer_errors
    async def history(self, request: Request) -> Response:
        """``POST /threads/{id}/history``: states newest first."""
        body = await read_body(request, HistoryRequest, self.max_json_depth)
        thread = await self._thread(request)
        graph = self._graph_of(thread)
        if graph is None:
            return json_response([])
        configurable: dict[str, Any] = {"thread_id": thread.thread_id}
        if body.checkpoint is not None:
            configurable["checkpoint_ns"] = body.checkpoint.checkpoint_ns
            if body.checkpoint.checkpoint_id:
                configurable["checkpoint_id"] = body.checkpoint.checkpoint_id
        before = body.before
        if before is not None:
            before_id = before if isinstance(before, str) else before.checkpoint_id
            before = {"configurable": {"thread_id": thread.thread_id, "checkpoint_id": before_id}}
        states = [
            snapshot_json(snapshot)
            async for snapshot in graph.threaded.aget_state_history(
                {"configurable": configurable},
                filter=body.metadata or None,
                before=before,
                limit=body.limit,
            )
        ]
        return json_response(states)
