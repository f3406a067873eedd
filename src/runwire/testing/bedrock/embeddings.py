"""Embeddings: InvokeModel on ``amazon.titan-embed-*`` and ``cohere.embed-*`` models.

Vectors are deterministic unit vectors made from a hash of each text: the same text
always gets the same vector, different texts almost orthogonal ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.replies import count_words

__all__ = [
    "embedding_response",
    "embedding_texts",
    "is_embedding_model",
    "unit_vector",
]

Body = Mapping[str, Any]

_TITAN_V2_DIMENSIONS = (256, 512, 1024)
_COHERE_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")


def is_embedding_model(model_id: str) -> bool:
    """True for Titan and Cohere embedding models (inference profiles and ARNs too)."""
    name = model_id.rsplit("/", 1)[-1]
    return bool(re.search(r"(?:^|\.)(?:amazon\.titan-embed|cohere\.embed)", name))


def unit_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    raw = hashlib.shake_256(text.encode("utf-8")).digest(dimensions)
    values = [(byte - 127.5) / 127.5 for byte in raw]
    norm = math.sqrt(math.fsum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


def _titan(model_id: str, body: Body) -> dict[str, Any]:
    text = body.get("inputText")
    if not isinstance(text, str):
        raise validation_error("Malformed input request: #: required key [inputText] not found")
    name = model_id.rsplit("/", 1)[-1]
    if "text-v2" in name:
        dimensions = body.get("dimensions", 1024)
        if dimensions not in _TITAN_V2_DIMENSIONS:
            raise validation_error(
                f"Malformed input request: dimensions must be one of {list(_TITAN_V2_DIMENSIONS)}"
            )
    elif "image" in name:
        dimensions = (body.get("embeddingConfig") or {}).get("outputEmbeddingLength", 1024)
    else:
        dimensions = 1536
    vector = unit_vector(text, int(dimensions))
    response: dict[str, Any] = {"embedding": vector, "inputTextTokenCount": count_words(text)}
    if "text-v2" in name:
        types = body.get("embeddingTypes") or ["float"]
        by_type: dict[str, Any] = {}
        if "float" in types:
            by_type["float"] = vector
        if "binary" in types:
            by_type["binary"] = [1 if v > 0 else 0 for v in vector]
        response["embeddingsByType"] = by_type
    return response


def _cohere(model_id: str, body: Body) -> dict[str, Any]:
    texts = body.get("texts")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise validation_error("Malformed input request: #: required key [texts] not found")
    input_type = body.get("input_type")
    if input_type not in _COHERE_INPUT_TYPES:
        raise validation_error(
            "Malformed input request: #/input_type: "
            f"{input_type!r} is not a valid enum value {list(_COHERE_INPUT_TYPES)}"
        )
    dimensions = int(body.get("output_dimension") or (1536 if "embed-v4" in model_id else 1024))
    vectors = [unit_vector(text, dimensions) for text in texts]
    digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()
    response: dict[str, Any] = {
        "id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}",
        "texts": texts,
    }
    types = body.get("embedding_types")
    if types:
        by_type: dict[str, Any] = {}
        for kind in types:
            if kind == "float":
                by_type["float"] = vectors
            elif kind in ("int8", "uint8"):
                offset = 0 if kind == "int8" else 128
                by_type[kind] = [[round(v * 127) + offset for v in vec] for vec in vectors]
            else:
                raise validation_error(f"Malformed input request: unknown embedding type {kind!r}")
        response.update(embeddings=by_type, response_type="embeddings_by_type")
    else:
        response.update(embeddings=vectors, response_type="embeddings_floats")
    return response


def embedding_response(model_id: str, body: Body) -> dict[str, Any]:
    """The InvokeModel response body of an embedding model."""
    name = model_id.rsplit("/", 1)[-1]
    return _cohere(model_id, body) if "cohere." in name else _titan(model_id, body)


def embedding_texts(model_id: str, body: Body) -> list[str]:
    """The texts an embedding request embeds (for CountTokens)."""
    texts = body.get("texts")
    if isinstance(texts, list):
        return [str(t) for t in texts]
    return [str(body.get("inputText", ""))]
