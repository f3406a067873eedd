"""MemoryDB: InMemoryVectorStore against raw redis-py commands, and a semantic-cache hit
against the model call it replaces, all on runwire's emulators in one process.

Run: ``.venv/bin/python benchmarks/bench_memorydb.py [--docs 10000] [--queries 1000]``.

- adds: ``--docs`` documents (text, 3 metadata fields, a ``--dims`` vector computed
  beforehand) through ``InMemoryVectorStore.add_texts`` vs a redis-py pipeline of the
  same ``HSET`` commands (and ``FT.CREATE``), each into its own index;
- queries: ``--queries`` KNN searches (k=4, with a tag pre-filter) through
  ``similarity_search_by_vector`` vs ``execute_command("FT.SEARCH", ...)`` with the
  same arguments (the reply left unparsed);
- cache: a ChatBedrockConverse call on the Bedrock emulator vs the same prompt answered
  by ``InMemorySemanticCache`` (its embedding from the Bedrock emulator, a vector-range
  search on the MemoryDB emulator, the answer read back through the safe loader).

Issue 20 asks for at least 0.9x raw throughput and a cache hit at least 20x faster than
the model call. For the second, the Bedrock emulator simulates latency
(``simulate_latency=True``): a chat call takes ``--model-latency`` seconds (default 1.0 s:
a small model's answer of about 60 tokens, ~0.5 s to the first token and ~120 tokens/s
after it) and an embedding call ``--embedding-latency`` (default 0.02 s, a Titan Text
Embeddings v2 call), as the latencies they report. A hit pays one embedding call, so the
ratio is about model / (embedding + the cache's own cost): at a 0.5 s model it is about
20x. The cache's own cost (a hit with a local embedding, no network) is printed too.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Any

from pydantic import SecretStr

from runwire.providers.aws import InMemorySemanticCache, InMemoryVectorStore
from runwire.providers.aws.memorydb_search import encode_vector
from runwire.runtime.models.fakes import FakeEmbeddings
from runwire.testing.memorydb import MemoryDBEmulator

COLORS = ("red", "green", "blue", "yellow")


def corpus(n: int, dims: int) -> tuple[list[str], list[dict[str, Any]], list[list[float]]]:
    rng = random.Random(20)
    texts = [f"document {i} about {COLORS[i % 4]} things" for i in range(n)]
    metas = [{"color": [COLORS[i % 4]], "year": 2000 + i % 25, "source": "bench"} for i in range(n)]
    vectors = [[rng.gauss(0, 1) for _ in range(dims)] for _ in range(n)]
    return texts, metas, vectors


def bench_store(n: int, queries: int, dims: int) -> None:
    """Each side gets a fresh emulator of its own (a keyspace that already holds the
    other side's documents would slow the second one down)."""
    with (
        MemoryDBEmulator(password="bench") as ours_emu,
        MemoryDBEmulator(password="bench") as raw_emu,
    ):
        _bench_store(ours_emu.url, raw_emu.url, n, queries, dims)


def _bench_store(url: str, raw_url: str, n: int, queries: int, dims: int) -> None:
    import redis

    texts, metas, vectors = corpus(n, dims)
    probes = [vectors[random.Random(i).randrange(n)] for i in range(queries)]
    store = InMemoryVectorStore(
        index_name="bench", embedding=FakeEmbeddings(size=dims), redis_url=SecretStr(url),
        index_schema={"tag": [{"name": "color"}], "numeric": [{"name": "year"}],
                      "text": [{"name": "source"}]},
    )  # fmt: skip
    client = redis.Redis.from_url(raw_url)
    client.ping(), store.redis.ping()  # both connected before the clock starts
    start = time.perf_counter()
    store.add_texts(texts, metas, embeddings=vectors, keys=[str(i) for i in range(n)])
    ours_add = time.perf_counter() - start

    start = time.perf_counter()
    client.execute_command(
        "FT.CREATE", "raw", "ON", "HASH", "PREFIX", 1, "raw", "SCHEMA",
        "content", "TEXT", "color", "TAG", "year", "NUMERIC", "source", "TEXT",
        "content_vector", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", dims,
        "DISTANCE_METRIC", "COSINE",
    )  # fmt: skip
    pipe = client.pipeline(transaction=False)
    for i, (text, meta, vec) in enumerate(zip(texts, metas, vectors, strict=True)):
        mapping = {"content": text, "content_vector": encode_vector(vec), "color": meta["color"][0],
                   "year": meta["year"], "source": meta["source"]}  # fmt: skip
        pipe.hset(f"raw:{i}", mapping=mapping)
        if len(pipe) >= 1000:
            pipe.execute()
    pipe.execute()
    raw_add = time.perf_counter() - start

    flt = "@color:{red}"
    fields = ["content", "color", "year", "source"]
    ours_query = raw_query = 0.0
    for at in range(0, queries, 50):  # interleaved: each side gets the same machine
        chunk = probes[at : at + 50]
        start = time.perf_counter()
        for vec in chunk:
            store.similarity_search_by_vector(vec, k=4, filter=flt)
        ours_query += time.perf_counter() - start
        start = time.perf_counter()
        for vec in chunk:
            client.execute_command(
                "FT.SEARCH", "raw", f"({flt})=>[KNN 4 @content_vector $vector AS distance]",
                "RETURN", len(fields), *fields, "SORTBY", "distance", "LIMIT", 0, 4,
                "DIALECT", 2, "PARAMS", 2, "vector", encode_vector(vec),
            )  # fmt: skip
        raw_query += time.perf_counter() - start

    for what, count, ours, raw in (
        (f"adds     {n:>6} docs:", n, ours_add, raw_add),
        (f"queries  {queries:>6} KNN: ", queries, ours_query, raw_query),
    ):
        print(
            f"{what} InMemoryVectorStore {count / ours:9.0f}/s   "
            f"raw redis-py {count / raw:9.0f}/s   ratio {raw / ours:.2f}x"
        )


def bench_cache(url: str, rounds: int, latency: float, embedding_latency: float) -> None:
    from runwire.providers.aws import BedrockEmbeddings, ChatBedrockConverse
    from runwire.testing.bedrock import (
        DEFAULT_ACCESS_KEY_ID,
        DEFAULT_SECRET_ACCESS_KEY,
        BedrockEmulator,
    )

    with BedrockEmulator(
        credentials={DEFAULT_ACCESS_KEY_ID: DEFAULT_SECRET_ACCESS_KEY},
        simulate_latency=True,
        latency_ms=round(latency * 1000),
        embedding_latency_ms=round(embedding_latency * 1000),
    ) as bedrock:
        os.environ.update(
            AWS_ACCESS_KEY_ID=DEFAULT_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=DEFAULT_SECRET_ACCESS_KEY,
            AWS_REGION="us-east-1",
        )
        model_id = "anthropic.claude-3-haiku-20240307-v1:0"
        plain = ChatBedrockConverse(model=model_id, endpoint_url=bedrock.endpoint_url)
        cache = InMemorySemanticCache(
            redis_url=SecretStr(url),
            embedding=BedrockEmbeddings(
                model_id="amazon.titan-embed-text-v2:0", endpoint_url=bedrock.endpoint_url
            ),
        )
        cached = plain.model_copy(update={"cache": cache})
        prompt = "How long does shipping take?"
        cached.invoke(prompt)  # stores the answer
        plain.invoke(prompt)  # warm-up
        calls = []
        for _ in range(max(3, rounds // 5)):  # each takes the model's latency
            start = time.perf_counter()
            plain.invoke(prompt)
            calls.append(time.perf_counter() - start)
        hits = []
        for _ in range(rounds):
            start = time.perf_counter()
            cached.invoke(prompt)
            hits.append(time.perf_counter() - start)
        assert cache.hits == rounds, "every timed call must be a cache hit"
        local = ChatBedrockConverse(  # another llm_string: its own cache index
            model=model_id, endpoint_url=bedrock.endpoint_url, temperature=0.5
        ).model_copy(
            update={
                "cache": InMemorySemanticCache(
                    redis_url=SecretStr(url), embedding=FakeEmbeddings(size=256)
                )
            }
        )
        local.invoke(prompt)
        own = []
        for _ in range(rounds):
            start = time.perf_counter()
            local.invoke(prompt)
            own.append(time.perf_counter() - start)
    call, hit = statistics.median(calls), statistics.median(hits)
    own_ms = statistics.median(own) * 1000
    print(f"cache    a hit with a local embedding (the cache's own cost) {own_ms:7.2f} ms")
    verdict = "met" if call / hit >= 20 else "MISSED"
    print(f"cache    model call ({latency:.2f} s simulated) {call * 1000:7.1f} ms   "
          f"hit ({embedding_latency * 1000:.0f} ms embedding) {hit * 1000:6.1f} ms   "
          f"ratio {call / hit:.1f}x (>= 20x {verdict})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--dims", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=50, help="timed calls of the cache part")
    parser.add_argument("--model-latency", type=float, default=1.0, help="seconds")
    parser.add_argument("--embedding-latency", type=float, default=0.02, help="seconds")
    args = parser.parse_args()
    bench_store(args.docs, args.queries, args.dims)
    with MemoryDBEmulator(password="bench") as emu:
        bench_cache(emu.url, args.rounds, args.model_latency, args.embedding_latency)


if __name__ == "__main__":
    main()
