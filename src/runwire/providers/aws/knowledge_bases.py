"""``AmazonKnowledgeBasesRetriever``: Amazon Bedrock Knowledge Bases Retrieve as a retriever.

Fields, aliases and defaults are langchain-aws's (``knowledge_base_id``,
``retrieval_config``, ``guardrail_config`` alias ``guardrails``,
``min_score_confidence``, and the AWS client fields). Each query is one
bedrock-agent-runtime ``Retrieve`` call; every result becomes a Document shaped as
langchain-aws shapes it: the content text (JSON rows for ``ROW`` content, the bytes for
``IMAGE``) as ``page_content``, and as metadata the result without its content,
``type`` (the content type), ``score`` (0 when absent) and the result's metadata
renamed ``source_metadata``, so ``location`` stays as the service sent it.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runwire.providers.aws.client import AwsClientFields, AwsRunnable
from runwire.runtime.models.retriever import BaseRetriever
from runwire.schema.documents import Document

__all__ = [
    "AmazonKnowledgeBasesRetriever",
    "ManagedSearchConfig",
    "RetrievalConfig",
    "SearchFilter",
    "VectorSearchConfig",
    "retrieval_results_to_documents",
]

FilterValue = dict[str, Any] | list[Any] | int | float | str | bool | None
Filter = dict[str, FilterValue]


class SearchFilter(BaseModel):
    """A RetrievalFilter (one operator per filter; ``andAll``/``orAll`` nest them)."""

    model_config = ConfigDict(populate_by_name=True)

    andAll: list[SearchFilter] | None = None
    orAll: list[SearchFilter] | None = None
    equals: Filter | None = None
    greaterThan: Filter | None = None
    greaterThanOrEquals: Filter | None = None
    in_: Filter | None = Field(None, alias="in")
    lessThan: Filter | None = None
    lessThanOrEquals: Filter | None = None
    listContains: Filter | None = None
    notEquals: Filter | None = None
    notIn: Filter | None = None
    startsWith: Filter | None = None
    stringContains: Filter | None = None


class VectorSearchConfig(BaseModel, extra="allow"):
    """``vectorSearchConfiguration`` (VECTOR knowledge bases)."""

    numberOfResults: int = 4
    filter: SearchFilter | None = None
    overrideSearchType: Literal["HYBRID", "SEMANTIC"] | None = None


class ManagedSearchConfig(BaseModel, extra="allow"):
    """``managedSearchConfiguration`` (MANAGED knowledge bases)."""

    numberOfResults: int = 4
    filter: SearchFilter | None = None
    rerankingModelType: Literal["CUSTOM", "MANAGED", "NONE"] | None = None
    rerankingConfiguration: dict[str, Any] | None = None


class RetrievalConfig(BaseModel, extra="allow"):
    """``retrievalConfiguration``: one of the two search configurations."""

    vectorSearchConfiguration: VectorSearchConfig | None = None
    managedSearchConfiguration: ManagedSearchConfig | None = None
    nextToken: str | None = None

    def to_request(self) -> dict[str, Any]:
        """The request form: unset members left out, ``in_`` written ``in``."""
        return self.model_dump(exclude_none=True, by_alias=True)


def _content_text(result: dict[str, Any]) -> str | None:
    """The text of a result's content, by content type (langchain-aws's rules)."""
    content = result.get("content")
    if not content:
        raise ValueError("Invalid search result, content is missing from the result")
    kind = content.get("type")
    if not kind or kind == "TEXT":
        return content.get("text")
    if kind == "IMAGE":
        return content.get("byteContent")
    if kind == "ROW":
        return json.dumps(content.get("row") or [])
    return None  # a content type this version does not know


def retrieval_results_to_documents(results: list[dict[str, Any]]) -> list[Document]:
    """Retrieve's ``retrievalResults`` as Documents (see the module docstring)."""
    documents = []
    for raw in results:
        if not raw:
            raise ValueError("Invalid search result")
        text = _content_text(raw)
        result = dict(raw)
        result["type"] = result.get("content", {}).get("type", "TEXT")
        result.pop("content")
        result.setdefault("score", 0)
        if "metadata" in result:
            result["source_metadata"] = result.pop("metadata")
        documents.append(Document(page_content=text or "", metadata=result))
    return documents


class AmazonKnowledgeBasesRetriever(AwsRunnable, BaseRetriever, AwsClientFields):
    """Documents from an Amazon Bedrock knowledge base (bedrock-agent-runtime Retrieve).

    ``retrieval_config`` takes a :class:`RetrievalConfig` or its dict form, e.g.
    ``{"vectorSearchConfiguration": {"numberOfResults": 4, "filter": {"equals":
    {"key": "topic", "value": "shipping"}}}}``; it is kept (and written) as that dict.
    Credentials, region, endpoint and ``config`` resolve as for every runwire AWS class
    (``runwire.providers.aws.client``); ``client=`` injects a boto3 client.
    """

    lc_kwarg_order: ClassVar[tuple[str, ...]] = (
        "name",
        "tags",
        "metadata",
        "knowledge_base_id",
        "region_name",
        "credentials_profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "endpoint_url",
        "config",
        "guardrail_config",
        "retrieval_config",
        "min_score_confidence",
    )
    """langchain-aws's field order."""

    knowledge_base_id: str
    """The knowledge base id (10 letters and digits)."""
    credentials_profile_name: str | None = None
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    guardrail_config: dict[str, Any] | None = Field(default=None, alias="guardrails")
    """A guardrail for the query: ``{"guardrailId": ..., "guardrailVersion": ...}``."""
    retrieval_config: dict[str, Any] | None = None
    """``retrievalConfiguration`` of each Retrieve call (a RetrievalConfig or its dict)."""
    min_score_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """Drop documents scoring below this (0 to 1); unset or 0 keeps every document."""

    aws_service: ClassVar[str] = "bedrock-agent-runtime"

    @field_validator("guardrail_config")
    @classmethod
    def _guardrail_has_id_and_version(cls, value: dict[str, Any] | None) -> Any:
        if value and not (value.get("guardrailId") and value.get("guardrailVersion")):
            raise ValueError("guardrail_config needs both 'guardrailId' and 'guardrailVersion'")
        return value

    @field_validator("retrieval_config", mode="before")
    @classmethod
    def _retrieval_config_as_dict(cls, value: Any) -> Any:
        if isinstance(value, RetrievalConfig):
            return value.to_request()
        if isinstance(value, dict):
            RetrievalConfig.model_validate(value)  # a clear error for a mistyped member
        return value

    def retrieve_request(self, query: str) -> dict[str, Any]:
        """The parameters of the Retrieve call for ``query`` (boto3 ``retrieve(**...)``)."""
        request: dict[str, Any] = {
            "retrievalQuery": {"text": query.strip()},
            "knowledgeBaseId": self.knowledge_base_id,
        }
        if self.guardrail_config:
            request["guardrailConfiguration"] = self.guardrail_config
        if self.retrieval_config:
            request["retrievalConfiguration"] = self.retrieval_config
        return request

    def _documents(self, response: dict[str, Any]) -> list[Document]:
        documents = retrieval_results_to_documents(response["retrievalResults"])
        if not self.min_score_confidence:
            return documents
        return [
            doc
            for doc in documents
            if doc.metadata.get("score") is not None
            and doc.metadata["score"] >= self.min_score_confidence
        ]

    def _get_relevant_documents(self, query: str) -> list[Document]:
        return self._documents(self.aws_call("retrieve", **self.retrieve_request(query)))

    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        return self._documents(await self.aws_acall("retrieve", **self.retrieve_request(query)))
