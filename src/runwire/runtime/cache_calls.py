"""How models use their ``cache`` field: the keys LangChain builds, and lookups and
updates that never break a call.

``CachedCall`` is made once per model call: it holds the resolved cache and the
``(prompt, llm_string)`` key. ``lookup`` returns stored generations or None, ``update``
stores the call's result; a cache that raises is logged (the error's type and message,
never the prompt) and treated as a miss. Hits and misses are counted on the cache
(``hits``/``misses``) and a hit is marked in the run's metadata (``cache_hit: True``),
so callbacks and ``astream_events`` see it.
"""

from __future__ import annotations

import logging
from typing import Any

from runwire.runtime.cache import BaseCache, cache_observer, cache_stats, resolve_cache
from runwire.schema.outputs import ChatGeneration, Generation

__all__ = ["CachedCall", "llm_string_of"]

logger = logging.getLogger("runwire.cache")


def llm_string_of(model: Any, stop: list[str] | None, kwargs: dict[str, Any]) -> str:
    """LangChain's llm_string: the model's lc JSON (sorted keys, without its cache) then
    ``---`` and the sorted call arguments with ``stop``."""
    import json

    from runwire.schema.dump import dumpd

    uncached = model.model_copy(update={"cache": None}) if model.cache is not None else model
    node = dumpd(uncached)
    params = {**kwargs, "stop": stop}
    return json.dumps(node, sort_keys=True) + "---" + str(sorted(params.items()))


def _chat_prompt(messages: list[Any]) -> str:
    from runwire.schema.dump import dumps

    plain = [m.model_copy(update={"id": None}) if getattr(m, "id", None) else m for m in messages]
    return dumps(plain)


class CachedCall:
    """The cache of one model call and its key (``cache`` None: nothing to do)."""

    __slots__ = ("cache", "llm_string", "prompt")

    def __init__(self, cache: BaseCache | None, prompt: str, llm_string: str) -> None:
        self.cache = cache
        self.prompt = prompt
        self.llm_string = llm_string

    @classmethod
    def for_chat(
        cls, model: Any, messages: list[Any], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> CachedCall | None:
        """The cached call of a chat model (None when no cache applies)."""
        cache = resolve_cache(getattr(model, "cache", None))
        if cache is None:
            return None
        return cls(cache, _chat_prompt(messages), llm_string_of(model, stop, kwargs))

    @classmethod
    def for_llm(
        cls, model: Any, prompt: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> CachedCall | None:
        """The cached call of a completion model (None when no cache applies)."""
        cache = resolve_cache(getattr(model, "cache", None))
        if cache is None:
            return None
        return cls(cache, prompt, llm_string_of(model, stop, kwargs))

    # -- lookups --------------------------------------------------------------------------
    def _count(self, found: list[Generation] | None) -> list[Generation] | None:
        stats = cache_stats(self.cache)
        stats["hits" if found else "misses"] += 1
        observer = cache_observer(self.cache)
        if observer is not None:
            observer("hit" if found else "miss")
        return found or None

    def _failed(self, action: str, exc: Exception) -> None:
        from runwire.redaction import redact

        observer = cache_observer(self.cache)
        if observer is not None and action == "lookup":
            observer("error")

        consequence = "calling the model" if action == "lookup" else "the answer is not stored"
        logger.warning(
            "model cache %s failed (%s: %s); %s",
            action,
            type(exc).__name__,
            redact(str(exc))[:300],
            consequence,
        )

    def lookup(self) -> list[Generation] | None:
        """Stored generations, or None (a miss, or a failing cache)."""
        try:
            found = self.cache.lookup(self.prompt, self.llm_string)  # type: ignore[union-attr]
        except Exception as exc:
            self._failed("lookup", exc)
            return None
        return self._count(found)

    async def alookup(self) -> list[Generation] | None:
        """Async ``lookup``."""
        try:
            found = await self.cache.alookup(self.prompt, self.llm_string)  # type: ignore[union-attr]
        except Exception as exc:
            self._failed("lookup", exc)
            return None
        return self._count(found)

    def update(self, generations: list[Generation]) -> None:
        """Store the call's result (a failing cache is logged)."""
        try:
            self.cache.update(self.prompt, self.llm_string, generations)  # type: ignore[union-attr]
        except Exception as exc:
            self._failed("update", exc)

    async def aupdate(self, generations: list[Generation]) -> None:
        """Async ``update``."""
        try:
            await self.cache.aupdate(self.prompt, self.llm_string, generations)  # type: ignore[union-attr]
        except Exception as exc:
            self._failed("update", exc)


def chat_hit(generations: list[Generation]) -> Any:
    """The message of a chat model's cache hit (plain generations become AIMessages)."""
    from runwire.schema.messages import AIMessage

    first = generations[0]
    if isinstance(first, ChatGeneration):
        return first.message
    return AIMessage(content=first.text)


def mark_hit(call: Any) -> None:
    """Mark a model call's run as answered from the cache."""
    run = getattr(call, "run", None)
    if run is not None:
        run.metadata = {**run.metadata, "cache_hit": True}
