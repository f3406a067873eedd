"""Printing pipeline outputs: readable on a terminal, one JSON value per line in a pipe.

:func:`to_jsonable` turns any output into plain JSON data the way LangServe sends it:
messages, documents and prompt values become their full ``model_dump`` (every field,
``None`` included, with the ``type`` discriminator), so ``AIMessage("hi")`` becomes
``{"content": "hi", ..., "type": "ai", ...}``. Secret fields print as ``"**********"``.

:func:`write_error` prints a failure for people; it and exception values in outputs
pass through :func:`runwire.redaction.redact`, so no registered secret value is
printed in any form (escaped, encoded, truncated). With ``--debug`` (or
``RUNWIRE_DEBUG=1``, see :func:`debug_enabled`) it prints the traceback of the
exception being handled first, masked the same way.

:func:`write_validation` prints ``runwire validate``'s report: plain text in a pipe,
coloured and aligned on a terminal unless ``NO_COLOR`` is set.

rich is imported only when something is printed for a terminal.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import math
import os
import sys
import traceback
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from enum import Enum
from types import TracebackType
from typing import Any, TextIO

import orjson

from runwire.errors import RunwireError
from runwire.redaction import redact

__all__ = [
    "ChunkWriter",
    "awrite_stream",
    "debug_enabled",
    "error_text",
    "json_line",
    "set_debug",
    "to_jsonable",
    "traceback_text",
    "use_color",
    "write_chunk",
    "write_error",
    "write_result",
    "write_stream",
    "write_validation",
]

# orjson writes integers of at most 64 bits; larger ones become decimal strings.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
_DATES = (dt.datetime, dt.date, dt.time)


def _is_pydantic_model(value: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # no model can exist before pydantic is imported
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def _dump_model(model: Any) -> Any:
    """``model_dump(mode="json")``; models holding arbitrary objects fall back to python mode."""
    from pydantic_core import PydanticSerializationError

    try:
        return model.model_dump(mode="json")
    except PydanticSerializationError:
        # Python mode keeps SecretStr objects, which to_jsonable then masks via str().
        return model.model_dump(mode="python", warnings=False)


def _key(key: Any) -> str:
    """A dict key as JSON text would spell it (``True`` -> ``"true"``, ``1`` -> ``"1"``)."""
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return orjson.dumps(to_jsonable(key)).decode()
    return str(to_jsonable(key))


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of a pipeline output.

    - pydantic models (messages, documents, prompt values): ``model_dump(mode="json")``
      with every field kept, as LangServe sends them; secret fields become ``"**********"``;
    - mappings -> dicts with string keys; lists and tuples -> lists; sets -> sorted lists
      (items of mixed types sorted by their canonical JSON text);
    - ``bytes`` -> base64 text (standard alphabet, padded);
    - enums -> their value; dates and times -> ISO 8601; dataclasses -> dicts;
      exceptions -> ``{"type": name, "message": str(exc)}`` (secret values masked);
    - NaN and infinities -> ``None`` (JSON has neither); integers beyond 64 bits -> strings;
    - anything else -> ``str(value)`` (so a bare ``SecretStr`` prints masked).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, int):
        return int(value) if _INT_MIN <= value <= _INT_MAX else str(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if _is_pydantic_model(value):
        return to_jsonable(_dump_model(value))
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [to_jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:  # mixed or unorderable items: by their canonical JSON text
            return sorted(items, key=_canonical)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _DATES):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseException):
        return {"type": type(value).__name__, "message": redact(str(value))}
    return str(value)


def json_line(value: Any) -> str:
    """``value`` as one line of compact JSON (no newline)."""
    return orjson.dumps(to_jsonable(value)).decode()


def error_text(error: BaseException | str) -> str:
    """How a failure reads on a terminal, with every registered secret value masked.

    A runwire error is its own text (message, location, hint); any other exception is
    ``error: <class name>: <message>`` (a pipeline failing in a library); a string is
    taken as written.
    """
    if isinstance(error, str):
        text = error
    elif isinstance(error, RunwireError):
        text = str(error)
    else:
        text = f"error: {type(error).__name__}: {error}"
    return redact(text)


_DEBUG = [False]
_DEBUG_VALUES = ("1", "true", "yes", "on")


def set_debug(on: bool) -> None:
    """Turn tracebacks on or off for this process (the ``--debug`` option)."""
    _DEBUG[0] = bool(on)


def debug_enabled() -> bool:
    """True with ``--debug`` or when ``RUNWIRE_DEBUG`` is ``1``/``true``/``yes``/``on``."""
    return _DEBUG[0] or os.environ.get("RUNWIRE_DEBUG", "").strip().lower() in _DEBUG_VALUES


def traceback_text(exc: BaseException) -> str:
    """The traceback of ``exc`` (its causes included), secret values masked."""
    return redact("".join(traceback.format_exception(exc)))


def write_error(error: BaseException | str, *, stream: TextIO | None = None) -> None:
    """Print a failure (see :func:`error_text`) on a line of its own to ``stream``
    (default ``sys.stderr``).

    In debug mode (:func:`debug_enabled`) the traceback of ``error``, or of the
    exception being handled when ``error`` is a string, is printed before it.
    """
    out = sys.stderr if stream is None else stream
    if debug_enabled():
        exc = error if isinstance(error, BaseException) else sys.exc_info()[1]
        if exc is not None:
            out.write(traceback_text(exc))
    out.write(error_text(error) + "\n")
    out.flush()


def _resolve(stream: TextIO | None, pretty: bool | None) -> tuple[TextIO, bool]:
    out = sys.stdout if stream is None else stream
    if pretty is None:
        isatty = getattr(out, "isatty", None)
        pretty = bool(isatty and isatty())
    return out, pretty


def _print_pretty_json(data: Any, stream: TextIO) -> None:
    from rich.console import Console

    Console(file=stream).print_json(data=data)


def _is_conversation(value: Any) -> bool:
    """A graph state holding ``messages`` (an agent's output)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("messages"), list):
        return False
    from runwire.schema.messages import BaseMessage

    return bool(value["messages"]) and all(isinstance(m, BaseMessage) for m in value["messages"])


def _message_line(message: Any) -> str:
    """One message as a transcript line: who, then the text or the tool calls."""
    who = message.type if message.type != "tool" else f"tool {message.name or ''}".strip()
    calls = [
        f"-> {c['name']}({orjson.dumps(c['args']).decode()})"
        for c in getattr(message, "tool_calls", None) or ()
    ]
    text = message.text.strip()
    return redact(f"{who}: " + "  ".join(filter(None, [text, *calls])))


def _print_conversation(value: Mapping[str, Any], out: TextIO) -> None:
    """An agent's state on a terminal: the conversation as a transcript, then the rest."""
    for message in value["messages"]:
        out.write(_message_line(message) + "\n")
    rest = {k: v for k, v in value.items() if k != "messages"}
    if rest:
        _print_pretty_json(to_jsonable(rest), out)


def write_result(value: Any, *, stream: TextIO | None = None, pretty: bool | None = None) -> None:
    """Print one output to ``stream`` (default ``sys.stdout``).

    Pretty (the default when ``stream`` is a terminal): a string as is, anything else as
    indented, highlighted JSON. Otherwise one line of JSON per value, strings included.
    """
    out, pretty = _resolve(stream, pretty)
    if pretty and isinstance(value, str):
        out.write(value if value.endswith("\n") else value + "\n")
    elif pretty and _is_conversation(value):
        _print_conversation(value, out)
    elif pretty:
        _print_pretty_json(to_jsonable(value), out)
    else:
        out.write(json_line(value) + "\n")
    out.flush()


def _chunk_text(chunk: Any) -> str | None:
    """The text a terminal shows for a streamed chunk, or ``None`` for a JSON line."""
    if isinstance(chunk, str):
        return chunk
    messages = sys.modules.get("runwire.schema.messages")
    if messages is not None and isinstance(chunk, messages.BaseMessage):
        return chunk.text
    return None


def write_chunk(chunk: Any, *, stream: TextIO | None = None, pretty: bool | None = None) -> None:
    """Print one streamed chunk.

    Pretty (terminals): string chunks and message chunks' text are written as they come,
    with no newline; other chunks as one JSON line each. Otherwise (pipes) every chunk is
    one JSON line. :class:`ChunkWriter` also keeps JSON lines and the end of the stream
    on lines of their own.
    """
    out, pretty = _resolve(stream, pretty)
    text = _chunk_text(chunk) if pretty else None
    out.write(text if text is not None else json_line(chunk) + "\n")
    out.flush()


class ChunkWriter:
    """Prints a stream chunk by chunk (see :func:`write_chunk`), keeping lines whole.

    On a terminal a JSON line after running text starts on a new line, and
    :meth:`close` (or leaving the ``with`` block) ends unfinished text with a newline.
    """

    def __init__(self, *, stream: TextIO | None = None, pretty: bool | None = None) -> None:
        self.stream, self.pretty = _resolve(stream, pretty)
        self._at_line_start = True

    def write(self, chunk: Any) -> None:
        """Print one chunk."""
        text = _chunk_text(chunk) if self.pretty else None
        if text is None:
            if not self._at_line_start:
                self.stream.write("\n")
            self.stream.write(json_line(chunk) + "\n")
            self._at_line_start = True
        elif text:
            self.stream.write(text)
            self._at_line_start = text.endswith("\n")
        self.stream.flush()

    def close(self) -> None:
        """End the output: a newline after unfinished text."""
        if not self._at_line_start:
            self.stream.write("\n")
            self.stream.flush()
            self._at_line_start = True

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_stream(
    chunks: Iterable[Any], *, stream: TextIO | None = None, pretty: bool | None = None
) -> None:
    """Print every chunk of a stream (e.g. ``runnable.stream(input)``), then end the line."""
    with ChunkWriter(stream=stream, pretty=pretty) as writer:
        for chunk in chunks:
            writer.write(chunk)


async def awrite_stream(
    chunks: AsyncIterable[Any], *, stream: TextIO | None = None, pretty: bool | None = None
) -> None:
    """:func:`write_stream` for an async stream (e.g. ``runnable.astream(input)``)."""
    with ChunkWriter(stream=stream, pretty=pretty) as writer:
        async for chunk in chunks:
            writer.write(chunk)


def use_color(stream: TextIO | None = None) -> bool:
    """Colour for ``stream`` (default ``sys.stdout``): a terminal, and ``NO_COLOR`` unset
    (https://no-color.org: any non-empty value turns colour off)."""
    out = sys.stdout if stream is None else stream
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _report_title(report: Mapping[str, Any]) -> str:
    """What a validate report is about: the file, or the pipeline of a deployment."""
    shown = str(report["file"])
    if "pipeline" in report:
        env = f" [{report['env']}]" if report["env"] else ""
        shown = f"{report['deployment']}{env}: {report['pipeline']} ({shown})"
    return shown


def _count(problems: Sequence[Any]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"


def _plain_validation(reports: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    for report in reports:
        if report["ok"]:
            out.write(f"ok    {_report_title(report)}\n")
            continue
        out.write(f"FAIL  {_report_title(report)} ({_count(report['problems'])})\n")
        for finding in report["problems"]:
            out.write(f"  {finding}".replace("\n", "\n  ") + "\n")


def _where(finding: Any) -> str:
    where = finding.file or "<manifest>"
    return where if finding.line is None else f"{where}:{finding.line}:{finding.column}"


def _color_validation(reports: Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """The same report for people: status in colour, each file's problems in aligned
    columns (location, phase, JSON path), the message and hint indented below."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    for report in reports:
        title = escape(_report_title(report))
        if report["ok"]:
            console.print(f"[bold green]ok[/]    {title}")
            continue
        problems = report["problems"]
        console.print(f"[bold red]FAIL[/]  [bold]{title}[/] [red]({_count(problems)})[/]")
        width = max(len(_where(f)) for f in problems)
        phase_width = max(len(str(f.phase)) for f in problems)
        for finding in problems:
            where = escape(_where(finding).ljust(width))
            phase = escape(str(finding.phase).ljust(phase_width))
            console.print(
                f"  [cyan]{where}[/]  [magenta]{phase}[/]  [bold]{escape(finding.path)}[/]"
            )
            console.print("      " + escape(finding.message).replace("\n", "\n      "))
            if finding.hint:
                hint = escape(finding.hint).replace("\n", "\n      ")
                console.print(f"      [dim]hint: {hint}[/]")


def write_validation(
    reports: Sequence[Mapping[str, Any]], *, stream: TextIO | None = None, color: bool | None = None
) -> None:
    """Print ``runwire validate``'s reports: ``{"file", "ok", "problems": [Finding]}``,
    plus ``deployment``/``env``/``pipeline`` for a deployment's pipelines.

    Plain (a pipe, or ``NO_COLOR``): ``ok    FILE`` or ``FAIL  FILE (N problems)``
    with each problem indented below. Coloured (:func:`use_color`): the same facts,
    each problem's location, phase and JSON path in aligned columns. Secret values are
    masked in both.
    """
    out = sys.stdout if stream is None else stream
    color = use_color(out) if color is None else color
    buffer = io.StringIO()
    if color:
        _color_validation(reports, buffer)
    else:
        _plain_validation(reports, buffer)
    out.write(redact(buffer.getvalue()))
    out.flush()
