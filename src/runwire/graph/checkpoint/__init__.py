"""Checkpoint savers for runwire graphs: LangGraph's saver contract, lc JSON storage.

``InMemorySaver`` keeps checkpoints in memory, ``SqliteSaver`` in one SQLite file,
``PostgresSaver`` and ``AsyncPostgresSaver`` in PostgreSQL (psycopg 3, the ``postgres``
extra; imported only when asked for); all store values with :class:`LcJsonSerializer`
(lc JSON read back through the safe loader: no pickle, no msgpack, no import named by
stored data).
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
    "AsyncPostgresSaver",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "InMemorySaver",
    "LcJsonSerializer",
    "MemorySaver",
    "PendingWrite",
    "PostgresSaver",
    "SqliteSaver",
    "StoredError",
    "copy_checkpoint",
    "empty_checkpoint",
    "new_checkpoint_id",
]


_LAZY = {
    "SqliteSaver": "runwire.graph.checkpoint.sqlite",
    "PostgresSaver": "runwire.graph.checkpoint.postgres",
    "AsyncPostgresSaver": "runwire.graph.checkpoint.postgres_aio",
}
"""Savers imported only when asked for (sqlite3, psycopg)."""


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
