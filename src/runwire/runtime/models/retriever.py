"""Retrievers: ``BaseRetriever`` turns a query string into a list of ``Document``s.

A subclass implements ``_get_relevant_documents(query, **kwargs)`` and optionally
``_aget_relevant_documents``. Call keyword arguments reach it only when its signature
takes more than the query (as in LangChain). Each call is one ``retriever`` run for the
callbacks, with inputs ``{"query": query}`` and the documents as output.
"""

from __future__ import annotations

import inspect
from abc import abstractmethod
from functools import partial
from typing import Any

from runwire.runtime.base import run_in_executor
from runwire.runtime.config import RunnableConfig, ensure_config
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.documents import Document

__all__ = ["BaseRetriever"]

_TAKES_KWARGS: dict[tuple[type, str], bool] = {}


def _takes_kwargs(cls: type, method: str) -> bool:
    """Whether ``cls.method`` accepts arguments besides the query (cached per class)."""
    key = (cls, method)
    known = _TAKES_KWARGS.get(key)
    if known is None:
        params = inspect.signature(getattr(cls, method)).parameters
        known = bool(set(params) - {"self", "query", "run_manager"})
        _TAKES_KWARGS[key] = known
    return known


class BaseRetriever(RunnableSerializable[str, list[Document]]):
    """Base of retrievers: a query in, relevant documents out."""

    run_type = "retriever"

    tags: list[str] | None = None
    """Tags added to this retriever's runs."""
    metadata: dict[str, Any] | None = None
    """Metadata added to this retriever's runs."""

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "retrievers"]

    @property
    def InputType(self) -> Any:
        return str

    @property
    def OutputType(self) -> Any:
        return list[Document]

    @abstractmethod
    def _get_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        """The documents relevant to ``query``."""

    async def _aget_relevant_documents(self, query: str, **kwargs: Any) -> list[Document]:
        """Async ``_get_relevant_documents``; by default the sync one in a thread."""
        return await run_in_executor(None, partial(self._get_relevant_documents, query, **kwargs))

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        if not (self.tags or self.metadata):
            return config or {}
        config = ensure_config(config)
        if self.tags:
            config["tags"] = [*config["tags"], *(t for t in self.tags if t not in config["tags"])]
        if self.metadata:
            config["metadata"] = {**config["metadata"], **self.metadata}
        return config

    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        extra = kwargs if kwargs and _takes_kwargs(type(self), "_get_relevant_documents") else {}

        def run(inputs: dict[str, Any], cfg: RunnableConfig) -> list[Document]:
            return self._get_relevant_documents(inputs["query"], **extra)

        return self._call_with_config(run, {"query": input}, self._config(config))

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        cls = type(self)
        native = cls._aget_relevant_documents is not BaseRetriever._aget_relevant_documents
        method = "_aget_relevant_documents" if native else "_get_relevant_documents"
        extra = kwargs if kwargs and _takes_kwargs(cls, method) else {}

        async def run(inputs: dict[str, Any], cfg: RunnableConfig) -> list[Document]:
            return await self._aget_relevant_documents(inputs["query"], **extra)

        return await self._acall_with_config(run, {"query": input}, self._config(config))
