"""Refusals: a model that declined to answer, told apart from output that does not parse.

LangChain's JSON and tool-call parsers raise ``ModelRefusalError`` when a chat message's
standard content blocks hold a ``refusal`` block. Those blocks come from per-provider
translators; :func:`refusal_of` applies the same rules to the message as it is:

- a content block typed ``"refusal"`` (``{"type": "refusal", "refusal": text, "extras":
  {"category": ...}}``), except for providers whose translator does not carry it over
  (``bedrock_converse``, ``google_genai``, ``google_vertexai``, ``groq``);
- ``model_provider == "anthropic"``: ``response_metadata["stop_reason"] == "refusal"``
  (text and category from ``stop_details``);
- ``model_provider == "openai"``: ``additional_kwargs["refusal"]``.
"""

from __future__ import annotations

from typing import Any

from runwire.schema.messages import BaseMessage

__all__ = ["ModelRefusalError", "raise_if_refused", "refusal_of"]

_NO_REFUSAL_BLOCKS = frozenset(("bedrock_converse", "google_genai", "google_vertexai", "groq"))
"""Providers whose content-block translator drops ``refusal`` blocks."""


class ModelRefusalError(Exception):
    """The model declined to produce the requested output (``raw_message`` is its reply).

    Retrying the same request is unlikely to succeed.
    """

    def __init__(
        self,
        message: str = "Model refused to produce the requested output",
        *,
        raw_message: BaseMessage | None = None,
    ) -> None:
        super().__init__(message)
        self.raw_message = raw_message

    @classmethod
    def from_refusal(
        cls, refusal: dict[str, Any], *, raw_message: BaseMessage
    ) -> ModelRefusalError:
        """The error for a refusal block: its category and text in the message."""
        message = "Model refused to produce the requested output"
        extras = refusal.get("extras")
        category = extras.get("category") if isinstance(extras, dict) else None
        if category:
            message += f" (category={category!r})"
        text = refusal.get("refusal")
        if text:
            message += f": {text}"
        return cls(message, raw_message=raw_message)


def refusal_of(message: BaseMessage) -> dict[str, Any] | None:
    """The refusal block of ``message`` (see the module docstring), or ``None``."""
    metadata = message.response_metadata or {}
    provider = metadata.get("model_provider")
    if provider not in _NO_REFUSAL_BLOCKS and isinstance(message.content, list):
        for block in message.content:
            if (
                isinstance(block, dict)
                and block.get("type") == "refusal"
                and "source_type" not in block
            ):
                return block
    if provider == "anthropic" and metadata.get("stop_reason") == "refusal":
        details = metadata.get("stop_details")
        details = details if isinstance(details, dict) else {}
        block: dict[str, Any] = {"type": "refusal", "refusal": details.get("explanation") or ""}
        if details.get("category"):
            block["extras"] = {"category": details["category"]}
        return block
    if provider == "openai":
        text = message.additional_kwargs.get("refusal")
        if text:
            return {"type": "refusal", "refusal": text}
    return None


def raise_if_refused(message: BaseMessage) -> None:
    """Raise ``ModelRefusalError`` if the model refused instead of answering."""
    refusal = refusal_of(message)
    if refusal is not None:
        raise ModelRefusalError.from_refusal(refusal, raw_message=message)
