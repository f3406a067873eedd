"""What ``InMemoryVectorStore`` sends and reads: vector blobs, ``FT.SEARCH`` arguments,
replies in either protocol, relevance scores and maximal marginal relevance.

Plain Python: vectors are packed with ``struct`` and MMR runs on lists (no numpy).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from operator import mul
from typing import Any

__all__ = [
    "RELEVANCE",
    "decode_vector",
    "encode_vector",
    "maximal_marginal_relevance",
    "parse_search_reply",
    "search_args",
]


def encode_vector(values: Sequence[float], code: str = "f") -> bytes:
    """A vector as the little-endian blob the index stores (``f``: FLOAT32, ``d``: FLOAT64)."""
    return struct.pack(f"<{len(values)}{code}", *values)


def decode_vector(blob: bytes, code: str = "f") -> list[float]:
    """A stored blob back as floats."""
    return list(struct.unpack(f"<{len(blob) // struct.calcsize(code)}{code}", blob))


def search_args(
    index_name: str,
    vector_key: str,
    k: int,
    filter: str | None,
    return_fields: list[str],
    distance_threshold: float | None,
) -> tuple[list[Any], bool]:
    """``FT.SEARCH`` arguments (without PARAMS) for the k nearest, or those within
    ``distance_threshold``, among the documents ``filter`` keeps; and whether the query
    takes the threshold as the ``distance_threshold`` parameter."""
    if distance_threshold is not None:
        base = f"@{vector_key}:[VECTOR_RANGE $distance_threshold $vector]"
        if filter:
            base = f"{filter} {base}"
        query = base + "=>{$yield_distance_as: distance}"
    else:
        query = f"({filter or '*'})=>[KNN {k} @{vector_key} $vector AS distance]"
    args: list[Any] = [index_name, query, "RETURN", len(return_fields), *return_fields]
    args += ["SORTBY", "distance", "LIMIT", 0, k, "DIALECT", 2]
    return args, distance_threshold is not None


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def parse_search_reply(reply: Any) -> list[tuple[str, dict[str, str]]]:
    """(key, fields) of each result of an ``FT.SEARCH`` reply: a RESP2 array
    ``[total, key, [field, value, ...], ...]`` or a RESP3 map with ``results``."""
    if isinstance(reply, dict):
        items = {_text(k): v for k, v in reply.items()}
        out = []
        for result in items.get("results") or []:
            entry = {_text(k): v for k, v in result.items()}
            attrs = entry.get("extra_attributes") or {}
            out.append((_text(entry.get("id")), {_text(k): _text(v) for k, v in attrs.items()}))
        return out
    out = []
    for i in range(1, len(reply) - 1, 2):
        flat = reply[i + 1] or []
        fields = {_text(flat[j]): _text(flat[j + 1]) for j in range(0, len(flat) - 1, 2)}
        out.append((_text(reply[i]), fields))
    return out


def _cosine(distance: float) -> float:
    return 1.0 - distance


def _euclidean(distance: float) -> float:
    return 1.0 - distance / math.sqrt(2)


def _inner_product(distance: float) -> float:
    return 1.0 - distance if distance > 0 else -1.0 * distance


RELEVANCE: dict[str, Callable[[float], float]] = {
    "COSINE": _cosine,
    "L2": _euclidean,
    "IP": _inner_product,
}
"""Distance -> relevance score in [0, 1], by distance metric (LangChain's functions)."""


def _cos_sim(a: Sequence[float], b: Sequence[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(map(mul, a, b)) / norms if norms else 0.0


def maximal_marginal_relevance(
    query: Sequence[float],
    candidates: Sequence[Sequence[float]],
    lambda_mult: float = 0.5,
    k: int = 4,
) -> list[int]:
    """Indexes of ``k`` candidates chosen for relevance to ``query`` and diversity
    among themselves (``lambda_mult``: 1 relevance only, 0 diversity only)."""
    if not candidates or k <= 0:
        return []
    relevance = [_cos_sim(query, c) for c in candidates]
    chosen = [max(range(len(candidates)), key=relevance.__getitem__)]
    while len(chosen) < min(k, len(candidates)):
        best, best_score = -1, -math.inf
        for i, candidate in enumerate(candidates):
            if i in chosen:
                continue
            redundancy = max(_cos_sim(candidate, candidates[j]) for j in chosen)
            score = lambda_mult * relevance[i] - (1 - lambda_mult) * redundancy
            if score > best_score:
                best, best_score = i, score
        chosen.append(best)
    return chosen
