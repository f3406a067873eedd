"""The OpenAI chat-completions wire shape that vLLM speaks: messages out, replies back.

``to_chat_messages`` writes messages as langchain-openai does (roles ``system``,
``user``, ``assistant``, ``tool`` or a ChatMessage's own role; an assistant's tool calls
as ``{"id", "type": "function", "function": {"name", "arguments"}}`` with ``content``
``None`` when empty). ``reply_to_message`` reads a ``chat.completion`` body and
``chunk_to_message`` one ``chat.completion.chunk`` of a stream. A reply's
``response_metadata`` holds ``token_usage``, ``model_name``, ``system_fingerprint`` and
``finish_reason`` (langchain-community's keys); a stream spreads the same keys over
its chunks, so the chunks add up to the reply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["chunk_to_message", "reply_to_message", "to_chat_messages", "usage_metadata"]

_ROLES: tuple[tuple[type[BaseMessage], str], ...] = (
    (SystemMessage, "system"),
    (HumanMessage, "user"),
    (AIMessage, "assistant"),
    (ToolMessage, "tool"),
    (FunctionMessage, "function"),
)


def _role(message: BaseMessage) -> str:
    if isinstance(message, ChatMessage):
        return message.role
    for cls, role in _ROLES:
        if isinstance(message, cls):
            return role
    raise TypeError(f"cannot send a {type(message).__name__} to a chat-completions endpoint")


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
    }


def _chat_message(message: BaseMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": _role(message), "content": message.content}
    if message.name is not None:
        out["name"] = message.name
    if isinstance(message, AIMessage) and message.tool_calls:
        out["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
        out["content"] = out["content"] or None
    elif isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
    return out


def to_chat_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The ``messages`` of a chat-completions request."""
    return [_chat_message(message) for message in messages]


def usage_metadata(usage: Any) -> dict[str, int] | None:
    """OpenAI ``usage`` as LangChain's ``usage_metadata`` (None when absent)."""
    if not isinstance(usage, Mapping) or "prompt_tokens" not in usage:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    total = int(usage.get("total_tokens") or prompt + completion)
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": total}


def _parsed_calls(raw: Sequence[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tool calls, invalid tool calls) of a reply's ``tool_calls``."""
    calls: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for item in raw:
        function = item.get("function") or {}
        text = function.get("arguments") or ""
        try:
            args = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            args, error = None, f"arguments are not JSON: {exc}"
        else:
            error = None if isinstance(args, dict) else "arguments are not a JSON object"
        if error is None:
            calls.append({"name": function.get("name") or "", "args": args, "id": item.get("id")})
        else:
            invalid.append(
                {"name": function.get("name"), "args": text, "id": item.get("id"), "error": error}
            )
    return calls, invalid


def _first_choice(body: Mapping[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if not isinstance(choices, list):
        raise ValueError("the endpoint's reply has no 'choices' list: not a chat completion")
    first = choices[0] if choices else {}
    if not isinstance(first, dict):
        raise ValueError("the endpoint's reply has a malformed choice: not a chat completion")
    return first


def reply_to_message(body: Mapping[str, Any], model: str) -> AIMessage:
    """The first choice of a ``chat.completion`` body as an ``AIMessage``."""
    choice = _first_choice(body)
    message = choice.get("message") or {}
    calls, invalid = _parsed_calls(message.get("tool_calls") or ())
    metadata: dict[str, Any] = {
        "token_usage": body.get("usage") or {},
        "model_name": model,
        "system_fingerprint": body.get("system_fingerprint") or "",
        "finish_reason": choice.get("finish_reason"),
    }
    if choice.get("logprobs") is not None:
        metadata["logprobs"] = choice["logprobs"]
    return AIMessage(
        content=message.get("content") or "",
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(body.get("usage")),
        response_metadata=metadata,
    )


def chunk_to_message(body: Mapping[str, Any], model: str) -> AIMessageChunk | None:
    """One ``chat.completion.chunk`` as an ``AIMessageChunk`` (None when it carries
    nothing: no delta, finish reason or usage)."""
    choices = body.get("choices") or []
    choice = choices[0] if choices and isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or {}
    usage = body.get("usage")
    tool_chunks = [
        {
            "name": (call.get("function") or {}).get("name"),
            "args": (call.get("function") or {}).get("arguments"),
            "id": call.get("id"),
            "index": call.get("index"),
        }
        for call in delta.get("tool_calls") or ()
    ]
    metadata: dict[str, Any] = {}
    if choice.get("finish_reason") is not None:
        metadata["model_name"] = model
        metadata["system_fingerprint"] = body.get("system_fingerprint") or ""
        metadata["finish_reason"] = choice["finish_reason"]
    if isinstance(usage, Mapping):
        metadata["token_usage"] = dict(usage)
    content = delta.get("content") or ""
    if not (content or tool_chunks or metadata):
        return None
    return AIMessageChunk(
        content=content,
        tool_call_chunks=tool_chunks,
        usage_metadata=usage_metadata(usage),
        response_metadata=metadata,
    )
