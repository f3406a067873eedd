"""Knowledge Bases Retrieve (bedrock-agent-runtime): a corpus per knowledge base id.

``POST /knowledgebases/{knowledgeBaseId}/retrieve`` answers with the corpus documents
that share words with the query (see ``runwire.testing.corpus.scoring``), best first,
``numberOfResults`` of them (default 5), after the ``filter`` of the search
configuration. Each result carries its text, a location (``S3`` for ``s3://`` URIs,
``WEB`` for ``http(s)://``, else ``CUSTOM`` with the document id), the score and the
metadata, with the ``x-amz-bedrock-kb-*`` keys Bedrock adds. A guardrail given in
``guardrailConfiguration`` intervenes (no results) when the query contains ``forbidden``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runwire.testing.bedrock.faults import ServiceError, validation_error
from runwire.testing.bedrock.kb_filters import compile_filter
from runwire.testing.corpus.documents import Corpus, CorpusDocument

__all__ = [
    "DATA_SOURCE_ID",
    "DEFAULT_KNOWLEDGE_BASE_ID",
    "KNOWLEDGE_BASE_ID",
    "document_metadata",
    "retrieve_response",
]

DEFAULT_KNOWLEDGE_BASE_ID = "RUNWIREKB1"
"""The id under which ``runwire emulate bedrock`` serves its corpus."""
DATA_SOURCE_ID = "RUNWIREDS1"
KNOWLEDGE_BASE_ID = re.compile(r"^[0-9a-zA-Z]{10}$")
_SEARCHES = ("vectorSearchConfiguration", "managedSearchConfiguration")
_SEARCH_TYPES = frozenset(("HYBRID", "SEMANTIC"))
_QUERY_LIMIT = 1000


def _location(doc: CorpusDocument) -> dict[str, Any]:
    if doc.uri.startswith("s3://"):
        return {"type": "S3", "s3Location": {"uri": doc.uri}}
    if doc.uri.startswith(("http://", "https://")):
        return {"type": "WEB", "webLocation": {"url": doc.uri}}
    return {"type": "CUSTOM", "customDocumentLocation": {"id": doc.id}}


def document_metadata(doc: CorpusDocument) -> dict[str, Any]:
    """What Retrieve returns (and filters see) as a document's metadata."""
    metadata = dict(doc.metadata)
    if doc.uri:
        metadata["x-amz-bedrock-kb-source-uri"] = doc.uri
    metadata["x-amz-bedrock-kb-chunk-id"] = doc.id
    metadata["x-amz-bedrock-kb-data-source-id"] = DATA_SOURCE_ID
    return metadata


def _search_config(body: Mapping[str, Any]) -> Mapping[str, Any]:
    config = body.get("retrievalConfiguration") or {}
    given = [name for name in _SEARCHES if name in config]
    if len(given) > 1:
        raise validation_error(
            "Provide either vectorSearchConfiguration or managedSearchConfiguration, not both"
        )
    search = config[given[0]] if given else {}
    override = search.get("overrideSearchType")
    if override is not None and override not in _SEARCH_TYPES:
        raise validation_error(f"overrideSearchType must be HYBRID or SEMANTIC, not {override!r}")
    return search


def retrieve_response(
    knowledge_bases: Mapping[str, Corpus], knowledge_base_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """The Retrieve response body (raises ServiceError for AWS's error answers)."""
    if not KNOWLEDGE_BASE_ID.match(knowledge_base_id):
        raise validation_error(
            f"1 validation error detected: Value '{knowledge_base_id}' at 'knowledgeBaseId' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "[0-9a-zA-Z]{10}"
        )
    corpus = knowledge_bases.get(knowledge_base_id)
    if corpus is None:
        raise ServiceError(
            404, "ResourceNotFoundException", f"Knowledge base {knowledge_base_id} not found"
        )
    query = (body.get("retrievalQuery") or {}).get("text")
    if not isinstance(query, str) or not query:
        raise validation_error("retrievalQuery.text is required")
    if len(query) > _QUERY_LIMIT:
        raise validation_error(f"retrievalQuery.text is longer than {_QUERY_LIMIT} characters")
    search = _search_config(body)
    count = search.get("numberOfResults", 5)
    if not isinstance(count, int) or not 1 <= count <= 100:
        raise validation_error("numberOfResults must be between 1 and 100")
    if body.get("guardrailConfiguration") and "forbidden" in query.lower():
        return {"retrievalResults": [], "guardrailAction": "INTERVENED"}
    keep = compile_filter(search["filter"]) if search.get("filter") is not None else None
    hits = corpus.search(
        query,
        lambda doc: doc.kind == "document" and (keep is None or keep(document_metadata(doc))),
    )
    results = [
        {
            "content": {"type": "TEXT", "text": doc.text},
            "location": _location(doc),
            "score": hit.score,
            "metadata": document_metadata(doc),
        }
        for hit, doc in hits[:count]
    ]
    response: dict[str, Any] = {"retrievalResults": results}
    if body.get("guardrailConfiguration"):
        response["guardrailAction"] = "NONE"
    return response
