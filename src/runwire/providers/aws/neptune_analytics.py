"""``NeptuneAnalyticsGraph``: a Neptune Analytics graph queried in openCypher
(langchain-aws's class) over the boto3 ``neptune-graph`` client.

``query(query, params)`` runs ExecuteQuery (language ``OPEN_CYPHER``) on
``graph_identifier`` and returns the ``results`` of its JSON payload; ``get_schema`` is
the text langchain-aws builds from ``CALL neptune.graph.pg_schema()`` (read on first
use, again by ``refresh_schema()``). With ``endpoint_url`` set (a VPC endpoint, the
emulator) the graph id is sent in its header only, not also prefixed to the host name.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import PrivateAttr, field_validator

from runwire.providers.aws.client import AwsClientFields, AwsSerializable
from runwire.providers.aws.neptune import PropertyGraphSchema, tuple_keys
from runwire.schema.serializable import Serializable

__all__ = ["NeptuneAnalyticsGraph"]

_PG_SCHEMA = "CALL neptune.graph.pg_schema() YIELD schema RETURN schema"
MAX_PAYLOAD = 64 * 1024 * 1024


def _properties(details: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"property": name, "type": (spec.get("datatypes") or ["String"])[0]}
        for name, spec in (details.get("properties") or {}).items()
    ]


class NeptuneAnalyticsGraph(PropertyGraphSchema, AwsSerializable, Serializable, AwsClientFields):
    """A Neptune Analytics graph (openCypher); see the module docstring."""

    aws_service: ClassVar[str] = "neptune-graph"

    graph_identifier: str
    """The graph's identifier (``g-...``)."""
    property_descriptions: dict[str, str] | None = None
    """Descriptions added to the schema text, by ``"Label.property"``."""

    _schema: list[str] = PrivateAttr(default_factory=list)

    @field_validator("property_descriptions", mode="before")
    @classmethod
    def _tuple_keys(cls, value: Any) -> Any:
        return tuple_keys(value)

    def client_settings(self) -> dict[str, Any]:
        settings = super().client_settings()
        if settings.get("endpoint_url"):
            from botocore.config import Config

            config = settings.get("config")
            plain = Config(inject_host_prefix=False)
            if isinstance(config, dict):
                config = Config(**config)
            settings["config"] = config.merge(plain) if config is not None else plain
        return settings

    def query(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The result rows of an openCypher query."""
        response = self.aws_call(
            "execute_query",
            graphIdentifier=self.graph_identifier,
            queryString=query,
            parameters=params or {},
            language="OPEN_CYPHER",
        )
        payload = response["payload"].read(MAX_PAYLOAD + 1)
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"the query's result is over {MAX_PAYLOAD} bytes")
        return json.loads(payload.decode("utf-8"))["results"]

    def refresh_schema(self) -> None:
        """Read the schema again (``neptune.graph.pg_schema``)."""
        raw = self.query(_PG_SCHEMA)[0]["schema"]
        triples = [f"(:`{t['~from']}`)-[:`{t['~type']}`]->(:`{t['~to']}`)" for t in
                   raw["labelTriples"]]  # fmt: skip
        nodes = [
            {"properties": _properties(details), "labels": label}
            for label, details in raw["nodeLabelDetails"].items()
        ]
        edges = [
            {"type": label, "properties": _properties(details)}
            for label, details in raw["edgeLabelDetails"].items()
        ]
        self._set_schema(nodes, edges, triples)
