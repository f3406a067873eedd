"""The Assistants v2 objects the emulator keeps, and how runs move along.

A run is created ``queued``; each retrieve moves it one step: ``in_progress`` for
``polls_in_progress`` polls, then its outcome, decided when it was created:

- ``requires_action`` when the thread's last user message names one of the run's
  function tools as a whole word (its ``submit_tool_outputs.tool_calls`` call that tool
  with the first JSON object of the text as arguments);
- ``completed`` otherwise, with an assistant message (of that run) echoing the last user
  text, or the submitted tool outputs after ``submit_tool_outputs``;
- or the status a test queued with ``fail_next_run`` (``failed``, ``cancelled``,
  ``expired``, ``incomplete``), with its ``last_error``.

Every object carries the fields the ``openai`` SDK reads; ids are sequential.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.bedrock.replies import first_json_object
from runwire.testing.openai_assistants.responses import Responses, ResponsesError

__all__ = ["CREATED", "NotFound", "Store", "StoreError"]

CREATED = 1_700_000_000
FINAL_FAILURES = ("failed", "cancelled", "expired", "incomplete")


class StoreError(ResponsesError):
    """A request the API refuses: HTTP status and message."""


class NotFound(StoreError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(404, f"No {kind} found with id '{ident}'.")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _message_content(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"value": text, "annotations": []}}]


@dataclass
class _Run:
    body: dict[str, Any]
    steps: deque[str]
    outcome: dict[str, Any] = field(default_factory=dict)


class Store:
    """Assistants, threads, messages and runs (thread-safe)."""

    def __init__(self, polls_in_progress: int = 2) -> None:
        self.polls_in_progress = polls_in_progress
        self.assistants: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.runs: dict[str, _Run] = {}
        self.failures: deque[tuple[str, str]] = deque()
        self.responses = Responses(self.failures)
        """The Responses and Conversations side (sharing the queued failures)."""
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    # -- assistants ---------------------------------------------------------------------
    def create_assistant(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("model"):
            raise StoreError(400, "Missing required parameter: 'model'.")
        with self._lock:
            assistant = {
                "id": self._id("asst"),
                "object": "assistant",
                "created_at": CREATED,
                "name": body.get("name"),
                "description": body.get("description"),
                "model": body["model"],
                "instructions": body.get("instructions"),
                "tools": list(body.get("tools") or []),
                "tool_resources": body.get("tool_resources"),
                "metadata": body.get("metadata") or {},
                "temperature": body.get("temperature"),
                "top_p": body.get("top_p"),
                "response_format": body.get("response_format") or "auto",
            }
            self.assistants[assistant["id"]] = assistant
            return assistant

    def assistant(self, ident: str) -> dict[str, Any]:
        with self._lock:
            if ident not in self.assistants:
                raise NotFound("assistant", ident)
            return self.assistants[ident]

    # -- threads and messages -------------------------------------------------------------
    def create_thread(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            thread = {
                "id": self._id("thread"),
                "object": "thread",
                "created_at": CREATED,
                "metadata": body.get("metadata") or {},
                "tool_resources": body.get("tool_resources"),
            }
            self.threads[thread["id"]] = thread
            self.messages[thread["id"]] = []
            for message in body.get("messages") or ():
                self.add_message(thread["id"], message)
            return thread

    def thread(self, ident: str) -> dict[str, Any]:
        with self._lock:
            if ident not in self.threads:
                raise NotFound("thread", ident)
            return self.threads[ident]

    def add_message(
        self, thread_id: str, body: dict[str, Any], run: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with self._lock:
            self.thread(thread_id)
            if self._active_run(thread_id) is not None and run is None:
                raise StoreError(400, f"Can't add messages to {thread_id} while a run is active.")
            message = {
                "id": self._id("msg"),
                "object": "thread.message",
                "created_at": CREATED,
                "thread_id": thread_id,
                "role": body.get("role", "user"),
                "content": _message_content(_text(body.get("content"))),
                "assistant_id": run["assistant_id"] if run else None,
                "run_id": run["id"] if run else None,
                "attachments": body.get("attachments") or [],
                "metadata": body.get("metadata") or {},
                "status": "completed",
                "incomplete_details": None,
                "completed_at": CREATED,
                "incomplete_at": None,
            }
            self.messages[thread_id].append(message)
            return message

    def list_messages(self, thread_id: str, order: str, run_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            self.thread(thread_id)
            found = [m for m in self.messages[thread_id] if run_id in (None, m["run_id"])]
            return found if order == "asc" else found[::-1]

    # -- runs -----------------------------------------------------------------------------
    def _active_run(self, thread_id: str) -> dict[str, Any] | None:
        for run in self.runs.values():
            body = run.body
            if body["thread_id"] == thread_id and body["status"] in (
                "queued",
                "in_progress",
                "requires_action",
            ):
                return body
        return None

    def create_run(self, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.thread(thread_id)
            assistant = self.assistant(str(body.get("assistant_id")))
            if self._active_run(thread_id) is not None:
                raise StoreError(400, f"Thread {thread_id} already has an active run.")
            run = {
                "id": self._id("run"),
                "object": "thread.run",
                "created_at": CREATED,
                "thread_id": thread_id,
                "assistant_id": assistant["id"],
                "status": "queued",
                "required_action": None,
                "last_error": None,
                "model": body.get("model") or assistant["model"],
                "instructions": body.get("instructions") or assistant["instructions"],
                "tools": body.get("tools") or assistant["tools"],
                "metadata": body.get("metadata") or {},
                "usage": None,
                "expires_at": None,
                "started_at": None,
                "cancelled_at": None,
                "failed_at": None,
                "completed_at": None,
                "incomplete_details": None,
                "parallel_tool_calls": True,
                "tool_choice": body.get("tool_choice") or "auto",
                "truncation_strategy": None,
                "response_format": "auto",
                "temperature": body.get("temperature"),
                "top_p": body.get("top_p"),
                "max_prompt_tokens": None,
                "max_completion_tokens": None,
            }
            state = _Run(run, deque(["in_progress"] * self.polls_in_progress))
            state.outcome = self._outcome(run)
            state.steps.append(state.outcome["status"])
            self.runs[run["id"]] = state
            return dict(run)

    def _outcome(self, run: dict[str, Any]) -> dict[str, Any]:
        if self.failures:
            status, message = self.failures.popleft()
            return {"status": status, "last_error": {"code": "server_error", "message": message}}
        messages = self.messages[run["thread_id"]]
        text = next(
            (
                _text(m["content"][0]["text"]["value"])
                for m in reversed(messages)
                if m["role"] == "user"
            ),
            "",
        )
        names = [t["function"]["name"] for t in run["tools"] if t.get("type") == "function"]
        name = next((n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)), None)
        if name is None:
            return {"status": "completed", "answer": text}
        call = {
            "id": self._id("call"),
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(first_json_object(text) or {})},
        }
        return {"status": "requires_action", "tool_calls": [call]}

    def retrieve_run(self, thread_id: str, run_id: str) -> dict[str, Any]:
        with self._lock:
            state = self.runs.get(run_id)
            if state is None or state.body["thread_id"] != thread_id:
                raise NotFound("run", run_id)
            if state.steps:
                self._advance(state, state.steps.popleft())
            return dict(state.body)

    def _advance(self, state: _Run, status: str) -> None:
        run = state.body
        run["status"] = status
        if status == "in_progress":
            run["started_at"] = CREATED
        elif status == "requires_action":
            run["required_action"] = {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": state.outcome["tool_calls"]},
            }
        elif status == "completed":
            run["required_action"] = None
            run["completed_at"] = CREATED
            words = len(state.outcome["answer"].split())
            run["usage"] = {
                "prompt_tokens": words,
                "completion_tokens": words,
                "total_tokens": 2 * words,
            }
            self.add_message(
                run["thread_id"], {"role": "assistant", "content": state.outcome["answer"]}, run
            )
        else:
            run["last_error"] = state.outcome.get("last_error")
            if status in ("failed", "cancelled"):
                run[f"{status}_at"] = CREATED

    def submit_tool_outputs(
        self, thread_id: str, run_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        with self._lock:
            state = self.runs.get(run_id)
            if state is None or state.body["thread_id"] != thread_id:
                raise NotFound("run", run_id)
            run = state.body
            if run["status"] != "requires_action":
                raise StoreError(
                    400,
                    f'Runs in status "{run["status"]}" do not accept tool outputs.',
                )
            outputs = body.get("tool_outputs") or []
            expected = {c["id"] for c in state.outcome["tool_calls"]}
            given = {o.get("tool_call_id") for o in outputs}
            if given != expected:
                raise StoreError(
                    400,
                    f"Expected tool outputs for call ids {sorted(expected)}, got {sorted(given)}.",
                )
            run["status"] = "queued"
            run["required_action"] = None
            answer = "\n".join(str(o.get("output", "")) for o in outputs)
            state.outcome = {"status": "completed", "answer": answer}
            state.steps = deque(["in_progress"] * self.polls_in_progress + ["completed"])
            return dict(run)
