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
  ``input_json_delta``s become ``tool_call_chunks``. When tools are bound (or
  ``thinking`` is asked for) content is a list of blocks, else a string.
- ``beta_use_converse_api=True`` hands every call to a ``ChatBedrockConverse`` built
  from this model's fields (model_kwargs that Converse has no field for go into its
  ``additional_model_request_fields``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from functools import partial
from typing import Any

from pydantic import Field

from runwire.providers.aws.bedrock_base import BedrockBase
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
    )
)
"""model_kwargs that are ChatBedrockConverse fields of the same name."""


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

    beta_use_converse_api: bool = False
    """Call the model through the Converse API (a ``ChatBedrockConverse``)."""
    stop_sequences: list[str] | None = Field(default=None, alias="stop")
    """Stop sequences of every call (a call's ``stop`` replaces them)."""

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

    def _message(self, reply: Reply, blocks: bool) -> AIMessage:
        content: Any = reply.text
        if reply.blocks is not None and (
            blocks or any(b.get("type") != "text" for b in reply.blocks)
        ):
            content = reply.blocks
        metadata: dict[str, Any] = {"model_name": self.model_id, "model_provider": "bedrock"}
        if reply.stop_reason is not None:
            metadata["stop_reason"] = reply.stop_reason
        metadata.update(reply.extras)
        return AIMessage(
            content=content,
            tool_calls=reply.tool_calls,
            usage_metadata=reply.usage,
            response_metadata=metadata,
        )

    def _chunk(self, piece: Piece, blocks: bool, first: bool) -> AIMessageChunk:
        content: Any = piece.text
        if piece.block is not None and (blocks or piece.block.get("type") != "text"):
            content = [piece.block]
        elif blocks:
            content = []
        metadata: dict[str, Any] = {}
        if first:
            metadata = {"model_name": self.model_id, "model_provider": "bedrock"}
        if piece.stop_reason is not None:
            metadata["stop_reason"] = piece.stop_reason
        metadata.update(piece.extras)
        return AIMessageChunk(
            content=content,
            tool_call_chunks=[piece.tool_call_chunk] if piece.tool_call_chunk else [],
            usage_metadata=piece.usage,
            response_metadata=metadata,
        )

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        if self.beta_use_converse_api:
            return self._as_converse()._generate(messages, stop, **kwargs)
        kwargs.pop("stream", None)
        fmt = self._format()
        reply = self._invoke(fmt, fmt.render_chat(messages), self._stops(stop), kwargs)
        return self._message(reply, fmt.tools and self._blocks_wanted(kwargs))

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        if self.beta_use_converse_api:
            yield from self._as_converse()._stream(messages, stop, **kwargs)
            return
        kwargs.pop("stream", None)
        fmt = self._format()
        blocks = fmt.tools and self._blocks_wanted(kwargs)
        rendered = fmt.render_chat(messages)
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


def _is_empty(piece: Piece) -> bool:
    return not (
        piece.text
        or piece.block
        or piece.tool_call_chunk
        or piece.stop_reason
        or piece.usage
        or piece.extras
    )
