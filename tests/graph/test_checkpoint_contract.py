"""The saver contract, run against InMemorySaver and SqliteSaver alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runwire import AIMessage, HumanMessage, ManifestError
from runwire.graph.checkpoint import (
    BaseCheckpointSaver,
    InMemorySaver,
    MemorySaver,
    SqliteSaver,
    copy_checkpoint,
    empty_checkpoint,
    new_checkpoint_id,
)
from runwire.graph.checkpoint.memory import bench_put_get

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}


@pytest.fixture(params=["memory", "sqlite", "sqlite-inline", "postgres", "postgres-async"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver]:
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param.startswith("sqlite"):
        inline = request.param == "sqlite-inline"
        with SqliteSaver.from_conn_string(str(tmp_path / "cp.db"), inline_async=inline) as s:
            yield s
    else:  # a database of its own on the session's PostgreSQL server
        from postgres_savers import open_saver

        with open_saver(request.param, request.getfixturevalue("postgres_dsn")) as s:
            yield s


def cfg(thread: str = "t1", ns: str = "", cid: str | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = {"thread_id": thread, "checkpoint_ns": ns}
    if cid:
        conf["checkpoint_id"] = cid
    return {"configurable": conf}


def save(
    saver: BaseCheckpointSaver,
    config: dict[str, Any],
    values: dict[str, Any],
    step: int,
    *,
    versions: dict[str, Any] | None = None,
    source: str = "loop",
    **meta: Any,
) -> dict[str, Any]:
    """Put a checkpoint whose changed channels are ``values``; return its config."""
    parent = saver.get_tuple(config) if config["configurable"].get("checkpoint_id") else None
    old_versions = dict(parent.checkpoint["channel_versions"]) if parent else {}
    old_values = dict(parent.checkpoint["channel_values"]) if parent else {}
    new = versions or {k: saver.get_next_version(old_versions.get(k), None) for k in values}
    checkpoint = {
        **empty_checkpoint(),
        "id": new_checkpoint_id(step),
        "channel_values": {**old_values, **values},
        "channel_versions": {**old_versions, **new},
        "versions_seen": {"node": dict(new)},
        "updated_channels": sorted(new),
    }
    metadata = {"source": source, "step": step, "parents": {}, **meta}
    return saver.put(config, checkpoint, metadata, new)


def on_saver_loop(saver: BaseCheckpointSaver, coro: Any) -> None:
    """Run ``coro`` where the saver's async methods work: an async saver's connections
    live on its own loop; others run it in a new one."""
    loop = getattr(saver, "loop", None)
    if loop is not None:
        asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)
    else:
        asyncio.run(coro)


def test_put_then_get_tuple_returns_the_latest_with_its_parent(saver: BaseCheckpointSaver) -> None:
    first = save(saver, cfg(), {"a": 1}, -1, source="input")
    second = save(saver, first, {"b": "x"}, 0)
    got = saver.get_tuple(cfg())
    assert got is not None
    assert got.config == second
    assert got.checkpoint["channel_values"] == {"a": 1, "b": "x"}
    assert got.parent_config == first
    assert got.metadata == {"source": "loop", "step": 0, "parents": {}}
    assert got.pending_writes == []
    assert saver.get_tuple(first).parent_config is None  # type: ignore[union-attr]
    assert saver.get(second)["id"] == second["configurable"]["checkpoint_id"]  # type: ignore[index]


def test_get_tuple_of_unknown_thread_or_id_is_none(saver: BaseCheckpointSaver) -> None:
    save(saver, cfg(), {"a": 1}, -1)
    assert saver.get_tuple(cfg("nobody")) is None
    assert saver.get_tuple(cfg(cid=new_checkpoint_id())) is None
    assert saver.get(cfg("nobody")) is None


def test_get_tuple_by_id_returns_that_checkpoint_and_keeps_the_config(
    saver: BaseCheckpointSaver,
) -> None:
    first = save(saver, cfg(), {"a": 1}, -1)
    save(saver, first, {"a": 2}, 0)
    got = saver.get_tuple(first)
    assert got is not None and got.checkpoint["channel_values"] == {"a": 1}
    assert got.config == first


def test_unchanged_channels_keep_their_value_from_an_earlier_version(
    saver: BaseCheckpointSaver,
) -> None:
    first = save(saver, cfg(), {"a": [1], "b": "keep"}, -1)
    second = save(saver, first, {"a": [1, 2]}, 0)
    got = saver.get_tuple(second)
    assert got.checkpoint["channel_values"] == {"a": [1, 2], "b": "keep"}  # type: ignore[union-attr]


def test_list_is_newest_first_with_before_limit_and_filter(saver: BaseCheckpointSaver) -> None:
    configs = [save(saver, cfg(), {"a": 0}, -1, source="input")]
    for step in range(4):
        configs.append(save(saver, configs[-1], {"a": step + 1}, step, score=step % 2))
    ids = [c["configurable"]["checkpoint_id"] for c in configs]
    assert [t.config["configurable"]["checkpoint_id"] for t in saver.list(cfg())] == ids[::-1]
    assert [t.metadata["step"] for t in saver.list(cfg(), limit=2)] == [3, 2]
    assert [t.metadata["step"] for t in saver.list(cfg(), before=configs[2])] == [0, -1]
    assert [t.metadata["step"] for t in saver.list(cfg(), filter={"source": "input"})] == [-1]
    assert [t.metadata["step"] for t in saver.list(cfg(), filter={"score": 1}, limit=1)] == [3]
    assert [t.metadata["step"] for t in saver.list(cfg(), filter={"score": 1, "step": 1})] == [1]
    assert list(saver.list(cfg(), filter={"missing": 1})) == []
    assert list(saver.list(cfg(), limit=0)) == []
    one = list(saver.list(configs[1]))
    assert [t.config for t in one] == [configs[1]]


def test_list_without_config_covers_every_thread(saver: BaseCheckpointSaver) -> None:
    save(saver, cfg("t1"), {"a": 1}, -1)
    save(saver, cfg("t2"), {"a": 2}, -1)
    threads = {t.config["configurable"]["thread_id"] for t in saver.list(None)}
    assert threads == {"t1", "t2"}


def test_list_filter_on_a_dict_value_and_odd_keys(saver: BaseCheckpointSaver) -> None:
    save(saver, cfg(), {"a": 1}, -1, tags={"x": [1, 2]}, **{'we"ird': "v", "none": None})
    assert len(list(saver.list(cfg(), filter={"tags": {"x": [1, 2]}}))) == 1
    assert len(list(saver.list(cfg(), filter={'we"ird': "v"}))) == 1
    assert len(list(saver.list(cfg(), filter={"none": None}))) == 1
    assert len(list(saver.list(cfg(), filter={"tags": {"x": [1]}}))) == 0


def test_list_filter_sees_metadata_stored_escaped(saver: BaseCheckpointSaver) -> None:
    """A metadata key ``lc`` makes the whole metadata an escaped dict in storage; a
    filter on its other keys still finds the checkpoint."""
    save(saver, cfg(), {"a": 1}, -1, source="input", lc="x")
    save(saver, cfg(), {"a": 2}, 0, source="loop")
    found = list(saver.list(cfg(), filter={"source": "input"}))
    assert [t.metadata["lc"] for t in found] == ["x"]
    assert len(list(saver.list(cfg(), filter={"source": "input"}, limit=1))) == 1


def test_metadata_takes_scalar_config_entries_but_not_reserved_keys(
    saver: BaseCheckpointSaver,
) -> None:
    config = cfg()
    config["metadata"] = {"user": "bob", "n": 3, "obj": {"x": 1}, "__hidden": "h"}
    config["configurable"]["model"] = "m1"
    saved = save(saver, config, {"a": 1}, -1, note="a\x00b")
    meta = saver.get_tuple(saved).metadata  # type: ignore[union-attr]
    assert meta == {
        "source": "loop",
        "step": -1,
        "parents": {},
        "note": "ab",
        "user": "bob",
        "n": 3,
        "model": "m1",
    }


def test_pending_writes_are_ordered_by_task_path_then_task_then_index(
    saver: BaseCheckpointSaver,
) -> None:
    saved = save(saver, cfg(), {"a": 1}, -1)
    saver.put_writes(saved, [("a", 2), ("b", "x")], "task-b", "~path, 1")
    saver.put_writes(saved, [("a", 3)], "task-a", "~path, 2")
    saver.put_writes(saved, [("c", None)], "task-c", "~path, 1")
    got = saver.get_tuple(cfg())
    assert got.pending_writes == [  # type: ignore[union-attr]
        ("task-b", "a", 2),
        ("task-b", "b", "x"),
        ("task-c", "c", None),
        ("task-a", "a", 3),
    ]


def test_a_regular_write_is_kept_but_a_special_one_is_replaced(
    saver: BaseCheckpointSaver,
) -> None:
    saved = save(saver, cfg(), {"a": 1}, -1)
    saver.put_writes(saved, [("a", "first"), ("__interrupt__", ["i1"])], "t")
    saver.put_writes(saved, [("a", "second"), ("__interrupt__", ["i2"])], "t")
    writes = saver.get_tuple(saved).pending_writes  # type: ignore[union-attr]
    assert sorted(writes) == [("t", "__interrupt__", ["i2"]), ("t", "a", "first")]


def test_put_writes_needs_a_checkpoint_id(saver: BaseCheckpointSaver) -> None:
    with pytest.raises(ValueError, match="checkpoint_id"):
        saver.put_writes(cfg(), [("a", 1)], "t")


def test_a_config_without_thread_id_is_a_clear_error(saver: BaseCheckpointSaver) -> None:
    with pytest.raises(ValueError, match="thread_id"):
        saver.get_tuple({"configurable": {}})


def test_namespaces_are_kept_apart(saver: BaseCheckpointSaver) -> None:
    save(saver, cfg(), {"a": "root"}, -1)
    save(saver, cfg(ns="sub:1"), {"a": "child"}, -1)
    assert saver.get_tuple(cfg()).checkpoint["channel_values"] == {"a": "root"}  # type: ignore[union-attr]
    sub = saver.get_tuple(cfg(ns="sub:1"))
    assert sub.checkpoint["channel_values"] == {"a": "child"}  # type: ignore[union-attr]
    assert sub.config["configurable"]["checkpoint_ns"] == "sub:1"  # type: ignore[union-attr]
    assert len(list(saver.list({"configurable": {"thread_id": "t1"}}))) == 2
    assert len(list(saver.list(cfg(ns="sub:1")))) == 1


def test_delete_thread_removes_only_that_thread(saver: BaseCheckpointSaver) -> None:
    kept = save(saver, cfg("keep"), {"a": 1}, -1)
    gone = save(saver, cfg("gone"), {"a": 2}, -1)
    save(saver, cfg("gone", ns="sub"), {"a": 3}, -1)
    saver.put_writes(gone, [("a", 5)], "t")
    saver.delete_thread("gone")
    assert saver.get_tuple(cfg("gone")) is None
    assert saver.get_tuple(cfg("gone", ns="sub")) is None
    assert saver.get_tuple(kept) is not None
    assert [t.config["configurable"]["thread_id"] for t in saver.list(None)] == ["keep"]


def test_versions_increase_as_strings(saver: BaseCheckpointSaver) -> None:
    v1 = saver.get_next_version(None, None)
    v2 = saver.get_next_version(v1, None)
    v3 = saver.get_next_version(7, None)
    assert v1 < v2 < v3
    assert v2.startswith("0" * 31 + "2.")
    assert v3.split(".")[0] == f"{8:032}"


def test_state_changed_after_put_does_not_change_the_stored_checkpoint(
    saver: BaseCheckpointSaver,
) -> None:
    items = [{"k": [1]}]
    saved = save(saver, cfg(), {"items": items}, -1)
    saver.put_writes(saved, [("items", items)], "t")
    items[0]["k"].append(2)
    got = saver.get_tuple(saved)
    assert got.checkpoint["channel_values"]["items"] == [{"k": [1]}]  # type: ignore[union-attr]
    assert got.pending_writes == [("t", "items", [{"k": [1]}])]  # type: ignore[union-attr]
    got.checkpoint["channel_values"]["items"].append("changed")  # type: ignore[union-attr]
    again = saver.get_tuple(saved).checkpoint["channel_values"]["items"]  # type: ignore[union-attr]
    assert again == [{"k": [1]}]


def test_messages_with_envelope_shaped_data_come_back_as_data(
    saver: BaseCheckpointSaver,
) -> None:
    messages = [
        HumanMessage(content="hi", id="1", additional_kwargs={"payload": ENVELOPE}),
        AIMessage(
            content="",
            id="2",
            tool_calls=[{"name": "run", "args": {"spec": ENVELOPE}, "id": "c1"}],
        ),
    ]
    saved = save(saver, cfg(), {"messages": messages, "field": {"nested": ENVELOPE}}, -1)
    values = saver.get_tuple(saved).checkpoint["channel_values"]  # type: ignore[union-attr]
    assert values["messages"] == messages
    assert values["messages"][0].additional_kwargs["payload"] == ENVELOPE
    assert values["messages"][1].tool_calls[0]["args"]["spec"] == ENVELOPE
    assert values["field"] == {"nested": ENVELOPE}


def test_async_twins_match_the_sync_methods(saver: BaseCheckpointSaver) -> None:
    async def run() -> None:
        first = empty_checkpoint()
        first["channel_values"] = {"a": 1}
        first["channel_versions"] = {"a": saver.get_next_version(None, None)}
        meta = {"source": "input", "step": -1, "parents": {}}
        saved = await saver.aput(cfg(), first, meta, first["channel_versions"])
        await saver.aput_writes(saved, [("a", 2)], "t")
        got = await saver.aget_tuple(cfg())
        assert got is not None and got.config == saved
        assert got.pending_writes == [("t", "a", 2)]
        assert (await saver.aget(saved))["channel_values"] == {"a": 1}  # type: ignore[index]
        assert [t.config async for t in saver.alist(cfg(), limit=5)] == [saved]
        await saver.adelete_thread("t1")
        assert await saver.aget_tuple(cfg()) is None

    on_saver_loop(saver, run())


def test_a_batch_stores_what_the_calls_in_order_would(saver: BaseCheckpointSaver) -> None:
    """``aput_batch`` of a step: earlier writes, a repeated special write, a regular write
    already stored, and the next checkpoint, as the sequence of calls leaves them."""
    base = save(saver, cfg(), {"a": 1}, -1)
    saver.put_writes(base, [("a", "stored")], "t0")
    nxt = {
        **empty_checkpoint(),
        "id": new_checkpoint_id(0),
        "channel_values": {"a": 2},
        "channel_versions": {"a": saver.get_next_version(None, None)},
    }
    meta = {"source": "loop", "step": 0, "parents": {}}
    ops = [
        ("put_writes", (base, [("a", "ignored"), ("__interrupt__", ["i1"])], "t0", "")),
        ("put_writes", (base, [("b", "x"), ("__interrupt__", ["i2"])], "t1", "")),
        ("put_writes", (base, [("b", "y"), ("__interrupt__", ["i3"])], "t1", "")),
        ("put", (base, nxt, meta, nxt["channel_versions"])),
    ]

    async def run() -> None:
        await saver.aput_batch(ops)
        await saver.aput_batch([])

    on_saver_loop(saver, run())
    writes = saver.get_tuple(base).pending_writes  # type: ignore[union-attr]
    assert sorted(writes) == [
        ("t0", "__interrupt__", ["i1"]),
        ("t0", "a", "stored"),
        ("t1", "__interrupt__", ["i3"]),
        ("t1", "b", "x"),
    ]
    latest = saver.get_tuple(cfg())
    assert latest is not None and latest.checkpoint["channel_values"] == {"a": 2}
    assert latest.parent_config == base and latest.metadata["step"] == 0


def test_a_wide_step_stores_every_write(saver: BaseCheckpointSaver) -> None:
    """More writes than a SQL saver lists as VALUES go as column arrays: same result."""
    base = save(saver, cfg(), {"a": 1}, -1)
    many = [(f"c{i}", {"i": i, "blob": "x" * i}) for i in range(150)]
    saver.put_writes(base, [*many[:100], ("__error__", "boom")], "wide")

    async def run() -> None:
        ops = [("put_writes", (base, [w], f"t{i}", "")) for i, w in enumerate(many[100:])]
        await saver.aput_batch(ops)

    on_saver_loop(saver, run())
    writes = saver.get_tuple(base).pending_writes  # type: ignore[union-attr]
    assert len(writes) == 151 and ("wide", "__error__", "boom") in writes
    assert sorted(v["i"] for _, c, v in writes if c != "__error__") == list(range(150))


def test_checkpoint_ids_sort_by_creation_and_look_like_uuid6() -> None:
    ids = [new_checkpoint_id(i) for i in range(500)]
    assert ids == sorted(ids) and len(set(ids)) == 500
    assert all(len(i) == 36 and i[14] == "6" and i[19] in "89ab" for i in ids)
    assert ids[3][19:23] == "8003"


def test_empty_and_copied_checkpoints_are_independent() -> None:
    base = empty_checkpoint()
    assert base["v"] == 4 and base["channel_values"] == {} and base["updated_channels"] is None
    base["versions_seen"]["n"] = {"a": 1}
    copy = copy_checkpoint(base)
    copy["versions_seen"]["n"]["a"] = 2
    copy["channel_values"]["x"] = 1
    assert base["versions_seen"]["n"] == {"a": 1} and base["channel_values"] == {}


def test_memory_saver_is_the_old_name_and_a_context_manager() -> None:
    assert MemorySaver is InMemorySaver
    with InMemorySaver() as saver:
        assert saver.get_tuple(cfg()) is None


def test_bench_put_get_reports_microseconds() -> None:
    assert bench_put_get(rounds=5) > 0
    assert bench_put_get(InMemorySaver(), changed=2, rounds=5) > 0


def test_a_base_saver_says_what_it_lacks() -> None:
    with pytest.raises(NotImplementedError, match="does not implement get_tuple"):
        BaseCheckpointSaver().get_tuple(cfg())


def put_raw(
    saver: BaseCheckpointSaver,
    config: dict[str, Any],
    values: dict[str, Any],
    versions: dict[str, Any],
    new: dict[str, Any],
) -> dict[str, Any]:
    checkpoint = {**empty_checkpoint(), "channel_values": values, "channel_versions": versions}
    return saver.put(config, checkpoint, {"source": "loop", "step": 0}, new)


def test_a_checkpoint_reads_back_exactly_the_values_it_was_given(
    saver: BaseCheckpointSaver,
) -> None:
    first = put_raw(
        saver, cfg(), {"a": 1, "trigger": None, "loose": "x"}, {"a": 1, "trigger": 1}, {}
    )
    second = put_raw(saver, first, {"a": 1, "loose": "y"}, {"a": 1, "trigger": 1}, {})
    assert saver.get(first)["channel_values"] == {"a": 1, "trigger": None, "loose": "x"}  # type: ignore[index]
    assert saver.get(second)["channel_values"] == {"a": 1, "loose": "y"}  # type: ignore[index]


def test_forks_with_the_same_new_version_keep_their_own_values(
    saver: BaseCheckpointSaver,
) -> None:
    root = put_raw(saver, cfg(), {"a": "root"}, {"a": 1}, {"a": 1})
    left = put_raw(saver, root, {"a": "left"}, {"a": 2}, {"a": 2})
    right = put_raw(saver, root, {"a": "right"}, {"a": 2}, {"a": 2})
    assert saver.get(left)["channel_values"] == {"a": "left"}  # type: ignore[index]
    assert saver.get(right)["channel_values"] == {"a": "right"}  # type: ignore[index]
    assert saver.get(root)["channel_values"] == {"a": "root"}  # type: ignore[index]


def test_a_tampered_in_memory_blob_is_refused_and_located() -> None:
    saver = InMemorySaver()
    saved = save(saver, cfg(), {"messages": [HumanMessage(content="hi")]}, -1)
    (thread_blobs,) = saver.blobs.values()
    key = next(iter(thread_blobs))
    thread_blobs[key] = b'[{"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {}}]'
    with pytest.raises(ManifestError, match=r"channel 'messages'.*unknown class id os\.system"):
        saver.get_tuple(saved)


def test_threads_share_one_saver(saver: BaseCheckpointSaver) -> None:
    import threading

    def work(n: int) -> None:
        config = cfg(f"t{n}")
        for i in range(10):
            config = save(saver, config, {"i": i}, i)
            saver.put_writes(config, [("i", i)], f"task{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(saver.list(None))) == 40
    assert saver.get_tuple(cfg("t3")).pending_writes == [("task9", "i", 9)]  # type: ignore[union-attr]


def test_list_with_a_config_without_thread_id_is_a_clear_error(saver: BaseCheckpointSaver) -> None:
    with pytest.raises(ValueError, match="thread_id"):
        list(saver.list({"configurable": {}}))
