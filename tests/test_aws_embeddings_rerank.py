"""BedrockEmbeddings and BedrockRerank: request shapes (botocore Stubber) and end to end
through the Bedrock emulator, sync and async."""

from __future__ import annotations

import asyncio
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from pydantic import SecretStr

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws.embeddings import BedrockEmbeddings, l2_normalize
from runwire.providers.aws.rerank import BedrockRerank
from runwire.runtime.models.compressors import BaseDocumentCompressor
from runwire.schema.documents import Document

RERANK_ARN = "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"
JSON_CALL = {"accept": "application/json", "contentType": "application/json"}


# -- helpers -------------------------------------------------------------------------------
def stubbed_client(service: str) -> tuple[Any, Stubber, list[dict[str, Any]]]:
    """A real boto3 client under a Stubber, and the list its InvokeModel bodies land in."""
    client = boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="AKIDSTUB",
        aws_secret_access_key="stub-secret",
    )
    bodies: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if "body" in params:
            bodies.append(json.loads(params["body"]))

    client.meta.events.register(f"before-parameter-build.{service}.InvokeModel", record)
    return client, Stubber(client), bodies


def invoke_reply(payload: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(payload).encode()
    return {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}


def expect_invoke(stub: Stubber, model_id: str, payload: dict[str, Any]) -> None:
    stub.add_response(
        "invoke_model", invoke_reply(payload), {"modelId": model_id, "body": ANY, **JSON_CALL}
    )


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


@pytest.fixture
def runtime() -> Iterator[tuple[Any, Stubber, list[dict[str, Any]]]]:
    client, stub, bodies = stubbed_client("bedrock-runtime")
    with stub:
        yield client, stub, bodies
        stub.assert_no_pending_responses()


@pytest.fixture
def agent() -> Iterator[tuple[Any, Stubber]]:
    client, stub, _ = stubbed_client("bedrock-agent-runtime")
    with stub:
        yield client, stub
        stub.assert_no_pending_responses()


# -- BedrockEmbeddings: request shapes -----------------------------------------------------
def test_titan_sends_one_text_per_call_with_newlines_as_spaces(runtime: Any) -> None:
    client, stub, bodies = runtime
    expect_invoke(
        stub, "amazon.titan-embed-text-v1", {"embedding": [1, 2], "inputTextTokenCount": 1}
    )
    expect_invoke(stub, "amazon.titan-embed-text-v1", {"embedding": [3.5, 4]})
    model = BedrockEmbeddings(client=client)
    assert model.model_id == "amazon.titan-embed-text-v1"
    vectors = model.embed_documents(["alpha", "two\nlines"])
    assert vectors == [[1.0, 2.0], [3.5, 4.0]]
    assert all(type(x) is float for x in vectors[0])
    assert bodies == [{"inputText": "alpha"}, {"inputText": "two lines"}]


def test_titan_v2_options_travel_in_model_kwargs(runtime: Any) -> None:
    client, stub, bodies = runtime
    model_id = "amazon.titan-embed-text-v2:0"
    expect_invoke(stub, model_id, {"embedding": [0.0, 1.0]})
    model = BedrockEmbeddings(
        client=client, model_id=model_id, model_kwargs={"dimensions": 256, "normalize": True}
    )
    assert model.embed_query("q") == [0.0, 1.0]
    assert bodies == [{"inputText": "q", "dimensions": 256, "normalize": True}]


def test_cohere_batches_96_texts_per_call_as_search_documents(runtime: Any) -> None:
    client, stub, bodies = runtime
    model_id = "cohere.embed-english-v3"
    texts = [f"text {i}" for i in range(200)]
    for size in (96, 96, 8):
        expect_invoke(stub, model_id, {"embeddings": [[float(i), 1.0] for i in range(size)]})
    model = BedrockEmbeddings(client=client, model_id=model_id, model_kwargs={"truncate": "END"})
    vectors = model.embed_documents(texts)
    assert len(vectors) == 200
    assert vectors[95] == [95.0, 1.0] and vectors[96] == [0.0, 1.0]
    assert [len(b["texts"]) for b in bodies] == [96, 96, 8]
    assert [t for b in bodies for t in b["texts"]] == texts
    assert all(b["input_type"] == "search_document" and b["truncate"] == "END" for b in bodies)
    assert set(bodies[0]) == {"input_type", "texts", "truncate"}


def test_cohere_query_is_a_search_query(runtime: Any) -> None:
    client, stub, bodies = runtime
    expect_invoke(stub, "cohere.embed-multilingual-v3", {"embeddings": [[0.5, 0.5]]})
    model = BedrockEmbeddings(client=client, model_id="cohere.embed-multilingual-v3")
    assert model.embed_query("where\nis it") == [0.5, 0.5]
    assert bodies == [{"input_type": "search_query", "texts": ["where is it"]}]


def test_cohere_typed_embeddings_and_an_arn_with_provider(runtime: Any) -> None:
    client, stub, bodies = runtime
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    expect_invoke(stub, arn, {"embeddings": {"float": [[1.0, 0.0], [0.0, 1.0]]}})
    model = BedrockEmbeddings(
        client=client,
        model_id=arn,
        provider="cohere",
        model_kwargs={"embedding_types": ["float"]},
    )
    assert model.embed_documents(["a", "b"]) == [[1.0, 0.0], [0.0, 1.0]]
    assert bodies[0]["embedding_types"] == ["float"]


def test_model_kwargs_win_over_the_built_body(runtime: Any) -> None:
    client, stub, bodies = runtime
    expect_invoke(stub, "cohere.embed-english-v3", {"embeddings": [[1.0]]})
    model = BedrockEmbeddings(
        client=client, model_id="cohere.embed-english-v3", model_kwargs={"input_type": "clustering"}
    )
    model.embed_query("x")
    assert bodies == [{"input_type": "clustering", "texts": ["x"]}]


def test_normalize_scales_vectors_locally(runtime: Any) -> None:
    client, stub, bodies = runtime
    expect_invoke(stub, "amazon.titan-embed-text-v1", {"embedding": [3, 4]})
    expect_invoke(stub, "amazon.titan-embed-text-v1", {"embedding": [0, 0]})
    model = BedrockEmbeddings(client=client, normalize=True)
    assert model.embed_documents(["a", "b"]) == [[0.6, 0.8], [0.0, 0.0]]
    assert bodies == [{"inputText": "a"}, {"inputText": "b"}]  # nothing asked of the model


def test_l2_normalize() -> None:
    assert l2_normalize([3.0, -4.0]) == [0.6, -0.8]
    assert l2_normalize([0.0, 0.0]) == [0.0, 0.0]
    assert math.isclose(norm(l2_normalize([1e-3, 2e-3, 7.0])), 1.0)


def test_no_texts_no_calls(runtime: Any) -> None:
    client, _, _ = runtime
    model = BedrockEmbeddings(client=client, model_id="cohere.embed-english-v3")
    assert model.embed_documents([]) == []
    assert asyncio.run(model.aembed_documents([])) == []


def test_a_reply_with_the_wrong_number_of_vectors_is_a_provider_error(runtime: Any) -> None:
    client, stub, _ = runtime
    stub.add_response(
        "invoke_model",
        {**invoke_reply({"embeddings": [[1.0]]}), "ResponseMetadata": {"RequestId": "rid-7"}},
    )
    model = BedrockEmbeddings(client=client, model_id="cohere.embed-english-v3")
    with pytest.raises(ProviderError) as info:
        model.embed_documents(["a", "b"])
    assert info.value.code == "MalformedResponse"
    assert "1 embeddings for 2 texts" in str(info.value)


def test_service_errors_become_provider_errors(runtime: Any) -> None:
    client, stub, _ = runtime
    stub.add_client_error(
        "invoke_model",
        service_error_code="ValidationException",
        service_message="Malformed input request",
        http_status_code=400,
    )
    model = BedrockEmbeddings(client=client)
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    assert (info.value.code, info.value.status) == ("ValidationException", 400)


@pytest.mark.parametrize(
    ("model_id", "provider", "error"),
    [
        ("meta.llama3-8b-instruct-v1:0", None, NotImplementedError),
        ("arn:aws:bedrock:us-east-1:123456789012:custom-model/x", None, ValueError),
    ],
)
def test_unsupported_models_fail_before_any_call(
    runtime: Any, model_id: str, provider: str | None, error: type[Exception]
) -> None:
    client, _, _ = runtime
    model = BedrockEmbeddings(client=client, model_id=model_id, provider=provider)
    with pytest.raises(error, match="provider"):
        model.embed_query("x")


def test_async_embeddings_run_concurrently_in_order(runtime: Any) -> None:
    client, stub, bodies = runtime
    for i in range(5):
        expect_invoke(stub, "amazon.titan-embed-text-v1", {"embedding": [float(i)]})
    model = BedrockEmbeddings(client=client)
    vectors = asyncio.run(model.aembed_documents([f"t{i}" for i in range(5)]))
    # each call's vector comes back at its text's place, whichever call ran first
    assert sorted(b["inputText"] for b in bodies) == [f"t{i}" for i in range(5)]
    assert sorted(v[0] for v in vectors) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_async_query(runtime: Any) -> None:
    client, stub, bodies = runtime
    expect_invoke(stub, "cohere.embed-english-v3", {"embeddings": [[2.0, 0.0]]})
    model = BedrockEmbeddings(client=client, model_id="cohere.embed-english-v3", normalize=True)
    assert asyncio.run(model.aembed_query("q")) == [1.0, 0.0]
    assert bodies[0]["input_type"] == "search_query"


# -- BedrockEmbeddings: fields and wire form -----------------------------------------------
def test_embeddings_fields_and_wire_form() -> None:
    model = BedrockEmbeddings(
        model_id="cohere.embed-english-v3",
        region_name="us-east-1",
        credentials_profile_name="team",
        aws_access_key_id=SecretStr("AKIDWIRE"),
        aws_secret_access_key=SecretStr("wire-secret-value"),
        model_kwargs={"truncate": "END"},
        normalize=True,
        endpoint_url="http://127.0.0.1:9",
        client=object(),
    )
    assert BedrockEmbeddings.is_lc_serializable()
    node = runwire.dumpd(model)
    assert node["id"] == ["runwire", "providers", "aws", "BedrockEmbeddings"]
    assert node["kwargs"] == {
        "region_name": "us-east-1",
        "credentials_profile_name": "team",
        "aws_access_key_id": {"lc": 1, "type": "secret", "id": ["AWS_ACCESS_KEY_ID"]},
        "aws_secret_access_key": {"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]},
        "endpoint_url": "http://127.0.0.1:9",
        "model_id": "cohere.embed-english-v3",
        "model_kwargs": {"truncate": "END"},
        "normalize": True,
    }
    lc = runwire.dumpd(model, dialect="langchain")
    assert lc["id"] == ["langchain_aws", "embeddings", "bedrock", "BedrockEmbeddings"]
    assert "wire-secret-value" not in runwire.dumps(model) + repr(model) + str(model)


def test_embeddings_defaults_match_langchain_aws() -> None:
    model = BedrockEmbeddings()
    assert (model.model_id, model.model_kwargs, model.provider) == (
        "amazon.titan-embed-text-v1",
        None,
        None,
    )
    assert (model.normalize, model.endpoint_url, model.config, model.client) == (
        False,
        None,
        None,
        None,
    )
    assert model.credentials_profile_name is None and model.region_name is None


# -- BedrockRerank: request shapes ---------------------------------------------------------
def rerank_params(
    sources: list[dict[str, Any]], query: str, n: int | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    model: dict[str, Any] = {"modelArn": RERANK_ARN}
    if extra:
        model["additionalModelRequestFields"] = extra
    config: dict[str, Any] = {"modelConfiguration": model}
    if n is not None:
        config["numberOfResults"] = n
    return {
        "queries": [{"type": "TEXT", "textQuery": {"text": query}}],
        "sources": [{"type": "INLINE", "inlineDocumentSource": s} for s in sources],
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": config,
        },
    }


def text_source(text: str) -> dict[str, Any]:
    return {"type": "TEXT", "textDocument": {"text": text}}


def rerank_reply(*rows: tuple[int, float], token: str | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"results": [{"index": i, "relevanceScore": s} for i, s in rows]}
    if token:
        reply["nextToken"] = token
    return reply


def test_rerank_request_for_strings_documents_and_dicts(agent: Any) -> None:
    client, stub = agent
    documents = ["plain text", Document("a document", metadata={"k": 1}), {"title": "json"}]
    sources = [
        text_source("plain text"),
        text_source("a document"),
        {"type": "JSON", "jsonDocument": {"title": "json"}},
    ]
    stub.add_response(
        "rerank",
        rerank_reply((2, 0.9), (0, 0.5), (1, 0.1)),
        rerank_params(sources, "which one?", 3, {"max_tokens_per_doc": 512}),
    )
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)
    rows = model.rerank(
        documents, "which one?", additional_model_request_fields={"max_tokens_per_doc": 512}
    )
    assert rows == [
        {"index": 2, "relevance_score": 0.9},
        {"index": 0, "relevance_score": 0.5},
        {"index": 1, "relevance_score": 0.1},
    ]


@pytest.mark.parametrize(
    ("field", "argument", "sent"),
    [(3, None, 2), (1, None, 1), (3, 2, 2), (None, None, None), (None, 1, 1), (5, 10, 2)],
)
def test_rerank_number_of_results(
    agent: Any, field: int | None, argument: int | None, sent: int | None
) -> None:
    client, stub = agent
    stub.add_response(
        "rerank",
        rerank_reply((1, 0.7)),
        rerank_params([text_source("a"), text_source("b")], "q", sent),
    )
    model = BedrockRerank(model_arn=RERANK_ARN, client=client, top_n=field)
    assert model.rerank(["a", "b"], "q", top_n=argument) == [{"index": 1, "relevance_score": 0.7}]


def test_rerank_follows_next_tokens(agent: Any) -> None:
    client, stub = agent
    params = rerank_params([text_source("a"), text_source("b")], "q", 2)
    stub.add_response("rerank", rerank_reply((1, 0.8), token="page-2"), params)
    stub.add_response("rerank", rerank_reply((0, 0.2)), {**params, "nextToken": "page-2"})
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)
    assert [r["index"] for r in model.rerank(["a", "b"], "q")] == [1, 0]


def test_rerank_without_documents_makes_no_call(agent: Any) -> None:
    client, _ = agent
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)
    assert model.rerank([], "q") == []
    assert model.compress_documents([], "q") == []


def test_rerank_refuses_other_document_types(agent: Any) -> None:
    client, _ = agent
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)
    with pytest.raises(TypeError, match="int"):
        model.rerank(["ok", 3], "q")  # type: ignore[list-item]


def test_compress_documents_returns_scored_copies(agent: Any) -> None:
    client, stub = agent
    documents = [
        Document("first", id="d1", metadata={"source": "a"}),
        Document("second", id="d2"),
        Document("third", id="d3", metadata={"relevance_score": -1}),
    ]
    stub.add_response(
        "rerank",
        rerank_reply((2, 0.75), (0, 0.25)),
        rerank_params([text_source(d.page_content) for d in documents], "q", 2),
    )
    model = BedrockRerank(model_arn=RERANK_ARN, client=client, top_n=2)
    out = model.compress_documents(documents, "q")
    assert [(d.id, d.page_content, d.metadata) for d in out] == [
        ("d3", "third", {"relevance_score": 0.75}),
        ("d1", "first", {"source": "a", "relevance_score": 0.25}),
    ]
    assert documents[0].metadata == {"source": "a"}  # inputs untouched
    assert documents[2].metadata == {"relevance_score": -1}
    assert out[0] is not documents[2]


def test_async_rerank_and_compress(agent: Any) -> None:
    client, stub = agent
    params = rerank_params([text_source("a"), text_source("b")], "q", 2)
    stub.add_response("rerank", rerank_reply((1, 0.6), (0, 0.4)), params)
    stub.add_response("rerank", rerank_reply((1, 0.6)), params)
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)

    async def both() -> tuple[Any, Any]:
        rows = await model.arerank(["a", "b"], "q")
        docs = await model.acompress_documents([Document("a"), Document("b")], "q")
        return rows, docs

    rows, docs = asyncio.run(both())
    assert [r["index"] for r in rows] == [1, 0]
    assert [(d.page_content, d.metadata) for d in docs] == [("b", {"relevance_score": 0.6})]


def test_rerank_service_errors_become_provider_errors(agent: Any) -> None:
    client, stub = agent
    stub.add_client_error(
        "rerank", service_error_code="AccessDeniedException", http_status_code=403
    )
    model = BedrockRerank(model_arn=RERANK_ARN, client=client)
    with pytest.raises(ProviderError) as info:
        model.rerank(["a"], "q")
    assert (info.value.provider, info.value.code) == (
        "bedrock-agent-runtime",
        "AccessDeniedException",
    )


# -- BedrockRerank: fields and wire form ---------------------------------------------------
def test_rerank_fields_and_wire_form(monkeypatch: pytest.MonkeyPatch) -> None:
    model = BedrockRerank(
        model_arn=RERANK_ARN, base_url="http://127.0.0.1:9", region_name="eu-west-1"
    )
    assert (model.top_n, model.endpoint_url, model.credentials_profile_name) == (
        3,
        "http://127.0.0.1:9",
        None,
    )
    assert BedrockRerank.aws_service == "bedrock-agent-runtime"
    assert isinstance(model, BaseDocumentCompressor)
    node = runwire.dumpd(model)
    assert node["id"] == ["runwire", "providers", "aws", "BedrockRerank"]
    assert node["kwargs"] == {
        "region_name": "eu-west-1",
        "endpoint_url": "http://127.0.0.1:9",
        "model_arn": RERANK_ARN,
        "top_n": 3,  # LangChain's rule: truthy values are written, defaults or not
    }
    lc = runwire.dumpd(model, dialect="langchain")
    assert lc["id"] == ["langchain_aws", "document_compressors", "rerank", "BedrockRerank"]
    back = runwire.loads(runwire.dumps(model), allowed_objects="all", trusted=True)
    assert back == model
    # as in langchain-aws, the profile defaults to AWS_PROFILE
    monkeypatch.setenv("AWS_PROFILE", "reranking")
    assert BedrockRerank(model_arn=RERANK_ARN).credentials_profile_name == "reranking"
    with pytest.raises(ValueError, match="model_arn"):
        BedrockRerank()


def test_base_document_compressor_defaults_async_to_sync() -> None:
    class KeepShort(BaseDocumentCompressor):
        limit: int = 5

        def compress_documents(
            self, documents: Any, query: str, callbacks: Any = None
        ) -> list[Document]:
            return [d for d in documents if len(d.page_content) <= self.limit]

    docs = [Document("short"), Document("much too long")]
    assert [d.page_content for d in asyncio.run(KeepShort().acompress_documents(docs, "q"))] == [
        "short"
    ]
    with pytest.raises(TypeError):
        BaseDocumentCompressor()  # type: ignore[abstract]
    assert not BaseDocumentCompressor.is_lc_serializable()


# -- end to end through the emulator -------------------------------------------------------
NO_RETRY = Config(retries={"total_max_attempts": 1})

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"


def live_embeddings(emu: Any, **kwargs: Any) -> BedrockEmbeddings:
    return BedrockEmbeddings(endpoint_url=emu.endpoint_url, **kwargs)


def invoked(emu: Any) -> list[Any]:
    return [r for r in emu.requests if r.operation == "InvokeModel"]


@pytest.mark.parametrize(
    ("model_id", "model_kwargs", "size"),
    [
        ("amazon.titan-embed-text-v1", None, 1536),
        (TITAN_V2, None, 1024),
        (TITAN_V2, {"dimensions": 256, "normalize": True}, 256),
        (COHERE, None, 1024),
    ],
)
def test_live_embeddings_by_model(
    aws_env: Any, model_id: str, model_kwargs: dict[str, Any] | None, size: int
) -> None:
    model = live_embeddings(aws_env, model_id=model_id, model_kwargs=model_kwargs)
    first, second = model.embed_documents(["the same text", "another text"])
    assert len(first) == len(second) == size
    assert first != second
    assert model.embed_documents(["the same text"]) == [first]  # same text, same vector
    requests = invoked(aws_env)
    assert {r.model_id for r in requests} == {model_id}
    assert requests[0].access_key_id == EMULATOR_KEY_ID
    if model_kwargs:
        assert all(r.body["dimensions"] == 256 for r in requests)


def test_live_cohere_batches_over_96_texts(aws_env: Any) -> None:
    model = live_embeddings(aws_env, model_id=COHERE)
    texts = [f"document number {i}" for i in range(100)]
    vectors = model.embed_documents(texts)
    assert len(vectors) == 100 and len({tuple(v) for v in vectors}) == 100
    requests = invoked(aws_env)
    assert [len(r.body["texts"]) for r in requests] == [96, 4]
    assert {r.body["input_type"] for r in requests} == {"search_document"}
    query = model.embed_query("document number 3")
    assert len(query) == 1024
    assert invoked(aws_env)[-1].body == {
        "input_type": "search_query",
        "texts": ["document number 3"],
    }


@pytest.mark.parametrize("model_id", ["amazon.titan-embed-text-v1", COHERE])
def test_live_normalize_gives_unit_vectors(aws_env: Any, model_id: str) -> None:
    model = live_embeddings(aws_env, model_id=model_id, normalize=True)
    for vector in [*model.embed_documents(["one", "two words"]), model.embed_query("three")]:
        assert math.isclose(norm(vector), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("model_id", [TITAN_V2, COHERE])
def test_live_async_embeddings_match_sync(aws_env: Any, model_id: str) -> None:
    model = live_embeddings(aws_env, model_id=model_id)
    texts = [f"text {i}" for i in range(20)]

    async def both() -> tuple[list[list[float]], list[float]]:
        return await model.aembed_documents(texts), await model.aembed_query("a query")

    documents, query = asyncio.run(both())
    assert documents == model.embed_documents(texts)
    assert query == model.embed_query("a query")


def test_live_embeddings_failure_is_a_provider_error(aws_env: Any) -> None:
    aws_env.fail(status=429, code="ThrottlingException", message="Rate exceeded", times=1)
    model = live_embeddings(aws_env, config=NO_RETRY)
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    error = info.value
    assert (error.provider, error.code, error.status) == (
        "bedrock-runtime",
        "ThrottlingException",
        429,
    )
    assert error.request_id and error.retryable
    assert EMULATOR_SECRET not in str(error) + repr(error)
    assert len(model.embed_query("x")) == 1536  # the failure was used up


DOCS = [
    Document("dogs bark at night", id="dogs"),
    Document("the cat sat on the mat", id="cat-mat", metadata={"shelf": 2}),
    Document("a cat and a dog", id="cat-dog"),
    Document("rain in spain", id="rain"),
]


def live_rerank(emu: Any, **kwargs: Any) -> BedrockRerank:
    return BedrockRerank(model_arn=RERANK_ARN, base_url=emu.endpoint_url, **kwargs)


def test_live_rerank_orders_by_relevance(aws_env: Any) -> None:
    model = live_rerank(aws_env)
    rows = model.rerank(DOCS, "the cat sat", top_n=4)
    scores = [r["relevance_score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert rows[0]["index"] == 1  # the most words in common
    assert sorted(r["index"] for r in rows) == [0, 1, 2, 3]
    assert [r["index"] for r in model.rerank(DOCS, "the cat sat")] == [r["index"] for r in rows[:3]]
    (request,) = [r for r in aws_env.requests if r.operation == "Rerank"][:1]
    assert request.access_key_id == EMULATOR_KEY_ID
    config = request.body["rerankingConfiguration"]["bedrockRerankingConfiguration"]
    assert config == {"modelConfiguration": {"modelArn": RERANK_ARN}, "numberOfResults": 4}


def test_live_compress_documents(aws_env: Any) -> None:
    model = live_rerank(aws_env, top_n=2)
    out = model.compress_documents(DOCS, "cat sat on the mat")
    assert [d.id for d in out] == ["cat-mat", "cat-dog"]
    assert out[0].metadata["shelf"] == 2
    assert out[0].metadata["relevance_score"] >= out[1].metadata["relevance_score"]
    assert "relevance_score" not in DOCS[1].metadata

    async def both() -> tuple[Any, Any]:
        return await model.acompress_documents(DOCS, "cat sat on the mat"), await model.arerank(
            ["rain", "spain rain"], "rain in spain", top_n=1
        )

    async_out, rows = asyncio.run(both())
    assert async_out == out
    assert [r["index"] for r in rows] == [1]


def test_live_rerank_failure_is_a_provider_error(aws_env: Any) -> None:
    aws_env.fail(status=400, code="ValidationException", message="bad input", operation="Rerank")
    model = live_rerank(aws_env, config=NO_RETRY)
    with pytest.raises(ProviderError) as info:
        model.rerank(["a"], "a")
    assert (info.value.provider, info.value.code, info.value.status) == (
        "bedrock-agent-runtime",
        "ValidationException",
        400,
    )
    assert info.value.request_id
