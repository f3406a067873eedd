"""``NeptuneEmulator``: a local Neptune Database openCypher endpoint (the boto3
``neptunedata`` API) running queries on a real embedded engine.

::

    with NeptuneEmulator() as emu:
        client = boto3.client("neptunedata", endpoint_url=emu.endpoint_url, ...)
        client.execute_open_cypher_query(openCypherQuery="MATCH (n:Movie) RETURN n.title")

It answers ``POST /opencypher`` (ExecuteOpenCypherQuery: ``query`` and JSON
``parameters``) and ``GET /propertygraph/statistics/summary`` (GetPropertygraphSummary)
over the movie/company graph of :mod:`runwire.testing.neptune.engine`, and Neptune
Analytics' ExecuteQuery (``POST /queries`` for the graph ``graph_identifier``, openCypher;
``CALL neptune.graph.pg_schema()`` yields the schema read from the same graph), and the
SPARQL endpoint (``POST /sparql``, ``GET /rdf/statistics/summary``) over the same graph
as RDF (:mod:`runwire.testing.neptune.rdf`). Requests must be
SigV4-signed (service ``neptune-db``) with a key pair from ``credentials`` (default:
the Bedrock emulator's public dummy pair) unless ``require_auth=False`` (a cluster
without IAM authentication). Every request is recorded in :attr:`requests`; a query the
engine refuses is Neptune's ``MalformedQueryException`` (HTTP 400).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from runwire.testing.aws_loopback import DEFAULT_CREDENTIALS, AwsHandler
from runwire.testing.loopback import LoopbackEmulator, LoopbackServer
from runwire.testing.neptune.engine import GraphEngine, QueryError
from runwire.testing.neptune.rdf import RdfEngine, SparqlError

__all__ = ["DEFAULT_GRAPH_ID", "NeptuneEmulator", "RecordedQuery"]

MAX_BODY = 1024 * 1024
DEFAULT_GRAPH_ID = "g-runwire01"
"""The Neptune Analytics graph identifier the emulator answers to."""
_PG_SCHEMA = re.compile(
    r"CALL\s+neptune\.graph\.pg_schema\(\)\s+YIELD\s+schema\s+RETURN\s+schema", re.IGNORECASE
)


@dataclass(frozen=True)
class RecordedQuery:
    """One request: the operation, the query text (if any) and who signed it."""

    operation: str
    query: str
    access_key_id: str | None


class _Handler(AwsHandler):
    server_version = "runwire-neptune-emulator"
    internal_error_code = "InternalFailureException"
    server: _Server

    def _send(self, status: int, body: Any, error: str | None = None) -> None:
        raw = json.dumps(body, separators=(",", ":"), default=str).encode("utf-8")
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            "Content-Type: application/json",
            f"Content-Length: {len(raw)}",
        ]
        if error:
            lines.append(f"x-amzn-ErrorType: {error}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw)

    def _send_error(self, status: int, code: str, message: str) -> None:
        body = {"code": code, "detailedMessage": message, "message": message}
        self._send(status, {**body, "requestId": str(uuid.uuid4())}, error=code)

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_at_most(MAX_BODY)
        if raw is None:
            return self._send_error(400, "BadRequestException", "request body too large")
        emulator = self.server.emulator
        key_id = None
        if emulator.require_auth:
            headers = self._headers_lists()
            auth = self._signed(
                path, query, headers, raw, emulator.secret_of, code="AccessDeniedException"
            )
            if auth is None:
                return
            key_id = auth.access_key_id
        if self.command == "GET" and path == "/propertygraph/statistics/summary":
            emulator.record(RecordedQuery("GetPropertygraphSummary", "", key_id))
            summary = emulator.engine.summary()
            payload = {"version": "v1", "graphSummary": summary}
            return self._send(200, {"status": "200 OK", "payload": payload})
        if self.command == "GET" and path == "/rdf/statistics/summary":
            emulator.record(RecordedQuery("GetRDFGraphSummary", "", key_id))
            payload = {"version": "v1", "graphSummary": emulator.rdf.summary()}
            return self._send(200, {"status": "200 OK", "payload": payload})
        if self.command == "POST" and path == "/sparql":
            return self._sparql(raw, key_id)
        if self.command == "POST" and path == "/queries":
            return self._analytics_query(raw, key_id)
        if self.command == "POST" and path == "/opencypher":
            try:
                body = json.loads(raw or b"{}")
                text = body["query"]
                params = json.loads(body.get("parameters") or "{}")
                if not isinstance(text, str) or not isinstance(params, dict):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                return self._send_error(
                    400, "BadRequestException", "expected a query and parameters"
                )
            emulator.record(RecordedQuery("ExecuteOpenCypherQuery", text, key_id))
            try:
                rows = emulator.engine.query(text, params)
            except QueryError as exc:
                return self._send_error(400, "MalformedQueryException", str(exc))
            return self._send(200, {"results": rows})
        return self._send_error(400, "UnsupportedOperationException", f"{self.command} {path}")

    def _sparql(self, raw: bytes, key_id: str | None) -> None:
        """The SPARQL endpoint: a form-encoded ``query`` (an ``update`` is refused)."""
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=16)
        if "update" in form:
            return self._send_error(400, "MalformedQueryException", "updates are not accepted here")
        text = (form.get("query") or [""])[0]
        if not text:
            return self._send_error(400, "BadRequestException", "expected a query form field")
        emulator = self.server.emulator
        emulator.record(RecordedQuery("SPARQL", text, key_id))
        try:
            return self._send(200, emulator.rdf.query(text))
        except SparqlError as exc:
            return self._send_error(400, "MalformedQueryException", str(exc))

    def _analytics_query(self, raw: bytes, key_id: str | None) -> None:
        """Neptune Analytics ExecuteQuery: the graph named by the graphIdentifier header."""
        emulator = self.server.emulator
        graph = self.headers.get("graphIdentifier", "")
        if graph != emulator.graph_identifier:
            return self._send_error(404, "ResourceNotFoundException", f"graph {graph!r} not found")
        try:
            body = json.loads(raw or b"{}")
            text, language = body["query"], body.get("language")
            params = body.get("parameters") or {}
            if not isinstance(text, str) or not isinstance(params, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._send_error(400, "ValidationException", "expected a query and parameters")
        if language != "OPEN_CYPHER":
            return self._send_error(
                400, "ValidationException", f"unsupported language {language!r}"
            )
        emulator.record(RecordedQuery("ExecuteQuery", text, key_id))
        try:
            if _PG_SCHEMA.fullmatch(text.strip()):
                rows: list[dict[str, Any]] = [{"schema": emulator.engine.pg_schema()}]
            else:
                rows = emulator.engine.query(text, params)
        except QueryError as exc:
            return self._send_error(400, "ValidationException", str(exc))
        return self._send(200, {"results": rows})

    do_GET = do_POST = AwsHandler._dispatch


class _Server(LoopbackServer):
    handler_class = _Handler


class NeptuneEmulator(LoopbackEmulator[RecordedQuery]):
    """A local Neptune openCypher endpoint over an embedded graph (see the module)."""

    server_class = _Server
    thread_name = "neptune-emulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        require_auth: bool = True,
        graph_identifier: str = DEFAULT_GRAPH_ID,
        max_recorded: int | None = 1000,
    ) -> None:
        super().__init__(host, port, max_recorded=max_recorded)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self.require_auth = require_auth
        self.graph_identifier = graph_identifier
        self.engine = GraphEngine()
        self._rdf: RdfEngine | None = None

    @property
    def rdf(self) -> RdfEngine:
        """The same graph as RDF (made on the first SPARQL request)."""
        with self._lock:
            if self._rdf is None:
                self._rdf = RdfEngine()
            return self._rdf

    def secret_of(self, access_key_id: str) -> str | None:
        """The secret of a known access key id, else None."""
        return self._credentials.get(access_key_id)
