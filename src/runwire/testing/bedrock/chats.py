"""Chat formats of InvokeModel: a list of messages (and tools) in, a message out.

Anthropic's messages API, Amazon Nova (``messages-v1``, the Converse shapes), the
OpenAI-style chat completions (Mistral Large, AI21 Jamba, DeepSeek, OpenAI, Qwen) and
Cohere's Command R chat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runwire.testing.bedrock.completions import COHERE_STOPS, TEXT_STOPS
from runwire.testing.bedrock.converse import content_blocks, converse_events
from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.replies import Answer, Prompt, split_words

__all__ = [
    "anthropic_chunks",
    "anthropic_respond",
    "cohere_chat_chunks",
    "cohere_chat_respond",
    "nova_chunks",
    "nova_respond",
    "openai_chunks",
    "openai_respond",
    "read_anthropic",
    "read_cohere_chat",
    "read_openai",
]

Body = Mapping[str, Any]


def _text_of(content: Any) -> str:
    """Text of a message content: a string, or the text of a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "\n".join(parts)
    return ""


def _messages(body: Body) -> list[Mapping[str, Any]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise validation_error("Malformed input request: #: required key [messages] not found")
    return messages


def read_anthropic(body: Body) -> Prompt:
    """Anthropic messages API: ``messages``, ``system``, ``tools``, ``tool_choice``."""
    messages = _messages(body)
    system = body.get("system")
    texts = [_text_of(system)] if system else []
    last_plain, last_results = "", ""
    for message in messages:
        content = message.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        plain = _text_of([b for b in blocks if b.get("type") == "text"])
        results = "\n".join(
            _text_of(b.get("content")) for b in blocks if b.get("type") == "tool_result"
        )
        texts += [t for t in (plain, results) if t]
        if message.get("role") == "user":
            last_plain, last_results = plain, results
    choice = body.get("tool_choice") or {}
    kind = choice.get("type")
    return Prompt(
        last_text=last_plain or last_results,
        texts=tuple(texts),
        tools=tuple(str(tool.get("name")) for tool in body.get("tools") or ()),
        tool_choice=("tool", str(choice.get("name"))) if kind == "tool" else kind,
        tool_results_only=bool(last_results) and not last_plain,
    )


def _openai_choice(choice: Any) -> str | tuple[str, str] | None:
    if isinstance(choice, Mapping):
        return ("tool", str(choice.get("function", {}).get("name")))
    return {"required": "any", "any": "any", "none": "none"}.get(str(choice))


def read_openai(body: Body) -> Prompt:
    """OpenAI-style chat: ``messages`` (tool results as ``tool`` messages), ``tools``."""
    messages = _messages(body)
    texts = [_text_of(m.get("content")) for m in messages]
    last_text, results_only = "", False
    for message in reversed(messages):
        if message.get("role") == "user":
            last_text = last_text or _text_of(message.get("content"))
            break
        if message.get("role") == "tool":
            last_text, results_only = _text_of(message.get("content")), True
    tools = tuple(str(tool.get("function", tool).get("name")) for tool in body.get("tools") or ())
    return Prompt(
        last_text=last_text,
        texts=tuple(t for t in texts if t),
        tools=tools,
        tool_choice=_openai_choice(body.get("tool_choice")),
        tool_results_only=results_only and bool(last_text),
    )


def read_cohere_chat(body: Body) -> Prompt:
    """Cohere Command R: ``message``, ``chat_history``, ``tools``, ``tool_results``."""
    message = body.get("message")
    if not isinstance(message, str):
        raise validation_error("Malformed input request: #: required key [message] not found")
    history = [str(turn.get("message", "")) for turn in body.get("chat_history") or ()]
    outputs = [json.dumps(r.get("outputs")) for r in body.get("tool_results") or ()]
    texts = [body.get("preamble") or "", *history, message, *outputs]
    return Prompt(
        last_text=message or "\n".join(outputs),
        texts=tuple(t for t in texts if t),
        tools=tuple(str(tool.get("name")) for tool in body.get("tools") or ()),
        tool_results_only=bool(outputs) and not message,
    )


_ANTHROPIC_STOPS: dict[str, str] = {"guardrail_intervened": "end_turn"}


_TOOL_STOPS = {**TEXT_STOPS, "tool_use": "tool_calls"}


def _anthropic_message(answer: Answer) -> dict[str, Any]:
    return {
        "id": f"msg_bdrk_{answer.response_id}",
        "type": "message",
        "role": "assistant",
        "model": answer.model_id.rsplit(".", 1)[-1],
    }


def anthropic_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """A ``message`` with thinking, text and ``tool_use`` content blocks."""
    content: list[dict[str, Any]] = []
    if answer.reasoning:
        content.append(
            {"type": "thinking", "thinking": answer.reasoning, "signature": answer.signature}
        )
    if answer.text or not answer.tool_calls:
        content.append({"type": "text", "text": answer.text})
    content += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.input}
        for c in answer.tool_calls
    ]
    usage = {"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens}
    return {
        **_anthropic_message(answer),
        "content": content,
        "stop_reason": answer.stop_as(_ANTHROPIC_STOPS),
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """``message_start``, per-block start/delta/stop, ``message_delta``, ``message_stop``."""
    start = {
        **_anthropic_message(answer),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": answer.input_tokens, "output_tokens": 1},
    }
    chunks: list[dict[str, Any]] = [{"type": "message_start", "message": start}]

    def block(first: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        index = sum(1 for c in chunks if c["type"] == "content_block_start")
        chunks.append({"type": "content_block_start", "index": index, "content_block": first})
        chunks.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        chunks.append({"type": "content_block_stop", "index": index})

    if answer.reasoning:
        thinking = [
            {"type": "thinking_delta", "thinking": p} for p in split_words(answer.reasoning)
        ]
        signature = {"type": "signature_delta", "signature": answer.signature}
        block({"type": "thinking", "thinking": "", "signature": ""}, [*thinking, signature])
    if answer.text or not answer.tool_calls:
        text = [{"type": "text_delta", "text": p} for p in answer.pieces()]
        block({"type": "text", "text": ""}, text)
    for call in answer.tool_calls:
        first = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        block(first, [{"type": "input_json_delta", "partial_json": json.dumps(call.input)}])
    stop = {"stop_reason": answer.stop_as(_ANTHROPIC_STOPS), "stop_sequence": None}
    chunks.append(
        {"type": "message_delta", "delta": stop, "usage": {"output_tokens": answer.output_tokens}}
    )
    chunks.append({"type": "message_stop"})
    return chunks


def nova_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Nova's ``output.message`` (the Converse content blocks) with its usage."""
    blocks = content_blocks(answer)
    for block in blocks:  # Nova's reasoning text carries no signature
        block.get("reasoningContent", {}).get("reasoningText", {}).pop("signature", None)
    return {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": answer.stop_reason,
        "usage": {
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "totalTokens": answer.input_tokens + answer.output_tokens,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0,
        },
    }


def nova_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """The ConverseStream events, one per chunk, keyed by event name."""
    chunks = [{name: event} for name, event in converse_events(answer, {})]
    chunks[-1]["metadata"] = {
        "usage": {"inputTokens": answer.input_tokens, "outputTokens": answer.output_tokens},
        "metrics": {},
        "trace": {},
    }
    return chunks


def cohere_chat_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Command R's answer: ``text``, ``chat_history``, ``tool_calls``."""
    history = [
        *(body.get("chat_history") or ()),
        {"role": "USER", "message": body.get("message", "")},
        {"role": "CHATBOT", "message": answer.text},
    ]
    response: dict[str, Any] = {
        "response_id": answer.response_id,
        "text": answer.text,
        "generation_id": answer.response_id,
        "chat_history": history,
        "finish_reason": answer.stop_as(COHERE_STOPS),
    }
    if answer.tool_calls:
        response["tool_calls"] = [
            {"name": c.name, "parameters": c.input} for c in answer.tool_calls
        ]
    return response


def cohere_chat_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """``stream-start``, ``text-generation`` events, tool calls, ``stream-end``."""
    start = {
        "is_finished": False,
        "event_type": "stream-start",
        "generation_id": answer.response_id,
    }
    chunks: list[dict[str, Any]] = [start]
    if answer.text or not answer.tool_calls:
        chunks += [
            {"is_finished": False, "event_type": "text-generation", "text": p}
            for p in answer.pieces()
        ]
    response = cohere_chat_respond(answer, body)
    if answer.tool_calls:
        calls = response["tool_calls"]
        chunks.append(
            {"is_finished": False, "event_type": "tool-calls-generation", "tool_calls": calls}
        )
    end = {"is_finished": True, "event_type": "stream-end", "response": response}
    return [*chunks, {**end, "finish_reason": response["finish_reason"]}]


def _openai_calls(answer: Answer) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.input)},
        }
        for call in answer.tool_calls
    ]


def _openai_head(answer: Answer, kind: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-{answer.response_id}", "object": kind, "created": 0}


def _openai_usage(answer: Answer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.input_tokens,
        "completion_tokens": answer.output_tokens,
        "total_tokens": answer.input_tokens + answer.output_tokens,
    }


def openai_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """A ``chat.completion`` with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.reasoning:
        message["reasoning_content"] = answer.reasoning
    if answer.tool_calls:
        message["tool_calls"] = _openai_calls(answer)
    stop = answer.stop_as(_TOOL_STOPS)
    choice = {"index": 0, "message": message, "finish_reason": stop, "stop_reason": stop}
    return {
        **_openai_head(answer, "chat.completion"),
        "model": answer.model_id,
        "choices": [choice],
        "usage": _openai_usage(answer),
    }


def openai_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """``chat.completion.chunk`` deltas, the last one with the finish reason and usage."""
    head = {**_openai_head(answer, "chat.completion.chunk"), "model": answer.model_id}

    def chunk(delta: dict[str, Any], stop: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": stop, "stop_reason": stop}
        return {**head, "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    if answer.text or not answer.tool_calls:
        chunks += [chunk({"content": p}) for p in answer.pieces()]
    for index, call in enumerate(_openai_calls(answer)):
        chunks.append(chunk({"tool_calls": [{"index": index, **call}]}))
    final = chunk({}, answer.stop_as(_TOOL_STOPS))
    return [*chunks, {**final, "usage": _openai_usage(answer)}]
