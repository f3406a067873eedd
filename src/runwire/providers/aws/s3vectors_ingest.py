"""``AmazonS3VectorsIngest``: documents in, stored in an S3 Vectors index, their keys out.

LangChain adds documents to a vector store from Python (``store.add_documents``); this
runnable does it from a file, so an ingest step can sit in a pipeline or run over a
JSONL file with ``runwire batch``. The input is one document or a list of them, each a
string (the text), a ``Document``, or an object ``{"page_content", "metadata"?, "id"?}``;
the output is the list of vector keys (``id`` when given, else a new uuid). Documents are
embedded and sent in batches of ``batch_size`` (one PutVectors each) by the store's
``add_documents``; the index (and bucket) is created as the store's fields say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from runwire.providers.aws.client import AwsSerializable, run_in_aws_thread
from runwire.providers.aws.s3vectors import AmazonS3Vectors
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.documents import Document

__all__ = ["AmazonS3VectorsIngest", "as_documents"]

_KEYS = frozenset(("page_content", "metadata", "id"))
_EXPECTED = 'a string, a Document or {"page_content": str, "metadata"?: object, "id"?: str}'


def _document(item: Any, at: int) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(page_content=item)
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - _KEYS)
        text, metadata, key = item.get("page_content"), item.get("metadata"), item.get("id")
        if (
            not unknown
            and isinstance(text, str)
            and isinstance(metadata, Mapping | None)
            and isinstance(key, str | None)
        ):
            return Document(page_content=text, metadata=dict(metadata or {}), id=key)
        what = f"an object with keys {sorted(item)}"
    else:
        what = f"a {type(item).__name__}"
    raise TypeError(f"AmazonS3VectorsIngest: document {at} is {what}; expected {_EXPECTED}")


def as_documents(value: Any) -> list[Document]:
    """One document or a list of them (see the module docstring) as Documents."""
    items = value if isinstance(value, list | tuple) else [value]
    return [_document(item, at) for at, item in enumerate(items)]


class AmazonS3VectorsIngest(AwsSerializable, RunnableSerializable[Any, list[str]]):
    """Stores its input documents in ``vectorstore``; returns their keys."""

    vectorstore: AmazonS3Vectors
    """The store written to (its embeddings embed the documents)."""
    batch_size: int = Field(default=200, ge=1, le=500)
    """Vectors per PutVectors request (S3 Vectors takes at most 500)."""

    @property
    def InputType(self) -> Any:
        return list[Document] | Document | list[str] | str | list[dict[str, Any]]

    @property
    def OutputType(self) -> Any:
        return list[str]

    def ingest(self, value: Any) -> list[str]:
        """Store ``value``'s documents; their keys, in input order."""
        documents = as_documents(value)
        if not documents:
            return []
        return self.vectorstore.add_documents(documents, batch_size=self.batch_size)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> list[str]:
        return self._call_with_config(lambda value, _: self.ingest(value), input, config)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[str]:
        async def run(value: Any, _: RunnableConfig) -> list[str]:
            return await run_in_aws_thread(self.ingest, value)

        return await self._acall_with_config(run, input, config)
