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

import contextlib
import json
import re
import socket
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.emulator import DEFAULT_CREDENTIALS
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "runwire-neptune-emulator"
    timeout = 300
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

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

    def _error(self, status: int, code: str, message: str) -> None:
        body = {"code": code, "detailedMessage": message, "message": message}
        self._send(status, {**body, "requestId": str(uuid.uuid4())}, error=code)

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self._error(400, "BadRequestException", "request body too large")
        raw = self.rfile.read(length)
        emulator = self.server.emulator
        key_id = None
        if emulator.require_auth:
            headers: dict[str, list[str]] = {}
            for name, value in self.headers.items():
                headers.setdefault(name.lower(), []).append(value)
            try:
                auth = sigv4.verify(self.command, path, query, headers, raw, emulator.secret_of)
            except sigv4.AuthError as exc:
                return self._error(exc.status, "AccessDeniedException", exc.message)
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
                return self._error(400, "BadRequestException", "expected a query and parameters")
            emulator.record(RecordedQuery("ExecuteOpenCypherQuery", text, key_id))
            try:
                rows = emulator.engine.query(text, params)
            except QueryError as exc:
                return self._error(400, "MalformedQueryException", str(exc))
            return self._send(200, {"results": rows})
        return self._error(400, "UnsupportedOperationException", f"{self.command} {path}")

    def _sparql(self, raw: bytes, key_id: str | None) -> None:
        """The SPARQL endpoint: a form-encoded ``query`` (an ``update`` is refused)."""
        form = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=16)
        if "update" in form:
            return self._error(400, "MalformedQueryException", "updates are not accepted here")
        text = (form.get("query") or [""])[0]
        if not text:
            return self._error(400, "BadRequestException", "expected a query form field")
        emulator = self.server.emulator
        emulator.record(RecordedQuery("SPARQL", text, key_id))
        try:
            return self._send(200, emulator.rdf.query(text))
        except SparqlError as exc:
            return self._error(400, "MalformedQueryException", str(exc))

    def _analytics_query(self, raw: bytes, key_id: str | None) -> None:
        """Neptune Analytics ExecuteQuery: the graph named by the graphIdentifier header."""
        emulator = self.server.emulator
        graph = self.headers.get("graphIdentifier", "")
        if graph != emulator.graph_identifier:
            return self._error(404, "ResourceNotFoundException", f"graph {graph!r} not found")
        try:
            body = json.loads(raw or b"{}")
            text, language = body["query"], body.get("language")
            params = body.get("parameters") or {}
            if not isinstance(text, str) or not isinstance(params, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._error(400, "ValidationException", "expected a query and parameters")
        if language != "OPEN_CYPHER":
            return self._error(400, "ValidationException", f"unsupported language {language!r}")
        emulator.record(RecordedQuery("ExecuteQuery", text, key_id))
        try:
            if _PG_SCHEMA.fullmatch(text.strip()):
                rows: list[dict[str, Any]] = [{"schema": emulator.engine.pg_schema()}]
            else:
                rows = emulator.engine.query(text, params)
        except QueryError as exc:
            return self._error(400, "ValidationException", str(exc))
        return self._send(200, {"results": rows})

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._error(500, "InternalFailureException", f"emulator error: {type(exc).__name__}")

    do_GET = do_POST = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: NeptuneEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


class NeptuneEmulator:
    """A local Neptune openCypher endpoint over an embedded graph (see the module)."""

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
        self._address = (host, port)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self.require_auth = require_auth
        self.graph_identifier = graph_identifier
        self.engine = GraphEngine()
        self._rdf: RdfEngine | None = None
        self._requests: deque[RecordedQuery] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> NeptuneEmulator:
        """Serve in a background thread; returns self."""
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="neptune-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with contextlib.suppress(OSError):
            server.socket.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> NeptuneEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` for boto3's ``endpoint_url``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        return f"http://{self._address[0]}:{self._server.server_address[1]}"

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

    def record(self, call: RecordedQuery) -> None:
        with self._lock:
            self._requests.append(call)

    @property
    def requests(self) -> list[RecordedQuery]:
        """The requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)
