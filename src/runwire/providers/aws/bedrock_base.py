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
from dataclasses import replace
from typing import Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, field_validator, model_validator

from runwire.errors import ProviderError
from runwire.providers.aws.client import AwsClientFields, env_secret, provider_error
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
    "BASE_KWARG_ORDER",
    "GUARDRAIL_ACTION_KEY",
    "GUARDRAIL_INTERVENED",
    "STOP_REASON_KEYS",
    "STOP_SEQUENCE_KEYS",
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
_DONE = b'"[DONE]"'
_INVOKE_STREAM = "invoke_model_with_response_stream"


def _default_guardrails() -> dict[str, Any]:
    return {"trace": None, "guardrailIdentifier": None, "guardrailVersion": None}


STOP_SEQUENCE_KEYS: Mapping[str, str] = {
    "anthropic": "stop_sequences",
    "amazon": "stopSequences",
    "ai21": "stop_sequences",
    "cohere": "stop_sequences",
    "mistral": "stop_sequences",
}
"""langchain-aws's default ``provider_stop_sequence_key_name_map``."""
STOP_REASON_KEYS: Mapping[str, str] = {
    "anthropic": "stop_reason",
    "amazon": "completionReason",
    "ai21": "finishReason",
    "cohere": "finish_reason",
    "mistral": "stop_reason",
}
"""langchain-aws's default ``provider_stop_reason_key_map``."""
ServiceTier = Literal["priority", "default", "flex", "reserved"]


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
        cuts = [i for i in (buffer.find(s) for s in self.stops) if i != -1]
        cut = min(cuts) if cuts else None
        pending = self._pending(buffer, len(buffer) if cut is None else cut)
        if cut is not None and pending is None:
            self.stopped, self.held = True, ""
            return buffer[:cut]
        keep = len(buffer) if pending is None else pending
        self.held = buffer[keep:]
        return buffer[:keep]

    def _pending(self, buffer: str, before: int) -> int | None:
        """The first position before ``before`` where a stop may start but is cut short."""
        longest = max((len(s) for s in self.stops), default=0)
        for start in range(max(0, len(buffer) - longest + 1), before):
            tail = buffer[start:]
            if any(len(tail) < len(s) and s.startswith(tail) for s in self.stops):
                return start
        return None

    def flush(self) -> str:
        """What is still held back when the stream ends, up to a stop sequence in it."""
        held, self.held = ("" if self.stopped else self.held), ""
        return cut_at_stop(held, self.stops)


def _custom(mapping: Mapping[str, str], default: Mapping[str, str], provider: str) -> str | None:
    """The map's entry for ``provider`` when it differs from langchain-aws's default."""
    value = mapping.get(provider)
    return value if value and value != default.get(provider) else None


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


BASE_KWARG_ORDER = (
    "name",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "bedrock_api_key",
    "config",
    "timeout",
    "max_retries",
    "provider",
    "model_id",
    "base_model_id",
    "model_kwargs",
    "endpoint_url",
    "streaming",
    "provider_stop_sequence_key_name_map",
    "provider_stop_reason_key_map",
    "guardrails",
    "temperature",
    "max_tokens",
    "service_tier",
    "request_metadata",
)
"""langchain-aws's field order of ``BedrockBase`` (what its files list kwargs in)."""


class BedrockBase(AwsClientFields):
    """Fields and InvokeModel calls of ChatBedrock and BedrockLLM."""

    model_config = ConfigDict(protected_namespaces=())
    lc_kwarg_order: ClassVar[tuple[str, ...]] = BASE_KWARG_ORDER
    lc_secret_ids: ClassVar[dict[str, str]] = {"bedrock_api_key": "AWS_BEARER_TOKEN_BEDROCK"}

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
    bedrock_api_key: SecretStr | None = Field(
        default_factory=env_secret("AWS_BEARER_TOKEN_BEDROCK"), alias="api_key"
    )
    """A Bedrock API key: bearer auth instead of AWS keys; defaults to
    AWS_BEARER_TOKEN_BEDROCK (this client only, the environment is left alone)."""
    timeout: int | None = None
    """Connect and read timeout in seconds, merged over ``config``."""
    max_retries: int | None = None
    """Retry attempts (botocore ``retries.max_attempts``), merged over ``config``."""
    provider_stop_sequence_key_name_map: Mapping[str, str] = Field(
        default_factory=lambda: dict(STOP_SEQUENCE_KEYS)
    )
    """Provider -> body key of stop sequences. An entry that differs from langchain-aws's
    default names the key for that provider; default entries keep each model family's
    documented key (Mistral's ``stop``, AI21's ``stopSequences``)."""
    provider_stop_reason_key_map: Mapping[str, str] = Field(
        default_factory=lambda: dict(STOP_REASON_KEYS)
    )
    """Provider -> response key of the stop reason; an entry that differs from the
    default is read from the body (or stream chunk) before the family's own place."""
    guardrails: Mapping[str, Any] | None = Field(default_factory=_default_guardrails)
    """``guardrailIdentifier`` and ``guardrailVersion`` apply a guardrail; ``trace``
    (True, or ENABLED / ENABLED_FULL) asks for its trace."""
    temperature: float | None = None
    """Sampling temperature, sent in each family's body (Titan: in textGenerationConfig)."""
    max_tokens: int | None = None
    """Max tokens to generate, under each family's name (``max_gen_len``,
    ``maxTokenCount``...); Anthropic models default to 1024."""
    service_tier: ServiceTier | None = None
    """Bedrock service tier of each call (``serviceTier``)."""
    request_metadata: dict[str, str] | None = None
    """Key-value pairs to filter invocation logs by (``requestMetadata``)."""

    _resolved_base: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _lift_model_kwargs(self) -> Self:
        """``temperature`` and ``max_tokens`` in model_kwargs become the fields (as
        langchain-aws does; a field already set wins)."""
        kwargs = self.model_kwargs
        if kwargs and ("temperature" in kwargs or "max_tokens" in kwargs):
            kwargs = dict(kwargs)
            if "temperature" in kwargs:
                value = kwargs.pop("temperature")
                if self.temperature is None:
                    self.temperature = value
            if "max_tokens" in kwargs:
                value = kwargs.pop("max_tokens")
                if not self.max_tokens:
                    self.max_tokens = value
            self.model_kwargs = kwargs
        return self

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
        """The model's row, with a stop-sequence key the user mapped for its provider."""
        provider = self._provider()
        fmt = format_for(provider, base_model_name(self._base_id()))
        key = _custom(self.provider_stop_sequence_key_name_map, STOP_SEQUENCE_KEYS, provider)
        return fmt if key is None or key == fmt.stop_key else replace(fmt, stop_key=key)

    def _stop_reason_key(self) -> str | None:
        """A stop-reason key the user mapped for this model's provider (None: the row's)."""
        return _custom(self.provider_stop_reason_key_map, STOP_REASON_KEYS, self._provider())

    def _field_params(self) -> dict[str, Any]:
        """``temperature`` and ``max_tokens`` when set, by their generic names."""
        params: dict[str, Any] = {}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens:
            params["max_tokens"] = self.max_tokens
        return params

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
        params = {**(self.model_kwargs or {}), **self._field_params(), **kwargs}
        body, client_stops = build_body(fmt, rendered, params, stop, stream=stream)
        request = {
            "modelId": self.model_id,
            "body": json.dumps(body),
            "contentType": "application/json",
            "accept": "application/json",
            **self._guardrail_params(),
        }
        if self.service_tier:
            request["serviceTier"] = self.service_tier
        if self.request_metadata:
            request["requestMetadata"] = json.dumps(self.request_metadata)
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
        reason_key = self._stop_reason_key()
        if reason_key is not None and body.get(reason_key) is not None:
            reply.stop_reason = body[reason_key]
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
        reason_key = self._stop_reason_key()
        seen_usage = False
        seen_extras: set[str] = set()
        try:
            for event in self.aws_events(events, _INVOKE_STREAM):
                payload = (event or {}).get("chunk")
                if not payload:
                    continue
                if (payload.get("bytes") or b"").strip() == _DONE:  # Writer's end of stream
                    break
                chunk = self._decode(payload.get("bytes") or b"", "InvokeModelWithResponseStream")
                piece = fmt.read_chunk(chunk)
                if reason_key is not None and chunk.get(reason_key) is not None:
                    piece.stop_reason = chunk[reason_key]
                if piece.usage is not None:
                    seen_usage = True
                elif not seen_usage:
                    piece.usage = _metrics_usage(chunk)
                    seen_usage = piece.usage is not None
                found = {k: v for k, v in signals(chunk).items() if k not in seen_extras}
                seen_extras.update(found)
                piece.extras = {**piece.extras, **found}
                if fmt.provider != "anthropic" and isinstance(chunk.get(METRICS_KEY), dict):
                    piece.extras[METRICS_KEY] = chunk[METRICS_KEY]  # as langchain-aws shows it
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
