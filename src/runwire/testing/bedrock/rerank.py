"""Rerank (bedrock-agent-runtime): documents scored by the share of the query's words
they contain, best first."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from runwire.testing.bedrock.faults import validation_error

__all__ = ["relevance", "rerank_response"]

Body = Mapping[str, Any]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _document_text(document: Mapping[str, Any]) -> str:
    if document.get("type") == "JSON" or "jsonDocument" in document:
        return json.dumps(document.get("jsonDocument"))
    return str((document.get("textDocument") or {}).get("text", ""))


def relevance(query: str, document: str) -> float:
    """The share of the query's words found in the document, in [0, 1]."""
    wanted = _words(query)
    return len(wanted & _words(document)) / len(wanted) if wanted else 0.0


def rerank_response(body: Body) -> dict[str, Any]:
    """The Rerank response: sources sorted best first (ties keep
    their order), ``numberOfResults`` of them (default all)."""
    try:
        query = str(body["queries"][0]["textQuery"]["text"])
        sources: Sequence[Mapping[str, Any]] = body["sources"]
        config = body["rerankingConfiguration"]["bedrockRerankingConfiguration"]
        config["modelConfiguration"]["modelArn"]
    except (KeyError, IndexError, TypeError):
        raise validation_error(
            "Malformed input request: queries, sources and rerankingConfiguration are required"
        ) from None
    documents = [source["inlineDocumentSource"] for source in sources]
    scored = sorted(
        ((relevance(query, _document_text(doc)), index) for index, doc in enumerate(documents)),
        key=lambda pair: (-pair[0], pair[1]),
    )
    count = config.get("numberOfResults") or len(scored)
    results = [
        {"index": index, "relevanceScore": score, "document": documents[index]}
        for score, index in scored[:count]
    ]
    return {"results": results}
