"""The HTTP side of the Assistants emulator: OpenAI's REST shapes on a loopback server.

Routes (under ``/v1``): ``POST /assistants``, ``GET /assistants/{id}``, ``POST
/threads``, ``GET /threads/{id}``, ``POST /threads/runs`` (create and run), ``POST|GET
/threads/{id}/messages``, ``POST /threads/{id}/runs``, ``GET
/threads/{id}/runs/{run}``, ``POST /threads/{id}/runs/{run}/submit_tool_outputs``; and
the Responses API's ``POST /conversations``, ``GET /conversations/{id}[/items]``, ``POST
/responses``.
Requests need ``Authorization: Bearer <key>`` with a key the emulator knows; errors use
OpenAI's ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from runwire.testing.loopback import LoopbackHandler, LoopbackServer, chunked
from runwire.testing.openai_assistants.responses import EventStream, ResponsesError
from runwire.testing.openai_assistants.store import Store

__all__ = ["ROUTES", "EmulatorServer", "RecordedCall"]

_MAX_BODY = 4 * 1024 * 1024
Handler = Callable[[Store, tuple[str, ...], dict[str, Any], dict[str, list[str]]], Any]


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": False,
    }


def _create_and_run(store: Store, args: tuple[str, ...], body: dict[str, Any], q: Any) -> Any:
    thread = store.create_thread(body.get("thread") or {})
    run_body = {k: v for k, v in body.items() if k != "thread"}
    return store.create_run(thread["id"], run_body)


def _messages(store: Store, args: tuple[str, ...], body: dict[str, Any], q: Any) -> Any:
    order = (q.get("order") or ["desc"])[0]
    run_id = (q.get("run_id") or [None])[0]
    return _page(store.list_messages(args[0], order, run_id))


ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("POST", re.compile(r"/assistants"), lambda s, a, b, q: s.create_assistant(b)),
    ("GET", re.compile(r"/assistants/([^/]+)"), lambda s, a, b, q: s.assistant(a[0])),
    ("POST", re.compile(r"/threads"), lambda s, a, b, q: s.create_thread(b)),
    ("POST", re.compile(r"/threads/runs"), _create_and_run),
    ("GET", re.compile(r"/threads/([^/]+)"), lambda s, a, b, q: s.thread(a[0])),
    ("POST", re.compile(r"/threads/([^/]+)/messages"), lambda s, a, b, q: s.add_message(a[0], b)),
    ("GET", re.compile(r"/threads/([^/]+)/messages"), _messages),
    ("POST", re.compile(r"/threads/([^/]+)/runs"), lambda s, a, b, q: s.create_run(a[0], b)),
    (
        "GET",
        re.compile(r"/threads/([^/]+)/runs/([^/]+)"),
        lambda s, a, b, q: s.retrieve_run(a[0], a[1]),
    ),
    (
        "POST",
        re.compile(r"/threads/([^/]+)/runs/([^/]+)/submit_tool_outputs"),
        lambda s, a, b, q: s.submit_tool_outputs(a[0], a[1], b),
    ),
    ("POST", re.compile(r"/conversations"), lambda s, a, b, q: s.responses.create_conversation(b)),
    (
        "GET",
        re.compile(r"/conversations/([^/]+)"),
        lambda s, a, b, q: s.responses.conversation(a[0]),
    ),
    (
        "GET",
        re.compile(r"/conversations/([^/]+)/items"),
        lambda s, a, b, q: _page(s.responses.list_items(a[0])),
    ),
    ("POST", re.compile(r"/responses"), lambda s, a, b, q: s.responses.create_response(b)),
)
"""(method, path pattern under /v1, handler): the table of served operations."""


@dataclass(frozen=True)
class RecordedCall:
    """One authenticated request: method, path and JSON body."""

    method: str
    path: str
    body: dict[str, Any]


class _Handler(LoopbackHandler):
    server_version = "runwire-openai-assistants-emulator"
    tcp_nodelay = True
    json_ascii = True
    server: EmulatorServer

    def _send_events(self, events: list[dict[str, Any]]) -> None:
        """Server-sent events in chunked transfer encoding, one chunk per event."""
        frames = [
            f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode()
            for e in events
        ]
        head = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}
        self._write(200, head, chunked(frames))

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
        self._send_json(status, {"error": error})

    def _authorized(self) -> bool:
        value = self.headers.get("Authorization", "")
        if not value.startswith("Bearer "):
            return False
        token = value[7:].encode()
        return any(hmac.compare_digest(token, k.encode()) for k in self.server.emulator.api_keys)

    def _handle(self) -> None:
        raw = self._read_at_most(_MAX_BODY)
        if raw is None:
            return self._error(413, "Request body too large.")
        if not self._authorized():
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        path, _, query = self.path.partition("?")
        if not path.startswith("/v1/"):
            return self._error(404, f"Invalid URL ({self.command} {path})")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._error(400, "We could not parse the JSON body of your request.")
        emulator = self.server.emulator
        emulator.record(RecordedCall(self.command, path, body if isinstance(body, dict) else {}))
        for method, pattern, handler in ROUTES:
            match = pattern.fullmatch(path[3:])
            if method == self.command and match is not None:
                try:
                    result = handler(emulator.store, match.groups(), body, parse_qs(query))
                except ResponsesError as exc:
                    return self._error(exc.status, exc.message)
                if isinstance(result, EventStream):
                    return self._send_events(result)
                return self._send_json(200, result)
        return self._error(404, f"Invalid URL ({self.command} {path})")

    def _on_bug(self, exc: Exception) -> None:
        self._error(500, f"emulator error: {type(exc).__name__}")

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = LoopbackHandler._dispatch


class EmulatorServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    handler_class = _Handler
