"""``BedrockEmbeddings``: text embeddings over Bedrock ``InvokeModel`` (langchain-aws's class).

Each provider is a row of :data:`FORMATS`: how many texts one call takes, the request
body for a batch, and how to read the vectors back.

- amazon (Titan text v1/v2): one text per call, ``{"inputText": ...}``; Titan v2's
  ``dimensions`` is the field of that name, its own ``normalize`` goes in ``model_kwargs``.
- cohere (Embed v3/v4): up to 96 texts per call, ``input_type`` ``search_document``
  for documents and ``search_query`` for queries.

``model_kwargs`` are merged into every request body (they win). ``normalize`` scales
each returned vector to unit length locally. Async calls run in runwire's bounded AWS
thread pool; a document list goes out as concurrent calls, a few at a time.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ConfigDict

from runwire.errors import ProviderError
from runwire.providers.aws.client import AwsClientFields, AwsSerializable, run_in_aws_thread
from runwire.providers.aws.model_ids import provider_of
from runwire.runtime.models.embeddings import Embeddings
from runwire.schema.serializable import Serializable

__all__ = ["FORMATS", "BedrockEmbeddings", "EmbeddingFormat", "l2_normalize"]

DOCUMENT = "search_document"
QUERY = "search_query"
ASYNC_CALLS_IN_FLIGHT = 8
"""How many InvokeModel calls one ``aembed_documents`` keeps running at once."""


def l2_normalize(vector: Sequence[float]) -> list[float]:
    """``vector`` scaled to unit length (a zero vector is returned unchanged)."""
    norm = math.sqrt(math.fsum(x * x for x in vector))
    if norm == 0.0:
        return [float(x) for x in vector]
    return [x / norm for x in vector]


def _clean(text: str) -> str:
    # langchain-aws sends newlines as spaces; do the same so vectors match
    return text.replace("\n", " ")


# -- provider formats --------------------------------------------------------------------
def _titan_body(texts: list[str], input_type: str) -> dict[str, Any]:
    return {"inputText": texts[0]}


def _titan_vectors(body: dict[str, Any]) -> list[list[float]]:
    vector = body.get("embedding")
    return [vector] if isinstance(vector, list) else []


def _cohere_body(texts: list[str], input_type: str) -> dict[str, Any]:
    return {"input_type": input_type, "texts": texts}


def _cohere_vectors(body: dict[str, Any]) -> list[list[float]]:
    vectors = body.get("embeddings")
    if isinstance(vectors, dict):  # embedding_types asked for: {"float": [...], ...}
        vectors = vectors.get("float", next(iter(vectors.values()), None))
    return vectors if isinstance(vectors, list) else []


@dataclass(frozen=True, slots=True)
class EmbeddingFormat:
    """How one provider's embedding models are called."""

    batch_size: int
    """Texts per InvokeModel call."""
    body: Callable[[list[str], str], dict[str, Any]]
    """The request body for a batch of texts and an input type (document or query)."""
    vectors: Callable[[dict[str, Any]], list[list[float]]]
    """The vectors of a response body, in request order."""


FORMATS: dict[str, EmbeddingFormat] = {
    "amazon": EmbeddingFormat(1, _titan_body, _titan_vectors),
    "cohere": EmbeddingFormat(96, _cohere_body, _cohere_vectors),
}
"""Provider (first segment of the model id) -> its request and response format."""


def _batches(texts: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


class BedrockEmbeddings(AwsSerializable, Serializable, Embeddings, AwsClientFields):
    """Bedrock embedding models (amazon Titan text, cohere Embed).

    Credentials, region, endpoint and ``config`` resolve as every runwire AWS class
    does (see ``runwire.providers.aws.client``); ``client=`` injects a boto3
    ``bedrock-runtime`` client.
    """

    model_config = ConfigDict(protected_namespaces=())

    credentials_profile_name: str | None = None
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    model_id: str = "amazon.titan-embed-text-v1"
    """The model to call, e.g. ``amazon.titan-embed-text-v2:0`` or ``cohere.embed-english-v3``."""
    model_kwargs: dict[str, Any] | None = None
    """Extra request body fields (``dimensions``, ``normalize``, ``truncate``...)."""
    provider: str | None = None
    """The model's provider (amazon, cohere); inferred from ``model_id`` when unset."""
    normalize: bool = False
    """Scale every returned vector to unit length."""
    dimensions: int | None = None
    """Output vector size, on the models that take one: Titan v2's ``dimensions``,
    Cohere Embed v4's ``output_dimension`` (other Cohere models have none)."""

    aws_service: ClassVar[str] = "bedrock-runtime"

    # -- requests ------------------------------------------------------------------------
    def _format(self) -> EmbeddingFormat:
        provider = provider_of(self.model_id, self.provider)
        found = FORMATS.get(provider)
        if found is None:
            raise NotImplementedError(
                f"BedrockEmbeddings supports {' and '.join(sorted(FORMATS))} models, "
                f"not provider {provider!r} (model {self.model_id!r})"
            )
        return found

    def _dimensions(self) -> dict[str, Any]:
        """``dimensions`` under the model's key (langchain-aws's rule)."""
        if self.dimensions is None:
            return {}
        if "cohere.embed-v4" in self.model_id:
            return {"output_dimension": self.dimensions}
        if provider_of(self.model_id, self.provider) == "cohere":
            return {}
        return {"dimensions": self.dimensions}

    def _bodies(self, texts: list[str], input_type: str) -> list[tuple[int, dict[str, Any]]]:
        """(number of texts, request body) of every call needed for ``texts``."""
        fmt = self._format()
        extra = {**self._dimensions(), **(self.model_kwargs or {})}
        cleaned = [_clean(text) for text in texts]
        return [
            (len(batch), {**fmt.body(batch, input_type), **extra})
            for batch in _batches(cleaned, fmt.batch_size)
        ]

    def _invoke(self, count: int, body: dict[str, Any]) -> list[list[float]]:
        """One InvokeModel call: the vectors of its ``count`` texts."""
        response = self.aws_call(
            "invoke_model",
            modelId=self.model_id,
            body=json.dumps(body),
            accept="application/json",
            contentType="application/json",
        )
        payload = json.loads(response["body"].read())
        vectors = self._format().vectors(payload)
        if len(vectors) != count:
            meta = response.get("ResponseMetadata") or {}
            raise ProviderError(
                self.aws_service,
                "InvokeModel",
                "MalformedResponse",
                f"{self.model_id} returned {len(vectors)} embeddings for {count} texts",
                status=meta.get("HTTPStatusCode"),
                request_id=meta.get("RequestId"),
            )
        if self.normalize:
            return [l2_normalize(vector) for vector in vectors]
        return [[float(x) for x in vector] for vector in vectors]

    # -- Embeddings ------------------------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text (cohere: ``input_type`` ``search_document``)."""
        return [
            v for count, body in self._bodies(texts, DOCUMENT) for v in self._invoke(count, body)
        ]

    def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (cohere: ``input_type`` ``search_query``)."""
        ((count, body),) = self._bodies([text], QUERY)
        return self._invoke(count, body)[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async ``embed_documents``: the calls run concurrently, a few at a time."""
        bodies = self._bodies(texts, DOCUMENT)
        gate = asyncio.Semaphore(ASYNC_CALLS_IN_FLIGHT)

        async def one(count: int, body: dict[str, Any]) -> list[list[float]]:
            async with gate:
                return await run_in_aws_thread(self._invoke, count, body)

        parts = await asyncio.gather(*(one(count, body) for count, body in bodies))
        return [vector for part in parts for vector in part]

    async def aembed_query(self, text: str) -> list[float]:
        """Async ``embed_query``."""
        return await run_in_aws_thread(self.embed_query, text)
