"""The events of a background run, kept while it runs so ``join_stream`` can follow it.

A background run (``POST /threads/{id}/runs``) appends each SSE frame it makes to its
:class:`RunChannel`; a client joining with ``GET .../runs/{run_id}/stream`` gets every
frame from the start, then each new one as it comes, until the run ends. A channel holds
at most ``MAX_BYTES``: past that, its oldest frames are dropped (a late joiner then
misses them).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

__all__ = ["MAX_BYTES", "RunChannel"]

MAX_BYTES = 8 * 1024 * 1024
"""Most bytes of frames one run keeps."""


class RunChannel:
    """Frames of one run, appended by the run, followed by any number of readers."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.frames: deque[bytes] = deque()
        self.first = 0  # the index of frames[0] among all frames made
        self.size = 0
        self.max_bytes = max_bytes
        self.closed = False
        self._changed = asyncio.Condition()

    async def put(self, frame: bytes) -> None:
        """Add a frame (dropping the oldest past ``max_bytes``) and wake the readers."""
        self.frames.append(frame)
        self.size += len(frame)
        while self.size > self.max_bytes and len(self.frames) > 1:
            self.size -= len(self.frames.popleft())
            self.first += 1
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        """The run has ended: readers finish after the last frame."""
        self.closed = True
        async with self._changed:
            self._changed.notify_all()

    async def follow(self) -> AsyncIterator[bytes]:
        """Every frame kept, then each new one, until the run ends."""
        seen = self.first
        while True:
            async with self._changed:
                while not (self.closed or seen < self.first + len(self.frames)):
                    await self._changed.wait()
            start = max(seen, self.first)
            batch = list(self.frames)[start - self.first :]
            seen = start + len(batch)
            for frame in batch:
                yield frame
            if self.closed and seen >= self.first + len(self.frames):
                return
