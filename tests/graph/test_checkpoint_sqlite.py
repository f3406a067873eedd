"""SqliteSaver: one file shared by processes and threads, and rows edited by an attacker."""

from __future__ import annotations

import json
import pickle
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from runwire import AIMessage, HumanMessage, ManifestError
from runwire.graph.checkpoint import SqliteSaver, empty_checkpoint

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
CONFIG = {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}

_WRITER = """
import sys
from runwire import AIMessage, HumanMessage
from runwire.graph.checkpoint import SqliteSaver, empty_checkpoint
env = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
cp = empty_checkpoint()
cp["channel_values"] = {
    "messages": [
        HumanMessage(content="hi", id="1", additional_kwargs={"payload": env}),
        AIMessage(content="", id="2", tool_calls=[{"name": "t", "args": {"spec": env}, "id": "c"}]),
    ],
    "field": {"nested": env},
}
cp["channel_versions"] = {"messages": "1", "field": "1"}
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    saved = saver.put({"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}, cp,
                      {"source": "input", "step": -1, "parents": {}}, cp["channel_versions"])
    saver.put_writes(saved, [("field", {"w": env})], "task-1")
"""

_READER = """
import json, sys
from runwire.graph.checkpoint import SqliteSaver
with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
    got = saver.get_tuple({"configurable": {"thread_id": "t1"}})
    values = got.checkpoint["channel_values"]
    print(json.dumps({
        "types": [type(m).__name__ for m in values["messages"]],
        "payload": values["messages"][0].additional_kwargs["payload"],
        "args": values["messages"][1].tool_calls[0]["args"],
        "field": values["field"],
        "writes": got.pending_writes,
        "metadata": got.metadata,
    }))
"""


def run_python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_state_written_in_another_process_reads_back_with_envelopes_as_plain_dicts(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "shared.db")
    run_python(_WRITER, path)
    with SqliteSaver.from_conn_string(path) as saver:
        got = saver.get_tuple({"configurable": {"thread_id": "t1"}})
    assert got is not None
    messages = got.checkpoint["channel_values"]["messages"]
    assert [type(m) for m in messages] == [HumanMessage, AIMessage]
    assert messages[0].additional_kwargs["payload"] == ENVELOPE
    assert messages[1].tool_calls[0]["args"] == {"spec": ENVELOPE}
    assert got.checkpoint["channel_values"]["field"] == {"nested": ENVELOPE}
    assert got.pending_writes == [("task-1", "field", {"w": ENVELOPE})]


def test_state_written_here_reads_back_in_another_process(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {
        "messages": [
            HumanMessage(content="hi", id="1", additional_kwargs={"payload": ENVELOPE}),
            AIMessage(
                content="", tool_calls=[{"name": "t", "args": {"spec": ENVELOPE}, "id": "c"}]
            ),
        ],
        "field": {"nested": ENVELOPE},
    }
    checkpoint["channel_versions"] = {"messages": "1", "field": "1"}
    with SqliteSaver.from_conn_string(path) as saver:
        saved = saver.put(CONFIG, checkpoint, {"source": "input", "step": -1}, {})
        saver.put_writes(saved, [("field", 1)], "task-1")
    out = json.loads(run_python(_READER, path))
    assert out == {
        "types": ["HumanMessage", "AIMessage"],
        "payload": ENVELOPE,
        "args": {"spec": ENVELOPE},
        "field": {"nested": ENVELOPE},
        "writes": [["task-1", "field", 1]],
        "metadata": {"source": "input", "step": -1},
    }


def test_setup_is_idempotent_and_turns_on_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "cp.db")
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    saver.setup()
    SqliteSaver(conn).setup()  # a second saver on an existing database
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"checkpoints", "writes"} <= tables
    conn.close()


def test_threads_share_one_saver(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as saver:
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(10):
                    cp = empty_checkpoint()
                    cp["channel_values"] = {"n": n, "i": i}
                    cp["channel_versions"] = {"n": f"{i}", "i": f"{i}"}
                    config = {"configurable": {"thread_id": f"t{n}", "checkpoint_ns": ""}}
                    saved = saver.put(config, cp, {"step": i}, cp["channel_versions"])
                    saver.put_writes(saved, [("i", i)], f"task{i}")
                    assert saver.get_tuple(saved) is not None
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(list(saver.list(None))) == 60


def test_a_filter_key_is_never_sql(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "cp.db")) as saver:
        cp = empty_checkpoint()
        saver.put(CONFIG, cp, {"step": 1, "a'); DROP TABLE checkpoints; --": 1}, {})
        hostile = {"a'); DROP TABLE checkpoints; --": 1, '$.x" OR 1=1 --': "x"}
        assert list(saver.list(CONFIG, filter=hostile)) == []
        assert len(list(saver.list(CONFIG, filter={"a'); DROP TABLE checkpoints; --": 1}))) == 1
        assert len(list(saver.list(CONFIG))) == 1
        with pytest.raises(TypeError, match="strings"):
            list(saver.list(CONFIG, filter={1: 1}))  # type: ignore[dict-item]


# -- tampered rows ------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "cp.db")
    with SqliteSaver.from_conn_string(path) as saver:
        cp = empty_checkpoint()
        cp["channel_values"] = {"messages": [HumanMessage(content="hi", id="1")]}
        cp["channel_versions"] = {"messages": "1"}
        saved = saver.put(CONFIG, cp, {"source": "input", "step": -1}, {"messages": "1"})
        saver.put_writes(saved, [("messages", [AIMessage(content="ok")])], "task-1")
    return path


def edit(path: str, sql: str, *params: Any) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


def stored_checkpoint(path: str) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    data = conn.execute("SELECT checkpoint FROM checkpoints").fetchone()[0]
    conn.close()
    return orjson.loads(data)


def read(path: str) -> Any:
    with SqliteSaver.from_conn_string(path) as saver:
        return saver.get_tuple({"configurable": {"thread_id": "t1"}})


def test_an_untampered_database_reads_back(db: str) -> None:
    got = read(db)
    assert got.checkpoint["channel_values"]["messages"] == [HumanMessage(content="hi", id="1")]
    assert got.pending_writes == [("task-1", "messages", [AIMessage(content="ok")])]


@pytest.mark.parametrize(
    ("node", "error"),
    [
        (ENVELOPE, "unknown class id os.system"),
        ({"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]}, "secret node"),
        ({"lc": 1, "type": "not_implemented", "id": ["os", "system"], "repr": "x"}, "not_impl"),
        ({"__rw__": "model", "name": "subprocess.Popen", "v": {"args": "id"}}, "not registered"),
    ],
    ids=["unknown-id", "secret", "not-implemented", "unregistered-model"],
)
def test_a_tampered_checkpoint_value_is_a_manifest_error(db: str, node: Any, error: str) -> None:
    data = stored_checkpoint(db)
    data["channel_values"]["messages"] = [node]
    edit(db, "UPDATE checkpoints SET checkpoint = ?", orjson.dumps(data))
    with pytest.raises(ManifestError, match=error):
        read(db)


def test_an_escaped_envelope_edited_into_a_row_comes_back_as_a_plain_dict(db: str) -> None:
    data = stored_checkpoint(db)
    data["channel_values"]["messages"] = {"__lc_escaped__": ENVELOPE}
    edit(db, "UPDATE checkpoints SET checkpoint = ?", orjson.dumps(data))
    assert read(db).checkpoint["channel_values"]["messages"] == ENVELOPE


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("pickle", pickle.dumps({"a": 1})),
        ("msgpack", b"\x81\xa1a\x01"),
        ("lc-json", pickle.dumps({"a": 1})),
        ("lc-json", b"\x00\x01garbage"),
        ("lc-json", b'["not", "a", "checkpoint"]'),
        ("lc-json", b'{"channel_values": {}, "channel_versions": "x"}'),
    ],
    ids=["pickle-type", "msgpack-type", "pickle-bytes", "garbage", "not-object", "bad-field"],
)
def test_a_checkpoint_row_of_another_format_or_garbage_is_refused(
    db: str, kind: str, value: bytes
) -> None:
    edit(db, "UPDATE checkpoints SET type = ?, checkpoint = ?", kind, value)
    with pytest.raises(ManifestError):
        read(db)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("pickle", pickle.dumps([1])),
        ("lc-json", b"\x80\x04\x95garbage"),
        ("lc-json", orjson.dumps([ENVELOPE])),
    ],
    ids=["pickle-type", "pickle-bytes", "unknown-id"],
)
def test_a_tampered_write_row_is_refused(db: str, kind: str, value: bytes) -> None:
    edit(db, "UPDATE writes SET type = ?, value = ?", kind, value)
    with pytest.raises(ManifestError):
        read(db)


@pytest.mark.parametrize("metadata", ["[1, 2]", "not json", json.dumps({"x": ENVELOPE})])
def test_tampered_metadata_is_refused(db: str, metadata: str) -> None:
    edit(db, "UPDATE checkpoints SET metadata = ?", metadata)
    with pytest.raises(ManifestError):
        read(db)


def test_the_error_for_a_tampered_value_says_where_it_is(db: str) -> None:
    edit(db, "UPDATE writes SET value = ?", orjson.dumps([ENVELOPE]))
    with pytest.raises(ManifestError, match=r"write of task task-1 to 'messages'.*os\.system"):
        read(db)


def test_a_database_with_langgraph_tables_is_refused_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "langgraph.db")
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE checkpoints (thread_id TEXT, checkpoint_ns TEXT, checkpoint_id TEXT,"
        " parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB, metadata BLOB);"
        "CREATE TABLE writes (thread_id TEXT, checkpoint_ns TEXT, checkpoint_id TEXT,"
        " task_id TEXT, idx INTEGER, channel TEXT, type TEXT, value BLOB);"
    )
    conn.close()
    conn = sqlite3.connect(path, check_same_thread=False)
    with pytest.raises(ManifestError, match="another checkpointer"):
        SqliteSaver(conn).setup()
    conn.close()


def test_inline_async_runs_on_the_loop_and_threads_otherwise(tmp_path: Path) -> None:
    """``inline_async``: the async twins call SQLite on the event loop's thread; without
    it, in a worker thread."""
    import asyncio
    import threading

    class Recording(SqliteSaver):
        def get_tuple(self, config: Any) -> Any:
            threads.append(threading.get_ident())
            return super().get_tuple(config)

    async def where(saver: SqliteSaver) -> bool:
        await saver.aget_tuple({"configurable": {"thread_id": "t"}})
        return threads.pop() == threading.get_ident()

    for inline in (True, False):
        threads: list[int] = []
        with Recording.from_conn_string(str(tmp_path / "w.db"), inline_async=inline) as saver:
            assert asyncio.run(where(saver)) is inline


def test_the_wal_checkpointer_moves_every_frame_into_the_file(tmp_path: Path) -> None:
    """With autocheckpoint off on the writing connection, WalCheckpointer's thread does
    the checkpoints: after it stops, the WAL holds nothing the file lacks."""
    from runwire.graph.checkpoint.sqlite import WalCheckpointer

    path = str(tmp_path / "wal.db")
    with SqliteSaver.from_conn_string(path) as saver:
        saver.conn.execute("PRAGMA wal_autocheckpoint=0")
        with WalCheckpointer(path, interval=0.05) as background:
            for step in range(50):
                with saver.conn:
                    saver.conn.execute(
                        "INSERT INTO writes VALUES (?, '', 'c', 't', ?, 'x', 'json', x'00', '')",
                        (f"thread-{step}", step),
                    )
        assert background.checkpoints >= 1
        main_file_only = tmp_path / "copy.db"  # the file without its WAL
        main_file_only.write_bytes((tmp_path / "wal.db").read_bytes())
        copy = sqlite3.connect(main_file_only)
        try:
            assert copy.execute("SELECT count(*) FROM writes").fetchone() == (50,)
        finally:
            copy.close()
