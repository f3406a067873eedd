"""``InMemoryVectorStore``: a vector store on Amazon MemoryDB (langchain-aws's class).

Documents are hashes ``<key_prefix>:<id>`` holding the content, its vector and the
metadata; an index (``FT.CREATE ... ON HASH PREFIX 1 <key_prefix>``) is created on the
first write with the embedding's dimension. Searches are ``FT.SEARCH`` KNN queries,
pre-filtered by the metadata filters of :mod:`.memorydb_filters` (or a filter string),
or vector ranges when ``distance_threshold`` is given::

    store = InMemoryVectorStore(index_name="docs", embedding=BedrockEmbeddings(...),
                                redis_url=SecretStr("rediss://:token@cluster:6379"))
    store.add_texts(["..."], metadatas=[{"color": ["red"]}])
    store.similarity_search("query", k=4, filter=InMemoryDBTag("color") == "red")

``redis_url`` is a secret (``REDIS_URL`` by default): written as a secret node, never
shown in a repr, log line or error. ``rediss://`` connects with TLS. redis-py (the
``memorydb`` extra) is imported on first use; ``client=`` injects a client.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from runwire.providers.aws.client import env_secret
from runwire.providers.aws.memorydb_async import AsyncSearchMixin
from runwire.providers.aws.memorydb_client import ClientSlot, failure, redis_client
from runwire.providers.aws.memorydb_schema import (
    DEFAULT_VECTOR_SCHEMA,
    IndexSchema,
    generate_field_schema,
    prepare_metadata,
    read_schema,
)
from runwire.providers.aws.memorydb_search import (
    RELEVANCE,
    decode_vector,
    encode_vector,
    maximal_marginal_relevance,
    parse_search_reply,
    search_args,
)
from runwire.schema.documents import Document
from runwire.schema.serializable import Serializable
from runwire.schema.trust import current_trust

if TYPE_CHECKING:
    from runwire.providers.aws.memorydb_retriever import InMemoryVectorStoreRetriever

__all__ = ["InMemoryVectorStore"]

logger = logging.getLogger(__name__)


class InMemoryVectorStore(AsyncSearchMixin, Serializable):
    """Documents and their vectors in a MemoryDB index (see the module docstring)."""

    lc_secret_ids: ClassVar[dict[str, str]] = {"redis_url": "REDIS_URL"}
    DEFAULT_VECTOR_SCHEMA: ClassVar[dict[str, Any]] = DEFAULT_VECTOR_SCHEMA

    redis_url: SecretStr | None = Field(default_factory=env_secret("REDIS_URL"))
    """``redis://[user:password@]host:port`` or ``rediss://`` (TLS); a secret."""
    index_name: str
    """The search index's name."""
    embedding: Any
    """The embeddings model of documents and queries (any runwire ``Embeddings``)."""
    index_schema: dict[str, Any] | None = None
    """Fields to index (``text``/``tag``/``numeric``/``vector`` lists); in Python also a
    YAML file's path (read once, kept as the dict)."""
    vector_schema: dict[str, Any] | None = None
    """Overrides of the default vector field (``algorithm`` FLAT or HNSW, ``dims``,
    ``distance_metric`` COSINE/IP/L2, ``datatype``, HNSW's ``m``/``ef_*``)."""
    key_prefix: str | None = None
    """Prefix of the documents' keys (default ``doc:<index_name>``)."""
    relevance_score_fn: Callable[[float], float] | None = Field(default=None, exclude=True)
    """Distance -> relevance score (default: by the vector field's metric)."""
    client: Any = Field(default=None, exclude=True)
    """A redis-py client to use instead of one made from ``redis_url``."""

    _client: ClientSlot = PrivateAttr(default_factory=ClientSlot)
    _schema: IndexSchema = PrivateAttr()

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @field_validator("index_schema", mode="before")
    @classmethod
    def _read_schema_file(cls, value: Any) -> Any:
        if isinstance(value, str | os.PathLike):
            if not current_trust().trusted:
                raise ValueError(
                    "index_schema must be a mapping in a manifest (a file path is read only "
                    "from Python or a trusted file)"
                )
            return read_schema(value)
        return value

    @field_validator("embedding")
    @classmethod
    def _is_embeddings(cls, value: Any) -> Any:
        if not (hasattr(value, "embed_query") and hasattr(value, "embed_documents")):
            raise ValueError("embedding must be an embeddings model (embed_query/embed_documents)")
        return value

    @model_validator(mode="after")
    def _build_schema(self) -> Self:
        schema = IndexSchema()
        if self.index_schema:
            schema = IndexSchema(**read_schema(self.index_schema))
            schema.add_content_field()
        try:
            schema.content_vector  # noqa: B018 - raises when there is none
            if self.vector_schema:
                logger.warning(
                    "`vector_schema` is ignored since content_vector is overridden in "
                    "`index_schema`."
                )
        except ValueError:
            schema.add_vector_field({**DEFAULT_VECTOR_SCHEMA, **(self.vector_schema or {})})
        self._schema = schema
        return self

    # -- plumbing -------------------------------------------------------------------------
    @property
    def redis(self) -> Any:
        """The redis-py client (made on first use)."""
        if self.client is not None:
            return self.client
        if self._client.value is None:
            self._client.value = redis_client(self.redis_url)
        return self._client.value

    @property
    def prefix(self) -> str:
        """The key prefix in force."""
        return self.key_prefix if self.key_prefix is not None else f"doc:{self.index_name}"

    @property
    def embeddings(self) -> Any:
        """The embeddings model."""
        return self.embedding

    @property
    def schema(self) -> dict[str, list[dict[str, Any]]]:
        """The index schema in its dict form (give it to ``from_existing_index``)."""
        return self._schema.as_dict()

    def write_schema(self, path: str | os.PathLike[str]) -> None:
        """Write the schema to a YAML file."""
        from ruamel.yaml import YAML

        with open(path, "w", encoding="utf-8") as handle:
            YAML(typ="safe", pure=True).dump(self.schema, handle)

    def _call(self, operation: str, *args: Any) -> Any:
        import redis

        try:
            return self.redis.execute_command(*args)
        except redis.ResponseError as exc:
            if str(exc).split(" ")[0] == "Syntax":
                raise ValueError(
                    "Query failed with syntax error. This is likely due to malformation of "
                    f"filter, vector, or query argument: {exc}"
                ) from exc
            raise failure(operation, exc) from exc
        except redis.RedisError as exc:
            raise failure(operation, exc) from exc

    def index_exists(self) -> bool:
        """Whether the index exists on the server."""
        import redis

        try:
            self.redis.execute_command("FT.INFO", self.index_name)
        except redis.ResponseError:
            return False
        except redis.RedisError as exc:
            raise failure("FT.INFO", exc) from exc
        return True

    def _create_index_if_not_exist(self, dim: int = 1536) -> None:
        self._schema.content_vector.dims = dim
        if not self.index_exists():
            self._call(
                "FT.CREATE",
                "FT.CREATE",
                self.index_name,
                "ON",
                "HASH",
                "PREFIX",
                1,
                self.prefix,
                "SCHEMA",
                *self._schema.create_args(),
            )

    # -- writing --------------------------------------------------------------------------
    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        embeddings: list[list[float]] | None = None,
        batch_size: int = 1000,
        clean_metadata: bool = True,
        **kwargs: Any,
    ) -> list[str]:
        """Store texts (with metadata, and vectors when given); their keys.

        ``keys`` or ``ids`` name the documents (prefixed with ``key_prefix:`` unless they
        are already); otherwise random hex ids are used.
        """
        texts = list(texts)
        ids = kwargs.get("keys", kwargs.get("ids"))
        if metadatas:
            if len(metadatas) != len(texts):
                raise ValueError("Number of metadatas must match number of texts")
            if not isinstance(metadatas[0], dict):
                raise ValueError("Metadatas must be a list of dicts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError("Number of ids must match number of texts")
        if not texts:
            return []
        vectors = embeddings or self.embedding.embed_documents(texts)
        self._create_index_if_not_exist(dim=len(vectors[0]))
        code = self._schema.vector_format
        content, vector_key = self._schema.content_key, self._schema.content_vector_key
        keys: list[str] = []
        pipe = self.redis.pipeline(transaction=False)
        for i, text in enumerate(texts):
            key = ids[i] if ids else uuid.uuid4().hex
            if not key.startswith(self.prefix + ":"):
                key = f"{self.prefix}:{key}"
            metadata = metadatas[i] if metadatas else {}
            metadata = prepare_metadata(metadata) if clean_metadata else metadata
            mapping = {content: text, vector_key: encode_vector(vectors[i], code), **metadata}
            pipe.hset(key, mapping=mapping)
            keys.append(key)
            if len(pipe) >= batch_size:
                self._run_pipeline(pipe)
        self._run_pipeline(pipe)
        return keys

    def _run_pipeline(self, pipe: Any) -> None:
        import redis

        if not len(pipe):
            return
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise failure("HSET", exc) from exc

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Store documents (their ``id`` used as key when set and no ``ids`` are given)."""
        if "ids" not in kwargs and "keys" not in kwargs and any(d.id for d in documents):
            kwargs["ids"] = [d.id or uuid.uuid4().hex for d in documents]
        texts = [d.page_content for d in documents]
        return self.add_texts(texts, [dict(d.metadata) for d in documents], **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete documents by key; True when the command ran."""
        if ids is None:
            raise ValueError("'ids' (keys)() were not provided.")
        if ids:
            self._call("DEL", "DEL", *ids)
        return True

    def drop_index(self, delete_documents: bool = False) -> bool:
        """Drop the index (and with ``delete_documents`` its hashes); whether it existed."""
        import redis

        args = ["FT.DROPINDEX", self.index_name] + (["DD"] if delete_documents else [])
        try:
            self.redis.execute_command(*args)
        except redis.ResponseError:
            return False
        except redis.RedisError as exc:
            raise failure("FT.DROPINDEX", exc) from exc
        return True

    # -- searching ------------------------------------------------------------------------
    def _search(
        self,
        vector: list[float],
        k: int,
        filter: Any,
        with_metadata: bool,
        with_distance: bool,
        distance_threshold: float | None,
    ) -> list[tuple[Document, float | None]]:
        fields = [self._schema.content_key]
        if with_distance or distance_threshold is not None:
            fields.append("distance")
        if with_metadata:
            fields += self._schema.metadata_keys
        filter_text = str(filter) if filter is not None else None
        args, ranged = search_args(
            self.index_name,
            self._schema.content_vector_key,
            k,
            filter_text,
            fields,
            distance_threshold,
        )
        params: list[Any] = ["vector", encode_vector(vector, self._schema.vector_format)]
        if ranged:
            params += ["distance_threshold", distance_threshold]
        reply = self._call("FT.SEARCH", "FT.SEARCH", *args, "PARAMS", len(params), *params)
        out: list[tuple[Document, float | None]] = []
        for key, values in parse_search_reply(reply):
            metadata: dict[str, Any] = {}
            if with_metadata:
                metadata = {"id": key}
                metadata.update({m: values.get(m) for m in self._schema.metadata_keys})
            distance = values.get("distance")
            score = None if distance is None else self._round(float(distance))
            content = values.get(self._schema.content_key, "")
            out.append((Document(page_content=content, metadata=metadata), score))
        return out

    def _round(self, distance: float) -> float:
        return round(distance, 4 if self._schema.content_vector.datatype == "FLOAT32" else 7)

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: Any = None,
        return_metadata: bool = True,
        distance_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest to a vector (within ``distance_threshold`` if given)."""
        found = self._search(embedding, k, filter, return_metadata, False, distance_threshold)
        return [doc for doc, _ in found]

    def similarity_search(
        self,
        query: str,
        k: int = 4,
        filter: Any = None,
        return_metadata: bool = True,
        distance_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents nearest to ``query``'s embedding."""
        vector = self.embedding.embed_query(query)
        return self.similarity_search_by_vector(
            vector, k, filter, return_metadata, distance_threshold
        )

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        filter: Any = None,
        return_metadata: bool = True,
        distance_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """The nearest documents with their vector distance (smaller is closer)."""
        vector = self.embedding.embed_query(query)
        found = self._search(vector, k, filter, return_metadata, True, distance_threshold)
        return [(doc, score if score is not None else 0.0) for doc, score in found]

    def similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, score_threshold: float | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The nearest documents with relevance scores in [0, 1] (larger is closer),
        those under ``score_threshold`` left out."""
        metric = self._schema.content_vector.distance_metric
        relevance = self.relevance_score_fn or RELEVANCE[metric]
        scored = [
            (doc, relevance(distance))
            for doc, distance in self.similarity_search_with_score(query, k, **kwargs)
        ]
        if score_threshold is not None:
            scored = [(doc, s) for doc, s in scored if s >= score_threshold]
        return scored

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Any = None,
        return_metadata: bool = True,
        distance_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` of the ``fetch_k`` nearest documents, chosen for relevance and diversity."""
        vector = self.embedding.embed_query(query)
        docs = self.similarity_search_by_vector(vector, fetch_k, filter, True, distance_threshold)
        code = self._schema.vector_format
        pipe = self.redis.pipeline(transaction=False)
        for doc in docs:
            pipe.hget(doc.metadata["id"], self._schema.content_vector_key)
        blobs = pipe.execute() if docs else []
        vectors = [decode_vector(blob, code) if blob else [] for blob in blobs]
        chosen = maximal_marginal_relevance(vector, vectors, lambda_mult=lambda_mult, k=k)
        selected = [docs[i] for i in chosen]
        if not return_metadata:
            selected = [Document(page_content=d.page_content) for d in selected]
        return selected

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def from_texts_return_keys(
        cls,
        texts: list[str],
        embedding: Any,
        metadatas: list[dict[str, Any]] | None = None,
        index_name: str | None = None,
        index_schema: dict[str, Any] | str | os.PathLike[str] | None = None,
        vector_schema: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[InMemoryVectorStore, list[str]]:
        """A store over a new (or existing) index holding ``texts``, and their keys.

        Without ``index_schema``, the fields are generated from the first metadata dict.
        """
        keys = kwargs.pop("keys", None) or kwargs.pop("ids", None)
        kwargs.pop("generate", None)
        if metadatas:
            if len(metadatas) != len(texts):
                raise ValueError("Number of metadatas must match number of texts")
            if not isinstance(metadatas[0], dict):
                raise ValueError("Metadatas must be a list of dicts")
            generated = generate_field_schema(metadatas[0])
            if index_schema is None:
                index_schema = generated
            elif read_schema(index_schema) != generated:
                logger.warning(
                    "`index_schema` does not match generated metadata schema. If you meant "
                    "to manually override the schema, please ignore this message."
                )
        redis_url = kwargs.pop("redis_url", None)
        if redis_url is not None:
            kwargs["redis_url"] = (
                redis_url if isinstance(redis_url, SecretStr) else SecretStr(redis_url)
            )
        store = cls(
            index_name=index_name or uuid.uuid4().hex,
            embedding=embedding,
            index_schema=index_schema,  # type: ignore[arg-type]
            vector_schema=vector_schema,
            **kwargs,
        )
        return store, store.add_texts(texts, metadatas, keys=keys)

    @classmethod
    def from_texts(
        cls, texts: list[str], embedding: Any, metadatas: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> InMemoryVectorStore:  # fmt: skip
        """A store over a new (or existing) index holding ``texts``."""
        return cls.from_texts_return_keys(texts, embedding, metadatas, **kwargs)[0]

    @classmethod
    def from_documents(
        cls, documents: list[Document], embedding: Any, **kwargs: Any
    ) -> InMemoryVectorStore:
        """A store holding ``documents``."""
        texts = [d.page_content for d in documents]
        metadatas = [dict(d.metadata) for d in documents]
        return cls.from_texts(texts, embedding, metadatas, **kwargs)

    @classmethod
    def from_existing_index(
        cls,
        embedding: Any,
        index_name: str,
        schema: dict[str, Any] | str | os.PathLike[str],
        key_prefix: str | None = None,
        **kwargs: Any,
    ) -> InMemoryVectorStore:
        """A store over an index that exists (a ValueError when it does not)."""
        redis_url = kwargs.pop("redis_url", None)
        if redis_url is not None and not isinstance(redis_url, SecretStr):
            redis_url = SecretStr(redis_url)
        if redis_url is not None:
            kwargs["redis_url"] = redis_url
        store = cls(
            index_name=index_name,
            embedding=embedding,
            index_schema=schema,  # type: ignore[arg-type]
            key_prefix=key_prefix,
            **kwargs,
        )
        if not store.index_exists():
            raise ValueError(
                f"InMemoryVectorStore failed to connect: Index {index_name} does not exist."
            )
        return store

    def as_retriever(self, **kwargs: Any) -> InMemoryVectorStoreRetriever:
        """A runwire retriever over this store (``search_type``, ``search_kwargs``, ``tags``)."""
        from runwire.providers.aws.memorydb_retriever import InMemoryVectorStoreRetriever

        tags = [*(kwargs.pop("tags", None) or []), type(self).__name__]
        tags.append(type(self.embedding).__name__)
        return InMemoryVectorStoreRetriever(vectorstore=self, tags=tags, **kwargs)
