"""Masking secret values in every form they can take in a message.

Every secret value runwire resolves is registered here (:func:`register_secret`);
:func:`redact` then replaces each appearance of a registered value in a text with
``**********``, whatever the form it appears in:

- as is, and stripped of surrounding whitespace;
- escaped: Python ``repr`` (``'tok\\n'``), ``unicode_escape``, JSON (ASCII or not),
  the ``repr`` of its UTF-8 bytes (as in ``Invalid header value b'...\\n'``), and those
  escapes applied twice (an escaped message quoted again in a JSON error body);
- URL-encoded (``quote`` with and without ``/`` kept, ``quote_plus``);
- base64 (standard and URL-safe, padded or not), also inside a longer base64 text such
  as a Basic ``Authorization`` header (``base64("user:" + value)``): the value's part of
  the encoding is found at each of the three byte alignments;
- partial echoes: a prefix or a suffix of any of these forms at least
  :data:`PARTIAL_MIN_CHARS` (8) characters long, as upstream services echo a truncated
  key (``Credential=AKIAS3cr...``); the whole run that matches is masked.

Values shorter than :data:`MIN_SECRET_CHARS` (4) are not registered: masking every
``"abc"`` or ``"1"`` would garble messages and a value that short is no secret anyway.
At most :data:`MAX_SECRETS` (1024) values are kept: past that, the oldest registered
is dropped first (registering a value again makes it the newest), so rotated-out
values go before live ones. Values are kept in memory only, never written anywhere.

Inside a longer base64 text up to 4 characters either side of the mask stay: they
encode bytes shared with the neighbouring text (at most 2 bytes of the value). The
partial rule over-masks on purpose: text sharing 8 characters with the start or end of
a secret (``aws_secretsmanager`` vs ``aws_secret_access_key``) is masked too; a
garbled message is better than a leaked one, and random keys make this rare.

:func:`redact` returns at once when nothing is registered; otherwise it makes one
regular-expression scan for the first characters of every form's head and tail (a
trie), then dictionary look-ups where one starts; a text with no candidate costs the
scan only. :class:`RedactingFilter` applies it to log records; :func:`install_log_redaction`
puts that filter on the handlers of the loggers runwire and uvicorn write to.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "MASK",
    "MAX_SECRETS",
    "MIN_SECRET_CHARS",
    "PARTIAL_MIN_CHARS",
    "RedactingFilter",
    "clear_secrets",
    "install_log_redaction",
    "redact",
    "register_secret",
    "registered_count",
    "unprintable",
]

MASK = "**********"
"""What a secret value (or a part of one) is replaced with."""

MIN_SECRET_CHARS = 4
"""Values shorter than this are not registered (see the module docstring)."""

PARTIAL_MIN_CHARS = 8
"""A prefix or suffix of a form at least this long counts as an echo of the secret."""

MAX_SECRETS = 1024
"""How many values the registry keeps; the oldest registered is dropped first."""

_LOGGERS = ("", "runwire", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers whose handlers :func:`install_log_redaction` filters by default."""


# -- forms of a value ------------------------------------------------------------------
def _json_escape(text: str) -> str:
    import orjson

    return orjson.dumps(text).decode()[1:-1]


def _json_ascii(text: str) -> str:
    import json

    return json.dumps(text)[1:-1]


def _repr_escape(text: str) -> str:
    return repr(text)[1:-1]


def _unicode_escape(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _bytes_repr(text: str) -> str:
    return repr(text.encode("utf-8", "surrogatepass"))[2:-1]


_ESCAPES = (_repr_escape, _unicode_escape, _json_escape, _json_ascii, _bytes_repr)
"""Escapes a message may apply to a value, each alone or twice."""


def _url_forms(text: str) -> list[str]:
    from urllib.parse import quote, quote_plus

    data = text.encode("utf-8", "surrogatepass")
    return [quote(data, safe=""), quote(data), quote_plus(data)]


def _base64_forms(text: str) -> list[str]:
    """The value's base64, alone and at byte offsets 1 and 2 inside a longer text.

    At an offset, the first 4 characters also encode the bytes before the value and
    the last 4 the bytes after it, so only the characters between are the value's own.
    """
    import base64

    data = text.encode("utf-8", "surrogatepass")
    forms = []
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + data).decode("ascii").rstrip("=")
            if offset:
                encoded = encoded[4:-4]
            forms.append(encoded)
    return forms


def forms_of(value: str) -> set[str]:
    """Every text the value can appear as in a message (see the module docstring)."""
    base = {value, value.strip()}
    escaped = {escape(text) for text in base for escape in _ESCAPES}
    escaped |= {escape(text) for text in escaped for escape in _ESCAPES}
    forms = base | escaped
    for text in base:
        forms.update(_url_forms(text))
        forms.update(_base64_forms(text))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


# -- the registry ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Matcher:
    """What :func:`redact` scans with, rebuilt when the registry changes."""

    scan: re.Pattern[str]
    """Finds (overlapping) positions where an anchor starts."""
    anchors: dict[str, tuple[tuple[str, str], ...]]
    """Anchor text -> (form, kind) pairs; kind is ``full``, ``head`` or ``tail``."""
    lengths: tuple[int, ...]
    """The distinct anchor lengths, longest first."""


_lock = threading.Lock()
_values: dict[str, None] = {}  # insertion-ordered: the oldest first
_matcher: _Matcher | None = None
_dirty = False


def register_secret(value: str | None) -> None:
    """Mask ``value`` (in every form) in whatever :func:`redact` sees from now on.

    ``None``, non-strings and values shorter than :data:`MIN_SECRET_CHARS` are ignored.
    Thread-safe; registering a value again only marks it as recently used.
    """
    global _dirty
    if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
        return
    with _lock:
        if value in _values:
            _values[value] = _values.pop(value)
            return
        _values[value] = None
        while len(_values) > MAX_SECRETS:
            del _values[next(iter(_values))]
        _dirty = True


def clear_secrets() -> None:
    """Forget every registered value (for tests, and a process about to exit)."""
    global _matcher, _dirty
    with _lock:
        _values.clear()
        _matcher = None
        _dirty = False


def registered_count() -> int:
    """How many values are registered (never the values themselves)."""
    return len(_values)


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words`` (all of one length), as a trie."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})

    def pattern(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in node.items()]
        if len(branches) <= 1:
            return "".join(branches)
        return "(?:" + "|".join(branches) + ")"

    return pattern(trie)


def _build(values: Iterable[str]) -> _Matcher | None:
    anchors: dict[str, list[tuple[str, str]]] = {}
    for value in values:
        for form in forms_of(value):
            if len(form) <= PARTIAL_MIN_CHARS:
                anchors.setdefault(form, []).append((form, "full"))
                continue
            anchors.setdefault(form[:PARTIAL_MIN_CHARS], []).append((form, "head"))
            anchors.setdefault(form[-PARTIAL_MIN_CHARS:], []).append((form, "tail"))
    if not anchors:
        return None
    # Anchors of several lengths may start at one position: scan for their first
    # MIN_SECRET_CHARS characters (a trie), then look each anchor length up at a hit.
    stems = {anchor[:MIN_SECRET_CHARS] for anchor in anchors}
    scan = re.compile("(?=" + _trie_pattern(stems) + ")", re.DOTALL)
    lengths = tuple(sorted({len(anchor) for anchor in anchors}, reverse=True))
    frozen = {anchor: tuple(dict.fromkeys(pairs)) for anchor, pairs in anchors.items()}
    return _Matcher(scan, frozen, lengths)


def _current() -> _Matcher | None:
    global _matcher, _dirty
    if _dirty:
        with _lock:
            if _dirty:
                _matcher = _build(list(_values))
                _dirty = False
    return _matcher


def _span(text: str, start: int, form: str, kind: str) -> tuple[int, int]:
    """The run of ``text`` at ``start`` that echoes ``form`` (whole, head or tail)."""
    if kind == "full":
        return (start, start + len(form))
    if kind == "head":  # the anchor is the form's first characters: extend to the right
        end, limit = start + PARTIAL_MIN_CHARS, min(len(text), start + len(form))
        while end < limit and text[end] == form[end - start]:
            end += 1
        return (start, end)
    begin, index = start, len(form) - PARTIAL_MIN_CHARS  # a tail: extend to the left
    while begin > 0 and index > 0 and text[begin - 1] == form[index - 1]:
        begin -= 1
        index -= 1
    return (begin, start + PARTIAL_MIN_CHARS)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each (merged) span replaced by one :data:`MASK`."""
    spans.sort()
    merged = [list(spans[0])]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += (text[last:start], MASK)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact(text: str) -> str:
    """``text`` with every registered secret value masked, in any form (module docstring)."""
    if not _values or not text:
        return text
    matcher = _current()
    if matcher is None:
        return text
    spans: list[tuple[int, int]] = []
    for hit in matcher.scan.finditer(text):
        start = hit.start()
        for length in matcher.lengths:
            for form, kind in matcher.anchors.get(text[start : start + length], ()):
                spans.append(_span(text, start, form, kind))
    return _mask(text, spans) if spans else text


# -- logging ---------------------------------------------------------------------------
# RedactingFilter and install_log_redaction live in runwire.redaction_logging, imported on
# first use (module __getattr__ below): loading a manifest does not import logging.
_LOGGING_NAMES = frozenset(("RedactingFilter", "install_log_redaction"))
TYPE_CHECKING = False
if TYPE_CHECKING:
    from runwire.redaction_logging import RedactingFilter, install_log_redaction


def __getattr__(name: str) -> object:
    if name in _LOGGING_NAMES:
        from runwire import redaction_logging

        value = getattr(redaction_logging, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
"""Characters a secret value may not hold: C0 controls but tab, DEL, C1 controls."""

_CONTROL_NAMES = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)", "\0": "a NUL"}


def unprintable(value: str) -> str | None:
    """What makes ``value`` unfit for a secret (``"a line break (\\n)"``), or ``None``.

    A secret value is one line of text: HTTP clients refuse a header holding a control
    character and echo the value in their error, so such values are refused where they
    are read, with a message that names the secret and never shows the value.
    """
    bad = _CONTROL.search(value)
    if bad is None:
        return None
    char = bad.group()
    return _CONTROL_NAMES.get(char, f"the control character U+{ord(char):04X}")
