"""Checkpoint savers for runwire graphs: LangGraph's saver contract, lc JSON storage.

``InMemorySaver`` keeps checkpoints in memory, ``SqliteSaver`` in one SQLite file;
both store values with :class:`LcJsonSerializer` (lc JSON read back through the safe
loader: no pickle, no msgpack, no import named by stored data).
"""

from __future__ import annotations

from runwire.graph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    copy_checkpoint,
    empty_checkpoint,
    new_checkpoint_id,
)
from runwire.graph.checkpoint.memory import InMemorySaver, MemorySaver
from runwire.graph.checkpoint.serde import LcJsonSerializer, StoredError

__all__ = [
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "InMemorySaver",
    "LcJsonSerializer",
    "MemorySaver",
    "PendingWrite",
    "SqliteSaver",
    "StoredError",
    "copy_checkpoint",
    "empty_checkpoint",
    "new_checkpoint_id",
]


def __getattr__(name: str) -> object:
    if name == "SqliteSaver":  # sqlite3 is imported only when asked for
        from runwire.graph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
