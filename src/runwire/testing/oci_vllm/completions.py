"""What the emulated vLLM model answers, in OpenAI's chat-completions shapes.

The default rule, deterministic like the Bedrock emulator's: when the last message is a
tool result, answer with its text; when tools are offered and the last user text names
one as a whole word (or ``tool_choice`` forces one), call it with the first JSON object
of the text as arguments; with ``response_format`` JSON, answer the first JSON object
of the text (else ``{"text": ...}``); otherwise echo the last user text. Scripted
replies (:class:`Scripted`) win over the rule. ``stop`` cuts the text before the
first stop string; ``max_tokens`` (tokens are words here) cuts it with finish reason
``length``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.bedrock.replies import count_words, first_json_object, split_words

__all__ = ["Scripted", "ToolUse", "answer", "completion", "stream_chunks"]

CREATED = 1_700_000_000
"""The fixed ``created`` time of every answer (answers are deterministic)."""
FINGERPRINT = "runwire-emulator"


@dataclass(frozen=True)
class ToolUse:
    """A tool call of an answer."""

    name: str
    arguments: dict[str, Any]

    def call_id(self, salt: str) -> str:
        digest = hashlib.sha256(f"{salt}|{self.name}|{self.arguments}".encode()).hexdigest()
        return f"chatcmpl-tool-{digest[:16]}"


@dataclass
class Answer:
    """A reply: text or tool calls, and why it stopped."""

    text: str = ""
    tools: list[ToolUse] = field(default_factory=list)
    finish_reason: str = "stop"


class Scripted:
    """Replies queued by the test, consumed one per chat call (thread-safe)."""

    def __init__(self) -> None:
        self._queue: deque[Answer] = deque()
        self._lock = threading.Lock()

    def extend(self, replies: Iterable[str | Mapping[str, Any]]) -> None:
        """Queue replies: a string (the text) or ``{"content", "tool_calls": [{"name",
        "arguments"}]}``."""
        answers = []
        for reply in replies:
            if isinstance(reply, str):
                answers.append(Answer(text=reply))
                continue
            tools = [
                ToolUse(t["name"], dict(t.get("arguments") or {}))
                for t in reply.get("tool_calls") or ()
            ]
            answers.append(
                Answer(str(reply.get("content") or ""), tools, "tool_calls" if tools else "stop")
            )
        with self._lock:
            self._queue.extend(answers)

    def take(self) -> Answer | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _forced_tool(choice: Any, tools: list[str]) -> str | None:
    if isinstance(choice, Mapping):
        return str((choice.get("function") or {}).get("name") or "") or None
    if choice == "required" and tools:
        return tools[0]
    return None


def _rule(body: Mapping[str, Any]) -> Answer:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return Answer(text=_text(last.get("content")))
    text = next(
        (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
    )
    tools = [str((t.get("function") or {}).get("name")) for t in body.get("tools") or ()]
    choice = body.get("tool_choice")
    if tools and choice != "none":
        name = _forced_tool(choice, tools) or next(
            (n for n in tools if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)), None
        )
        if name is not None:
            return Answer(
                tools=[ToolUse(name, first_json_object(text) or {})], finish_reason="tool_calls"
            )
    kind = (body.get("response_format") or {}).get("type")
    if kind in ("json_object", "json_schema"):
        return Answer(text=json.dumps(first_json_object(text) or {"text": text}))
    return Answer(text=text)


def _limit(answer: Answer, body: Mapping[str, Any]) -> Answer:
    if answer.tools:
        return answer
    text = answer.text
    stops = body.get("stop") or []
    cuts = [i for i in (text.find(s) for s in stops if s) if i != -1]
    if cuts:
        return Answer(text=text[: min(cuts)])
    limit = body.get("max_tokens")
    words = split_words(text)
    if isinstance(limit, int) and 0 <= limit < len(words):
        return Answer(text="".join(words[:limit]), finish_reason="length")
    return answer


def answer(body: Mapping[str, Any], scripted: Scripted) -> Answer:
    """The answer to a chat-completions request body."""
    return _limit(scripted.take() or _rule(body), body)


def _usage(body: Mapping[str, Any], answer: Answer) -> dict[str, int]:
    prompt = count_words(*(_text(m.get("content")) for m in body.get("messages") or ()))
    completion = count_words(answer.text) + sum(len(t.arguments) + 1 for t in answer.tools)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _response_id(body: Mapping[str, Any]) -> str:
    """The same for a conversation whether streamed or not (tool call ids derive from it)."""
    raw = json.dumps(body.get("messages"), sort_keys=True, default=str).encode()
    return f"chatcmpl-{hashlib.sha256(raw).hexdigest()[:24]}"


def completion(body: Mapping[str, Any], answer: Answer) -> dict[str, Any]:
    """The ``chat.completion`` body."""
    rid = _response_id(body)
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.tools:
        message["content"] = answer.text or None
        message["tool_calls"] = [
            {
                "id": tool.call_id(rid),
                "type": "function",
                "function": {"name": tool.name, "arguments": json.dumps(tool.arguments)},
            }
            for tool in answer.tools
        ]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": CREATED,
        "model": body.get("model") or "odsc-llm",
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": answer.finish_reason,
            }
        ],
        "usage": _usage(body, answer),
    }


def stream_chunks(body: Mapping[str, Any], answer: Answer) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` events of a stream (without ``[DONE]``)."""
    rid = _response_id(body)
    head = {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": body.get("model") or "odsc-llm",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            **head,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in split_words(answer.text)]
    for index, tool in enumerate(answer.tools):
        start = {
            "index": index,
            "id": tool.call_id(rid),
            "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [start]}))
        arguments = json.dumps(tool.arguments)
        for at in range(0, len(arguments), 8):
            piece = {"index": index, "function": {"arguments": arguments[at : at + 8]}}
            events.append(chunk({"tool_calls": [piece]}))
    final = chunk({}, answer.finish_reason)
    final["system_fingerprint"] = FINGERPRINT
    events.append(final)
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**head, "choices": [], "usage": _usage(body, answer)})
    return events
