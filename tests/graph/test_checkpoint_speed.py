"""The savers' fast paths keep every property of the slow ones.

Plain JSON goes to orjson without being rebuilt, immutable scalars stay in memory as
themselves, versions come from a table: these tests pin that the results are the same
as before (no timing here; ``benchmarks/bench_graph.py`` measures).
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
import pytest

from runwire.errors import ManifestError
from runwire.graph.checkpoint import InMemorySaver, LcJsonSerializer, empty_checkpoint
from runwire.graph.checkpoint.base import next_version
from runwire.schema.messages import HumanMessage, RemoveMessage

SERDE = LcJsonSerializer()
CONFIG = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}

PLAIN: list[Any] = [
    None,
    True,
    0,
    -(2**63),
    2**64 - 1,
    1.5,
    "",
    "text",
    [],
    {},
    {"count": 3, "items": ["a", 1, None, 2.5, [True]], "nested": {"k": {"k": "v"}}},
    [["node", {"arg": 1}]],
    {"__lc_escaped__": 1, "other": 2},  # two keys: not an escape
]
NEEDS_ENCODING: list[Any] = [
    2**64,
    math.inf,
    {"lc": 1, "type": "constructor", "id": ["os", "system"]},
    {"outer": {"__rw__": "tuple", "v": [1]}},
    {"__lc_escaped__": {"lc": 1}},
    {1: "non-string key"},
    [("a", 1)],
    {"when": b"bytes"},
    [HumanMessage("hi", id="m1")],
]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_json_is_written_as_orjson_writes_it(value: Any) -> None:
    assert SERDE.dumps(value) == orjson.dumps(value)
    assert SERDE.loads(SERDE.dumps(value)) == value


@pytest.mark.parametrize("value", NEEDS_ENCODING, ids=repr)
def test_values_that_need_escaping_or_tags_still_get_them(value: Any) -> None:
    data = SERDE.dumps(value)
    assert data == orjson.dumps(SERDE.encode(value))
    assert SERDE.loads(data) == value


def test_an_lc_shaped_dict_deep_in_plain_data_comes_back_as_data() -> None:
    value = {"a": [{"b": {"lc": 1, "type": "constructor", "id": ["os", "system"]}}]}
    assert b"__lc_escaped__" in SERDE.dumps(value)
    assert SERDE.loads(SERDE.dumps(value)) == value


def _saved(saver: InMemorySaver, values: dict[str, Any]) -> dict[str, Any]:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = {k: next_version(None) for k in values}
    config = saver.put(CONFIG, checkpoint, {"source": "loop", "step": 0}, {})
    found = saver.get_tuple(config)
    assert found is not None
    return found.checkpoint["channel_values"]


def test_memory_saver_keeps_immutable_scalars_and_serializes_the_rest() -> None:
    saver = InMemorySaver()
    items = ["a"]
    values = {"n": 2**70, "f": math.inf, "b": False, "none": None, "s": "x", "items": items}
    got = _saved(saver, values)
    items.append("changed after put")
    assert got == {**values, "items": ["a"]}
    (thread_blobs,) = saver.blobs.values()
    stored = {key[1]: blob for key, blob in thread_blobs.items()}
    assert stored.keys() == {"s", "items"}  # the scalars are kept inline, not as blobs
    assert all(type(v) is bytes for v in stored.values())


def test_memory_saver_writes_keep_scalars_and_read_back_the_rest_safely() -> None:
    saver = InMemorySaver()
    config = saver.put(CONFIG, empty_checkpoint(), {}, {})
    saver.put_writes(config, [("count", 1), ("done", None), ("msgs", [RemoveMessage("m1")])], "t1")
    found = saver.get_tuple(config)
    assert found is not None
    assert found.pending_writes == [
        ("t1", "count", 1),
        ("t1", "done", None),
        ("t1", "msgs", [RemoveMessage("m1")]),
    ]
    (thread_writes,) = saver.writes.values()
    ((address, stored),) = thread_writes.items()
    stored = dict(stored)
    write_key = next(k for k, w in stored.items() if w[1] == "msgs")
    task, channel, _, path = stored[write_key]
    bad = b'[{"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {}}]'
    stored[write_key] = (task, channel, bad, path)
    thread_writes[address] = tuple(stored.items())
    with pytest.raises(ManifestError, match="write of task t1"):
        saver.get_tuple(config)


VERSION = re.compile(r"\d{32}\.0\.\d{16}")


def test_versions_count_up_and_keep_langgraphs_shape() -> None:
    saver = InMemorySaver()
    version = saver.get_next_version(None, None)
    seen = [version]
    for _ in range(300):  # past the table of made counters
        version = saver.get_next_version(version, None)
        seen.append(version)
    assert all(VERSION.fullmatch(v) for v in seen)
    assert [int(v[:32]) for v in seen] == list(range(1, 302))
    assert seen == sorted(seen)
    assert next_version(7).startswith(f"{8:032}.") and next_version(7.0).startswith(f"{8:032}.")
    assert saver.get_next_version(f"{41:032}.0.5", None).startswith(f"{42:032}.")


def test_remove_message_is_written_as_a_message_and_the_old_envelope_still_reads() -> None:
    data = SERDE.dumps([RemoveMessage("m1")])
    assert b'"RemoveMessage"' in data and b"__rw__" not in data
    assert SERDE.loads(data) == [RemoveMessage("m1")]
    old = b'{"__rw__": "graph", "name": "RemoveMessage", "v": {"id": "m2"}}'
    assert SERDE.loads(old) == RemoveMessage("m2")


def test_a_checkpoint_head_round_trips_in_both_stored_forms() -> None:
    saver = InMemorySaver()
    plain = empty_checkpoint()
    plain["updated_channels"] = ["a"]
    extended = {**empty_checkpoint(), "pending_sends": [("node", (1, 2))]}
    for checkpoint in (plain, extended):
        config = saver.put(CONFIG, checkpoint, {}, {})  # type: ignore[arg-type]
        found = saver.get_tuple(config)
        assert found is not None and found.checkpoint == checkpoint


def test_a_tampered_checkpoint_head_is_a_manifest_error() -> None:
    saver = InMemorySaver()
    config = saver.put(CONFIG, empty_checkpoint(), {}, {})
    cid = config["configurable"]["checkpoint_id"]
    head, *rest = saver.storage["t"][""][cid]
    assert head.startswith(b"[")  # the usual head is a JSON array
    saver.storage["t"][""][cid] = (head.replace(b"[4,", b'["4",', 1), *rest)
    with pytest.raises(ManifestError, match="field 'v' has the wrong type"):
        saver.get_tuple(config)


def test_memory_saver_entries_leave_the_garbage_collector() -> None:
    """A stored checkpoint is scalars only, so after its first collections the collector
    stops walking it: a store of many threads does not slow every later full collection."""
    import gc

    saver = InMemorySaver()
    config = saver.put(CONFIG, empty_checkpoint(), {}, {})
    checkpoint = {**empty_checkpoint(), "channel_values": {"a": [1], "b": 2}}
    checkpoint["channel_versions"] = {"a": 1, "b": 1}
    config = saver.put(config, checkpoint, {"step": 0}, {"a": 1, "b": 1})
    saver.put_writes(config, [("a", [2]), ("b", 3)], "t1")
    for _ in range(3):  # a tuple is untracked once what it holds is: inner ones first
        gc.collect()
    entries = [e for ns in saver.storage["t"].values() for e in ns.values()]
    assert len(entries) == 2
    assert not any(gc.is_tracked(entry) for entry in entries)
    assert not gc.is_tracked(saver.blobs["t"])
    assert not any(gc.is_tracked(w) for w in saver.writes["t"].values())


@pytest.mark.parametrize(
    "now_ns",
    [0, 1_700_000_000_000_000_000, 1_700_000_000_000_001_000, 1_700_000_000_999_999_999, None],
)
def test_checkpoint_timestamps_read_as_datetime_isoformat_writes_them(now_ns: int | None) -> None:
    from datetime import UTC, datetime

    from runwire.graph.tasks import now_iso

    stamp = now_iso(now_ns)
    if now_ns is not None:
        seconds, rest = divmod(now_ns, 1_000_000_000)
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
        assert stamp == moment.isoformat()
    assert datetime.fromisoformat(stamp).isoformat() == stamp
