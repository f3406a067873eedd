"""List parsers over a regex: numbered lists (``1. a``) and Markdown lists (``- a``).

Both behave as LangChain's: ``parse`` returns group 1 of every match; streaming yields
each item as a one-element list once a later item has started (the last one when the
input ends). The ``pattern`` is part of the wire form; a manifest's own pattern is
untrusted, so any pattern other than the default is matched by RE2 (linear time) and
refused when the parser is built if RE2 cannot compile it. The default patterns run
on Python's ``re``, exactly as LangChain runs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from pydantic import PrivateAttr, model_validator

from runwire.runtime.parsers import BaseTransformOutputParser, _StreamState

__all__ = ["ListOutputParser", "MarkdownListOutputParser", "NumberedListOutputParser"]


class _MatchItems(_StreamState):
    """LangChain's list streaming: every complete match but the last, then the rest."""

    def __init__(self, parser: ListOutputParser) -> None:
        self.parser = parser
        self.buffer = ""

    def feed(self, text: str) -> Iterable[Any]:
        self.buffer += text
        matches = list(self.parser.parse_iter(self.buffer))[:-1]
        if not matches:
            return ()
        self.buffer = self.buffer[matches[-1].end() :]
        return [[match.group(1)] for match in matches]

    def close(self) -> Iterable[Any]:
        return [[item] for item in self.parser.parse(self.buffer)]


class ListOutputParser(BaseTransformOutputParser):
    """Base of the regex list parsers: ``pattern`` with one group, the item."""

    pattern: str
    """Regex of one item; group 1 is the item's text."""

    _default: ClassVar[str] = ""
    _flags: ClassVar[tuple[int, str]] = (0, "")
    """Python ``re`` flags and the same as RE2 inline flags."""
    _regex: Any = PrivateAttr(default=None)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @model_validator(mode="after")
    def _compile(self) -> ListOutputParser:
        flags, inline = self._flags
        if self.pattern == self._default:
            self._regex = re.compile(self.pattern, flags)
        else:
            from runwire.runtime.parser_schema import compile_pattern

            self._regex = compile_pattern(inline + self.pattern)
        return self

    def __eq__(self, other: object) -> bool:
        # the compiled regex is not part of the value
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @property
    def OutputType(self) -> Any:
        return list[str]

    def parse(self, text: str) -> list[str]:
        return self._regex.findall(text)  # as LangChain: ``findall``'s rules for groups

    def parse_iter(self, text: str) -> Iterator[Any]:
        """The match of every item in ``text``."""
        return self._regex.finditer(text)

    def _stream_state(self) -> _StreamState:
        return _MatchItems(self)


class NumberedListOutputParser(ListOutputParser):
    """``"1. a\\n2. b"`` to ``["a", "b"]``."""

    pattern: str = r"\d+\.\s([^\n]+)"
    _default: ClassVar[str] = r"\d+\.\s([^\n]+)"

    def get_format_instructions(self) -> str:
        return (
            "Your response should be a numbered list with each item on a new line. "
            "For example: \n\n1. foo\n\n2. bar\n\n3. baz"
        )


class MarkdownListOutputParser(ListOutputParser):
    """``"- a\\n* b"`` to ``["a", "b"]`` (one item per line)."""

    pattern: str = r"^\s*[-*]\s([^\n]+)$"
    _default: ClassVar[str] = r"^\s*[-*]\s([^\n]+)$"
    _flags: ClassVar[tuple[int, str]] = (re.MULTILINE, "(?m)")

    def get_format_instructions(self) -> str:
        return "Your response should be a markdown list, eg: `- foo\n- bar\n- baz`"
