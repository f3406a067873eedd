"""``ChatBedrockConverse``: Bedrock chat models through the Converse API (langchain-aws's class).

``invoke`` calls ``converse``, ``stream`` calls ``converse_stream``; messages become
Converse blocks in :mod:`converse_messages` and come back in :mod:`converse_responses`,
tools and tool choice are in :mod:`converse_tools`. Field names, aliases and defaults
are langchain-aws's:

    model = ChatBedrockConverse(model="anthropic.claude-3-haiku-20240307-v1:0",
                                region_name="us-east-1", temperature=0, max_tokens=512)

Call arguments (``model.invoke(msgs, temperature=0.5)`` or ``model.bind(...)``) override
the fields of the same name, snake_case or Converse's camelCase: ``max_tokens``,
``temperature``, ``top_p``, ``stop_sequences``, ``inference_config``, ``tools``,
``tool_choice``, ``tool_config``, ``additional_model_request_fields`` (merged over the
field), ``additional_model_response_field_paths``, ``guardrail_config``,
``request_metadata``, ``prompt_variables``, ``performance_config``, ``service_tier``,
``output_config``. The ``stop`` argument adds to ``stop_sequences``.
"""

from __future__ import annotations

import copy
import logging
import math
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, PrivateAttr, SecretStr, model_validator

from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.aws.client import (
    AwsClientFields,
    AwsRunnable,
    env_secret,
    iterate_in_aws_thread,
    run_in_aws_thread,
)
from runwire.providers.aws.converse_effort import ReasoningEffort, effort_fields
from runwire.providers.aws.converse_messages import apply_guard_last_turn, to_converse
from runwire.providers.aws.converse_responses import event_to_chunk, response_to_message
from runwire.providers.aws.converse_tools import (
    format_tool_choice,
    format_tools,
    has_tool_blocks,
    infer_tool_choice_values,
    tool_blocks_as_text,
    tool_choice_kind,
)
from runwire.providers.aws.model_ids import base_model_name, provider_of
from runwire.runtime.base import Runnable
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.inputs import to_messages
from runwire.schema.coerce import get_buffer_string
from runwire.schema.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage

__all__ = ["ChatBedrockConverse", "effort_fields", "estimate_tokens"]

logger = logging.getLogger(__name__)

_SERVICE = "bedrock-runtime"
_CHARS_PER_TOKEN = 4
_INFERENCE = ("maxTokens", "temperature", "topP", "stopSequences")
_PASSTHROUGH = ("promptVariables", "performanceConfig", "serviceTier", "outputConfig")
_HEADER_EVENTS = (
    "before-send.bedrock-runtime.Converse",
    "before-send.bedrock-runtime.ConverseStream",
)
_IGNORED_CALL_ARGS = frozenset(("stream", "disableStreaming"))
_CAMEL_ALIASES = {"stop": "stopSequences", "guardrails": "guardrailConfig"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return _CAMEL_ALIASES.get(camel, camel)


def _camel_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {_camel(key): value for key, value in mapping.items()}


def estimate_tokens(messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None) -> int:
    """A local token estimate: one token per 4 characters (rounded up) of the transcript
    (``get_buffer_string``: ``"Human: ..."`` lines) and of the tools' JSON specs."""
    import json

    text = get_buffer_string(list(messages))
    if tools:
        text += json.dumps(format_tools(tools), default=str)
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


class ChatBedrockConverse(AwsRunnable, BaseChatModel, AwsClientFields):
    """A Bedrock chat model called through the Converse API (``converse``/``converse_stream``).

    Supports text, images, documents, tool use and results, reasoning, cache points,
    guardrails (``guardrail_config``, ``guard_last_turn_only``), raw Converse blocks
    (``raw_blocks``), ``bind_tools`` gated by ``supports_tool_choice_values``,
    ``with_structured_output``, usage with cache details, and ``count_tokens``.
    """

    lc_kwarg_order: ClassVar[tuple[str, ...]] = (
        "name",
        "disable_streaming",
        "output_version",
        "model_id",
        "base_model_id",
        "system",
        "max_tokens",
        "stop_sequences",
        "temperature",
        "top_p",
        "region_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "bedrock_api_key",
        "provider",
        "streaming",
        "endpoint_url",
        "default_headers",
        "config",
        "timeout",
        "max_retries",
        "guardrail_config",
        "additional_model_request_fields",
        "reasoning_effort",
        "additional_model_response_field_paths",
        "supports_tool_choice_values",
        "performance_config",
        "service_tier",
        "output_config",
        "request_metadata",
        "guard_last_turn_only",
        "raw_blocks",
    )
    """langchain-aws's field order (what its files list kwargs in)."""
    lc_secret_ids: ClassVar[dict[str, str]] = {"bedrock_api_key": "AWS_BEARER_TOKEN_BEDROCK"}
    structured_output_repairs_args: ClassVar[bool] = True  # as langchain-aws

    client: Any = Field(default=None, exclude=True)
    """The bedrock-runtime boto3 client (built from the fields below when not given)."""
    bedrock_client: Any = Field(default=None, exclude=True)
    """The bedrock control-plane client (accepted for compatibility; runwire does not call
    it: set ``base_model_id`` for application inference profiles)."""
    model_id: str = Field(alias="model")
    """Model id (``anthropic.claude-3-haiku-20240307-v1:0``), inference profile id
    (``us.anthropic...``) or ARN."""
    base_model_id: str | None = Field(default=None, alias="base_model")
    """The base model of ``model_id`` when the id does not show it (ARNs)."""
    system: list[str | dict[str, Any]] | None = None
    """System prompts sent before any SystemMessage: strings, or Converse system blocks."""
    max_tokens: int | None = None
    """Max tokens to generate."""
    stop_sequences: list[str] | None = Field(default=None, alias="stop")
    """Stop generation if any of these substrings occurs."""
    temperature: float | None = None
    """Sampling temperature, 0 to 1."""
    top_p: float | None = None
    """Nucleus sampling mass, 0 to 1."""
    bedrock_api_key: SecretStr | None = Field(
        default_factory=env_secret("AWS_BEARER_TOKEN_BEDROCK"), alias="api_key"
    )
    """A Bedrock API key: bearer auth instead of AWS keys; defaults to
    AWS_BEARER_TOKEN_BEDROCK (this client only, the environment is left alone)."""
    provider: str = ""
    """The model provider (``anthropic``, ``amazon``...); read from the model id when
    empty, required for ARNs."""
    streaming: bool = False
    """Stream on ``invoke`` too (the answer is the summed stream)."""
    endpoint_url: str | None = Field(default=None, alias="base_url")
    """Endpoint to call instead of AWS's bedrock-runtime endpoint."""
    default_headers: Mapping[str, str] | None = None
    """HTTP headers added to every Converse and ConverseStream request."""
    timeout: int | None = None
    """Connect and read timeout in seconds, merged over ``config``."""
    max_retries: int | None = None
    """Retry attempts (botocore ``retries.max_attempts``), merged over ``config``."""
    guardrail_config: dict[str, Any] | None = Field(default=None, alias="guardrails")
    """Converse ``guardrailConfig`` (``guardrailIdentifier``, ``guardrailVersion``, ``trace``)."""
    additional_model_request_fields: dict[str, Any] | None = None
    """Model parameters beyond ``inferenceConfig`` (``{"thinking": {...}}``, ``top_k``...)."""
    reasoning_effort: ReasoningEffort | None = None
    """Reasoning effort, sent in ``additionalModelRequestFields`` in the model family's
    own terms (see :func:`effort_fields`); explicit additional fields win."""
    additional_model_response_field_paths: list[str] | None = None
    """JSON pointers of extra model response fields to return."""
    supports_tool_choice_values: list[Literal["auto", "any", "tool"]] | None = None
    """The ``tool_choice`` kinds the model takes; inferred from the model id when unset."""
    performance_config: Mapping[str, Any] | None = None
    """Converse ``performanceConfig``, e.g. ``{"latency": "optimized"}``."""
    service_tier: Literal["priority", "default", "flex", "reserved"] | None = None
    """Bedrock service tier (sent as ``serviceTier: {"type": ...}``)."""
    output_config: dict[str, Any] | None = None
    """Converse ``outputConfig`` (native JSON schema output on the models that have it)."""
    request_metadata: dict[str, str] | None = None
    """Key-value pairs to filter invocation logs by."""
    guard_last_turn_only: bool = False
    """Apply the guardrail to the last user turn only (its text as ``guardContent``)."""
    raw_blocks: list[dict[str, Any]] | None = None
    """Converse messages sent as they are, instead of the input messages."""

    _headed: set[int] = PrivateAttr(default_factory=set)
    """Ids of the clients ``default_headers`` are registered on."""

    @model_validator(mode="after")
    def _check_fields(self) -> Self:
        provider_of(self.base_model_id or self.model_id, self.provider)  # an ARN needs one
        if self.guard_last_turn_only and not self.guardrail_config:
            raise ValueError(
                "guard_last_turn_only=True needs a guardrail: set guardrail_config "
                "(alias guardrails) or leave guard_last_turn_only off"
            )
        return self

    # -- model facts ----------------------------------------------------------------------
    @property
    def model(self) -> str:
        """Same as ``model_id``."""
        return self.model_id

    @classmethod
    def create_cache_point(cls, cache_type: str = "default") -> dict[str, Any]:
        """A Converse cache point block, ``{"cachePoint": {"type": cache_type}}``."""
        return {"cachePoint": {"type": cache_type}}

    def _base_model(self) -> str:
        """The base model id: ``base_model_id``, else ``model_id`` without a region prefix."""
        if self.base_model_id:
            return self.base_model_id
        name = base_model_name(self.model_id)
        if self.model_id.startswith("arn:") or "." not in self.model_id:
            return name
        return f"{provider_of(self.model_id)}.{name}"

    def tool_choice_values(self) -> tuple[str, ...]:
        """The ``tool_choice`` kinds accepted: the field, else inferred from the model id."""
        if self.supports_tool_choice_values is not None:
            return tuple(self.supports_tool_choice_values)
        return infer_tool_choice_values(self._base_model(), self.additional_model_request_fields)

    def _tool_choice(self, choice: Any) -> dict[str, Any] | None:
        """``choice`` as a Converse ``toolChoice``, refused when the model does not take it."""
        if choice is None or choice is False or choice == "":
            return None
        if choice == "none":
            raise ValueError(
                "Bedrock Converse has no 'none' tool choice: call the model without tools"
            )
        formatted = format_tool_choice(choice)
        kind = tool_choice_kind(formatted)
        supported = self.tool_choice_values()
        if kind not in supported:
            raise ValueError(
                f"model {self._base_model()} does not support tool_choice of kind {kind!r} "
                f"(supported: {list(supported) or 'none'}); set supports_tool_choice_values "
                "if the model does, see https://docs.aws.amazon.com/bedrock/latest/"
                "APIReference/API_runtime_ToolChoice.html"
            )
        return formatted

    # -- tools and structured output ------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: Any = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[Any, AIMessage]:
        """This model with tools bound; ``tool_choice`` is ``"auto"``, ``"any"``, a tool
        name or a dict, refused when not in :meth:`tool_choice_values`."""
        specs = format_tools(tools)
        if strict is not None:
            for spec in specs:
                if "toolSpec" in spec:
                    spec["toolSpec"]["strict"] = strict
        return self.bind(tools=specs, tool_choice=self._tool_choice(tool_choice), **kwargs)

    # -- requests -------------------------------------------------------------------------
    def _turns(self, messages: list[BaseMessage]) -> tuple[list[dict[str, Any]], list[Any]]:
        if self.raw_blocks is not None:
            return copy.deepcopy(self.raw_blocks), []
        turns, system = to_converse(messages, self.system, model_id=self._base_model())
        if self.guard_last_turn_only:
            apply_guard_last_turn(turns)
        return turns, system

    def _inference_config(self, stop: list[str] | None, call: dict[str, Any]) -> dict[str, Any]:
        if "inferenceConfig" in call:
            return dict(call.pop("inferenceConfig") or {})
        stops = [*(call.pop("stopSequences", None) or self.stop_sequences or ()), *(stop or ())]
        values = {
            "maxTokens": call.pop("maxTokens", None) or self.max_tokens,
            "temperature": call.pop("temperature", self.temperature),
            "topP": call.pop("topP", self.top_p),
            "stopSequences": list(dict.fromkeys(stops)) or None,
        }
        return {key: values[key] for key in _INFERENCE if values[key] is not None}

    def _tool_config(self, call: dict[str, Any]) -> dict[str, Any] | None:
        tools, choice = call.pop("tools", None), call.pop("toolChoice", None)
        config = call.pop("toolConfig", None)
        if config:
            return dict(config)
        if not tools:
            return None
        out: dict[str, Any] = {"tools": format_tools(tools)}
        formatted = self._tool_choice(choice)
        if formatted is not None:
            out["toolChoice"] = formatted
        return out

    def _guardrail(self, call: dict[str, Any], stream: bool) -> dict[str, Any] | None:
        config = call.pop("guardrailConfig", None) or self.guardrail_config
        if not config:
            return None
        config = _camel_keys(config)
        if not stream:
            config.pop("streamProcessingMode", None)  # a ConverseStream-only option
        return config

    def _request(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """The keyword arguments of ``converse``/``converse_stream`` for one call."""
        call = {_camel(k): v for k, v in kwargs.items() if _camel(k) not in _IGNORED_CALL_ARGS}
        turns, system = self._turns(messages)
        fields = {
            **self._effort_fields(call.pop("reasoningEffort", None) or self.reasoning_effort),
            **(self.additional_model_request_fields or {}),
            **(call.pop("additionalModelRequestFields", None) or {}),
        }
        params: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": turns,
            "system": system,
            "inferenceConfig": self._inference_config(stop, call),
            "toolConfig": self._tool_config(call),
            "guardrailConfig": self._guardrail(call, stream),
            "additionalModelRequestFields": fields,
            "additionalModelResponseFieldPaths": call.pop("additionalModelResponseFieldPaths", None)
            or self.additional_model_response_field_paths,
            "requestMetadata": call.pop("requestMetadata", None) or self.request_metadata,
        }
        tier = call.pop("serviceTier", None) or self.service_tier
        params["serviceTier"] = {"type": tier} if isinstance(tier, str) else tier
        params["performanceConfig"] = call.pop("performanceConfig", None) or (
            dict(self.performance_config) if self.performance_config else None
        )
        params["outputConfig"] = call.pop("outputConfig", None) or self.output_config
        if call:
            for name in _PASSTHROUGH:
                params.setdefault(name, call.pop(name, None))
        if call:
            raise ValueError(
                f"ChatBedrockConverse got unknown call arguments {sorted(call)}; see the "
                "module docstring of runwire.providers.aws.converse for the accepted ones"
            )
        if params["toolConfig"] is None and has_tool_blocks(turns):
            warnings.warn(
                "tool use and tool result blocks sent without tools: written as text, "
                "since Bedrock refuses them without a toolConfig",
                RuntimeWarning,
                stacklevel=4,
            )
            params["messages"] = tool_blocks_as_text(turns)
        return {key: value for key, value in params.items() if value}

    def _effort_fields(self, effort: str | None) -> dict[str, Any]:
        if not effort:
            return {}
        fields = effort_fields(self._base_model(), effort)
        if not fields:
            warnings.warn(
                f"reasoning_effort is not supported for model {self._base_model()}; ignoring.",
                stacklevel=4,
            )
        return fields

    def aws_client(self, service: str | None = None) -> Any:
        """The boto3 client; ``default_headers`` are added to its Converse requests."""
        client = super().aws_client(service)
        if self.default_headers and (service or self.aws_service) == _SERVICE:
            marker = id(client)
            if marker not in self._headed:
                for event in _HEADER_EVENTS:
                    client.meta.events.register(event, self._add_headers)
                self._headed.add(marker)
        return client

    def _add_headers(self, request: Any, **kwargs: Any) -> None:
        for key, value in (self.default_headers or {}).items():
            request.headers[key] = value

    def _model_name(self) -> str:
        return self.base_model_id or self.model_id

    # -- calls ----------------------------------------------------------------------------
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        response = self.aws_call("converse", **self._request(messages, stop, kwargs, stream=False))
        return response_to_message(response, self._model_name())

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        params = self._request(messages, stop, kwargs, stream=True)
        response = self.aws_call("converse_stream", **params)
        events = response["stream"]
        stopped = False
        try:
            for event in self.aws_events(events, "ConverseStream"):
                stopped = stopped or "messageStop" in event
                chunk = event_to_chunk(event)
                if chunk is None:
                    continue
                if "metadata" in event:
                    chunk.response_metadata["model_name"] = self._model_name()
                    if response.get("ResponseMetadata"):
                        chunk.response_metadata["ResponseMetadata"] = response["ResponseMetadata"]
                chunk.response_metadata["model_provider"] = "bedrock_converse"
                yield chunk
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        if not stopped:
            raise ProviderError(
                _SERVICE,
                "ConverseStream",
                "IncompleteStream",
                "the response stream ended before its messageStop event",
                request_id=(response.get("ResponseMetadata") or {}).get("RequestId"),
            )

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        return await run_in_aws_thread(self._generate, messages, stop, **kwargs)

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        async for chunk in iterate_in_aws_thread(self._stream(messages, stop, **kwargs)):
            yield chunk

    # -- token counting -------------------------------------------------------------------
    def get_num_tokens_from_messages(
        self, messages: Sequence[Any], tools: Sequence[Any] | None = None
    ) -> int:
        """Input tokens of ``messages`` (and ``tools``) from Bedrock's CountTokens API.

        When the API fails (a model it does not cover, no permission, no network) the
        count is :func:`estimate_tokens`'s: one token per 4 characters of the transcript.
        """
        msgs = to_messages(list(messages))
        try:
            turns, system = self._turns(msgs)
            converse: dict[str, Any] = {"messages": turns}
            if system:
                converse["system"] = system
            if tools:
                converse["toolConfig"] = {"tools": format_tools(tools)}
            elif has_tool_blocks(turns):
                converse["messages"] = tool_blocks_as_text(turns)
            response = self.aws_call(
                "count_tokens", modelId=self._base_model(), input={"converse": converse}
            )
            return int(response["inputTokens"])
        except (ProviderError, ProviderSetupError) as exc:
            code = getattr(exc, "code", type(exc).__name__)
            logger.warning("Bedrock CountTokens failed (%s); using a local estimate", code)
            return estimate_tokens(msgs, tools)

    def get_num_tokens(self, text: str) -> int:
        """Tokens of ``text`` as one human message (see :meth:`get_num_tokens_from_messages`)."""
        return self.get_num_tokens_from_messages([HumanMessage(content=text)])
