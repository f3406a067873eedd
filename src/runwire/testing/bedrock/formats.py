"""InvokeModel, server side: each provider's request and response formats, as a table.

A :class:`Format` reads a request body into a :class:`Prompt` and writes an
:class:`Answer` as the provider's response body and as its stream chunks. A provider
may speak several formats (Anthropic's messages API and its text completions); the
first whose marker key is in the body is used. The formats themselves live in
:mod:`.chats` (messages in) and :mod:`.completions` (a prompt string in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.bedrock import chats, completions
from runwire.testing.bedrock.converse import read_prompt
from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.replies import Answer, Prompt

__all__ = [
    "FORMATS",
    "PROVIDER_FORMATS",
    "Format",
    "format_for",
    "invocation_metrics",
    "provider_of_request",
    "response_body",
    "stream_chunks",
]

Body = Mapping[str, Any]


Responder = Callable[[Answer, Body], dict[str, Any]]
Chunker = Callable[[Answer, Body], list[dict[str, Any]]]


@dataclass(frozen=True)
class Format:
    """One InvokeModel wire format."""

    name: str
    marker: str
    """A request body key that identifies the format."""
    read: Callable[[Body], Prompt]
    respond: Responder
    chunks: Chunker | None = field(default=None)
    """None: the model does not stream."""


def _titan_read(body: Body) -> Prompt:
    return completions.read_prompt_string(body, "inputText")


_C, _T = chats, completions
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "anthropic-messages",
            "messages",
            _C.read_anthropic,
            _C.anthropic_respond,
            _C.anthropic_chunks,
        ),
        Format(
            "anthropic-text",
            "prompt",
            _T.read_prompt_string,
            _T.anthropic_text_respond,
            _T.anthropic_text_chunks,
        ),
        Format("amazon-nova", "messages", read_prompt, _C.nova_respond, _C.nova_chunks),
        Format("amazon-titan", "inputText", _titan_read, _T.titan_respond, _T.titan_chunks),
        Format("meta", "prompt", _T.read_prompt_string, _T.meta_respond, _T.meta_chunks),
        Format("mistral", "prompt", _T.read_prompt_string, _T.outputs_respond, _T.outputs_chunks),
        Format(
            "cohere-command",
            "prompt",
            _T.read_prompt_string,
            _T.cohere_text_respond,
            _T.cohere_text_chunks,
        ),
        Format(
            "cohere-chat",
            "message",
            _C.read_cohere_chat,
            _C.cohere_chat_respond,
            _C.cohere_chat_chunks,
        ),
        Format("ai21-j2", "prompt", _T.read_prompt_string, _T.j2_respond),
        Format(
            "choices-text",
            "prompt",
            _T.read_prompt_string,
            _T.choices_text_respond,
            _T.choices_text_chunks,
        ),
        Format("openai-chat", "messages", _C.read_openai, _C.openai_respond, _C.openai_chunks),
    )
}
"""Every format, by name."""


PROVIDER_FORMATS: dict[str, tuple[str, ...]] = {
    "anthropic": ("anthropic-messages", "anthropic-text"),
    "amazon": ("amazon-nova", "amazon-titan"),
    "meta": ("meta",),
    "mistral": ("openai-chat", "mistral"),
    "cohere": ("cohere-chat", "cohere-command"),
    "ai21": ("openai-chat", "ai21-j2"),
    "deepseek": ("openai-chat", "choices-text"),
    "writer": ("choices-text",),
    "openai": ("openai-chat",),
    "qwen": ("openai-chat",),
}
"""Provider -> the formats it speaks, tried in order (the first whose marker is in the
request body wins)."""


_SNIFF: tuple[tuple[str, str], ...] = (
    ("anthropic_version", "anthropic"),
    ("max_tokens_to_sample", "anthropic"),
    ("schemaVersion", "amazon"),
    ("inputText", "amazon"),
    ("max_gen_len", "meta"),
    ("message", "cohere"),
    ("messages", "openai"),
    ("prompt", "meta"),
)
"""Body key -> provider, for model ids that do not name their provider (ARNs)."""


def provider_of_request(model_id: str, body: Body) -> str:
    """The provider of an InvokeModel request: from the model id, else from the body."""
    from runwire.providers.aws.model_ids import provider_of

    try:
        return provider_of(model_id.rsplit("/", 1)[-1])
    except ValueError:
        pass
    messages = body.get("messages")
    first = messages[0] if isinstance(messages, list) and messages else {}
    content = first.get("content") if isinstance(first, Mapping) else None
    if isinstance(content, list) and all("type" not in block for block in content):
        return "amazon"  # Nova's content blocks have no "type"
    for key, provider in _SNIFF:
        if key in body:
            return provider
    raise validation_error(f"The provided model identifier is invalid: {model_id}")


def format_for(model_id: str, body: Body) -> Format:
    """The format of an InvokeModel request for ``model_id``."""
    provider = provider_of_request(model_id, body)
    names = PROVIDER_FORMATS.get(provider)
    if names is None:
        raise validation_error(f"The provided model identifier is invalid: {model_id}")
    for name in names:
        if FORMATS[name].marker in body:
            return FORMATS[name]
    markers = sorted({FORMATS[name].marker for name in names})
    raise validation_error(
        f"Malformed input request: #: required key [{markers[0]}] not found "
        f"(a {provider} model takes one of: {', '.join(markers)})"
    )


def invocation_metrics(answer: Answer) -> dict[str, int]:
    """``amazon-bedrock-invocationMetrics``: the last chunk of every stream has them."""
    return {
        "inputTokenCount": answer.input_tokens,
        "outputTokenCount": answer.output_tokens,
        "invocationLatency": answer.latency_ms,
        "firstByteLatency": answer.latency_ms // 2,
    }


def _guardrail_keys(answer: Answer) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if answer.guardrail_action is not None:
        keys["amazon-bedrock-guardrailAction"] = answer.guardrail_action
    if answer.trace is not None:
        guardrail = {"input": answer.trace["inputAssessment"]}
        if "actionReason" in answer.trace:
            guardrail["actionReason"] = answer.trace["actionReason"]
        keys["amazon-bedrock-trace"] = {"guardrail": guardrail}
    return keys


def response_body(fmt: Format, answer: Answer, body: Body) -> dict[str, Any]:
    """The InvokeModel response body, with the guardrail keys when one was asked for."""
    return {**fmt.respond(answer, body), **_guardrail_keys(answer)}


def stream_chunks(fmt: Format, answer: Answer, body: Body) -> list[dict[str, Any]]:
    """The InvokeModelWithResponseStream chunks; the last one carries the invocation
    metrics and the guardrail keys."""
    if fmt.chunks is None:
        raise validation_error("The model is unsupported for streaming.")
    chunks = fmt.chunks(answer, body)
    chunks[-1] = {
        **chunks[-1],
        **_guardrail_keys(answer),
        "amazon-bedrock-invocationMetrics": invocation_metrics(answer),
    }
    return chunks
