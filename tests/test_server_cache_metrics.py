"""Model cache lookups in ``/metrics``: a real uvicorn server, a cached model, a failing
cache, counted per pipeline, cache class and result."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx

from runwire.deploy.server.app import create_app
from runwire.deploy.server.cache_metrics import find_caches
from runwire.runtime.cache import InMemoryCache
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate
from runwire.testing.server import serving


class BrokenCache(InMemoryCache):
    """A cache whose backend is down: every lookup raises."""

    def lookup(self, prompt: str, llm_string: str) -> Any:
        raise ConnectionError("cache backend unreachable")


def _chain(cache: Any) -> Any:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    return prompt | FakeChatModel(responses=["Paris."], cache=cache)


def _count(text: str, pipeline: str, cache: str, result: str) -> float:
    line = (
        f'runwire_model_cache_lookups_total{{cache="{cache}",pipeline="{pipeline}",'
        f'result="{result}"}} '
    )
    values = [float(row[len(line) :]) for row in text.splitlines() if row.startswith(line)]
    assert len(values) == 1, f"no {line!r} in /metrics"
    return values[0]


def test_hits_misses_and_errors_are_counted_per_pipeline() -> None:
    pipelines = {
        "cached": SimpleNamespace(runnable=_chain(InMemoryCache()), configurable=()),
        "broken": SimpleNamespace(runnable=_chain(BrokenCache()), configurable=()),
    }
    with serving(create_app(pipelines)) as url, httpx.Client(base_url=url) as client:
        for name in ("cached", "cached", "cached", "broken"):
            body = {"input": {"question": "Capital of France?"}}
            response = client.post(f"/{name}/invoke", json=body)
            assert response.status_code == 200 and response.json()["output"]["content"] == "Paris."
        text = client.get("/metrics").text
    assert _count(text, "cached", "InMemoryCache", "miss") == 1
    assert _count(text, "cached", "InMemoryCache", "hit") == 2
    assert _count(text, "cached", "InMemoryCache", "error") == 0
    assert _count(text, "broken", "BrokenCache", "error") == 1  # and the model answered


def test_find_caches_reaches_nested_models_once() -> None:
    shared = InMemoryCache()
    chain = _chain(shared) | _chain(shared).steps[-1] | _chain(InMemoryCache()).steps[-1]
    assert len(find_caches(chain)) == 2
    assert find_caches(_chain(None)) == []
