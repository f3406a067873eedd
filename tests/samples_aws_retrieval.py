"""Samples of the AWS retrieval and hosting classes (issue 19), merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET


def _keys() -> dict[str, Any]:
    return {
        "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
        "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
    }


def _knowledge_bases() -> Any:
    from runwire.providers.aws import AmazonKnowledgeBasesRetriever

    return AmazonKnowledgeBasesRetriever(
        knowledge_base_id="RUNWIREKB1",
        region_name="us-west-2",
        retrieval_config={
            "vectorSearchConfiguration": {
                "numberOfResults": 3,
                "filter": {"equals": {"key": "topic", "value": "retrieval"}},
            }
        },
        guardrails={"guardrailId": "gr-1", "guardrailVersion": "DRAFT"},
        min_score_confidence=0.25,
        tags=["kb"],
        **_keys(),
    )


def _kendra() -> Any:
    from runwire.providers.aws import AmazonKendraRetriever

    return AmazonKendraRetriever(
        index_id="runwire-emulator-index-0000000000001",
        region_name="eu-west-1",
        top_k=5,
        attribute_filter={"EqualsTo": {"Key": "topic", "Value": {"StringValue": "retrieval"}}},
        user_context={"UserId": "ana", "Groups": ["staff"]},
        page_content_formatter="excerpt",
        min_score_confidence=0.5,
        **_keys(),
    )


def _sagemaker() -> Any:
    from runwire.providers.aws import JsonContentHandler, SagemakerEndpoint

    handler = JsonContentHandler(
        request_template={"inputs": "{prompt}", "parameters": "{model_kwargs}"},
        output_path="[0].generated_text",
        stream_path="token.text",
    )
    return SagemakerEndpoint(
        endpoint_name="tgi-endpoint",
        inference_component_name="llama-ic",
        region_name="us-west-2",
        content_handler=handler,
        model_kwargs={"max_new_tokens": 64, "temperature": 0.1},
        endpoint_kwargs={"CustomAttributes": "accept_eula=true"},
        **_keys(),
    )


def _json_handler() -> Any:
    from runwire.providers.aws import JsonContentHandler

    return JsonContentHandler(
        request_template={"messages": [{"role": "user", "content": "{prompt}"}]},
        output_path="choices[0].message.content",
    )


def _s3vectors() -> Any:
    from runwire.providers.aws import AmazonS3Vectors, BedrockEmbeddings

    return AmazonS3Vectors(
        vector_bucket_name="docs-bucket",
        index_name="docs-index",
        distance_metric="euclidean",
        non_filterable_metadata_keys=["_page_content"],
        create_bucket_if_not_exist=True,
        embedding=BedrockEmbeddings(
            model_id="amazon.titan-embed-text-v2:0", region_name="us-east-1"
        ),
        region_name="us-east-1",
        **_keys(),
    )


def _s3vectors_retriever() -> Any:
    return _s3vectors().as_retriever(search_kwargs={"k": 2, "filter": {"topic": "faq"}})


def _s3vectors_ingest() -> Any:
    from runwire.providers.aws import AmazonS3VectorsIngest

    return AmazonS3VectorsIngest(vectorstore=_s3vectors(), batch_size=100)


def _format_documents() -> Any:
    from runwire.runtime.format_documents import FormatDocuments

    return FormatDocuments(template="[{score}] {page_content}", separator="\n---\n")


SAMPLES: dict[str, Callable[[], Any]] = {
    "AmazonKnowledgeBasesRetriever": _knowledge_bases,
    "AmazonKendraRetriever": _kendra,
    "SagemakerEndpoint": _sagemaker,
    "JsonContentHandler": _json_handler,
    "AmazonS3Vectors": _s3vectors,
    "AmazonS3VectorsRetriever": _s3vectors_retriever,
    "AmazonS3VectorsIngest": _s3vectors_ingest,
    "FormatDocuments": _format_documents,
}
