"""``Document``: a piece of text with metadata, as retrievers return it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from runwire.schema.serializable import Serializable

__all__ = ["Document"]


class Document(Serializable):
    """Text and its metadata (LangChain's ``Document``)."""

    id: str | None = Field(default=None, coerce_numbers_to_str=True)
    metadata: dict[str, Any] = Field(default_factory=dict)
    page_content: str
    type: Literal["Document"] = "Document"

    lc_positional = "page_content"
    lc_data_fields = frozenset({"metadata"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "documents"]

    def __str__(self) -> str:
        if self.metadata:
            return f"page_content={self.page_content!r} metadata={self.metadata}"
        return f"page_content={self.page_content!r}"
