"""What the emulated model answers: scripted replies, the default rule, guardrails, usage.

Every chat request, whatever its wire format, is first read into a :class:`Prompt`
(the provider-neutral view); :func:`answer` turns it into an :class:`Answer` that the
format modules write back in their own shape.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "GUARDRAIL_TEXT",
    "Answer",
    "Prompt",
    "Reply",
    "Script",
    "ToolCall",
    "answer",
    "count_words",
    "default_reply",
    "first_json_object",
    "guardrail_trace",
    "reasoning_signature",
    "split_pieces",
    "split_words",
]

GUARDRAIL_TEXT = "Sorry, the model cannot answer this question."
"""What a guardrail that intervenes answers instead of the model."""

GUARDRAIL_WORD = "forbidden"
"""A last user text with this word (any case) trips every guardrail."""

_FORBIDDEN = re.compile(rf"(?<!\w){GUARDRAIL_WORD}(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a reply."""

    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One model answer.

    ``tool_use`` is ``{"name": ..., "input": {...}}`` (optionally ``"id"``) or a list of
    them; ``reasoning`` adds a reasoning block (with a signature) before the text;
    ``stop_reason`` overrides the Converse stop reason (default ``tool_use`` when the
    reply calls a tool, else ``end_turn``).
    """

    text: str = ""
    tool_use: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    reasoning: str | None = None
    stop_reason: str | None = None

    @classmethod
    def of(cls, value: Reply | str | Mapping[str, Any]) -> Reply:
        """A Reply from a Reply, a plain string (its text) or a mapping of its fields."""
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls(text=value)
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError(f"a scripted reply is a Reply, a str or a mapping, not {type(value)}")

    def tool_calls(self, salt: str = "") -> tuple[ToolCall, ...]:
        """The tool calls, with deterministic ids (a hash of the call and ``salt``)."""
        uses = self.tool_use
        if uses is None:
            return ()
        if isinstance(uses, Mapping):
            uses = [uses]
        calls = []
        for index, use in enumerate(uses):
            name, arguments = str(use["name"]), dict(use.get("input") or {})
            digest = hashlib.sha256(
                f"{salt}|{index}|{name}|{json.dumps(arguments, sort_keys=True)}".encode()
            ).hexdigest()
            calls.append(ToolCall(str(use.get("id") or f"tooluse_{digest[:22]}"), name, arguments))
        return tuple(calls)


@dataclass(frozen=True)
class Prompt:
    """The provider-neutral reading of a chat or completion request.

    ``last_text``: the text of the last user turn (for a turn holding only tool
    results, their text, and ``tool_results_only`` is set); ``texts``: every text of the
    request (for usage); ``tools``: the names of the offered tools; ``tool_choice``:
    None/"auto", "any", "none", or ``("tool", name)``.
    """

    last_text: str
    texts: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    tool_choice: str | tuple[str, str] | None = None
    tool_results_only: bool = False


@dataclass(frozen=True)
class Answer:
    """A reply and everything a response needs besides it."""

    reply: Reply
    model_id: str
    input_tokens: int
    output_tokens: int
    stop_reason: str
    tool_calls: tuple[ToolCall, ...] = ()
    guardrail_action: str | None = None
    """None when the request asked for no guardrail, else ``NONE`` or ``INTERVENED``."""
    trace: dict[str, Any] | None = None
    """The guardrail assessment when the request asked for a trace."""
    latency_ms: int = 100

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def reasoning(self) -> str | None:
        return self.reply.reasoning

    @property
    def signature(self) -> str:
        return reasoning_signature(self.reply.reasoning or "")

    def stop_as(self, table: Mapping[str, str]) -> str:
        """The stop reason in a provider's words (``table``: Converse word -> its own)."""
        return table.get(self.stop_reason, self.stop_reason)

    def pieces(self) -> list[str]:
        """The text as stream pieces (at least one, maybe empty)."""
        return split_words(self.text) or [""]

    @property
    def response_id(self) -> str:
        digest = hashlib.sha256(f"{self.model_id}|{self.text}".encode()).hexdigest()
        return digest[:24]


# -- words -----------------------------------------------------------------------------
def count_words(*texts: str) -> int:
    """Whitespace-separated words in ``texts`` (the emulator's token count)."""
    return sum(len(text.split()) for text in texts)


def split_words(text: str) -> list[str]:
    """``text`` as stream pieces: each word with its trailing whitespace (leading
    whitespace goes with the first word). Joining the pieces gives ``text`` back."""
    lead = text[: len(text) - len(text.lstrip())]
    pieces = re.findall(r"\S+\s*", text[len(lead) :])
    if not pieces:
        return [text] if text else []
    pieces[0] = lead + pieces[0]
    return pieces


def split_pieces(text: str, size: int = 16) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters (tool input JSON)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object written in ``text``, or None."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def reasoning_signature(reasoning: str) -> str:
    """A deterministic signature for a reasoning text."""
    return base64.b64encode(hashlib.sha256(b"runwire|" + reasoning.encode()).digest()).decode()


# -- the default rule ------------------------------------------------------------------
def _named_tool(prompt: Prompt) -> str | None:
    choice = prompt.tool_choice
    if isinstance(choice, tuple):
        return choice[1]
    if choice == "any":
        return prompt.tools[0]
    if prompt.tool_results_only:  # never call a tool again on the strength of its result
        return None
    for name in prompt.tools:
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", prompt.last_text):
            return name
    return None


def default_reply(prompt: Prompt) -> Reply:
    """Echo the last user text; or, when tools are offered and the text names one as a
    whole word (or the tool choice forces one), call that tool with the first JSON object
    of the text as input (else ``{}``)."""
    if prompt.tools and prompt.tool_choice != "none":
        name = _named_tool(prompt)
        if name is not None:
            arguments = first_json_object(prompt.last_text) or {}
            return Reply(tool_use={"name": name, "input": arguments})
    return Reply(text=prompt.last_text)


# -- guardrails ------------------------------------------------------------------------
def guardrail_trips(prompt: Prompt) -> bool:
    """True when the guardrail intervenes on ``prompt``."""
    return bool(_FORBIDDEN.search(prompt.last_text))


def guardrail_trace(guardrail_id: str, intervened: bool) -> dict[str, Any]:
    """A guardrail assessment (Converse ``GuardrailTraceAssessment`` shape)."""
    words = [{"match": GUARDRAIL_WORD, "action": "BLOCKED", "detected": True}] if intervened else []
    assessment = {"wordPolicy": {"customWords": words, "managedWordLists": []}}
    trace: dict[str, Any] = {"inputAssessment": {guardrail_id or "guardrail": assessment}}
    if intervened:
        trace["actionReason"] = "Guardrail blocked."
    return trace


# -- the script ------------------------------------------------------------------------
class Script:
    """Scripted replies, consumed one per chat call (thread-safe)."""

    def __init__(self) -> None:
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()

    def extend(self, replies: Iterable[Reply | str | Mapping[str, Any]]) -> None:
        items = [Reply.of(reply) for reply in replies]
        with self._lock:
            self._queue.extend(items)

    def take(self, consume: bool = True) -> Reply | None:
        """The next reply (None when the script is empty); ``consume=False`` peeks."""
        with self._lock:
            if not self._queue:
                return None
            return self._queue.popleft() if consume else self._queue[0]

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        return len(self._queue)


def answer(
    prompt: Prompt,
    model_id: str,
    script: Script,
    *,
    guardrail: str | None = None,
    trace: bool = False,
    consume: bool = True,
    latency_ms: int = 100,
) -> Answer:
    """Decide the answer to ``prompt``: the guardrail (when ``guardrail`` names one and
    the text trips it; no scripted reply is used), else the next scripted reply, else
    the default rule. ``consume=False`` peeks at the script."""
    intervened = guardrail is not None and guardrail_trips(prompt)
    if intervened:
        reply = Reply(text=GUARDRAIL_TEXT, stop_reason="guardrail_intervened")
    else:
        reply = script.take(consume) or default_reply(prompt)
    calls = reply.tool_calls(salt=f"{model_id}|{prompt.last_text}")
    stop = reply.stop_reason or ("tool_use" if calls else "end_turn")
    output = count_words(reply.text, reply.reasoning or "")
    output += sum(count_words(json.dumps(call.input)) for call in calls)
    return Answer(
        reply=reply,
        model_id=model_id,
        input_tokens=count_words(*prompt.texts),
        output_tokens=output,
        stop_reason=stop,
        tool_calls=calls,
        guardrail_action=None if guardrail is None else "INTERVENED" if intervened else "NONE",
        trace=guardrail_trace(guardrail, intervened) if guardrail is not None and trace else None,
        latency_ms=latency_ms,
    )
