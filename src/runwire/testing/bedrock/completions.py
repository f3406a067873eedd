"""Text-completion formats of InvokeModel: a prompt string in, generated text out.

The request's user text is the last user turn of the provider's chat template (Llama 3
and 4 headers, ``[INST]``, ``\\n\\nHuman:``, DeepSeek's full-width ``<|User|>``...),
else the whole prompt. Streams send one word per chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.replies import Answer, Prompt, count_words, split_words

__all__ = [
    "COHERE_STOPS",
    "TEXT_STOPS",
    "anthropic_text_chunks",
    "anthropic_text_respond",
    "choices_text_chunks",
    "choices_text_respond",
    "cohere_text_chunks",
    "cohere_text_respond",
    "j2_respond",
    "last_user_turn",
    "meta_chunks",
    "meta_respond",
    "outputs_chunks",
    "outputs_respond",
    "read_prompt_string",
    "titan_chunks",
    "titan_respond",
]

Body = Mapping[str, Any]


_USER_TURNS: tuple[tuple[str, str], ...] = (
    (r"<\|start_header_id\|>user<\|end_header_id\|>", r"<\|eot_id\|>|<\|start_header_id\|>"),
    (r"<\|header_start\|>user<\|header_end\|>", r"<\|eot\|>|<\|header_start\|>"),
    # DeepSeek: full-width bars (U+FF5C) in the real template, ASCII ones in some clients
    ("<\uff5cUser\uff5c>|<\\|User\\|>", "<\uff5cAssistant\uff5c>|<\\|Assistant\\|>|<\uff5cend"),
    (r"<\|im_start\|>user", r"<\|im_end\|>"),
    (r"\[INST\]", r"\[/INST\]"),
    (r"(?:^|\n\n)Human:", r"\n\nAssistant:|\n\nHuman:"),
    (r"(?:^|\n)User:", r"\nBot:|\nUser:"),
)
"""(start of a user turn, end of it) per chat template, most specific first."""


_SYSTEM = re.compile(r"<<SYS>>.*?<</SYS>>", re.DOTALL)


def last_user_turn(prompt: str) -> str:
    """The text of the last user turn of a templated prompt, else the whole prompt."""
    for start, end in _USER_TURNS:
        starts = list(re.finditer(start, prompt))
        if starts:
            rest = prompt[starts[-1].end() :]
            stop = re.search(end, rest)
            return _SYSTEM.sub("", rest[: stop.start()] if stop else rest).strip()
    return prompt.strip()


def read_prompt_string(body: Body, key: str = "prompt") -> Prompt:
    """A prompt-string request: its ``key`` field, read through the chat templates."""
    prompt = body.get(key)
    if not isinstance(prompt, str):
        raise validation_error(f"Malformed input request: #: required key [{key}] not found")
    return Prompt(last_text=last_user_turn(prompt), texts=(prompt,))


def _completion_chunks(
    answer: Answer, chunk: Callable[[str, str | None, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Chunks of a text-completion stream: ``chunk(piece, stop_or_None, words_so_far)``."""
    pieces, chunks, seen = answer.pieces(), [], 0
    for i, piece in enumerate(pieces):
        seen += count_words(piece)
        chunks.append(chunk(piece, answer.stop_reason if i == len(pieces) - 1 else None, seen))
    return chunks


TEXT_STOPS = {"end_turn": "stop", "max_tokens": "length", "stop_sequence": "stop"}


_COMPLETION_STOPS = {"end_turn": "stop_sequence", "max_tokens": "max_tokens"}


def anthropic_text_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Claude text completions: ``completion`` and ``stop_reason``."""
    stop = answer.stop_as(_COMPLETION_STOPS)
    return {
        "type": "completion",
        "completion": answer.text,
        "stop_reason": stop,
        "stop": "\n\nHuman:" if stop == "stop_sequence" else None,
    }


def anthropic_text_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """One ``completion`` piece per chunk."""

    def chunk(piece: str, stop: str | None, seen: int) -> dict[str, Any]:
        reason = None if stop is None else _COMPLETION_STOPS.get(stop, stop)
        return {"completion": piece, "stop_reason": reason, "stop": None}

    return _completion_chunks(answer, chunk)


_TITAN_STOPS = {"end_turn": "FINISH", "max_tokens": "LENGTH", "stop_sequence": "FINISH"}


def titan_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Titan Text: ``results[0].outputText`` and the token counts."""
    result = {
        "tokenCount": answer.output_tokens,
        "outputText": answer.text,
        "completionReason": answer.stop_as(_TITAN_STOPS),
    }
    return {"inputTextTokenCount": answer.input_tokens, "results": [result]}


def titan_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """One ``outputText`` piece per chunk, the last with ``completionReason``."""

    def chunk(piece: str, stop: str | None, seen: int) -> dict[str, Any]:
        return {
            "outputText": piece,
            "index": 0,
            "totalOutputTextTokenCount": seen,
            "completionReason": None if stop is None else _TITAN_STOPS.get(stop, stop),
            "inputTextTokenCount": answer.input_tokens,
        }

    return _completion_chunks(answer, chunk)


def meta_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Llama: ``generation`` and the token counts."""
    return {
        "generation": answer.text,
        "prompt_token_count": answer.input_tokens,
        "generation_token_count": answer.output_tokens,
        "stop_reason": answer.stop_as(TEXT_STOPS),
    }


def meta_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """One ``generation`` piece per chunk, the last with ``stop_reason``."""

    def chunk(piece: str, stop: str | None, seen: int) -> dict[str, Any]:
        return {
            "generation": piece,
            "prompt_token_count": None,
            "generation_token_count": seen,
            "stop_reason": None if stop is None else TEXT_STOPS.get(stop, stop),
        }

    chunks = _completion_chunks(answer, chunk)
    chunks[0]["prompt_token_count"] = answer.input_tokens
    return chunks


def outputs_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Mistral text completions: ``outputs[0].text``."""
    return {"outputs": [{"text": answer.text, "stop_reason": answer.stop_as(TEXT_STOPS)}]}


def outputs_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """One ``outputs[0].text`` piece per chunk."""

    def chunk(piece: str, stop: str | None, seen: int) -> dict[str, Any]:
        reason = None if stop is None else TEXT_STOPS.get(stop, stop)
        return {"outputs": [{"text": piece, "stop_reason": reason}]}

    return _completion_chunks(answer, chunk)


def _with_thinking(answer: Answer) -> str:
    """DeepSeek-R1 writes its reasoning first, closed by ``</think>``."""
    return f"{answer.reasoning}\n</think>\n\n{answer.text}" if answer.reasoning else answer.text


def choices_text_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """DeepSeek-R1 (and Writer): ``choices[0].text``."""
    text = _with_thinking(answer)
    return {"choices": [{"text": text, "stop_reason": answer.stop_as(TEXT_STOPS)}]}


def choices_text_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """One ``choices[0].text`` piece per chunk."""
    pieces = split_words(_with_thinking(answer)) or [""]
    last = len(pieces) - 1
    stop = answer.stop_as(TEXT_STOPS)
    return [
        {"choices": [{"text": p, "stop_reason": stop if i == last else None}]}
        for i, p in enumerate(pieces)
    ]


COHERE_STOPS = {"end_turn": "COMPLETE", "tool_use": "COMPLETE", "max_tokens": "MAX_TOKENS"}


def cohere_text_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """Cohere Command: ``generations[0].text``."""
    generation = {
        "id": answer.response_id,
        "text": answer.text,
        "finish_reason": answer.stop_as(COHERE_STOPS),
    }
    return {"id": answer.response_id, "generations": [generation], "prompt": body.get("prompt")}


def cohere_text_chunks(answer: Answer, body: Body) -> list[dict[str, Any]]:
    """``text`` pieces, then an ``is_finished`` chunk with the whole response."""
    chunks: list[dict[str, Any]] = [
        {"text": p, "is_finished": False, "index": 0} for p in answer.pieces()
    ]
    final = {"is_finished": True, "finish_reason": answer.stop_as(COHERE_STOPS)}
    return [*chunks, {**final, "response": cohere_text_respond(answer, body)}]


def j2_respond(answer: Answer, body: Body) -> dict[str, Any]:
    """AI21 Jurassic-2: ``completions[0].data.text`` (J2 does not stream)."""
    reason = {"end_turn": "endoftext", "max_tokens": "length", "stop_sequence": "stop"}
    completion = {
        "data": {"text": answer.text, "tokens": []},
        "finishReason": {"reason": answer.stop_as(reason)},
    }
    return {
        "id": 1234,
        "prompt": {"text": body.get("prompt"), "tokens": []},
        "completions": [completion],
    }
