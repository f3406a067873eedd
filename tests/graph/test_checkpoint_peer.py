"""The same calls on LangGraph's InMemorySaver and on runwire's savers give the same answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runwire.graph.checkpoint import InMemorySaver, SqliteSaver, empty_checkpoint, new_checkpoint_id

pytest.importorskip("langgraph.checkpoint.memory")


def script(saver: Any) -> dict[str, Any]:
    """Put a small history (two namespaces, writes, config metadata) and read it back."""
    root: dict[str, Any] = {
        "configurable": {"thread_id": "t", "checkpoint_ns": "", "user_key": "u"},
        "metadata": {"run_by": "bob", "count": 2, "__private": 1, "nested": {"x": 1}},
    }
    configs = []
    config = root
    versions: dict[str, Any] = {}
    for step in range(-1, 3):
        new = {"a": saver.get_next_version(versions.get("a"), None)}
        versions = {**versions, **new}
        checkpoint = {
            **empty_checkpoint(),
            "id": new_checkpoint_id(step),
            "channel_values": {"a": [step, "x"], "b": {"k": step}},
            "channel_versions": {**versions, "b": versions["a"]},
            "versions_seen": {"n": dict(versions)},
            "updated_channels": ["a"],
        }
        metadata = {"source": "loop", "step": step, "parents": {}, "writes": {"n": 1}}
        config = {**root, **saver.put(config, checkpoint, metadata, {**new, "b": new["a"]})}
        configs.append(config)
        saver.put_writes(config, [("a", step), ("__interrupt__", ["q"])], f"task{step}", "p")
        saver.put_writes(config, [("a", "again")], f"task{step}", "p")
    sub = {"configurable": {"thread_id": "t", "checkpoint_ns": "sub"}}
    saver.put(sub, {**empty_checkpoint(), "id": new_checkpoint_id(9)}, {"step": 0}, {})

    def ids(items: Iterator[Any]) -> list[Any]:
        return [(t.config["configurable"]["checkpoint_id"], t.metadata["step"]) for t in items]

    latest = saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
    first = saver.get_tuple(configs[0])
    thread = {"configurable": {"thread_id": "t"}}
    return {
        "latest_config": latest.config,
        "latest_parent": latest.parent_config,
        "latest_values": latest.checkpoint["channel_values"],
        "latest_versions": latest.checkpoint["channel_versions"],
        "metadata": latest.metadata,
        "writes": sorted(latest.pending_writes),
        "first_parent": first.parent_config,
        "all": sorted(ids(saver.list(thread))),  # namespaces may interleave in any order
        "root_ns": ids(saver.list({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})),
        "before": ids(saver.list(thread, before=configs[2], limit=1)),
        "filter": ids(saver.list(thread, filter={"step": 1, "run_by": "bob"})),
        "everything": len(list(saver.list(None))),
        "missing": saver.get_tuple({"configurable": {"thread_id": "none", "checkpoint_ns": ""}}),
    }


def normalized(answers: dict[str, Any], ids: Callable[[str], str]) -> dict[str, Any]:
    """Answers with checkpoint ids and versions replaced by their order of appearance."""
    seen: dict[str, str] = {}

    def fix(value: Any) -> Any:
        if isinstance(value, dict):
            return {fix(k): fix(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(fix(v) for v in value)
        if isinstance(value, str) and (len(value) == 36 or "." in value):
            return seen.setdefault(value, ids(value))
        return value

    return fix(answers)


@pytest.fixture(params=["memory", "sqlite"])
def ours(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "peer.db")) as saver:
            yield saver


def test_a_saver_history_reads_back_as_langgraph_reads_it(ours: Any) -> None:
    from langgraph.checkpoint.memory import InMemorySaver as PeerSaver

    mine = script(ours)
    peer = script(PeerSaver())
    counter = iter(range(10_000))
    assert normalized(mine, lambda _: f"#{next(counter)}").keys() == peer.keys()
    for key in peer:
        counter_a, counter_b = iter(range(10_000)), iter(range(10_000))
        a = normalized({key: mine[key]}, lambda _, c=counter_a: f"#{next(c)}")
        b = normalized({key: peer[key]}, lambda _, c=counter_b: f"#{next(c)}")
        assert a == b, key
