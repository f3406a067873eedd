"""LangServe's wire protocol: request bodies in, response bodies and SSE frames out.

What LangServe 0.3's ``RemoteRunnable`` sends and expects, written as plain functions:

- requests are ``{"input": ..., "config": {...}, "kwargs": {...}}`` (``"inputs"`` for
  batch); messages and documents travel as their pydantic dumps, tagged by ``type``
  (``{"type": "human", "content": "hi"}``) and are decoded back into runwire objects;
- ``/invoke`` answers ``{"output": ..., "metadata": {"run_id": ..., "feedback_tokens": []}}``,
  ``/batch`` ``{"output": [...], "metadata": {"run_ids": [...], "responses": [...]}}``;
- ``/stream`` and ``/stream_events`` answer server-sent events named ``metadata``,
  ``data``, ``error`` (``{"status_code": ..., "message": ...}``) and ``end``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, RootModel, SecretStr, ValidationError

from runwire.runtime.prompts.values import ChatPromptValueConcrete, StringPromptValue
from runwire.schema import messages as _m
from runwire.schema.agents import AgentAction, AgentActionMessageLog, AgentFinish
from runwire.schema.documents import Document
from runwire.schema.outputs import ChatGeneration, ChatGenerationChunk, Generation

__all__ = [
    "WELL_KNOWN",
    "ProtocolError",
    "decode_objects",
    "encode",
    "error_body",
    "invalid",
    "json_depth_over",
    "parse_body",
    "sse",
    "strip_internal",
    "unpack_input",
    "validation_problems",
]

WELL_KNOWN: dict[str, type[BaseModel]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        _m.HumanMessage,
        _m.AIMessage,
        _m.SystemMessage,
        _m.ToolMessage,
        _m.HumanMessageChunk,
        _m.AIMessageChunk,
        _m.SystemMessageChunk,
        _m.ToolMessageChunk,
        _m.ChatMessage,
        _m.ChatMessageChunk,
        _m.FunctionMessage,
        _m.FunctionMessageChunk,
        Document,
        StringPromptValue,
        ChatPromptValueConcrete,
        AgentAction,
        AgentFinish,
        AgentActionMessageLog,
        ChatGeneration,
        Generation,
        ChatGenerationChunk,
    )
}
"""The ``type`` tag of each object LangServe sends by value -> the runwire class."""


class ProtocolError(Exception):
    """A request the protocol cannot accept: answered with ``status`` and ``detail``."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(str(detail))


def decode_objects(value: Any) -> Any:
    """``value`` with every well-known tagged dict (messages, documents) made an object.

    Dicts whose ``type`` is not well known, or that do not validate as that class,
    stay plain dicts, as LangServe's own decoder leaves them.
    """
    if isinstance(value, list):
        return [decode_objects(item) for item in value]
    if not isinstance(value, dict):
        return value
    decoded = {key: decode_objects(item) for key, item in value.items()}
    cls = WELL_KNOWN.get(decoded.get("type")) if isinstance(decoded.get("type"), str) else None
    if cls is None:
        return decoded
    try:
        return cls.model_validate(decoded)
    except ValidationError:
        return decoded


def unpack_input(validated: BaseModel) -> Any:
    """The runnable's input from its validated schema model (``root``, or the fields given)."""
    if isinstance(validated, RootModel):
        return _unpack(validated.root)
    return _unpack(validated)


def _unpack(value: Any) -> Any:
    # Models made for validation become dicts again; runwire objects stay objects.
    if isinstance(value, BaseModel) and not hasattr(value, "lc_id"):
        fields = {name: _unpack(getattr(value, name)) for name in value.model_fields_set}
        fields.update(value.__pydantic_extra__ or {})
        return fields
    if isinstance(value, list):
        return [_unpack(item) for item in value]
    return value


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump()
    if isinstance(obj, SecretStr):
        return "**********"
    if isinstance(obj, BaseException):
        return {"status_code": 500, "message": "Internal Server Error"}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def encode(value: Any) -> bytes:
    """JSON bytes of ``value``: pydantic objects as their dumps (LangServe's encoding)."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def sse(event: str, data: bytes | None = None) -> bytes:
    """One server-sent event frame, as sse-starlette writes them for LangServe."""
    if data is None:
        return b"event: " + event.encode() + b"\r\n\r\n"
    return b"event: " + event.encode() + b"\r\ndata: " + data + b"\r\n\r\n"


def error_body(status: int, message: str, **extra: Any) -> bytes:
    """The ``data`` of an SSE ``error`` event: what RemoteRunnable raises from."""
    return orjson.dumps({"status_code": status, "message": message, **extra})


def json_depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects deeper than ``limit`` (checked without
    recursion, stopping at the first level over the limit)."""
    level: list[Any] = [value]
    depth = 0
    while level:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return False


def parse_body(raw: bytes, key: str, *, max_depth: int = 100) -> dict[str, Any]:
    """The request's JSON object, which must hold ``key`` (``"input"`` or ``"inputs"``)
    and nest at most ``max_depth`` levels (422 otherwise)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):
            raise _too_deep(max_depth) from None
        raise invalid(("body",), "json_invalid", f"invalid JSON: {exc}") from None
    if json_depth_over(body, max_depth):
        raise _too_deep(max_depth)
    if not isinstance(body, dict):
        raise invalid(("body",), "dict_type", "expected a JSON object")
    if key not in body:
        raise invalid(("body", key), "missing", "Field required")
    kwargs = body.get("kwargs")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise invalid(("body", "kwargs"), "dict_type", "expected a JSON object")
    return body


def _too_deep(limit: int) -> ProtocolError:
    return invalid(
        ("body",),
        "too_deep",
        f"JSON nested deeper than {limit} levels (the server's max_json_depth); "
        "send flatter data, or raise RUNWIRE_SERVER__MAX_JSON_DEPTH",
    )


def _problem(loc: tuple[Any, ...], kind: str, msg: str) -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": msg}


def invalid(loc: tuple[Any, ...], kind: str, msg: str) -> ProtocolError:
    """A 422 with one FastAPI-style problem: ``{"type": kind, "loc": [...], "msg": msg}``."""
    return ProtocolError(422, [_problem(loc, kind, msg)])


def validation_problems(exc: ValidationError, prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    """FastAPI-style ``detail`` entries of a pydantic error; input values are not echoed."""
    return [
        _problem(
            (*prefix, *(part for part in problem["loc"] if part != "root")),
            problem["type"],
            problem["msg"],
        )
        for problem in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def strip_internal(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Event metadata without internal keys (those starting with ``__``)."""
    return {key: value for key, value in metadata.items() if not key.startswith("__")}
