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

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from runwire.testing.aws_loopback import AwsHandler, flat_headers
from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.eventstream import encode_error, encode_event, encode_exception
from runwire.testing.bedrock.faults import Fault, ServiceError
from runwire.testing.bedrock.operations import OPERATIONS, Call, Result, simulated_latency
from runwire.testing.loopback import LoopbackServer, chunked, json_object

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


def _rerank_model(body: Mapping[str, Any]) -> str:
    config = body.get("rerankingConfiguration") or {}
    model = (config.get("bedrockRerankingConfiguration") or {}).get("modelConfiguration") or {}
    return str(model.get("modelArn", ""))


class _Handler(AwsHandler):
    server_version = "runwire-bedrock-emulator"
    tcp_nodelay = True
    server: EmulatorServer

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

    # -- writing -----------------------------------------------------------------------
    _answer_at = 0.0
    """``perf_counter`` time before which the answer is not written (simulated latency)."""

    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        wait = self._answer_at - time.perf_counter()
        if wait > 0:  # the answer is ready: the model's remaining generation time
            time.sleep(wait)
        self._answer_at = 0.0
        super()._write(status, headers, payload)

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
        head = {
            "Content-Type": "application/vnd.amazon.eventstream",
            "Transfer-Encoding": "chunked",
            **result.headers,
        }
        self._write(200, head, chunked(messages))

    # -- the request -------------------------------------------------------------------
    def _handle(self) -> None:
        started = time.perf_counter()
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
            auth = self._signed(path, query, headers, raw, secret_of)
            if auth is None:
                return
            key_id, region = auth.access_key_id, auth.region
        body = json_object(raw)
        if operation == "Rerank" and body is not None:
            model_id = _rerank_model(body)
        flat = flat_headers(headers)
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
            emulator.embedding_latency_ms,
            emulator.knowledge_bases if operation == "Retrieve" else {},
        )
        try:
            result = OPERATIONS[operation](call)
        except ServiceError as exc:
            return self._send_error(exc.status, exc.code, exc.message)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            message = f"Malformed input request: {type(exc).__name__}: {exc}"
            return self._send_error(400, "ValidationException", message)
        if emulator.simulate_latency:
            self._answer_at = started + simulated_latency(operation, call)
        if result.events is not None:
            return self._send_events(result, fault)
        return self._send_json(200, result.body, result.headers)

    def _on_bug(self, exc: Exception) -> None:
        message = f"emulator error: {type(exc).__name__}: {exc}"
        self._send_error(500, "InternalServerException", message)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = AwsHandler._dispatch


class EmulatorServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    request_queue_size = 256
    handler_class = _Handler
