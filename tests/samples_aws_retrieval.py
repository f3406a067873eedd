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


def _format_documents() -> Any:
    from runwire.runtime.format_documents import FormatDocuments

    return FormatDocuments(template="[{score}] {page_content}", separator="\n---\n")


SAMPLES: dict[str, Callable[[], Any]] = {
    "AmazonKnowledgeBasesRetriever": _knowledge_bases,
    "AmazonKendraRetriever": _kendra,
    "FormatDocuments": _format_documents,
}
