"""LLM outputs: ``Generation`` and ``ChatGeneration`` and their streamed chunks.

A ``ChatGeneration``'s ``text`` is derived from its message (whatever ``text`` was
passed), as in LangChain. Chunks add with ``+``: texts and messages concatenate,
``generation_info`` dicts merge. ``generation_info`` is user data: loading never builds
an object inside it.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import model_validator

from runwire.schema.merge import merge_dicts
from runwire.schema.message_base import BaseMessage, BaseMessageChunk
from runwire.schema.serializable import Serializable

__all__ = [
    "ChatGeneration",
    "ChatGenerationChunk",
    "Generation",
    "GenerationChunk",
    "merge_chat_generation_chunks",
]


class Generation(Serializable):
    """One text output of an LLM, with provider details in ``generation_info``."""

    text: str
    """The generated text."""
    generation_info: dict[str, Any] | None = None
    """Raw provider details (finish reason, token log-probabilities...)."""
    type: Literal["Generation"] = "Generation"

    lc_data_fields = frozenset({"generation_info"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "outputs"]


def _bad_operand(left: Any, right: Any) -> TypeError:
    return TypeError(
        f"unsupported operand type(s) for +: {type(left).__name__!r} and {type(right).__name__!r}"
    )


class GenerationChunk(Generation):
    """A streamed piece of a ``Generation``; adds to another ``GenerationChunk``."""

    def __add__(self, other: GenerationChunk) -> GenerationChunk:
        if not isinstance(other, GenerationChunk):
            raise _bad_operand(self, other)
        info = merge_dicts(self.generation_info or {}, other.generation_info or {})
        return GenerationChunk(text=self.text + other.text, generation_info=info or None)


def _message_text(message: BaseMessage) -> str:
    """LangChain's rule: the message's text, where a dict block with ``text`` and no
    ``type`` (a legacy block) counts as text too."""
    content = message.content
    if isinstance(content, list) and any(
        isinstance(b, dict) and "text" in b and b.get("type") is None for b in content
    ):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif block.get("type") in ("text", None) and "text" in block:
                parts.append(block.get("text", ""))
        return "".join(parts)
    return message.text


class ChatGeneration(Generation):
    """One output of a chat model: a message; ``text`` is the message's text."""

    text: str = ""
    """Derived from ``message`` on construction (a passed value is replaced)."""
    message: BaseMessage
    """The message the model produced."""
    type: Literal["ChatGeneration"] = "ChatGeneration"  # type: ignore[assignment]

    @model_validator(mode="after")
    def _set_text(self) -> Self:
        self.__dict__["text"] = _message_text(self.message)
        return self


class ChatGenerationChunk(ChatGeneration):
    """A streamed piece of a ``ChatGeneration``: its message is a message chunk."""

    message: BaseMessageChunk
    type: Literal["ChatGenerationChunk"] = "ChatGenerationChunk"  # type: ignore[assignment]

    def __add__(
        self, other: ChatGenerationChunk | list[ChatGenerationChunk]
    ) -> ChatGenerationChunk:
        if isinstance(other, ChatGenerationChunk):
            info = merge_dicts(self.generation_info or {}, other.generation_info or {})
            return ChatGenerationChunk(
                message=self.message + other.message, generation_info=info or None
            )
        if isinstance(other, list) and all(isinstance(x, ChatGenerationChunk) for x in other):
            info = merge_dicts(
                self.generation_info or {},
                *(c.generation_info for c in other if c.generation_info),
            )
            return ChatGenerationChunk(
                message=self.message + [c.message for c in other], generation_info=info or None
            )
        raise _bad_operand(self, other)


def merge_chat_generation_chunks(
    chunks: list[ChatGenerationChunk],
) -> ChatGenerationChunk | None:
    """The sum of ``chunks`` (``None`` for none)."""
    if not chunks:
        return None
    if len(chunks) == 1:
        return chunks[0]
    return chunks[0] + chunks[1:]
