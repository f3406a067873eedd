"""What a model accepts: strings, prompt values and message-like things, turned into messages.

A prompt value is recognised by shape (``to_messages()`` and ``to_string()``), so this
module does not depend on the prompts package. Message-like items follow LangChain's
``convert_to_messages``: messages, ``(role, content)`` pairs, ``{"role": .., "content":
..}`` dicts (OpenAI style, ``type`` also accepted) and plain strings (human messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from runwire.schema.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

__all__ = ["buffer_string", "to_message", "to_messages", "to_prompt_string"]


def _developer(content: Any, kwargs: dict[str, Any]) -> BaseMessage:
    extra = dict(kwargs.pop("additional_kwargs", None) or {})
    extra["__openai_role__"] = "developer"
    return SystemMessage(content=content, additional_kwargs=extra, **kwargs)


def _tool(content: Any, kwargs: dict[str, Any]) -> BaseMessage:
    extra = kwargs.get("additional_kwargs")
    if extra:
        for key in ("artifact", "status"):
            if key in extra:
                kwargs[key] = extra.pop(key)
    return ToolMessage(content=content, **kwargs)


_ROLES: dict[str, Callable[[Any, dict[str, Any]], BaseMessage]] = {
    "human": lambda content, kw: HumanMessage(content=content, **kw),
    "user": lambda content, kw: HumanMessage(content=content, **kw),
    "ai": lambda content, kw: AIMessage(content=content, **kw),
    "assistant": lambda content, kw: AIMessage(content=content, **kw),
    "system": lambda content, kw: SystemMessage(content=content, **kw),
    "developer": _developer,
    "tool": _tool,
}

# class names in an lc constructor node that may stand for a message dict
_NODE_ROLES = {
    "HumanMessage": "human",
    "HumanMessageChunk": "human",
    "AIMessage": "ai",
    "AIMessageChunk": "ai",
    "SystemMessage": "system",
    "SystemMessageChunk": "system",
    "ToolMessage": "tool",
    "ToolMessageChunk": "tool",
}
_DIRECT_KEYS = ("name", "id", "tool_call_id", "response_metadata")


def _openai_tool_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        if "function" in call:
            args = call["function"].get("arguments")
            if isinstance(args, str):
                args = json.loads(args, strict=False) if args else {}
            call = {
                "name": call["function"]["name"],
                "args": args or {},
                "id": call.get("id"),
                "type": "tool_call",
            }
        out.append(call)
    return out


def _message_from_role(role: Any, content: Any, fields: dict[str, Any]) -> BaseMessage:
    build = _ROLES.get(role) if isinstance(role, str) else None
    if build is None:
        raise ValueError(
            f"unknown message role {role!r}: use one of 'human', 'user', 'ai', 'assistant', "
            "'system', 'developer' or 'tool'"
        )
    kwargs: dict[str, Any] = {}
    extra = dict(fields)
    for key in _DIRECT_KEYS:
        if extra.get(key) is not None:
            kwargs[key] = extra.pop(key)
        else:
            extra.pop(key, None)
    calls = extra.pop("tool_calls", None)
    if calls is not None:
        kwargs["tool_calls"] = _openai_tool_calls(calls)
    extra.update(extra.pop("additional_kwargs", None) or {})
    if extra:
        kwargs["additional_kwargs"] = extra
    return build("" if content is None else content, kwargs)


def _message_from_dict(data: dict[str, Any]) -> BaseMessage:
    if data.get("lc") == 1 and data.get("type") == "constructor":
        ident, kwargs = data.get("id"), data.get("kwargs")
        role = _NODE_ROLES.get(ident[-1]) if isinstance(ident, list) and ident else None
        if role is not None and isinstance(kwargs, dict):
            return _message_from_dict({**kwargs, "type": role})
    fields = dict(data)
    role = fields.pop("role") if "role" in fields else fields.pop("type", None)
    if role is None or "content" not in fields:
        raise ValueError(f"a message dict needs 'role' (or 'type') and 'content' keys, got {data}")
    return _message_from_role(role, fields.pop("content"), fields)


def to_message(item: Any) -> BaseMessage:
    """One message from a message, a string, a ``(role, content)`` pair or a message dict."""
    if isinstance(item, BaseMessage):
        return item
    if isinstance(item, str):
        return HumanMessage(content=item)
    if isinstance(item, dict):
        return _message_from_dict(item)
    if isinstance(item, tuple | list):
        if len(item) != 2:
            raise ValueError(f"a message given as a sequence must be (role, content), got {item!r}")
        return _message_from_role(item[0], item[1], {})
    raise TypeError(
        f"cannot make a message from {type(item).__name__}: use a message, a string, "
        "a (role, content) pair or a {'role': ..., 'content': ...} dict"
    )


def _is_prompt_value(value: Any) -> bool:
    return callable(getattr(value, "to_messages", None)) and callable(
        getattr(value, "to_string", None)
    )


def to_messages(value: Any) -> list[BaseMessage]:
    """The messages a chat model is called with, from any accepted model input."""
    if isinstance(value, str):
        return [HumanMessage(content=value)]
    if isinstance(value, list | tuple):
        return [to_message(item) for item in value]
    if isinstance(value, BaseMessage):
        return [value]
    if _is_prompt_value(value):
        return list(value.to_messages())
    raise TypeError(
        f"a model takes a string, a prompt value or a list of messages, got {type(value).__name__}"
    )


_PREFIXES: tuple[tuple[type, str], ...] = (
    (HumanMessage, "Human"),
    (AIMessage, "AI"),
    (SystemMessage, "System"),
    (ToolMessage, "Tool"),
)


def buffer_string(messages: list[BaseMessage]) -> str:
    """Messages as one transcript, ``Role: text`` per line (LangChain's ``get_buffer_string``)."""
    lines = []
    for message in messages:
        role = next((p for cls, p in _PREFIXES if isinstance(message, cls)), None)
        if role is None:
            raise ValueError(f"cannot render a {type(message).__name__} as text")
        line = f"{role}: {message.text}"
        if isinstance(message, AIMessage) and message.tool_calls:
            line += str(message.tool_calls)
        lines.append(line)
    return "\n".join(lines)


def to_prompt_string(value: Any) -> str:
    """The prompt text a completion model (``BaseLLM``) is called with."""
    if isinstance(value, str):
        return value
    if _is_prompt_value(value):
        return value.to_string()
    return buffer_string(to_messages(value))
