"""Running the server: build from the environment, serve with uvicorn, drain on SIGTERM.

One worker runs in this process (with ``--reload``, a watcher thread rebuilds it when
a served file changes: :mod:`.reload`). With ``--workers N`` a small supervisor binds the
socket once, starts N spawned worker processes that share it, forwards SIGTERM to them
and restarts a worker that dies (not one that fails to start: that stops everything).

SIGTERM drains: the worker keeps its socket open and answers new requests 503 while
the requests in flight finish (up to ``drain_timeout_s``), then exits 0.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from runwire.deploy.server.access_log import RequestRecorder, access_log_config
from runwire.deploy.server.app import create_app
from runwire.deploy.server.connection import limited_protocol
from runwire.deploy.server.guard import ServerState
from runwire.errors import RunwireError
from runwire.redaction import install_log_redaction, redact
from runwire.telemetry import OtelTracer, otel_enabled, require_otel, serve_tracer

__all__ = [
    "DrainingServer",
    "ServeSpec",
    "build_service",
    "graph_backend",
    "read_targets",
    "serve",
    "served_app",
    "uvicorn_config",
]

logger = logging.getLogger("runwire.serve")

STARTUP_FAILURE = 3
"""Exit code of a worker that could not build its pipelines."""

_LIMITS = ("max_body_bytes", "request_timeout_s", "max_concurrency", "drain_timeout_s")


@dataclass(frozen=True)
class ServeSpec:
    """What ``runwire serve`` was asked for: targets, plus flags that override settings."""

    targets: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Server settings given on the command line (host, port, workers, limits)."""
    reload: bool = False
    """Rebuild when a served file changes (one process only)."""


@dataclass
class Service:
    """A built service: the app, its shared state and the effective server settings."""

    app: Any
    state: ServerState
    server: Any  # runwire.deploy.settings.ServerSettings
    pipelines: Mapping[str, Any]
    log_level: str
    deployment: Any = None  # runwire.deploy.deployment.Deployment
    graph_backend: Any = None
    """Where served graphs keep threads (a reload's build takes over its predecessor's)."""


def effective_server(settings: Any, limits: Any, overrides: Mapping[str, Any]) -> Any:
    """Server settings by precedence: defaults < runwire.yaml < RUNWIRE_SERVER__* < flags."""
    server = settings.server
    from_file = {
        name: getattr(limits, name)
        for name in _LIMITS
        if limits is not None and getattr(limits, name, None) is not None
    }
    from_env = {name: getattr(server, name) for name in server.model_fields_set}
    given = {name: value for name, value in overrides.items() if value is not None}
    return type(server).model_validate({**server.model_dump(), **from_file, **from_env, **given})


def read_targets(spec: ServeSpec, settings: Any) -> Any:
    """The deployment ``spec`` names: a runwire.yaml (or a folder holding one), or
    manifests served under their file stems; by default ``settings.deployment``."""
    from runwire.deploy.deployment import (
        DEPLOYMENT_FILE_NAMES,
        deployment_for_files,
        is_deployment_file,
        read_deployment,
    )

    targets = [Path(t) for t in spec.targets] or [settings.deployment or Path("runwire.yaml")]
    if len(targets) == 1 and targets[0].is_dir():
        folder = targets[0]
        found = [folder / name for name in DEPLOYMENT_FILE_NAMES if (folder / name).is_file()]
        targets = found[:1] or [folder / DEPLOYMENT_FILE_NAMES[0]]
    if len(targets) == 1 and is_deployment_file(targets[0]):
        return read_deployment(targets[0], env=settings.env)
    return deployment_for_files(targets)


def build_service(
    spec: ServeSpec,
    *,
    environ: Mapping[str, str] | None = None,
    state: ServerState | None = None,
    previous: Service | None = None,
) -> Service:
    """Read settings and the deployment, resolve secrets, build every pipeline and the app.

    Raises the deployment's errors (a missing secret names the secret, the pipeline and
    the field) before anything listens. ``state`` is shared with an earlier build (a
    reload), so a drain counts the requests of both. A reload's build keeps the
    ``previous`` build's graph backend (its open checkpointer and thread tables): one
    per process, however many reloads.
    """
    from runwire.deploy.pipelines import build_pipelines
    from runwire.deploy.secrets import secret_resolver
    from runwire.deploy.settings import load_settings

    settings = load_settings()
    deployment = read_targets(spec, settings)
    secrets = secret_resolver(settings)
    pipelines = build_pipelines(deployment, secrets, env=environ)
    server = effective_server(settings, deployment.server, spec.overrides)
    state = ServerState() if state is None else state
    sole_writer = server.workers <= 1
    if previous is not None and previous.graph_backend is not None:
        backend = previous.graph_backend
        if _checkpointer_of(previous.deployment) != _checkpointer_of(deployment):
            logger.warning(
                "the checkpointer setting changed: it takes effect on a restart; "
                "graphs keep their threads where they are"
            )
    else:
        backend = graph_backend(deployment, secrets, sole_writer=sole_writer)
    app = create_app(
        pipelines,
        api_keys=settings.api_keys,
        max_body_bytes=server.max_body_bytes,
        body_timeout_s=server.body_timeout_s,
        request_timeout_s=server.request_timeout_s,
        max_concurrency=server.max_concurrency,
        max_json_depth=server.max_json_depth,
        offload=server.offload,
        state=state,
        graph_backend=backend,
    )
    return Service(
        app=app,
        state=state,
        server=server,
        pipelines=pipelines,
        log_level=settings.log_level,
        deployment=deployment,
        graph_backend=backend,
    )


def _checkpointer_of(deployment: Any) -> str | None:
    setting = getattr(deployment, "checkpointer", None)
    return None if setting is None else setting.model_dump_json()


def graph_backend(deployment: Any, secrets: Any, *, sole_writer: bool = False) -> Any:
    """Where served graphs keep threads: the deployment's ``checkpointer:`` (SQLite by
    default), opened when the server starts; ``sole_writer`` when this is the server's
    only process (see :func:`~runwire.deploy.checkpointers.open_async_checkpointer`)."""
    from runwire.deploy.checkpointers import open_async_checkpointer
    from runwire.deploy.server.graph_api import GraphBackend

    setting = getattr(deployment, "checkpointer", None)
    return GraphBackend(lambda: open_async_checkpointer(setting, secrets, sole_writer=sole_writer))


def served_app(service: Service) -> Any:
    """The app as served: with the access log and OpenTelemetry tracing when they are on
    (``server.access_log``, ``server.otel``; see :mod:`.access_log`, :mod:`runwire.telemetry`)."""
    server = service.server
    factories = []
    if otel_enabled(server.otel):
        tracer = serve_tracer()
        record_io = server.otel_record_io

        def tracing(pipeline: str) -> OtelTracer:
            return OtelTracer(tracer, pipeline=pipeline, record_io=record_io)

        factories.append(tracing)
    if not server.access_log and not factories:
        return service.app
    return RequestRecorder(
        service.app, pipelines=service.pipelines, log=server.access_log, factories=factories
    )


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first SIGTERM drains instead of closing the socket."""

    def __init__(self, config: uvicorn.Config, state: ServerState, drain_timeout: float) -> None:
        super().__init__(config)
        self.state = state
        self.drain_timeout = drain_timeout
        self._deadline: float | None = None

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: start draining (not re-raised later, so the exit code is 0)."""
        if sig == signal.SIGTERM and not self.state.draining:
            self.state.draining = True
            self._deadline = time.monotonic() + self.drain_timeout
            logger.info("SIGTERM: draining %d request(s) in flight", self.state.in_flight)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        """Stop once draining has nothing left in flight, or its time is up."""
        draining = self._deadline is not None and not self.should_exit
        idle = self.state.in_flight == 0 and self.state.reading == 0
        if draining and (idle or time.monotonic() >= self._deadline):
            self.should_exit = True
        return await super().on_tick(counter)


def _log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, with runwire's own loggers on the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["runwire"] = {
        "handlers": ["default"],
        "level": log_level.upper(),
        "propagate": False,
    }
    formatter, handler, logger = access_log_config()
    config["formatters"]["runwire_access"] = formatter
    config["handlers"]["runwire_access"] = handler
    config["loggers"]["runwire.access"] = logger
    return config


def uvicorn_config(app: Any, server: Any, log_level: str = "info") -> uvicorn.Config:
    """uvicorn's config for ``server`` (a ServerSettings): address, logging (secrets
    masked in every line), keep-alive, and the header limits of :mod:`.connection`."""
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        http=limited_protocol(server.max_header_bytes, server.header_timeout_s),
        log_level=log_level,
        log_config=_log_config(log_level),
        access_log=False,
        timeout_keep_alive=server.keep_alive_timeout_s,  # type: ignore[arg-type]
        timeout_graceful_shutdown=max(1, int(server.drain_timeout_s)),
        server_header=False,
    )
    install_log_redaction()  # uvicorn.Config has just set up the handlers
    install_log_redaction("runwire.access")
    return config


def _announce(service: Service, workers: int) -> None:
    server = service.server
    for name in service.pipelines:
        print(
            f"serving /{name}/  (invoke, batch, stream, stream_events, *_schema)", file=sys.stderr
        )
    from runwire.deploy.server.graph_api import is_graph

    graphs = [name for name, p in service.pipelines.items() if is_graph(p.runnable)]
    if graphs:
        print(
            f"graphs {', '.join(graphs)}: LangGraph API at /assistants, /threads, /runs",
            file=sys.stderr,
        )
    print(
        f"runwire serve: http://{server.host}:{server.port}  workers={workers}  "
        f"docs at /docs, health at /healthz and /readyz",
        file=sys.stderr,
    )


def serve(spec: ServeSpec) -> int:
    """Serve until stopped; the exit code (0 after a drain)."""
    service = build_service(spec)  # fails fast, in this process, on any deployment error
    workers = service.server.workers
    if spec.reload and workers > 1:
        raise RunwireError(
            f"--reload serves from one process, but workers is {workers}: unset "
            "RUNWIRE_SERVER__WORKERS (or drop --workers) while developing with --reload"
        )
    if otel_enabled(service.server.otel):
        require_otel()  # here, not in each worker
    _announce(service, workers)
    if spec.reload:
        from runwire.deploy.server.reload import serve_reloading

        serve_reloading(spec, service, _run)
        return 0
    if workers <= 1:
        _run(service)
        return 0
    sock = uvicorn_config(None, service.server, service.log_level).bind_socket()
    return Supervisor(spec, sock, workers, service.server.drain_timeout_s).run()


def _run(service: Service, sockets: list[socket.socket] | None = None, app: Any = None) -> None:
    """Serve ``app`` (default: ``service``'s, as :func:`served_app` wraps it) until stopped."""
    served = app if app is not None else served_app(service)
    config = uvicorn_config(served, service.server, service.log_level)
    DrainingServer(config, service.state, service.server.drain_timeout_s).run(sockets=sockets)


def _worker(spec: ServeSpec, sock: socket.socket) -> None:
    """One worker process: build the service again, then serve the shared socket."""
    try:
        service = build_service(spec)
    except Exception as exc:  # reported by the parent's own build already
        print(redact(f"runwire worker {os.getpid()}: {exc}"), file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    _run(service, [sock])


class Supervisor:
    """Starts ``workers`` processes on one socket; SIGTERM/SIGINT stop them gracefully."""

    def __init__(
        self,
        spec: ServeSpec,
        sock: socket.socket,
        workers: int,
        drain_timeout: float,
    ) -> None:
        self.spec = spec
        self.sock = sock
        self.workers = workers
        self.drain_timeout = drain_timeout
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()

    def _start(self) -> Any:
        process = self._context.Process(target=_worker, args=(self.spec, self.sock), daemon=False)
        process.start()
        return process

    def run(self) -> int:
        """Supervise until a signal; the exit code."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        processes = [self._start() for _ in range(self.workers)]
        code = 0
        while not self._stop.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    self._stop.set()
                    code = 1
                    break
                logger.warning(
                    "worker %s exited (%s); starting another", process.pid, process.exitcode
                )
                processes[index] = self._start()
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.drain_timeout + 5
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
                code = code or 1
        self.sock.close()
        return code
