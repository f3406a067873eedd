"""Running graphs for the API: preparing a run from its request, running it with a
deadline, recording how it ended on its thread, and the runs started in the background.

A run on a thread first takes the thread (:meth:`GraphStore.claim`: a busy thread is a
409, as LangGraph Server's default ``multitask_strategy="reject"`` answers), runs with
``configurable.thread_id`` on the graph compiled with the deployment's checkpointer, and
then releases the thread with its outcome: its latest values, its status (``idle``,
``interrupted`` at an interrupt, ``error``) and the interrupts waiting for an answer.
Background runs (``POST /threads/{id}/runs``) count as requests in flight, so a SIGTERM
drain waits for them; one still running when the drain's time is up is cancelled and
its thread released: its checkpoints keep every finished step, so a run with no input
continues it, on any replica.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from runwire.deploy.server import protocol
from runwire.deploy.server.endpoints import failure
from runwire.deploy.server.graph_api.backend import LocalRuns
from runwire.deploy.server.graph_api.channel import RunChannel
from runwire.deploy.server.graph_api.http import ApiError
from runwire.deploy.server.graph_api.metrics import GraphMetrics
from runwire.deploy.server.graph_api.models import RunRequest
from runwire.deploy.server.graph_api.served import ServedGraph, interrupt_json
from runwire.deploy.server.graph_api.sse import Formatter, frame, graph_modes
from runwire.deploy.server.graph_api.store import GraphStore, RunRow, now

__all__ = ["GraphRuns", "Outcome", "PreparedRun"]

logger = logging.getLogger("runwire.serve")

CANCEL_POLL_S = 0.5
"""How often a replica with background runs reads cancel requests made on others."""
LEASE_MARGIN_S = 30.0
"""A thread's lease outlives its run's deadline by this much."""


@dataclass
class Outcome:
    """What a run did: its last values, steps, interrupts, and how it ended."""

    values: Any = None
    steps: int = 0
    interrupted: bool = False
    interrupts: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    error_info: dict[str, Any] | None = None
    """The ``error`` event's data, when the run failed."""
    ended: str = "success"
    """success, interrupted, error, timeout or cancelled."""

    def result(self) -> Any:
        """What ``wait`` and ``join`` answer: the values, with ``__interrupt__`` when the
        run stopped at an interrupt."""
        if not self.interrupted:
            return self.values
        values = self.values if isinstance(self.values, dict) else {}
        return {**values, "__interrupt__": [interrupt_json(i) for i in self.interrupts]}


@dataclass
class PreparedRun:
    """A validated run request, ready to run."""

    graph: ServedGraph
    run_id: str
    thread_id: str | None
    input: Any
    config: dict[str, Any]
    modes: list[str]
    options: dict[str, Any]
    off_loop: bool
    body: RunRequest


def error_json(exc: BaseException, graph: ServedGraph) -> dict[str, Any]:
    """``{"error": type, "message": text}`` for a failed run (secrets masked)."""
    endpoints = graph.endpoints
    status, kind, detail = failure(exc, graph.name, endpoints.timeout)
    endpoints.metrics.error(graph.name, kind)
    if isinstance(detail, str):
        message = detail
    elif isinstance(detail, list):
        message = "; ".join(str(problem.get("msg", "")) for problem in detail)
    else:
        message = f"{detail.get('provider')} {detail.get('operation')}: {detail.get('code')}"
    name = type(exc).__name__ if status != 500 else "InternalServerError"
    return {"error": name, "message": message, "status_code": status}


class GraphRuns:
    """The runs of every served graph (see the module docstring)."""

    def __init__(
        self,
        graphs: dict[str, ServedGraph],
        store: GraphStore,
        metrics: GraphMetrics,
        state: Any,
        timeout: float,
        local: LocalRuns | None = None,
    ) -> None:
        self.graphs = graphs
        self.by_assistant = {g.assistant_id: g for g in graphs.values()}
        self.store = store
        self.metrics = metrics
        self.state = state
        self.timeout = timeout
        self.local = LocalRuns() if local is None else local
        """This process's background runs (the backend's: shared by every build)."""
        self.background: dict[str, tuple[asyncio.Task[Any], PreparedRun]] = self.local.tasks
        self.channels: dict[str, RunChannel] = self.local.channels
        """The frames of this process's background runs, for ``join_stream``."""
        self.paths: list[str] = []
        """The API's route templates (set when mounted)."""

    def graph(self, assistant_id: str) -> ServedGraph:
        """The graph of an assistant, by its id or its graph's name (404 otherwise)."""
        found = self.by_assistant.get(assistant_id) or self.graphs.get(assistant_id)
        if found is None:
            raise ApiError(404, f"assistant {assistant_id!r} not found")
        return found

    # -- preparing -------------------------------------------------------------------
    def prepare(self, body: RunRequest, thread_id: str | None) -> PreparedRun:
        """The run ``body`` asks for (422 for what the graph does not accept)."""
        from runwire.graph.types import Command

        graph = self.graph(body.assistant_id)
        endpoints = graph.endpoints
        config = endpoints.decode_config(body.config, ("body", "config"))
        configurable = dict(config.get("configurable") or {})
        off_loop = endpoints._off_loop([config])
        if thread_id is not None:
            configurable["thread_id"] = thread_id
            checkpoint_id = body.checkpoint_id or (
                body.checkpoint and body.checkpoint.checkpoint_id
            )
            if checkpoint_id:
                configurable["checkpoint_id"] = checkpoint_id
        else:
            configurable.pop("thread_id", None)
        config["configurable"] = configurable
        if body.command is not None:
            command = body.command
            goto = [command.goto] if isinstance(command.goto, str) else list(command.goto or ())
            self._check_nodes(graph, goto, ("body", "command", "goto"))
            update = protocol.decode_objects(command.update) if command.update else None
            value: Any = Command(resume=command.resume, update=update, goto=goto)
        elif body.input is None:
            value = None
        else:
            value = endpoints.decode_input(body.input, ("body", "input"))
        options: dict[str, Any] = {"subgraphs": body.stream_subgraphs}
        for key in ("interrupt_before", "interrupt_after"):
            names = getattr(body, key)
            if names is not None:
                if names != "*":
                    self._check_nodes(graph, names, ("body", key))
                options[key] = names
        if body.durability is not None:
            options["durability"] = body.durability
        if body.context:
            options["context"] = body.context
        return PreparedRun(
            graph,
            config["run_id"],
            thread_id,
            value,
            config,
            body.modes(),
            options,
            off_loop,
            body,
        )

    @staticmethod
    def _check_nodes(graph: ServedGraph, names: list[str], loc: tuple[str, ...]) -> None:
        unknown = sorted(set(names) - graph.nodes - {"__end__"})
        if unknown:
            known = ", ".join(sorted(graph.nodes))
            raise protocol.invalid(loc, "unknown_node", f"no node {unknown[0]!r}; nodes: {known}")

    # -- running ---------------------------------------------------------------------
    async def execute(self, run: PreparedRun, outcome: Outcome) -> AsyncIterator[bytes]:
        """Run the graph; yields the SSE frames of the asked modes and fills ``outcome``.

        A failure ends it with an ``error`` frame (never an exception); a cancellation
        (a client that left, a drain that ran out of time) propagates.
        """
        graph = run.graph
        runnable = graph.threaded if run.thread_id is not None else graph.stateless
        subgraphs = run.options["subgraphs"]
        formatter = Formatter(run.modes)

        modes = graph_modes(run.modes)
        offloader = graph.endpoints.offloader
        if run.off_loop:  # the sync path on a worker thread: checkpoints written inline there
            sync = runnable.stream(run.input, run.config, stream_mode=modes, **run.options)
            parts: Any = offloader.iterate(sync)
        else:
            parts = runnable.astream(run.input, run.config, stream_mode=modes, **run.options)
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            while True:
                async with asyncio.timeout_at(deadline):
                    part = await anext(parts, None)
                if part is None:
                    break
                ns, mode, chunk = part if subgraphs else ((), *part)
                if not ns:
                    _observe(outcome, mode, chunk)
                for data in formatter(ns, mode, chunk):
                    yield data
        except Exception as exc:
            outcome.error = exc
            outcome.ended = "timeout" if isinstance(exc, TimeoutError) else "error"
            outcome.error_info = error_json(exc, graph)
            yield frame("error", outcome.error_info)
        finally:
            await parts.aclose()  # type: ignore[attr-defined]
        if outcome.error is None and outcome.interrupted:
            outcome.ended = "interrupted"

    async def begin(self, run: PreparedRun, *, background: bool = False) -> RunRow:
        """Take the run's thread (404 unknown thread, 409 busy) and record the run."""
        assert run.thread_id is not None
        at = now()
        row = RunRow(
            run.run_id,
            run.thread_id,
            run.graph.assistant_id,
            at,
            at,
            "running",
            run.body.metadata or {},
            "reject",
            background,
        )
        create = run.body.if_not_exists == "create"
        lease = self.timeout + LEASE_MARGIN_S
        taken = await self.store.claim(run.thread_id, row, run.graph.name, lease, create=create)
        if taken == "missing":
            raise ApiError(404, f"thread {run.thread_id!r} not found")
        if taken == "busy":
            raise ApiError(409, f"thread {run.thread_id!r} is busy with another run")
        self.metrics.in_progress.inc()
        return row

    async def finish(self, run: PreparedRun, outcome: Outcome, started: float) -> None:
        """Record how the run ended, on its thread and in the metrics."""
        graph = run.graph
        if run.thread_id is not None:
            self.metrics.in_progress.dec()
            await asyncio.shield(self._release(run, outcome))
        self.metrics.finished(
            graph.name,
            outcome.ended,
            time.perf_counter() - started,
            outcome.steps,
            outcome.interrupted,
        )

    async def _release(self, run: PreparedRun, outcome: Outcome) -> None:
        assert run.thread_id is not None
        interrupts: dict[str, Any] = {}
        values = outcome.values
        thread_status = {"error": "error", "timeout": "error"}.get(outcome.ended, "idle")
        if outcome.ended in ("interrupted", "cancelled", "timeout"):
            try:  # the thread's waiting interrupts, and its values at its last checkpoint
                config = {"configurable": {"thread_id": run.thread_id}}
                snapshot = await run.graph.threaded.aget_state(config)
                values = snapshot.values
                for task in snapshot.tasks:
                    if task.interrupts:
                        interrupts[task.id] = [interrupt_json(i) for i in task.interrupts]
                if snapshot.next and outcome.ended == "interrupted":
                    thread_status = "interrupted"
            except Exception as exc:  # the run's outcome is recorded all the same
                logger.error("graph %s: reading the thread failed: %s", run.graph.name, exc)
        run_status = {"success": "success", "error": "error", "timeout": "timeout"}.get(
            outcome.ended, "interrupted"
        )
        await self.store.release(
            run.thread_id,
            run.run_id,
            run_status=run_status,
            thread_status=thread_status,
            values=values,
            interrupts=interrupts,
        )

    async def run_to_end(self, run: PreparedRun, outcome: Outcome) -> None:
        """Run without streaming to anyone (``wait``, background runs); off the loop,
        the whole run is one call on a worker thread."""
        if not run.off_loop:
            async for _ in self.execute(run, outcome):
                pass
            return
        graph = run.graph
        runnable = graph.threaded if run.thread_id is not None else graph.stateless
        subgraphs = run.options["subgraphs"]

        def consume() -> None:
            for part in runnable.stream(
                run.input, run.config, stream_mode=graph_modes(run.modes), **run.options
            ):
                ns, mode, chunk = part if subgraphs else ((), *part)
                if not ns:
                    _observe(outcome, mode, chunk)

        try:
            async with asyncio.timeout(self.timeout):
                await graph.endpoints.offloader.call(consume)
        except Exception as exc:
            outcome.error = exc
            outcome.ended = "timeout" if isinstance(exc, TimeoutError) else "error"
            outcome.error_info = error_json(exc, graph)
            return
        if outcome.interrupted:
            outcome.ended = "interrupted"

    # -- background runs -------------------------------------------------------------
    def start_background(self, run: PreparedRun, started: float) -> None:
        """Run in a task of its own; the drain of a SIGTERM waits for it."""
        task = asyncio.create_task(self._background(run, started), name=f"run-{run.run_id}")
        self.background[run.run_id] = (task, run)
        poller = self.local.poller
        if poller is None or poller.done():
            self.local.poller = asyncio.create_task(self._poll_cancels(), name="runwire-cancels")

    async def _poll_cancels(self) -> None:
        """While background runs run here: cancel those another replica was asked to."""
        while self.background:
            await asyncio.sleep(CANCEL_POLL_S)
            try:
                asked = await self.store.cancelling(list(self.background))
            except Exception as exc:  # the database is away: try again next time
                logger.warning("reading cancel requests failed: %s", type(exc).__name__)
                continue
            for run_id in asked:
                self.cancel_background(run_id)

    async def _background(self, run: PreparedRun, started: float) -> None:
        outcome = Outcome()
        channel = self.channels[run.run_id] = RunChannel()
        self.state.in_flight += 1
        try:  # step by step, so a cancel stops it between steps even off the loop
            async for data in self.execute(run, outcome):
                await channel.put(data)
        except asyncio.CancelledError:
            outcome.ended = "cancelled"
        finally:
            self.state.in_flight -= 1
            try:
                await self.finish(run, outcome, started)
            finally:
                self.background.pop(run.run_id, None)
                self.channels.pop(run.run_id, None)
                await channel.close()

    def cancel_background(self, run_id: str) -> asyncio.Task[Any] | None:
        """Cancel a background run of this process; its task, or None when not here."""
        found = self.background.get(run_id)
        if found is None:
            return None
        found[0].cancel()
        return found[0]

    def thread_runs(self, thread_id: str) -> list[str]:
        """Ids of this process's background runs on ``thread_id``."""
        return [rid for rid, (_, run) in self.background.items() if run.thread_id == thread_id]

    async def shutdown(self) -> None:
        """Cancel the background runs still running (the drain's time is up) and release
        their threads, so another replica can continue them."""
        await self.local.stop()


def _observe(outcome: Outcome, mode: str, chunk: Any) -> None:
    if mode == "values":
        outcome.values = chunk
    elif mode == "updates" and isinstance(chunk, dict):
        for node, update in chunk.items():
            if node == "__interrupt__":
                outcome.interrupted = True
                outcome.interrupts.extend(update or ())
            else:
                outcome.steps += 1
