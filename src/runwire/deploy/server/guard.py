"""The edge of the server: drain, API keys, body size and time, concurrency, metrics.

One pure ASGI middleware in front of the FastAPI app, so a refused request costs
almost nothing and never reaches a pipeline:

- while draining (after SIGTERM) every new request but health gets 503;
- with API keys set, every route but ``/healthz`` and ``/readyz`` needs one, sent as
  ``X-API-Key: KEY`` or ``Authorization: Bearer KEY`` (401 otherwise); the exception
  is a GET of a ``public`` path: files that hold no data (the playground page, the
  docs' script and style files), which a browser loads without custom headers;
- request bodies are read here, up to ``max_body_bytes`` (413 beyond) and within
  ``body_timeout_s`` (408 beyond), *before* the request takes a concurrency slot, so
  clients that send slowly cannot hold the slots;
- at most ``max_concurrency`` requests are handled at once (503 beyond, with
  ``Retry-After``): saturation is answered at once instead of queueing;
- every answered request is counted and timed in :class:`Metrics`, labelled by route
  template (``chat``, ``invoke``), never by raw path: unknown paths share one label,
  and so do requests refused before authentication.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import SecretStr

from runwire.deploy.server.metrics import Metrics

__all__ = ["Guard", "ServerState"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATHS = frozenset(("/healthz", "/readyz"))

SERVER_ROUTES: dict[str, str] = {
    "/metrics": "metrics",
    "/openapi.json": "openapi",
    "/docs": "docs",
    "/docs/oauth2-redirect": "docs",
    "/redoc": "docs",
}
"""Server paths (outside pipelines) -> their ``route`` label."""

UNMATCHED = ("-", "unmatched")
"""The labels of every path that is no route."""
UNAUTHENTICATED = ("-", "unauthenticated")
"""The labels of every request refused for want of an API key, whatever its path."""
DRAINING = ("-", "draining")
"""The labels of every request refused while draining."""


@dataclass
class ServerState:
    """What the guard, the health routes and the runner share within one worker."""

    ready: bool = False
    draining: bool = False
    in_flight: int = 0
    reading: int = 0
    """Requests whose body is being read (they hold no slot yet, but a drain waits)."""
    pipelines: Sequence[str] = field(default_factory=tuple)


def route_labels(pipelines: Iterable[str], routes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Every known path -> its ``(pipeline, route)`` labels: a bounded table."""
    routes = tuple(routes)
    table = {path: ("-", route) for path, route in SERVER_ROUTES.items()}
    for pipeline in pipelines:
        for route in routes:
            table[f"/{pipeline}/{route}"] = (pipeline, route)
    return table


async def _answer(
    send: Send, status: int, detail: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_TOO_LARGE = "too_large"
_TOO_SLOW = "too_slow"
_GONE = "gone"


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: ServerState,
        metrics: Metrics,
        routes: Iterable[str] = (),
        api_keys: Sequence[SecretStr] = (),
        public: Callable[[str], tuple[str, str] | None] | None = None,
        max_body_bytes: int = 1_048_576,
        body_timeout_s: float = 30.0,
        max_concurrency: int = 256,
        labeler: Callable[[str], tuple[str, str] | None] | None = None,
    ) -> None:
        self.app = app
        self._labeler = labeler or _nothing_public  # labels of paths with ids (graph API)
        self.state = state
        self.metrics = metrics
        self._keys = tuple(key.get_secret_value().encode() for key in api_keys)
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.max_concurrency = max_concurrency
        self._labels = route_labels(state.pipelines, routes)
        self._public = public or _nothing_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        labels = UNAUTHENTICATED
        status = 500

        async def counted_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.state.draining:
                labels = DRAINING
                await _answer(
                    counted_send, 503, "server is shutting down", [(b"connection", b"close")]
                )
                return
            public = self._public(path) if scope["method"] in ("GET", "HEAD") else None
            if self._keys and public is None and not self._authorized(scope["headers"]):
                self.metrics.error("-", "auth")
                await _answer(
                    counted_send,
                    401,
                    "missing or invalid API key",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
            labels = public or self._labels.get(path) or self._labeler(path) or UNMATCHED
            await self._handle(scope, receive, counted_send, labels[0])
        finally:
            self.metrics.observe(*labels, status, time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, pipeline: str) -> None:
        state = self.state
        if scope["method"] in ("POST", "PUT", "PATCH"):
            state.reading += 1
            try:
                body = await self._read_body(scope, receive)
            finally:
                state.reading -= 1
            if body is _GONE:  # the client left: nobody to answer
                return
            if body is _TOO_LARGE:
                self.metrics.error(pipeline, "too_large")
                detail = f"request body larger than {self.max_body_bytes} bytes"
                await _answer(send, 413, detail, [(b"connection", b"close")])
                return
            if body is _TOO_SLOW:
                self.metrics.error(pipeline, "body_timeout")
                detail = f"request body not received within {self.body_timeout_s:g} s"
                await _answer(send, 408, detail, [(b"connection", b"close")])
                return
            receive = _replay(body, receive)
        # A slot is taken only once the body is in: slow senders hold none.
        if state.in_flight >= self.max_concurrency:
            self.metrics.error(pipeline, "busy")
            await _answer(send, 503, "server busy, try again", [(b"retry-after", b"1")])
            return
        state.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            state.in_flight -= 1
            self.metrics.in_flight.dec()

    def _authorized(self, headers: Sequence[tuple[bytes, bytes]]) -> bool:
        offered = b""
        for name, value in headers:
            if name == b"x-api-key":
                offered = value
                break
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                offered = value[7:].strip()
                break
        if not offered:
            return False
        # compare with every key, so the time taken says nothing about which matched
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(offered, key)
        return matched

    async def _read_body(self, scope: Scope, receive: Receive) -> Any:
        """The whole body, or ``_TOO_LARGE``, ``_TOO_SLOW`` or ``_GONE``."""
        limit = self.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    return _TOO_LARGE
                break
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return _GONE
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return _TOO_LARGE
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            return _TOO_SLOW
        return b"".join(chunks)


def _nothing_public(path: str) -> None:
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already-read body once, then waits for disconnect."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
