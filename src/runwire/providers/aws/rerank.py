"""``BedrockRerank``: documents reordered by relevance to a query (bedrock-agent-runtime Rerank).

langchain-aws's document compressor: ``rerank`` returns ``{"index", "relevance_score"}``
rows best first, ``compress_documents`` returns copies of the best ``top_n`` documents
with ``metadata["relevance_score"]`` added. Strings and Documents are sent as TEXT
sources, dicts as JSON sources.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field

from runwire.providers.aws.client import AwsClientFields, AwsSerializable, run_in_aws_thread
from runwire.runtime.models.compressors import BaseDocumentCompressor
from runwire.schema.documents import Document

__all__ = ["BedrockRerank", "rerank_request"]

RerankInput = str | Document | dict[str, Any]


def _source(document: RerankInput) -> dict[str, Any]:
    if isinstance(document, Document):
        inline = {"type": "TEXT", "textDocument": {"text": document.page_content}}
    elif isinstance(document, str):
        inline = {"type": "TEXT", "textDocument": {"text": document}}
    elif isinstance(document, dict):
        inline = {"type": "JSON", "jsonDocument": document}
    else:
        raise TypeError(
            f"rerank takes str, Document or dict documents, not {type(document).__name__}"
        )
    return {"type": "INLINE", "inlineDocumentSource": inline}


def rerank_request(
    model_arn: str,
    documents: Sequence[RerankInput],
    query: str,
    top_n: int | None,
    additional_model_request_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters of a Rerank call (boto3 ``rerank(**params)``)."""
    model: dict[str, Any] = {"modelArn": model_arn}
    if additional_model_request_fields:
        model["additionalModelRequestFields"] = additional_model_request_fields
    config: dict[str, Any] = {"modelConfiguration": model}
    if top_n is not None:
        config["numberOfResults"] = min(top_n, len(documents))
    return {
        "queries": [{"type": "TEXT", "textQuery": {"text": query}}],
        "sources": [_source(document) for document in documents],
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": config,
        },
    }


def _profile_from_env() -> str | None:
    return os.environ.get("AWS_PROFILE") or None


class BedrockRerank(AwsSerializable, BaseDocumentCompressor, AwsClientFields):
    """A Bedrock reranker model (e.g. ``amazon.rerank-v1:0``, ``cohere.rerank-v3-5:0``).

    Credentials, region, endpoint and ``config`` resolve as every runwire AWS class
    does (see ``runwire.providers.aws.client``); as in langchain-aws, the profile
    defaults to ``AWS_PROFILE``. ``client=`` injects a boto3 ``bedrock-agent-runtime``
    client.
    """

    model_arn: str
    """The ARN of the reranker model."""
    top_n: int | None = 3
    """How many documents to return (``None``: as many as the service returns)."""
    credentials_profile_name: str | None = Field(default_factory=_profile_from_env)
    """A profile of ~/.aws/credentials or ~/.aws/config (default AWS_PROFILE); wins over keys."""
    endpoint_url: str | None = Field(default=None, alias="base_url")
    """Service endpoint to call instead of AWS's (a VPC endpoint, an emulator)."""

    aws_service: ClassVar[str] = "bedrock-agent-runtime"

    def rerank(
        self,
        documents: Sequence[RerankInput],
        query: str,
        top_n: int | None = None,
        additional_model_request_fields: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``[{"index": i, "relevance_score": s}, ...]``, best first.

        ``top_n`` overrides the field for this call.
        """
        if not documents:
            return []
        params = rerank_request(
            self.model_arn,
            documents,
            query,
            self.top_n if top_n is None else top_n,
            additional_model_request_fields,
        )
        results: list[dict[str, Any]] = []
        while True:
            response = self.aws_call("rerank", **params)
            results.extend(
                {"index": row["index"], "relevance_score": row["relevanceScore"]}
                for row in response.get("results", ())
            )
            token = response.get("nextToken")
            if not token:
                return results
            params = {**params, "nextToken": token}

    async def arerank(
        self,
        documents: Sequence[RerankInput],
        query: str,
        top_n: int | None = None,
        additional_model_request_fields: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Async ``rerank`` (in runwire's bounded AWS thread pool)."""
        return await run_in_aws_thread(
            self.rerank, documents, query, top_n, additional_model_request_fields
        )

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Any = None
    ) -> Sequence[Document]:
        """Copies of the best ``top_n`` documents, ``metadata["relevance_score"]`` added."""
        return [
            documents[row["index"]].model_copy(
                update={
                    "metadata": {
                        **documents[row["index"]].metadata,
                        "relevance_score": row["relevance_score"],
                    }
                }
            )
            for row in self.rerank(documents, query)
        ]

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Any = None
    ) -> Sequence[Document]:
        """Async ``compress_documents`` (in runwire's bounded AWS thread pool)."""
        return await run_in_aws_thread(self.compress_documents, documents, query, callbacks)
