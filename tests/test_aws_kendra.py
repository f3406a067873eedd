"""AmazonKendraRetriever and the Kendra emulator: fields as langchain-aws has them, request
shapes (botocore Stubber), Retrieve with the fallback to Query end to end through boto3
against the emulator (JSON 1.1, SigV4), `runwire emulate kendra`, and langchain-aws as
the peer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import SecretStr, ValidationError

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws.kendra import (
    PAGE_CONTENT_FORMATTERS,
    AmazonKendraRetriever,
    ResultItem,
    register_page_content_formatter,
)
from runwire.schema.documents import Document
from runwire.testing.kendra import DEFAULT_INDEX_ID, KendraEmulator

INDEX = "0123456789abcdef0123456789abcdef0123"
KEYS = {
    "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
    "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
}
HANDBOOK = [
    {
        "id": "leave",
        "title": "Leave policy",
        "text": "Staff get 25 days of paid leave a year.   Unused days carry over...",
        "uri": "s3://handbook/leave.md",
        "metadata": {"department": "hr", "year": 2024, "tags": ["leave", "policy"]},
    },
    {
        "id": "expenses",
        "title": "Expenses",
        "text": "Claim travel expenses within 30 days with receipts.",
        "uri": "https://intranet.example/expenses",
        "metadata": {"department": "finance", "year": 2025, "tags": ["travel"]},
    },
    {
        "id": "salaries",
        "title": "Salary bands",
        "text": "Salary bands are reviewed every year by the board.",
        "metadata": {"department": "hr", "year": 2025},
        "access": {"groups": ["managers"]},
    },
    {
        "id": "faq-parking",
        "kind": "faq",
        "question": "Where can I park my bike?",
        "text": "Bikes go in the basement rack.",
        "uri": "s3://handbook/faq.md",
        "metadata": {"department": "facilities"},
    },
]


@pytest.fixture(scope="module")
def module_kendra() -> Iterator[KendraEmulator]:
    with KendraEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        emulator.add_index(INDEX, HANDBOOK)
        yield emulator


@pytest.fixture
def kendra(module_kendra: KendraEmulator) -> Iterator[KendraEmulator]:
    module_kendra.reset()
    yield module_kendra
    module_kendra.reset()


def retriever(emulator: KendraEmulator, **kwargs: Any) -> AmazonKendraRetriever:
    settings = {
        "index_id": INDEX,
        "region_name": "us-east-1",
        "endpoint_url": emulator.endpoint_url,
        "config": {"retries": {"total_max_attempts": 1}},
        **KEYS,
    }
    return AmazonKendraRetriever(**{**settings, **kwargs})


def ids(docs: list[Document]) -> list[str]:
    return [d.metadata["document_id"] for d in docs]


# -- fields ---------------------------------------------------------------------------------
def test_fields_and_defaults() -> None:
    r = AmazonKendraRetriever(index_id=INDEX)
    assert (r.top_k, r.page_content_formatter, r.attribute_filter, r.user_context) == (
        3,
        "combined_text",
        None,
        None,
    )
    assert r.min_score_confidence is None  # langchain-aws requires it be passed
    assert r.aws_service == "kendra"
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        AmazonKendraRetriever(index_id=INDEX, top_k=-1)
    with pytest.raises(ValidationError, match="unknown page_content_formatter 'nope'"):
        AmazonKendraRetriever(index_id=INDEX, page_content_formatter="nope")


def test_formatters_are_names_and_registered_functions_stay_serializable() -> None:
    def shout(item: ResultItem) -> str:
        return item.get_title().upper()

    with pytest.raises(ValidationError, match="register_page_content_formatter"):
        AmazonKendraRetriever(index_id=INDEX, page_content_formatter=shout)
    register_page_content_formatter("shout", shout)
    try:
        r = AmazonKendraRetriever(index_id=INDEX, page_content_formatter=shout)
        assert r.page_content_formatter == "shout"
        assert json.loads(runwire.dumps(r))["kwargs"]["page_content_formatter"] == "shout"
        with pytest.raises(ValueError, match="already registered"):
            register_page_content_formatter("shout", lambda item: "")
    finally:
        PAGE_CONTENT_FORMATTERS.pop("shout")


def test_secrets_never_reach_dumps_or_repr() -> None:
    r = AmazonKendraRetriever(index_id=INDEX, **KEYS)
    text = runwire.dumps(r)
    assert EMULATOR_SECRET not in text and EMULATOR_SECRET not in repr(r)
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
def test_retrieve_then_query_request_shapes() -> None:
    client = boto3.client(
        "kendra", region_name="us-east-1", aws_access_key_id="AKIDSTUB", aws_secret_access_key="s"
    )
    flt = {"EqualsTo": {"Key": "_language_code", "Value": {"StringValue": "en"}}}
    user = {"UserId": "ana"}
    r = AmazonKendraRetriever(
        index_id=INDEX, client=client, top_k=2, attribute_filter=flt, user_context=user
    )
    expected = {
        "IndexId": INDEX,
        "QueryText": "x" * 999,
        "PageSize": 2,
        "AttributeFilter": flt,
        "UserContext": user,
    }
    answer = {
        "Id": "q-1",
        "Type": "ANSWER",
        "DocumentTitle": {"Text": "T"},
        "AdditionalAttributes": [
            {
                "Key": "AnswerText",
                "ValueType": "TEXT_WITH_HIGHLIGHTS_VALUE",
                "Value": {"TextWithHighlightsValue": {"Text": "the   answer..."}},
            }
        ],
        "DocumentExcerpt": {"Text": "ignored"},
    }
    with Stubber(client) as stub:
        stub.add_response("retrieve", {"QueryId": "r", "ResultItems": []}, expected)
        stub.add_response("query", {"QueryId": "q", "ResultItems": [answer]}, expected)
        (doc,) = r.invoke("  " + "x" * 1200)
        stub.assert_no_pending_responses()
    assert doc.page_content == "Document Title: T\nDocument Excerpt: \nthe answer\n"
    assert doc.metadata == {
        "type": "ANSWER",
        "result_id": "q-1",
        "document_id": None,
        "source": None,
        "title": "T",
        "excerpt": "the   answer...",
        "document_attributes": {},
        "score": "NOT_AVAILABLE",
    }


# -- end to end against the emulator ------------------------------------------------------
def test_retrieve_documents_with_langchain_aws_metadata(kendra: KendraEmulator) -> None:
    docs = retriever(kendra).invoke("days of paid leave")
    assert ids(docs)[0] == "leave"
    first = docs[0]
    assert first.page_content == (
        "Document Title: Leave policy\nDocument Excerpt: \n"
        "Staff get 25 days of paid leave a year. Unused days carry over\n"
    )
    assert list(first.metadata) == [
        "result_id",
        "document_id",
        "source",
        "title",
        "excerpt",
        "document_attributes",
        "score",
    ]
    assert first.metadata["source"] == "s3://handbook/leave.md"
    assert first.metadata["document_attributes"] == {
        "department": "hr",
        "year": 2024,
        "tags": ["leave", "policy"],
        "_source_uri": "s3://handbook/leave.md",
    }
    assert first.metadata["score"] in ("VERY_HIGH", "HIGH")
    (call,) = kendra.requests
    assert (call.operation, call.access_key_id, call.region) == (
        "Retrieve",
        EMULATOR_KEY_ID,
        "us-east-1",
    )
    assert call.headers["x-amz-target"] == "AWSKendraFrontendService.Retrieve"
    assert call.body == {
        "IndexId": INDEX,
        "QueryText": "days of paid leave",
        "PageSize": 3,
    }


def test_no_passage_falls_back_to_query_and_its_faq_answers(kendra: KendraEmulator) -> None:
    docs = retriever(kendra).invoke("Where do I park a bike?")
    assert [c.operation for c in kendra.requests] == ["Retrieve", "Query"]
    (doc,) = docs
    assert doc.metadata["type"] == "QUESTION_ANSWER"
    assert doc.metadata["title"] == "Where can I park my bike?"
    assert doc.metadata["excerpt"] == "Bikes go in the basement rack."
    assert doc.page_content.startswith("Document Title: Where can I park my bike?\n")


def test_top_k_formatters_and_min_score_confidence(kendra: KendraEmulator) -> None:
    query = "days leave claim travel expenses receipts"
    every = retriever(kendra, top_k=10).invoke(query)
    assert ids(every) == ["expenses", "leave"]
    assert ids(retriever(kendra, top_k=1).invoke(query)) == ["expenses"]
    assert kendra.requests[-1].body["PageSize"] == 1
    titles = retriever(kendra, page_content_formatter="title").invoke(query)
    assert [d.page_content for d in titles] == ["Expenses", "Leave policy"]
    excerpt = retriever(kendra, page_content_formatter="excerpt").invoke("receipts")
    assert excerpt[0].page_content == "Claim travel expenses within 30 days with receipts."
    strong = retriever(kendra, top_k=10, min_score_confidence=0.75).invoke(query)
    scores = {d.metadata["document_id"]: d.metadata["score"] for d in every}
    assert ids(strong) == [i for i in ids(every) if scores[i] in ("HIGH", "VERY_HIGH")]
    assert len(strong) < len(every)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"EqualsTo": {"Key": "department", "Value": {"StringValue": "finance"}}}, ["expenses"]),
        ({"GreaterThanOrEquals": {"Key": "year", "Value": {"LongValue": 2025}}}, ["expenses"]),
        ({"ContainsAny": {"Key": "tags", "Value": {"StringListValue": ["leave", "x"]}}}, ["leave"]),
        (
            {"ContainsAll": {"Key": "tags", "Value": {"StringListValue": ["leave", "policy"]}}},
            ["leave"],
        ),
        (
            {"NotFilter": {"EqualsTo": {"Key": "department", "Value": {"StringValue": "hr"}}}},
            ["expenses"],
        ),
        (
            {
                "OrAllFilters": [
                    {"EqualsTo": {"Key": "_document_title", "Value": {"StringValue": "Expenses"}}},
                    {"LessThan": {"Key": "year", "Value": {"LongValue": 2025}}},
                ]
            },
            ["expenses", "leave"],
        ),
    ],
)
def test_attribute_filters(
    kendra: KendraEmulator, flt: dict[str, Any], expected: list[str]
) -> None:
    docs = retriever(kendra, top_k=10, attribute_filter=flt).invoke("days leave travel expenses")
    assert sorted(ids(docs)) == sorted(expected)


def test_user_context_opens_restricted_documents(kendra: KendraEmulator) -> None:
    query = "salary bands reviewed"
    assert retriever(kendra).invoke(query) == []  # hidden, and no FAQ answers it either
    assert [c.operation for c in kendra.requests] == ["Retrieve", "Query"]
    manager = retriever(kendra, user_context={"UserId": "bo", "Groups": ["managers"]})
    assert ids(manager.invoke(query)) == ["salaries"]


def test_ainvoke_matches_invoke(kendra: KendraEmulator) -> None:
    r = retriever(kendra)
    assert asyncio.run(r.ainvoke("paid leave")) == r.invoke("paid leave")
    assert asyncio.run(r.ainvoke("park a bike")) == r.invoke("park a bike")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"index_id": "f" * 36}, "ResourceNotFoundException"),
        (
            {"attribute_filter": {"EqualsTo": {"Key": "k", "Value": {"DateValue": 0}}}},
            "ValidationException",
        ),
        ({"attribute_filter": {"EqualsTo": {"Key": "k", "Value": {}}}}, "ValidationException"),
    ],
)
def test_aws_errors_are_provider_errors(
    kendra: KendraEmulator, kwargs: dict[str, Any], code: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        retriever(kendra, **kwargs).invoke("leave")
    assert (caught.value.code, caught.value.status, caught.value.provider) == (code, 400, "kendra")


def test_throttling_and_credentials(kendra: KendraEmulator) -> None:
    kendra.fail(code="ThrottlingException", operation="Retrieve")
    with pytest.raises(ProviderError) as caught:
        retriever(kendra).invoke("leave")
    assert caught.value.code == "ThrottlingException" and caught.value.retryable
    assert retriever(kendra).invoke("leave")
    with pytest.raises(ProviderError) as caught:
        retriever(kendra, aws_secret_access_key=SecretStr("wrong-secret")).invoke("leave")
    assert caught.value.code == "InvalidSignatureException"
    assert "wrong-secret" not in str(caught.value)


def test_unknown_targets_and_bodies_are_refused(kendra: KendraEmulator) -> None:
    import httpx

    answer = httpx.post(
        kendra.endpoint_url,
        headers={"X-Amz-Target": "AWSKendraFrontendService.DeleteIndex"},
        content=b"{}",
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "UnknownOperationException"
    unsigned = httpx.post(
        kendra.endpoint_url,
        headers={"X-Amz-Target": "AWSKendraFrontendService.Query"},
        content=b"{}",
    )
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    assert kendra.requests == []


def test_the_default_index_serves_runwires_corpus() -> None:
    with KendraEmulator() as emulator:
        r = AmazonKendraRetriever(
            index_id=DEFAULT_INDEX_ID,
            region_name="us-east-1",
            endpoint_url=emulator.endpoint_url,
            aws_access_key_id=SecretStr("AKIDRUNWIREEMULATOR"),
            aws_secret_access_key=SecretStr("runwire-emulator-secret"),
        )
        docs = r.invoke("Do I need it?")  # only the FAQ says "need": Query answers
    assert [d.metadata["document_id"] for d in docs] == ["faq-langchain"]


def test_runwire_emulate_kendra_runs_a_retriever_file(tmp_path: Path) -> None:
    path = tmp_path / "kendra.yaml"
    path.write_text(
        "_type: AmazonKendraRetriever\n"
        "index_id: ${KENDRA_INDEX_ID}\n"
        "endpoint_url: ${KENDRA_ENDPOINT_URL}\n"
        "region_name: us-east-1\n"
        "page_content_formatter: title\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "runwire.cli.main",
            "emulate",
            "kendra",
            "--",
            sys.executable,
            "-m",
            "runwire.cli.main",
            "run",
            str(path),
            "--input",
            '"State graphs"',
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"Graphs"' in done.stdout


# -- LangChain -----------------------------------------------------------------------------
def test_langchain_aws_gets_the_same_documents_from_the_emulator(kendra: KendraEmulator) -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.retrievers import AmazonKendraRetriever as LcRetriever

    settings = {
        "index_id": INDEX,
        "region_name": "us-east-1",
        "endpoint_url": kendra.endpoint_url,
        "top_k": 5,
        "attribute_filter": {"NotFilter": {"EqualsTo": {"Key": "year", "Value": {"LongValue": 1}}}},
        "user_context": {"Groups": ["managers"]},
    }
    lc = LcRetriever(**settings, min_score_confidence=0.25, **KEYS)
    ours = retriever(kendra, **settings, min_score_confidence=0.25)
    for query in ("paid leave days", "park my bike", "salary bands", "zzz nothing"):
        kendra.reset()
        theirs = lc.invoke(query)
        their_calls = [(c.operation, c.body) for c in kendra.requests]
        kendra.reset()
        mine = ours.invoke(query)
        assert [(c.operation, c.body) for c in kendra.requests] == their_calls, query
        assert [(d.page_content, d.metadata) for d in mine] == [
            (d.page_content, d.metadata) for d in theirs
        ], query
        assert [list(d.metadata) for d in mine] == [list(d.metadata) for d in theirs]


def test_langchain_writes_the_kendra_retriever_as_not_implemented() -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.retrievers import AmazonKendraRetriever as LcRetriever
    from langchain_core.load import dumpd

    data = dumpd(
        LcRetriever(index_id=INDEX, region_name="us-east-1", min_score_confidence=None, **KEYS)
    )
    assert data["type"] == "not_implemented"
    assert runwire.load(data, allowed_objects="all", ignore_unserializable_fields=True) is None
    node = {**runwire.dumpd(AmazonKendraRetriever(index_id=INDEX)), "id": data["id"]}
    assert type(runwire.load(node, allowed_objects="all")) is AmazonKendraRetriever
