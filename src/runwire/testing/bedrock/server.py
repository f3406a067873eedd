"""The HTTP side of the emulator: a threading HTTP/1.1 server on loopback.

Routes (POST): ``/model/{modelId}/invoke``, ``/invoke-with-response-stream``,
``/converse``, ``/converse-stream``, ``/count-tokens`` (bedrock-runtime), ``/rerank``
and ``/knowledgebases/{knowledgeBaseId}/retrieve`` (bedrock-agent-runtime). Each
request is read whole, authenticated (SigV4), recorded, checked against the injected
failures and answered: JSON bodies with a Content-Length, streams as
``application/vnd.amazon.eventstream`` messages in chunked transfer encoding, errors
in the AWS rest-json shape (``x-amzn-ErrorType``, ``{"message": ...}``). Connections
are kept alive.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.eventstream import encode_error, encode_event, encode_exception
from runwire.testing.bedrock.faults import Fault, ServiceError
from runwire.testing.bedrock.operations import OPERATIONS, Call, Result

if TYPE_CHECKING:
    from runwire.testing.bedrock.emulator import BedrockEmulator

__all__ = ["EmulatorServer", "RecordedRequest", "route"]

_MODEL_ROUTE = re.compile(r"^/model/([^/]+)/([a-z-]+)$")
_KB_ROUTE = re.compile(r"^/knowledgebases/([^/]+)/retrieve$")
_MODEL_OPERATIONS = {
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "count-tokens": "CountTokens",
}
_ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_STREAM_EXCEPTIONS = frozenset(
    (
        "internalServerException",
        "modelStreamErrorException",
        "validationException",
        "throttlingException",
        "modelTimeoutException",
        "serviceUnavailableException",
    )
)


@dataclass(frozen=True)
class RecordedRequest:
    """One authenticated request the emulator received.

    ``body`` is the parsed JSON body (``{}`` when it is not JSON; the model request for
    InvokeModel), ``headers`` the received headers with lower-case names. Headers and
    the raw body are left out of the repr (they may carry a session token).
    """

    operation: str
    model_id: str
    body: dict[str, Any]
    headers: dict[str, str] = field(repr=False)
    access_key_id: str | None
    """The SigV4 key id; None for a request authenticated by a Bedrock API key."""
    region: str | None = None
    raw: bytes = field(default=b"", repr=False)


def route(method: str, path: str) -> tuple[str, str] | None:
    """``(operation, model id)`` for a request line, or None. The model id is
    URL-decoded; Rerank names its model in the body (the id is filled in later);
    Retrieve's "model id" is the knowledge base id."""
    if method != "POST":
        return None
    if path == "/rerank":
        return "Rerank", ""
    knowledge_base = _KB_ROUTE.match(path)
    if knowledge_base is not None:
        return "Retrieve", unquote(knowledge_base.group(1))
    match = _MODEL_ROUTE.match(path)
    if match is None or match.group(2) not in _MODEL_OPERATIONS:
        return None
    return _MODEL_OPERATIONS[match.group(2)], unquote(match.group(1))


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The request body as a JSON object (an empty body is ``{}``), else None."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _rerank_model(body: Mapping[str, Any]) -> str:
    config = body.get("rerankingConfiguration") or {}
    model = (config.get("bedrockRerankingConfiguration") or {}).get("modelConfiguration") or {}
    return str(model.get("modelArn", ""))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "runwire-bedrock-emulator"
    timeout = 300  # idle keep-alive connections close after this many seconds
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.request, True)

    def finish(self) -> None:
        self.server.track(self.request, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.emulator.log
        if log is not None:
            log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip())

    # -- reading -----------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _headers_lists(self) -> dict[str, list[str]]:
        received: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            received.setdefault(name.lower(), []).append(value)
        return received

    # -- writing -----------------------------------------------------------------------
    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        """Status line, headers and ``payload`` in one write (one syscall, no waiting
        for the GIL between the parts)."""
        self.log_request(status)
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] = {}) -> None:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        head = {"Content-Type": "application/json", "Content-Length": str(len(raw)), **headers}
        self._write(status, head, raw)

    def _send_error(self, status: int, code: str, message: str) -> None:
        headers = {"x-amzn-ErrorType": f"{code}:{_ERROR_NAMESPACE}"}
        self._send_json(status, {"message": message}, headers)

    def _send_events(self, result: Result, fault: Fault | None) -> None:
        """The events, each an HTTP chunk; a mid-stream fault sends the first half of
        them, then the exception message."""
        events = result.events or []
        if fault is not None:
            events = events[: max(1, len(events) // 2)]
        messages = [encode_event(name, payload) for name, payload in events]
        if fault is not None:
            member = fault.code[:1].lower() + fault.code[1:]
            if member in _STREAM_EXCEPTIONS:
                messages.append(encode_exception(member, fault.message))
            else:
                messages.append(encode_error(fault.code, fault.message))
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(m), m) for m in messages) + b"0\r\n\r\n"
        head = {
            "Content-Type": "application/vnd.amazon.eventstream",
            "Transfer-Encoding": "chunked",
            **result.headers,
        }
        self._write(200, head, chunks)

    # -- the request -------------------------------------------------------------------
    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_body()
        target = route(self.command, path)
        if target is None:
            message = f"Unknown operation: {self.command} {path}"
            return self._send_error(404, "UnknownOperationException", message)
        operation, model_id = target
        emulator = self.server.emulator
        headers = self._headers_lists()
        secret_of = emulator.secret_of if emulator.require_auth else None
        bearer = (headers.get("authorization") or [""])[0]
        if bearer.startswith("Bearer "):  # a Bedrock API key
            if emulator.require_auth and not emulator.knows_api_key(bearer[7:]):
                return self._send_error(403, "UnrecognizedClientException", sigv4.UNKNOWN_KEY)
            key_id, region = None, None
        else:
            try:
                auth = sigv4.verify(self.command, path, query, headers, raw, secret_of)
            except sigv4.AuthError as exc:
                return self._send_error(exc.status, exc.code, exc.message)
            key_id, region = auth.access_key_id, auth.region
        body = _json_object(raw)
        if operation == "Rerank" and body is not None:
            model_id = _rerank_model(body)
        flat = {name: ",".join(values) for name, values in headers.items()}
        emulator.record(RecordedRequest(operation, model_id, body or {}, flat, key_id, region, raw))
        fault = emulator.faults.take(operation)
        if fault is not None and not fault.mid_stream:
            return self._send_error(fault.status, fault.code, fault.message)
        if body is None:
            message = "Malformed input request: the body must be a JSON object"
            return self._send_error(400, "ValidationException", message)
        call = Call(
            model_id,
            body,
            flat,
            emulator.scripted,
            fault is None,
            emulator.latency_ms,
            emulator.knowledge_bases if operation == "Retrieve" else {},
        )
        try:
            result = OPERATIONS[operation](call)
        except ServiceError as exc:
            return self._send_error(exc.status, exc.code, exc.message)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            message = f"Malformed input request: {type(exc).__name__}: {exc}"
            return self._send_error(400, "ValidationException", message)
        if result.events is not None:
            return self._send_events(result, fault)
        return self._send_json(200, result.body, result.headers)

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._send_error(
                500, "InternalServerException", f"emulator error: {type(exc).__name__}: {exc}"
            )

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _dispatch


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: BedrockEmulator) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
