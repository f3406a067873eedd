"""``NeptuneRdfGraph``: a Neptune Database cluster queried in SPARQL (langchain-aws's class).

``query(query)`` POSTs the query form to ``<cluster>/sparql`` (SigV4-signed for service
``neptune-db`` with ``use_iam_auth``) and returns the SPARQL JSON result. ``get_schema``
is the text langchain-aws builds: the classes and predicates of GetRDFGraphSummary (the
boto3 ``neptunedata`` client) and the OWL datatype and object properties the graph
declares, each IRI with its local name (langchain-aws lists the datatype properties under
"object properties" and the other way round; here each is under its own heading).
Responses are read up to ``max_response_bytes``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from pydantic import Field, PrivateAttr

from runwire.errors import ProviderError
from runwire.providers.aws.client import AwsClientFields, AwsSerializable
from runwire.providers.aws.neptune import NeptuneEndpointFields
from runwire.schema.serializable import Serializable

__all__ = ["NeptuneRdfGraph", "local_name"]

_PROPERTY_QUERIES = {
    "dtprops": "SELECT DISTINCT ?elem WHERE { ?elem a owl:DatatypeProperty . }",
    "oprops": "SELECT DISTINCT ?elem WHERE { ?elem a owl:ObjectProperty . }",
}


def local_name(iri: str) -> tuple[str, str]:
    """An IRI split into its prefix and local name (after the last ``#`` or ``/``)."""
    for mark in ("#", "/"):
        if mark in iri:
            head, _, tail = iri.rpartition(mark)
            return f"{head}{mark}", tail
    raise ValueError(f"Unexpected IRI '{iri}', contains neither '#' nor '/'.")


class NeptuneRdfGraph(AwsSerializable, Serializable, NeptuneEndpointFields, AwsClientFields):
    """A Neptune Database graph queried in SPARQL; see the module docstring."""

    aws_service: ClassVar[str] = "neptunedata"

    use_iam_auth: bool = False
    """Sign the SPARQL requests with SigV4 (a cluster with IAM authentication)."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds a SPARQL request may take."""
    max_response_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    """Refuse a SPARQL response longer than this."""

    _schema: str = PrivateAttr(default="")
    _elements: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def query_endpoint(self) -> str:
        """The SPARQL endpoint (``endpoint_url`` if set, else the cluster's)."""
        return f"{(self.endpoint_url or self.cluster_url).rstrip('/')}/sparql"

    def _headers(self, body: str) -> dict[str, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if not self.use_iam_auth:
            return headers
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        client = self.aws_client()
        # the credentials the boto3 client resolved (fields, profile or default chain)
        credentials = client._request_signer._credentials
        if credentials is None:
            raise ProviderError("neptune-db", "SPARQL", "NoCredentials", "no AWS credentials")
        request = AWSRequest(method="POST", url=self.query_endpoint, data=body, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "neptune-db", client.meta.region_name)\
            .add_auth(request)  # fmt: skip
        return dict(request.headers.items())

    def query(self, query: str) -> dict[str, Any]:
        """The SPARQL JSON result of ``query``."""
        from urllib.parse import urlencode

        body = urlencode({"query": query})
        headers = self._headers(body)
        try:
            with (
                httpx.Client(timeout=self.timeout) as http,
                http.stream("POST", self.query_endpoint, content=body, headers=headers) as reply,
            ):
                chunks, size = [], 0
                for chunk in reply.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise ProviderError(
                            "neptune-db", "SPARQL", "ResponseTooLarge",
                            f"the response is over {self.max_response_bytes} bytes",
                        )  # fmt: skip
                    chunks.append(chunk)
                status = reply.status_code
        except httpx.HTTPError as exc:
            raise ProviderError("neptune-db", "SPARQL", type(exc).__name__, str(exc)) from None
        import json

        data = json.loads(b"".join(chunks) or b"{}")
        if status >= 400:
            code = data.get("code", "HTTPError") if isinstance(data, dict) else "HTTPError"
            message = data.get("detailedMessage", "") if isinstance(data, dict) else ""
            raise ProviderError("neptune-db", "SPARQL", code, message, status=status)
        return data

    def get_summary(self) -> dict[str, Any]:
        """GetRDFGraphSummary (detailed) as boto3 returns it."""
        return self.aws_call("get_rdf_graph_summary", mode="detailed")

    def refresh_schema(self) -> None:
        """Read the classes and predicates again."""
        summary = self.get_summary()["payload"]["graphSummary"]
        prefixes: dict[str, str] = {}

        def record(iri: str) -> dict[str, str]:
            prefix, local = local_name(iri)
            prefixes.setdefault(prefix, "y")
            return {"uri": iri, "local": local}

        elements: dict[str, Any] = {
            "classes": [record(c) for c in summary["classes"]],
            "rels": [record(p) for row in summary["predicates"] for p in row],
        }
        for kind, text in _PROPERTY_QUERIES.items():
            bindings = self.query(text)["results"]["bindings"]
            elements[kind] = [record(b["elem"]["value"]) for b in bindings]
        elements["distinct_prefixes"] = prefixes
        self.load_schema(elements)

    def load_schema(self, schema_elements: dict[str, Any]) -> None:
        """Set the schema from its elements (``classes``, ``rels``, ``dtprops``, ``oprops``)."""
        self._elements = schema_elements
        text = {
            kind: ", ".join(f"<{e['uri']}> ({e['local']})" for e in schema_elements[kind])
            for kind in ("classes", "rels", "dtprops", "oprops")
        }
        self._schema = (
            "In the following, each IRI is followed by the local name and optionally its "
            "description in parentheses. \n"
            f"The graph supports the following node types:\n{text['classes']}\n"
            f"The graph supports the following relationships:\n{text['rels']}\n"
            f"The graph supports the following OWL object properties:\n{text['oprops']}\n"
            f"The graph supports the following OWL data properties:\n{text['dtprops']}"
        )

    @property
    def get_schema(self) -> str:
        """The schema text a model is shown (read on first use)."""
        if not self._schema:
            self.refresh_schema()
        return self._schema

    @property
    def get_schema_elements(self) -> dict[str, Any]:
        """The schema's elements by kind."""
        if not self._elements:
            self.refresh_schema()
        return self._elements
