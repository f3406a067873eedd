"""Converse and ConverseStream, server side: read the request, write the answer.

Shapes follow botocore's ``bedrock-runtime`` service model: ``output.message.content``
blocks, ``stopReason``, ``usage``, ``metrics.latencyMs``; stream events
``messageStart``, ``contentBlockStart`` (tool use), ``contentBlockDelta``,
``contentBlockStop``, ``messageStop`` and ``metadata``. Amazon Nova's InvokeModel
format shares the request shape and, chunk by chunk, the stream events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.replies import Answer, Prompt, split_pieces, split_words

__all__ = [
    "content_blocks",
    "converse_events",
    "converse_response",
    "guardrail_of",
    "read_prompt",
    "tool_choice_of",
    "usage_of",
]

Event = tuple[str, dict[str, Any]]


def _block_texts(block: Mapping[str, Any]) -> list[str]:
    """The texts a Converse content block carries (for usage and the last user text)."""
    if "text" in block and isinstance(block["text"], str):
        return [block["text"]]
    if "guardContent" in block:
        return [block["guardContent"].get("text", {}).get("text", "")]
    if "toolResult" in block:
        return _tool_result_texts(block["toolResult"])
    if "document" in block:
        return [block["document"].get("source", {}).get("text") or ""]
    return []


def _tool_result_texts(result: Mapping[str, Any]) -> list[str]:
    texts = []
    for part in result.get("content") or ():
        if "text" in part:
            texts.append(str(part["text"]))
        elif "json" in part:
            texts.append(json.dumps(part["json"]))
    return texts


def tool_choice_of(tool_config: Mapping[str, Any] | None) -> str | tuple[str, str] | None:
    """A Converse ``toolChoice`` as ``None`` (auto), ``"any"`` or ``("tool", name)``."""
    choice = (tool_config or {}).get("toolChoice") or {}
    if "any" in choice:
        return "any"
    if "tool" in choice:
        return ("tool", str(choice["tool"].get("name", "")))
    return None


def read_prompt(body: Mapping[str, Any]) -> Prompt:
    """Read a Converse (or Nova ``messages-v1``) request body."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation_error("Malformed input request: messages must be a non-empty list.")
    texts: list[str] = [t for block in body.get("system") or () for t in _block_texts(block)]
    last_user: Sequence[Mapping[str, Any]] = ()
    for message in messages:
        if not isinstance(message, Mapping) or not isinstance(message.get("content"), list):
            raise validation_error("Malformed input request: each message needs a content list.")
        texts += [t for block in message["content"] for t in _block_texts(block)]
        if message.get("role") == "user":
            last_user = message["content"]
    plain = [t for b in last_user if "toolResult" not in b for t in _block_texts(b)]
    results = [t for b in last_user if "toolResult" in b for t in _block_texts(b)]
    tool_config = body.get("toolConfig") or {}
    tools = tuple(
        str(tool["toolSpec"]["name"])
        for tool in tool_config.get("tools") or ()
        if "toolSpec" in tool
    )
    return Prompt(
        last_text="\n".join(plain or results),
        texts=tuple(texts),
        tools=tools,
        tool_choice=tool_choice_of(tool_config),
        tool_results_only=bool(results) and not plain,
    )


def guardrail_of(body: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The guardrail id a Converse request asks for (None: none) and whether it traces."""
    config = body.get("guardrailConfig")
    if not isinstance(config, Mapping):
        return None, False
    trace = str(config.get("trace", "disabled")).lower() in ("enabled", "enabled_full")
    return str(config.get("guardrailIdentifier") or "guardrail"), trace


def content_blocks(answer: Answer) -> list[dict[str, Any]]:
    """The assistant message content: reasoning, text, tool uses."""
    blocks: list[dict[str, Any]] = []
    if answer.reasoning:
        reasoning = {"text": answer.reasoning, "signature": answer.signature}
        blocks.append({"reasoningContent": {"reasoningText": reasoning}})
    if answer.text or not answer.tool_calls:
        blocks.append({"text": answer.text})
    for call in answer.tool_calls:
        blocks.append({"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.input}})
    return blocks


def usage_of(answer: Answer) -> dict[str, int]:
    """Converse ``usage``: input, output and total tokens."""
    total = answer.input_tokens + answer.output_tokens
    return {
        "inputTokens": answer.input_tokens,
        "outputTokens": answer.output_tokens,
        "totalTokens": total,
    }


_RESPONSE_FIELDS = {"stop_sequence": lambda a: None, "model": lambda a: a.model_id}


def _response_fields(paths: Sequence[str], answer: Answer) -> dict[str, Any]:
    """``additionalModelResponseFields`` for the requested JSON-pointer ``paths``: the
    ones the emulator can fill (``/stop_sequence``, ``/stop_reason``, ``/model``)."""
    fields: dict[str, Any] = {}
    for path in paths:
        parts = [part for part in str(path).split("/") if part]
        if not parts:
            continue
        leaf = parts[-1]
        if leaf == "stop_reason":
            value: Any = answer.stop_reason
        elif leaf in _RESPONSE_FIELDS:
            value = _RESPONSE_FIELDS[leaf](answer)
        else:
            continue
        node = fields
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[leaf] = value
    return fields


def converse_response(answer: Answer, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Converse response body."""
    response: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content_blocks(answer)}},
        "stopReason": answer.stop_reason,
        "usage": usage_of(answer),
        "metrics": {"latencyMs": answer.latency_ms},
    }
    paths = body.get("additionalModelResponseFieldPaths")
    if paths:
        response["additionalModelResponseFields"] = _response_fields(paths, answer)
    if answer.trace is not None:
        response["trace"] = {"guardrail": answer.trace}
    return response


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return ("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})


def _stop(index: int) -> Event:
    return ("contentBlockStop", {"contentBlockIndex": index})


def converse_events(answer: Answer, body: Mapping[str, Any]) -> list[Event]:
    """The ConverseStream events, in order: text streamed word by word, tool input as
    JSON string pieces."""
    events: list[Event] = [("messageStart", {"role": "assistant"})]
    index = 0
    if answer.reasoning:
        events += [
            _delta(index, {"reasoningContent": {"text": p}}) for p in split_words(answer.reasoning)
        ]
        events += [_delta(index, {"reasoningContent": {"signature": answer.signature}})]
        events.append(_stop(index))
        index += 1
    if answer.text or not answer.tool_calls:
        events += [_delta(index, {"text": p}) for p in split_words(answer.text) or [""]]
        events.append(_stop(index))
        index += 1
    for call in answer.tool_calls:
        start = {"toolUse": {"toolUseId": call.id, "name": call.name}}
        events.append(("contentBlockStart", {"start": start, "contentBlockIndex": index}))
        pieces = split_pieces(json.dumps(call.input))
        events += [_delta(index, {"toolUse": {"input": piece}}) for piece in pieces]
        events.append(_stop(index))
        index += 1
    stop: dict[str, Any] = {"stopReason": answer.stop_reason}
    paths = body.get("additionalModelResponseFieldPaths")
    if paths:
        stop["additionalModelResponseFields"] = _response_fields(paths, answer)
    events.append(("messageStop", stop))
    metadata: dict[str, Any] = {
        "usage": usage_of(answer),
        "metrics": {"latencyMs": answer.latency_ms},
    }
    if answer.trace is not None:
        metadata["trace"] = {"guardrail": answer.trace}
    events.append(("metadata", metadata))
    return events
