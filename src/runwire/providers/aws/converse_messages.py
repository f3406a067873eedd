"""runwire messages -> Bedrock Converse messages and content blocks (pure data).

:func:`to_converse` turns messages into Converse ``messages`` and
``system`` blocks (same-role runs merged, tool results in user turns, tool calls as
``toolUse`` blocks). Content blocks are read in the forms LangChain users write them:
plain strings, ``{"type": "text"}``, Anthropic-style ``image``/``tool_use``/
``tool_result``/``thinking``, LangChain's data blocks (``image``/``file`` with base64),
``image_url`` data URLs, ``reasoning_content``, ``guard_content``, and raw Converse
blocks (a dict without ``type``, e.g. ``{"cachePoint": {"type": "default"}}``), which
pass through unchanged. The way back is :mod:`converse_responses`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from runwire.schema.merge import parse_partial_json
from runwire.schema.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = [
    "EMPTY_TEXT",
    "apply_guard_last_turn",
    "content_to_blocks",
    "to_converse",
    "tool_input",
]

EMPTY_TEXT = "."
"""Stands in for empty content: Converse refuses empty or blank text blocks."""

MIME_FORMATS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
"""MIME type -> Converse ``format`` of image and document blocks."""

_UNSIGNED_REASONING_MODELS = ("openai.gpt-oss", "amazon.nova-2", "deepseek.v3")
"""Models that accept reasoning without a signature in earlier assistant turns; others
(Claude) refuse it, so unsigned reasoning is dropped for them."""

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.+)$", re.DOTALL)


# -- request: content blocks ----------------------------------------------------------------
def _format_of(mime_type: str) -> str:
    found = MIME_FORMATS.get(mime_type)
    if found is not None:
        return found
    kind, _, sub = mime_type.partition("/")
    if sub and sub in MIME_FORMATS.values():
        return sub
    if kind == "text":
        return "txt"
    raise ValueError(
        f"unsupported MIME type {mime_type!r} for Bedrock Converse; supported: "
        f"{', '.join(sorted(MIME_FORMATS))}"
    )


def _bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else base64.b64decode(data)


def _data_block(block: Mapping[str, Any]) -> dict[str, Any] | None:
    """LangChain data blocks (``base64`` or ``source_type: base64``) and Anthropic sources."""
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64":
        mime, data = source.get("media_type") or source.get("mediaType"), source.get("data")
    elif "base64" in block or block.get("source_type") == "base64":
        mime, data = block.get("mime_type"), block.get("base64") or block.get("data")
    else:
        return None
    if not mime or data is None:
        raise ValueError(f"a base64 {block['type']} block needs a mime_type and data")
    payload: dict[str, Any] = {"format": _format_of(mime), "source": {"bytes": _bytes(data)}}
    if block["type"] == "image":
        return {"image": payload}
    extras = block.get("extras") or block.get("metadata") or {}
    name = block.get("name") or block.get("filename") or extras.get("name") or "document"
    return {"document": {**payload, "name": name}}


def tool_input(value: Any) -> dict[str, Any]:
    """A tool-use input as Converse takes it: streamed inputs are partial JSON text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        parsed = parse_partial_json(value)
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _reasoning(text: str, signature: str, redacted: Any, model_id: str) -> dict[str, Any] | None:
    if redacted:
        return {"reasoningContent": {"redactedContent": _bytes(redacted)}}
    if not signature and not (text and any(m in model_id for m in _UNSIGNED_REASONING_MODELS)):
        return None  # the model would refuse unsigned (or empty) reasoning
    reasoning: dict[str, Any] = {"text": text}
    if signature:
        reasoning["signature"] = signature
    return {"reasoningContent": {"reasoningText": reasoning}}


def _text(block: Mapping[str, Any], model_id: str) -> dict[str, Any] | None:
    text = block.get("text") or ""
    return {"text": text} if text.strip() else None


def _media(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    for key in ("image", "document"):  # a Converse block wrapped in a typed one
        if isinstance(block.get(key), Mapping):
            return {key: dict(block[key])}
    found = _data_block(block)
    if found is None:
        raise ValueError(
            f"Bedrock Converse takes {block['type']} blocks as inline base64 data only"
        )
    return found


def _image_url(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    url = block["image_url"]["url"] if isinstance(block.get("image_url"), Mapping) else ""
    match = _DATA_URL.match(url or block.get("url", ""))
    if match is None:
        raise ValueError("Bedrock Converse takes image_url blocks as base64 data: URLs only")
    source = {"bytes": _bytes(match["data"])}
    return {"image": {"format": _format_of(match["mime"]), "source": source}}


def _tool_use(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    if block["type"] == "tool_call":
        name, use_id, args = block.get("name"), block.get("id"), block.get("args")
    else:
        name, use_id, args = block["name"], block["id"], tool_input(block.get("input"))
    return {"toolUse": {"toolUseId": use_id or "", "name": name or "", "input": args or {}}}


def _tool_result(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    content = content_to_blocks(block.get("content") or "", model_id)
    return {
        "toolResult": {
            "toolUseId": block.get("tool_use_id") or block.get("toolUseId"),
            "content": content or [{"text": EMPTY_TEXT}],
            "status": "error" if block.get("is_error") or block.get("isError") else "success",
        }
    }


def _guard(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    inner = block.get("guard_content")
    text = inner.get("text") if isinstance(inner, Mapping) else block.get("text")
    return {"guardContent": {"text": {"text": text or ""}}}


def _reasoning_content(block: Mapping[str, Any], model_id: str) -> dict[str, Any] | None:
    inner = block.get("reasoning_content") or block.get("reasoningContent") or {}
    redacted = inner.get("redacted_content") or inner.get("redactedContent")
    return _reasoning(inner.get("text", ""), inner.get("signature", ""), redacted, model_id)


def _thinking(block: Mapping[str, Any], model_id: str) -> dict[str, Any] | None:
    if block["type"] == "redacted_thinking":
        return _reasoning("", "", block.get("data"), model_id)
    return _reasoning(block.get("thinking", ""), block.get("signature", ""), None, model_id)


def _non_standard(block: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    if not isinstance(block.get("value"), Mapping):
        raise ValueError("a non_standard block needs a Converse block as its 'value'")
    return dict(block["value"])


_WRITERS: dict[str, Callable[[Mapping[str, Any], str], dict[str, Any] | None]] = {
    "text": _text,
    "image": _media,
    "file": _media,
    "image_url": _image_url,
    "document": lambda block, _: {"document": dict(block["document"])},
    "tool_use": _tool_use,
    "server_tool_use": _tool_use,
    "tool_call": _tool_use,
    "tool_result": _tool_result,
    "server_tool_result": _tool_result,
    "json": lambda block, _: {"json": block["json"]},
    "guard_content": _guard,
    "reasoning_content": _reasoning_content,
    "thinking": _thinking,
    "redacted_thinking": _thinking,
    "non_standard": _non_standard,
}
"""LangChain block type -> its Converse block (None: nothing to send)."""


def _typed_block(block: Mapping[str, Any], model_id: str) -> dict[str, Any] | None:
    writer = _WRITERS.get(block["type"])
    if writer is None:
        raise ValueError(
            f"content block type {block['type']!r} is not supported by Bedrock Converse; "
            "pass a raw Converse block (a dict without 'type') to send something else"
        )
    return writer(block, model_id)


def content_to_blocks(content: str | Sequence[Any], model_id: str = "") -> list[dict[str, Any]]:
    """Message content as Converse content blocks (empty text dropped, nothing added)."""
    if isinstance(content, str):
        return [{"text": content}] if content.strip() else []
    blocks: list[dict[str, Any]] = []
    for item in content:
        if isinstance(item, str):
            if item.strip():
                blocks.append({"text": item})
        elif isinstance(item, Mapping) and "type" not in item:
            blocks.append(dict(item))  # a raw Converse block: relayed as is
        elif isinstance(item, Mapping):
            converted = _typed_block(item, model_id)
            if converted is not None:
                blocks.append(converted)
        else:
            raise TypeError(f"content blocks are strings or dicts, got {type(item).__name__}")
    return blocks


# -- request: messages ------------------------------------------------------------------------
def _with_tool_calls(blocks: list[dict[str, Any]], message: AIMessage) -> list[dict[str, Any]]:
    """The assistant blocks with each tool call as a ``toolUse`` (updated when present)."""
    by_id = {b["toolUse"]["toolUseId"]: b["toolUse"] for b in blocks if "toolUse" in b}
    for call in message.tool_calls:
        found = by_id.get(call["id"] or "")
        if found is not None:
            found["name"], found["input"] = call["name"], call["args"]
        else:
            blocks.append(
                {
                    "toolUse": {
                        "toolUseId": call["id"] or "",
                        "name": call["name"],
                        "input": call["args"],
                    }
                }
            )
    return blocks


def _tool_message_blocks(message: ToolMessage, model_id: str) -> list[dict[str, Any]]:
    """A tool result block, then the cache points Converse refuses inside it."""
    blocks = content_to_blocks(message.content, model_id)
    inside = [b for b in blocks if "cachePoint" not in b]
    after = [b for b in blocks if "cachePoint" in b]
    result = {
        "toolResult": {
            "toolUseId": message.tool_call_id,
            "content": inside or [{"text": EMPTY_TEXT}],
            "status": message.status,
        }
    }
    return [result, *after]


def _trim_last_assistant(turns: list[dict[str, Any]]) -> None:
    """Bedrock refuses a final assistant turn (a prefill) ending in whitespace."""
    if not turns or turns[-1]["role"] != "assistant":
        return
    for block in reversed(turns[-1]["content"]):
        if "text" in block:
            block["text"] = block["text"].rstrip() or EMPTY_TEXT
            return


def to_converse(
    messages: Iterable[BaseMessage],
    system: Sequence[str | Mapping[str, Any]] | None = None,
    *,
    model_id: str = "",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Converse ``(messages, system)`` for runwire messages.

    ``system`` (the model's field) comes first, then every SystemMessage's blocks.
    Consecutive messages of one role are merged into one turn, tool results go in user
    turns, and an empty turn gets a ``"."`` text block. ``model_id`` (the base model)
    decides whether unsigned reasoning can be sent back.
    """
    system_blocks: list[dict[str, Any]] = [
        {"text": item} if isinstance(item, str) else dict(item) for item in system or ()
    ]
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system_blocks.extend(content_to_blocks(message.content, model_id))
            continue
        if isinstance(message, ToolMessage):
            role, blocks = "user", _tool_message_blocks(message, model_id)
        elif isinstance(message, HumanMessage):
            role, blocks = "user", content_to_blocks(message.content, model_id)
        elif isinstance(message, AIMessage):
            role = "assistant"
            blocks = _with_tool_calls(content_to_blocks(message.content, model_id), message)
        else:
            raise ValueError(
                f"Bedrock Converse cannot send a {type(message).__name__} "
                f"(type {message.type!r}): use human, ai, system or tool messages"
            )
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if not turn["content"]:
            turn["content"].append({"text": EMPTY_TEXT})
    if not turns:
        turns.append({"role": "user", "content": [{"text": EMPTY_TEXT}]})
    _trim_last_assistant(turns)
    return turns, system_blocks


def apply_guard_last_turn(turns: list[dict[str, Any]]) -> None:
    """Wrap the last user turn's text in ``guardContent`` so a guardrail checks only it.

    A turn with no text (only tool results) gets a ``[tool_result]`` guard block, as
    langchain-aws sends.
    """
    for turn in reversed(turns):
        if turn["role"] != "user":
            continue
        guarded = any("text" in block for block in turn["content"])
        turn["content"] = [
            {"guardContent": {"text": {"text": b["text"]}}} if "text" in b else b
            for b in turn["content"]
        ]
        if not guarded:
            turn["content"].append({"guardContent": {"text": {"text": "[tool_result]"}}})
        return
