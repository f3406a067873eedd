"""Bedrock ``InvokeModel`` request and response formats, one row per model family.

``InvokeModel`` takes each provider's native JSON body, so ``ChatBedrock`` and
``BedrockLLM`` look their model up in :data:`FORMATS` (by provider, then by a marker
in the base model name) and use that row's small pure functions:

- ``render_chat(messages)`` / ``render_prompt(text)``: the input part of the body;
- generic parameters (``max_tokens``, ``temperature``, ``top_p``, ``top_k``, stop
  sequences) renamed to the provider's keys, nested under ``config_key`` when the
  provider groups them (Titan's ``textGenerationConfig``, Nova's ``inferenceConfig``);
- ``read_response(body)`` -> :class:`Reply` and ``read_chunk(chunk)`` -> :class:`Piece`.

A provider without a stop-sequence parameter (``stop_key=None``: Meta Llama) gets its
stop sequences applied client-side. Formats come from the providers' Bedrock
documentation ("Inference request parameters and response fields for foundation
models").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from runwire.providers.aws.invoke_chat_completions import (
    chat_completion_chunk,
    chat_completion_reply,
    openai_chat,
    openai_prompt,
    writer_chat,
)
from runwire.providers.aws.invoke_prompts import (
    CONVERSE_HINT,
    Body,
    anthropic_chat,
    anthropic_prompt,
    deepseek_chat,
    header_chat,
    llama2_chat,
    mistral_chat,
    nova_chat,
    nova_prompt,
    prompt_as,
    transcript_chat,
)
from runwire.schema.messages import BaseMessage

__all__ = [
    "FORMATS",
    "NOT_IMPLEMENTED",
    "InvokeFormat",
    "Piece",
    "Reply",
    "build_body",
    "format_for",
    "usage_dict",
]

ANTHROPIC_VERSION = "bedrock-2023-05-31"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_STOP_KEYS = frozenset(("stop", "stop_sequences", "stopSequences"))


@dataclass(slots=True)
class Reply:
    """What one response body says."""

    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    """The provider's content blocks, for providers that answer in blocks (Anthropic)."""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    """``usage_metadata`` shape: input_tokens, output_tokens, total_tokens."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Bedrock's own signals found in the body (guardrail action and trace)."""


@dataclass(slots=True)
class Piece:
    """What one stream chunk says."""

    text: str = ""
    block: dict[str, Any] | None = None
    """A content block piece with its ``index`` (Anthropic): merges with its siblings."""
    tool_call_chunk: dict[str, Any] | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def usage_dict(
    input_tokens: int,
    output_tokens: int,
    cache_read: int | None = None,
    cache_write: int | None = None,
) -> dict[str, Any]:
    """A ``usage_metadata`` dict; cached input tokens count as input (LangChain's rule)
    and are detailed when there are any."""
    total_in = input_tokens + (cache_read or 0) + (cache_write or 0)
    usage: dict[str, Any] = {
        "input_tokens": total_in,
        "output_tokens": output_tokens,
        "total_tokens": total_in + output_tokens,
    }
    if cache_read or cache_write:
        usage["input_token_details"] = {
            "cache_read": cache_read or 0,
            "cache_creation": cache_write or 0,
        }
    return usage


# -- responses -------------------------------------------------------------------------------
def _first(body: Body, key: str) -> dict[str, Any]:
    items = body.get(key)
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def _anthropic_usage(usage: Any, *, output: bool = True) -> dict[str, Any] | None:
    if not isinstance(usage, dict) or "input_tokens" not in usage:
        return None
    return usage_dict(
        usage["input_tokens"],
        usage.get("output_tokens", 0) if output else 0,
        usage.get("cache_read_input_tokens"),
        usage.get("cache_creation_input_tokens"),
    )


def _anthropic_reply(body: Body) -> Reply:
    blocks = [b for b in body.get("content") or [] if isinstance(b, dict)]
    return Reply(
        text="".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text"),
        blocks=blocks,
        tool_calls=[
            {"name": b["name"], "args": b.get("input") or {}, "id": b.get("id")}
            for b in blocks
            if b.get("type") == "tool_use"
        ],
        stop_reason=body.get("stop_reason"),
        usage=_anthropic_usage(body.get("usage")),
    )


_ANTHROPIC_DELTAS: dict[str, tuple[str, str]] = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("thinking", "signature"),
    "input_json_delta": ("tool_use", "partial_json"),
}
"""Anthropic delta type -> (content block type, the key its piece goes in)."""


def _anthropic_piece(chunk: Body) -> Piece:
    kind, index = chunk.get("type"), chunk.get("index")
    if kind == "message_start":
        return Piece(
            usage=_anthropic_usage((chunk.get("message") or {}).get("usage"), output=False)
        )
    if kind == "message_delta":
        out = (chunk.get("usage") or {}).get("output_tokens")
        delta = chunk.get("delta") or {}
        return Piece(
            stop_reason=delta.get("stop_reason"),
            usage=usage_dict(0, out) if isinstance(out, int) else None,
            extras={"stop_sequence": delta.get("stop_sequence")},
        )
    if kind == "content_block_start":
        block = dict(chunk.get("content_block") or {})
        if block.get("type") == "tool_use":
            call = {"name": block.get("name"), "id": block.get("id"), "args": "", "index": index}
            return Piece(block={**block, "index": index}, tool_call_chunk=call)
        text = str(block.get("text") or "")
        return Piece(text=text, block={**block, "index": index}) if text else Piece()
    if kind == "content_block_delta":
        delta = chunk.get("delta") or {}
        block_type, key = _ANTHROPIC_DELTAS.get(delta.get("type"), ("", ""))
        if not block_type:
            return Piece()
        value = str(delta.get(key, ""))
        piece = Piece(block={"type": block_type, key: value, "index": index})
        if block_type == "text":
            piece.text = value
        elif block_type == "tool_use":
            piece.tool_call_chunk = {"name": None, "id": None, "args": value, "index": index}
        return piece
    return Piece()


def _nova_usage(usage: Any) -> dict[str, Any] | None:
    if not isinstance(usage, dict) or "inputTokens" not in usage:
        return None
    return usage_dict(
        usage["inputTokens"],
        usage.get("outputTokens", 0),
        usage.get("cacheReadInputTokenCount"),
        usage.get("cacheWriteInputTokenCount"),
    )


def _nova_reply(body: Body) -> Reply:
    content = ((body.get("output") or {}).get("message") or {}).get("content") or []
    return Reply(
        text="".join(str(b["text"]) for b in content if "text" in b),
        tool_calls=[
            {"name": u["name"], "args": u.get("input") or {}, "id": u.get("toolUseId")}
            for u in (b["toolUse"] for b in content if "toolUse" in b)
        ],
        stop_reason=body.get("stopReason"),
        usage=_nova_usage(body.get("usage")),
    )


def _nova_piece(chunk: Body) -> Piece:
    """A Nova stream chunk (one or more of its ConverseStream-like events)."""
    piece = Piece()
    start = (chunk.get("contentBlockStart") or {}).get("start", {}).get("toolUse")
    if start:
        index = chunk["contentBlockStart"].get("contentBlockIndex")
        name, ident = start.get("name"), start.get("toolUseId")
        piece.tool_call_chunk = {"name": name, "id": ident, "args": "", "index": index}
    if "contentBlockDelta" in chunk:
        event = chunk["contentBlockDelta"]
        delta = event.get("delta") or {}
        piece.text = str(delta.get("text", ""))
        if "toolUse" in delta:
            args, index = str(delta["toolUse"].get("input", "")), event.get("contentBlockIndex")
            piece.tool_call_chunk = {"name": None, "id": None, "args": args, "index": index}
    piece.stop_reason = (chunk.get("messageStop") or {}).get("stopReason")
    piece.usage = _nova_usage((chunk.get("metadata") or {}).get("usage"))
    return piece


def _titan_reply(body: Body) -> Reply:
    result = _first(body, "results")
    usage = None
    if isinstance(body.get("inputTextTokenCount"), int) and "tokenCount" in result:
        usage = usage_dict(body["inputTextTokenCount"], result["tokenCount"])
    return Reply(
        str(result.get("outputText", "")), stop_reason=result.get("completionReason"), usage=usage
    )


def _meta_reply(body: Body) -> Reply:
    usage = None
    if isinstance(body.get("prompt_token_count"), int):
        usage = usage_dict(body["prompt_token_count"], body.get("generation_token_count") or 0)
    return Reply(
        str(body.get("generation") or ""), stop_reason=body.get("stop_reason"), usage=usage
    )


def _listed(key: str, reason: str) -> Callable[[Body], Reply]:
    """A reader for ``{key: [{"text": ..., reason: ...}]}`` bodies (Mistral, DeepSeek, Cohere)."""

    def read(body: Body) -> Reply:
        first = _first(body, key)
        return Reply(str(first.get("text") or ""), stop_reason=first.get(reason))

    return read


def _ai21_reply(body: Body) -> Reply:
    first = _first(body, "completions")
    reason = first.get("finishReason")
    return Reply(
        str((first.get("data") or {}).get("text") or ""),
        stop_reason=reason.get("reason") if isinstance(reason, dict) else reason,
    )


def _flat_piece(text: str, reason: str) -> Callable[[Body], Piece]:
    """A reader for chunks with the text and the stop reason at the top (Titan, Llama, Cohere)."""
    return lambda chunk: Piece(str(chunk.get(text) or ""), stop_reason=chunk.get(reason))


def _listed_piece(key: str, reason: str) -> Callable[[Body], Piece]:
    def read(chunk: Body) -> Piece:
        first = _first(chunk, key)
        return Piece(str(first.get("text") or ""), stop_reason=first.get(reason))

    return read


def _chat_reply(body: Body) -> Reply:
    text, calls, reason, tokens = chat_completion_reply(body)
    return Reply(text, tool_calls=calls, stop_reason=reason, usage=tokens and usage_dict(*tokens))


def _chat_piece(chunk: Body) -> Piece:
    text, call, reason, tokens = chat_completion_chunk(chunk)
    usage = tokens and usage_dict(*tokens)
    return Piece(text, tool_call_chunk=call, stop_reason=reason, usage=usage)


# -- the table ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvokeFormat:
    """How one model family is called over ``InvokeModel``."""

    name: str
    provider: str
    marker: str | None
    """Selects this row when found in the base model name; ``None``: the provider's default."""
    render_chat: Callable[[Sequence[BaseMessage]], Body]
    render_prompt: Callable[[str], Body]
    read_response: Callable[[Body], Reply]
    read_chunk: Callable[[Body], Piece] | None
    """``None``: the family does not stream (a stream is one piece of the full reply)."""
    stop_key: str | None
    """Where stop sequences go; ``None``: the model has none, they are applied here."""
    renames: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Generic parameter -> this provider's key (``max_tokens`` -> ``max_gen_len``)."""
    config_key: str | None = None
    """The object holding inference parameters, when the provider nests them."""
    top_keys: frozenset[str] = frozenset()
    """Parameters that stay at the top of the body when ``config_key`` is set."""
    defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    stream_flag: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """Added to the body of streaming requests."""
    tools: bool = False
    """Takes ``tools``/``tool_choice`` (Anthropic's format)."""


_NOVA_TOP = frozenset(("schemaVersion", "system", "messages", "toolConfig"))

_LLAMA3 = header_chat("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
_LLAMA4 = header_chat("<|begin_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>")
_LLAMA_RENAMES = MappingProxyType({"max_tokens": "max_gen_len"})
_LLAMA_PIECE = _flat_piece("generation", "stop_reason")


def _llama(name: str, marker: str | None, render_chat: Callable[..., Body]) -> InvokeFormat:
    """A Meta Llama row: the versions differ only in their chat template."""
    return InvokeFormat(
        name=name,
        provider="meta",
        marker=marker,
        render_chat=render_chat,
        render_prompt=prompt_as("prompt"),
        read_response=_meta_reply,
        read_chunk=_LLAMA_PIECE,
        stop_key=None,
        renames=_LLAMA_RENAMES,
    )


def _chat_completions(
    name: str, provider: str, marker: str | None, max_key: str = "max_tokens"
) -> InvokeFormat:
    """A chat-completions row (OpenAI's message shape, ``choices`` answers)."""
    return InvokeFormat(
        name=name,
        provider=provider,
        marker=marker,
        render_chat=openai_chat,
        render_prompt=openai_prompt,
        read_response=_chat_reply,
        read_chunk=_chat_piece,
        stop_key="stop",
        renames=MappingProxyType({"max_tokens": max_key}),
    )


FORMATS: tuple[InvokeFormat, ...] = (
    InvokeFormat(
        name="anthropic-messages",
        provider="anthropic",
        marker=None,
        render_chat=anthropic_chat,
        render_prompt=anthropic_prompt,
        read_response=_anthropic_reply,
        read_chunk=_anthropic_piece,
        stop_key="stop_sequences",
        defaults=MappingProxyType({"anthropic_version": ANTHROPIC_VERSION, "max_tokens": 1024}),
        tools=True,
    ),
    InvokeFormat(
        name="amazon-nova",
        provider="amazon",
        marker="nova",
        render_chat=nova_chat,
        render_prompt=nova_prompt,
        read_response=_nova_reply,
        read_chunk=_nova_piece,
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokens", "top_p": "topP", "top_k": "topK"}),
        config_key="inferenceConfig",
        top_keys=_NOVA_TOP,
    ),
    InvokeFormat(
        name="amazon-titan",
        provider="amazon",
        marker=None,
        render_chat=transcript_chat("inputText"),
        render_prompt=prompt_as("inputText"),
        read_response=_titan_reply,
        read_chunk=_flat_piece("outputText", "completionReason"),
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokenCount", "top_p": "topP"}),
        config_key="textGenerationConfig",
        top_keys=frozenset(("inputText",)),
    ),
    _llama("meta-llama4", "llama4", _LLAMA4),
    _llama("meta-llama2", "llama2", llama2_chat),
    _llama("meta-llama3", None, _LLAMA3),
    _chat_completions("mistral-large-2", "mistral", "large-2407"),
    _chat_completions("mistral-pixtral", "mistral", "pixtral"),
    InvokeFormat(
        name="mistral",
        provider="mistral",
        marker=None,
        render_chat=mistral_chat,
        render_prompt=prompt_as("prompt"),
        read_response=_listed("outputs", "stop_reason"),
        read_chunk=_listed_piece("outputs", "stop_reason"),
        stop_key="stop",
    ),
    InvokeFormat(
        name="cohere-command",
        provider="cohere",
        marker=None,
        render_chat=transcript_chat("prompt"),
        render_prompt=prompt_as("prompt"),
        read_response=_listed("generations", "finish_reason"),
        read_chunk=_flat_piece("text", "finish_reason"),
        stop_key="stop_sequences",
        renames=MappingProxyType({"top_p": "p", "top_k": "k"}),
        stream_flag=MappingProxyType({"stream": True}),
    ),
    _chat_completions("ai21-jamba", "ai21", "jamba"),
    InvokeFormat(
        name="ai21-j2",
        provider="ai21",
        marker=None,
        render_chat=transcript_chat("prompt"),
        render_prompt=prompt_as("prompt"),
        read_response=_ai21_reply,
        read_chunk=None,
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokens", "top_p": "topP"}),
    ),
    InvokeFormat(
        name="deepseek",
        provider="deepseek",
        marker=None,
        render_chat=deepseek_chat,
        render_prompt=prompt_as("prompt"),
        read_response=_listed("choices", "stop_reason"),
        read_chunk=_listed_piece("choices", "stop_reason"),
        stop_key="stop",
    ),
    _chat_completions("openai-gpt-oss", "openai", None, "max_completion_tokens"),
    _chat_completions("qwen", "qwen", None),
    InvokeFormat(
        name="writer-palmyra",
        provider="writer",
        marker=None,
        render_chat=writer_chat,
        render_prompt=prompt_as("prompt"),
        read_response=_listed("choices", "stop_reason"),
        read_chunk=_listed_piece("choices", "stop_reason"),
        stop_key="stop",
    ),
)
"""Every supported family; rows with a marker come before their provider's default."""

NOT_IMPLEMENTED: tuple[tuple[str, str, str], ...] = (
    ("cohere", "command-r", "Cohere Command R models take a chat body (message, chat_history)"),
    ("amazon", "embed", "embedding models are served by BedrockEmbeddings"),
    ("cohere", "embed", "embedding models are served by BedrockEmbeddings"),
)
"""(provider, marker, why) of families that have no row yet."""


def format_for(provider: str, base_model: str) -> InvokeFormat:
    """The row for a provider and base model name; NotImplementedError when there is none."""
    for known, marker, why in NOT_IMPLEMENTED:
        if provider == known and marker in base_model:
            raise NotImplementedError(
                f"{provider}.{base_model} is not supported over InvokeModel in runwire "
                f"({why}); {CONVERSE_HINT}"
            )
    for row in FORMATS:
        if row.provider == provider and (row.marker is None or row.marker in base_model):
            return row
    supported = ", ".join(sorted({row.provider for row in FORMATS}))
    raise NotImplementedError(
        f"provider {provider!r} is not supported over InvokeModel in runwire (supported: "
        f"{supported}); {CONVERSE_HINT}"
    )


def build_body(
    fmt: InvokeFormat,
    rendered: Body,
    params: Mapping[str, Any],
    stop: Sequence[str] | None,
    *,
    stream: bool = False,
) -> tuple[Body, list[str]]:
    """The request body, and the stop sequences to apply client-side.

    ``params`` are model_kwargs and call kwargs (generic or native names); ``stop``
    (the call's, else the model's) wins over stop sequences found in ``params``.
    """
    options: dict[str, Any] = {}
    stops: list[str] = list(stop) if stop else []
    stop_keys = _STOP_KEYS | ({fmt.stop_key} if fmt.stop_key else set())
    for key, value in params.items():
        if key in stop_keys:
            if not stop and value:
                stops = [value] if isinstance(value, str) else list(value)
            continue
        if key in ("tools", "tool_choice") and not fmt.tools:
            raise NotImplementedError(
                f"{fmt.name} models take no tools over InvokeModel: {CONVERSE_HINT}"
            )
        options[fmt.renames.get(key, key)] = value
    client_stops: list[str] = []
    if stops and fmt.stop_key:
        options[fmt.stop_key] = stops
    elif stops:
        client_stops = stops
    if stream:
        options.update(fmt.stream_flag)
    if fmt.config_key is None:
        return {**fmt.defaults, **options, **rendered}, client_stops
    top: Body = dict(fmt.defaults)
    config: Body = {}
    for key, value in options.items():
        if key == fmt.config_key and isinstance(value, Mapping):
            config.update(value)
        elif key in fmt.top_keys:
            top[key] = value
        else:
            config[key] = value
    body = {**top, **rendered}
    if config:
        body[fmt.config_key] = config
    return body, client_stops
