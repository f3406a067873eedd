"""``BaseDocumentCompressor``: documents and a query in, fewer or reordered documents out.

LangChain's interface for rerankers and filters (not a runnable, as there). A subclass
implements ``compress_documents``; the async variant defaults to it in a thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import partial
from typing import Any

from runwire.runtime.base import run_in_executor
from runwire.schema.documents import Document
from runwire.schema.serializable import Serializable

__all__ = ["BaseDocumentCompressor"]


class BaseDocumentCompressor(Serializable, ABC):
    """Compresses retrieved documents given the query they were retrieved for."""

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "document_compressors"]

    @abstractmethod
    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Any = None
    ) -> Sequence[Document]:
        """The documents worth keeping for ``query``, most useful first."""

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Any = None
    ) -> Sequence[Document]:
        """Async ``compress_documents`` (by default the sync one in a thread)."""
        return await run_in_executor(
            None, partial(self.compress_documents, documents, query, callbacks)
        )
