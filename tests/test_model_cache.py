"""The ``cache`` field of chat models and LLMs: exact-match caches and the MemoryDB
semantic cache, hits, misses, failures and serialization."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import PrivateAttr, SecretStr

import runwire
from runwire.providers.aws import InMemorySemanticCache
from runwire.runtime.cache import BaseCache, InMemoryCache, get_llm_cache, set_llm_cache
from runwire.runtime.cache_sqlite import SQLiteCache
from runwire.runtime.callbacks import Run
from runwire.runtime.models.fakes import FakeChatModel, FakeEmbeddings
from runwire.runtime.models.llm import BaseLLM
from runwire.schema.outputs import Generation
from runwire.testing.memorydb import MemoryDBEmulator


class CountingLLM(BaseLLM):
    """A completion model that numbers its answers (so a cached answer is recognisable)."""

    _calls: list[int] = PrivateAttr(default_factory=lambda: [0])

    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        self._calls[0] += 1
        return f"{prompt} #{self._calls[0]}"


class Broken(BaseCache):
    """A cache whose backend is down."""

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        raise ConnectionError("backend down")

    def update(self, prompt: str, llm_string: str, return_val: Any) -> None:
        raise ConnectionError("backend down")

    def clear(self, **kwargs: Any) -> None:
        raise ConnectionError("backend down")


class Recorder:
    def __init__(self) -> None:
        self.ended: list[Run] = []

    def on_end(self, run: Run) -> None:
        self.ended.append(run)


@pytest.fixture(autouse=True)
def _no_global_cache() -> Iterator[None]:
    yield
    set_llm_cache(None)


def chat(cache: Any) -> FakeChatModel:
    return FakeChatModel(responses=["one", "two", "three", "four"], cache=cache)


@pytest.mark.parametrize("make", [InMemoryCache, lambda: SQLiteCache(database_path=":memory:")])
def test_exact_caches_answer_repeated_prompts(make: Any) -> None:
    cache = make()
    model = chat(cache)
    assert model.invoke("hi").content == "one"
    assert model.invoke("hi").content == "one"
    assert model.invoke("other").content == "two"
    assert [m.content for m in model.batch(["hi", "new"])] == ["one", "three"]
    assert asyncio.run(model.ainvoke("new")).content == "three"
    assert (cache.hits, cache.misses) == (3, 3)
    assert model.invoke("hi", stop=["x"]).content == "four"  # other arguments: other key
    cache.clear()
    assert model.invoke("hi").content == "one"  # responses cycle: the model was called


def test_stream_follows_langchain() -> None:
    cache = InMemoryCache()
    streaming = chat(cache)
    streaming.invoke("hi")
    assert "".join(c.content for c in streaming.stream("hi")) == "two"  # streams: no cache
    whole = FakeChatModel(responses=["one", "two"], cache=cache, disable_streaming=True)
    whole.invoke("hi")
    assert [c.content for c in whole.stream("hi")] == ["one"]  # falls back to invoke


def test_global_cache_and_switches() -> None:
    with pytest.raises(ValueError, match="no cache is set"):
        chat(True).invoke("hi")
    shared = InMemoryCache()
    set_llm_cache(shared)
    assert get_llm_cache() is shared
    default, forced, off = chat(None), chat(True), chat(False)
    assert default.invoke("hi").content == "one"
    assert forced.invoke("hi").content == "one"  # the answer default stored
    assert off.invoke("hi").content == "one" and off.invoke("hi").content == "two"
    with pytest.raises(ValueError, match="cache must be a cache object"):
        FakeChatModel(cache="yes")


def test_hits_are_visible_to_callbacks() -> None:
    model = chat(InMemoryCache())
    recorder = Recorder()
    model.invoke("hi", {"callbacks": [recorder]})
    model.invoke("hi", {"callbacks": [recorder]})
    assert [r.metadata.get("cache_hit") for r in recorder.ended] == [None, True]


def test_llm_cache() -> None:
    llm = CountingLLM(cache=InMemoryCache())
    assert llm.invoke("q") == "q #1"
    assert llm.invoke("q") == "q #1"
    assert asyncio.run(llm.ainvoke("q")) == "q #1"
    assert llm.invoke("r") == "r #2"
    assert list(llm.stream("q")) == ["q #1"]  # no _stream: invoke, cached


def test_a_failing_cache_is_logged_and_the_model_called(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "runwire.cache")
    model = chat(Broken())
    assert model.invoke("hi").content == "one"
    assert model.invoke("hi").content == "two"
    assert asyncio.run(model.ainvoke("hi")).content == "three"
    assert "lookup failed (ConnectionError: backend down); calling the model" in caplog.text
    assert "update failed" in caplog.text
    assert CountingLLM(cache=Broken()).invoke("q") == "q #1"


def test_sqlite_cache_persists_and_reads_safely(tmp_path: Path) -> None:
    path = tmp_path / "answers.db"
    first = chat(SQLiteCache(database_path=str(path)))
    assert first.invoke("hi").content == "one"
    second = chat(SQLiteCache(database_path=str(path)))
    assert second.invoke("hi").content == "one"
    with sqlite3.connect(path) as db:  # a row that is not lc JSON is a miss, not a crash
        db.execute("UPDATE full_llm_cache SET response = ?", ('{"lc": 1, "type": "nope"}',))
    assert chat(SQLiteCache(database_path=str(path))).invoke("hi").content == "one"
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT response FROM full_llm_cache").fetchall()
    assert '"ChatGeneration"' in stored[0][0]


def test_untrusted_files_may_not_place_the_database_anywhere() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "caches", "SQLiteCache"],
        "kwargs": {"database_path": "/etc/cache.db"},
    }
    with pytest.raises(runwire.errors.ManifestError, match="relative database_path"):
        runwire.load(node, allowed_objects="all")
    node["kwargs"]["database_path"] = "../outside.db"
    with pytest.raises(runwire.errors.ManifestError, match="relative database_path"):
        runwire.load(node, allowed_objects="all")
    node["kwargs"]["database_path"] = "cache/answers.db"
    assert runwire.load(node, allowed_objects="all").database_path == "cache/answers.db"


def test_cached_model_round_trips() -> None:
    model = FakeChatModel(responses=["x"], cache=InMemoryCache(maxsize=3))
    text = runwire.dumps(model)
    assert '"cache":{"lc":1,"type":"constructor","id":["runwire","caches","InMemoryCache"]' in text
    back = runwire.loads(text, allowed_objects="all")
    assert back == model and back.invoke("a").content == "x"
    assert "cache" not in runwire.dumpd(FakeChatModel())["kwargs"]


# -- the MemoryDB semantic cache ------------------------------------------------------------
PASSWORD = "semantic-pw"


@pytest.fixture
def emu() -> Iterator[MemoryDBEmulator]:
    with MemoryDBEmulator(password=PASSWORD) as server:
        yield server


def semantic(url: str, threshold: float = 0.2) -> InMemorySemanticCache:
    return InMemorySemanticCache(
        redis_url=SecretStr(url), embedding=FakeEmbeddings(size=16), score_threshold=threshold
    )


def test_semantic_cache_hits_and_clears(emu: MemoryDBEmulator) -> None:
    cache = semantic(emu.url)
    model = chat(cache)
    assert model.invoke("hi").content == "one"
    assert model.invoke("hi").content == "one"
    assert asyncio.run(model.ainvoke("hi")).content == "one"
    assert model.invoke("bye").content == "two"
    assert (cache.hits, cache.misses) == (2, 2)
    other_model = FakeChatModel(responses=["other"], cache=cache)  # another llm_string
    assert other_model.invoke("hi").content == "other"
    llm_string = cache._stores and next(iter(cache._stores))
    assert llm_string and llm_string.startswith("cache:")
    cache.clear()
    assert emu.store.search.indexes == {}
    assert model.invoke("hi").content == "three"


def test_semantic_cache_api(emu: MemoryDBEmulator) -> None:
    cache = semantic(emu.url, threshold=0.0)
    assert cache.lookup("p", "llm") is None
    cache.update("p", "llm", [Generation(text="answer")])
    assert cache.lookup("p", "llm") == [Generation(text="answer")]
    assert cache.lookup("another prompt entirely", "llm") is None
    assert asyncio.run(cache.alookup("p", "llm")) == [Generation(text="answer")]
    asyncio.run(cache.aupdate("q", "llm", [Generation(text="second")]))
    assert cache.lookup("q", "llm") == [Generation(text="second")]
    with pytest.raises(ValueError, match="only supports caching of normal LLM generations"):
        cache.update("p", "llm", ["text"])  # type: ignore[list-item]
    asyncio.run(cache.aclear(llm_string="llm"))
    assert cache.lookup("p", "llm") is None
    cache.update("p", "llm", [Generation(text="again")])
    assert cache.lookup("p", "llm") == [Generation(text="again")]
    other = redis.Redis.from_url(emu.url)
    for name in other.execute_command("FT._LIST"):  # another client drops the index
        other.execute_command("FT.DROPINDEX", name)
    assert cache.lookup("p", "llm") is None  # a miss, not an error


def test_semantic_cache_down_calls_the_model(
    emu: MemoryDBEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    cache = semantic(emu.url)
    model = chat(cache)
    model.invoke("hi")
    emu.stop()
    caplog.set_level(logging.DEBUG)
    assert model.invoke("hi").content == "two"
    assert "lookup failed" in caplog.text and PASSWORD not in caplog.text


def test_semantic_cache_serializes_without_its_url(emu: MemoryDBEmulator) -> None:
    model = chat(semantic(emu.url))
    text = runwire.dumps(model)
    assert PASSWORD not in text and PASSWORD not in repr(model)
    assert '"redis_url":{"lc":1,"type":"secret","id":["REDIS_URL"]}' in text
    back = runwire.loads(text, allowed_objects="all", secrets_map={"REDIS_URL": emu.url})
    assert back == model
    assert back.invoke("hi").content == "one"
