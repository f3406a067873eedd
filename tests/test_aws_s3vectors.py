"""AmazonS3Vectors, AmazonS3VectorsRetriever and the S3 Vectors emulator: langchain-aws's
fields, request shapes (botocore Stubber), ingest and search end to end through boto3
(Bedrock embeddings on the Bedrock emulator, vectors on the S3 Vectors emulator), and
langchain-aws as the peer."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import SecretStr, ValidationError

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws.embeddings import BedrockEmbeddings
from runwire.providers.aws.s3vectors import AmazonS3Vectors
from runwire.providers.aws.s3vectors_retriever import AmazonS3VectorsRetriever
from runwire.schema.documents import Document
from runwire.testing.s3vectors import S3VectorsEmulator

KEYS = {
    "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
    "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
}
BUCKET = "docs-bucket"
TEXTS = ["Star Wars in space", "Jurassic Park dinosaurs", "Finding Nemo under the sea"]
METAS = [{"genre": "scifi", "year": 1977}, {"genre": "scifi", "year": 1993}, {"genre": "family"}]


class Letters:
    """Deterministic 4-d embeddings: counts of a, e, i, o (enough to tell texts apart)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        low = text.lower()
        return [float(low.count(c)) + 0.1 for c in "aeio"]


@pytest.fixture(scope="module")
def module_s3v() -> Iterator[S3VectorsEmulator]:
    with S3VectorsEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        yield emulator


@pytest.fixture
def s3v(module_s3v: S3VectorsEmulator) -> Iterator[S3VectorsEmulator]:
    module_s3v.reset()
    module_s3v.store.buckets.clear()
    module_s3v.store.buckets[BUCKET] = {}
    yield module_s3v


def store(emulator: S3VectorsEmulator, **kwargs: Any) -> AmazonS3Vectors:
    settings = {
        "vector_bucket_name": BUCKET,
        "index_name": "movies",
        "embedding": Letters(),
        "region_name": "us-east-1",
        "endpoint_url": emulator.endpoint_url,
        "config": {"retries": {"total_max_attempts": 1}},
        **KEYS,
    }
    return AmazonS3Vectors(**{**settings, **kwargs})


# -- fields ---------------------------------------------------------------------------------
def test_fields_and_defaults() -> None:
    s = AmazonS3Vectors(vector_bucket_name=BUCKET, index_name="i")
    assert (s.data_type, s.distance_metric, s.page_content_metadata_key) == (
        "float32",
        "cosine",
        "_page_content",
    )
    assert s.create_index_if_not_exist and not s.create_bucket_if_not_exist
    assert s.aws_service == "s3vectors"
    with pytest.raises(ValidationError, match="embeddings model"):
        AmazonS3Vectors(vector_bucket_name=BUCKET, index_name="i", embedding="titan")
    with pytest.raises(ValidationError, match="distance_metric"):
        AmazonS3Vectors(vector_bucket_name=BUCKET, index_name="i", distance_metric="dot")
    with pytest.raises(ValidationError, match="unknown search_kwargs"):
        AmazonS3VectorsRetriever(vectorstore=s, search_kwargs={"fetch_k": 3})


def test_store_and_retriever_are_files_without_secrets() -> None:
    embedding = BedrockEmbeddings(model_id="amazon.titan-embed-text-v2:0", region_name="us-east-1")
    s = AmazonS3Vectors(vector_bucket_name=BUCKET, index_name="i", embedding=embedding, **KEYS)
    r = s.as_retriever(search_kwargs={"k": 2})
    assert r.tags == ["AmazonS3Vectors", "BedrockEmbeddings"]
    text = runwire.dumps(r)
    assert EMULATOR_SECRET not in text and EMULATOR_SECRET not in repr(r)
    secrets = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    assert runwire.loads(text, allowed_objects="all", secrets_map=secrets) == r


# -- request shapes (Stubber) ---------------------------------------------------------------
def test_query_request_shape() -> None:
    client = boto3.client(
        "s3vectors", region_name="us-east-1", aws_access_key_id="A", aws_secret_access_key="s"
    )
    s = AmazonS3Vectors(
        vector_bucket_name=BUCKET, index_name="idx", embedding=Letters(), client=client
    )
    with Stubber(client) as stub:
        stub.add_response(
            "query_vectors",
            {
                "vectors": [
                    {"key": "k1", "distance": 0.25, "metadata": {"_page_content": "t", "g": 1}}
                ],
                "distanceMetric": "cosine",
            },
            {
                "vectorBucketName": BUCKET,
                "indexName": "idx",
                "topK": 3,
                "queryVector": {"float32": Letters().embed_query("q")},
                "filter": {"g": {"$eq": 1}},
                "returnMetadata": True,
                "returnDistance": True,
            },
        )
        ((doc, distance),) = s.similarity_search_with_score("q", 3, filter={"g": {"$eq": 1}})
        stub.assert_no_pending_responses()
    assert (doc, distance) == (Document(page_content="t", id="k1", metadata={"g": 1}), 0.25)


# -- end to end against the emulator ------------------------------------------------------
def test_add_texts_creates_the_index_and_searches(s3v: S3VectorsEmulator) -> None:
    s = store(s3v, non_filterable_metadata_keys=["_page_content"])
    ids = s.add_texts(TEXTS, METAS, ids=["sw", "jp", "fn"])
    assert ids == ["sw", "jp", "fn"]
    assert [c.operation for c in s3v.requests] == ["GetIndex", "CreateIndex", "PutVectors"]
    created = s3v.requests[1].body
    assert (created["dimension"], created["distanceMetric"]) == (4, "cosine")
    assert created["metadataConfiguration"] == {"nonFilterableMetadataKeys": ["_page_content"]}
    docs = s.similarity_search("Star Wars in space", k=2)
    assert docs[0] == Document(page_content=TEXTS[0], id="sw", metadata=METAS[0])
    scored = s.similarity_search_with_score("Star Wars in space", k=3)
    distances = [d for _, d in scored]
    assert distances == sorted(distances) and distances[0] == pytest.approx(0, abs=1e-6)
    relevance = s.similarity_search_with_relevance_scores("Star Wars in space", k=3)
    assert [r for _, r in relevance] == pytest.approx([1 - d for d in distances])
    by_vector = s.similarity_search_by_vector(Letters().embed_query(TEXTS[2]), k=1)
    assert [d.id for d in by_vector] == ["fn"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"genre": "scifi"}, ["jp", "sw"]),
        ({"genre": {"$ne": "scifi"}}, ["fn"]),
        ({"year": {"$gte": 1990}}, ["jp"]),
        ({"genre": {"$in": ["family", "drama"]}}, ["fn"]),
        ({"year": {"$exists": False}}, ["fn"]),
        ({"$or": [{"year": {"$lt": 1980}}, {"genre": "family"}]}, ["fn", "sw"]),
        ({"$and": [{"genre": "scifi"}, {"year": {"$nin": [1977]}}]}, ["jp"]),
    ],
)
def test_metadata_filters(s3v: S3VectorsEmulator, flt: dict[str, Any], expected: list[str]) -> None:
    s = store(s3v)
    s.add_texts(TEXTS, METAS, ids=["sw", "jp", "fn"])
    assert sorted(d.id for d in s.similarity_search("space", k=10, filter=flt)) == expected


def test_documents_ids_get_delete_and_the_retriever(s3v: S3VectorsEmulator) -> None:
    s = store(s3v, distance_metric="euclidean")
    docs = [
        Document(page_content=t, metadata=m, id=i)
        for t, m, i in zip(TEXTS, METAS, "abc", strict=True)
    ]
    assert s.add_documents(docs) == ["a", "b", "c"]
    assert s.get_by_ids(["c", "a", "c"]) == [docs[2], docs[0], docs[2]]
    with pytest.raises(ValueError, match="Id 'zz' not found"):
        s.get_by_ids(["zz"])
    retriever = s.as_retriever(search_kwargs={"k": 1, "filter": {"genre": "family"}})
    assert retriever.invoke("dinosaurs") == [docs[2]]
    assert asyncio.run(retriever.ainvoke("dinosaurs")) == [docs[2]]
    assert s.delete(["c"]) is True
    assert sorted(d.id for d in s.similarity_search("sea", k=5)) == ["a", "b"]
    s.delete()
    with pytest.raises(ProviderError) as caught:
        s.similarity_search("sea")
    assert (caught.value.code, caught.value.status) == ("NotFoundException", 404)


def test_batches_from_texts_and_a_missing_bucket(s3v: S3VectorsEmulator) -> None:
    texts = [f"text number {i} {'a' * (i % 7)}" for i in range(25)]
    s = AmazonS3Vectors.from_texts(texts, Letters(), **{
        "vector_bucket_name": BUCKET, "index_name": "many", "region_name": "us-east-1",
        "endpoint_url": s3v.endpoint_url, **KEYS})  # fmt: skip
    assert sum(c.operation == "PutVectors" for c in s3v.requests) == 1
    s.add_texts(texts, batch_size=10)
    puts = [c for c in s3v.requests if c.operation == "PutVectors"]
    assert [len(c.body["vectors"]) for c in puts[1:]] == [10, 10, 5]
    assert len(s3v.store.buckets[BUCKET]["many"].vectors) == 50
    missing = store(s3v, vector_bucket_name="no-such-bucket")
    with pytest.raises(ProviderError) as caught:
        missing.add_texts(["x"])
    assert caught.value.code == "NotFoundException"
    made = store(s3v, vector_bucket_name="new-bucket", create_bucket_if_not_exist=True)
    assert len(made.add_texts(["x"])) == 1
    assert "new-bucket" in s3v.store.buckets


def test_service_errors(s3v: S3VectorsEmulator) -> None:
    s = store(s3v, non_filterable_metadata_keys=["year"])
    s.add_texts(TEXTS, METAS)
    with pytest.raises(ProviderError) as caught:
        s.similarity_search("x", filter={"year": {"$gt": 1}})  # not filterable
    assert caught.value.code == "ValidationException"
    with pytest.raises(ProviderError) as caught:
        s.similarity_search_by_vector([1.0, 2.0])  # wrong dimension
    assert "dimension" in caught.value.message
    s3v.fail(operation="QueryVectors")
    with pytest.raises(ProviderError) as caught:
        s.similarity_search("x")
    assert caught.value.code == "TooManyRequestsException" and caught.value.status == 429
    with pytest.raises(ProviderError) as caught:
        store(s3v, aws_secret_access_key=SecretStr("nope-secret")).similarity_search("x")
    assert caught.value.code == "InvalidSignatureException"


def test_with_bedrock_embeddings_on_the_bedrock_emulator(
    s3v: S3VectorsEmulator, module_bedrock: Any
) -> None:
    embedding = BedrockEmbeddings(
        model_id="amazon.titan-embed-text-v2:0",
        region_name="us-east-1",
        endpoint_url=module_bedrock.endpoint_url,
        **KEYS,
    )
    s = store(s3v, embedding=embedding, index_name="titan")
    s.add_texts(TEXTS, METAS, ids=["sw", "jp", "fn"])
    index = s3v.store.buckets[BUCKET]["titan"]
    assert index.dimension == len(embedding.embed_query("x"))
    assert s.similarity_search(TEXTS[1], k=1)[0].id == "jp"  # the same text: distance 0
    assert all(math.isfinite(v) for v in index.vectors["jp"][0])


# -- LangChain -----------------------------------------------------------------------------
def test_langchain_aws_reads_what_runwire_wrote_and_the_other_way(s3v: S3VectorsEmulator) -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.vectorstores import AmazonS3Vectors as LcStore
    from langchain_core.embeddings import Embeddings as LcEmbeddings

    class LcLetters(LcEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return Letters().embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return Letters().embed_query(text)

    ours = store(s3v)
    ours.add_texts(TEXTS, METAS, ids=["sw", "jp", "fn"])
    lc = LcStore(
        vector_bucket_name=BUCKET,
        index_name="movies",
        embedding=LcLetters(),
        region_name="us-east-1",
        endpoint_url=s3v.endpoint_url,
        aws_access_key_id=EMULATOR_KEY_ID,
        aws_secret_access_key=EMULATOR_SECRET,
    )
    for query, flt in (("space", None), ("sea", {"genre": "scifi"})):
        theirs = lc.similarity_search_with_score(query, k=3, filter=flt)
        mine = ours.similarity_search_with_score(query, k=3, filter=flt)
        assert [(d.id, d.page_content, d.metadata, s) for d, s in mine] == [
            (d.id, d.page_content, d.metadata, s) for d, s in theirs
        ]
    lc.add_texts(["Alien horror in space"], [{"genre": "horror"}], ids=["al"])
    (doc,) = ours.get_by_ids(["al"])
    assert (doc.page_content, doc.metadata) == ("Alien horror in space", {"genre": "horror"})
    sent = [c.body for c in s3v.requests if c.operation == "PutVectors"]
    assert json.dumps(sent[0]["vectors"][0], sort_keys=True).count("_page_content") == 1
