"""Model cache lookups in ``/metrics``: hits, misses and errors per pipeline and cache.

At startup the server finds the caches its pipelines' models name (their ``cache``
field) and gives each an observer (:func:`runwire.runtime.cache.observe_cache`) that
counts its lookups in ``runwire_model_cache_lookups_total{pipeline, cache, result}``,
``result`` being ``hit``, ``miss`` or ``error`` (the cache failed and the model was
called). A Counter, so the multiprocess mode sums workers as for the other metrics.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from runwire.runtime.cache import BaseCache, observe_cache

__all__ = ["find_caches", "watch_caches"]

_MAX_NODES = 100_000
"""Objects visited per pipeline at most (a manifest is bounded; this bounds the walk)."""


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        yield from value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from value
    elif type(value).__module__.startswith("runwire."):
        yield from getattr(value, "__dict__", {}).values()
        extra = getattr(value, "__pydantic_extra__", None)
        if extra:
            yield from extra.values()


def find_caches(runnable: Any) -> list[BaseCache]:
    """The distinct caches named by ``cache`` fields anywhere under ``runnable``."""
    found: dict[int, BaseCache] = {}
    seen: set[int] = set()
    stack = [runnable]
    while stack and len(seen) < _MAX_NODES:
        value = stack.pop()
        if id(value) in seen or isinstance(value, (str, bytes, int, float, bool)):
            continue
        seen.add(id(value))
        fields = getattr(type(value), "model_fields", None)
        cache = value.__dict__.get("cache") if fields and "cache" in fields else None
        if isinstance(cache, BaseCache):
            found.setdefault(id(cache), cache)
        stack.extend(_children(value))
    return list(found.values())


def watch_caches(registry: CollectorRegistry, runnables: Mapping[str, Any]) -> Counter:
    """Count the lookups of every cache of ``runnables`` (pipeline name -> runnable)."""
    lookups = Counter(
        "runwire_model_cache_lookups",
        "Model cache lookups, by pipeline, cache class and result (hit, miss, error).",
        ("pipeline", "cache", "result"),
        registry=registry,
    )
    for name, runnable in runnables.items():
        for cache in find_caches(runnable):
            children = {
                result: lookups.labels(name, type(cache).__name__, result)
                for result in ("hit", "miss", "error")
            }
            observe_cache(cache, lambda result, children=children: children[result].inc())
    return lookups
