"""The FastAPI application serving built pipelines over LangServe's protocol.

Per pipeline ``/<name>/invoke``, ``/batch``, ``/stream``, ``/stream_events`` (POST) and
``/input_schema``, ``/output_schema``, ``/config_schema`` (GET); for the server
``/healthz``, ``/readyz``, ``/metrics`` and the OpenAPI docs (``/docs``, ``/redoc``,
``/openapi.json``). Each pipeline also has a playground page (``/<name>/playground/``,
see :mod:`.playground`). :class:`~runwire.deploy.server.guard.Guard` sits in front of it
all.

The docs pages load Swagger UI and ReDoc from this server (``/docs/static/``), never
from a CDN, so they work offline: the files come from the ``fastapi-offline`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response

from runwire import __version__
from runwire.deploy.server import graph_api
from runwire.deploy.server.cache_metrics import watch_caches
from runwire.deploy.server.endpoints import PipelineEndpoints
from runwire.deploy.server.guard import Guard, ServerState
from runwire.deploy.server.metrics import CONTENT_TYPE_LATEST, Metrics
from runwire.deploy.server.offload import Offloader, OffloadPolicy
from runwire.deploy.server.openapi import add_pipeline_schemas
from runwire.deploy.server.playground import Playground, public_labels
from runwire.deploy.server.protocol import encode

__all__ = ["create_app"]

_ROUTES = (
    # (route, method, handler attribute, summary)
    ("invoke", "POST", "invoke", "Run the pipeline on one input"),
    ("batch", "POST", "batch", "Run the pipeline on several inputs"),
    ("stream", "POST", "stream", "Stream the output as server-sent events"),
    ("stream_events", "POST", "stream_events", "Stream LangChain v2 events as server-sent events"),
    ("input_schema", "GET", "input_schema", "JSON Schema of the input"),
    ("output_schema", "GET", "output_schema", "JSON Schema of the output"),
    ("config_schema", "GET", "config_schema", "JSON Schema of the config clients may send"),
)


@dataclass(frozen=True)
class _Served:
    runnable: Any
    configurable: frozenset[str] = frozenset()


def _served(name: str, pipeline: Any) -> Any:
    """A pipeline as served: one with ``runnable``, or a plain runnable wrapped."""
    if hasattr(pipeline, "runnable") and hasattr(pipeline, "configurable"):
        return pipeline
    if callable(getattr(pipeline, "invoke", None)) and callable(getattr(pipeline, "ainvoke", None)):
        return _Served(pipeline)
    raise TypeError(
        f"create_app: pipeline {name!r} is a {type(pipeline).__name__}; expected a runnable "
        "or a runwire.deploy.Pipeline"
    )


DOCS_STATIC = "/docs/static"
"""Where Swagger UI's and ReDoc's files are served (``docs`` is no pipeline name)."""


def _public(pipelines: Sequence[str]) -> Callable[[str], tuple[str, str] | None]:
    """Paths anyone may GET (files that hold no data) -> their metrics labels."""
    playground = public_labels(pipelines)

    def labels(path: str) -> tuple[str, str] | None:
        if path.startswith(f"{DOCS_STATIC}/"):
            return ("-", "docs")
        return playground(path)

    return labels


def _secret(key: str | SecretStr) -> SecretStr:
    return key if isinstance(key, SecretStr) else SecretStr(key)


def create_app(
    pipelines: Mapping[str, Any],
    *,
    api_keys: Sequence[str | SecretStr] = (),
    max_body_bytes: int = 1_048_576,
    body_timeout_s: float = 30.0,
    request_timeout_s: float = 60.0,
    max_concurrency: int = 256,
    max_json_depth: int = 100,
    offload: OffloadPolicy = "configurable",
    state: ServerState | None = None,
    graph_backend: Any = None,
) -> FastAPI:
    """An app serving ``pipelines``: name -> a :class:`~runwire.deploy.pipelines.Pipeline`
    (or any object with ``runnable`` and ``configurable``), or a plain runnable, served
    with no configurable id allowed.

    ``state`` is shared with the runner, which flips ``draining`` on SIGTERM. The
    limits are those of :class:`~runwire.deploy.settings.ServerSettings`.

    Graph files are also served through the LangGraph Server API (see
    :mod:`.graph_api`), their threads kept by ``graph_backend`` (a
    :class:`~.graph_api.GraphBackend`; default: SQLite in memory). The app's shutdown
    closes the backend, stopping the background runs still running first.
    """
    pipelines = {name: _served(name, pipeline) for name, pipeline in pipelines.items()}
    state = state or ServerState()
    state.pipelines = tuple(pipelines)
    metrics = Metrics()
    watch_caches(metrics.registry, {name: p.runnable for name, p in pipelines.items()})
    offloader = Offloader(max_threads=max_concurrency)
    app: FastAPI = FastAPIOffline(
        title="runwire",
        version=__version__,
        description="Pipelines served by runwire over LangServe's protocol.",
        static_url=DOCS_STATIC,
    )
    graphs: dict[str, tuple[Any, Any]] = {}
    if any(graph_api.is_graph(p.runnable) for p in pipelines.values()):
        graph_backend = graph_backend or graph_api.GraphBackend()
        graphs = {
            name: graph_api.threaded_forms(p.runnable, graph_backend.saver)
            for name, p in pipelines.items()
            if graph_api.is_graph(p.runnable)
        }
    if graph_backend is not None:  # a reload's build may serve graphs the first had not
        app.router.on_shutdown.append(graph_backend.aclose)
    endpoints = {
        name: PipelineEndpoints(
            name,
            graph_api.ThreadedGraph(*graphs[name], graph_backend.start)
            if name in graphs
            else pipeline.runnable,
            thread_keys=graph_api.THREAD_KEYS if name in graphs else frozenset(),
            configurable=frozenset(pipeline.configurable),
            timeout=request_timeout_s,
            metrics=metrics,
            max_json_depth=max_json_depth,
            offload=offload,
            offloader=offloader,
        )
        for name, pipeline in pipelines.items()
    }
    for name, handlers in endpoints.items():
        for route, method, attribute, summary in _ROUTES:
            app.add_api_route(
                f"/{name}/{route}",
                getattr(handlers, attribute),
                methods=[method],
                tags=[name],
                summary=summary,
                name=f"{name}_{route}",
                response_class=Response,
            )

    labeler = None
    if graphs:
        stamp = graph_api.created_at()
        graph_runs = graph_api.mount(
            app,
            {
                name: graph_api.ServedGraph(name, *graphs[name], endpoints[name], stamp)
                for name in graphs
            },
            graph_backend,
            registry=metrics.registry,
            state=state,
            timeout=request_timeout_s,
            max_json_depth=max_json_depth,
        )
        labeler = graph_api.route_labeler(graph_runs.paths)

    playground = Playground(pipelines, keys_required=bool(api_keys))
    for path in playground.routes:
        app.add_api_route(
            path,
            playground.serve,
            methods=["GET"],
            include_in_schema=False,
            response_class=Response,
        )

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def readyz(request: Request) -> Response:
        ready = state.ready and not state.draining
        status = "ready" if ready else "draining" if state.draining else "starting"
        body = {"status": status, "pipelines": list(state.pipelines)}
        return Response(
            encode(body), status_code=200 if ready else 503, media_type="application/json"
        )

    async def metrics_route(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    for path, handler, summary in (
        ("/healthz", healthz, "Liveness: the process answers"),
        ("/readyz", readyz, "Readiness: every pipeline is built and the server is not draining"),
        ("/metrics", metrics_route, "Prometheus metrics"),
    ):
        app.add_api_route(path, handler, methods=["GET"], tags=["server"], summary=summary)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = add_pipeline_schemas(document, endpoints)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        Guard,
        state=state,
        metrics=metrics,
        routes=[route for route, *_ in _ROUTES],
        public=_public(state.pipelines),
        api_keys=[_secret(key) for key in api_keys],  # masked in reprs
        max_body_bytes=max_body_bytes,
        body_timeout_s=body_timeout_s,
        max_concurrency=max_concurrency,
        labeler=labeler,
    )
    app.state.runwire = state
    app.state.metrics = metrics
    state.ready = True
    return app
