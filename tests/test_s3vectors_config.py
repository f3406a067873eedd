"""configs/s3vectors_search.yaml (ingest, then search, in S3 Vectors) on the emulator, in
process and through ``runwire emulate s3vectors -- runwire run``; and the
``AmazonS3VectorsIngest`` step it is built on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.loader.files import load_file
from runwire.providers.aws.s3vectors import AmazonS3Vectors
from runwire.providers.aws.s3vectors_ingest import AmazonS3VectorsIngest
from runwire.runtime.models.fakes import FakeEmbeddings
from runwire.schema.documents import Document
from runwire.testing.s3vectors import S3VectorsEmulator

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "s3vectors_search.yaml"
INPUT = ROOT / "configs" / "inputs" / "s3vectors_search.json"
REQUEST = json.loads(INPUT.read_text())
EXPECTED = {
    "stored": ["ship-1", "ship-2", "ret-1", "ret-2", "ret-3", "bill-1"],
    "results": "- [returns] Refunds reach your card in 5 days.\n"
    "- [returns] Items can be returned within 30 days.",
}
"""The two ``returns`` documents nearest the question under FakeEmbeddings(size=64)."""


@pytest.fixture
def s3v(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3VectorsEmulator]:
    with S3VectorsEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")  # as `runwire emulate` sets it
        yield emulator


def _nearest_returns(question: str, k: int) -> list[str]:
    """The texts of the ``k`` returns documents nearest ``question``, computed here."""
    embeddings = FakeEmbeddings(size=64)
    query = embeddings.embed_query(question)
    docs = [d for d in REQUEST["documents"] if d["metadata"]["topic"] == "returns"]

    def distance(doc: dict[str, Any]) -> float:
        vector = embeddings.embed_query(doc["page_content"])
        return 1 - sum(a * b for a, b in zip(query, vector, strict=True))

    return [d["page_content"] for d in sorted(docs, key=distance)[:k]]


# -- the config -----------------------------------------------------------------------------
def test_the_expected_answer_is_the_nearest_returns_documents() -> None:
    texts = _nearest_returns(REQUEST["question"], 2)
    assert EXPECTED["results"] == "\n".join(f"- [returns] {text}" for text in texts)


def test_the_config_ingests_then_searches(s3v: S3VectorsEmulator) -> None:
    pipeline = load_file(CONFIG, env={"S3VECTORS_ENDPOINT_URL": s3v.endpoint_url})
    assert pipeline.invoke(REQUEST) == EXPECTED
    calls = [call.operation for call in s3v.requests]
    made = ["GetIndex", "GetVectorBucket", "CreateVectorBucket", "CreateIndex"]
    assert calls == [*made, "PutVectors", "QueryVectors"]
    create, put, query = (s3v.requests[i].body for i in (3, 4, 5))
    assert (create["dimension"], create["distanceMetric"]) == (64, "cosine")
    assert create["metadataConfiguration"] == {"nonFilterableMetadataKeys": ["_page_content"]}
    assert [v["key"] for v in put["vectors"]] == EXPECTED["stored"]
    assert put["vectors"][2]["metadata"] == {
        "topic": "returns",
        "_page_content": "Items can be returned within 30 days.",
    }
    assert (query["topK"], query["filter"]) == (2, {"topic": "returns"})
    index = s3v.store.buckets["runwire-docs"]["runwire-faq"]
    assert sorted(index.vectors) == sorted(EXPECTED["stored"])


def test_running_it_again_overwrites_the_same_keys(s3v: S3VectorsEmulator) -> None:
    pipeline = load_file(CONFIG, env={"S3VECTORS_ENDPOINT_URL": s3v.endpoint_url})
    pipeline.invoke(REQUEST)
    again = {**REQUEST, "question": "Where is my refund?"}
    out = pipeline.invoke(again)
    assert out["stored"] == EXPECTED["stored"]
    assert len(s3v.store.buckets["runwire-docs"]["runwire-faq"].vectors) == 6
    texts = _nearest_returns(again["question"], 2)
    assert out["results"] == "\n".join(f"- [returns] {text}" for text in texts)


def test_the_topic_comes_from_the_environment(s3v: S3VectorsEmulator) -> None:
    env = {"S3VECTORS_ENDPOINT_URL": s3v.endpoint_url, "S3VECTORS_TOPIC": "billing"}
    out = load_file(CONFIG, env=env).invoke(REQUEST)
    assert out["results"] == "- [billing] Invoices are emailed monthly."


def test_emulate_runs_the_config_end_to_end() -> None:
    runwire_cmd = str(Path(sys.executable).with_name("runwire"))
    done = subprocess.run(
        [
            runwire_cmd,
            "emulate",
            "s3vectors",
            "--",
            runwire_cmd,
            "run",
            str(CONFIG),
            "-i",
            f"@{INPUT}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED


INGEST_FILE = """\
_type: AmazonS3VectorsIngest
vectorstore:
  _type: AmazonS3Vectors
  vector_bucket_name: notes
  index_name: lines
  endpoint_url: "${S3VECTORS_ENDPOINT_URL:-}"
  create_bucket_if_not_exist: true
  embedding: {_type: FakeEmbeddings, size: 8}
"""


def test_runwire_batch_ingests_a_jsonl_file(tmp_path: Path) -> None:
    (tmp_path / "ingest.yaml").write_text(INGEST_FILE)
    lines = [{"page_content": f"note {i}", "id": f"n{i}"} for i in range(6)]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    runwire_cmd = str(Path(sys.executable).with_name("runwire"))
    batch = [runwire_cmd, "batch", "ingest.yaml", "docs.jsonl", "-o", "out.jsonl"]
    done = subprocess.run(
        [runwire_cmd, "emulate", "s3vectors", "--", *batch, "--concurrency", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted((r["index"], r["output"]) for r in records) == [(i, [f"n{i}"]) for i in range(6)]


# -- AmazonS3VectorsIngest ------------------------------------------------------------------
def test_concurrent_ingests_make_the_bucket_and_index_once(s3v: S3VectorsEmulator) -> None:
    step = _ingest(s3v)
    items = [{"page_content": f"text {i}", "id": f"t{i}"} for i in range(8)]
    assert step.batch(items, {"max_concurrency": 8}) == [[f"t{i}"] for i in range(8)]
    assert len(s3v.store.buckets["docs"]["notes"].vectors) == 8


def _ingest(emulator: S3VectorsEmulator, **kwargs: Any) -> AmazonS3VectorsIngest:
    store = AmazonS3Vectors(
        vector_bucket_name="docs",
        index_name="notes",
        create_bucket_if_not_exist=True,
        embedding=FakeEmbeddings(size=8),
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=SecretStr(EMULATOR_KEY_ID),
        aws_secret_access_key=SecretStr(EMULATOR_SECRET),
    )
    return AmazonS3VectorsIngest(vectorstore=store, **kwargs)


def test_ingest_takes_strings_documents_and_objects(s3v: S3VectorsEmulator) -> None:
    step = _ingest(s3v)
    keys = step.invoke(
        [
            "plain text",
            Document(page_content="a document", metadata={"n": 1}, id="doc-1"),
            {"page_content": "an object", "metadata": {"n": 2}, "id": "obj-1"},
            {"page_content": "no id"},
        ]
    )
    assert keys[1:3] == ["doc-1", "obj-1"] and len(set(keys)) == 4
    docs = step.vectorstore.get_by_ids(keys)
    assert [d.page_content for d in docs] == ["plain text", "a document", "an object", "no id"]
    assert [d.metadata for d in docs] == [{}, {"n": 1}, {"n": 2}, {}]


def test_ingest_takes_one_document_too(s3v: S3VectorsEmulator) -> None:
    step = _ingest(s3v)
    assert step.invoke({"page_content": "alone", "id": "one"}) == ["one"]
    assert step.invoke([]) == []
    assert [c.operation for c in s3v.requests].count("PutVectors") == 1


def test_ingest_sends_batches_of_batch_size(s3v: S3VectorsEmulator) -> None:
    step = _ingest(s3v, batch_size=2)
    keys = step.invoke([f"text {i}" for i in range(5)])
    puts = [c.body for c in s3v.requests if c.operation == "PutVectors"]
    assert [len(p["vectors"]) for p in puts] == [2, 2, 1]
    assert [v["key"] for p in puts for v in p["vectors"]] == keys


def test_ingest_async_and_batch(s3v: S3VectorsEmulator) -> None:
    step = _ingest(s3v)
    assert asyncio.run(step.ainvoke([{"page_content": "async", "id": "a"}])) == ["a"]
    assert step.batch([{"page_content": "x", "id": "x"}, "y"])[0] == ["x"]
    assert len(s3v.store.buckets["docs"]["notes"].vectors) == 3


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ([{"text": "wrong key"}], "document 0 is an object with keys ['text']"),
        (["ok", 42], "document 1 is a int"),
        ([{"page_content": "x", "metadata": "not an object"}], "document 0 is an object"),
        ([{"page_content": "x", "id": 7}], "document 0 is an object"),
    ],
)
def test_ingest_refuses_what_is_not_a_document(s3v: S3VectorsEmulator, bad: Any, said: str) -> None:
    with pytest.raises(TypeError, match="expected a string, a Document") as caught:
        _ingest(s3v).invoke(bad)
    assert said in str(caught.value)
    assert s3v.requests == []  # nothing sent


def test_ingest_batch_size_is_put_vectors_limit() -> None:
    store = AmazonS3Vectors(vector_bucket_name="docs", index_name="notes")
    with pytest.raises(ValidationError, match="less than or equal to 500"):
        AmazonS3VectorsIngest(vectorstore=store, batch_size=501)


def test_ingest_round_trips_without_secrets() -> None:
    store = AmazonS3Vectors(
        vector_bucket_name="docs",
        index_name="notes",
        embedding=FakeEmbeddings(size=8),
        aws_secret_access_key=SecretStr(EMULATOR_SECRET),
    )
    step = AmazonS3VectorsIngest(vectorstore=store, batch_size=50)
    text = runwire.dumps(step)
    assert EMULATOR_SECRET not in text
    wire = json.loads(text)
    assert wire["id"] == ["runwire", "providers", "aws", "AmazonS3VectorsIngest"]
    assert wire["kwargs"]["batch_size"] == 50
    secrets = {"AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    back = runwire.loads(text, secrets_map=secrets, allowed_objects="all")
    assert back == step
