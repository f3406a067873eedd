"""The LangServe routes of one pipeline: invoke, batch, stream, stream_events, schemas.

Each handler takes a Starlette request and answers bytes it encoded itself (no
FastAPI model round trip on the hot path). Failures map to statuses in one place
(:func:`failure`): a bad request, template or input 422, a provider error 502 with the
provider's code, a timeout 504, anything else 500 without details (its type is logged,
never its text). Every message that leaves (bodies, SSE ``error`` events, log lines)
goes through :func:`runwire.redaction.redact`.

Requests that set ``configurable`` values run off the event loop (see
:mod:`.offload`): a client-chosen template may be CPU-bound, and the loop must keep
answering other requests and ``/healthz`` while the request timeout holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runwire.deploy.secrets import SecretSourceError
from runwire.deploy.server import protocol
from runwire.deploy.server.metrics import Metrics
from runwire.deploy.server.offload import Offloader, OffloadPolicy
from runwire.deploy.settings import SettingsError
from runwire.errors import (
    ManifestError,
    ProviderError,
    ProviderSetupError,
    RunwireError,
    TemplateError,
)
from runwire.redaction import redact
from runwire.runtime.config import new_run_id
from runwire.runtime.parsers import OutputParserException
from runwire.runtime.schemas import config_model
from runwire.runtime.text_stream import EmptyTextFilter

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
MAX_THREAD_KEY_CHARS = 256
"""Longest thread id (or checkpoint id) a client may send."""
MAX_MESSAGE_CHARS = 1000
"""Error messages sent to clients are cut to this length."""

_INPUT_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (TemplateError, "template_error"),
    (ManifestError, "invalid_value"),
    (KeyError, "missing_value"),
    (ValueError, "invalid_value"),
)
"""Errors a run raises because of what the request sent -> their 422 problem type.
Checked in order, after the server-side errors (provider setup, settings), which
are ValueErrors too but no fault of the client."""

_SERVER_ERRORS: tuple[type[BaseException], ...] = (
    ProviderSetupError,  # credentials, region: the deployment's to fix
    SecretSourceError,  # a secret store failed at run time
    SettingsError,
    OutputParserException,  # the model's output, not the request, did not parse
)
"""ValueErrors that are no fault of the request: 500, as any other failure."""


def _message(exc: BaseException) -> str:
    """``exc``'s text for a client: secrets masked, cut to a bounded length."""
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]  # str(KeyError) is the repr of its argument
    else:
        text = str(exc) or type(exc).__name__
    text = redact(text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "... (cut)"
    return text


def _input_problem(exc: BaseException) -> str | None:
    if isinstance(exc, _SERVER_ERRORS):
        return None
    for kind, problem in _INPUT_ERRORS:
        if isinstance(exc, kind):
            return problem
    return None


def failure(exc: BaseException, pipeline: str, timeout: float) -> tuple[int, str, Any]:
    """``(status, metrics kind, detail)`` for an exception raised while running a pipeline.

    ``detail`` is what the client is sent, secrets already masked.
    """
    if isinstance(exc, protocol.ProtocolError):
        return exc.status, "validation", exc.detail
    if isinstance(exc, ProviderError):
        detail = {key: redact(v) if isinstance(v, str) else v for key, v in exc.to_dict().items()}
        return 502, exc.code, detail
    if isinstance(exc, TimeoutError):
        return 504, "timeout", f"the pipeline did not finish within {timeout:g} s"
    problem = _input_problem(exc)
    if problem is not None:
        detail = [{"type": problem, "loc": ["body"], "msg": _message(exc)}]
        return 422, "template" if problem == "template_error" else "input", detail
    if isinstance(exc, RunwireError):
        logger.error("pipeline %s failed: %s", pipeline, redact(str(exc)))
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
        max_json_depth: int = 100,
        offload: OffloadPolicy = "configurable",
        offloader: Offloader | None = None,
        thread_keys: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.thread_keys = thread_keys  # any client may send these (a graph's thread_id)
        self.runnable = runnable
        self.allowed = configurable
        self.timeout = timeout
        self.metrics = metrics
        self.max_json_depth = max_json_depth
        self.offload = offload
        self.offloader = offloader or Offloader(max_threads=8)
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
        threads = {key: configurable[key] for key in self.thread_keys if key in configurable}
        for key, value in threads.items():
            if not isinstance(value, str) or not 0 < len(value) <= MAX_THREAD_KEY_CHARS:
                raise protocol.invalid(
                    (*loc, "configurable", key),
                    "string_type",
                    f"expected a string of 1 to {MAX_THREAD_KEY_CHARS} characters",
                )
        configurable = {k: v for k, v in configurable.items() if k not in threads}
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
        config["configurable"] = {**configurable, **threads}
        return config

    async def _body(self, request: Request, key: str) -> dict[str, Any]:
        return protocol.parse_body(await request.body(), key, max_depth=self.max_json_depth)

    def _off_loop(self, configs: list[dict[str, Any]]) -> bool:
        """Whether this request runs on worker threads (see the module docstring)."""
        if self.offload == "configurable":
            return any(
                any(key not in self.thread_keys for key in config.get("configurable", ()))
                for config in configs
            )
        return self.offload == "always"

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
                if self._off_loop([config]):
                    output = await self.offloader.call(self.runnable.invoke, input_, config)
                else:
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
                if not inputs:
                    outputs = []
                elif self._off_loop(configs):
                    outputs = await self.offloader.call(self.runnable.batch, inputs, configs)
                else:
                    outputs = await self.runnable.abatch(inputs, configs)
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
        off_loop = self._off_loop([config])

        async def events() -> AsyncIterator[bytes]:
            yield protocol.sse("metadata", metadata)
            if off_loop:
                chunks = self.offloader.iterate(self.runnable.stream(input_, config))
            else:
                chunks = self.runnable.astream(input_, config)
            empty = EmptyTextFilter()  # trailing "" chunks say nothing: not sent
            async with _closing(chunks):
                async for chunk in chunks:
                    if empty.keep(chunk):
                        yield protocol.sse("data", protocol.encode(chunk))
            for chunk in empty.leftover():
                yield protocol.sse("data", protocol.encode(chunk))

        return self._sse(events)

    async def stream_events(self, request: Request) -> Response:
        """POST ``/<name>/stream_events``: LangChain's v2 events as SSE ``data``."""
        try:
            body, input_, config = await self._single(request)
            filters = {key: _filter(body, key) for key in _STREAM_EVENT_FILTERS}
        except Exception as exc:
            return self._fail(exc)
        off_loop = self._off_loop([config])

        def source() -> AsyncIterator[dict[str, Any]]:
            return self.runnable.astream_events(input_, config, **filters)

        async def events() -> AsyncIterator[bytes]:
            stream = self.offloader.iterate_async(source) if off_loop else source()
            async with _closing(stream):
                async for event in stream:
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
                message = _summary(detail) if not isinstance(detail, dict) else _message(exc)
                extra = {"detail": detail} if isinstance(detail, dict) else {}
                yield protocol.sse("error", protocol.error_body(status, message, **extra))
                return
            finally:
                await source.aclose()
            yield protocol.sse("end")

        return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


def _summary(detail: str | list[dict[str, Any]]) -> str:
    """One line for an SSE ``error`` event's ``message``: the detail's problems."""
    if isinstance(detail, str):
        return detail
    return "; ".join(str(problem.get("msg", "")) for problem in detail)


def _filter(body: dict[str, Any], key: str) -> list[str] | None:
    """A ``stream_events`` filter option: absent, or a list of strings (422 otherwise)."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise protocol.invalid(("body", key), "list_type", "expected a list of strings")
    return value


@asynccontextmanager
async def _closing(iterator: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """``iterator``, closed on exit when it can be (async generators can)."""
    try:
        yield iterator
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
