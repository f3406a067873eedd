"""Prompt values: what a prompt template produces, readable as text or as messages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from runwire.schema.coerce import get_buffer_string
from runwire.schema.messages import AnyMessage, BaseMessage, HumanMessage
from runwire.schema.serializable import Serializable

__all__ = [
    "ChatPromptValue",
    "ChatPromptValueConcrete",
    "ImagePromptValue",
    "PromptValue",
    "StringPromptValue",
]


class PromptValue(Serializable, ABC):
    """The input of a language model: convertible to a string or to chat messages."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "prompts"]

    @abstractmethod
    def to_string(self) -> str:
        """The prompt as one string."""

    @abstractmethod
    def to_messages(self) -> list[BaseMessage]:
        """The prompt as a list of messages."""


class StringPromptValue(PromptValue):
    """A text prompt; as messages it is one human message."""

    text: str
    type: Literal["StringPromptValue"] = "StringPromptValue"

    def to_string(self) -> str:
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(content=self.text)]


class ChatPromptValue(PromptValue):
    """A chat prompt; as a string it is the transcript (``"Human: ...\\nAI: ..."``)."""

    messages: list[BaseMessage]

    def to_string(self) -> str:
        return get_buffer_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)


class ChatPromptValueConcrete(ChatPromptValue):
    """``ChatPromptValue`` with the message classes spelled out, for output schemas only."""

    messages: list[AnyMessage]  # type: ignore[assignment]
    type: Literal["ChatPromptValueConcrete"] = "ChatPromptValueConcrete"


class ImagePromptValue(PromptValue):
    """An image prompt (``{"url": ..., "detail": ...}``); as messages, one human message."""

    image_url: dict[str, Any]
    type: Literal["ImagePromptValue"] = "ImagePromptValue"

    lc_data_fields = frozenset({"image_url"})

    def to_string(self) -> str:
        return str(self.image_url.get("url", ""))

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(content=[dict(self.image_url)])]
