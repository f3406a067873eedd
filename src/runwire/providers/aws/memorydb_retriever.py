"""``InMemoryVectorStoreRetriever``: an ``InMemoryVectorStore`` as a runwire retriever.

``search_type`` is langchain-aws's: ``similarity`` (the default; with the default
``search_kwargs`` only documents within distance 0.9), ``similarity_distance_threshold``
(``distance_threshold`` required), ``similarity_score_threshold`` (relevance scores,
``score_threshold``) or ``mmr`` (``fetch_k``, ``lambda_mult``). ``search_kwargs`` may
hold ``k``, ``filter`` (a filter expression in Python, its query string in a file),
``distance_threshold``, ``score_threshold``, ``fetch_k`` and ``lambda_mult``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from runwire.providers.aws.memorydb import InMemoryVectorStore
from runwire.runtime.models.retriever import BaseRetriever
from runwire.schema.documents import Document

__all__ = ["InMemoryVectorStoreRetriever"]

SearchType = Literal[
    "similarity", "similarity_distance_threshold", "similarity_score_threshold", "mmr"
]
_KNOWN_KWARGS = frozenset(
    ("k", "filter", "distance_threshold", "score_threshold", "fetch_k", "lambda_mult",
     "return_metadata")
)  # fmt: skip


def _default_kwargs() -> dict[str, Any]:
    return {"k": 4, "distance_threshold": 0.9}


class InMemoryVectorStoreRetriever(BaseRetriever):
    """Documents from an ``InMemoryVectorStore`` (see the module docstring)."""

    allowed_search_types: ClassVar[tuple[str, ...]] = (
        "similarity",
        "similarity_distance_threshold",
        "similarity_score_threshold",
        "mmr",
    )

    vectorstore: InMemoryVectorStore
    """The store searched."""
    search_type: SearchType = "similarity"
    """How to search (see the module docstring)."""
    search_kwargs: dict[str, Any] = Field(default_factory=_default_kwargs)
    """Arguments of each search (``k``, ``filter``, thresholds, MMR's ``fetch_k``...)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @field_validator("search_kwargs")
    @classmethod
    def _known(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - _KNOWN_KWARGS)
        if unknown:
            raise ValueError(f"unknown search_kwargs {unknown}; known: {sorted(_KNOWN_KWARGS)}")
        if value.get("filter") is not None and not isinstance(value["filter"], str):
            value = {**value, "filter": str(value["filter"])}  # kept as its query string
        return value

    def _get_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        store = self.vectorstore
        options = {**self.search_kwargs, **kwargs}
        if self.search_type in ("similarity", "similarity_distance_threshold"):
            if (
                self.search_type == "similarity_distance_threshold"
                and options.get("distance_threshold") is None
            ):
                raise ValueError(
                    "distance_threshold must be provided for similarity_distance_threshold "
                    "retriever"
                )
            options.pop("score_threshold", None)
            return store.similarity_search(query, **options)
        if self.search_type == "similarity_score_threshold":
            return [d for d, _ in store.similarity_search_with_relevance_scores(query, **options)]
        options.pop("score_threshold", None)
        return store.max_marginal_relevance_search(query, **options)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Add documents to the store."""
        return self.vectorstore.add_documents(documents, **kwargs)

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Async ``add_documents``."""
        return await self.vectorstore.aadd_documents(documents, **kwargs)
