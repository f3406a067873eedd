"""``AmazonKendraRetriever``: an Amazon Kendra index as a retriever (Retrieve, then Query).

Fields, aliases and defaults are langchain-aws's (``index_id``, ``top_k`` 3,
``attribute_filter``, ``user_context``, ``page_content_formatter``,
``min_score_confidence``, and the AWS client fields). Each query calls Kendra's
``Retrieve`` with ``PageSize=top_k``; when it finds nothing, ``Query`` with the same
parameters (as langchain-aws does). Documents carry langchain-aws's metadata:
``type`` (Query results only), ``result_id``, ``document_id``, ``source``, ``title``,
``excerpt``, ``document_attributes`` and ``score`` (the ScoreConfidence name).

``page_content_formatter`` is a *name* in :data:`PAGE_CONTENT_FORMATTERS`, so the
retriever stays serializable: ``combined_text`` (langchain-aws's default: title and
cleaned excerpt), ``excerpt`` or ``title``. Register your own with
:func:`register_page_content_formatter`; a manifest can only name registered ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from runwire.providers.aws.client import AwsClientFields, AwsRunnable
from runwire.runtime.models.retriever import BaseRetriever
from runwire.schema.documents import Document

__all__ = [
    "KENDRA_CONFIDENCE_MAPPING",
    "PAGE_CONTENT_FORMATTERS",
    "AmazonKendraRetriever",
    "ResultItem",
    "clean_excerpt",
    "combined_text",
    "register_page_content_formatter",
]

KENDRA_CONFIDENCE_MAPPING: dict[str, float] = {
    "NOT_AVAILABLE": 0.0,
    "LOW": 0.25,
    "MEDIUM": 0.50,
    "HIGH": 0.75,
    "VERY_HIGH": 1.0,
}
"""ScoreConfidence -> the number ``min_score_confidence`` is compared with."""
_VALUE_KINDS = ("DateValue", "LongValue", "StringListValue", "StringValue")


def _attribute_value(value: dict[str, Any]) -> Any:
    """The value of a DocumentAttributeValue (a date as ISO text), None when empty."""
    for kind in _VALUE_KINDS:
        found = value.get(kind)
        if found is not None:
            return found.isoformat() if isinstance(found, datetime) else found
    return None


@dataclass(frozen=True)
class ResultItem:
    """One Retrieve or Query result, with langchain-aws's accessors."""

    raw: dict[str, Any]
    from_query: bool
    attributes: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        attributes = {
            a["Key"]: _attribute_value(a.get("Value") or {})
            for a in self.raw.get("DocumentAttributes") or ()
        }
        object.__setattr__(self, "attributes", attributes)

    def get_title(self) -> str:
        """The document title (Query gives it with highlights: the text only)."""
        title = self.raw.get("DocumentTitle")
        if isinstance(title, dict):
            return str(title.get("Text", ""))
        return title or ""

    def get_excerpt(self) -> str:
        """Retrieve's passage; Query's suggested answer text, else its excerpt."""
        if not self.from_query:
            return self.raw.get("Content") or ""
        extra = self.raw.get("AdditionalAttributes") or []
        if extra and extra[0].get("Key") == "AnswerText":
            return str(extra[0]["Value"]["TextWithHighlightsValue"]["Text"])
        excerpt = self.raw.get("DocumentExcerpt")
        return str(excerpt.get("Text", "")) if excerpt else ""

    def get_document_attributes_dict(self) -> dict[str, Any]:
        """The document attributes as ``{key: value}``."""
        return dict(self.attributes)

    def get_score_attribute(self) -> str:
        """The ScoreConfidence name, ``NOT_AVAILABLE`` when absent."""
        scores = self.raw.get("ScoreAttributes")
        return scores["ScoreConfidence"] if scores is not None else "NOT_AVAILABLE"

    def to_doc(self, page_content_formatter: Callable[[ResultItem], str]) -> Document:
        """This item as a Document with langchain-aws's metadata."""
        metadata: dict[str, Any] = {"type": self.raw.get("Type")} if self.from_query else {}
        metadata.update(
            {
                "result_id": self.raw.get("Id"),
                "document_id": self.raw.get("DocumentId"),
                "source": self.raw.get("DocumentURI"),
                "title": self.get_title(),
                "excerpt": self.get_excerpt(),
                "document_attributes": self.get_document_attributes_dict(),
                "score": self.get_score_attribute(),
            }
        )
        return Document(page_content=page_content_formatter(self), metadata=metadata)


def clean_excerpt(excerpt: str) -> str:
    """Whitespace runs as one space, Kendra's ``...`` ellipses removed."""
    return re.sub(r"\s+", " ", excerpt).replace("...", "") if excerpt else excerpt


def combined_text(item: ResultItem) -> str:
    """``Document Title: ...`` and ``Document Excerpt: ...`` lines (langchain-aws's)."""
    text = ""
    title = item.get_title()
    if title:
        text += f"Document Title: {title}\n"
    excerpt = clean_excerpt(item.get_excerpt())
    if excerpt:
        text += f"Document Excerpt: \n{excerpt}\n"
    return text


PAGE_CONTENT_FORMATTERS: dict[str, Callable[[ResultItem], str]] = {
    "combined_text": combined_text,
    "excerpt": lambda item: clean_excerpt(item.get_excerpt()),
    "title": lambda item: item.get_title(),
}
"""Formatter name -> function of a result item (what ``page_content_formatter`` names)."""


def register_page_content_formatter(name: str, formatter: Callable[[ResultItem], str]) -> None:
    """Make ``formatter`` nameable as ``page_content_formatter: NAME`` (Python only: a
    manifest names it, never defines it)."""
    taken = PAGE_CONTENT_FORMATTERS.get(name)
    if taken is not None and taken is not formatter:
        raise ValueError(f"page content formatter {name!r} is already registered")
    PAGE_CONTENT_FORMATTERS[name] = formatter


class AmazonKendraRetriever(AwsRunnable, BaseRetriever, AwsClientFields):
    """Documents from an Amazon Kendra index (Retrieve, falling back to Query).

    Credentials, region, endpoint and ``config`` resolve as for every runwire AWS class
    (``runwire.providers.aws.client``); ``client=`` injects a boto3 ``kendra`` client.
    """

    lc_kwarg_order: ClassVar[tuple[str, ...]] = (
        "name",
        "tags",
        "metadata",
        "index_id",
        "region_name",
        "credentials_profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "endpoint_url",
        "config",
        "top_k",
        "attribute_filter",
        "page_content_formatter",
        "user_context",
        "min_score_confidence",
    )
    """langchain-aws's field order."""

    index_id: str
    """The Kendra index id (36 characters)."""
    credentials_profile_name: str | None = None
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    top_k: int = Field(default=3, ge=0)
    """How many documents to return (also the requests' PageSize)."""
    attribute_filter: dict[str, Any] | None = None
    """Kendra ``AttributeFilter`` of each request (e.g. ``{"EqualsTo": {"Key":
    "_language_code", "Value": {"StringValue": "en"}}}``)."""
    page_content_formatter: str = "combined_text"
    """The name of the function making ``page_content`` (see PAGE_CONTENT_FORMATTERS);
    in Python, a registered function is accepted too."""
    user_context: dict[str, Any] | None = None
    """Kendra ``UserContext`` (``Token``, ``UserId``, ``Groups``, ``DataSourceGroups``)."""
    min_score_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """Drop documents whose ScoreConfidence maps below this (see
    KENDRA_CONFIDENCE_MAPPING); unset or 0 keeps every document."""

    aws_service: ClassVar[str] = "kendra"

    @field_validator("page_content_formatter", mode="before")
    @classmethod
    def _formatter_is_registered(cls, value: Any) -> Any:
        if callable(value):
            names = [n for n, f in PAGE_CONTENT_FORMATTERS.items() if f is value]
            if not names:
                raise ValueError(
                    "page_content_formatter must be registered to stay serializable: "
                    "call register_page_content_formatter(name, function) first"
                )
            return names[0]
        if isinstance(value, str) and value not in PAGE_CONTENT_FORMATTERS:
            raise ValueError(
                f"unknown page_content_formatter {value!r}: one of "
                f"{', '.join(sorted(PAGE_CONTENT_FORMATTERS))}"
            )
        return value

    def request(self, query: str) -> dict[str, Any]:
        """The parameters of the Retrieve (and fallback Query) call for ``query``."""
        params: dict[str, Any] = {
            "IndexId": self.index_id,
            "QueryText": query.strip()[:999],  # Kendra refuses longer queries
            "PageSize": self.top_k,
        }
        if self.attribute_filter is not None:
            params["AttributeFilter"] = self.attribute_filter
        if self.user_context is not None:
            params["UserContext"] = self.user_context
        return params

    def _documents(self, items: list[dict[str, Any]], from_query: bool) -> list[Document]:
        formatter = PAGE_CONTENT_FORMATTERS[self.page_content_formatter]
        documents = [ResultItem(item, from_query).to_doc(formatter) for item in items[: self.top_k]]
        if not self.min_score_confidence:
            return documents
        return [
            doc
            for doc in documents
            if isinstance(doc.metadata.get("score"), str)
            and KENDRA_CONFIDENCE_MAPPING.get(doc.metadata["score"], 0.0)
            >= self.min_score_confidence
        ]

    def _get_relevant_documents(self, query: str) -> list[Document]:
        params = self.request(query)
        items = self.aws_call("retrieve", **params).get("ResultItems") or []
        if items:
            return self._documents(items, from_query=False)
        return self._documents(self.aws_call("query", **params).get("ResultItems") or [], True)

    async def _aget_relevant_documents(self, query: str) -> list[Document]:
        params = self.request(query)
        items = (await self.aws_acall("retrieve", **params)).get("ResultItems") or []
        if items:
            return self._documents(items, from_query=False)
        answer = await self.aws_acall("query", **params)
        return self._documents(answer.get("ResultItems") or [], from_query=True)
