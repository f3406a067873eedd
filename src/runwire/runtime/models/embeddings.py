"""``Embeddings``: texts to vectors (LangChain's interface; not a runnable, as there)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial

from runwire.runtime.base import run_in_executor

__all__ = ["Embeddings"]


class Embeddings(ABC):
    """Embeds documents and queries; the async methods default to the sync ones in a thread."""

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text."""

    @abstractmethod
    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query."""

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async ``embed_documents``."""
        return await run_in_executor(None, partial(self.embed_documents, texts))

    async def aembed_query(self, text: str) -> list[float]:
        """Async ``embed_query``."""
        return await run_in_executor(None, partial(self.embed_query, text))
