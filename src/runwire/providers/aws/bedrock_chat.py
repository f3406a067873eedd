"""``ChatBedrock``: chat over Bedrock ``InvokeModel`` (langchain-aws's class).

Each model family's request and response format is a row of
:mod:`runwire.providers.aws.invoke_formats`; this module turns the rows' replies into
``AIMessage``s and stream pieces into ``AIMessageChunk``s.

- ``response_metadata``: ``model_name``, ``model_provider`` ("bedrock"), the
  provider's ``stop_reason``, and Bedrock's guardrail signal when a guardrail
  intervened (``"amazon-bedrock-guardrailAction": "INTERVENED"``, plus the
  ``"amazon-bedrock-trace"`` when traced); see :mod:`.bedrock_base`.
- Tools (``bind_tools``, ``with_structured_output``) work with Anthropic models, in
  Anthropic's tool format: ``tool_use`` blocks become ``tool_calls`` and streamed
  ``input_json_delta``s become ``tool_call_chunks``. As in langchain-aws, ``invoke``
  answers with the text as content (``""`` for a tool call alone; the raw blocks when
  the model thought or cited), and a stream with tools bound (or ``thinking`` asked
  for) carries blocks.
- ``beta_use_converse_api=True`` hands every call to a ``ChatBedrockConverse`` built
  from this model's fields (model_kwargs that Converse has no field for go into its
  ``additional_model_request_fields``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from functools import partial
from typing import Any, ClassVar

from pydantic import Field, model_validator

from runwire.providers.aws.bedrock_base import BASE_KWARG_ORDER, BedrockBase
from runwire.providers.aws.client import AwsRunnable, iterate_in_aws_thread, run_in_aws_thread
from runwire.providers.aws.invoke_formats import CONVERSE_HINT, Piece, Reply
from runwire.runtime.base import Runnable
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.tools import convert_to_openai_function
from runwire.schema.messages import AIMessage, AIMessageChunk, BaseMessage
from runwire.schema.trust import trust_scope

__all__ = ["ChatBedrock", "anthropic_tool", "anthropic_tool_choice"]

_CONVERSE_FIELDS = frozenset(
    (
        "max_tokens",
        "temperature",
        "top_p",
        "additional_model_response_field_paths",
        "request_metadata",
        "performance_config",
        "service_tier",
    )
)
"""model_kwargs that are ChatBedrockConverse fields of the same name."""
_RAW_BLOCK_TYPES = frozenset(("thinking", "redacted_thinking"))
"""Blocks that make an InvokeModel answer's content the raw block list (langchain-aws)."""


def anthropic_tool(tool: Any) -> dict[str, Any]:
    """A tool definition in Anthropic's format (``name``, ``description``, ``input_schema``)."""
    if isinstance(tool, dict) and (
        "input_schema" in tool or tool.get("type") not in (None, "function")
    ):
        return dict(tool)  # already Anthropic's, or one of its built-in tools
    spec = convert_to_openai_function(tool)
    out: dict[str, Any] = {"name": spec["name"]}
    if spec.get("description"):
        out["description"] = spec["description"]
    out["input_schema"] = spec.get("parameters") or {"type": "object", "properties": {}}
    return out


def anthropic_tool_choice(choice: Any) -> dict[str, Any] | None:
    """``tool_choice`` in Anthropic's format: auto, any, none, or one named tool."""
    if choice is None or choice is False:
        return None
    if choice is True or choice in ("any", "required"):
        return {"type": "any"}
    if choice in ("auto", "none"):
        return {"type": choice}
    if isinstance(choice, str):
        return {"type": "tool", "name": choice}
    if isinstance(choice, dict):
        if choice.get("type") == "function":
            return {"type": "tool", "name": choice["function"]["name"]}
        return dict(choice)
    raise ValueError(f"unrecognised tool_choice {choice!r}: expected a string, a dict or a bool")


class ChatBedrock(AwsRunnable, BaseChatModel, BedrockBase):
    """A Bedrock chat model called through ``InvokeModel`` with its provider's own body.

    Credentials, region, endpoint and ``config`` resolve as every runwire AWS class
    does (see ``runwire.providers.aws.client``); ``client=`` injects a boto3
    ``bedrock-runtime`` client.
    """

    structured_output_repairs_args: ClassVar[bool] = True  # as langchain-aws
    lc_kwarg_order: ClassVar[tuple[str, ...]] = (
        *BASE_KWARG_ORDER,
        "disable_streaming",
        "output_version",
        "system_prompt_with_tools",
        "beta_use_converse_api",
        "stop_sequences",
    )

    system_prompt_with_tools: str = ""
    """Put before the system prompt of Anthropic calls (langchain-aws's field)."""
    beta_use_converse_api: bool = False
    """Call the model through the Converse API (a ``ChatBedrockConverse``); on by
    default for Amazon Nova models, as in langchain-aws."""
    stop_sequences: list[str] | None = Field(default=None, alias="stop")
    """Stop sequences of every call (a call's ``stop`` replaces them)."""

    @model_validator(mode="before")
    @classmethod
    def _converse_for_nova(cls, values: Any) -> Any:
        """Nova models go through Converse unless ``beta_use_converse_api`` is given
        (langchain-aws's rule; it also looks up application inference profiles, which
        runwire does not do at construction: set the field or ``base_model_id``)."""
        if not isinstance(values, dict) or "beta_use_converse_api" in values:
            return values
        model = values.get("model_id", values.get("model")) or ""
        base = values.get("base_model_id", values.get("base_model")) or ""
        if not isinstance(model, str) or not model:
            return values
        nova = "amazon.nova" in model or (isinstance(base, str) and "amazon.nova" in base)
        return {**values, "beta_use_converse_api": nova}

    @property
    def lc_attributes(self) -> dict[str, Any]:
        return {"region_name": self.region_name} if self.region_name else {}

    # -- Converse ------------------------------------------------------------------------
    def _as_converse(self) -> Any:
        """A ``ChatBedrockConverse`` with this model's fields (and its boto3 client)."""
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in (self.model_kwargs or {}).items():
            if key in _CONVERSE_FIELDS:
                fields[key] = value
            elif key in ("stop", "stop_sequences"):
                fields["stop_sequences"] = value
            elif key == "additional_model_request_fields":
                extra.update(value or {})
            else:
                extra[key] = value
        if self.stop_sequences:
            fields["stop_sequences"] = self.stop_sequences
        for name in ("temperature", "max_tokens", "service_tier", "request_metadata"):
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        if extra:
            fields["additional_model_request_fields"] = extra
        guardrail = self._guardrail_params()
        if guardrail:
            trace = guardrail.pop("trace", None)
            fields["guardrail_config"] = {
                **guardrail,
                **({"trace": trace.lower()} if trace else {}),
            }
        with trust_scope(self._trust.trust):  # the delegate is trusted no more than this model
            return self._converse_delegate(fields)

    def _converse_delegate(self, fields: dict[str, Any]) -> Any:
        from runwire.providers.aws.converse import ChatBedrockConverse

        return ChatBedrockConverse(
            client=self.aws_client(),
            bedrock_client=self.bedrock_client,
            model_id=self.model_id,
            base_model_id=self.base_model_id,
            provider=self.provider or "",
            **self.client_settings(),
            disable_streaming=self.disable_streaming,
            **fields,
        )

    # -- calls ---------------------------------------------------------------------------
    def _stops(self, stop: list[str] | None) -> list[str] | None:
        return stop if stop is not None else self.stop_sequences

    def _blocks_wanted(self, kwargs: dict[str, Any]) -> bool:
        """Content as blocks: tools are bound, or Anthropic thinking is on."""
        return bool(kwargs.get("tools")) or "thinking" in {**(self.model_kwargs or {}), **kwargs}

    def _render(self, fmt: Any, messages: list[BaseMessage]) -> dict[str, Any]:
        """The input part of the body, ``system_prompt_with_tools`` first (Anthropic)."""
        rendered = fmt.render_chat(messages)
        extra = self.system_prompt_with_tools
        if extra and fmt.provider == "anthropic":
            system = rendered.get("system")
            if not system:
                rendered["system"] = extra
            elif isinstance(system, str):
                rendered["system"] = f"{extra}\n{system}"
            else:
                rendered["system"] = [{"type": "text", "text": extra}, *system]
        return rendered

    def _message(self, reply: Reply) -> AIMessage:
        """The reply as langchain-aws writes it: content is the text, or the raw blocks
        when the model thought or cited (tool calls are in ``tool_calls`` only); its
        ``llm_output`` (usage in Bedrock's header names, stop reason, model id) in both
        ``additional_kwargs`` and ``response_metadata``."""
        content: Any = reply.text
        if reply.blocks is not None and any(
            b.get("type") in _RAW_BLOCK_TYPES or b.get("citations") for b in reply.blocks
        ):
            content = reply.blocks
        output: dict[str, Any] = {}
        usage = reply.usage
        if usage is not None:
            output["usage"] = _llm_usage(usage)
            usage = {"input_token_details": {"cache_read": 0, "cache_creation": 0}, **usage}
        output["stop_reason"] = reply.stop_reason
        if reply.blocks is None:  # langchain-aws keeps its empty "thinking" off Anthropic
            output["thinking"] = {}
        output["model_id"] = self.model_id
        metadata = {**output, "model_provider": "bedrock", "model_name": self.model_id}
        metadata.update(reply.extras)
        return AIMessage(
            content=content,
            additional_kwargs=output,
            tool_calls=reply.tool_calls,
            usage_metadata=usage,
            response_metadata=metadata,
        )

    def _chunk(self, piece: Piece, blocks: bool, first: bool) -> AIMessageChunk:
        content: Any = piece.text
        if piece.block is not None and (blocks or piece.block.get("type") != "text"):
            content = [piece.block]
        elif blocks:
            content = []
        metadata: dict[str, Any] = {"model_provider": "bedrock"}  # every chunk, as langchain-aws
        if first:
            metadata = {"model_name": self.model_id, "model_provider": "bedrock"}
        if piece.stop_reason is not None:
            metadata["stop_reason"] = piece.stop_reason
        metadata.update(piece.extras)
        usage = piece.usage
        if usage is not None and "input_token_details" not in usage:
            usage = {**usage, "input_token_details": {"cache_read": 0, "cache_creation": 0}}
        return AIMessageChunk(
            content=content,
            tool_call_chunks=[piece.tool_call_chunk] if piece.tool_call_chunk else [],
            usage_metadata=usage,
            response_metadata=metadata,
        )

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        if self.beta_use_converse_api:
            return self._as_converse()._generate(messages, stop, **kwargs)
        kwargs.pop("stream", None)
        fmt = self._format()
        reply = self._invoke(fmt, self._render(fmt, messages), self._stops(stop), kwargs)
        return self._message(reply)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        if self.beta_use_converse_api:
            yield from self._as_converse()._stream(messages, stop, **kwargs)
            return
        kwargs.pop("stream", None)
        fmt = self._format()
        blocks = fmt.tools and self._blocks_wanted(kwargs)
        rendered = self._render(fmt, messages)
        first = True
        for piece in self._invoke_stream(fmt, rendered, self._stops(stop), kwargs):
            if not first and _is_empty(piece):
                continue
            yield self._chunk(piece, blocks, first)
            first = False
        if first:  # an empty stream still answers (with an empty message)
            yield self._chunk(Piece(), blocks, first)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        if self.beta_use_converse_api:
            return await self._as_converse()._agenerate(messages, stop, **kwargs)
        return await run_in_aws_thread(partial(self._generate, messages, stop, **kwargs))

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        if self.beta_use_converse_api:
            async for chunk in self._as_converse()._astream(messages, stop, **kwargs):
                yield chunk
            return
        async for chunk in iterate_in_aws_thread(self._stream(messages, stop, **kwargs)):
            yield chunk

    # -- tools ---------------------------------------------------------------------------
    def _no_tools(self, what: str) -> NotImplementedError:
        return NotImplementedError(
            f"ChatBedrock.{what} over InvokeModel supports anthropic models only; "
            f"{self._provider()} model {self.model_id} has no tool calling there: "
            f"{CONVERSE_HINT}"
        )

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        """This model with tools in Anthropic's format (Anthropic models only).

        ``tool_choice``: "auto", "any" (or True), "none", a tool name, or a dict.
        """
        if self.beta_use_converse_api:
            return self._as_converse().bind_tools(tools, tool_choice=tool_choice, **kwargs)
        if not self._format().tools:
            raise self._no_tools("bind_tools")
        if kwargs.pop("strict", None) is not None:
            raise NotImplementedError(
                f"strict tool schemas are not available over InvokeModel: {CONVERSE_HINT}"
            )
        choice = anthropic_tool_choice(tool_choice)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return self.bind(tools=[anthropic_tool(tool) for tool in tools], **kwargs)

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[Any, Any]:
        if self.beta_use_converse_api:
            converse = self._as_converse()
            return converse.with_structured_output(schema, include_raw=include_raw, **kwargs)
        if not self._format().tools:
            raise self._no_tools("with_structured_output")
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)


def _llm_usage(usage: dict[str, Any]) -> dict[str, int]:
    """``usage_metadata`` in langchain-aws's ``llm_output["usage"]`` names."""
    details = usage.get("input_token_details") or {}
    read, write = details.get("cache_read", 0), details.get("cache_creation", 0)
    return {
        "prompt_tokens": usage["input_tokens"] - read - write,
        "completion_tokens": usage["output_tokens"],
        "cache_read_input_tokens": read,
        "cache_write_input_tokens": write,
        "total_tokens": usage["total_tokens"],
    }


def _is_empty(piece: Piece) -> bool:
    return not (
        piece.text
        or piece.block
        or piece.tool_call_chunk
        or piece.stop_reason
        or piece.usage
        or piece.extras
    )
