"""``NeptuneGraph``: a Neptune Database cluster queried in openCypher (langchain-aws's
class) over the boto3 ``neptunedata`` client.

``query(query, params)`` runs ExecuteOpenCypherQuery and returns its ``results`` rows.
``get_schema`` is the text langchain-aws builds for a model: node labels with their
properties, relationship types with theirs, and the (label)-[type]->(label) triples,
read from GetPropertygraphSummary and three small queries per label; it is read on
first use (never when a file is loaded) and again by ``refresh_schema()``. The endpoint
is ``endpoint_url``, else ``https://<host>:<port>`` (``use_https=False``: http);
``sign=False`` sends unsigned requests (a cluster without IAM authentication).
Credentials and region resolve as for every runwire AWS class.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel, Field, PrivateAttr, field_validator

from runwire.providers.aws.client import AwsClientFields, AwsSerializable
from runwire.schema.serializable import Serializable
from runwire.schema.trust import UntrustedValueError, current_trust, endpoint_matches

__all__ = ["NeptuneEndpointFields", "NeptuneGraph", "describe", "schema_lines", "tuple_keys"]

NEPTUNE_HOSTS = ("https://*.neptune.amazonaws.com", "https://*.neptune.amazonaws.com.cn")
"""Where an untrusted manifest may point ``host`` without an allowlist entry."""
TYPES = {
    "str": "STRING",
    "float": "DOUBLE",
    "int": "INTEGER",
    "list": "LIST",
    "dict": "MAP",
    "bool": "BOOLEAN",
}
"""Python type of a property value -> the type name the schema text shows."""
_TRIPLES = (
    "MATCH (a)-[e:`{label}`]->(b) WITH a,e,b LIMIT 3000 "
    "RETURN DISTINCT labels(a) AS from, type(e) AS edge, labels(b) AS to LIMIT 10"
)
_NODE_PROPS = "MATCH (a:`{label}`) RETURN properties(a) AS props LIMIT 100"
_EDGE_PROPS = "MATCH ()-[e:`{label}`]->() RETURN properties(e) AS props LIMIT 100"


def _first(value: Any) -> str:
    """A label from ``labels()``: Neptune answers a list, some engines a string."""
    return str(value[0] if isinstance(value, list) and value else value)


def _safe_label(label: str) -> str:
    if "`" in label:
        raise ValueError(f"a label with a backquote cannot be queried: {label!r}")
    return label


def describe(
    items: list[dict[str, Any]], key: str, descriptions: dict[str, str] | None
) -> list[dict[str, Any]]:
    """``items`` with the descriptions of their properties (``"Label.property"`` keys)."""
    for item in items:
        for prop in item["properties"]:
            text = (descriptions or {}).get(f"{item[key]}.{prop['property']}")
            if text:
                prop["description"] = text
    return items


def schema_lines(nodes: list[Any], edges: list[Any], triples: list[str]) -> list[str]:
    """The schema text langchain-aws shows a model, as lines."""
    return [
        "Node properties are the following:",
        str(nodes),
        "Relationship properties are the following:",
        str(edges),
        "The relationships are the following:",
        str(triples),
    ]


def tuple_keys(value: Any) -> Any:
    """langchain-aws's ``(label, property)`` description keys as ``"Label.property"``."""
    if isinstance(value, dict):
        return {
            ".".join(k) if isinstance(k, tuple) and len(k) == 2 else k: v for k, v in value.items()
        }
    return value


class NeptuneEndpointFields(BaseModel):
    """Where a Neptune Database cluster is: ``host``, ``port``, ``use_https``, ``sign``
    (the endpoint and signing of its boto3 client); a host an untrusted manifest names
    must be a Neptune endpoint or on ``allowed_endpoints``."""

    host: str
    """The cluster's endpoint host name."""
    port: int = Field(default=8182, gt=0, lt=65536)
    """The cluster's port."""
    use_https: bool = True
    """Connect over HTTPS (the endpoint made from ``host`` and ``port``)."""
    sign: bool = True
    """Sign requests with SigV4 (IAM authentication); False for a cluster without it."""

    @field_validator("host")
    @classmethod
    def _host_allowed(cls, value: str) -> str:
        trust = current_trust()
        url = f"https://{value}"
        if not trust.trusted and not (
            any(endpoint_matches(url, rule) for rule in NEPTUNE_HOSTS)
            or trust.allows_endpoint(url)
            or trust.allows_endpoint(f"http://{value}")
        ):
            raise UntrustedValueError(
                f"host {value!r} is not a Neptune endpoint nor on allowed_endpoints; an "
                "untrusted manifest may only send requests there",
                "if you run that cluster, add its origin to allowed_endpoints",
            )
        return value

    @property
    def cluster_url(self) -> str:
        """``https://host:port`` (``http`` without ``use_https``)."""
        return f"{'https' if self.use_https else 'http'}://{self.host}:{self.port}"

    def client_settings(self) -> dict[str, Any]:
        settings = super().client_settings()  # type: ignore[misc]
        if not settings.get("endpoint_url"):
            settings["endpoint_url"] = self.cluster_url
        if not self.sign:
            from botocore import UNSIGNED
            from botocore.config import Config

            config = settings.get("config")
            unsigned = Config(signature_version=UNSIGNED)
            if isinstance(config, dict):
                config = Config(**config)
            settings["config"] = config.merge(unsigned) if config is not None else unsigned
        return settings


class PropertyGraphSchema:
    """The schema text of an openCypher graph, as langchain-aws shows it to a model:
    ``refresh_schema`` reads the graph and calls :meth:`_set_schema`; ``get_schema`` reads
    it on first use. The graph classes hold ``_schema`` and ``property_descriptions``."""

    def _set_schema(self, nodes: list[Any], edges: list[Any], triples: list[str]) -> None:
        self._schema = schema_lines(
            describe(nodes, "labels", self.property_descriptions),
            describe(edges, "type", self.property_descriptions),
            triples,
        )

    @property
    def get_schema(self) -> str:
        """The schema text a model is shown (read on first use)."""
        if not self._schema:
            self.refresh_schema()  # type: ignore[attr-defined]
        return "\n".join(self._schema)

    @property
    def schema(self) -> str:
        """Same as ``get_schema``."""
        return self.get_schema


class NeptuneGraph(
    PropertyGraphSchema, AwsSerializable, Serializable, NeptuneEndpointFields, AwsClientFields
):
    """A Neptune Database graph (openCypher); see the module docstring."""

    aws_service: ClassVar[str] = "neptunedata"

    property_descriptions: dict[str, str] | None = None
    """Descriptions added to the schema text, by ``"Label.property"`` (in Python also
    langchain-aws's ``(label, property)`` tuples)."""

    _schema: list[str] = PrivateAttr(default_factory=list)

    @field_validator("property_descriptions", mode="before")
    @classmethod
    def _tuple_keys(cls, value: Any) -> Any:
        return tuple_keys(value)

    # -- queries --------------------------------------------------------------------------
    def query(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The result rows of an openCypher query (``$name`` parameters from ``params``)."""
        request: dict[str, Any] = {"openCypherQuery": query}
        if params:
            request["parameters"] = json.dumps(params)
        return self.aws_call("execute_open_cypher_query", **request)["results"]

    def _summary(self) -> dict[str, Any]:
        response = self.aws_call("get_propertygraph_summary", mode="detailed")
        return response["payload"]["graphSummary"]

    # -- schema ---------------------------------------------------------------------------
    def _properties(self, template: str, label: str) -> list[dict[str, str]]:
        found: set[tuple[str, str]] = set()
        for row in self.query(template.format(label=_safe_label(label))):
            for key, value in (row.get("props") or {}).items():
                found.add((key, TYPES.get(type(value).__name__, "STRING")))
        return [{"property": k, "type": t} for k, t in sorted(found)]

    def refresh_schema(self) -> None:
        """Read the schema again (labels, properties, triples)."""
        summary = self._summary()
        node_labels, edge_labels = summary["nodeLabels"], summary["edgeLabels"]
        triples = []
        for label in edge_labels:
            for row in self.query(_TRIPLES.format(label=_safe_label(label))):
                start, end = _first(row["from"]), _first(row["to"])
                triples.append(f"(:`{start}`)-[:`{row['edge']}`]->(:`{end}`)")
        nodes = [
            {"properties": self._properties(_NODE_PROPS, label), "labels": label}
            for label in node_labels
        ]
        edges = [
            {"type": label, "properties": self._properties(_EDGE_PROPS, label)}
            for label in edge_labels
        ]
        self._set_schema(nodes, edges, triples)
