"""Empty text chunks in a stream: what the CLI and the server leave out.

A chat model's last chunks often carry only metadata (usage, stop reason) with ``""``
content; after a string parser they become ``""`` chunks that say nothing. Python's
``stream`` keeps them (as LangChain does); the CLI and the ``/stream`` route drop them,
except one ``""`` for a stream that had nothing else (so an empty answer still streams
one chunk). Message chunks are kept whatever their content: their metadata is data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["EmptyTextFilter", "skip_empty_text"]


class EmptyTextFilter:
    """Decides chunk by chunk: :meth:`keep` says whether to pass a chunk on, and
    :meth:`leftover` what to add once the stream ends."""

    __slots__ = ("held", "sent")

    def __init__(self) -> None:
        self.held = False
        self.sent = False

    def keep(self, chunk: Any) -> bool:
        """False for a ``""`` string chunk (remembered), True for anything else."""
        if type(chunk) is str and not chunk:
            self.held = True
            return False
        self.sent = True
        return True

    def leftover(self) -> tuple[str, ...]:
        """``("",)`` when the stream had only empty text chunks, else nothing."""
        return ("",) if self.held and not self.sent else ()


def skip_empty_text(chunks: Iterable[Any]) -> Iterator[Any]:
    """``chunks`` without their ``""`` string chunks (see :class:`EmptyTextFilter`)."""
    empty = EmptyTextFilter()
    for chunk in chunks:
        if empty.keep(chunk):
            yield chunk
    yield from empty.leftover()
