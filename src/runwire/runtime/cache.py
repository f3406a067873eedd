"""Model caches: LangChain's ``BaseCache`` contract and an exact-match in-memory cache.

A cache maps ``(prompt, llm_string)`` to the generations a model returned: for chat
models the prompt is the lc JSON of the messages (ids removed) and the llm_string the
model's own lc JSON (secrets as secret nodes, never values) plus the call's sorted
arguments, as LangChain builds them. A model's ``cache`` field picks one:

- a cache object (``InMemoryCache``, ``SQLiteCache``, ``InMemorySemanticCache``);
- ``None`` (the default): the process-wide cache of :func:`set_llm_cache`, if any;
- ``True``: the process-wide cache, an error when none is set; ``False``: no cache.

Stored values are written in lc JSON and read back through runwire's safe loader
(never pickle). A cache that fails is logged and skipped: the model is called.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from pydantic import Field, PrivateAttr

from runwire.runtime.base import run_in_executor
from runwire.schema.outputs import Generation
from runwire.schema.serializable import Serializable

__all__ = [
    "BaseCache",
    "InMemoryCache",
    "cache_observer",
    "cache_stats",
    "dump_generations",
    "get_llm_cache",
    "load_generations",
    "observe_cache",
    "resolve_cache",
    "set_llm_cache",
]

logger = logging.getLogger("runwire.cache")

ReturnValue = Sequence[Generation]
MAX_CACHED_BYTES = 8 * 1024 * 1024
"""A stored value longer than this is not read back (treated as a miss)."""


class BaseCache(ABC):
    """Looks up and stores a model's generations by prompt and model description."""

    @property
    def hits(self) -> int:
        """Lookups of model calls that found an answer."""
        return cache_stats(self)["hits"]

    @property
    def misses(self) -> int:
        """Lookups of model calls that found none (or failed)."""
        return cache_stats(self)["misses"]

    @abstractmethod
    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        """The generations stored for ``(prompt, llm_string)``, or None."""

    @abstractmethod
    def update(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        """Store ``return_val`` for ``(prompt, llm_string)``."""

    @abstractmethod
    def clear(self, **kwargs: Any) -> None:
        """Forget stored values."""

    async def alookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        """Async ``lookup`` (the sync one in a thread unless overridden)."""
        return await run_in_executor(None, partial(self.lookup, prompt, llm_string))

    async def aupdate(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        """Async ``update``."""
        await run_in_executor(None, partial(self.update, prompt, llm_string, return_val))

    async def aclear(self, **kwargs: Any) -> None:
        """Async ``clear``."""
        await run_in_executor(None, partial(self.clear, **kwargs))


def observe_cache(cache: object, observer: Callable[[str], None] | None) -> None:
    """Call ``observer`` with ``"hit"``, ``"miss"`` or ``"error"`` after each lookup of
    ``cache`` (one observer per cache; None removes it). The server counts lookups this
    way in ``/metrics``."""
    object.__setattr__(cache, "_observer", observer)


def cache_observer(cache: object) -> Callable[[str], None] | None:
    """The observer :func:`observe_cache` gave ``cache``, if any."""
    return getattr(cache, "_observer", None)


def new_stats() -> dict[str, int]:
    """Fresh hit/miss counters (a cache's ``_stats``)."""
    return {"hits": 0, "misses": 0}


def cache_stats(cache: object) -> dict[str, int]:
    """The hit/miss counters of ``cache`` (made on first use)."""
    stats = getattr(cache, "_stats", None)
    if stats is None:
        stats = new_stats()
        object.__setattr__(cache, "_stats", stats)
    return stats


def dump_generations(generations: ReturnValue) -> str:
    """Generations as one lc JSON array (the form every runwire cache stores)."""
    from runwire.schema.dump import dumps

    return dumps(list(generations))


def load_generations(text: str | bytes) -> list[Generation] | None:
    """Stored generations read back through the safe loader; None (a miss) when the text
    is too long, not lc JSON, or not a list of generations."""
    if len(text) > MAX_CACHED_BYTES:
        logger.warning("cached value of %d bytes ignored (limit %d)", len(text), MAX_CACHED_BYTES)
        return None
    from runwire.loader.wire import loads

    try:
        value = loads(text)
    except Exception as exc:  # a corrupt or foreign entry is a miss, never a crash
        logger.warning("unreadable cached value ignored: %s", type(exc).__name__)
        return None
    if not isinstance(value, list) or not all(isinstance(g, Generation) for g in value):
        logger.warning("cached value ignored: not a list of generations")
        return None
    return value


class InMemoryCache(Serializable, BaseCache):
    """Exact-match cache in this process (``maxsize`` entries at most, oldest evicted)."""

    maxsize: int | None = Field(default=None, gt=0)
    """The most entries kept (None: no limit)."""

    _entries: OrderedDict[tuple[str, str], str] = PrivateAttr(default_factory=OrderedDict)
    _stats: dict[str, int] = PrivateAttr(default_factory=new_stats)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "caches"]

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        stored = self._entries.get((prompt, llm_string))
        return None if stored is None else load_generations(stored)

    def update(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        key = (prompt, llm_string)
        self._entries.pop(key, None)
        self._entries[key] = dump_generations(return_val)
        if self.maxsize is not None:
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self, **kwargs: Any) -> None:
        self._entries.clear()

    async def alookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        return self.lookup(prompt, llm_string)

    async def aupdate(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        self.update(prompt, llm_string, return_val)

    async def aclear(self, **kwargs: Any) -> None:
        self.clear()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.maxsize == self.maxsize  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


_GLOBAL: list[BaseCache | None] = [None]


def set_llm_cache(cache: BaseCache | None) -> None:
    """Set the process-wide cache models with ``cache=None`` (or ``True``) use."""
    _GLOBAL[0] = cache


def get_llm_cache() -> BaseCache | None:
    """The process-wide cache, if one is set."""
    return _GLOBAL[0]


def resolve_cache(cache: Any) -> BaseCache | None:
    """The cache a model's ``cache`` field names (see the module docstring)."""
    if cache is None:
        return _GLOBAL[0]
    if cache is False:
        return None
    if cache is True:
        if _GLOBAL[0] is None:
            raise ValueError(
                "Asked to cache (cache=True), but no cache is set: call "
                "runwire.runtime.cache.set_llm_cache(...) or give the model a cache object"
            )
        return _GLOBAL[0]
    if isinstance(cache, BaseCache):
        return cache
    raise ValueError(f"Unsupported cache value {type(cache).__name__}")
