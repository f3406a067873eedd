"""What every graph API route shares: reading a body into its model, answering JSON,
errors as LangGraph Server words them (``{"detail": ...}``), and the access log's
fields for the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from runwire.deploy.server import protocol

__all__ = [
    "ApiError",
    "Handler",
    "answer_errors",
    "json_response",
    "log_fields",
    "read_body",
    "read_query",
]

Model = TypeVar("Model", bound=BaseModel)
JSON = "application/json"
Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A request the graph API refuses: ``status`` and a ``detail`` for the client."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(str(detail))

    def response(self) -> Response:
        return json_response({"detail": self.detail}, self.status)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(protocol.encode(body), status_code=status, media_type=JSON, headers=headers)


def _validated(model: type[Model], raw: Any, loc: tuple[str, ...]) -> Model:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ApiError(422, protocol.validation_problems(exc, loc)) from None


async def read_body(request: Request, model: type[Model], max_depth: int) -> Model:
    """The request's JSON body as ``model`` (422 with FastAPI-style problems otherwise)."""
    raw = await request.body()
    if not raw.strip():
        return _validated(model, {}, ("body",))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(422, [{"type": "json_invalid", "loc": ["body"], "msg": str(exc)}]) from None
    if protocol.json_depth_over(body, max_depth):
        raise ApiError(
            422,
            [{"type": "too_deep", "loc": ["body"], "msg": f"JSON deeper than {max_depth} levels"}],
        )
    if not isinstance(body, dict):
        raise ApiError(422, [{"type": "dict_type", "loc": ["body"], "msg": "expected an object"}])
    return _validated(model, body, ("body",))


def read_query(request: Request, model: type[Model]) -> Model:
    """Query parameters as ``model`` (422 otherwise)."""
    return _validated(model, dict(request.query_params), ("query",))


def log_fields(request: Request, **fields: Any) -> None:
    """Fields for this request's access-log line (the graph, the run and thread ids)."""
    request.scope.setdefault("runwire.access", {}).update(
        {key: value for key, value in fields.items() if value is not None}
    )


def answer_errors(handler: Callable[[Any, Request], Awaitable[Response]]) -> Any:
    """A route method with refusals (:class:`ApiError`, protocol errors) answered as JSON."""

    async def answered(self: Any, request: Request) -> Response:
        try:
            return await handler(self, request)
        except ApiError as exc:
            return exc.response()
        except protocol.ProtocolError as exc:
            return json_response({"detail": exc.detail}, exc.status)

    answered.__name__ = handler.__name__
    answered.__doc__ = handler.__doc__
    return answered
