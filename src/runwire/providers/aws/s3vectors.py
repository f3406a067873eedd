"""``AmazonS3Vectors``: a vector store on Amazon S3 Vectors (boto3 ``s3vectors``).

Fields and defaults are langchain-aws's: ``vector_bucket_name``, ``index_name``,
``data_type`` (float32), ``distance_metric`` (cosine or euclidean),
``non_filterable_metadata_keys``, ``page_content_metadata_key`` (``_page_content``: the
text is stored in the metadata under it), ``create_index_if_not_exist``, ``embedding``
and ``query_embedding`` (any runwire embeddings), and the AWS client fields. runwire
adds ``create_bucket_if_not_exist`` (off, as langchain-aws, which needs the bucket made
beforehand). ``relevance_score_fn`` is Python-only (never serialized).

Documents come back as langchain-aws builds them: ``id`` the vector key, ``page_content``
taken out of the metadata, the rest as ``metadata``. Scores are distances (lower is
closer); ``similarity_search_with_relevance_scores`` turns them into [0, 1] relevance.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from runwire.errors import ProviderError
from runwire.providers.aws.client import AwsClientFields, AwsSerializable, run_in_aws_thread
from runwire.schema.documents import Document
from runwire.schema.serializable import Serializable

if TYPE_CHECKING:
    from runwire.providers.aws.s3vectors_retriever import AmazonS3VectorsRetriever

__all__ = ["AmazonS3Vectors", "cosine_relevance", "euclidean_relevance"]


def euclidean_relevance(distance: float) -> float:
    """Euclidean distance -> relevance in [0, 1] (langchain-aws's scale, 4096 dimensions)."""
    return 1.0 - distance / math.sqrt(4096)


def cosine_relevance(distance: float) -> float:
    """Cosine distance -> relevance in [0, 1]."""
    return 1.0 - distance


_RELEVANCE = {"euclidean": euclidean_relevance, "cosine": cosine_relevance}


def _embeddings(value: Any) -> Any:
    if value is not None and not (
        hasattr(value, "embed_query") and hasattr(value, "embed_documents")
    ):
        raise ValueError("must be an embeddings model (embed_query/embed_documents)")
    return value


class AmazonS3Vectors(AwsSerializable, Serializable, AwsClientFields):
    """Documents and their vectors in one S3 Vectors index (see the module docstring)."""

    vector_bucket_name: str
    """The vector bucket (made beforehand, or by ``create_bucket_if_not_exist``)."""
    index_name: str
    """The index: 3 to 63 lowercase letters, digits, hyphens and dots."""
    data_type: Literal["float32"] = "float32"
    """The vectors' data type."""
    distance_metric: Literal["euclidean", "cosine"] = "cosine"
    """The index's distance metric (used when the index is created)."""
    non_filterable_metadata_keys: list[str] | None = None
    """Metadata keys stored but not filterable (the page content key is a good one)."""
    page_content_metadata_key: str | None = "_page_content"
    """The metadata key holding each document's text; None: the text is not stored."""
    create_index_if_not_exist: bool = True
    """Create the index (its dimension from the first embeddings) on the first add."""
    create_bucket_if_not_exist: bool = False
    """Create the vector bucket too, when it is missing (runwire only)."""
    embedding: Any = None
    """The embeddings model of documents (and of queries, unless ``query_embedding``)."""
    query_embedding: Any = None
    """A separate embeddings model for queries."""
    credentials_profile_name: str | None = None
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    relevance_score_fn: Callable[[float], float] | None = Field(default=None, exclude=True)
    """Distance -> relevance (default: by ``distance_metric``); Python only."""

    aws_service: ClassVar[str] = "s3vectors"

    @field_validator("embedding", "query_embedding")
    @classmethod
    def _is_embeddings(cls, value: Any) -> Any:
        return _embeddings(value)

    # -- plumbing --------------------------------------------------------------------------
    @property
    def embeddings(self) -> Any:
        """The documents' embeddings model."""
        return self.embedding

    def _where(self) -> dict[str, str]:
        return {"vectorBucketName": self.vector_bucket_name, "indexName": self.index_name}

    def _query_embeddings(self) -> Any:
        model = self.query_embedding or self.embedding
        if model is None:
            raise ValueError(
                "no embeddings for queries: give embedding (or query_embedding) to the store"
            )
        return model

    def _index_exists(self) -> bool:
        try:
            self.aws_call("get_index", **self._where())
        except ProviderError as exc:
            if exc.code == "NotFoundException":
                return False
            raise
        return True

    def _create(self, operation: str, **params: Any) -> None:
        """Create a bucket or index; one made meanwhile by another writer is fine."""
        try:
            self.aws_call(operation, **params)
        except ProviderError as exc:
            if exc.code != "ConflictException":
                raise

    def _ensure_index(self, dimension: int) -> None:
        if self._index_exists():
            return
        if self.create_bucket_if_not_exist:
            try:
                self.aws_call("get_vector_bucket", vectorBucketName=self.vector_bucket_name)
            except ProviderError as exc:
                if exc.code != "NotFoundException":
                    raise
                self._create("create_vector_bucket", vectorBucketName=self.vector_bucket_name)
        params: dict[str, Any] = {
            **self._where(),
            "dataType": self.data_type,
            "dimension": dimension,
            "distanceMetric": self.distance_metric,
        }
        if self.non_filterable_metadata_keys:
            params["metadataConfiguration"] = {
                "nonFilterableMetadataKeys": self.non_filterable_metadata_keys
            }
        self._create("create_index", **params)

    def _document(self, vector: dict[str, Any], copy_metadata: bool = False) -> Document:
        metadata = vector.get("metadata", {})
        if copy_metadata:
            metadata = copy.deepcopy(metadata)
        text = ""
        if self.page_content_metadata_key and isinstance(metadata, dict):
            text = metadata.pop(self.page_content_metadata_key, "")
        return Document(page_content=text, id=vector["key"], metadata=metadata)

    # -- writing ---------------------------------------------------------------------------
    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        batch_size: int = 200,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and store ``texts``; returns their keys (``ids``, else new uuids)."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError("Number of metadatas must match number of texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError("Number of IDs must match number of texts")
        if self.embedding is None:
            raise ValueError("Embeddings object is required for adding texts")
        if not 1 <= batch_size <= 500:
            raise ValueError("batch_size must be between 1 and 500 (PutVectors' limit)")
        keys: list[str] = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            vectors = self.embedding.embed_documents(batch)
            if start == 0 and self.create_index_if_not_exist:
                self._ensure_index(len(vectors[0]))
            rows = []
            for offset, (text, values) in enumerate(zip(batch, vectors, strict=True)):
                at = start + offset
                key = (ids[at] if ids else None) or uuid.uuid4().hex
                keys.append(key)
                metadata = dict(metadatas[at]) if metadatas else {}
                if self.page_content_metadata_key:
                    metadata[self.page_content_metadata_key] = text
                rows.append({"key": key, "data": {self.data_type: values}, "metadata": metadata})
            self.aws_call("put_vectors", **self._where(), vectors=rows)
        return keys

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store Documents (their ``id`` as the key unless ``ids=`` is given)."""
        if "ids" not in kwargs and any(doc.id for doc in documents):
            kwargs["ids"] = [doc.id or uuid.uuid4().hex for doc in documents]
        texts = [doc.page_content for doc in documents]
        return self.add_texts(texts, [dict(doc.metadata) for doc in documents], **kwargs)

    def delete(self, ids: list[str] | None = None, *, batch_size: int = 500, **kwargs: Any) -> bool:
        """Delete the vectors ``ids``; with no ids, the whole index."""
        if ids is None:
            self.aws_call("delete_index", **self._where())
            return True
        for start in range(0, len(ids), batch_size):
            self.aws_call("delete_vectors", **self._where(), keys=ids[start : start + batch_size])
        return True

    # -- reading ---------------------------------------------------------------------------
    def get_by_ids(self, ids: Sequence[str], /, *, batch_size: int = 100) -> list[Document]:
        """The documents of ``ids`` in that order (a missing id is a ValueError)."""
        documents: list[Document] = []
        for start in range(0, len(ids), batch_size):
            keys = list(ids[start : start + batch_size])
            response = self.aws_call(
                "get_vectors", **self._where(), keys=keys, returnData=False, returnMetadata=True
            )
            found = {vector["key"]: vector for vector in response["vectors"]}
            for key in keys:
                if key not in found:
                    raise ValueError(f"Id '{key}' not found in vector store.")
            repeated = len(found) < len(keys)
            documents.extend(self._document(found[key], copy_metadata=repeated) for key in keys)
        return documents

    def _query(
        self, vector: list[float], k: int, filter: dict[str, Any] | None, distance: bool
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            **self._where(),
            "topK": k,
            "queryVector": {self.data_type: vector},
            "returnMetadata": True,
            "returnDistance": distance,
        }
        if filter is not None:
            params["filter"] = filter
        return list(self.aws_call("query_vectors", **params)["vectors"])

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        *,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest ``embedding`` (after the metadata ``filter``)."""
        return [self._document(v) for v in self._query(embedding, k, filter, distance=False)]

    def similarity_search(
        self, query: str, k: int = 4, *, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest ``query``."""
        vector = self._query_embeddings().embed_query(query)
        return self.similarity_search_by_vector(vector, k, filter=filter)

    def similarity_search_with_score(
        self, query: str, k: int = 4, *, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """``(document, distance)`` pairs, nearest first."""
        vector = self._query_embeddings().embed_query(query)
        rows = self._query(vector, k, filter, distance=True)
        return [(self._document(row), row["distance"]) for row in rows]

    def similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """``(document, relevance)`` pairs in [0, 1]; ``score_threshold=`` drops the rest."""
        threshold = kwargs.pop("score_threshold", None)
        score = self.relevance_score_fn or _RELEVANCE[self.distance_metric]
        scored = [
            (doc, score(distance))
            for doc, distance in self.similarity_search_with_score(query, k, **kwargs)
        ]
        if threshold is not None:
            scored = [(doc, s) for doc, s in scored if s >= threshold]
        return scored

    # -- async -----------------------------------------------------------------------------
    async def aadd_texts(self, texts: Iterable[str], **kwargs: Any) -> list[str]:
        """Async ``add_texts`` (in runwire's bounded AWS thread pool)."""
        return await run_in_aws_thread(partial(self.add_texts, list(texts), **kwargs))

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        """Async ``similarity_search``."""
        return await run_in_aws_thread(partial(self.similarity_search, query, k, **kwargs))

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Async ``similarity_search_with_score``."""
        return await run_in_aws_thread(
            partial(self.similarity_search_with_score, query, k, **kwargs)
        )

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Any,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> AmazonS3Vectors:
        """A store (fields as keyword arguments) with ``texts`` added."""
        store = cls(embedding=embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(
        cls, documents: list[Document], embedding: Any, **kwargs: Any
    ) -> AmazonS3Vectors:
        """A store with ``documents`` added."""
        fields = {k: v for k, v in kwargs.items() if k != "ids"}
        store = cls(embedding=embedding, **fields)
        store.add_documents(documents, **({"ids": kwargs["ids"]} if "ids" in kwargs else {}))
        return store

    def as_retriever(self, **kwargs: Any) -> AmazonS3VectorsRetriever:
        """A retriever over this store (``search_type``, ``search_kwargs``, ``tags``...)."""
        from runwire.providers.aws.s3vectors_retriever import AmazonS3VectorsRetriever

        tags = list(kwargs.pop("tags", None) or [])
        tags += [type(self).__name__, *([type(self.embedding).__name__] if self.embedding else [])]
        return AmazonS3VectorsRetriever(vectorstore=self, tags=tags, **kwargs)
