"""What an emulated endpoint's container answers: the format is read from the body.

``{"inputs", "parameters"}`` is Hugging Face TGI (``max_new_tokens``, ``stop``);
``{"messages"}`` and ``{"prompt"}`` are OpenAI-compatible chat and text completions
(``max_tokens``, ``stop``); ``{"text_inputs"}`` is a JumpStart text2text model
(``max_length``; no streaming). The generated text is the prompt itself (the last user
message for chats), cut to the token limit (one token a word) and at the first stop
sequence, so answers are deterministic. Streams are one line per word in each server's
own stream format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runwire.testing.bedrock.faults import ServiceError

__all__ = ["FORMATS", "Container", "answer", "container_for"]


def _model_error(message: str) -> ServiceError:
    return ServiceError(
        424,
        "ModelError",
        f'Received client error (400) from primary with message "{message}". '
        "See the endpoint's CloudWatch logs for more information.",
    )


def _generate(prompt: str, limit: Any, stop: Any) -> tuple[str, str]:
    """The text and finish reason for ``prompt`` under a token limit and stop words."""
    pieces = re.findall(r"\S+\s*", prompt)
    reason = "stop"
    if isinstance(limit, int) and limit >= 0 and len(pieces) > limit:
        pieces, reason = pieces[:limit], "length"
    text = "".join(pieces).rstrip()
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cuts = [text.find(s) for s in stops if isinstance(s, str) and s and s in text]
    if cuts:
        text, reason = text[: min(cuts)], "stop"
    return text, reason


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+", text)


def _sse(value: Any, prefix: bytes = b"data:") -> bytes:
    return prefix + json.dumps(value, separators=(",", ":")).encode() + b"\n\n"


@dataclass(frozen=True)
class Container:
    """One model server format: how to read a body, answer it and stream it."""

    name: str
    read: Callable[[Mapping[str, Any]], tuple[str, Any, Any]]
    """body -> (prompt, token limit, stop)."""
    body: Callable[[str, str], Any]
    """(text, finish reason) -> response JSON."""
    lines: Callable[[str, str], list[bytes]] | None
    """(text, finish reason) -> stream lines; None: the container does not stream."""


def _tgi_read(body: Mapping[str, Any]) -> tuple[str, Any, Any]:
    parameters = body.get("parameters") or {}
    return str(body["inputs"]), parameters.get("max_new_tokens"), parameters.get("stop")


def _chat_read(body: Mapping[str, Any]) -> tuple[str, Any, Any]:
    users = [m for m in body["messages"] if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise _model_error("messages must contain a user message")
    content = users[-1].get("content")
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content), body.get("max_tokens"), body.get("stop")


def _usage(text: str) -> dict[str, int]:
    count = len(_words(text))
    return {"prompt_tokens": count, "completion_tokens": count, "total_tokens": 2 * count}


FORMATS: dict[str, Container] = {
    "inputs": Container(
        "tgi",
        _tgi_read,
        lambda text, reason: [{"generated_text": text}],
        lambda text, reason: [_sse({"token": {"text": w}}) for w in _words(text)],
    ),
    "messages": Container(
        "openai_chat",
        _chat_read,
        lambda text, reason: {
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": reason,
                }
            ],
            "usage": _usage(text),
        },
        lambda text, reason: [
            *(
                _sse({"choices": [{"index": 0, "delta": {"content": w}}]}, b"data: ")
                for w in _words(text)
            ),
            b"data: [DONE]\n\n",
        ],
    ),
    "prompt": Container(
        "openai_completions",
        lambda body: (str(body["prompt"]), body.get("max_tokens"), body.get("stop")),
        lambda text, reason: {
            "object": "text_completion",
            "choices": [{"index": 0, "text": text, "finish_reason": reason}],
            "usage": _usage(text),
        },
        lambda text, reason: [
            *(_sse({"choices": [{"index": 0, "text": w}]}, b"data: ") for w in _words(text)),
            b"data: [DONE]\n\n",
        ],
    ),
    "text_inputs": Container(
        "jumpstart_text2text",
        lambda body: (str(body["text_inputs"]), body.get("max_length"), None),
        lambda text, reason: {"generated_texts": [text]},
        None,
    ),
}
"""The body key that identifies a format -> its container."""


def container_for(body: bytes) -> tuple[Container, Mapping[str, Any]]:
    """The container a request body is for, and the parsed body (ModelError if none)."""
    try:
        data = json.loads(body)
    except ValueError:
        raise _model_error("the body is not JSON") from None
    if isinstance(data, dict):
        for key, container in FORMATS.items():
            if key in data:
                return container, data
    raise _model_error(f"expected a body with one of {sorted(FORMATS)}")


def answer(container: Container, data: Mapping[str, Any]) -> tuple[str, str]:
    """The generated text and finish reason."""
    try:
        prompt, limit, stop = container.read(data)
    except (KeyError, TypeError, AttributeError):
        raise _model_error(f"malformed {container.name} request") from None
    return _generate(prompt, limit, stop)
