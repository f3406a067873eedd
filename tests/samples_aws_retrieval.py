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


def _format_documents() -> Any:
    from runwire.runtime.format_documents import FormatDocuments

    return FormatDocuments(template="[{score}] {page_content}", separator="\n---\n")


SAMPLES: dict[str, Callable[[], Any]] = {
    "AmazonKnowledgeBasesRetriever": _knowledge_bases,
    "FormatDocuments": _format_documents,
}
