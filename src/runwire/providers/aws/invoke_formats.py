"""Bedrock ``InvokeModel`` request and response formats, one row per model family.

``InvokeModel`` takes each provider's native JSON body, so ``ChatBedrock`` and
``BedrockLLM`` look their model up in :data:`FORMATS` (by provider, then by a marker
in the base model name) and use that row's small pure functions:

- ``render_chat(messages)`` / ``render_prompt(text)``: the input part of the body;
- generic parameters (``max_tokens``, ``temperature``, ``top_p``, ``top_k``, stop
  sequences) renamed to the provider's keys, nested under ``config_key`` when the
  provider groups them (Titan's ``textGenerationConfig``, Nova's ``inferenceConfig``);
- ``read_response(body)`` -> :class:`Reply` and ``read_chunk(chunk)`` -> :class:`Piece`.

A provider without a stop-sequence parameter (``stop_key=None``: Meta Llama) gets its
stop sequences applied client-side. Formats come from the providers' Bedrock
documentation ("Inference request parameters and response fields for foundation
models").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from runwire.providers.aws.invoke_chat_completions import openai_chat, openai_prompt, writer_chat
from runwire.providers.aws.invoke_prompts import (
    CONVERSE_HINT,
    Body,
    anthropic_chat,
    anthropic_prompt,
    deepseek_chat,
    header_chat,
    llama2_chat,
    mistral_chat,
    nova_chat,
    nova_prompt,
    prompt_as,
    transcript_chat,
)
from runwire.providers.aws.invoke_replies import (
    Piece,
    Reply,
    ai21_reply,
    anthropic_piece,
    anthropic_reply,
    chat_piece,
    chat_reply,
    flat_piece,
    listed,
    listed_piece,
    meta_reply,
    nova_piece,
    nova_reply,
    titan_reply,
    usage_dict,
)
from runwire.schema.messages import BaseMessage

__all__ = [
    "FORMATS",
    "NOT_IMPLEMENTED",
    "InvokeFormat",
    "Piece",
    "Reply",
    "build_body",
    "format_for",
    "usage_dict",
]

ANTHROPIC_VERSION = "bedrock-2023-05-31"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_STOP_KEYS = frozenset(("stop", "stop_sequences", "stopSequences"))


# -- the table ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InvokeFormat:
    """How one model family is called over ``InvokeModel``."""

    name: str
    provider: str
    marker: str | None
    """Selects this row when found in the base model name; ``None``: the provider's default."""
    render_chat: Callable[[Sequence[BaseMessage]], Body]
    render_prompt: Callable[[str], Body]
    read_response: Callable[[Body], Reply]
    read_chunk: Callable[[Body], Piece] | None
    """``None``: the family does not stream (a stream is one piece of the full reply)."""
    stop_key: str | None
    """Where stop sequences go; ``None``: the model has none, they are applied here."""
    renames: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Generic parameter -> this provider's key (``max_tokens`` -> ``max_gen_len``)."""
    config_key: str | None = None
    """The object holding inference parameters, when the provider nests them."""
    top_keys: frozenset[str] = frozenset()
    """Parameters that stay at the top of the body when ``config_key`` is set."""
    defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    stream_flag: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    """Added to the body of streaming requests."""
    tools: bool = False
    """Takes ``tools``/``tool_choice`` (Anthropic's format)."""


_NOVA_TOP = frozenset(("schemaVersion", "system", "messages", "toolConfig"))

_LLAMA3 = header_chat("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
_LLAMA4 = header_chat("<|begin_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>")
_LLAMA_RENAMES = MappingProxyType({"max_tokens": "max_gen_len"})
_LLAMA_PIECE = flat_piece("generation", "stop_reason")


def _llama(name: str, marker: str | None, render_chat: Callable[..., Body]) -> InvokeFormat:
    """A Meta Llama row: the versions differ only in their chat template."""
    return InvokeFormat(
        name=name,
        provider="meta",
        marker=marker,
        render_chat=render_chat,
        render_prompt=prompt_as("prompt"),
        read_response=meta_reply,
        read_chunk=_LLAMA_PIECE,
        stop_key=None,
        renames=_LLAMA_RENAMES,
    )


def _chat_completions(
    name: str, provider: str, marker: str | None, max_key: str = "max_tokens"
) -> InvokeFormat:
    """A chat-completions row (OpenAI's message shape, ``choices`` answers)."""
    return InvokeFormat(
        name=name,
        provider=provider,
        marker=marker,
        render_chat=openai_chat,
        render_prompt=openai_prompt,
        read_response=chat_reply,
        read_chunk=chat_piece,
        stop_key="stop",
        renames=MappingProxyType({"max_tokens": max_key}),
    )


FORMATS: tuple[InvokeFormat, ...] = (
    InvokeFormat(
        name="anthropic-messages",
        provider="anthropic",
        marker=None,
        render_chat=anthropic_chat,
        render_prompt=anthropic_prompt,
        read_response=anthropic_reply,
        read_chunk=anthropic_piece,
        stop_key="stop_sequences",
        defaults=MappingProxyType({"anthropic_version": ANTHROPIC_VERSION, "max_tokens": 1024}),
        tools=True,
    ),
    InvokeFormat(
        name="amazon-nova",
        provider="amazon",
        marker="nova",
        render_chat=nova_chat,
        render_prompt=nova_prompt,
        read_response=nova_reply,
        read_chunk=nova_piece,
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokens", "top_p": "topP", "top_k": "topK"}),
        config_key="inferenceConfig",
        top_keys=_NOVA_TOP,
    ),
    InvokeFormat(
        name="amazon-titan",
        provider="amazon",
        marker=None,
        render_chat=transcript_chat("inputText"),
        render_prompt=prompt_as("inputText"),
        read_response=titan_reply,
        read_chunk=flat_piece("outputText", "completionReason"),
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokenCount", "top_p": "topP"}),
        config_key="textGenerationConfig",
        top_keys=frozenset(("inputText",)),
    ),
    _llama("meta-llama4", "llama4", _LLAMA4),
    _llama("meta-llama2", "llama2", llama2_chat),
    _llama("meta-llama3", None, _LLAMA3),
    _chat_completions("mistral-large-2", "mistral", "large-2407"),
    _chat_completions("mistral-pixtral", "mistral", "pixtral"),
    InvokeFormat(
        name="mistral",
        provider="mistral",
        marker=None,
        render_chat=mistral_chat,
        render_prompt=prompt_as("prompt"),
        read_response=listed("outputs", "stop_reason"),
        read_chunk=listed_piece("outputs", "stop_reason"),
        stop_key="stop",
    ),
    InvokeFormat(
        name="cohere-command",
        provider="cohere",
        marker=None,
        render_chat=transcript_chat("prompt"),
        render_prompt=prompt_as("prompt"),
        read_response=listed("generations", "finish_reason"),
        read_chunk=flat_piece("text", "finish_reason"),
        stop_key="stop_sequences",
        renames=MappingProxyType({"top_p": "p", "top_k": "k"}),
        stream_flag=MappingProxyType({"stream": True}),
    ),
    _chat_completions("ai21-jamba", "ai21", "jamba"),
    InvokeFormat(
        name="ai21-j2",
        provider="ai21",
        marker=None,
        render_chat=transcript_chat("prompt"),
        render_prompt=prompt_as("prompt"),
        read_response=ai21_reply,
        read_chunk=None,
        stop_key="stopSequences",
        renames=MappingProxyType({"max_tokens": "maxTokens", "top_p": "topP"}),
    ),
    InvokeFormat(
        name="deepseek",
        provider="deepseek",
        marker=None,
        render_chat=deepseek_chat,
        render_prompt=prompt_as("prompt"),
        read_response=listed("choices", "stop_reason"),
        read_chunk=listed_piece("choices", "stop_reason"),
        stop_key="stop",
    ),
    _chat_completions("openai-gpt-oss", "openai", None, "max_completion_tokens"),
    _chat_completions("qwen", "qwen", None),
    InvokeFormat(
        name="writer-palmyra",
        provider="writer",
        marker=None,
        render_chat=writer_chat,
        render_prompt=prompt_as("prompt"),
        read_response=listed("choices", "stop_reason"),
        read_chunk=listed_piece("choices", "stop_reason"),
        stop_key="stop",
    ),
)
"""Every supported family; rows with a marker come before their provider's default."""

NOT_IMPLEMENTED: tuple[tuple[str, str, str], ...] = (
    ("cohere", "command-r", "Cohere Command R models take a chat body (message, chat_history)"),
    ("amazon", "embed", "embedding models are served by BedrockEmbeddings"),
    ("cohere", "embed", "embedding models are served by BedrockEmbeddings"),
)
"""(provider, marker, why) of families that have no row yet."""


def format_for(provider: str, base_model: str) -> InvokeFormat:
    """The row for a provider and base model name; NotImplementedError when there is none."""
    for known, marker, why in NOT_IMPLEMENTED:
        if provider == known and marker in base_model:
            raise NotImplementedError(
                f"{provider}.{base_model} is not supported over InvokeModel in runwire "
                f"({why}); {CONVERSE_HINT}"
            )
    for row in FORMATS:
        if row.provider == provider and (row.marker is None or row.marker in base_model):
            return row
    supported = ", ".join(sorted({row.provider for row in FORMATS}))
    raise NotImplementedError(
        f"provider {provider!r} is not supported over InvokeModel in runwire (supported: "
        f"{supported}); {CONVERSE_HINT}"
    )


def build_body(
    fmt: InvokeFormat,
    rendered: Body,
    params: Mapping[str, Any],
    stop: Sequence[str] | None,
    *,
    stream: bool = False,
) -> tuple[Body, list[str]]:
    """The request body, and the stop sequences to apply client-side.

    ``params`` are model_kwargs and call kwargs (generic or native names); ``stop``
    (the call's, else the model's) wins over stop sequences found in ``params``.
    """
    options: dict[str, Any] = {}
    stops: list[str] = list(stop) if stop else []
    stop_keys = _STOP_KEYS | ({fmt.stop_key} if fmt.stop_key else set())
    for key, value in params.items():
        if key in stop_keys:
            if not stop and value:
                stops = [value] if isinstance(value, str) else list(value)
            continue
        if key in ("tools", "tool_choice") and not fmt.tools:
            raise NotImplementedError(
                f"{fmt.name} models take no tools over InvokeModel: {CONVERSE_HINT}"
            )
        options[fmt.renames.get(key, key)] = value
    client_stops: list[str] = []
    if stops and fmt.stop_key:
        options[fmt.stop_key] = stops
    elif stops:
        client_stops = stops
    if stream:
        options.update(fmt.stream_flag)
    if fmt.config_key is None:
        return {**fmt.defaults, **options, **rendered}, client_stops
    top: Body = dict(fmt.defaults)
    config: Body = {}
    for key, value in options.items():
        if key == fmt.config_key and isinstance(value, Mapping):
            config.update(value)
        elif key in fmt.top_keys:
            top[key] = value
        else:
            config[key] = value
    body = {**top, **rendered}
    if config:
        body[fmt.config_key] = config
    return body, client_stops
