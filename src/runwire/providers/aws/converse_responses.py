"""Bedrock Converse responses and stream events -> runwire messages (pure data).

:func:`response_to_message` and :func:`event_to_chunk` write content the way
langchain-aws does (``text``, ``tool_use``, ``reasoning_content``, ``guard_content``
... blocks; a lone text block becomes a string), so a summed stream carries the same
blocks as the invoke result, each with its ``index``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runwire.providers.aws.converse_messages import tool_input
from runwire.schema.messages import AIMessage, AIMessageChunk, UsageMetadata

__all__ = ["blocks_to_content", "event_to_chunk", "response_to_message", "usage_metadata"]


def _reasoning_out(reasoning: Mapping[str, Any]) -> dict[str, Any]:
    if "reasoningText" in reasoning:
        text = reasoning["reasoningText"]
        inner = {"text": text.get("text", ""), "signature": text.get("signature", "")}
    else:  # a stream delta: text, signature or redacted content, one at a time
        names = {"text": "text", "signature": "signature", "redactedContent": "redacted_content"}
        inner = {names[k]: v for k, v in reasoning.items() if k in names}
    return {"type": "reasoning_content", "reasoning_content": inner}


def _tool_use_out(use: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = {"type": "tool_use", "id": use.get("toolUseId"), "name": use.get("name")}
    if "input" in use:
        out["input"] = use["input"]
    return [out]


def _image_out(image: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "bytes" not in image.get("source", {}):
        return [{"type": "non_standard", "value": {"image": dict(image)}}]
    data = base64.b64encode(image["source"]["bytes"]).decode("ascii")
    source = {"type": "base64", "media_type": f"image/{image['format']}", "data": data}
    return [{"type": "image", "source": source}]


def _tool_result_out(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": "tool_result",
            "tool_use_id": result.get("toolUseId"),
            "is_error": result.get("status") == "error",
            "content": blocks_to_content(result.get("content") or []),
        }
    ]


def _citations_out(cited: Mapping[str, Any]) -> list[dict[str, Any]]:
    extra = {"citations": cited["citations"]} if cited.get("citations") else {}
    return [
        {"type": "text", "text": part["text"], **extra}
        for part in cited.get("content") or []
        if "text" in part
    ]


_READERS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "text": lambda text: [{"type": "text", "text": text}],
    "toolUse": _tool_use_out,
    "reasoningContent": lambda reasoning: [_reasoning_out(reasoning)],
    "guardContent": lambda guard: [
        {
            "type": "guard_content",
            "guard_content": {"type": "text", "text": guard.get("text", {}).get("text", "")},
        }
    ],
    "image": _image_out,
    "document": lambda document: [{"type": "document", "document": document}],
    "toolResult": _tool_result_out,
    "json": lambda value: [{"type": "json", "json": value}],
    "citationsContent": _citations_out,
}
"""Converse block key -> its LangChain content blocks; others come as ``non_standard``."""


def _block_out(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One Converse output block as LangChain content blocks."""
    for key, value in block.items():
        reader = _READERS.get(key)
        if reader is not None:
            return reader(value)
    return [{"type": "non_standard", "value": dict(block)}]


def blocks_to_content(blocks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Converse output blocks as LangChain content blocks."""
    return [item for block in blocks for item in _block_out(block)]


def usage_metadata(usage: Mapping[str, Any]) -> UsageMetadata:
    """Converse ``usage`` as ``usage_metadata``, as langchain-aws writes it: cache tokens
    count as input tokens, ``input_token_details`` is always there (zeros when nothing
    was cached), with the per-TTL cache writes of ``cacheDetails``."""
    cache_read = usage.get("cacheReadInputTokens")
    cache_write = usage.get("cacheWriteInputTokens")
    tokens_in = usage.get("inputTokens", 0) + (cache_read or 0) + (cache_write or 0)
    tokens_out = usage.get("outputTokens", 0)
    details: dict[str, int] = {"cache_read": cache_read or 0, "cache_creation": cache_write or 0}
    by_ttl = {"5m": 0, "1h": 0}
    for entry in usage.get("cacheDetails") or ():
        if entry.get("ttl") in by_ttl:
            by_ttl[entry["ttl"]] += entry.get("inputTokens", 0)
    if by_ttl["5m"]:
        details["ephemeral_5m_input_tokens"] = by_ttl["5m"]
    if by_ttl["1h"]:
        details["ephemeral_1h_input_tokens"] = by_ttl["1h"]
    if by_ttl["5m"] + by_ttl["1h"]:
        details["cache_creation"] = 0
    return {
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "input_token_details": details,
        "total_tokens": usage.get("totalTokens", tokens_in + tokens_out),
    }


def _thinking_tokens(fields: Any) -> int | None:
    """Thinking tokens a model reports in ``additionalModelResponseFields`` (``/usage``)."""
    usage = fields.get("usage") if isinstance(fields, dict) else None
    details = usage.get("output_tokens_details") if isinstance(usage, dict) else None
    tokens = details.get("thinking_tokens") if isinstance(details, dict) else None
    return tokens if isinstance(tokens, int) else None


def _tool_calls(content: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": b["name"], "args": tool_input(b.get("input")), "id": b["id"], "type": "tool_call"}
        for b in content
        if b.get("type") == "tool_use"
    ]


def response_to_message(response: Mapping[str, Any], model_name: str) -> AIMessage:
    """A Converse response as an AIMessage.

    ``response_metadata`` keeps every top-level response key but ``output`` and
    ``usage`` (``stopReason``, ``metrics``, ``ResponseMetadata``, ``trace``,
    ``additionalModelResponseFields``...), plus ``model_provider`` and ``model_name``;
    ``metrics.latencyMs`` is a one-item list (langchain-aws's form; stream metadata
    keeps the number, as there).
    """
    if "output" not in response:
        raise ValueError(
            "the Bedrock Converse response has no 'output': check endpoint_url and "
            "region (the endpoint must be bedrock-runtime's)"
        )
    blocks = response["output"].get("message", {}).get("content") or []
    metadata = {k: v for k, v in response.items() if k not in ("output", "usage")}
    metrics = metadata.get("metrics")
    if isinstance(metrics, dict) and "latencyMs" in metrics:  # a list, as langchain-aws has it
        metadata["metrics"] = {**metrics, "latencyMs": [metrics["latencyMs"]]}
    metadata["model_provider"] = "bedrock_converse"
    metadata["model_name"] = model_name
    usage = usage_metadata(response.get("usage") or {})
    thinking = _thinking_tokens(response.get("additionalModelResponseFields"))
    if thinking is not None:  # a part of output_tokens, as langchain-aws counts it
        usage["output_token_details"] = {"reasoning": thinking}
    if len(blocks) == 1 and blocks[0].keys() == {"text"}:  # the common plain answer
        return AIMessage(
            content=blocks[0]["text"], usage_metadata=usage, response_metadata=metadata
        )
    content = blocks_to_content(blocks)
    single_text = len(content) == 1 and content[0]["type"] == "text"
    return AIMessage(
        content=content[0]["text"] if single_text else content,  # type: ignore[arg-type]
        tool_calls=_tool_calls(content),  # type: ignore[arg-type]
        usage_metadata=usage,
        response_metadata=metadata,
    )


def _indexed(block: Mapping[str, Any], index: int) -> AIMessageChunk:
    content = {**block, "index": index}
    calls = []
    if block["type"] == "tool_use":
        calls = [
            {
                "name": block.get("name"),
                "id": block.get("id"),
                "args": block.get("input"),
                "index": index,
            }
        ]
    return AIMessageChunk(content=[content], tool_call_chunks=calls)  # type: ignore[list-item]


def event_to_chunk(event: Mapping[str, Any]) -> AIMessageChunk | None:
    """One ConverseStream event as a chunk (None for events that carry nothing).

    Content blocks carry their ``index``; tool-use starts and input deltas also come as
    ``tool_call_chunks`` with that index. ``messageStop`` brings ``stopReason``, the
    ``metadata`` event the usage, metrics and trace. As langchain-aws: the message start
    and each block's stop are empty chunks, and the stop and metadata chunks have ``""``
    as content.
    """
    if "messageStart" in event or "contentBlockStop" in event:
        return AIMessageChunk(content=[])
    if "contentBlockStart" in event:
        start = event["contentBlockStart"]
        if "toolUse" not in start.get("start", {}):
            return None
        return _indexed(_block_out(start["start"])[0], start["contentBlockIndex"])
    if "contentBlockDelta" in event:
        delta = event["contentBlockDelta"]
        body = delta["delta"]
        if "toolUse" in body:
            # as langchain-aws: the delta's keys, then the (absent) tool use id
            block: dict[str, Any] = {
                "type": "tool_use",
                "input": body["toolUse"].get("input", ""),
                "id": None,
            }
        elif "citation" in body:
            block = {"type": "text", "text": "", "citations": [body["citation"]]}
        else:
            block = _block_out(body)[0]
        return _indexed(block, delta["contentBlockIndex"])
    if "messageStop" in event:
        return AIMessageChunk(content="", response_metadata=dict(event["messageStop"]))
    if "metadata" in event:
        meta = dict(event["metadata"])
        usage = usage_metadata(meta.pop("usage", {}))
        return AIMessageChunk(content="", response_metadata=meta, usage_metadata=usage)
    return None
