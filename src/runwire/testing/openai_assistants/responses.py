"""The Responses and Conversations endpoints of the emulator (the Assistants successor).

``POST /conversations`` makes a conversation; ``POST /responses`` answers its ``input``
items in one (``conversation``) and appends input and output items to it; ``GET
/conversations/{id}/items`` lists them. The rule matches the runs': function call
outputs in the input are answered with their text; a last user text naming one of the
flat function ``tools`` as a whole word gets a ``function_call`` item (arguments: the
first JSON object of the text); otherwise the text is echoed as an ``output_text``
message. A failure queued with ``fail_next_run`` ends the next response ``failed``
(or ``cancelled``/``incomplete``). With ``stream: true`` the answer is a list of
server-sent events (:class:`EventStream`): ``response.created``, per output item
``response.output_item.added``, text deltas (``response.output_text.delta`` in word
pieces, ``.done``) or argument deltas (``response.function_call_arguments.delta``,
``.done``), ``response.output_item.done``, then ``response.completed`` (or
``response.failed``) with the whole response.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from typing import Any

from runwire.testing.bedrock.replies import first_json_object

__all__ = ["EventStream", "Responses", "ResponsesError", "stream_events"]

CREATED = 1_700_000_000
_FAILED_AS = {"failed": "failed", "cancelled": "cancelled", "incomplete": "incomplete"}


class ResponsesError(Exception):
    """A request the API refuses: HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class Responses:
    """Conversations and responses (thread-safe)."""

    def __init__(self, failures: deque[tuple[str, str]]) -> None:
        self.conversations: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        self.failures = failures
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def create_conversation(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            conversation = {
                "id": self._id("conv"),
                "object": "conversation",
                "created_at": CREATED,
                "metadata": body.get("metadata") or {},
            }
            self.conversations[conversation["id"]] = conversation
            self.items[conversation["id"]] = list(body.get("items") or [])
            return conversation

    def conversation(self, ident: str) -> dict[str, Any]:
        with self._lock:
            if ident not in self.conversations:
                raise ResponsesError(404, f"Conversation with id '{ident}' not found.")
            return self.conversations[ident]

    def list_items(self, ident: str) -> list[dict[str, Any]]:
        with self._lock:
            self.conversation(ident)
            return list(self.items[ident])

    def _output(self, inputs: list[dict[str, Any]], tools: list[Any]) -> list[dict[str, Any]]:
        outputs = [i for i in inputs if i.get("type") == "function_call_output"]
        if outputs:
            return [self._message("\n".join(str(o.get("output", "")) for o in outputs))]
        text = next(
            (_text(i.get("content")) for i in reversed(inputs) if i.get("role") == "user"), ""
        )
        names = [t.get("name") for t in tools if t.get("type") == "function" and t.get("name")]
        for name in names:
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
                return [
                    {
                        "type": "function_call",
                        "id": self._id("fc"),
                        "call_id": self._id("call"),
                        "name": name,
                        "arguments": json.dumps(first_json_object(text) or {}),
                        "status": "completed",
                    }
                ]
        return [self._message(text)]

    def _message(self, text: str) -> dict[str, Any]:
        return {
            "type": "message",
            "id": self._id("msg"),
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }

    def create_response(self, body: dict[str, Any]) -> dict[str, Any] | EventStream:
        """A response (or, with ``stream``, its events) to ``body``."""
        if not body.get("model"):
            raise ResponsesError(400, "Missing required parameter: 'model'.")
        raw = body.get("input") or []
        inputs = [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw)
        with self._lock:
            conversation = body.get("conversation")
            if isinstance(conversation, dict):
                conversation = conversation.get("id")
            if conversation is not None:
                self.conversation(conversation)
            response: dict[str, Any] = {
                "id": self._id("resp"),
                "object": "response",
                "created_at": CREATED,
                "model": body["model"],
                "status": "completed",
                "output": [],
                "error": None,
                "incomplete_details": None,
                "instructions": body.get("instructions"),
                "metadata": body.get("metadata") or {},
                "parallel_tool_calls": True,
                "temperature": body.get("temperature"),
                "tool_choice": body.get("tool_choice") or "auto",
                "tools": body.get("tools") or [],
                "top_p": body.get("top_p"),
                "conversation": {"id": conversation} if conversation else None,
            }
            if self.failures:
                status, message = self.failures.popleft()
                response["status"] = _FAILED_AS.get(status, "failed")
                response["error"] = {"code": "server_error", "message": message}
            else:
                response["output"] = self._output(inputs, response["tools"])
            words = sum(len(_text(i.get("content")).split()) for i in inputs)
            response["usage"] = {
                "input_tokens": words,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": words,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 2 * words,
            }
            if conversation is not None:
                self.items[conversation].extend([*inputs, *response["output"]])
            self.responses[response["id"]] = response
            return EventStream(stream_events(response)) if body.get("stream") else response


class EventStream(list):  # type: ignore[type-arg]
    """Server-sent events to send instead of a JSON body (``event:``/``data:`` pairs)."""


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"output_index": index, "item_id": item["id"]}
    if item["type"] == "function_call":
        events: list[dict[str, Any]] = [
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "arguments": "", "status": "in_progress"},
            },
        ]
        events += [
            {"type": "response.function_call_arguments.delta", **base, "delta": piece}
            for piece in _pieces(item["arguments"], 8)
        ]
        events.append(
            {
                "type": "response.function_call_arguments.done",
                **base,
                "arguments": item["arguments"],
            }
        )
    else:
        text = item["content"][0]["text"]
        part = {"type": "output_text", "text": "", "annotations": []}
        events = [
            {
                "type": "response.output_item.added",
                "output_index": index,
                "item": {**item, "content": [], "status": "in_progress"},
            },
            {"type": "response.content_part.added", **base, "content_index": 0, "part": part},
        ]
        words = re.findall(r"\S+\s*|\s+", text) or [""]
        events += [
            {
                "type": "response.output_text.delta",
                **base,
                "content_index": 0,
                "delta": w,
                "logprobs": [],
            }
            for w in words
        ]
        events += [
            {
                "type": "response.output_text.done",
                **base,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            },
            {
                "type": "response.content_part.done",
                **base,
                "content_index": 0,
                "part": {**part, "text": text},
            },
        ]
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events


def stream_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The server-sent events of a finished ``response``, numbered in order."""
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {**response, "status": "in_progress", "output": []},
        },
    ]
    for index, item in enumerate(response["output"]):
        events += _item_events(index, item)
    final = "response.completed" if response["status"] == "completed" else "response.failed"
    events.append({"type": final, "response": response})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]
