"""Samples of the AWS data classes (issue 20: MemoryDB, Neptune), merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES). The
MemoryDB samples leave ``redis_url`` unset (it is a secret; tests/test_memorydb_store.py
round-trips it as a secret node).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _store() -> Any:
    from runwire.providers.aws import InMemoryVectorStore
    from runwire.runtime.models.fakes import FakeEmbeddings

    return InMemoryVectorStore(
        index_name="products",
        embedding=FakeEmbeddings(size=8),
        index_schema={"tag": [{"name": "color"}], "numeric": [{"name": "price"}]},
        vector_schema={"algorithm": "HNSW", "distance_metric": "IP"},
        key_prefix="product",
    )


def _retriever() -> Any:
    from runwire.providers.aws import InMemoryVectorStoreRetriever

    return InMemoryVectorStoreRetriever(
        vectorstore=_store(),
        search_type="mmr",
        search_kwargs={"k": 2, "fetch_k": 8, "lambda_mult": 0.3, "filter": "@color:{red}"},
        tags=["products"],
    )


def _semantic_cache() -> Any:
    from runwire.providers.aws import InMemorySemanticCache
    from runwire.runtime.models.fakes import FakeEmbeddings

    return InMemorySemanticCache(embedding=FakeEmbeddings(size=8), score_threshold=0.05)


def _memory_cache() -> Any:
    from runwire.runtime.cache import InMemoryCache

    return InMemoryCache(maxsize=100)


def _sqlite_cache() -> Any:
    from runwire.runtime.cache_sqlite import SQLiteCache

    return SQLiteCache(database_path="cache/answers.db")


def _neptune_graph() -> Any:
    from runwire.providers.aws import NeptuneGraph

    return NeptuneGraph(
        host="movies.cluster-abc123.us-east-1.neptune.amazonaws.com",
        region_name="us-east-1",
        use_https=True,
        property_descriptions={"Movie.genre": "the kind of film"},
    )


def _neptune_analytics() -> Any:
    from runwire.providers.aws import NeptuneAnalyticsGraph

    return NeptuneAnalyticsGraph(graph_identifier="g-abc123", region_name="us-west-2")


def _neptune_chain() -> Any:
    from runwire.providers.aws import create_neptune_opencypher_qa_chain
    from runwire.runtime.models.fakes import FakeChatModel

    return create_neptune_opencypher_qa_chain(
        FakeChatModel(responses=["```cypher\nMATCH (m:Movie) RETURN m.title\n```", "Four."]),
        _neptune_graph(),
        return_intermediate_steps=True,
        extra_instructions="Titles are case-sensitive.",
        allow_dangerous_requests=True,
        max_rows=20,
    )


def _neptune_rdf() -> Any:
    from runwire.providers.aws import NeptuneRdfGraph

    return NeptuneRdfGraph(
        host="movies.cluster-abc123.us-east-1.neptune.amazonaws.com",
        region_name="us-east-1",
        use_iam_auth=True,
        timeout=20,
    )


def _neptune_sparql_chain() -> Any:
    from runwire.providers.aws import create_neptune_sparql_qa_chain
    from runwire.runtime.models.fakes import FakeChatModel

    return create_neptune_sparql_qa_chain(
        FakeChatModel(responses=["```sparql\nSELECT ?t WHERE { ?m ex:title ?t }\n```", "Four."]),
        _neptune_rdf(),
        return_direct=True,
        examples="Q: Titles? A: SELECT ?t WHERE { ?m ex:title ?t }",
        allow_dangerous_requests=True,
    )


SAMPLES: dict[str, Callable[[], Any]] = {
    "InMemoryVectorStore": _store,
    "InMemoryVectorStoreRetriever": _retriever,
    "InMemorySemanticCache": _semantic_cache,
    "InMemoryCache": _memory_cache,
    "SQLiteCache": _sqlite_cache,
    "NeptuneGraph": _neptune_graph,
    "NeptuneAnalyticsGraph": _neptune_analytics,
    "NeptuneOpenCypherQAChain": _neptune_chain,
    "NeptuneRdfGraph": _neptune_rdf,
    "NeptuneSparqlQAChain": _neptune_sparql_chain,
}
