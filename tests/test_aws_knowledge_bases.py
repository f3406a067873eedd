"""AmazonKnowledgeBasesRetriever, FormatDocuments and the Knowledge Bases emulator: fields
as langchain-aws has them, request shapes (botocore Stubber), end to end through boto3
against the Bedrock emulator's Retrieve, the RAG config, and langchain-aws as the peer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import SecretStr, ValidationError

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError, TemplateError
from runwire.loader.files import load_file
from runwire.providers.aws.knowledge_bases import (
    AmazonKnowledgeBasesRetriever,
    RetrievalConfig,
    retrieval_results_to_documents,
)
from runwire.runtime.format_documents import FormatDocuments
from runwire.schema.documents import Document
from runwire.testing.corpus import CorpusError, load_corpus

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
KB = "RUNWIREKB1"
KEYS = {
    "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
    "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
}
SHOP = [
    {
        "id": "ship",
        "title": "Shipping",
        "text": "Orders ship within 2 business days.",
        "uri": "s3://shop/shipping.md",
        "metadata": {"topic": "shipping", "year": 2024, "tags": ["orders", "delivery"]},
    },
    {
        "id": "returns",
        "text": "Returns of unworn orders are accepted for 30 days.",
        "uri": "https://shop.example/returns",
        "metadata": {"topic": "returns", "year": 2025, "tags": ["orders"]},
    },
    {"id": "gift", "text": "Gift cards never expire.", "metadata": {"topic": "gifts"}},
]


def retriever(emulator: Any, **kwargs: Any) -> AmazonKnowledgeBasesRetriever:
    settings = {
        "knowledge_base_id": "SHOPKB0001",
        "region_name": "us-east-1",
        "endpoint_url": emulator.endpoint_url,
        "config": {"retries": {"total_max_attempts": 1}},
        **KEYS,
    }
    return AmazonKnowledgeBasesRetriever(**{**settings, **kwargs})


@pytest.fixture
def kb(emu: Any) -> Any:
    """The module's emulator with the SHOP corpus as knowledge base SHOPKB0001."""
    emu.add_knowledge_base("SHOPKB0001", SHOP)
    return emu


def search(*, results: int = 5, **extra: Any) -> dict[str, Any]:
    return {"vectorSearchConfiguration": {"numberOfResults": results, **extra}}


# -- fields ---------------------------------------------------------------------------------
def test_fields_aliases_and_defaults_are_langchain_aws_ones() -> None:
    r = AmazonKnowledgeBasesRetriever(
        knowledge_base_id=KB, guardrails={"guardrailId": "g", "guardrailVersion": "1"}
    )
    assert r.guardrail_config == {"guardrailId": "g", "guardrailVersion": "1"}
    assert (r.retrieval_config, r.min_score_confidence, r.region_name) == (None, None, None)
    assert r.aws_service == "bedrock-agent-runtime"
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        AmazonKnowledgeBasesRetriever(knowledge_base_id=KB, min_score_confidence=1.5)
    with pytest.raises(ValidationError, match="guardrailVersion"):
        AmazonKnowledgeBasesRetriever(knowledge_base_id=KB, guardrail_config={"guardrailId": "g"})


def test_retrieval_config_objects_are_kept_in_their_request_form() -> None:
    config = RetrievalConfig.model_validate(
        {"vectorSearchConfiguration": {"filter": {"in": {"key": "topic", "value": ["a"]}}}}
    )
    r = AmazonKnowledgeBasesRetriever(knowledge_base_id=KB, retrieval_config=config)
    assert r.retrieval_config == {
        "vectorSearchConfiguration": {
            "numberOfResults": 4,  # the model's default, as langchain-aws sends it
            "filter": {"in": {"key": "topic", "value": ["a"]}},
        }
    }
    with pytest.raises(ValidationError, match="numberOfResults"):
        AmazonKnowledgeBasesRetriever(
            knowledge_base_id=KB,
            retrieval_config=search(results="many"),  # type: ignore[arg-type]
        )


def test_a_manifest_error_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "kb.yaml"
    path.write_text(
        "_type: AmazonKnowledgeBasesRetriever\nknowledge_base_id: RUNWIREKB1\n"
        "min_score_confidence: 2\n"
    )
    with pytest.raises(runwire.errors.RunwireError) as caught:
        load_file(path, env={})
    text = str(caught.value)
    assert "kb.yaml" in text and "min_score_confidence" in text


def test_secrets_never_reach_dumps_or_repr() -> None:
    r = AmazonKnowledgeBasesRetriever(knowledge_base_id=KB, **KEYS)
    text = runwire.dumps(r)
    assert EMULATOR_SECRET not in text and EMULATOR_SECRET not in repr(r)
    kwargs = json.loads(text)["kwargs"]
    assert kwargs["aws_secret_access_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SECRET_ACCESS_KEY"],
    }
    back = runwire.loads(
        text,
        allowed_objects="all",
        secrets_map={
            "AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET,
        },
    )
    assert back == r


# -- request shapes (Stubber) ---------------------------------------------------------------
def test_retrieve_request_shape() -> None:
    client = boto3.client(
        "bedrock-agent-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDSTUB",
        aws_secret_access_key="stub-secret",
    )
    config = search(results=2, filter={"equals": {"key": "topic", "value": "x"}})
    r = AmazonKnowledgeBasesRetriever(
        knowledge_base_id=KB,
        client=client,
        retrieval_config=config,
        guardrails={"guardrailId": "g", "guardrailVersion": "1"},
    )
    results = [
        {"content": {"type": "TEXT", "text": "hello"}, "score": 0.5},
        {"content": {"type": "TEXT", "text": "bye"}, "location": {"type": "S3"}},
    ]
    with Stubber(client) as stub:
        stub.add_response(
            "retrieve",
            {"retrievalResults": results},
            {
                "retrievalQuery": {"text": "what now?"},
                "knowledgeBaseId": KB,
                "guardrailConfiguration": {"guardrailId": "g", "guardrailVersion": "1"},
                "retrievalConfiguration": config,
            },
        )
        docs = r.invoke("  what now?  ")
        stub.assert_no_pending_responses()
    assert docs == [
        Document(page_content="hello", metadata={"score": 0.5, "type": "TEXT"}),
        Document(
            page_content="bye", metadata={"location": {"type": "S3"}, "type": "TEXT", "score": 0}
        ),
    ]


def test_content_types_become_page_content_as_in_langchain_aws() -> None:
    rows = [{"columnName": "a", "columnValue": "1", "type": "STRING"}]
    results = [
        {"content": {"type": "ROW", "row": rows}, "score": 0.9, "metadata": {"k": "v"}},
        {"content": {"type": "IMAGE", "byteContent": "aGk="}, "score": 0.8},
        {"content": {"type": "VIDEO"}, "score": 0.1},
        {"content": {"text": "untyped"}},
    ]
    docs = retrieval_results_to_documents(json.loads(json.dumps(results)))
    assert [d.page_content for d in docs] == [json.dumps(rows), "aGk=", "", "untyped"]
    assert docs[0].metadata == {"score": 0.9, "type": "ROW", "source_metadata": {"k": "v"}}
    assert docs[3].metadata == {"type": "TEXT", "score": 0}
    with pytest.raises(ValueError, match="content is missing"):
        retrieval_results_to_documents([{"score": 1.0}])


# -- end to end against the emulator ------------------------------------------------------
def test_documents_with_score_location_and_source_metadata(kb: Any) -> None:
    docs = retriever(kb, retrieval_config=search()).invoke("When do orders ship?")
    assert [d.metadata["source_metadata"]["x-amz-bedrock-kb-chunk-id"] for d in docs] == [
        "ship",
        "returns",
    ]
    first = docs[0]
    assert first.page_content == "Orders ship within 2 business days."
    assert first.metadata["location"] == {
        "type": "S3",
        "s3Location": {"uri": "s3://shop/shipping.md"},
    }
    assert first.metadata["type"] == "TEXT"
    assert first.metadata["source_metadata"]["topic"] == "shipping"
    assert 0 < docs[1].metadata["score"] < first.metadata["score"] == 1.0
    assert docs[1].metadata["location"] == {
        "type": "WEB",
        "webLocation": {"url": "https://shop.example/returns"},
    }
    sent = kb.requests[-1]
    assert (sent.operation, sent.model_id, sent.access_key_id) == (
        "Retrieve",
        "SHOPKB0001",
        EMULATOR_KEY_ID,
    )
    assert sent.body["retrievalQuery"] == {"text": "When do orders ship?"}


@pytest.mark.parametrize(
    ("flt", "ids"),
    [
        ({"equals": {"key": "topic", "value": "returns"}}, ["returns"]),
        ({"notEquals": {"key": "topic", "value": "returns"}}, ["ship", "gift"]),
        ({"greaterThanOrEquals": {"key": "year", "value": 2025}}, ["returns"]),
        ({"lessThan": {"key": "year", "value": 2025}}, ["ship"]),
        ({"in": {"key": "topic", "value": ["gifts", "shipping"]}}, ["ship", "gift"]),
        ({"notIn": {"key": "topic", "value": ["gifts", "shipping"]}}, ["returns"]),
        ({"listContains": {"key": "tags", "value": "delivery"}}, ["ship"]),
        ({"stringContains": {"key": "tags", "value": "deliv"}}, ["ship"]),
        ({"startsWith": {"key": "x-amz-bedrock-kb-source-uri", "value": "s3://"}}, ["ship"]),
        (
            {
                "orAll": [
                    {"equals": {"key": "topic", "value": "gifts"}},
                    {
                        "andAll": [
                            {"listContains": {"key": "tags", "value": "orders"}},
                            {"greaterThan": {"key": "year", "value": 2024}},
                        ]
                    },
                ]
            },
            ["returns", "gift"],
        ),
    ],
)
def test_retrieval_filters(kb: Any, flt: dict[str, Any], ids: list[str]) -> None:
    docs = retriever(kb, retrieval_config=search(filter=flt)).invoke(
        "orders ship returns gift cards"
    )
    assert sorted(
        d.metadata["source_metadata"]["x-amz-bedrock-kb-chunk-id"] for d in docs
    ) == sorted(ids)


def test_number_of_results_and_min_score_confidence(kb: Any) -> None:
    query = "orders ship"  # "ship" only in one document: it scores 1.0, the other less
    assert len(retriever(kb, retrieval_config=search(results=1)).invoke(query)) == 1
    every = retriever(kb).invoke(query)
    assert len(every) == 2  # the service's default of 5, of which two match
    strong = retriever(kb, min_score_confidence=0.9).invoke(query)
    assert strong and all(d.metadata["score"] >= 0.9 for d in strong)
    assert len(strong) < len(every)
    assert retriever(kb, min_score_confidence=0.0).invoke(query) == every  # 0 keeps all


def test_ainvoke_and_batch(kb: Any) -> None:
    r = retriever(kb)
    sync = r.invoke("gift cards")
    assert asyncio.run(r.ainvoke("gift cards")) == sync
    assert asyncio.run(r.abatch(["gift cards", "shipping"])) == r.batch(["gift cards", "shipping"])
    assert sync[0].page_content == "Gift cards never expire."


def test_the_guardrail_intervenes_on_forbidden_queries(kb: Any) -> None:
    r = retriever(kb, guardrails={"guardrailId": "g", "guardrailVersion": "1"})
    assert r.invoke("forbidden orders") == []
    assert r.invoke("orders")


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"knowledge_base_id": "MISSING001"}, "ResourceNotFoundException", 404),
        (
            {"retrieval_config": search(filter={"in": {"key": "topic", "value": "x"}})},
            "ValidationException",
            400,
        ),
        (
            {"retrieval_config": search(filter={"greaterThan": {"key": "year", "value": "soon"}})},
            "ValidationException",
            400,
        ),
    ],
)
def test_aws_errors_are_provider_errors(
    kb: Any, kwargs: dict[str, Any], code: str, status: int
) -> None:
    with pytest.raises(ProviderError) as caught:
        retriever(kb, **kwargs).invoke("orders")
    assert (caught.value.code, caught.value.status, caught.value.operation) == (
        code,
        status,
        "Retrieve",
    )


def test_throttling_is_retryable(kb: Any) -> None:
    kb.fail(status=429, code="ThrottlingException", operation="Retrieve")
    r = retriever(kb)
    with pytest.raises(ProviderError) as caught:
        r.invoke("orders")
    assert caught.value.code == "ThrottlingException" and caught.value.retryable
    assert r.with_retry(retry_if_exception_type=(ProviderError,)).invoke("orders")


def test_wrong_credentials_are_refused(kb: Any) -> None:
    r = retriever(kb, aws_secret_access_key=SecretStr("not-the-secret"))
    with pytest.raises(ProviderError) as caught:
        r.invoke("orders")
    assert caught.value.code == "InvalidSignatureException"
    assert "not-the-secret" not in str(caught.value)


def test_the_default_corpus_is_served_as_runwirekb1(emu: Any) -> None:
    docs = retriever(emu, knowledge_base_id=KB).invoke("emulator offline")
    assert docs[0].metadata["source_metadata"]["x-amz-bedrock-kb-chunk-id"] == "runwire-emulators"


def test_a_corpus_file_loads_and_bad_ones_are_named(kb: Any, tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text("# a comment\n" + "\n".join(json.dumps(r) for r in SHOP[:1]) + "\n\n")
    kb.add_knowledge_base("FILEKB0001", path)
    docs = retriever(kb, knowledge_base_id="FILEKB0001").invoke("ship")
    assert [d.page_content for d in docs] == [SHOP[0]["text"]]
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b"}\n')
    with pytest.raises(CorpusError, match=r"corpus.jsonl:2: 'text' must be a non-empty string"):
        load_corpus(path)
    path.write_text('{"id": "a", "text": "x", "colour": 1}\n')
    with pytest.raises(CorpusError, match="unknown key"):
        load_corpus(path)
    with pytest.raises(ValueError, match="10 letters or digits"):
        kb.add_knowledge_base("short", SHOP)


# -- FormatDocuments ------------------------------------------------------------------------
def test_format_documents_renders_each_and_joins() -> None:
    docs = [
        Document(page_content="A", metadata={"source": "a.md", "location": {"uri": "s3://a"}}),
        Document(page_content="B", metadata={"source": "b.md", "location": {"uri": "s3://b"}}),
    ]
    assert FormatDocuments().invoke(docs) == "A\n\nB"
    assert FormatDocuments(template="{source}: {page_content}", separator="|").invoke(docs) == (
        "a.md: A|b.md: B"
    )
    mustache = FormatDocuments(
        template="{{page_content}} <{{location.uri}}>", template_format="mustache"
    )
    assert mustache.invoke(docs) == "A <s3://a>\n\nB <s3://b>"
    assert FormatDocuments().invoke([]) == ""
    with pytest.raises(TemplateError, match="document 1 has no metadata key 'source'"):
        FormatDocuments(template="{source}").invoke([docs[0], Document(page_content="C")])
    with pytest.raises(TypeError, match="list of Documents"):
        FormatDocuments().invoke("text")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="attribute access"):
        FormatDocuments(template="{page_content.__class__}")
    with pytest.raises(ValidationError):
        FormatDocuments(template="{x}", template_format="jinja2")  # type: ignore[arg-type]


# -- the RAG config -------------------------------------------------------------------------
def test_rag_config_runs_against_the_emulator(aws_env: Any) -> None:
    question = json.loads((CONFIGS / "inputs" / "rag_kb.json").read_text())
    chain = load_file(CONFIGS / "rag_kb.yaml", env={"BEDROCK_ENDPOINT_URL": aws_env.endpoint_url})
    answer = chain.invoke(question)
    retrieve, converse = aws_env.requests
    assert (retrieve.operation, retrieve.model_id) == ("Retrieve", KB)
    assert retrieve.body["retrievalConfiguration"] == search(results=2)
    assert converse.operation == "Converse"
    # the emulator's model echoes the prompt: the retrieved passages reached it
    assert answer.startswith("Context:\n- runwire emulate starts a local emulator")
    assert answer.endswith(f"Question: {question}")
    assert answer.count("\n- ") == 2


def test_rag_config_with_a_corpus_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from runwire.testing.emulators import EMULATORS, EmulatorOptions

    path = tmp_path / "shop.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in SHOP))
    monkeypatch.setenv("RUNWIRE_EMULATOR_CORPUS", str(path))
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    started = EMULATORS["bedrock"].start(EmulatorOptions())
    try:
        for name, value in started.env.items():
            monkeypatch.setenv(name, value)
        chain = load_file(CONFIGS / "rag_kb.yaml", env=dict(started.env))
        answer = chain.invoke("How long are returns accepted?")
    finally:
        started.emulator.stop()
    assert started.env["KNOWLEDGE_BASE_ID"] == KB
    assert "- Returns of unworn orders are accepted for 30 days." in answer


# -- LangChain -----------------------------------------------------------------------------
def test_langchain_writes_its_retriever_as_not_implemented_which_loads_only_as_none() -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.retrievers import AmazonKnowledgeBasesRetriever as LcRetriever
    from langchain_core.load import dumpd

    lc = LcRetriever(knowledge_base_id=KB, region_name="us-east-1", **KEYS)
    data = dumpd(lc)
    assert data["type"] == "not_implemented"
    with pytest.raises(runwire.errors.RunwireError, match="not_implemented"):
        runwire.load(data, allowed_objects="all")
    assert runwire.load(data, allowed_objects="all", ignore_unserializable_fields=True) is None
    # its id still names runwire's class in a constructor node
    node = {**runwire.dumpd(AmazonKnowledgeBasesRetriever(knowledge_base_id=KB)), "id": data["id"]}
    assert type(runwire.load(node, allowed_objects="all")) is AmazonKnowledgeBasesRetriever


def test_langchain_aws_gets_the_same_documents_from_the_emulator(kb: Any) -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.retrievers import AmazonKnowledgeBasesRetriever as LcRetriever

    config = search(filter={"listContains": {"key": "tags", "value": "orders"}})
    lc = LcRetriever(
        knowledge_base_id="SHOPKB0001",
        region_name="us-east-1",
        endpoint_url=kb.endpoint_url,
        retrieval_config=config,
        min_score_confidence=0.2,
        **KEYS,
    )
    ours = retriever(kb, retrieval_config=config, min_score_confidence=0.2)
    for query in ("orders ship", "returns accepted", "nothing matches zzz"):
        theirs = lc.invoke(query)
        mine = ours.invoke(query)
        assert [(d.page_content, d.metadata) for d in mine] == [
            (d.page_content, d.metadata) for d in theirs
        ]
        assert [list(d.metadata) for d in mine] == [list(d.metadata) for d in theirs]
    retrieves = [r for r in kb.requests if r.operation == "Retrieve"]
    assert retrieves[0].body == retrieves[1].body  # the same request, key for key
