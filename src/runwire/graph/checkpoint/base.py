"""The checkpoint saver contract (LangGraph's): what a checkpoint holds and how it is stored.

A saver keeps, per ``thread_id`` and ``checkpoint_ns`` (``""`` for the root graph), an
append-only history of checkpoints, each with its metadata, its parent's id and the
pending writes of the tasks that ran (or are running) from it. Configs address them:
``{"configurable": {"thread_id": ..., "checkpoint_ns": ..., "checkpoint_id": ...}}``;
without ``checkpoint_id`` the latest checkpoint is meant.

A new saver (Postgres, ...) subclasses :class:`BaseCheckpointSaver` and implements
``get_tuple``, ``list``, ``put``, ``put_writes`` and ``delete_thread``; the async twins
default to running those in a worker thread.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypedDict

import orjson

from runwire.errors import ManifestError, NotSerializableError

if TYPE_CHECKING:
    from runwire.graph.checkpoint.serde import LcJsonSerializer
    from runwire.runtime.config import RunnableConfig
else:
    RunnableConfig = dict

__all__ = [
    "EXCLUDED_METADATA_KEYS",
    "LATEST_VERSION",
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "PendingWrite",
    "check_checkpoint",
    "checkpoint_metadata",
    "copy_checkpoint",
    "dump_head",
    "empty_checkpoint",
    "load_head",
    "located",
    "new_checkpoint_id",
    "next_version",
    "saved_config",
]

LATEST_VERSION = 4
"""The checkpoint format version LangGraph 1.2 writes (``Checkpoint["v"]``)."""

ChannelVersions = dict[str, str | int | float]
PendingWrite = tuple[str, str, Any]
"""``(task_id, channel, value)``."""

WRITES_IDX_MAP: dict[str, int] = {
    "__error__": -1,
    "__scheduled__": -2,
    "__interrupt__": -3,
    "__resume__": -4,
}
"""Special channels' fixed write index: a new write replaces the old one, where a
regular write at an index already stored for that task is ignored."""

EXCLUDED_METADATA_KEYS = frozenset(
    (
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    )
)
"""Config keys never copied into a checkpoint's metadata."""


class CheckpointMetadata(TypedDict, total=False):
    """What is known about a checkpoint besides the state; user keys may be added."""

    source: Literal["input", "loop", "update", "fork"]
    """Where it came from: graph input, a superstep, ``update_state``, or a copy."""
    step: int
    """``-1`` for the input checkpoint, then 0, 1, ... for each superstep."""
    parents: dict[str, str]
    """Checkpoint namespace -> checkpoint id of the parent graphs' checkpoints."""
    run_id: str
    """The run that wrote it."""


class Checkpoint(TypedDict):
    """The state of a graph at one point: channel values, their versions, what each node saw."""

    v: int
    """Format version (:data:`LATEST_VERSION`)."""
    id: str
    """Unique and increasing with time: ids sort as strings from first to last."""
    ts: str
    """When it was written, ISO 8601 in UTC."""
    channel_values: dict[str, Any]
    """Channel name -> value."""
    channel_versions: ChannelVersions
    """Channel name -> version (increasing; see :meth:`BaseCheckpointSaver.get_next_version`)."""
    versions_seen: dict[str, ChannelVersions]
    """Node name -> channel name -> the version that node last saw."""
    updated_channels: list[str] | None
    """The channels the step that wrote it updated."""


class CheckpointTuple(NamedTuple):
    """A stored checkpoint with its address, metadata, parent and pending writes."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: RunnableConfig | None = None
    pending_writes: list[PendingWrite] | None = None


# -- ids ---------------------------------------------------------------------------
_UUID_EPOCH = 0x01B21DD213814000  # 100 ns intervals from 1582-10-15 to 1970-01-01
_id_lock = threading.Lock()
_last_tick = 0


def new_checkpoint_id(step: int | None = None, now_ns: int | None = None) -> str:
    """A version-6 UUID as text: its string order is its creation order.

    Time comes first (``now_ns``, else now, in 100 ns ticks, strictly increasing within
    the process), then ``step`` as the clock sequence (LangGraph passes the superstep;
    random if ``None``), then random bits. The engine stamps every step with one.
    """
    global _last_tick
    tick = (time.time_ns() if now_ns is None else now_ns) // 100 + _UUID_EPOCH
    with _id_lock:
        if tick <= _last_tick:
            tick = _last_tick + 1
        _last_tick = tick
    seq = random.getrandbits(14) if step is None else step & 0x3FFF
    # time_high-time_mid-6time_low-variant|sequence-random node, formatted in one step
    return (
        f"{tick >> 28:08x}-{(tick >> 12) & 0xFFFF:04x}-6{tick & 0xFFF:03x}-"
        f"{0x8000 | seq:04x}-{random.getrandbits(48):012x}"
    )


_COUNTS = tuple(f"{i:032}." for i in range(257))
"""The zero-padded counter part of the first versions, made once."""
_AFTER = {_COUNTS[i][:32]: _COUNTS[i + 1] for i in range(256)}
"""A first version's counter -> the next version's counter part."""
_randbits = random.getrandbits


def next_version(current: str | int | float | None) -> str:
    """The version after ``current``: a zero-padded counter and a random suffix.

    The counter orders versions (as strings); the suffix (``0.`` and 16 random digits,
    the shape of LangGraph's) keeps two forks of one thread from giving the same version
    to different values.
    """
    if current is None:
        count = 1
    elif type(current) is str:
        count = int(current.partition(".")[0]) + 1
    else:
        count = int(current) + 1
    prefix = _COUNTS[count] if count < 257 else f"{count:032}."
    return f"{prefix}0.{_randbits(52):016d}"


def empty_checkpoint() -> Checkpoint:
    """A checkpoint with no channels, stamped now."""
    return {
        "v": LATEST_VERSION,
        "id": new_checkpoint_id(-2),
        "ts": datetime.now(UTC).isoformat(),
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": None,
    }


def copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose dicts (values, versions, versions seen per node) can change alone."""
    updated = checkpoint.get("updated_channels")
    return {
        **checkpoint,
        "channel_values": dict(checkpoint["channel_values"]),
        "channel_versions": dict(checkpoint["channel_versions"]),
        "versions_seen": {k: dict(v) for k, v in checkpoint["versions_seen"].items()},
        "updated_channels": None if updated is None else list(updated),
    }


def checkpoint_metadata(config: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` plus the config's scalar ``metadata`` and ``configurable`` entries.

    As LangGraph stores it: keys already present, reserved keys (:data:`EXCLUDED_METADATA_KEYS`)
    and ``__``-prefixed keys are skipped; NUL characters are removed from strings.
    """
    out = {k: v.replace("\x00", "") if type(v) is str else v for k, v in metadata.items()}
    conf = config.get("configurable")
    if not config.get("metadata") and (not conf or conf.keys() <= EXCLUDED_METADATA_KEYS):
        return out  # the usual case: the config has nothing to add
    for source in (config.get("metadata"), conf):
        if not source:
            continue
        for key, value in source.items():
            if key in out or key in EXCLUDED_METADATA_KEYS or key.startswith("__"):
                continue
            if isinstance(value, str):
                out[key] = value.replace("\x00", "")
            elif isinstance(value, int | float | bool):
                out[key] = value
    return out


_HEAD_TYPES: dict[str, tuple[type, ...]] = {
    "v": (int,),
    "id": (str,),
    "ts": (str,),
    "channel_versions": (dict,),
    "versions_seen": (dict,),
    "updated_channels": (list, type(None)),
}
_EXTRA = "extra"
_HEAD_FIELDS = tuple(_HEAD_TYPES)
_STANDARD_KEYS = frozenset((*_HEAD_FIELDS, "channel_values"))


def dump_head(serde: LcJsonSerializer, checkpoint: Checkpoint) -> bytes:
    """A checkpoint without its channel values, as bytes (the values are stored apart).

    The standard fields are JSON by contract and written as is: as a JSON array when the
    checkpoint has exactly those (the usual case, no copy of the dict), else as an object
    whose other keys go through ``serde``.
    """
    head: Any
    if checkpoint.keys() == _STANDARD_KEYS:
        head = [checkpoint[key] for key in _HEAD_FIELDS]  # type: ignore[literal-required]
    else:
        head = dict(checkpoint)
        head.pop("channel_values", None)
        others = head.keys() - _HEAD_TYPES.keys()
        if others:
            head[_EXTRA] = serde.encode({key: head.pop(key) for key in sorted(others)})
    try:
        return bytes(memoryview(orjson.dumps(head)))  # right-sized: see serde.dumps
    except TypeError as exc:
        raise NotSerializableError(
            f"checkpoint fields are not JSON: {exc}",
            hint="channel versions are str, int or float; channel and node names are str",
        ) from None


def check_checkpoint(value: Any) -> Checkpoint:
    """``value`` if it has a checkpoint's shape (fields of the right types), else a
    ``ManifestError``: for checkpoints read back from storage."""
    if type(value) is not dict or type(value.get("channel_values")) is not dict:
        raise ManifestError(
            "stored checkpoint is not a checkpoint object",
            hint="the checkpoint was edited or damaged; restore it from a good copy",
        )
    for key, kinds in _HEAD_TYPES.items():
        if key in value and type(value[key]) not in kinds:
            raise ManifestError(
                f"stored checkpoint field {key!r} has the wrong type",
                hint="the checkpoint was edited or damaged; restore it from a good copy",
            )
    return value  # type: ignore[return-value]


def load_head(serde: LcJsonSerializer, data: bytes) -> dict[str, Any]:
    """What :func:`dump_head` wrote, its fields' types checked (``channel_values`` empty)."""
    try:
        head = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError):
        head = None
    if type(head) is list and len(head) == len(_HEAD_FIELDS):
        head = dict(zip(_HEAD_FIELDS, head, strict=True))
    if type(head) is not dict:
        raise ManifestError(
            "stored checkpoint is not lc JSON",
            hint="runwire reads only its own lc JSON checkpoints (never pickle or msgpack)",
        )
    extra = head.pop(_EXTRA, None)
    head["channel_values"] = {}
    check_checkpoint(head)
    if extra is not None:
        decoded = serde.decode(extra)
        if type(decoded) is not dict:
            raise ManifestError("stored checkpoint's extra fields are not an object")
        head.update(decoded)
    return head


def located(exc: ManifestError, where: str) -> ManifestError:
    """``exc`` again, its message prefixed with where in storage the bad value was."""
    return type(exc)(f"{where}: {exc.message}", path=exc.path, hint=exc.hint)


def saved_config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    """The config that addresses one stored checkpoint."""
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def _address(config: RunnableConfig) -> tuple[str, str, str | None]:
    """``(thread_id, checkpoint_ns, checkpoint_id or None)`` of a config, checked."""
    conf = config.get("configurable") or {}
    thread_id = conf.get("thread_id")
    if thread_id is None:
        raise ValueError(
            'a checkpointer needs config["configurable"]["thread_id"]: pass e.g. '
            '{"configurable": {"thread_id": "1"}}'
        )
    return str(thread_id), conf.get("checkpoint_ns") or "", conf.get("checkpoint_id") or None


def _writes_address(config: RunnableConfig) -> tuple[str, str, str]:
    """``_address`` of the checkpoint a task's writes belong to (its id is required)."""
    thread_id, ns, checkpoint_id = _address(config)
    if checkpoint_id is None:
        raise ValueError('put_writes needs config["configurable"]["checkpoint_id"]')
    return thread_id, ns, checkpoint_id


def _not_implemented(saver: object, method: str) -> NotImplementedError:
    return NotImplementedError(f"{type(saver).__name__} does not implement {method}()")


class BaseCheckpointSaver:
    """Stores checkpoints and pending writes; subclasses implement the sync methods.

    Attributes:
        serde: turns values into bytes and back (:class:`LcJsonSerializer`: lc JSON,
            read back through the safe loader).
    """

    serde: LcJsonSerializer

    def __init__(self, *, serde: LcJsonSerializer | None = None) -> None:
        if serde is None:
            from runwire.graph.checkpoint.serde import LcJsonSerializer

            serde = LcJsonSerializer()
        self.serde = serde

    @property
    def config_specs(self) -> list[Any]:
        """Configurable fields this saver adds to a graph's config (none)."""
        return []

    # -- the contract ---------------------------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` addresses (the latest without ``checkpoint_id``), or None.

        Its ``pending_writes`` are ordered by ``(task_path, task_id, write index)``.
        """
        raise _not_implemented(self, "get_tuple")

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: of ``config``'s thread (and namespace and id when it
        names them; every thread when ``config`` is None), whose metadata has every
        ``filter`` item, older than ``before``'s checkpoint, at most ``limit`` of them."""
        raise _not_implemented(self, "list")

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` as the child of ``config``'s checkpoint; return its config.

        ``new_versions`` names the channels whose values changed since the parent.
        """
        raise _not_implemented(self, "put")

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's ``(channel, value)`` writes against ``config``'s checkpoint."""
        raise _not_implemented(self, "put_writes")

    def delete_thread(self, thread_id: str) -> None:
        """Forget every checkpoint and write of ``thread_id`` (all namespaces)."""
        raise _not_implemented(self, "delete_thread")

    def get(self, config: RunnableConfig) -> Checkpoint | None:
        """The checkpoint alone (see :meth:`get_tuple`)."""
        found = self.get_tuple(config)
        return None if found is None else found.checkpoint

    def get_next_version(self, current: str | int | float | None, channel: Any = None) -> str:
        """The version a channel gets when it changes (``channel`` is unused)."""
        if type(current) is str and current[32:33] == ".":  # the engine calls this a lot
            prefix = _AFTER.get(current[:32])
            if prefix is not None:
                return f"{prefix}0.{_randbits(52):016d}"
        return next_version(current)

    # -- async twins: the sync methods through _blocking ------------------------------
    async def _blocking(self, fn: Any, *args: Any) -> Any:
        """How an async twin runs its sync method: in a worker thread (a saver whose
        calls never block overrides this to run them inline)."""
        import asyncio  # asyncio costs ~30 ms to import: only async callers pay it

        return await asyncio.to_thread(fn, *args)

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async :meth:`get_tuple`."""
        return await self._blocking(self.get_tuple, config)

    async def aget(self, config: RunnableConfig) -> Checkpoint | None:
        """Async :meth:`get`."""
        found = await self.aget_tuple(config)
        return None if found is None else found.checkpoint

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async :meth:`list` (the matches are gathered by one blocking call)."""

        def gather() -> list[CheckpointTuple]:
            return list(self.list(config, filter=filter, before=before, limit=limit))

        for item in await self._blocking(gather):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async :meth:`put`."""
        return await self._blocking(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async :meth:`put_writes`."""
        await self._blocking(self.put_writes, config, writes, task_id, task_path)

    async def aput_batch(self, ops: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Store a step's queued calls, ``("put", args)`` and ``("put_writes", args)``, as
        calling :meth:`aput` and :meth:`aput_writes` in order would (a runwire extension:
        an async run hands its saves over this way after each step; a saver that can
        store them in one round trip overrides it)."""
        for name, args in ops:
            await (self.aput if name == "put" else self.aput_writes)(*args)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        await self._blocking(self.delete_thread, thread_id)
