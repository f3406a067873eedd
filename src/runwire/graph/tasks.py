"""Tasks of a superstep and the ids, inputs and payloads that describe them."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from runwire.graph.constants import PULL, PUSH
from runwire.graph.types import Interrupt, PregelTask

__all__ = ["ParentLink", "Task", "now_iso", "task_id"]


class Task:
    """One node run in one step: its input, what it wrote and how it ended."""

    __slots__ = (
        "_id",
        "control",
        "done",
        "error",
        "input",
        "interrupts",
        "meta",
        "name",
        "node",
        "path",
        "paused",
        "resume",
        "resuming",
        "triggers",
        "update",
        "writes",
    )

    def __init__(
        self, id: str | tuple[str, str], name: str, path: tuple[Any, ...], node: Any, input: Any
    ) -> None:
        self._id = id
        """The id, or ``(checkpoint id, namespace)`` to hash it from when first asked."""
        self.name = name
        self.path = path
        self.node = node
        self.input = input
        triggers = getattr(node, "triggers", None) or (f"branch:to:{name}",)
        self.triggers: tuple[str, ...] = triggers if path[0] == PULL else (PUSH,)
        self.writes: list[tuple[str, Any]] = []
        self.control: list[tuple[str, Any]] = []
        self.interrupts: tuple[Interrupt, ...] = ()
        self.error: BaseException | None = None
        self.done = False
        self.resume: list[Any] = []
        self.update: Any = None
        self.resuming = False
        self.paused = False
        self.meta: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        """The task's stable id (hashed on first use: most runs never look at it)."""
        value = self._id
        if value.__class__ is tuple:
            value = self._id = task_id(value[0], value[1], self.path)
        return value  # type: ignore[return-value]

    @id.setter
    def id(self, value: str) -> None:
        self._id = value

    @property
    def ns(self) -> str:
        """The task's namespace segment, ``"<node>:<id>"``."""
        return f"{self.name}:{self.id}"

    def sort_key(self) -> tuple[Any, ...]:
        """Writes are applied in this order: pulled nodes by name, then pushes in order."""
        return self.path

    def snapshot(self, result: Any = None) -> PregelTask:
        """The task as ``StateSnapshot.tasks`` shows it."""
        return PregelTask(self.id, self.name, self.path, self.error, self.interrupts, None, result)


def task_id(checkpoint: str, ns: str, path: tuple[Any, ...]) -> str:
    """A stable id for the task at ``path`` of the step after ``checkpoint``."""
    text = f"{checkpoint}|{ns}|{path!r}".encode()
    h = hashlib.blake2b(text, digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_second: tuple[int, str] = (-1, "")
"""The last whole second formatted, and its text (a checkpoint is stamped every step)."""


def now_iso(now_ns: int | None = None) -> str:
    """A UTC time (now by default) in ISO 8601 as ``datetime.isoformat`` writes it
    (checkpoint ``ts``): the date and seconds are formatted once per second."""
    global _second
    sec, ns = divmod(time.time_ns() if now_ns is None else now_ns, 1_000_000_000)
    cached = _second
    if cached[0] != sec:
        cached = _second = (sec, datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    micros = ns // 1000
    return f"{cached[1]}.{micros:06d}+00:00" if micros else f"{cached[1]}+00:00"


class ParentLink:
    """What a graph running inside a node gets from the task that runs it."""

    __slots__ = ("checkpointer", "messages", "ns", "null_box", "resume_map", "resuming", "sink")

    def __init__(
        self,
        ns: str,
        checkpointer: Any,
        resume_map: dict[str, Any],
        null_box: list[Any],
        sink: Any,
        resuming: bool,
    ) -> None:
        self.ns = ns
        self.checkpointer = checkpointer
        self.resume_map = resume_map
        self.null_box = null_box
        self.sink = sink
        self.resuming = resuming
        self.messages: Any = None
        """The root run's ``messages`` mode handler, if any."""
