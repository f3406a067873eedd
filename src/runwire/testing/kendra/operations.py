"""Kendra Retrieve and Query over a corpus per index id.

Retrieve returns passages of the ``document`` records; Query returns documents
(``DOCUMENT``) and FAQ records (``QUESTION_ANSWER``), so a question only an FAQ answers
shows LangChain's Retrieve-then-Query fallback. Both apply ``AttributeFilter`` to a
document's attributes (its metadata, plus ``_source_uri``, ``_document_title`` and
``_language_code`` ``"en"``) and ``UserContext`` to records that carry ``access``
(``UserId`` or one of ``Groups`` must be listed; records without ``access`` are public).
Score confidence follows the keyword score: VERY_HIGH from 0.9, HIGH from 0.6, MEDIUM
from 0.3, else LOW.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from runwire.testing.bedrock.faults import ServiceError, validation_error
from runwire.testing.corpus.documents import Corpus, CorpusDocument
from runwire.testing.corpus.scoring import Hit, words
from runwire.testing.kendra.filters import compile_filter

__all__ = ["DEFAULT_INDEX_ID", "OPERATIONS", "confidence", "query", "retrieve"]

DEFAULT_INDEX_ID = "runwire-emulator-index-0000000000001"
"""The index id under which ``runwire emulate kendra`` serves its corpus (36 characters)."""
_INDEX_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{35}$")
_CONFIDENCE = ((0.9, "VERY_HIGH"), (0.6, "HIGH"), (0.3, "MEDIUM"), (0.0, "LOW"))
_EXCERPT = 200
_RESULT_TYPES = frozenset(("DOCUMENT", "QUESTION_ANSWER", "ANSWER"))

Indexes = Mapping[str, Corpus]


def confidence(score: float) -> str:
    """The ScoreConfidence bucket of a keyword score."""
    return next(name for floor, name in _CONFIDENCE if score >= floor)


def _attributes(doc: CorpusDocument) -> dict[str, Any]:
    attributes = dict(doc.metadata)
    if doc.uri:
        attributes["_source_uri"] = doc.uri
    if doc.title:
        attributes["_document_title"] = doc.title
    attributes["_language_code"] = "en"
    return attributes


def _attribute_list(doc: CorpusDocument) -> list[dict[str, Any]]:
    """The document's metadata as Kendra DocumentAttributes (lists of strings, numbers,
    strings; other values are left out)."""
    attributes = []
    for key, value in doc.metadata.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            attributes.append({"Key": key, "Value": {"LongValue": value}})
        elif isinstance(value, str):
            attributes.append({"Key": key, "Value": {"StringValue": value}})
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            attributes.append({"Key": key, "Value": {"StringListValue": value}})
    if doc.uri:
        attributes.append({"Key": "_source_uri", "Value": {"StringValue": doc.uri}})
    return attributes


def _visible(doc: CorpusDocument, user: Mapping[str, Any] | None) -> bool:
    if doc.access is None:
        return True
    if not user:
        return False
    if user.get("UserId") in doc.access.get("users", []):
        return True
    return bool(set(user.get("Groups") or ()) & set(doc.access.get("groups", [])))


def _request(indexes: Indexes, body: Mapping[str, Any]) -> tuple[Corpus, str, int, int]:
    """The index, query text, page number and page size of a request (validated)."""
    index_id = body.get("IndexId")
    if not isinstance(index_id, str) or not _INDEX_ID.match(index_id):
        raise validation_error(
            f"1 validation error detected: Value '{index_id}' at 'indexId' failed to satisfy "
            "constraint: Member must have length 36"
        )
    corpus = indexes.get(index_id)
    if corpus is None:
        raise ServiceError(400, "ResourceNotFoundException", f"Index {index_id} not found")
    text = body.get("QueryText")
    if not isinstance(text, str) or not text.strip():
        raise validation_error("QueryText is required")
    if len(text) > 1000:
        raise validation_error("QueryText must be at most 1000 characters")
    number, size = body.get("PageNumber", 1), body.get("PageSize", 10)
    if not isinstance(number, int) or number < 1:
        raise validation_error("PageNumber must be at least 1")
    if not isinstance(size, int) or not 0 <= size <= 100:
        raise validation_error("PageSize must be between 0 and 100")
    return corpus, text, number, size


def _hits(
    corpus: Corpus, body: Mapping[str, Any], text: str, kinds: frozenset[str]
) -> list[tuple[Hit, CorpusDocument]]:
    keep = compile_filter(body["AttributeFilter"]) if body.get("AttributeFilter") else None
    user = body.get("UserContext")
    return corpus.search(
        text,
        lambda doc: (
            doc.kind in kinds and _visible(doc, user) and (keep is None or keep(_attributes(doc)))
        ),
    )


def _query_id(operation: str, body: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(f"{operation}|{body.get('IndexId')}|{body.get('QueryText')}".encode())
    return str(digest.hexdigest()[:32])


def _highlights(text: str, query: str) -> list[dict[str, Any]]:
    wanted = set(words(query))
    return [
        {"BeginOffset": m.start(), "EndOffset": m.end(), "TopAnswer": False, "Type": "STANDARD"}
        for m in re.finditer(r"\w+", text)
        if m.group().lower() in wanted
    ]


def _excerpt(text: str) -> str:
    return text if len(text) <= _EXCERPT else text[:_EXCERPT].rsplit(" ", 1)[0] + "..."


def retrieve(indexes: Indexes, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Retrieve response: passages of documents, best first."""
    corpus, text, number, size = _request(indexes, body)
    hits = _hits(corpus, body, text, frozenset(("document",)))
    page = hits[(number - 1) * size : number * size]
    query_id = _query_id("Retrieve", body)
    return {
        "QueryId": query_id,
        "ResultItems": [
            {
                "Id": f"{query_id}-{doc.id}",
                "DocumentId": doc.id,
                "DocumentTitle": doc.title,
                "Content": doc.text,
                "DocumentURI": doc.uri,
                "DocumentAttributes": _attribute_list(doc),
                "ScoreAttributes": {"ScoreConfidence": confidence(hit.score)},
            }
            for hit, doc in page
        ],
    }


def _text_value(key: str, text: str, query: str) -> dict[str, Any]:
    return {
        "Key": key,
        "ValueType": "TEXT_WITH_HIGHLIGHTS_VALUE",
        "Value": {
            "TextWithHighlightsValue": {"Text": text, "Highlights": _highlights(text, query)}
        },
    }


def _query_item(query_id: str, hit: Hit, doc: CorpusDocument, text: str) -> dict[str, Any]:
    faq = doc.kind == "faq"
    title = doc.question if faq and doc.question else doc.title
    excerpt = doc.text if faq else _excerpt(doc.text)
    item: dict[str, Any] = {
        "Id": f"{query_id}-{doc.id}",
        "Type": "QUESTION_ANSWER" if faq else "DOCUMENT",
        "AdditionalAttributes": (
            [_text_value("QuestionText", title, text), _text_value("AnswerText", doc.text, text)]
            if faq
            else []
        ),
        "DocumentId": doc.id,
        "DocumentTitle": {"Text": title, "Highlights": _highlights(title, text)},
        "DocumentExcerpt": {"Text": excerpt, "Highlights": _highlights(excerpt, text)},
        "DocumentURI": doc.uri,
        "DocumentAttributes": _attribute_list(doc),
        "ScoreAttributes": {"ScoreConfidence": confidence(hit.score)},
        "FeedbackToken": f"feedback-{query_id}-{doc.id}",
    }
    if faq:
        item["Format"] = "TEXT"
    return item


def query(indexes: Indexes, body: Mapping[str, Any]) -> dict[str, Any]:
    """The Query response: documents and FAQ answers, best first."""
    corpus, text, number, size = _request(indexes, body)
    wanted = body.get("QueryResultTypeFilter")
    if wanted is not None and wanted not in _RESULT_TYPES:
        raise validation_error(f"QueryResultTypeFilter must be one of {sorted(_RESULT_TYPES)}")
    kinds = {"DOCUMENT": {"document"}, "QUESTION_ANSWER": {"faq"}, "ANSWER": set()}.get(
        wanted or "", {"document", "faq"}
    )
    hits = _hits(corpus, body, text, frozenset(kinds))
    query_id = _query_id("Query", body)
    page = hits[(number - 1) * size : number * size]
    return {
        "QueryId": query_id,
        "ResultItems": [_query_item(query_id, hit, doc, text) for hit, doc in page],
        "TotalNumberOfResults": len(hits),
    }


OPERATIONS = {"Retrieve": retrieve, "Query": query}
"""X-Amz-Target operation name -> its implementation."""
