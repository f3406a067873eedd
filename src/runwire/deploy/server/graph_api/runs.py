"""The runs routes: on a thread (create, wait, stream, get, list, join, cancel) and
stateless (``/runs/wait``, ``/runs/stream``).

``wait`` answers the run's last values (with ``__interrupt__`` when it stopped at an
interrupt, ``__error__`` when it failed, as LangGraph Server does); ``stream`` answers
server-sent events (:mod:`.sse`); a client leaving a stream cancels its run, as
``on_disconnect="cancel"`` does. ``POST /threads/{id}/runs`` starts a background run
that ``join`` waits for - on this replica or, through the shared database, on another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runwire.deploy.server.endpoints import SSE_HEADERS
from runwire.deploy.server.graph_api.execution import GraphRuns, Outcome, PreparedRun
from runwire.deploy.server.graph_api.http import (
    ApiError,
    Handler,
    answer_errors,
    json_response,
    log_fields,
    read_body,
    read_query,
)
from runwire.deploy.server.graph_api.models import CancelQuery, RunListQuery, RunRequest
from runwire.deploy.server.graph_api.sse import frame
from runwire.deploy.server.graph_api.store import FINAL_RUN_STATUSES, ThreadRow

__all__ = ["RunRoutes", "thread_result"]

JOIN_POLL_S = 0.25
"""How often ``join`` reads a run held by another replica."""


def thread_result(thread: ThreadRow) -> Any:
    """A thread's latest values, with ``__interrupt__`` while interrupts wait."""
    if thread.status != "interrupted":
        return thread.values
    waiting = [i for interrupts in thread.interrupts.values() for i in interrupts]
    values = thread.values if isinstance(thread.values, dict) else {}
    return {**values, "__interrupt__": waiting}


def _location(run: PreparedRun) -> dict[str, str]:
    if run.thread_id is None:
        return {"Content-Location": f"/runs/{run.run_id}"}
    return {"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"}


class RunRoutes:
    """The handlers (see the module docstring)."""

    def __init__(self, runs: GraphRuns, max_json_depth: int) -> None:
        self.runs = runs
        self.store = runs.store
        self.max_json_depth = max_json_depth

    def routes(self) -> list[tuple[str, str, Handler]]:
        """``(method, path, handler)`` of every route."""
        t = "/threads/{thread_id}/runs"
        r = t + "/{run_id}"
        return [
            ("POST", t, self.create),
            ("GET", t, self.list),
            ("POST", t + "/wait", self.wait),
            ("POST", t + "/stream", self.stream),
            ("GET", r, self.get),
            ("GET", r + "/join", self.join),
            ("GET", r + "/stream", self.join_stream),
            ("POST", r + "/cancel", self.cancel),
            ("POST", "/runs/wait", self.wait),
            ("POST", "/runs/stream", self.stream),
        ]

    async def _start(self, request: Request, *, background: bool = False) -> PreparedRun:
        """The request's run, its thread taken (when it has one)."""
        thread_id = request.path_params.get("thread_id")
        body = await read_body(request, RunRequest, self.max_json_depth)
        run = self.runs.prepare(body, thread_id)
        if thread_id is not None:
            await self.runs.begin(run, background=background)
        log_fields(request, pipeline=run.graph.name, run_id=run.run_id, thread_id=thread_id)
        return run

    @answer_errors
    async def wait(self, request: Request) -> Response:
        """``POST .../runs/wait``: run to the end; the last values."""
        run = await self._start(request)
        started = time.perf_counter()
        outcome = Outcome()
        try:
            await self.runs.run_to_end(run, outcome)
        except asyncio.CancelledError:
            outcome.ended = "cancelled"
            raise
        finally:
            await self.runs.finish(run, outcome, started)
        if outcome.error_info is not None:
            return json_response({"__error__": outcome.error_info}, headers=_location(run))
        return json_response(outcome.result(), headers=_location(run))

    @answer_errors
    async def stream(self, request: Request) -> Response:
        """``POST .../runs/stream``: the run as server-sent events."""
        run = await self._start(request)
        started = time.perf_counter()

        async def frames() -> AsyncIterator[bytes]:
            outcome = Outcome()
            try:
                yield frame("metadata", {"run_id": run.run_id, "attempt": 1})
                async for data in self.runs.execute(run, outcome):
                    yield data
            except BaseException:
                outcome.ended = "cancelled"
                raise
            finally:
                await self.runs.finish(run, outcome, started)

        headers = {**SSE_HEADERS, **_location(run)}
        return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)

    @answer_errors
    async def create(self, request: Request) -> Response:
        """``POST /threads/{id}/runs``: start a background run; the run record."""
        run = await self._start(request, background=True)
        if run.thread_id is None:  # pragma: no cover - the route always has a thread
            raise ApiError(404, "background runs need a thread")
        self.runs.start_background(run, time.perf_counter())
        found = await self.store.run(run.thread_id, run.run_id)
        assert found is not None
        return json_response(found.to_json(), headers=_location(run))

    async def _run_row(self, request: Request) -> Any:
        thread_id = request.path_params["thread_id"]
        run_id = request.path_params["run_id"]
        log_fields(request, run_id=run_id, thread_id=thread_id)
        found = await self.store.run(thread_id, run_id)
        if found is None:
            raise ApiError(404, f"run {run_id!r} of thread {thread_id!r} not found")
        return found

    @answer_errors
    async def get(self, request: Request) -> Response:
        """``GET /threads/{id}/runs/{run_id}``."""
        return json_response((await self._run_row(request)).to_json())

    @answer_errors
    async def list(self, request: Request) -> Response:
        """``GET /threads/{id}/runs``: newest first."""
        query = read_query(request, RunListQuery)
        thread_id = request.path_params["thread_id"]
        rows = await self.store.runs(
            thread_id, limit=query.limit, offset=query.offset, status=query.status
        )
        return json_response([row.to_json() for row in rows])

    async def _wait_for(self, row: Any) -> None:
        """Until the run ends (or the request's time is up)."""
        local = self.runs.background.get(row.run_id)
        if local is not None:
            await asyncio.wait([local[0]], timeout=self.runs.timeout)
            return
        deadline = time.monotonic() + self.runs.timeout
        while row.status not in FINAL_RUN_STATUSES and time.monotonic() < deadline:
            thread = await self.store.thread(row.thread_id)
            if thread is None or thread.run_id != row.run_id or thread.effective_status() != "busy":
                return  # released (or its replica died: the lease ran out)
            await asyncio.sleep(JOIN_POLL_S)
            row = await self.store.run(row.thread_id, row.run_id) or row

    @answer_errors
    async def join(self, request: Request) -> Response:
        """``GET .../runs/{run_id}/join``: wait for the run; the thread's values."""
        row = await self._run_row(request)
        await self._wait_for(row)
        thread = await self.store.thread(row.thread_id)
        if thread is None:
            raise ApiError(404, f"thread {row.thread_id!r} not found")
        return json_response(thread_result(thread))

    @answer_errors
    async def join_stream(self, request: Request) -> Response:
        """``GET .../runs/{run_id}/stream``: a background run of this replica's events,
        from its start; another replica's run, or an ended one, its final ``values``."""
        row = await self._run_row(request)
        channel = self.runs.channels.get(row.run_id)

        async def frames() -> AsyncIterator[bytes]:
            yield frame("metadata", {"run_id": row.run_id, "attempt": 1})
            if channel is not None:
                async for data in channel.follow():
                    yield data
                return
            await self._wait_for(row)
            thread = await self.store.thread(row.thread_id)
            if thread is not None and thread.values is not None:
                yield frame("values", thread_result(thread))

        return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)

    @answer_errors
    async def cancel(self, request: Request) -> Response:
        """``POST .../runs/{run_id}/cancel``: stop a background run, on this replica at
        once, on another through the database (that replica polls for requests)."""
        query = read_query(request, CancelQuery)
        row = await self._run_row(request)
        task = self.runs.cancel_background(row.run_id)
        if task is not None:
            if query.wait:
                await asyncio.wait([task], timeout=self.runs.timeout)
            return Response(status_code=202 if not query.wait else 204)
        if row.status in FINAL_RUN_STATUSES:
            raise ApiError(409, f"run {row.run_id!r} has ended ({row.status})")
        if not await self.store.request_cancel(row.thread_id, row.run_id):
            raise ApiError(
                409,
                f"run {row.run_id!r} is a wait or stream run: cancel it by closing its request",
            )
        if query.wait:  # the replica running it polls for the request
            await self._wait_for(row)
        return Response(status_code=202 if not query.wait else 204)
