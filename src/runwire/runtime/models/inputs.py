"""What a model accepts: strings, prompt values and message-likes, turned into messages.

A prompt value is recognised by shape (``to_messages()`` and ``to_string()``), so this
module does not depend on the prompts package; message-likes follow LangChain's
``convert_to_messages`` (see ``runwire.schema.coerce``).
"""

from __future__ import annotations

from typing import Any

from runwire.schema.coerce import convert_to_message, get_buffer_string
from runwire.schema.messages import BaseMessage, HumanMessage

__all__ = ["to_messages", "to_prompt_string"]


def _is_prompt_value(value: Any) -> bool:
    return callable(getattr(value, "to_messages", None)) and callable(
        getattr(value, "to_string", None)
    )


def to_messages(value: Any) -> list[BaseMessage]:
    """The messages a chat model is called with, from any accepted model input."""
    if isinstance(value, str):
        return [HumanMessage(content=value)]
    if isinstance(value, list | tuple):
        return [convert_to_message(item) for item in value]
    if isinstance(value, BaseMessage):
        return [value]
    if _is_prompt_value(value):
        return list(value.to_messages())
    raise TypeError(
        f"a model takes a string, a prompt value or a list of messages, got {type(value).__name__}"
    )


def to_prompt_string(value: Any) -> str:
    """The prompt text a completion model (``BaseLLM``) is called with."""
    if isinstance(value, str):
        return value
    if _is_prompt_value(value):
        return value.to_string()
    return get_buffer_string(to_messages(value))
