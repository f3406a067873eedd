"""List parsers over a regex: numbered lists (``1. a``) and Markdown lists (``- a``).

Both behave as LangChain's: ``parse`` returns what ``re.findall`` gives for ``pattern``
(group 1 of every match for the defaults); streaming yields each item as a one-element
list once a later item has started (the last one when the input ends).

Model output is untrusted, and on Python's backtracking ``re`` LangChain's own default
patterns take quadratic time (40,000 newlines: seconds; a few hundred thousand:
minutes). So every pattern runs on RE2, in linear time: the defaults as translations
that match exactly what Python matches (``\\d`` and ``\\s`` spelled out as the Unicode
classes Python uses), a ``pattern`` from a file as written in RE2 syntax (refused when
the parser is built if RE2 cannot compile it). Lone surrogates in the text (which RE2
cannot read) are matched as U+FFFD; items are cut from the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, ClassVar

from pydantic import PrivateAttr, model_validator

from runwire.runtime.parsers import BaseTransformOutputParser, _StreamState
from runwire.schema.serializable import FieldsEqual

__all__ = ["ListOutputParser", "MarkdownListOutputParser", "NumberedListOutputParser"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_SCANNED = 0x30000
"""Code points scanned for Python's classes (no digit or space is assigned above)."""


@cache
def python_class(escape: str) -> str:
    """An RE2 character class matching exactly what Python's ``re`` matches for ``escape``
    (``\\d``, ``\\s``) in a str pattern, with this Python's Unicode tables."""
    codes = [ord(c) for c in re.findall(escape, "".join(map(chr, range(_SCANNED))))]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    spans = (f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
    return "[" + "".join(spans) + "]"


def _group(text: str, match: Any, index: int) -> str | None:
    start = match.start(index)
    return None if start < 0 else text[start : match.end(index)]


def _found(text: str, match: Any, groups: int) -> Any:
    """What ``re.findall`` gives for one match: the match, its group, or a tuple."""
    if groups == 0:
        return text[match.start() : match.end()]
    if groups == 1:
        return _group(text, match, 1) or ""
    return tuple(_group(text, match, i) or "" for i in range(1, groups + 1))


_RESCAN_FREELY = 4096
"""Buffered characters up to which every chunk rescans the buffer (as LangChain does)."""


class _MatchItems(_StreamState):
    """LangChain's list streaming: every complete match but the last, then the rest.

    An item that is not the last cannot change as text arrives (the next one has begun),
    so the items and their order are LangChain's however often the buffer is scanned.
    Past ``_RESCAN_FREELY`` characters without an item, the buffer is scanned again only
    once it has grown by an eighth, so a long text without items costs linear time
    instead of quadratic (items may then come out a few chunks later than LangChain's).
    """

    def __init__(self, parser: ListOutputParser) -> None:
        self.parser = parser
        self.buffer = ""
        self.scanned = 0

    def feed(self, text: str) -> Iterable[Any]:
        self.buffer += text
        size = len(self.buffer)
        if size > _RESCAN_FREELY and size < self.scanned + self.scanned // 8:
            return ()
        matches = list(self.parser.parse_iter(self.buffer))[:-1]
        if not matches:
            self.scanned = size
            return ()
        items = [[_group(self.buffer, match, 1)] for match in matches]
        self.buffer = self.buffer[matches[-1].end() :]
        self.scanned = 0
        return items

    def close(self) -> Iterable[Any]:
        return [[item] for item in self.parser.parse(self.buffer)]


class ListOutputParser(FieldsEqual, BaseTransformOutputParser):
    """Base of the regex list parsers: ``pattern`` with one group, the item."""

    pattern: str
    """Regex of one item; group 1 is the item's text (RE2 syntax unless the default)."""

    _default: ClassVar[str] = ""
    _multiline: ClassVar[bool] = False
    _regex: Any = PrivateAttr(default=None)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _translated_default(cls) -> str:
        """The default pattern in RE2 syntax, matching exactly what Python matches."""
        return cls._default

    @model_validator(mode="after")
    def _compile(self) -> ListOutputParser:
        from runwire.runtime.parser_schema import compile_pattern

        pattern = self._translated_default() if self.pattern == self._default else self.pattern
        self._regex = compile_pattern(("(?m)" if self._multiline else "") + pattern)
        return self

    @property
    def OutputType(self) -> Any:
        return list[str]

    def parse(self, text: str) -> list[Any]:
        groups = self._regex.groups
        return [_found(text, match, groups) for match in self.parse_iter(text)]

    def parse_iter(self, text: str) -> Iterator[Any]:
        """The match of every item in ``text`` (spans index ``text`` itself)."""
        if _SURROGATE.search(text):
            text = _SURROGATE.sub("\ufffd", text)  # one character for one: spans hold
        return self._regex.finditer(text)

    def _stream_state(self) -> _StreamState:
        return _MatchItems(self)


class NumberedListOutputParser(ListOutputParser):
    """``"1. a\\n2. b"`` to ``["a", "b"]``."""

    pattern: str = r"\d+\.\s([^\n]+)"
    _default: ClassVar[str] = r"\d+\.\s([^\n]+)"

    @classmethod
    def _translated_default(cls) -> str:
        return python_class(r"\d") + r"+\." + python_class(r"\s") + r"([^\n]+)"

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a numbered list with each item on a new line. "
            "For example: \n\n1. foo\n\n2. bar\n\n3. baz"
        )


class MarkdownListOutputParser(ListOutputParser):
    """``"- a\\n* b"`` to ``["a", "b"]`` (one item per line)."""

    pattern: str = r"^\s*[-*]\s([^\n]+)$"
    _default: ClassVar[str] = r"^\s*[-*]\s([^\n]+)$"
    _multiline: ClassVar[bool] = True

    @classmethod
    def _translated_default(cls) -> str:
        space = python_class(r"\s")
        return "^" + space + "*[-*]" + space + r"([^\n]+)$"

    def get_format_instructions(self) -> str:
        return "Your response should be a markdown list, eg: `- foo\n- bar\n- baz`"
