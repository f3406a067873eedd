"""PostgresSaver / AsyncPostgresSaver on a real PostgreSQL: migrations, replicas sharing one
database, graphs resumed by another saver, hostile filters, tampered rows, masked DSNs.

(The saver contract itself runs in test_checkpoint_contract.py over every saver.)
"""

from __future__ import annotations

import asyncio
import operator
import pickle
import subprocess
import sys
import threading
from typing import Annotated, Any, TypedDict

import orjson
import psycopg
import pytest

from postgres_savers import open_saver
from runwire import AIMessage, HumanMessage, ManifestError
from runwire.errors import ProviderError
from runwire.graph import END, START, Command, StateGraph, interrupt
from runwire.graph.checkpoint import (
    AsyncPostgresSaver,
    InMemorySaver,
    PostgresSaver,
    empty_checkpoint,
)
from runwire.graph.checkpoint.postgres import MIGRATIONS
from runwire.redaction import redact

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
CONFIG = {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}


def put(saver: Any, thread: str, values: dict[str, Any], **meta: Any) -> dict[str, Any]:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = dict.fromkeys(values, "1")
    config = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
    return saver.put(config, checkpoint, {"source": "input", "step": -1, **meta}, {})


def sql(dsn: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(statement, params or None)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


# -- setup and migrations -------------------------------------------------------------
def test_setup_records_each_migration_once_and_is_idempotent(postgres_dsn: str) -> None:
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        saver.setup()
        saver.is_setup = False
        saver.setup()  # again on a migrated database
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        assert saver.get_tuple(CONFIG) is None
    versions = sql(postgres_dsn, "SELECT v FROM runwire_checkpoint_migrations ORDER BY v")
    assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))
    tables = sql(postgres_dsn, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'runwire_%'")
    assert {t for (t,) in tables} == {
        "runwire_checkpoints",
        "runwire_checkpoint_writes",
        "runwire_checkpoint_migrations",
    }


def test_a_database_migrated_halfway_gets_the_rest(postgres_dsn: str) -> None:
    sql(postgres_dsn, "CREATE TABLE runwire_checkpoint_migrations (v INTEGER PRIMARY KEY)")
    sql(postgres_dsn, MIGRATIONS[0])
    sql(postgres_dsn, "INSERT INTO runwire_checkpoint_migrations (v) VALUES (1)")
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        saved = put(saver, "t1", {"a": 1})
        saver.put_writes(saved, [("a", 2)], "task")
        assert saver.get_tuple(CONFIG).pending_writes == [("task", "a", 2)]  # type: ignore[union-attr]


_SETUP_IN_PROCESS = """
import sys
from runwire.graph.checkpoint import PostgresSaver
with PostgresSaver.from_conn_string(sys.argv[1]) as saver:
    print("ok")
"""


def test_replicas_starting_together_migrate_once(postgres_dsn: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SETUP_IN_PROCESS, postgres_dsn],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    errors: list[BaseException] = []

    def setup_here() -> None:
        try:
            with PostgresSaver.from_conn_string(postgres_dsn, max_size=1):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=setup_here) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert errors == []
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    versions = sql(postgres_dsn, "SELECT v FROM runwire_checkpoint_migrations ORDER BY v")
    assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))


# -- two savers (replicas) on one database ---------------------------------------------
class State(TypedDict):
    log: Annotated[list[str], operator.add]


def graph(checkpointer: Any) -> Any:
    def ask(state: State) -> dict[str, Any]:
        return {"log": [f"asked:{interrupt('name?')}"]}

    builder = StateGraph(State)
    builder.add_node("first", lambda s: {"log": ["first"]})
    builder.add_node("ask", ask)
    builder.add_node("last", lambda s: {"log": ["last"]})
    builder.add_edge(START, "first")
    builder.add_edge("first", "ask")
    builder.add_edge("ask", "last")
    builder.add_edge("last", END)
    return builder.compile(checkpointer=checkpointer)


def test_a_thread_interrupted_through_one_saver_is_resumed_through_another(
    postgres_dsn: str,
) -> None:
    thread = {"configurable": {"thread_id": "conv-1"}}
    with PostgresSaver.from_conn_string(postgres_dsn) as one:
        paused = graph(one).invoke({"log": ["in"]}, thread)
        assert paused["log"] == ["in", "first"]
    with open_saver("postgres-async", postgres_dsn) as other:
        app = graph(other)
        state = asyncio.run_coroutine_threadsafe(app.aget_state(thread), other.loop).result(60)
        assert state.next == ("ask",)
        assert state.tasks[0].interrupts[0].value == "name?"
        done = asyncio.run_coroutine_threadsafe(
            app.ainvoke(Command(resume="ann"), thread), other.loop
        ).result(60)
    assert done["log"] == ["in", "first", "asked:ann", "last"]
    with PostgresSaver.from_conn_string(postgres_dsn) as again:
        history = list(graph(again).get_state_history(thread))
    local = graph(InMemorySaver())  # the same run in one process, for comparison
    local.invoke({"log": ["in"]}, thread)
    local.invoke(Command(resume="ann"), thread)
    expected = [(s.metadata["step"], s.next) for s in local.get_state_history(thread)]
    assert [(s.metadata["step"], s.next) for s in history] == expected


def test_two_savers_write_one_database_at_once(postgres_dsn: str) -> None:
    with (
        PostgresSaver.from_conn_string(postgres_dsn, max_size=4) as a,
        PostgresSaver.from_conn_string(postgres_dsn, max_size=4) as b,
    ):
        errors: list[BaseException] = []

        def work(saver: PostgresSaver, n: int) -> None:
            try:
                for i in range(15):
                    saved = put(saver, f"t{n % 3}", {"n": n, "i": i}, writer=n)
                    saver.put_writes(saved, [("i", i), ("__interrupt__", [n])], f"task{n}")
                    assert saver.get_tuple(saved) is not None
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=((a, b)[n % 2], n)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(list(a.list(None))) == len(list(b.list(None))) == 90
        for n in range(6):
            mine = list(b.list({"configurable": {"thread_id": f"t{n % 3}"}}, filter={"writer": n}))
            assert len(mine) == 15
            assert all(t.pending_writes[0][0] == f"task{n}" for t in mine)  # type: ignore[index]
        a.delete_thread("t0")
        assert b.get_tuple({"configurable": {"thread_id": "t0"}}) is None
        assert len(list(b.list(None))) == 60


def test_the_async_saver_runs_a_graph_on_one_loop(postgres_dsn: str) -> None:
    async def run() -> Any:
        async with AsyncPostgresSaver.from_conn_string(postgres_dsn) as saver:
            app = graph(saver)
            thread = {"configurable": {"thread_id": "a1"}}
            await app.ainvoke({"log": ["in"]}, thread)
            out = await app.ainvoke(Command(resume="bo"), thread)
            history = [s.metadata["source"] async for s in app.aget_state_history(thread)]
            with pytest.raises(RuntimeError, match="sync methods only work from another thread"):
                saver.get_tuple(thread)  # on the loop's own thread: refused, never a deadlock
            return out, history

    out, history = asyncio.run(run())
    assert out["log"] == ["in", "first", "asked:bo", "last"]
    assert history[-1] == "input"


# -- filters are parameters, never SQL ---------------------------------------------------
def test_hostile_filter_keys_and_values_are_data(postgres_dsn: str) -> None:
    hostile = "a'); DROP TABLE runwire_checkpoints; --"
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        put(saver, "t1", {"a": 1}, **{hostile: 1, "q": "x' OR '1'='1"})
        assert list(saver.list(CONFIG, filter={hostile: 2})) == []
        assert list(saver.list(CONFIG, filter={"q": "' OR 1=1 --"})) == []
        assert len(list(saver.list(CONFIG, filter={hostile: 1}))) == 1
        assert len(list(saver.list(CONFIG, filter={"q": "x' OR '1'='1"}))) == 1
        assert len(list(saver.list(CONFIG, filter={"k\x00": 1, "q\x00": "\x00"}))) == 0
        with pytest.raises(TypeError, match="strings"):
            list(saver.list(CONFIG, filter={1: 1}))  # type: ignore[dict-item]
        assert len(list(saver.list(CONFIG))) == 1


def test_filters_compare_as_python_does(postgres_dsn: str) -> None:
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        put(saver, "t1", {"a": 1}, flag=True, n=1, f=0.5, s="1", none=None)
        put(saver, "t1", {"a": 2}, lc="shaped", __rw__="tag", n=2)  # stored escaped

        def steps(**flt: Any) -> int:
            return len(list(saver.list(CONFIG, filter=flt)))

        assert steps(flag=1) == steps(flag=True) == steps(n=1.0) == steps(n=True) == 1
        assert steps(f=0.5) == 1 and steps(f=0.25) == 0
        assert steps(s="1") == 1 and steps(s=1) == 0 and steps(n="1") == 0
        assert steps(none=None) == 2  # a missing key is None too, as in Python
        assert steps(n=2) == 1 and steps(lc="shaped") == 1 and steps(lc="other") == 0
        assert [t.metadata["n"] for t in saver.list(CONFIG, filter={"n": 2}, limit=1)] == [2]


# -- tampered rows -----------------------------------------------------------------------
@pytest.fixture
def db(postgres_dsn: str) -> str:
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        cp = empty_checkpoint()
        cp["channel_values"] = {"messages": [HumanMessage(content="hi", id="1")]}
        cp["channel_versions"] = {"messages": "1"}
        saved = saver.put(CONFIG, cp, {"source": "input", "step": -1}, {"messages": "1"})
        saver.put_writes(saved, [("messages", [AIMessage(content="ok")])], "task-1")
    return postgres_dsn


def read(dsn: str) -> Any:
    with PostgresSaver.from_conn_string(dsn) as saver:
        return saver.get_tuple({"configurable": {"thread_id": "t1"}})


def stored_checkpoint(dsn: str) -> dict[str, Any]:
    return orjson.loads(sql(dsn, "SELECT checkpoint FROM runwire_checkpoints")[0][0])


def test_an_untampered_database_reads_back(db: str) -> None:
    got = read(db)
    assert got.checkpoint["channel_values"]["messages"] == [HumanMessage(content="hi", id="1")]
    assert got.pending_writes == [("task-1", "messages", [AIMessage(content="ok")])]


@pytest.mark.parametrize(
    ("node", "error"),
    [
        (ENVELOPE, "unknown class id os.system"),
        ({"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]}, "secret node"),
        ({"__rw__": "model", "name": "subprocess.Popen", "v": {"args": "id"}}, "not registered"),
    ],
    ids=["unknown-id", "secret", "unregistered-model"],
)
def test_a_tampered_checkpoint_value_is_a_manifest_error(db: str, node: Any, error: str) -> None:
    data = stored_checkpoint(db)
    data["channel_values"]["messages"] = [node]
    sql(db, "UPDATE runwire_checkpoints SET checkpoint = %s", orjson.dumps(data))
    with pytest.raises(ManifestError, match=error):
        read(db)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("pickle", pickle.dumps({"a": 1})),
        ("lc-json", pickle.dumps({"a": 1})),
        ("lc-json", b'["not", "a", "checkpoint"]'),
    ],
    ids=["pickle-type", "pickle-bytes", "not-object"],
)
def test_a_checkpoint_row_of_another_format_is_refused(db: str, kind: str, value: bytes) -> None:
    sql(db, "UPDATE runwire_checkpoints SET type = %s, checkpoint = %s", kind, value)
    with pytest.raises(ManifestError):
        read(db)


def test_tampered_writes_and_metadata_are_refused_and_located(db: str) -> None:
    sql(db, "UPDATE runwire_checkpoint_writes SET value = %s", orjson.dumps([ENVELOPE]))
    with pytest.raises(ManifestError, match=r"write of task task-1 to 'messages'.*os\.system"):
        read(db)
    sql(db, "UPDATE runwire_checkpoint_writes SET type = 'pickle'")
    with pytest.raises(ManifestError, match="pickle"):
        read(db)
    sql(db, "DELETE FROM runwire_checkpoint_writes")
    for metadata in ("[1, 2]", orjson.dumps({"x": ENVELOPE}).decode()):
        sql(db, "UPDATE runwire_checkpoints SET metadata = %s", metadata)
        with pytest.raises(ManifestError):
            read(db)


# -- the DSN is a secret -----------------------------------------------------------------
def test_a_failed_connection_is_a_provider_error_without_the_dsn(postgres_server: Any) -> None:
    dsn = f"postgresql://runwire:Sup3r-s3cret-pw@127.0.0.1:{postgres_server.port}/nowhere"
    with (
        pytest.raises(ProviderError) as caught,
        PostgresSaver.from_conn_string(dsn, timeout=2),
    ):
        pass  # pragma: no cover - the connection fails first
    text = f"{caught.value} {caught.value!r} {caught.value.to_dict()}"
    assert "Sup3r-s3cret-pw" not in text and dsn not in text
    assert "runwire" in str(caught.value)  # the server's reason: no such role
    assert redact(dsn) != dsn


def test_a_saver_repr_shows_no_connection_details(postgres_dsn: str) -> None:
    with PostgresSaver.from_conn_string(postgres_dsn) as saver:
        assert repr(saver) == "PostgresSaver(setup=True)"


def test_a_connection_outside_autocommit_is_refused_before_any_write(postgres_dsn: str) -> None:
    with (
        psycopg.connect(postgres_dsn) as conn,  # in a transaction: writes would roll back
        pytest.raises(ValueError, match="autocommit"),
    ):
        PostgresSaver(conn).setup()
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        saver = PostgresSaver(conn)
        saved = put(saver, "t1", {"a": 1})
    with PostgresSaver.from_conn_string(postgres_dsn) as other:
        assert other.get_tuple(saved).checkpoint["channel_values"] == {"a": 1}  # type: ignore[union-attr]
