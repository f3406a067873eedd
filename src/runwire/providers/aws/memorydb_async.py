"""The async forms of ``InMemoryVectorStore``'s methods: the sync calls in a thread
(redis-py's blocking client; the emulator and MemoryDB answer in milliseconds)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from runwire.runtime.base import run_in_executor
from runwire.schema.documents import Document

__all__ = ["AsyncSearchMixin"]


class AsyncSearchMixin:
    """``aadd_texts``, ``asimilarity_search``, ... over the sync methods."""

    async def aadd_texts(self, texts: Iterable[str], *args: Any, **kwargs: Any) -> list[str]:
        """Async ``add_texts``."""
        return await run_in_executor(None, partial(self.add_texts, list(texts), *args, **kwargs))

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Async ``add_documents``."""
        return await run_in_executor(None, partial(self.add_documents, documents, **kwargs))

    async def asimilarity_search(self, query: str, **kwargs: Any) -> list[Document]:
        """Async ``similarity_search``."""
        return await run_in_executor(None, partial(self.similarity_search, query, **kwargs))

    async def asimilarity_search_with_score(
        self, query: str, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Async ``similarity_search_with_score``."""
        call = partial(self.similarity_search_with_score, query, **kwargs)
        return await run_in_executor(None, call)

    async def asimilarity_search_with_relevance_scores(
        self, query: str, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Async ``similarity_search_with_relevance_scores``."""
        call = partial(self.similarity_search_with_relevance_scores, query, **kwargs)
        return await run_in_executor(None, call)

    async def amax_marginal_relevance_search(self, query: str, **kwargs: Any) -> list[Document]:
        """Async ``max_marginal_relevance_search``."""
        call = partial(self.max_marginal_relevance_search, query, **kwargs)
        return await run_in_executor(None, call)
