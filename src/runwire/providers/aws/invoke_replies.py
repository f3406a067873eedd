"""What Bedrock ``InvokeModel`` answers, per model family: response bodies as
:class:`Reply`, stream chunks as :class:`Piece` (pure functions over JSON).

The rows of :mod:`runwire.providers.aws.invoke_formats` name these readers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runwire.providers.aws.invoke_chat_completions import (
    chat_completion_chunk,
    chat_completion_reply,
)
from runwire.providers.aws.invoke_prompts import Body

__all__ = [
    "Piece",
    "Reply",
    "ai21_reply",
    "anthropic_piece",
    "anthropic_reply",
    "chat_piece",
    "chat_reply",
    "flat_piece",
    "listed",
    "listed_piece",
    "meta_reply",
    "nova_piece",
    "nova_reply",
    "titan_reply",
    "usage_dict",
]


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


def anthropic_reply(body: Body) -> Reply:
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


def anthropic_piece(chunk: Body) -> Piece:
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


def nova_reply(body: Body) -> Reply:
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


def nova_piece(chunk: Body) -> Piece:
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


def titan_reply(body: Body) -> Reply:
    result = _first(body, "results")
    usage = None
    if isinstance(body.get("inputTextTokenCount"), int) and "tokenCount" in result:
        usage = usage_dict(body["inputTextTokenCount"], result["tokenCount"])
    return Reply(
        str(result.get("outputText", "")), stop_reason=result.get("completionReason"), usage=usage
    )


def meta_reply(body: Body) -> Reply:
    usage = None
    if isinstance(body.get("prompt_token_count"), int):
        usage = usage_dict(body["prompt_token_count"], body.get("generation_token_count") or 0)
    return Reply(
        str(body.get("generation") or ""), stop_reason=body.get("stop_reason"), usage=usage
    )


def listed(key: str, reason: str) -> Callable[[Body], Reply]:
    """A reader for ``{key: [{"text": ..., reason: ...}]}`` bodies (Mistral, DeepSeek, Cohere)."""

    def read(body: Body) -> Reply:
        first = _first(body, key)
        return Reply(str(first.get("text") or ""), stop_reason=first.get(reason))

    return read


def ai21_reply(body: Body) -> Reply:
    first = _first(body, "completions")
    reason = first.get("finishReason")
    return Reply(
        str((first.get("data") or {}).get("text") or ""),
        stop_reason=reason.get("reason") if isinstance(reason, dict) else reason,
    )


def flat_piece(text: str, reason: str) -> Callable[[Body], Piece]:
    """A reader for chunks with the text and the stop reason at the top (Titan, Llama, Cohere)."""
    return lambda chunk: Piece(str(chunk.get(text) or ""), stop_reason=chunk.get(reason))


def listed_piece(key: str, reason: str) -> Callable[[Body], Piece]:
    def read(chunk: Body) -> Piece:
        first = _first(chunk, key)
        return Piece(str(first.get("text") or ""), stop_reason=first.get(reason))

    return read


def chat_reply(body: Body) -> Reply:
    text, calls, reason, tokens = chat_completion_reply(body)
    return Reply(text, tool_calls=calls, stop_reason=reason, usage=tokens and usage_dict(*tokens))


def chat_piece(chunk: Body) -> Piece:
    text, call, reason, tokens = chat_completion_chunk(chunk)
    usage = tokens and usage_dict(*tokens)
    return Piece(text, tool_call_chunk=call, stop_reason=reason, usage=usage)
