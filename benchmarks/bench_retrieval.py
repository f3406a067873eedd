"""Retrieval throughput: AmazonS3Vectors and SagemakerEndpoint against raw boto3.

Run: ``.venv/bin/python benchmarks/bench_retrieval.py``. Targets (issue 19), each side
against the same emulator in the same run:

- S3 Vectors ingest: ``AmazonS3Vectors.add_texts`` of 10,000 documents (batched
  PutVectors) reaches at least 0.9x the throughput of boto3 sending the same requests.
- S3 Vectors queries: 1,000 ``similarity_search`` calls over those 10,000 documents reach
  at least 0.9x boto3's ``query_vectors`` with the same requests.
- SageMaker: ``SagemakerEndpoint.abatch`` of 500 invocations reaches at least 0.9x a boto3
  thread pool of the same size (as ``bench_bedrock.py`` does for Bedrock).

Both sides get the same vectors: they come from runwire's ``FakeEmbeddings`` once, before
timing, and runwire reads them through a lookup table, so the timings hold the vector
store path and not the embedding. The emulators run in their own processes (``runwire
emulate``, garbage collector off: see ``EMULATE``), so neither side shares a GIL with a
server. Each S3 Vectors round has both sides ingest 10,000 documents, ``add_texts`` of
2,000 at a time (a GetIndex and four PutVectors each, boto3 sending the same), then run
the 1,000 queries (first two rounds only: they take the emulator about 30 ms each), the
two sides taking turns block by block, so a slow moment of the shared machine hits both.
SageMaker rounds alternate who goes first. The verdict is the median of per-round
ratios, as in ``bench_bedrock.py``. Each line also prints the side's client CPU time per
call (this process only), which the emulator's share of the wall time would hide.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from bench_bedrock import KEY_ID, SECRET, questions

BUCKET = "runwire-bench"
ENDPOINT = "bench-endpoint"


EMULATE = "import gc, sys; gc.disable(); from runwire.cli.main import main; sys.exit(main())"
"""``runwire emulate`` with the emulator's garbage collector off: the S3 Vectors emulator
holds 20,000 vectors in Python objects, and a full collection of them (tens of ms) lands
on whichever side's request happens to trigger it, which the interleaving does not even
out. Off, the emulator's time per request is the same for both sides' (identical) requests."""


def start_emulator(service: str) -> tuple[subprocess.Popen[str], str]:
    """``runwire emulate SERVICE`` on a free port; returns the process and its URL."""
    cmd = [sys.executable, "-c", EMULATE, "emulate", service, "--port", "0"]
    cmd += ["--access-key-id", KEY_ID, "--secret-access-key", SECRET]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the {service} emulator did not start: {line!r}")
    return proc, line.split()[-1]


def boto3_client(service: str, endpoint: str, workers: int = 10) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(max_pool_connections=workers),
    )


class LookupEmbeddings:
    """Embeddings read from a table made beforehand: no embedding work while timed."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[text] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


class Corpus:
    """The documents, their metadata and keys, the queries, and every text's vector."""

    def __init__(self, docs: int, queries: int, dimension: int) -> None:
        from runwire.runtime.models.fakes import FakeEmbeddings

        topics = ("shipping", "returns", "billing", "accounts")
        self.texts = [
            f"Document {i} about {topics[i % 4]}: policy text {i * 7}" for i in range(docs)
        ]
        self.metadatas = [{"topic": topics[i % 4], "n": i} for i in range(docs)]
        self.keys = [f"doc-{i}" for i in range(docs)]
        self.queries = [
            f"Query {i}: what is the policy on {topics[i % 4]}?" for i in range(queries)
        ]
        fake = FakeEmbeddings(size=dimension)
        self.vectors = fake.embed_documents(self.texts)
        self.query_vectors = fake.embed_documents(self.queries)
        self.embeddings = LookupEmbeddings(
            dict(zip(self.texts + self.queries, self.vectors + self.query_vectors, strict=True))
        )


class Timed:
    """Wall and client CPU seconds of one side's measured runs, added up."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def add(self, run: Callable[[], Any]) -> Timed:
        gc.collect()  # the previous run's garbage is not this run's cost
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        return self


def interleaved(
    ours: Callable[[slice], Any], theirs: Callable[[slice], Any], count: int, block: int, flip: int
) -> tuple[Timed, Timed]:
    """Both sides over ``count`` items in blocks of ``block``, taking turns block by block
    (who goes first alternates), so a slow minute of the machine hits both alike."""
    mine, peer = Timed(), Timed()
    for n, start in enumerate(range(0, count, block)):
        part = slice(start, start + block)
        turns = [(mine, ours), (peer, theirs)]
        if (n + flip) % 2:
            turns.reverse()
        for total, run in turns:
            total.add(partial(run, part))
    return mine, peer


# -- S3 Vectors -----------------------------------------------------------------------------
def runwire_store(endpoint: str, index: str, corpus: Corpus) -> Any:
    from runwire.providers.aws import AmazonS3Vectors

    return AmazonS3Vectors(
        vector_bucket_name=BUCKET,
        index_name=index,
        embedding=corpus.embeddings,
        endpoint_url=endpoint,
        region_name="us-east-1",
    )


def runwire_ingest(store: Any, corpus: Corpus, batch: int, part: slice) -> None:
    texts, keys = corpus.texts[part], corpus.keys[part]
    added = store.add_texts(texts, corpus.metadatas[part], ids=keys, batch_size=batch)
    assert added == keys


def runwire_queries(store: Any, corpus: Corpus, k: int, part: slice) -> None:
    for query in corpus.queries[part]:
        assert len(store.similarity_search(query, k)) == k


def boto3_ingest(client: Any, index: str, corpus: Corpus, batch: int, part: slice) -> None:
    """The requests ``add_texts`` sends: GetIndex (and CreateIndex when the index is
    missing), then PutVectors batches."""
    where = {"vectorBucketName": BUCKET, "indexName": index}
    try:
        client.get_index(**where)
    except client.exceptions.NotFoundException:
        client.create_index(
            **where, dataType="float32", dimension=len(corpus.vectors[0]), distanceMetric="cosine"
        )
    for start in range(part.start, min(part.stop, len(corpus.texts)), batch):
        rows = [
            {
                "key": corpus.keys[at],
                "data": {"float32": corpus.vectors[at]},
                "metadata": {**corpus.metadatas[at], "_page_content": corpus.texts[at]},
            }
            for at in range(start, min(start + batch, part.stop, len(corpus.texts)))
        ]
        client.put_vectors(**where, vectors=rows)


def boto3_queries(client: Any, index: str, corpus: Corpus, k: int, part: slice) -> None:
    where = {"vectorBucketName": BUCKET, "indexName": index}
    for vector in corpus.query_vectors[part]:
        found = client.query_vectors(
            **where,
            topK=k,
            queryVector={"float32": vector},
            returnMetadata=True,
            returnDistance=False,
        )
        assert len(found["vectors"]) == k


def bench_s3vectors(args: argparse.Namespace) -> list[tuple[str, float]]:
    corpus = Corpus(args.docs, args.queries, args.dimension)
    proc, endpoint = start_emulator("s3vectors")
    client = boto3_client("s3vectors", endpoint)
    client.create_vector_bucket(vectorBucketName=BUCKET)
    runs: dict[str, list[Timed]] = {name: [] for name in ("rw-in", "raw-in", "rw-q", "raw-q")}
    # one store and one client for every round, each side with its own index, made again
    # each round: both clients stay warm, as they would in a long-lived process
    ours, theirs = "runwire-side", "boto3-side"
    store = runwire_store(endpoint, ours, corpus)
    try:
        for round_ in range(args.rounds):
            mine, peer = interleaved(
                partial(runwire_ingest, store, corpus, args.batch),
                partial(boto3_ingest, client, theirs, corpus, args.batch),
                args.docs,
                args.ingest_block,
                round_,
            )
            runs["rw-in"].append(mine)
            runs["raw-in"].append(peer)
            if round_ < args.query_rounds:
                mine, peer = interleaved(
                    partial(runwire_queries, store, corpus, args.k),
                    partial(boto3_queries, client, theirs, corpus, args.k),
                    args.queries,
                    args.query_block,
                    round_,
                )
                runs["rw-q"].append(mine)
                runs["raw-q"].append(peer)
            for index in (ours, theirs):  # keep the emulator's memory flat
                client.delete_index(vectorBucketName=BUCKET, indexName=index)
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"S3 Vectors: {args.docs} documents of {args.dimension} dimensions in batches of "
        f"{args.batch}, add_texts of {args.ingest_block} at a time ({args.rounds} rounds), "
        f"{args.queries} queries (k={args.k}, "
        f"{min(args.rounds, args.query_rounds)} rounds of alternating blocks of {args.query_block})"
    )
    verdicts = []
    for what, unit, count, ours, theirs in (
        ("ingest", "docs", args.docs, runs["rw-in"], runs["raw-in"]),
        ("queries", "queries", args.queries, runs["rw-q"], runs["raw-q"]),
    ):
        ratio = report(what, unit, count, ours, theirs, "AmazonS3Vectors", "boto3 s3vectors")
        verdicts.append((f"S3 Vectors {what}", ratio))
    return verdicts


# -- SageMaker ------------------------------------------------------------------------------
def sagemaker_runwire(endpoint: str, texts: list[str], workers: int) -> Timed:
    from runwire.providers.aws import SagemakerEndpoint

    model = SagemakerEndpoint(
        endpoint_name=ENDPOINT,
        content_handler="tgi",
        model_kwargs={"max_new_tokens": 64},
        endpoint_url=endpoint,
        region_name="us-east-1",
    )
    model.invoke("warm up")
    results: list[Any] = []
    config = {"max_concurrency": workers}
    timed = Timed().add(lambda: results.extend(asyncio.run(model.abatch(texts, config))))
    assert results == texts  # the emulator's container answers with the prompt
    return timed


def sagemaker_boto3(endpoint: str, texts: list[str], workers: int) -> Timed:
    import json

    client = boto3_client("sagemaker-runtime", endpoint, workers)

    def call(text: str) -> str:
        body = json.dumps({"inputs": text, "parameters": {"max_new_tokens": 64}})
        response = client.invoke_endpoint(
            EndpointName=ENDPOINT,
            Body=body.encode(),
            ContentType="application/json",
            Accept="application/json",
        )
        return json.loads(response["Body"].read())[0]["generated_text"]

    call("warm up")
    results: list[str] = []

    def run() -> None:
        with ThreadPoolExecutor(workers) as pool:
            results.extend(pool.map(call, texts))

    timed = Timed().add(run)
    assert results == texts
    return timed


def bench_sagemaker(args: argparse.Namespace) -> list[tuple[str, float]]:
    proc, endpoint = start_emulator("sagemaker")
    texts = questions(args.calls)
    ours: list[Timed] = []
    theirs: list[Timed] = []
    try:
        for round_ in range(args.rounds):
            if round_ % 2:
                ours.append(sagemaker_runwire(endpoint, texts, args.workers))
            theirs.append(sagemaker_boto3(endpoint, texts, args.workers))
            if not round_ % 2:
                ours.append(sagemaker_runwire(endpoint, texts, args.workers))
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"SageMaker: {args.calls} invocations (tgi), {args.workers} workers, {args.rounds} rounds"
    )
    ratio = report(
        "abatch", "calls", args.calls, ours, theirs, "SagemakerEndpoint.abatch", "boto3 thread pool"
    )
    return [("SageMaker abatch", ratio)]


# -- reporting ------------------------------------------------------------------------------
_SINGULAR = {"docs": "doc", "queries": "query", "calls": "call"}


def report(
    what: str, unit: str, count: int, ours: list[Timed], theirs: list[Timed], us: str, peer: str
) -> float:
    """Print both sides' median throughput and the median per-round ratio; return it."""
    ours_rate = count / statistics.median(t.wall for t in ours)
    theirs_rate = count / statistics.median(t.wall for t in theirs)
    ratios = [t.wall / o.wall for t, o in zip(theirs, ours, strict=True)]
    ratio = statistics.median(ratios)
    cpu_ours = statistics.median(t.cpu for t in ours) / count * 1e6
    cpu_theirs = statistics.median(t.cpu for t in theirs) / count * 1e6
    verdict = "met" if ratio >= 0.9 else "MISSED"
    one = _SINGULAR[unit]
    print(f"  {what}")
    print(f"    {peer:<28}{theirs_rate:9.0f} {unit}/s   client CPU {cpu_theirs:7.0f} us/{one}")
    print(f"    {us:<28}{ours_rate:9.0f} {unit}/s   client CPU {cpu_ours:7.0f} us/{one}")
    print(f"    per-round ratios            {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"    throughput ratio {ratio:.2f}x, median of per-round ratios (>= 0.9x {verdict})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("s3vectors", "sagemaker"), default=None)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--dimension", type=int, default=16)
    parser.add_argument("--batch", type=int, default=500, help="vectors per PutVectors")
    parser.add_argument("--ingest-block", type=int, default=2000, help="documents per add_texts")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=20, help="even: each side first as often")
    parser.add_argument("--query-rounds", type=int, default=2, help="rounds that also query")
    parser.add_argument("--query-block", type=int, default=50, help="queries per turn")
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_EC2_METADATA_DISABLED="true",
        RUNWIRE_AWS_MAX_WORKERS=str(args.workers),
    )
    verdicts: list[tuple[str, float]] = []
    if args.only in (None, "s3vectors"):
        verdicts += bench_s3vectors(args)
    if args.only in (None, "sagemaker"):
        verdicts += bench_sagemaker(args)
    print("targets (>= 0.9x raw boto3 throughput):")
    for name, ratio in verdicts:
        print(f"  {name:<22}{ratio:5.2f}x  {'met' if ratio >= 0.9 else 'not met'}")


if __name__ == "__main__":
    main()
