"""``InMemorySemanticCache``: model answers found by meaning in Amazon MemoryDB.

One index per model description (``cache:<md5 of llm_string>``) holds each prompt's
embedding with the answer (``return_val``, lc JSON read back through the safe loader).
A lookup is a vector-range search: the stored answers of prompts within
``score_threshold`` (a vector distance: 0 is the same prompt) are a hit, nearest
first. langchain-aws searches within a fixed 0.1 whatever ``score_threshold`` says;
here ``score_threshold`` is the distance used. Give the cache to a model::

    chat = ChatBedrockConverse(model=..., cache=InMemorySemanticCache(
        embedding=BedrockEmbeddings(...), score_threshold=0.2))   # redis_url: REDIS_URL
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, SecretStr, field_validator

from runwire.errors import ProviderError
from runwire.providers.aws.client import env_secret
from runwire.providers.aws.memorydb import InMemoryVectorStore
from runwire.providers.aws.memorydb_client import redis_client
from runwire.runtime.cache import (
    BaseCache,
    ReturnValue,
    dump_generations,
    load_generations,
    new_stats,
)
from runwire.schema.outputs import Generation
from runwire.schema.serializable import Serializable

__all__ = ["InMemorySemanticCache"]

DEFAULT_SCHEMA: dict[str, Any] = {
    "content_key": "prompt",
    "text": [{"name": "prompt"}, {"name": "return_val"}, {"name": "llm_string"}],
}
"""The index schema of every cache index (langchain-aws's)."""
INDEX_PREFIX = "cache:"


def _index_name(llm_string: str) -> str:
    digest = hashlib.md5(llm_string.encode(), usedforsecurity=False).hexdigest()
    return f"{INDEX_PREFIX}{digest}"


class InMemorySemanticCache(Serializable, BaseCache):
    """A semantic model cache on MemoryDB (see the module docstring)."""

    lc_secret_ids: ClassVar[dict[str, str]] = {"redis_url": "REDIS_URL"}

    redis_url: SecretStr | None = Field(default_factory=env_secret("REDIS_URL"))
    """``redis://`` or ``rediss://`` URL of the cluster; a secret (``REDIS_URL``)."""
    embedding: Any
    """The embeddings model of prompts."""
    score_threshold: float = Field(default=0.2, ge=0)
    """Largest vector distance between a prompt and a stored one that is a hit."""
    client: Any = Field(default=None, exclude=True)
    """A redis-py client to use instead of one made from ``redis_url``."""

    _stores: dict[str, InMemoryVectorStore] = PrivateAttr(default_factory=dict)
    _known: set[str] = PrivateAttr(default_factory=set)
    """Indexes seen to exist (checked once, not on every lookup)."""
    _redis: list[Any] = PrivateAttr(default_factory=list)
    _stats: dict[str, int] = PrivateAttr(default_factory=new_stats)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @field_validator("embedding")
    @classmethod
    def _is_embeddings(cls, value: Any) -> Any:
        if not (hasattr(value, "embed_query") and hasattr(value, "embed_documents")):
            raise ValueError("embedding must be an embeddings model (embed_query/embed_documents)")
        return value

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        mine = (self.redis_url, self.embedding, self.score_threshold)
        return mine == (other.redis_url, other.embedding, other.score_threshold)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def _client(self) -> Any:
        if self.client is not None:
            return self.client
        if not self._redis:
            self._redis.append(redis_client(self.redis_url))
        return self._redis[0]

    def _store(self, llm_string: str) -> InMemoryVectorStore:
        name = _index_name(llm_string)
        store = self._stores.get(name)
        if store is None:
            store = InMemoryVectorStore(
                index_name=name,
                embedding=self.embedding,
                index_schema=DEFAULT_SCHEMA,
                redis_url=self.redis_url,
                client=self._client(),
            )
            self._stores[name] = store
        return store

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        """The answers stored for prompts near ``prompt`` (None: a miss)."""
        store = self._store(llm_string)
        if store.index_name not in self._known:
            if not store.index_exists():
                return None
            self._known.add(store.index_name)
        try:
            found = store.similarity_search(prompt, k=4, distance_threshold=self.score_threshold)
        except ProviderError as exc:
            if "no such index" not in exc.message:
                raise
            self._known.discard(store.index_name)  # dropped meanwhile: a miss
            return None
        generations: list[Generation] = []
        for doc in found:
            loaded = load_generations(doc.metadata.get("return_val") or "")
            if loaded:
                generations += loaded
        return generations or None

    def update(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        """Store ``return_val`` as the answer to ``prompt``."""
        for generation in return_val:
            if not isinstance(generation, Generation):
                raise ValueError(
                    "InMemorySemanticCache only supports caching of normal LLM generations, "
                    f"got {type(generation)}"
                )
        metadata = {
            "llm_string": llm_string,
            "prompt": prompt,
            "return_val": dump_generations(return_val),
        }
        self._store(llm_string).add_texts([prompt], [metadata])

    def clear(self, **kwargs: Any) -> None:
        """Drop the index of ``llm_string=...`` with its entries (without it: every
        index of this cache)."""
        llm_string = kwargs.get("llm_string")
        if llm_string is not None:
            names = [_index_name(llm_string)]
        else:
            listed = self._client().execute_command("FT._LIST")
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in listed]
            names = [n for n in names if n.startswith(INDEX_PREFIX)]
        for name in names:
            self._stores.pop(name, None)
            self._known.discard(name)
            self._store_named(name).drop_index(delete_documents=True)

    def _store_named(self, name: str) -> InMemoryVectorStore:
        return InMemoryVectorStore(
            index_name=name,
            embedding=self.embedding,
            index_schema=DEFAULT_SCHEMA,
            redis_url=self.redis_url,
            client=self._client(),
        )
