"""Chat-completions bodies over Bedrock ``InvokeModel`` (OpenAI gpt-oss, Qwen, AI21 Jamba,
Mistral Large 2 and Pixtral), and Writer's prompt format.

The chat-completions families take ``{"messages": [...]}`` in OpenAI's message shape and
answer ``{"choices": [{"message": ...}], "usage": ...}``; streams send
``chat.completion.chunk`` deltas. Writer takes a prompt string (rendered as langchain-aws
renders it) and answers ``choices[0].text``; its stream ends with a ``"[DONE]"`` chunk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from runwire.providers.aws.invoke_prompts import Body, _plain_text
from runwire.schema.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

__all__ = [
    "chat_completion_chunk",
    "chat_completion_reply",
    "openai_chat",
    "openai_prompt",
    "writer_chat",
]

_ROLES: tuple[tuple[type[BaseMessage], str], ...] = (
    (SystemMessage, "system"),
    (HumanMessage, "user"),
    (AIMessage, "assistant"),
    (ToolMessage, "tool"),
)


def _content(message: BaseMessage) -> Any:
    """Text as a string; image blocks (``image_url``) kept as OpenAI content parts."""
    if isinstance(message.content, str):
        return message.content
    if all(isinstance(b, str) or b.get("type") == "text" for b in message.content):
        return _plain_text(message)
    parts: list[Any] = []
    for block in message.content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
        elif block.get("type") in ("text", "image_url"):
            parts.append(block)
        else:
            raise ValueError(
                f"a {block.get('type')!r} content block cannot be sent in a chat-completions "
                "body; use ChatBedrockConverse"
            )
    return parts


def _message(message: BaseMessage) -> dict[str, Any]:
    role = next((name for cls, name in _ROLES if isinstance(message, cls)), None)
    if role is None:
        raise TypeError(f"cannot send a {type(message).__name__} to a Bedrock model")
    out: dict[str, Any] = {"role": role, "content": _content(message)}
    if isinstance(message, ToolMessage):
        out["tool_call_id"] = message.tool_call_id
    elif isinstance(message, AIMessage) and message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
            }
            for call in message.tool_calls
        ]
    return out


def openai_chat(messages: Sequence[BaseMessage]) -> Body:
    """The messages in OpenAI's chat-completions shape."""
    return {"messages": [_message(m) for m in messages]}


def openai_prompt(prompt: str) -> Body:
    """A completion prompt as one user message."""
    return {"messages": [{"role": "user", "content": prompt}]}


_WRITER: tuple[tuple[type[BaseMessage], str], ...] = (
    (SystemMessage, "<<SYS>> {} <</SYS>>"),
    (HumanMessage, "[INST] {} [/INST]"),
    (AIMessage, "{}"),
)


def writer_chat(messages: Sequence[BaseMessage]) -> Body:
    """Writer Palmyra's prompt, as langchain-aws writes it (Writer documents none)."""
    lines = []
    for message in messages:
        template = next((t for cls, t in _WRITER if isinstance(message, cls)), None)
        if template is None:
            raise TypeError(f"cannot send a {type(message).__name__} to a Writer model")
        lines.append(template.format(_plain_text(message)))
    return {"prompt": "\n".join(lines)}


def _first_choice(body: Body) -> dict[str, Any]:
    choices = body.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else {}
    return first if isinstance(first, dict) else {}


def _calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except ValueError:
            args = {}
        calls.append({"name": function.get("name"), "args": args, "id": call.get("id")})
    return calls


def _usage(body: Body) -> tuple[int, int] | None:
    usage = body.get("usage")
    if not isinstance(usage, dict) or "prompt_tokens" not in usage:
        return None
    return usage["prompt_tokens"], usage.get("completion_tokens", 0)


def chat_completion_reply(body: Body) -> tuple[str, list[dict[str, Any]], Any, Any]:
    """(text, tool calls, finish reason, (input, output) tokens) of a chat completion."""
    choice = _first_choice(body)
    message = choice.get("message") or {}
    return (
        str(message.get("content") or ""),  # null when the limit is hit while reasoning
        _calls(message),
        choice.get("finish_reason"),
        _usage(body),
    )


def chat_completion_chunk(chunk: Body) -> tuple[str, dict[str, Any] | None, Any, Any]:
    """(text, tool-call chunk, finish reason, (input, output) tokens) of a stream chunk."""
    choice = _first_choice(chunk)
    delta = choice.get("delta") or {}
    call_chunk = None
    for call in delta.get("tool_calls") or ():
        function = call.get("function") or {}
        call_chunk = {
            "name": function.get("name"),
            "id": call.get("id"),
            "args": function.get("arguments") or "",
            "index": call.get("index"),
        }
    return str(delta.get("content") or ""), call_chunk, choice.get("finish_reason"), _usage(chunk)
