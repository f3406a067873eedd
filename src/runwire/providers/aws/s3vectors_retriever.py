"""``AmazonS3VectorsRetriever``: an ``AmazonS3Vectors`` store as a retriever.

As in langchain-aws, the only ``search_type`` is ``similarity``; ``search_kwargs`` may
hold ``k`` (default 4) and ``filter`` (an S3 Vectors metadata filter).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from runwire.providers.aws.client import AwsSerializable
from runwire.providers.aws.s3vectors import AmazonS3Vectors
from runwire.runtime.models.retriever import BaseRetriever
from runwire.schema.documents import Document

__all__ = ["AmazonS3VectorsRetriever"]

_KNOWN_KWARGS = frozenset(("k", "filter"))


class AmazonS3VectorsRetriever(AwsSerializable, BaseRetriever):
    """Documents nearest the query in an S3 Vectors index."""

    allowed_search_types: ClassVar[tuple[str, ...]] = ("similarity",)

    vectorstore: AmazonS3Vectors
    """The store searched."""
    search_type: Literal["similarity"] = "similarity"
    """How to search (langchain-aws allows similarity only)."""
    search_kwargs: dict[str, Any] = Field(default_factory=dict)
    """``k`` and ``filter`` of each search."""

    @field_validator("search_kwargs")
    @classmethod
    def _known(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - _KNOWN_KWARGS)
        if unknown:
            raise ValueError(f"unknown search_kwargs {unknown}; known: {sorted(_KNOWN_KWARGS)}")
        return value

    def _get_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        return self.vectorstore.similarity_search(query, **{**self.search_kwargs, **kwargs})

    async def _aget_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        options = {**self.search_kwargs, **kwargs}
        return await self.vectorstore.asimilarity_search(query, **options)
