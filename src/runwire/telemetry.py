"""OpenTelemetry traces of runs: one span per run, each step's span under its parent's.

:class:`OtelTracer` is a runwire callback handler (see :mod:`runwire.runtime.callbacks`),
so it sees exactly the runs runwire reports: the pipeline, each runnable of a sequence,
each graph node, each model call. Pass it like any handler::

    chain.invoke(x, config={"callbacks": [OtelTracer(tracer)]})

``runwire serve`` installs one per pipeline request when ``server.otel`` is on (see
docs/deploy.md). Spans carry ``runwire.run_id``, ``runwire.type`` (chain, prompt,
chat_model, ...), ``runwire.pipeline`` when known, and an error status naming the
exception's type. Inputs and outputs are left out unless ``record_io`` is set (they may
hold personal data); then they are added as JSON, secrets masked, cut to ``max_chars``.

Needs the ``otel`` extra (``pip install 'runwire[otel]'``); importing this module does
not, only making a tracer does.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

import orjson

from runwire.errors import RunwireError
from runwire.redaction import redact
from runwire.runtime.callbacks import Run

__all__ = ["OTEL_ENDPOINT_VARS", "OtelTracer", "otel_enabled", "require_otel", "serve_tracer"]

OTEL_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
"""Variables whose presence turns tracing on when ``server.otel`` is unset."""

INSTRUMENTATION = "runwire"
"""The instrumentation scope name of runwire's spans."""

_OTEL_MODULES = ("opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http.trace_exporter")
"""What the ``otel`` extra brings and tracing needs."""

_MISSING_EXTRA = "OpenTelemetry traces need the otel extra: pip install 'runwire[otel]'"


def otel_enabled(setting: bool | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to trace: ``setting`` when given, else whether an OTLP endpoint is set."""
    if setting is not None:
        return setting
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in OTEL_ENDPOINT_VARS)


def require_otel() -> None:
    """Raise :class:`RunwireError` (how to install it) unless the ``otel`` extra is there."""
    try:
        for module in _OTEL_MODULES:
            importlib.import_module(module)
    except ImportError:
        raise RunwireError(_MISSING_EXTRA) from None


def _sdk_provider(service_name: str) -> Any:
    """A new SDK provider exporting batches over OTLP/HTTP (OTEL_EXPORTER_OTLP_* apply)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": service_name}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def serve_tracer(service_name: str = "runwire") -> Any:
    """The tracer ``runwire serve`` uses: from the process's provider when one is set
    (by the embedding application, or ``opentelemetry-instrument``), else from a new SDK
    provider exporting over OTLP/HTTP, made the global provider and flushed at exit.

    Raises :class:`RunwireError` when the ``otel`` extra is not installed.
    """
    require_otel()
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider):  # nobody has set one
        trace.set_tracer_provider(_sdk_provider(service_name))
        provider = trace.get_tracer_provider()  # whichever won, if another was set meanwhile
    from runwire import __version__

    return provider.get_tracer(INSTRUMENTATION, __version__)


def _json_default(value: Any) -> Any:
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()  # secret fields are written as secret nodes, never values
    return repr(value)


def preview(value: Any, max_chars: int) -> str:
    """``value`` as JSON text for a span attribute: secrets masked, at most ``max_chars``."""
    try:
        text = orjson.dumps(value, default=_json_default).decode()
    except (TypeError, orjson.JSONEncodeError):
        text = repr(value)
    text = redact(text)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _ns(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1_000_000_000)


class OtelTracer:
    """A callback handler turning runs into OpenTelemetry spans.

    Args:
        tracer: an ``opentelemetry.trace.Tracer``.
        pipeline: the served pipeline's name, set as ``runwire.pipeline`` on every span.
        record_io: also record inputs and outputs (``runwire.inputs``/``runwire.outputs``).
        max_chars: how much of each is kept.

    A root run's span is a child of the OpenTelemetry context current when it starts
    (an incoming request's span, when the application has one).
    """

    def __init__(
        self,
        tracer: Any,
        *,
        pipeline: str | None = None,
        record_io: bool = False,
        max_chars: int = 1000,
    ) -> None:
        self.tracer = tracer
        self.pipeline = pipeline
        self.record_io = record_io
        self.max_chars = max_chars
        self._spans: dict[str, Any] = {}

    def on_start(self, run: Run) -> None:
        from opentelemetry import trace

        parent = self._spans.get(run.parent_ids[-1]) if run.parent_ids else None
        context = trace.set_span_in_context(parent) if parent is not None else None
        attributes: dict[str, Any] = {
            "runwire.run_id": str(run.id),
            "runwire.type": run.run_type,
        }
        if self.pipeline is not None:
            attributes["runwire.pipeline"] = self.pipeline
        if run.tags:
            attributes["runwire.tags"] = [str(tag) for tag in run.tags]
        span = self.tracer.start_span(
            run.name, context=context, attributes=attributes, start_time=_ns(run.start_time)
        )
        self._spans[str(run.id)] = span

    def on_end(self, run: Run) -> None:
        span = self._spans.pop(str(run.id), None)
        if span is None:
            return
        if self.record_io:
            span.set_attribute("runwire.inputs", preview(run.inputs, self.max_chars))
            span.set_attribute("runwire.outputs", preview(run.outputs, self.max_chars))
        span.end(end_time=_ns(run.end_time))

    def on_error(self, run: Run) -> None:
        from opentelemetry.trace import Status, StatusCode

        span = self._spans.pop(str(run.id), None)
        if span is None:
            return
        if self.record_io:
            span.set_attribute("runwire.inputs", preview(run.inputs, self.max_chars))
        kind = type(run.error)
        name = (
            kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        )
        # the type only: an exception's text may quote the input
        span.set_attribute("error.type", name)
        span.set_status(Status(StatusCode.ERROR, name))
        span.end(end_time=_ns(run.end_time))
