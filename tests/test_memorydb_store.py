"""InMemoryVectorStore and its retriever through redis-py against the MemoryDB emulator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import runwire
from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.aws import (
    InMemoryDBNum,
    InMemoryDBTag,
    InMemoryDBText,
    InMemoryVectorStore,
    InMemoryVectorStoreRetriever,
)
from runwire.runtime.models.fakes import FakeEmbeddings
from runwire.schema.documents import Document
from runwire.testing.memorydb import MemoryDBEmulator

PASSWORD = "store-secret-pw"
TEXTS = ["red apples", "yellow bananas", "red cherries", "green pears"]
METAS = [
    {"color": ["red"], "price": 3, "origin": "spain"},
    {"color": ["yellow"], "price": 1, "origin": "ecuador"},
    {"color": ["red", "dark"], "price": 9, "origin": "chile"},
    {"color": ["green"], "price": 2, "origin": "spain"},
]


class AxisEmbeddings(FakeEmbeddings):
    """Texts on known axes, so nearest neighbours are predictable: a text's vector is
    the sum of the axes of the words it holds."""

    def _vector(self, text: str) -> list[float]:
        words = ("red", "yellow", "green", "apples", "bananas", "cherries", "pears", "fruit")
        vec = [1.0 if w in text.split() else 0.0 for w in words][: self.size]
        return vec if any(vec) else [0.01] * self.size


@pytest.fixture(scope="module")
def emu() -> Iterator[MemoryDBEmulator]:
    with MemoryDBEmulator(password=PASSWORD) as server:
        yield server


@pytest.fixture
def url(emu: MemoryDBEmulator) -> Iterator[str]:
    import redis

    yield emu.url
    client = redis.Redis.from_url(emu.url, protocol=2)
    for name in client.execute_command("FT._LIST"):
        client.execute_command("FT.DROPINDEX", name, "DD")
    client.flushall()


@pytest.fixture
def store(url: str) -> InMemoryVectorStore:
    return InMemoryVectorStore.from_texts(
        TEXTS,
        AxisEmbeddings(size=8),
        metadatas=METAS,
        index_name="fruit",
        redis_url=url,
        keys=["a", "b", "c", "d"],
    )


def test_add_and_search_with_keys_and_scores(store: InMemoryVectorStore) -> None:
    assert store.schema["tag"] == [
        {"name": "color", "separator": ",", "case_sensitive": False, "no_index": False,
         "sortable": False}
    ]  # fmt: skip
    assert store.schema["numeric"][0]["name"] == "price"
    found = store.similarity_search_with_score("red apples", k=2)
    assert [d.metadata["id"] for d, _ in found] == ["doc:fruit:a", "doc:fruit:c"]
    assert found[0][1] == 0.0 and 0 < found[1][1] < 1
    assert found[0][0].page_content == "red apples"
    assert found[0][0].metadata == {
        "id": "doc:fruit:a", "origin": "spain", "price": "3", "color": "red"
    }  # fmt: skip
    plain = store.similarity_search("red apples", k=1, return_metadata=False)
    assert plain == [Document(page_content="red apples")]
    by_vector = store.similarity_search_by_vector([0, 1, 0, 0, 1, 0, 0, 0], k=1)
    assert by_vector[0].page_content == "yellow bananas"


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (InMemoryDBTag("color") == "red", ["red apples", "red cherries"]),
        (InMemoryDBTag("color") != ["red", "green"], ["yellow bananas"]),
        (InMemoryDBNum("price") >= 3, ["red apples", "red cherries"]),
        ((InMemoryDBNum("price") < 3) & (InMemoryDBText("origin") == "spain"), ["green pears"]),
        ((InMemoryDBTag("color") == "yellow") | (InMemoryDBNum("price") > 5),
         ["yellow bananas", "red cherries"]),
        (InMemoryDBText("origin") % "ch*", ["red cherries"]),
        ("@price:[1 2]", ["yellow bananas", "green pears"]),
    ],
)  # fmt: skip
def test_filters(store: InMemoryVectorStore, flt: Any, expected: list[str]) -> None:
    found = store.similarity_search("red fruit", k=4, filter=flt)
    assert sorted(d.page_content for d in found) == sorted(expected)


def test_distance_threshold_relevance_and_mmr(store: InMemoryVectorStore) -> None:
    near = store.similarity_search("red apples", k=4, distance_threshold=0.6)
    assert [d.page_content for d in near] == ["red apples", "red cherries"]
    scored = store.similarity_search_with_relevance_scores("red apples", k=4, score_threshold=0.4)
    assert [d.page_content for d, _ in scored] == ["red apples", "red cherries"]
    assert scored[0][1] == pytest.approx(1.0)
    diverse = store.max_marginal_relevance_search("red", k=2, fetch_k=4, lambda_mult=0.1)
    assert diverse[0].page_content in ("red apples", "red cherries")
    assert diverse[1].page_content not in ("red apples", "red cherries")


def test_bad_filter_is_a_value_error(store: InMemoryVectorStore) -> None:
    with pytest.raises(ValueError, match="syntax error"):
        store.similarity_search("red", filter="@color:{red")
    with pytest.raises(ValueError, match="Invalid filter field name"):
        InMemoryDBTag("bad field}")
    with pytest.raises(ValueError, match="unsupported query syntax"):
        str(InMemoryDBText("origin") % "x) | @color:{red")


def test_documents_delete_and_existing_index(store: InMemoryVectorStore, url: str) -> None:
    keys = store.add_documents([Document("fruit salad", id="salad", metadata={"price": 5})])
    assert keys == ["doc:fruit:salad"]
    again = InMemoryVectorStore.from_existing_index(
        AxisEmbeddings(size=8), "fruit", schema=store.schema, redis_url=url
    )
    assert again.similarity_search("fruit", k=1)[0].page_content == "fruit salad"
    assert again.delete(keys) is True
    assert again.similarity_search("fruit", k=1)[0].page_content != "fruit salad"
    with pytest.raises(ValueError, match="Index nope does not exist"):
        InMemoryVectorStore.from_existing_index(
            AxisEmbeddings(size=8), "nope", schema=store.schema, redis_url=url
        )
    assert again.drop_index(delete_documents=True) and not again.index_exists()


def test_schema_yaml_round_trip(store: InMemoryVectorStore, tmp_path: Path, url: str) -> None:
    path = tmp_path / "schema.yaml"
    store.write_schema(path)
    loaded = InMemoryVectorStore(
        index_name="fruit", embedding=AxisEmbeddings(size=8), index_schema=str(path),
        redis_url=SecretStr(url),
    )  # fmt: skip
    assert loaded.schema == store.schema
    with pytest.raises(ValueError, match="a file path is read only"):
        runwire.load(
            {"lc": 1, "type": "constructor",
             "id": ["runwire", "providers", "aws", "InMemoryVectorStore"],
             "kwargs": {"index_name": "x", "index_schema": str(path),
                        "embedding": runwire.dumpd(FakeEmbeddings(size=2))}},
            allowed_objects="all",
        )  # fmt: skip


def test_hnsw_l2_and_vector_schema(url: str) -> None:
    store = InMemoryVectorStore.from_texts(
        TEXTS, AxisEmbeddings(size=8), index_name="l2", redis_url=url,
        vector_schema={"algorithm": "HNSW", "distance_metric": "L2", "m": 8},
    )  # fmt: skip
    found = store.similarity_search_with_score("yellow bananas", k=2)
    assert found[0][0].page_content == "yellow bananas" and found[0][1] == 0.0
    assert found[1][1] == pytest.approx(4.0)  # squared Euclidean: four axes differ
    assert store.schema["vector"][0]["algorithm"] == "HNSW"


def test_retriever_search_types(store: InMemoryVectorStore) -> None:
    retriever = store.as_retriever(search_kwargs={"k": 2})
    assert isinstance(retriever, InMemoryVectorStoreRetriever)
    assert retriever.tags == ["InMemoryVectorStore", "AxisEmbeddings"]
    assert [d.page_content for d in retriever.invoke("red apples")] == [
        "red apples", "red cherries"
    ]  # fmt: skip
    filtered = store.as_retriever(
        search_kwargs={"k": 4, "filter": InMemoryDBTag("color") == "green"}
    )
    assert filtered.search_kwargs["filter"] == "@color:{green}"
    assert [d.page_content for d in filtered.invoke("red")] == ["green pears"]
    scored = store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"k": 4, "score_threshold": 0.4}
    )
    assert len(asyncio.run(scored.ainvoke("red apples"))) == 2
    mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 4})
    assert len(mmr.invoke("red")) == 2
    needs = store.as_retriever(search_type="similarity_distance_threshold", search_kwargs={"k": 2})
    with pytest.raises(ValueError, match="distance_threshold must be provided"):
        needs.invoke("red")
    with pytest.raises(ValueError, match="unknown search_kwargs"):
        store.as_retriever(search_kwargs={"kk": 1})


def test_async_paths(store: InMemoryVectorStore) -> None:
    async def run() -> tuple[Any, ...]:
        added = await store.aadd_texts(["green apples"], [{"color": ["green"], "price": 4}])
        found = await store.asimilarity_search("green apples", k=1)
        scored = await store.asimilarity_search_with_score("green apples", k=1)
        mmr = await store.amax_marginal_relevance_search("green", k=1, fetch_k=2)
        return added, found, scored, mmr

    added, found, scored, mmr = asyncio.run(run())
    assert added[0].startswith("doc:fruit:") and found[0].page_content == "green apples"
    assert scored[0][1] == 0.0 and len(mmr) == 1


def test_retriever_serializes_with_the_url_as_a_secret(url: str) -> None:
    store = InMemoryVectorStore.from_texts(
        TEXTS, FakeEmbeddings(size=8), metadatas=METAS, index_name="ser", redis_url=url
    )
    retriever = store.as_retriever(search_kwargs={"k": 1, "filter": "@color:{red}"})
    text = runwire.dumps(retriever)
    assert PASSWORD not in text and "127.0.0.1" not in text
    assert '"redis_url":{"lc":1,"type":"secret","id":["REDIS_URL"]}' in text
    assert PASSWORD not in repr(retriever) and PASSWORD not in str(store)
    back = runwire.loads(text, secrets_map={"REDIS_URL": url}, allowed_objects="all")
    assert back == retriever
    assert back.invoke("red apples")[0].page_content == "red apples"


def test_connection_errors_never_show_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = InMemoryVectorStore(
        index_name="x",
        embedding=FakeEmbeddings(size=2),
        redis_url=SecretStr(f"redis://:{PASSWORD}@127.0.0.1:1"),
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        store.similarity_search("q")
    assert PASSWORD not in str(info.value) and PASSWORD not in caplog.text
    with pytest.raises(ProviderSetupError, match="no MemoryDB URL"):
        InMemoryVectorStore(index_name="x", embedding=FakeEmbeddings(size=2)).similarity_search("q")
    bad = InMemoryVectorStore(
        index_name="x", embedding=FakeEmbeddings(size=2), redis_url=SecretStr(f"http://{PASSWORD}")
    )
    with pytest.raises(ProviderSetupError) as setup:
        bad.similarity_search("q")
    assert PASSWORD not in str(setup.value)


def test_rediss_url_makes_a_tls_client() -> None:
    import redis

    store = InMemoryVectorStore(
        index_name="x",
        embedding=FakeEmbeddings(size=2),
        redis_url=SecretStr(f"rediss://default:{PASSWORD}@cluster.example:6379"),
    )
    pool = store.redis.connection_pool
    assert pool.connection_class is redis.SSLConnection
    assert pool.connection_kwargs["password"] == PASSWORD
