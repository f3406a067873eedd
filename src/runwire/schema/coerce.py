"""Message-likes to messages, and messages to one transcript string (LangChain's rules).

``convert_to_messages`` accepts what LangChain accepts where a list of messages is
expected: message objects, ``(role, content)`` pairs, plain strings (human messages),
dicts with ``role``/``type`` and ``content`` (OpenAI-style tool calls included), and
message constructor nodes (mapped by class name through an allowlist, never loaded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from runwire.schema.messages import (
    AIMessage,
    BaseMessage,
    FunctionMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["convert_to_message", "convert_to_messages", "get_buffer_string", "message_from_role"]

_ROLE_PREFIXES: tuple[tuple[type[BaseMessage], str], ...] = (
    (HumanMessage, "human_prefix"),
    (AIMessage, "ai_prefix"),
    (SystemMessage, "system_prefix"),
    (FunctionMessage, "function_prefix"),
    (ToolMessage, "tool_prefix"),
)


def get_buffer_string(
    messages: Sequence[BaseMessage],
    human_prefix: str = "Human",
    ai_prefix: str = "AI",
    *,
    system_prefix: str = "System",
    function_prefix: str = "Function",
    tool_prefix: str = "Tool",
    message_separator: str = "\n",
) -> str:
    """``"Human: hi\\nAI: hello"``: each message's text after its role prefix.

    An AI message's tool calls are appended as their ``str()``, as LangChain does; a
    ``ChatMessage`` is prefixed with its own ``role``.
    """
    prefixes = {
        "human_prefix": human_prefix,
        "ai_prefix": ai_prefix,
        "system_prefix": system_prefix,
        "function_prefix": function_prefix,
        "tool_prefix": tool_prefix,
    }
    lines = []
    for message in messages:
        for cls, key in _ROLE_PREFIXES:
            if isinstance(message, cls):
                role = prefixes[key]
                break
        else:
            role = getattr(message, "role", None)
            if not isinstance(role, str):
                raise ValueError(
                    f"cannot render a {type(message).__name__} as text: expected a human, "
                    "ai, system, function, tool or chat message"
                )
        line = f"{role}: {message.text}"
        if isinstance(message, AIMessage):
            if message.tool_calls:
                line += str(message.tool_calls)
            elif "function_call" in message.additional_kwargs:
                line += str(message.additional_kwargs["function_call"])
        lines.append(line)
    return message_separator.join(lines)


_ROLES: dict[str, type[BaseMessage]] = {
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
    "function": FunctionMessage,
    "tool": ToolMessage,
    "remove": RemoveMessage,
}

_CONSTRUCTOR_ROLES: dict[str, str] = {
    "HumanMessage": "human",
    "HumanMessageChunk": "human",
    "AIMessage": "ai",
    "AIMessageChunk": "ai",
    "SystemMessage": "system",
    "SystemMessageChunk": "system",
    "ToolMessage": "tool",
    "ToolMessageChunk": "tool",
    "FunctionMessage": "function",
    "FunctionMessageChunk": "function",
    "RemoveMessage": "remove",
}
"""Class names in a message constructor node -> role; an allowlist, never a class lookup."""


def _tool_calls(calls: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """LangChain tool calls, converting OpenAI's ``{"function": {...}}`` shape."""
    out = []
    for call in calls:
        if "function" in call:
            args = call["function"]["arguments"]
            out.append(
                {
                    "name": call["function"]["name"],
                    "args": json.loads(args, strict=False) if isinstance(args, str) else args,
                    "id": call.get("id"),
                    "type": "tool_call",
                }
            )
        else:
            out.append(call)
    return out


def message_from_role(role: str, content: Any, **extra: Any) -> BaseMessage:
    """A message of the class ``role`` names (human/user, ai/assistant, system/developer,
    tool); ``extra`` may hold name, id, tool_call_id, tool_calls and other kwargs."""
    cls = _ROLES.get(role) if isinstance(role, str) else None
    if cls is None:
        raise ValueError(
            f"unexpected message role {role!r}: use one of 'human', 'user', 'ai', "
            "'assistant', 'function', 'tool', 'system', 'developer' or 'remove'"
        )
    if not extra and role != "developer":
        return cls.__pydantic_validator__.validate_python({"content": content})  # type: ignore[no-any-return]
    fields: dict[str, Any] = {}
    for key in ("name", "id", "tool_call_id"):
        if extra.get(key) is not None:
            fields[key] = extra.pop(key)
        else:
            extra.pop(key, None)
    tool_calls = extra.pop("tool_calls", None)
    if tool_calls is not None and cls is AIMessage:
        fields["tool_calls"] = _tool_calls(tool_calls)
    metadata = extra.pop("response_metadata", None)
    if metadata:
        fields["response_metadata"] = metadata
    extra_kwargs = dict(extra.pop("additional_kwargs", None) or {})
    extra_kwargs.update(extra)
    if cls is ToolMessage:
        for key in ("artifact", "status"):
            if extra_kwargs.get(key) is not None:
                fields[key] = extra_kwargs.pop(key)
            else:
                extra_kwargs.pop(key, None)
    if role == "developer":
        extra_kwargs["__openai_role__"] = "developer"
    if extra_kwargs:
        fields["additional_kwargs"] = extra_kwargs
    return cls(content=content, **fields)


_validate_human = HumanMessage.__pydantic_validator__.validate_python


def _from_dict(message: dict[str, Any]) -> BaseMessage:
    if (
        message.get("lc") == 1
        and message.get("type") == "constructor"
        and isinstance(message.get("id"), list)
        and message["id"]
        and isinstance(message.get("kwargs"), dict)
    ):
        role = _CONSTRUCTOR_ROLES.get(message["id"][-1])
        if role is not None:
            return _from_dict({**message["kwargs"], "type": role})
    fields = dict(message)
    role = fields.pop("role", None)
    if role is None:
        role = fields.pop("type", None)
    else:
        fields.pop("type", None)
    if role is None or "content" not in fields:
        raise ValueError(
            f"a message dict needs 'role' (or 'type') and 'content' keys, got {sorted(message)}"
        )
    content = fields.pop("content") or ""
    return message_from_role(role, content, **fields)


def convert_to_message(message: Any) -> BaseMessage:
    """One message from a message, a string, a ``(role, content)`` pair or a message dict."""
    if isinstance(message, BaseMessage):
        return message
    if isinstance(message, str):
        return _validate_human({"content": message})  # type: ignore[no-any-return]
    if isinstance(message, dict):
        return _from_dict(message)
    if isinstance(message, list | tuple):
        if len(message) != 2:
            raise ValueError(
                f"a message as a sequence must be (role, content), got {len(message)} items"
            )
        return message_from_role(message[0], message[1])
    raise TypeError(
        f"cannot make a message from {type(message).__name__}: expected a message, "
        "a (role, content) pair, a string or a dict with 'role' and 'content'"
    )


def convert_to_messages(messages: Any) -> list[BaseMessage]:
    """A list of messages from message-likes (or from a prompt value)."""
    to_messages = getattr(messages, "to_messages", None)
    if to_messages is not None:
        return list(to_messages())
    return [convert_to_message(m) for m in messages]
