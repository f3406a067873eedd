"""The emulated S3 Vectors state and operations: buckets, indexes, vectors, exact search.

Each operation takes the request body and returns the response body (raising
``ServiceError`` for AWS's errors). Queries are exact: every vector of the index is
compared with the query (cosine distance ``1 - cos``, or euclidean), best first, ties
in insertion order, after the metadata ``filter``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.bedrock.faults import ServiceError, validation_error
from runwire.testing.s3vectors.filters import compile_filter

__all__ = ["OPERATIONS", "Store"]

ACCOUNT = "123456789012"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_PUT = 500
MAX_TOP_K = 100
MAX_DIMENSION = 4096
Body = Mapping[str, Any]


def _not_found(what: str) -> ServiceError:
    return ServiceError(404, "NotFoundException", f"The specified {what} could not be found")


@dataclass
class Index:
    """One vector index: its settings and vectors (key -> (data, metadata))."""

    name: str
    bucket: str
    data_type: str
    dimension: int
    distance_metric: str
    unfilterable: frozenset[str]
    created: float
    vectors: dict[str, tuple[list[float], dict[str, Any]]] = field(default_factory=dict)

    def describe(self, region: str) -> dict[str, Any]:
        bucket_arn = f"arn:aws:s3vectors:{region}:{ACCOUNT}:bucket/{self.bucket}"
        described: dict[str, Any] = {
            "vectorBucketName": self.bucket,
            "indexName": self.name,
            "indexArn": f"{bucket_arn}/index/{self.name}",
            "creationTime": self.created,
            "dataType": self.data_type,
            "dimension": self.dimension,
            "distanceMetric": self.distance_metric,
        }
        if self.unfilterable:
            described["metadataConfiguration"] = {
                "nonFilterableMetadataKeys": sorted(self.unfilterable)
            }
        return described


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / norm if norm else 1.0


def _euclidean(a: list[float], b: list[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


_DISTANCES: dict[str, Callable[[list[float], list[float]], float]] = {
    "cosine": _cosine,
    "euclidean": _euclidean,
}


class Store:
    """Vector buckets and their indexes (thread-safe)."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self.buckets: dict[str, dict[str, Index]] = {}
        self.lock = threading.Lock()

    # -- lookups ---------------------------------------------------------------------------
    @staticmethod
    def _name(body: Body, member: str) -> str:
        value = body.get(member)
        if not isinstance(value, str) or not _NAME.match(value):
            raise validation_error(
                f"{member} must be 3 to 63 lowercase letters, digits, hyphens and dots"
            )
        return value

    def _bucket(self, body: Body) -> dict[str, Index]:
        name = self._name(body, "vectorBucketName")
        bucket = self.buckets.get(name)
        if bucket is None:
            raise _not_found("vector bucket")
        return bucket

    def _index(self, body: Body) -> Index:
        bucket = self._bucket(body)
        index = bucket.get(self._name(body, "indexName"))
        if index is None:
            raise _not_found("index")
        return index

    def _vector(self, index: Index, data: Any) -> list[float]:
        values = data.get(index.data_type) if isinstance(data, dict) else None
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            raise validation_error(f"vector data must be {{'{index.data_type}': [numbers]}}")
        if len(values) != index.dimension:
            raise validation_error(
                f"Invalid record for key: vector dimension {len(values)} does not match "
                f"index dimension {index.dimension}"
            )
        if not all(math.isfinite(v) for v in values):
            raise validation_error("vector data must be finite numbers")
        return [float(v) for v in values]

    # -- operations ------------------------------------------------------------------------
    def create_vector_bucket(self, body: Body) -> dict[str, Any]:
        name = self._name(body, "vectorBucketName")
        if name in self.buckets:
            raise ServiceError(409, "ConflictException", "The vector bucket already exists")
        self.buckets[name] = {}
        return {"vectorBucketArn": f"arn:aws:s3vectors:{self.region}:{ACCOUNT}:bucket/{name}"}

    def get_vector_bucket(self, body: Body) -> dict[str, Any]:
        self._bucket(body)
        name = body["vectorBucketName"]
        arn = f"arn:aws:s3vectors:{self.region}:{ACCOUNT}:bucket/{name}"
        return {"vectorBucket": {"vectorBucketName": name, "vectorBucketArn": arn}}

    def create_index(self, body: Body) -> dict[str, Any]:
        bucket = self._bucket(body)
        name = self._name(body, "indexName")
        if name in bucket:
            raise ServiceError(409, "ConflictException", "The index already exists")
        dimension, metric = body.get("dimension"), body.get("distanceMetric")
        if not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
            raise validation_error(f"dimension must be between 1 and {MAX_DIMENSION}")
        if metric not in _DISTANCES:
            raise validation_error("distanceMetric must be cosine or euclidean")
        if body.get("dataType") != "float32":
            raise validation_error("dataType must be float32")
        keys = (body.get("metadataConfiguration") or {}).get("nonFilterableMetadataKeys") or []
        index = Index(name, body["vectorBucketName"], "float32", dimension, metric,
                      frozenset(keys), time.time())  # fmt: skip
        bucket[name] = index
        return {"indexArn": index.describe(self.region)["indexArn"]}

    def get_index(self, body: Body) -> dict[str, Any]:
        return {"index": self._index(body).describe(self.region)}

    def delete_index(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        del self.buckets[index.bucket][index.name]
        return {}

    def put_vectors(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not 1 <= len(vectors) <= MAX_PUT:
            raise validation_error(f"vectors must hold 1 to {MAX_PUT} vectors")
        staged = {}
        for vector in vectors:
            key = vector.get("key") if isinstance(vector, dict) else None
            if not isinstance(key, str) or not key:
                raise validation_error("each vector needs a non-empty key")
            metadata = vector.get("metadata", {})
            if not isinstance(metadata, dict):
                raise validation_error("metadata must be an object")
            staged[key] = (self._vector(index, vector.get("data")), metadata)
        index.vectors.update(staged)  # all or nothing
        return {}

    def _row(
        self, index: Index, key: str, data: bool, metadata: bool, distance: float | None = None
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"key": key}
        values, meta = index.vectors[key]
        if data:
            row["data"] = {index.data_type: values}
        if metadata:
            row["metadata"] = meta
        if distance is not None:
            row["distance"] = distance
        return row

    def get_vectors(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        keys = body.get("keys") or []
        data, metadata = bool(body.get("returnData")), bool(body.get("returnMetadata"))
        rows = [self._row(index, k, data, metadata) for k in keys if k in index.vectors]
        return {"vectors": rows}

    def delete_vectors(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        for key in body.get("keys") or []:
            index.vectors.pop(key, None)
        return {}

    def list_vectors(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        size = body.get("maxResults", 500)
        if not isinstance(size, int) or not 1 <= size <= 1000:
            raise validation_error("maxResults must be between 1 and 1000")
        token = body.get("nextToken") or "0"
        if not token.isdigit():
            raise validation_error("invalid nextToken")
        keys = list(index.vectors)[int(token) :]
        data, metadata = bool(body.get("returnData")), bool(body.get("returnMetadata"))
        response: dict[str, Any] = {
            "vectors": [self._row(index, k, data, metadata) for k in keys[:size]]
        }
        if len(keys) > size:
            response["nextToken"] = str(int(token) + size)
        return response

    def query_vectors(self, body: Body) -> dict[str, Any]:
        index = self._index(body)
        top_k = body.get("topK")
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise validation_error(f"topK must be between 1 and {MAX_TOP_K}")
        query = self._vector(index, body.get("queryVector"))
        keep = (
            compile_filter(body["filter"], index.unfilterable)
            if body.get("filter") is not None
            else None
        )
        distance = _DISTANCES[index.distance_metric]
        scored = sorted(
            (
                (round(distance(query, values), 6), order, key)
                for order, (key, (values, meta)) in enumerate(index.vectors.items())
                if keep is None or keep(meta)
            ),
        )[:top_k]
        metadata, with_distance = bool(body.get("returnMetadata")), bool(body.get("returnDistance"))
        return {
            "vectors": [
                self._row(index, key, False, metadata, d if with_distance else None)
                for d, _, key in scored
            ],
            "distanceMetric": index.distance_metric,
        }


OPERATIONS: dict[str, str] = {
    "CreateVectorBucket": "create_vector_bucket",
    "GetVectorBucket": "get_vector_bucket",
    "CreateIndex": "create_index",
    "GetIndex": "get_index",
    "DeleteIndex": "delete_index",
    "PutVectors": "put_vectors",
    "GetVectors": "get_vectors",
    "DeleteVectors": "delete_vectors",
    "ListVectors": "list_vectors",
    "QueryVectors": "query_vectors",
}
"""Operation (the request path) -> the Store method answering it."""
