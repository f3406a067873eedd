"""The LangServe routes of one pipeline: invoke, batch, stream, stream_events, schemas.

Each handler takes a Starlette request and answers bytes it encoded itself (no
FastAPI model round trip on the hot path). Failures map to statuses in one place
(:func:`failure`): a bad request 422, a provider error 502 with the provider's code, a
timeout 504, anything else 500 without details (its type is logged, never its text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runwire.deploy.server import protocol
from runwire.deploy.server.metrics import Metrics
from runwire.errors import ProviderError, RunwireError
from runwire.runtime.config import new_run_id
from runwire.runtime.schemas import config_model

__all__ = ["PipelineEndpoints", "failure"]

logger = logging.getLogger("runwire.serve")

JSON = "application/json"
SSE_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}
_STREAM_EVENT_FILTERS = (
    "include_names",
    "include_types",
    "include_tags",
    "exclude_names",
    "exclude_types",
    "exclude_tags",
)


def failure(exc: BaseException, pipeline: str, timeout: float) -> tuple[int, str, Any]:
    """``(status, metrics kind, detail)`` for an exception raised while running a pipeline."""
    if isinstance(exc, protocol.ProtocolError):
        return exc.status, "validation", exc.detail
    if isinstance(exc, ProviderError):
        return 502, exc.code, exc.to_dict()
    if isinstance(exc, TimeoutError):
        return 504, "timeout", f"the pipeline did not finish within {timeout:g} s"
    if isinstance(exc, RunwireError):
        logger.error("pipeline %s failed: %s", pipeline, exc)
    else:
        logger.error("pipeline %s failed with %s", pipeline, type(exc).__name__)
    return 500, "internal", "Internal Server Error"


def _json(body: Any, status: int = 200) -> Response:
    return Response(protocol.encode(body), status_code=status, media_type=JSON)


class PipelineEndpoints:
    """The handlers of one pipeline, with its schemas and config allowlist resolved once."""

    def __init__(
        self,
        name: str,
        runnable: Any,
        *,
        configurable: frozenset[str],
        timeout: float,
        metrics: Metrics,
    ) -> None:
        self.name = name
        self.runnable = runnable
        self.allowed = configurable
        self.timeout = timeout
        self.metrics = metrics
        self.input_model: type[BaseModel] = runnable.get_input_schema()
        specs = [spec for spec in runnable.config_specs if spec.id in configurable]
        self.config_model: type[BaseModel] = config_model(f"{name}_config", specs, ())

    # -- schemas -----------------------------------------------------------------------
    @cached_property
    def input_jsonschema(self) -> dict[str, Any]:
        """The JSON Schema requests' ``input`` must match."""
        return self.runnable.get_input_jsonschema()

    @cached_property
    def output_jsonschema(self) -> dict[str, Any]:
        """The JSON Schema of ``output``."""
        return self.runnable.get_output_jsonschema()

    @cached_property
    def config_jsonschema(self) -> dict[str, Any]:
        """The JSON Schema of ``config``: only the configurable ids clients may set."""
        return self.config_model.model_json_schema()

    async def input_schema(self, request: Request) -> Response:
        """GET ``/<name>/input_schema``."""
        return _json(self.input_jsonschema)

    async def output_schema(self, request: Request) -> Response:
        """GET ``/<name>/output_schema``."""
        return _json(self.output_jsonschema)

    async def config_schema(self, request: Request) -> Response:
        """GET ``/<name>/config_schema``."""
        return _json(self.config_jsonschema)

    # -- request decoding --------------------------------------------------------------
    def decode_input(self, raw: Any, loc: tuple[Any, ...] = ("body", "input")) -> Any:
        """The runnable's input, validated against its input schema (422 otherwise)."""
        try:
            validated = self.input_model.model_validate(protocol.decode_objects(raw))
        except ValidationError as exc:
            raise protocol.ProtocolError(422, protocol.validation_problems(exc, loc)) from None
        return protocol.unpack_input(validated)

    def decode_config(self, raw: Any, loc: tuple[Any, ...] = ("body", "config")) -> dict[str, Any]:
        """The run's config: a fresh run id, plus the configurable values clients may set.

        Keys other than ``configurable`` (tags, metadata, callbacks...) are ignored, as
        LangServe does by default; a configurable id outside the allowlist is a 422.
        """
        config: dict[str, Any] = {"run_id": new_run_id()}
        if raw is None:
            return config
        if not isinstance(raw, dict):
            raise protocol.invalid(loc, "dict_type", "expected a JSON object")
        configurable = raw.get("configurable")
        if not configurable:
            return config
        if not isinstance(configurable, dict):
            raise protocol.invalid((*loc, "configurable"), "dict_type", "expected a JSON object")
        refused = sorted(key for key in configurable if key not in self.allowed)
        if refused:
            allowed = ", ".join(sorted(self.allowed)) or "none"
            raise protocol.ProtocolError(
                422,
                [
                    {
                        "type": "configurable_not_allowed",
                        "loc": [*loc, "configurable", key],
                        "msg": f"clients may not set {key!r}; this deployment allows: {allowed}",
                    }
                    for key in refused
                ],
            )
        try:
            self.config_model.model_validate({"configurable": configurable})
        except ValidationError as exc:
            raise protocol.ProtocolError(422, protocol.validation_problems(exc, loc)) from None
        config["configurable"] = configurable
        return config

    async def _body(self, request: Request, key: str) -> dict[str, Any]:
        return protocol.parse_body(await request.body(), key)

    async def _single(self, request: Request) -> tuple[dict[str, Any], Any, dict[str, Any]]:
        """(body, input, config) of an invoke, stream or stream_events request."""
        body = await self._body(request, "input")
        return body, self.decode_input(body["input"]), self.decode_config(body.get("config"))

    def _fail(self, exc: BaseException) -> Response:
        status, kind, detail = failure(exc, self.name, self.timeout)
        self.metrics.error(self.name, kind)
        return _json({"detail": detail}, status)

    # -- runs --------------------------------------------------------------------------
    async def invoke(self, request: Request) -> Response:
        """POST ``/<name>/invoke``: ``{"output": ..., "metadata": {"run_id": ...}}``."""
        try:
            _, input_, config = await self._single(request)
            async with asyncio.timeout(self.timeout):
                output = await self.runnable.ainvoke(input_, config)
        except Exception as exc:
            return self._fail(exc)
        metadata = {"run_id": config["run_id"], "feedback_tokens": []}
        return _json({"output": output, "metadata": metadata})

    async def batch(self, request: Request) -> Response:
        """POST ``/<name>/batch``: one output per input, in order."""
        try:
            body = await self._body(request, "inputs")
            raw_inputs = body["inputs"]
            if not isinstance(raw_inputs, list):
                raise protocol.invalid(("body", "inputs"), "list_type", "expected a list")
            inputs = [
                self.decode_input(raw, ("body", "inputs", i)) for i, raw in enumerate(raw_inputs)
            ]
            configs = self._batch_configs(body.get("config"), len(inputs))
            async with asyncio.timeout(self.timeout):
                outputs = await self.runnable.abatch(inputs, configs) if inputs else []
        except Exception as exc:
            return self._fail(exc)
        run_ids = [config["run_id"] for config in configs]
        metadata = {
            "run_ids": run_ids,
            "responses": [{"run_id": rid, "feedback_tokens": []} for rid in run_ids],
        }
        return _json({"output": outputs, "metadata": metadata})

    def _batch_configs(self, raw: Any, count: int) -> list[dict[str, Any]]:
        if isinstance(raw, list):
            if len(raw) != count:
                raise protocol.invalid(
                    ("body", "config"),
                    "length",
                    f"expected {count} configs (one per input), got {len(raw)}",
                )
            return [self.decode_config(c, ("body", "config", i)) for i, c in enumerate(raw)]
        first = self.decode_config(raw)
        return [first] + [{**first, "run_id": new_run_id()} for _ in range(count - 1)]

    async def stream(self, request: Request) -> Response:
        """POST ``/<name>/stream``: SSE ``metadata``, ``data``..., then ``end`` or ``error``."""
        try:
            _, input_, config = await self._single(request)
        except Exception as exc:
            return self._fail(exc)
        metadata = protocol.encode({"run_id": config["run_id"]})

        async def events() -> AsyncIterator[bytes]:
            yield protocol.sse("metadata", metadata)
            async for chunk in self.runnable.astream(input_, config):
                yield protocol.sse("data", protocol.encode(chunk))

        return self._sse(events)

    async def stream_events(self, request: Request) -> Response:
        """POST ``/<name>/stream_events``: LangChain's v2 events as SSE ``data``."""
        try:
            body, input_, config = await self._single(request)
            filters = {key: body.get(key) for key in _STREAM_EVENT_FILTERS}
        except Exception as exc:
            return self._fail(exc)

        async def events() -> AsyncIterator[bytes]:
            async for event in self.runnable.astream_events(input_, config, **filters):
                event["metadata"] = protocol.strip_internal(event.get("metadata") or {})
                yield protocol.sse("data", protocol.encode(event))

        return self._sse(events)

    def _sse(self, events: Callable[[], AsyncIterator[bytes]]) -> StreamingResponse:
        """An SSE response of ``events()``, ended by ``end``, or by ``error`` on failure."""

        async def frames() -> AsyncIterator[bytes]:
            # The deadline covers the whole stream, but is only armed while the pipeline
            # works: a cancellation must never land in the middle of sending a frame.
            deadline = asyncio.get_running_loop().time() + self.timeout
            source = events()
            try:
                while True:
                    async with asyncio.timeout_at(deadline):
                        frame = await anext(source, None)
                    if frame is None:
                        break
                    yield frame
            except Exception as exc:
                status, kind, detail = failure(exc, self.name, self.timeout)
                self.metrics.error(self.name, kind)
                message = detail if isinstance(detail, str) else str(exc)
                extra = {"detail": detail} if isinstance(detail, dict) else {}
                yield protocol.sse("error", protocol.error_body(status, message, **extra))
                return
            finally:
                await source.aclose()
            yield protocol.sse("end")

        return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)
