"""``InMemorySaver``: checkpoints in process memory, stored as serialized bytes.

Values are kept as the serializer's bytes (one blob per channel version, as LangGraph
does), so reading goes through the same safe loader as a database would, and changing
a state object after ``put`` never changes what was stored. Immutable scalars (None,
bools, ints, floats) are kept as themselves: there is nothing in them to load or change.
For tests and short-lived processes; nothing survives the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from runwire.errors import ManifestError
from runwire.graph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    _address,
    _writes_address,
    checkpoint_metadata,
    dump_head,
    empty_checkpoint,
    load_head,
    located,
    saved_config,
)

if TYPE_CHECKING:
    from runwire.graph.checkpoint.serde import LcJsonSerializer
    from runwire.runtime.config import RunnableConfig

__all__ = ["InMemorySaver", "MemorySaver", "bench_put_get"]

_Saved = tuple[bytes, bytes, str | None, tuple[Any, ...]]
"""checkpoint without values, metadata, parent id, and its values: a flat tuple
``(channel, version, value, channel, ...)`` where ``value`` is an immutable scalar kept
inline (see _IMMUTABLE) or, as a str, the id of the checkpoint whose blob holds it.

Flat and made of scalars, so the collector untracks the whole entry after its first
pass (a tuple holding a dict stays tracked for ever, and every full collection would
walk every checkpoint ever stored)."""
_Write = tuple[str, str, Any, str]  # task id, channel, value (see _IMMUTABLE), task path
_IMMUTABLE = frozenset((type(None), bool, int, float))
"""Values kept as themselves, not as bytes: immutable, they hold no node and read back
the same (any other value is stored serialized, and read back through the safe loader)."""


class InMemorySaver(BaseCheckpointSaver):
    """Checkpoints in a dict; thread safe. Usable as a (sync or async) context manager."""

    def __init__(self, *, serde: LcJsonSerializer | None = None) -> None:
        super().__init__(serde=serde)
        self.storage: dict[str, dict[str, dict[str, _Saved]]] = {}
        """thread id -> namespace -> checkpoint id -> saved checkpoint."""
        self.writes: dict[str, dict[tuple[str, str], tuple[tuple[tuple[str, int], _Write], ...]]]
        self.writes = {}
        """thread id -> (namespace, checkpoint id) -> ((task id, index), write) pairs (a
        tuple of scalars, like a saved checkpoint, so the collector soon stops walking it)."""
        self.blobs: dict[str, dict[tuple[str, str, str], Any]] = {}
        """thread id -> (namespace, channel, id of the checkpoint that wrote it) -> value
        (bytes, or the value itself when it is None, a bool, an int or a float).

        Everything is kept per thread: a new entry re-enters only its own thread's small
        dicts into the garbage collector's young generation, never one dict of every blob
        of every thread (which made each collection walk the whole store)."""
        self._lock = threading.Lock()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> InMemorySaver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    # -- writing -----------------------------------------------------------------------
    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint``: a new blob for each value in ``new_versions`` (or without a
        version); a value at the same version as in the parent checkpoint shares its blob."""
        thread_id, ns, parent = _address(config)
        dumps = self.serde.dumps
        cid = checkpoint["id"]
        versions = checkpoint["channel_versions"]
        parent_entry = self.storage.get(thread_id, {}).get(ns, {}).get(parent or "")  # atomic reads
        flat = parent_entry[3] if parent_entry else ()
        inherited: dict[str, int] | None = None  # channel -> index of its version in flat
        refs: list[Any] = []
        blobs = {}
        for channel, value in checkpoint["channel_values"].items():
            version = versions.get(channel)
            if type(value) in _IMMUTABLE:
                refs += (channel, version, value)  # inline: nothing to share or to load
                continue
            if inherited is None:
                inherited = {flat[i]: i + 1 for i in range(0, len(flat), 3)}
            at = inherited.get(channel)
            if (
                at is None
                or version is None
                or channel in new_versions
                or flat[at] != version
                or type(flat[at + 1]) is not str  # the parent's value was inline
            ):
                blobs[(ns, channel, cid)] = dumps(value)
                refs += (channel, version, cid)
            else:
                refs += (channel, version, flat[at + 1])  # unchanged: share the parent's blob
        saved = (
            dump_head(self.serde, checkpoint),
            dumps(checkpoint_metadata(config, metadata)),
            parent,
            tuple(refs),
        )
        with self._lock:
            self.blobs.setdefault(thread_id, {}).update(blobs)
            self.storage.setdefault(thread_id, {}).setdefault(ns, {})[cid] = saved
        return saved_config(thread_id, ns, cid)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes; a regular write already stored at its index is kept."""
        thread_id, ns, checkpoint_id = _writes_address(config)
        dumps = self.serde.dumps
        encoded = [
            (
                (task_id, WRITES_IDX_MAP.get(c, i)),
                (task_id, c, v if type(v) in _IMMUTABLE else dumps(v), task_path),
            )
            for i, (c, v) in enumerate(writes)
        ]
        with self._lock:
            thread = self.writes.setdefault(thread_id, {})
            existing = thread.get((ns, checkpoint_id))
            if existing is None and all(key[1] >= 0 for key, _ in encoded):
                thread[(ns, checkpoint_id)] = tuple(encoded)  # the usual first writes
                return
            stored = dict(existing or ())
            for key, write in encoded:
                if key[1] >= 0 and key in stored:
                    continue
                stored[key] = write
            thread[(ns, checkpoint_id)] = tuple(stored.items())

    def delete_thread(self, thread_id: str) -> None:
        """Forget every checkpoint, write and blob of ``thread_id``."""
        thread_id = str(thread_id)
        with self._lock:
            self.storage.pop(thread_id, None)
            self.writes.pop(thread_id, None)
            self.blobs.pop(thread_id, None)

    # -- reading -----------------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The addressed checkpoint, or the thread's latest in its namespace."""
        thread_id, ns, checkpoint_id = _address(config)
        with self._lock:
            saved = self.storage.get(thread_id, {}).get(ns)
            if not saved:
                return None
            if checkpoint_id is None:
                checkpoint_id = max(saved)
                config = saved_config(thread_id, ns, checkpoint_id)
            entry = saved.get(checkpoint_id)
            if entry is None:
                return None
            raw = self._raw_parts(thread_id, ns, checkpoint_id, entry)
        return self._build(config, thread_id, ns, entry, raw, None)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Matching checkpoints newest first (see ``BaseCheckpointSaver.list``)."""
        conf = (config or {}).get("configurable") or {}
        want_ns = conf.get("checkpoint_ns")
        want_id = conf.get("checkpoint_id")
        before_id = ((before or {}).get("configurable") or {}).get("checkpoint_id")
        with self._lock:
            threads = [_address(config)[0]] if config is not None else list(self.storage)
            found = [
                (thread_id, ns, cid, entry)
                for thread_id in threads
                for ns, saved in self.storage.get(thread_id, {}).items()
                if want_ns is None or ns == want_ns
                for cid, entry in sorted(saved.items(), reverse=True)
                if (not want_id or cid == want_id) and (not before_id or cid < before_id)
            ]
        if limit is not None and limit <= 0:
            return
        loads = self.serde.loads
        for thread_id, ns, cid, entry in found:
            metadata = loads(entry[1])
            if filter and not all(metadata.get(k) == v for k, v in filter.items()):
                continue
            with self._lock:
                raw = self._raw_parts(thread_id, ns, cid, entry)
            yield self._build(saved_config(thread_id, ns, cid), thread_id, ns, entry, raw, metadata)
            if limit is not None:
                limit -= 1
                if limit <= 0:
                    return

    def _raw_parts(
        self, thread_id: str, ns: str, checkpoint_id: str, entry: _Saved
    ) -> tuple[dict[str, Any], dict[str, bytes], list[_Write]]:
        """Under the lock: the checkpoint's head, its values' blobs and the ordered writes."""
        head = load_head(self.serde, entry[0])
        stored_blobs = self.blobs.get(thread_id, {})
        flat = entry[3]
        blobs = {
            c: stored_blobs[(ns, c, v)] if type(v) is str else v
            for c, v in zip(flat[::3], flat[2::3], strict=True)
        }
        stored = dict(self.writes.get(thread_id, {}).get((ns, checkpoint_id), ()))
        writes = (
            [stored[k] for k in sorted(stored, key=lambda k: (stored[k][3], *k))] if stored else []
        )
        return head, blobs, writes

    def _build(
        self,
        config: RunnableConfig,
        thread_id: str,
        ns: str,
        entry: _Saved,
        raw: tuple[dict[str, Any], dict[str, bytes], list[_Write]],
        metadata: Any,
    ) -> CheckpointTuple:
        loads = self.serde.loads
        head, blobs, writes = raw
        values = {}
        for channel, blob in blobs.items():
            if type(blob) in _IMMUTABLE:
                values[channel] = blob
                continue
            try:
                values[channel] = loads(blob)
            except ManifestError as exc:
                raise located(exc, f"checkpoint {head.get('id')} channel {channel!r}") from None
        head["channel_values"] = values
        pending = []
        for task, channel, value, _ in writes:
            if type(value) in _IMMUTABLE:
                pending.append((task, channel, value))
                continue
            try:
                pending.append((task, channel, loads(value)))
            except ManifestError as exc:
                raise located(exc, f"write of task {task} to {channel!r}") from None
        parent = entry[2]
        return CheckpointTuple(
            config=config,
            checkpoint=head,  # type: ignore[arg-type]
            metadata=loads(entry[1]) if metadata is None else metadata,
            parent_config=saved_config(thread_id, ns, parent) if parent else None,
            pending_writes=pending,
        )

    # -- async twins: no I/O, so no thread hop ------------------------------------------
    async def _blocking(self, fn: Any, *args: Any) -> Any:
        """The async twins run inline: a dict lookup never blocks the event loop."""
        return fn(*args)


MemorySaver = InMemorySaver
"""LangGraph's older name."""


def bench_put_get(
    saver: BaseCheckpointSaver | None = None,
    *,
    channels: int = 10,
    changed: int | None = None,
    rounds: int = 500,
) -> float:
    """Median microseconds of one ``put`` plus one ``get_tuple`` of a ``channels``-channel
    checkpoint (small strings, ints and lists), ``changed`` channels new each time (all
    by default). For the graph engine's budget; an ``InMemorySaver`` unless given."""
    import statistics

    saver = saver or InMemorySaver()
    changed = channels if changed is None else changed
    config: dict[str, Any] = {"configurable": {"thread_id": "bench", "checkpoint_ns": ""}}
    checkpoint = empty_checkpoint()
    samples = []
    for i in range(rounds):
        values = {f"c{j}": [f"item {i}", j] if j % 3 else f"value {i}" for j in range(channels)}
        new = {f"c{j}": saver.get_next_version(i, None) for j in range(changed if i else channels)}
        versions = {**checkpoint["channel_versions"], **new}
        checkpoint = {
            **empty_checkpoint(),
            "channel_values": values,
            "channel_versions": versions,
            "versions_seen": {"node": dict(new)},
            "updated_channels": list(new),
        }
        meta = {"source": "loop", "step": i, "parents": {}}
        start = time.perf_counter()
        config = saver.put(config, checkpoint, meta, new)  # type: ignore[assignment]
        saver.get_tuple(config)  # type: ignore[arg-type]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6
