"""What the server records about each request: an access-log line, and run handlers.

:class:`RequestRecorder` is an ASGI middleware around the whole app. For a request to a
pipeline route (``/<name>/...``) it makes extra callback handlers (an OpenTelemetry
tracer, see :mod:`runwire.telemetry`) the inherited ones of every run the request
starts, through :func:`runwire.runtime.config.set_child_config`: the endpoints pass no
callbacks of their own, so the runs report to them without any change to the runnables.

With the access log on, each request ends with one JSON line on the ``runwire.access``
logger (stderr), e.g.::

    {"time":"2026-12-03T12:30:00.123Z","method":"POST","path":"/chat/invoke","status":200,
     "duration_ms":12.4,"pipeline":"chat","run_id":"5b0f...","client":"127.0.0.1:50312"}

(on one line). It never holds a body, a header or the query string: those may carry
secrets (``Authorization``, ``x-api-key``, ``?token=``) or personal data. ``run_id`` is
the id the response's metadata gives (``run_ids``, a list, for ``/batch``).

Lines are written by a thread of their own (:class:`BackgroundStreamHandler`), so a
stalled stderr - a pipe nobody reads - never blocks the server; past
``MAX_PENDING_LINES`` waiting, lines are dropped and counted.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from runwire.runtime.callbacks import CallbackContext, Run
from runwire.runtime.config import current_config, set_child_config

__all__ = [
    "ACCESS_LOGGER",
    "BackgroundStreamHandler",
    "HandlerFactory",
    "RequestRecorder",
    "access_log_config",
]

ACCESS_LOGGER = "runwire.access"
"""The logger access lines are written to."""

ROUTED_FIELDS = "runwire.access"
"""The scope key where a route leaves fields for its line (``pipeline``, ``run_id``,
``thread_id``): the graph API's paths name no pipeline."""

MAX_PATH_CHARS = 512
"""Longer paths are cut (a client chooses them)."""

MAX_PENDING_LINES = 10_000
"""Most lines waiting to be written; more are dropped (and their number reported)."""

FLUSH_TIMEOUT_S = 2.0
"""How long flushing (at exit) waits for the lines still queued."""

HandlerFactory = Callable[[str], Any]
"""Makes a callback handler for one request to the pipeline it is given."""

_logger = logging.getLogger(ACCESS_LOGGER)


class BackgroundStreamHandler(logging.Handler):
    """A logging handler writing lines to ``stream`` from a thread of its own.

    ``emit`` only queues the formatted line, so the event loop never waits on the
    stream. At most ``max_pending`` lines wait; more are dropped, and their number is
    written once there is room again. :meth:`flush` (called at exit by
    ``logging.shutdown``) waits up to ``FLUSH_TIMEOUT_S`` for the queue to empty.
    """

    def __init__(self, stream: Any = None, max_pending: int = MAX_PENDING_LINES) -> None:
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.dropped = 0
        self._queue: queue.Queue[str] = queue.Queue(max_pending)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return
        self._ensure_writer()
        try:
            if self.dropped:
                self._queue.put_nowait(f"runwire.access: {self.dropped} line(s) dropped\n")
                self.dropped = 0
            self._queue.put_nowait(line)
        except queue.Full:
            self.dropped += 1

    def _ensure_writer(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write, name="runwire-access-log", daemon=True
                )
                self._thread.start()

    def _write(self) -> None:
        while True:
            lines = [self._queue.get()]
            while len(lines) < 256:
                try:
                    lines.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                for line in lines:  # one write per line: whole lines, even with workers
                    self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # a closed stream: nothing to write to
                pass
            finally:
                for _ in lines:
                    self._queue.task_done()

    def flush(self) -> None:
        """Wait (bounded) until the queued lines are written."""
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)


def access_log_config() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(formatter, handler, logger) entries of a ``logging.config.dictConfig`` for
    ``runwire.access``: bare message lines on stderr, written off the event loop, not
    passed on to other loggers."""
    formatter = {"format": "%(message)s"}
    handler = {
        "()": BackgroundStreamHandler,
        "formatter": "runwire_access",
        "stream": "ext://sys.stderr",
    }
    logger = {"handlers": ["runwire_access"], "level": "INFO", "propagate": False}
    return formatter, handler, logger


class _RootRuns:
    """A callback handler keeping the ids of the runs a request starts at the top."""

    __slots__ = ("ids",)

    def __init__(self) -> None:
        self.ids: list[str] = []

    def on_start(self, run: Run) -> None:
        if not run.parent_ids:
            self.ids.append(str(run.id))


def _inherited_with(handlers: Sequence[Any]) -> dict[str, Any]:
    """The inherited config with ``handlers`` added to its callbacks."""
    config: dict[str, Any] = dict(current_config() or {})
    callbacks = config.get("callbacks")
    if isinstance(callbacks, CallbackContext):
        config["callbacks"] = callbacks.with_handlers(handlers)
    elif callbacks is None:
        config["callbacks"] = list(handlers)
    else:
        listed = list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
        config["callbacks"] = [*listed, *handlers]
    return config


def _client(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    host, port = client[0], client[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RequestRecorder:
    """ASGI middleware: the access-log line of each HTTP request (when ``log``), and the
    handlers of ``factories`` for the runs of pipeline requests."""

    def __init__(
        self,
        app: Any,
        *,
        pipelines: Iterable[str],
        log: bool = True,
        factories: Sequence[HandlerFactory] = (),
    ) -> None:
        self.app = app
        self.pipelines = frozenset(pipelines)
        self.log = log
        self.factories = tuple(factories)

    def _pipeline(self, path: str) -> str | None:
        name = path[1:].split("/", 1)[0]
        return name if name in self.pipelines else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        when = _now()
        pipeline = self._pipeline(scope.get("path", ""))
        status: list[int] = []

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        handlers: list[Any] = []
        roots = _RootRuns() if self.log else None
        if pipeline is not None:
            handlers = [factory(pipeline) for factory in self.factories]
            if roots is not None:
                handlers.append(roots)
        try:
            if handlers:
                with set_child_config(_inherited_with(handlers)):
                    await self.app(scope, receive, recording_send)
            else:
                await self.app(scope, receive, recording_send)
        except BaseException:
            status.append(500)  # what uvicorn answers when nothing was sent yet
            raise
        finally:
            if self.log:
                self._write(scope, when, started, status, pipeline, roots)

    def _write(
        self,
        scope: dict[str, Any],
        when: str,
        started: float,
        status: list[int],
        pipeline: str | None,
        roots: _RootRuns | None,
    ) -> None:
        line: dict[str, Any] = {
            "time": when,
            "method": scope.get("method"),
            "path": scope.get("path", "")[:MAX_PATH_CHARS],
            "status": status[0] if status else None,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "pipeline": pipeline,
        }
        ids = roots.ids if roots is not None else []
        if len(ids) == 1:
            line["run_id"] = ids[0]
        elif ids:
            line["run_ids"] = ids
        routed = scope.get(ROUTED_FIELDS)  # what a route knew (a graph API run's ids)
        if routed:
            line.update(
                {key: routed[key] for key in ("pipeline", "run_id", "thread_id") if key in routed}
            )
        line["client"] = _client(scope)
        _logger.info(orjson.dumps(line).decode())
