"""What ``ChatBedrock`` and ``BedrockLLM`` share (langchain-aws's ``BedrockBase``).

The fields (names, aliases and defaults of the langchain-aws reference) and the two
calls: ``InvokeModel`` and ``InvokeModelWithResponseStream``, with the request body of
the model's row in :mod:`runwire.providers.aws.invoke_formats` and the guardrail
parameters (``guardrailIdentifier``, ``guardrailVersion``, ``trace``).

Guardrails: when Bedrock reports that a guardrail intervened (the response body, or a
stream chunk, carries ``"amazon-bedrock-guardrailAction": "INTERVENED"``), the call
still returns the (guardrail's) text, and the signal is kept under
:data:`GUARDRAIL_ACTION_KEY` in ``Reply.extras`` / ``Piece.extras``, with the
guardrail trace under :data:`TRACE_KEY` when Bedrock sends one. ``ChatBedrock`` copies
extras into ``response_metadata``; ``BedrockLLM.complete`` returns them and its
``invoke`` logs a warning (the reason ``GUARDRAIL_INTERVENED``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from runwire.errors import ProviderError
from runwire.providers.aws.client import AwsClientFields, provider_error
from runwire.providers.aws.invoke_formats import (
    InvokeFormat,
    Piece,
    Reply,
    build_body,
    format_for,
    usage_dict,
)
from runwire.providers.aws.model_ids import base_model_name, provider_of

__all__ = [
    "GUARDRAIL_ACTION_KEY",
    "GUARDRAIL_INTERVENED",
    "TRACE_KEY",
    "BedrockBase",
    "StopCutter",
    "cut_at_stop",
    "signals",
]

logger = logging.getLogger("runwire.providers.aws")

GUARDRAIL_ACTION_KEY = "amazon-bedrock-guardrailAction"
TRACE_KEY = "amazon-bedrock-trace"
METRICS_KEY = "amazon-bedrock-invocationMetrics"
GUARDRAIL_INTERVENED = "GUARDRAIL_INTERVENED"
_TRACE_VALUES = ("ENABLED", "DISABLED", "ENABLED_FULL")
_INVOKE = "invoke_model"
_INVOKE_STREAM = "invoke_model_with_response_stream"


def _default_guardrails() -> dict[str, Any]:
    return {"trace": None, "guardrailIdentifier": None, "guardrailVersion": None}


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """``text`` up to the first stop sequence in it."""
    cuts = [i for i in (text.find(s) for s in stops if s) if i != -1]
    return text[: min(cuts)] if cuts else text


class StopCutter:
    """Applies stop sequences to streamed text, holding back what may start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of ``held + text`` that is safe to emit now."""
        if self.stopped:
            return ""
        buffer = self.held + text
        cut = cut_at_stop(buffer, self.stops)
        if len(cut) < len(buffer):
            self.stopped, self.held = True, ""
            return cut
        keep = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), keep, -1):
                if buffer.endswith(stop[:size]):
                    keep = size
                    break
        self.held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """What is still held back when the stream ends (it was no stop sequence)."""
        held, self.held = ("" if self.stopped else self.held), ""
        return held


def signals(body: Mapping[str, Any]) -> dict[str, Any]:
    """Bedrock's guardrail signal and trace in a response body or chunk."""
    found: dict[str, Any] = {}
    if body.get(GUARDRAIL_ACTION_KEY) == "INTERVENED":
        found[GUARDRAIL_ACTION_KEY] = "INTERVENED"
    if body.get(TRACE_KEY):
        found[TRACE_KEY] = body[TRACE_KEY]
    return found


def _metrics_usage(chunk: Mapping[str, Any]) -> dict[str, Any] | None:
    metrics = chunk.get(METRICS_KEY)
    if not isinstance(metrics, dict) or "inputTokenCount" not in metrics:
        return None
    return usage_dict(
        metrics["inputTokenCount"],
        metrics.get("outputTokenCount", 0),
        metrics.get("cacheReadInputTokenCount"),
        metrics.get("cacheWriteInputTokenCount"),
    )


def _header_usage(response: Mapping[str, Any]) -> dict[str, Any] | None:
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    count = headers.get("x-amzn-bedrock-input-token-count")
    if count is None:
        return None
    return usage_dict(int(count), int(headers.get("x-amzn-bedrock-output-token-count") or 0))


class BedrockBase(AwsClientFields):
    """Fields and InvokeModel calls of ChatBedrock and BedrockLLM."""

    model_config = ConfigDict(protected_namespaces=())

    bedrock_client: Any = Field(default=None, exclude=True)
    """A boto3 ``bedrock`` (control plane) client, used to resolve application inference
    profiles; built from the other fields when needed."""
    region_name: str | None = Field(default=None, alias="region")
    """AWS region, e.g. ``us-west-2``; else AWS_REGION, AWS_DEFAULT_REGION, the profile's."""
    provider: str | None = None
    """The model's provider (``anthropic``, ``meta``...); needed when ``model_id`` is an
    ARN that does not name it."""
    model_id: str = Field(alias="model")
    """The model id, inference profile id or ARN to call."""
    base_model_id: str | None = Field(default=None, alias="base_model")
    """The foundation model behind ``model_id``; picks the request format when set."""
    model_kwargs: dict[str, Any] | None = None
    """Request body parameters (native names, or max_tokens/temperature/top_p/top_k/stop)."""
    endpoint_url: str | None = None
    """Service endpoint to call instead of AWS's (a VPC endpoint, an emulator)."""
    streaming: bool = False
    """Stream the model's output (chat models also stream on ``invoke``)."""
    guardrails: Mapping[str, Any] | None = Field(default_factory=_default_guardrails)
    """``guardrailIdentifier`` and ``guardrailVersion`` apply a guardrail; ``trace``
    (True, or ENABLED / ENABLED_FULL) asks for its trace."""

    _resolved_base: str | None = PrivateAttr(default=None)

    @field_validator("guardrails")
    @classmethod
    def _check_guardrails(cls, value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if value:
            ident = value.get("guardrailIdentifier") or value.get("guardrailId")
            if bool(ident) != bool(value.get("guardrailVersion")):
                raise ValueError(
                    "guardrails needs both guardrailIdentifier and guardrailVersion (or neither)"
                )
        return value

    # -- the model ------------------------------------------------------------------------
    def _base_id(self) -> str:
        """The base model id: ``base_model_id``, an application profile's model, or the id."""
        if self.base_model_id:
            return self.base_model_id
        if "application-inference-profile" not in self.model_id:
            return self.model_id
        if self._resolved_base is None:
            client = self.bedrock_client or self.aws_client("bedrock")
            try:
                found = client.get_inference_profile(inferenceProfileIdentifier=self.model_id)
                arn = found["models"][0]["modelArn"]
            except (KeyError, IndexError):
                raise ValueError(
                    f"inference profile {self.model_id!r} names no model: set base_model_id"
                ) from None
            except Exception as exc:
                if getattr(exc, "response", None) is None:
                    raise
                raise provider_error(
                    exc, "bedrock", "get_inference_profile", self._secret_values()
                ) from None
            self._resolved_base = str(arn).rsplit("/", 1)[-1]
        return self._resolved_base

    def _provider(self) -> str:
        base = self._base_id()
        return provider_of(self.model_id if base.startswith("arn:") else base, self.provider)

    def _format(self) -> InvokeFormat:
        return format_for(self._provider(), base_model_name(self._base_id()))

    # -- the calls ------------------------------------------------------------------------
    def _guardrail_params(self) -> dict[str, str]:
        rails = self.guardrails or {}
        ident = rails.get("guardrailIdentifier") or rails.get("guardrailId")
        if not ident:
            return {}
        params = {
            "guardrailIdentifier": str(ident),
            "guardrailVersion": str(rails["guardrailVersion"]),
        }
        trace = rails.get("trace")
        if isinstance(trace, str) and trace.upper() in _TRACE_VALUES:
            params["trace"] = trace.upper()
        elif trace:
            params["trace"] = "ENABLED"
        return params

    def _request(
        self,
        fmt: InvokeFormat,
        rendered: dict[str, Any],
        stop: Sequence[str] | None,
        kwargs: Mapping[str, Any],
        stream: bool,
    ) -> tuple[dict[str, Any], list[str]]:
        """The InvokeModel parameters, and the stop sequences to apply here."""
        params = {**(self.model_kwargs or {}), **kwargs}
        body, client_stops = build_body(fmt, rendered, params, stop, stream=stream)
        request = {
            "modelId": self.model_id,
            "body": json.dumps(body),
            "contentType": "application/json",
            "accept": "application/json",
            **self._guardrail_params(),
        }
        return request, client_stops

    def _invoke(
        self,
        fmt: InvokeFormat,
        rendered: dict[str, Any],
        stop: Sequence[str] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Reply:
        """One InvokeModel call, read with the format's reader."""
        request, client_stops = self._request(fmt, rendered, stop, kwargs or {}, stream=False)
        response = self.aws_call(_INVOKE, **request)
        from botocore.exceptions import BotoCoreError

        try:
            raw = response["body"].read()
        except BotoCoreError as exc:
            raise provider_error(exc, self.aws_service, _INVOKE, self._secret_values()) from None
        body = self._decode(raw, "InvokeModel")
        reply = fmt.read_response(body)
        if reply.usage is None:
            reply.usage = _header_usage(response)
        reply.extras = signals(body)
        if client_stops:
            reply.text = cut_at_stop(reply.text, client_stops)
        if GUARDRAIL_ACTION_KEY in reply.extras:
            logger.warning(
                "%s: %s for model %s", type(self).__name__, GUARDRAIL_INTERVENED, self.model_id
            )
        return reply

    def _invoke_stream(
        self,
        fmt: InvokeFormat,
        rendered: dict[str, Any],
        stop: Sequence[str] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Iterator[Piece]:
        """One InvokeModelWithResponseStream call, one :class:`Piece` per chunk.

        A family that does not stream answers with one piece holding the whole reply.
        Usage comes from the format's own fields, else from Bedrock's invocation metrics.
        """
        if fmt.read_chunk is None:
            reply = self._invoke(fmt, rendered, stop, kwargs)
            yield Piece(
                reply.text, stop_reason=reply.stop_reason, usage=reply.usage, extras=reply.extras
            )
            return
        request, client_stops = self._request(fmt, rendered, stop, kwargs or {}, stream=True)
        events = self.aws_call(_INVOKE_STREAM, **request)["body"]
        cutter = StopCutter(client_stops) if client_stops else None
        seen_usage = False
        seen_extras: set[str] = set()
        try:
            for event in self.aws_events(events, _INVOKE_STREAM):
                payload = (event or {}).get("chunk")
                if not payload:
                    continue
                chunk = self._decode(payload.get("bytes") or b"", "InvokeModelWithResponseStream")
                piece = fmt.read_chunk(chunk)
                if piece.usage is not None:
                    seen_usage = True
                elif not seen_usage:
                    piece.usage = _metrics_usage(chunk)
                    seen_usage = piece.usage is not None
                piece.extras = {k: v for k, v in signals(chunk).items() if k not in seen_extras}
                seen_extras.update(piece.extras)
                if cutter is not None:
                    piece.text = cutter.feed(piece.text)
                yield piece
            if cutter is not None and (rest := cutter.flush()):
                yield Piece(rest)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        if GUARDRAIL_ACTION_KEY in seen_extras:
            logger.warning(
                "%s: %s for model %s", type(self).__name__, GUARDRAIL_INTERVENED, self.model_id
            )

    def _decode(self, raw: bytes | str, operation: str) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderError(
                self.aws_service,
                operation,
                "InvalidResponse",
                f"model {self.model_id} answered with a body that is not a JSON object",
            )
        return body
