"""History stores: the session API, SQLite files shared by threads and processes, tampered
rows read through the safe loader, and where an untrusted manifest may put the file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import runwire
from runwire.errors import FieldValidationError, ManifestError
from runwire.runtime.history_stores import (
    ChatSessionHistory,
    InMemoryChatHistoryStore,
    SqliteChatHistoryStore,
)
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
STORE_ID = ["runwire", "history", "SqliteChatHistoryStore"]


def sqlite_node(path: str, **kwargs: object) -> dict[str, object]:
    return {"lc": 1, "type": "constructor", "id": STORE_ID, "kwargs": {"path": path, **kwargs}}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    if request.param == "memory":
        yield InMemoryChatHistoryStore()
    elif request.param == "sqlite":
        yield SqliteChatHistoryStore(path=str(tmp_path / "h.db"))
    else:  # a database of its own on the session's PostgreSQL server
        from runwire.runtime.history_postgres import PostgresChatHistoryStore

        dsn = request.getfixturevalue("postgres_dsn")
        monkeypatch.setenv("PG_DSN", dsn)  # what a trusted load of a dumped store reads
        pg = PostgresChatHistoryStore(dsn=dsn)
        yield pg
        pg.close()


# -- the session API, both stores ---------------------------------------------------------
def test_session_api_matches_langchains_in_memory_history(store: object) -> None:
    session = store.session("s1")  # type: ignore[attr-defined]
    assert isinstance(session, ChatSessionHistory)
    assert session.messages == []
    session.add_user_message("hi")
    session.add_ai_message("hello")
    session.add_message(SystemMessage("be brief"))
    session.add_messages([HumanMessage("a"), AIMessageChunk(content="b")])
    got = session.messages
    assert [type(m) for m in got] == [
        HumanMessage,
        AIMessage,
        SystemMessage,
        HumanMessage,
        AIMessageChunk,
    ]
    assert [m.content for m in got] == ["hi", "hello", "be brief", "a", "b"]
    got.append(HumanMessage("not stored"))  # messages is a copy
    assert len(session.messages) == 5
    assert store.session("s2").messages == []  # type: ignore[attr-defined]
    session.clear()
    assert session.messages == []


def test_async_session_api(store: object) -> None:
    async def main() -> list[object]:
        session = store.session("s")  # type: ignore[attr-defined]
        await session.aadd_messages([HumanMessage("q"), AIMessage("a")])
        first = await session.aget_messages()
        await session.aclear()
        return [first, await session.aget_messages()]

    first, after = asyncio.run(main())
    assert [m.content for m in first] == ["q", "a"]
    assert after == []


def test_only_messages_are_stored(store: object) -> None:
    session = store.session("s")  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="holds messages, got str"):
        session.add_messages([HumanMessage("ok"), "not a message"])
    assert session.messages == []  # all or nothing


def test_concurrent_sessions_from_many_threads(store: object) -> None:
    def work(n: int) -> None:
        session = store.session(f"s{n % 4}")  # type: ignore[attr-defined]
        for i in range(25):
            session.add_messages([HumanMessage(f"{n}-{i}"), AIMessage(f"r{n}-{i}")])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        got = store.session(f"s{k}").messages  # type: ignore[attr-defined]
        assert len(got) == 2 * 25 * 2
        # every pair stays together: add_messages is atomic
        for human, ai in zip(got[::2], got[1::2], strict=True):
            assert ai.content == "r" + human.content
    assert sorted(store.session_ids()) == ["s0", "s1", "s2", "s3"]  # type: ignore[attr-defined]


def test_stores_compare_by_settings_and_dump_without_contents(store: object) -> None:
    store.session("s").add_user_message("secret chat")  # type: ignore[attr-defined]
    text = runwire.dumps(store)
    assert "secret chat" not in text
    # postgres: a provider, its dsn a secret (PG_DSN, set by the fixture)
    back = runwire.loads(text, trusted=True, allowed_objects="all", secrets_from_env=True)
    assert back == store
    assert type(back) is type(store)


def test_in_memory_stores_loaded_twice_do_not_share_sessions() -> None:
    text = runwire.dumps(InMemoryChatHistoryStore())
    one, two = runwire.loads(text), runwire.loads(text)
    one.session("s").add_user_message("hi")
    assert two.session("s").messages == []


# -- SQLite files ------------------------------------------------------------------------
def test_sqlite_file_is_created_on_first_use_not_at_load(tmp_path: Path) -> None:
    path = tmp_path / "later.db"
    store = runwire.load(sqlite_node(str(path)), trusted=True)
    assert not path.exists()
    store.session("s").add_user_message("hi")
    assert path.exists()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT session_id, message FROM runwire_messages").fetchall()
    assert rows[0][0] == "s"
    assert orjson.loads(rows[0][1])["id"] == ["langchain", "schema", "messages", "HumanMessage"]


def test_a_message_that_would_not_read_back_is_refused_on_write(tmp_path: Path) -> None:
    from runwire.errors import NotSerializableError
    from runwire.schema.messages import ToolMessage

    store = SqliteChatHistoryStore(path=str(tmp_path / "h.db"))
    odd = ToolMessage(content="r", tool_call_id="c", artifact=object())
    with pytest.raises(NotSerializableError, match="would not read back"):
        store.session("s").add_messages([HumanMessage("q"), odd])
    assert store.get_messages("s") == []  # nothing of the batch was written


def test_langchain_reads_the_rows_and_runwire_reads_langchains(tmp_path: Path) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core import messages as lcm
    from langchain_core.load import dumps as lc_dumps
    from langchain_core.load import loads as lc_loads

    path = str(tmp_path / "h.db")
    ours = [
        HumanMessage("q", additional_kwargs={"payload": ENVELOPE}),
        AIMessage("", tool_calls=[{"name": "t", "args": {"x": 1}, "id": "c1"}], id="a1"),
        AIMessageChunk(content="chunk"),
        SystemMessage("sys"),
    ]
    store = SqliteChatHistoryStore(path=path)
    store.session("s").add_messages(ours)
    with sqlite3.connect(path) as conn:
        rows = [r[0] for r in conn.execute("SELECT message FROM runwire_messages ORDER BY id")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangChain's loads is "beta"
        theirs = [lc_loads(row, allowed_objects="messages") for row in rows]
    assert [type(m).__name__ for m in theirs] == [type(m).__name__ for m in ours]
    assert theirs[0].additional_kwargs == {"payload": ENVELOPE}
    assert theirs[1].tool_calls[0]["args"] == {"x": 1}
    # and the other way: rows LangChain wrote
    written = [
        lcm.HumanMessage("from lc", additional_kwargs={"payload": ENVELOPE}),
        lcm.AIMessage("reply", id="r1"),
    ]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO runwire_messages (session_id, message) VALUES ('lc', ?)",
            [(lc_dumps(m),) for m in written],
        )
    back = store.get_messages("lc")
    assert back == [
        HumanMessage("from lc", additional_kwargs={"payload": ENVELOPE}),
        AIMessage("reply", id="r1"),
    ]


def test_sqlite_messages_survive_a_new_store_and_keep_every_field(tmp_path: Path) -> None:
    path = str(tmp_path / "h.sqlite")
    message = AIMessage(
        content=[{"type": "text", "text": "hi"}],
        id="m1",
        tool_calls=[{"name": "t", "args": {"spec": ENVELOPE}, "id": "c1"}],
        additional_kwargs={"payload": ENVELOPE, "__lc_escaped__": 1},
        response_metadata={"latency": [1, 2]},
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    )
    SqliteChatHistoryStore(path=path).session("s").add_messages([HumanMessage("q"), message])
    back = SqliteChatHistoryStore(path=path).session("s").messages
    assert back == [HumanMessage("q"), message]
    # a dict shaped like an lc node inside a message stays data
    assert back[1].additional_kwargs["payload"] == ENVELOPE
    assert back[1].tool_calls[0]["args"] == {"spec": ENVELOPE}


def test_tables_keep_pipelines_apart_in_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    a = SqliteChatHistoryStore(path=path, table="a")
    b = SqliteChatHistoryStore(path=path, table="b")
    a.session("s").add_user_message("for a")
    assert b.session("s").messages == []
    assert [m.content for m in a.session("s").messages] == ["for a"]


@pytest.mark.parametrize("table", ["x; DROP TABLE y", "1abc", "", "a" * 64, "t-1"])
def test_table_names_are_identifiers(table: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        SqliteChatHistoryStore(path=str(tmp_path / "h.db"), table=table)


def test_a_file_that_is_not_a_database_is_a_manifest_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ManifestError, match="not a usable SQLite database"):
        SqliteChatHistoryStore(path=str(path)).get_messages("s")
    missing = tmp_path / "no" / "such" / "dir.db"
    with pytest.raises(ManifestError, match="cannot open the SQLite file"):
        SqliteChatHistoryStore(path=str(missing)).get_messages("s")


def test_async_sqlite_calls_run_off_the_event_loop(tmp_path: Path) -> None:
    store = SqliteChatHistoryStore(path=str(tmp_path / "h.db"))
    loop_thread: list[int] = []
    seen: list[int] = []
    real = store.add_messages

    def spy(session_id: str, messages: list[object]) -> None:
        seen.append(threading.get_ident())
        real(session_id, messages)  # type: ignore[arg-type]

    object.__setattr__(store, "add_messages", spy)

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        await asyncio.gather(
            *(store.session(f"s{i}").aadd_messages([HumanMessage(str(i))]) for i in range(5))
        )

    asyncio.run(main())
    assert seen and loop_thread[0] not in seen
    assert sorted(store.session_ids()) == [f"s{i}" for i in range(5)]


_WRITER = """
import sys
from runwire.runtime.history_stores import SqliteChatHistoryStore
from runwire.schema.messages import AIMessage, HumanMessage
env = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
store = SqliteChatHistoryStore(path=sys.argv[1])
for i in range(int(sys.argv[2])):
    store.session(sys.argv[3]).add_messages(
        [HumanMessage(f"q{i}", additional_kwargs={"env": env}), AIMessage(f"a{i}")]
    )
print(len(store.session(sys.argv[3]).messages))
"""


def writer(path: str, count: int, session: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, path, str(count), session],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_write_and_read_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    here = SqliteChatHistoryStore(path=path)
    here.session("mine").add_user_message("from the parent")
    procs = [writer(path, 30, "p1"), writer(path, 30, "p2")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "60"
    for name in ("p1", "p2"):
        got = here.session(name).messages
        assert [m.content for m in got[:2]] == ["q0", "a0"]
        assert len(got) == 60
        assert got[0].additional_kwargs == {"env": ENVELOPE}
    assert [m.content for m in here.session("mine").messages] == ["from the parent"]


# -- tampered rows -----------------------------------------------------------------------
def tamper(path: str, message: bytes | str, session: str = "s") -> None:
    SqliteChatHistoryStore(path=path).session(session).add_user_message("good row")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO runwire_messages (session_id, message) VALUES (?, ?)", (session, message)
        )


TAMPERED: dict[str, bytes | str] = {
    "unregistered class": orjson.dumps({**ENVELOPE, "id": ["smtplib", "SMTP"]}).decode(),
    "registered non-message": orjson.dumps(
        {"lc": 1, "type": "constructor", "id": ["runwire", "runnables", "RunnablePassthrough"]}
    ).decode(),
    "secret node": orjson.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", "messages", "HumanMessage"],
            "kwargs": {"content": {"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]}},
        }
    ).decode(),
    "object inside message data": orjson.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", "messages", "HumanMessage"],
            "kwargs": {"content": "x", "additional_kwargs": {"e": ENVELOPE}},
        }
    ).decode(),
    "plain dict": '{"type": "human", "data": {"content": "hi"}}',
    "json scalar": "42",
    "not json": "\x80\x04pickle",
    "pickle blob": b"\x80\x04\x95\x00\x00\x00",
    "tagged tuple": '{"__rw__": "tuple", "v": [1]}',
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_row_is_a_manifest_error_never_an_object(case: str, tmp_path: Path) -> None:
    path = str(tmp_path / "h.db")
    tamper(path, TAMPERED[case])
    before = set(sys.modules)
    with pytest.raises(ManifestError) as err:
        SqliteChatHistoryStore(path=path).get_messages("s")
    assert "stored message 2 of session 's'" in str(err.value)
    assert "smtplib" not in set(sys.modules) - before
    # other sessions still read
    SqliteChatHistoryStore(path=path).session("other").add_user_message("fine")
    assert len(SqliteChatHistoryStore(path=path).session("other").messages) == 1


def test_a_secret_in_a_tampered_row_is_never_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sk-should-not-appear")
    path = str(tmp_path / "h.db")
    tamper(path, TAMPERED["secret node"])
    with pytest.raises(ManifestError) as err:
        SqliteChatHistoryStore(path=path).get_messages("s")
    assert "sk-should-not-appear" not in str(err.value)


# -- paths from untrusted manifests --------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def test_untrusted_relative_path_inside_the_working_directory_loads(project: Path) -> None:
    store = runwire.load(sqlite_node("chats/history.db"))
    (project / "chats").mkdir()
    store.session("s").add_user_message("hi")
    assert (project / "chats" / "history.db").exists()
    assert runwire.dumps(store) == runwire.dumps(SqliteChatHistoryStore(path="chats/history.db"))


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd.db", "must be relative"),
        ("../outside.db", "must be relative"),
        ("chats/../../outside.db", "must be relative"),
        ("~/.history.db", "must be relative"),
        ("pyproject.toml", "ending in .db, .sqlite, .sqlite3"),
        ("history", "ending in .db"),
        ("", "non-empty"),
    ],
)
def test_untrusted_paths_that_leave_the_project_are_refused(
    project: Path, path: str, why: str
) -> None:
    with pytest.raises(FieldValidationError, match=why) as err:
        runwire.load(sqlite_node(path))
    assert err.value.path == "$.kwargs.path"


def test_untrusted_symlink_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "link").symlink_to(outside)
    with pytest.raises(FieldValidationError, match="outside the working directory"):
        runwire.load(sqlite_node("link/h.db"))
    (project / "file.db").symlink_to(outside / "target.db")
    with pytest.raises(FieldValidationError, match="outside the working directory"):
        runwire.load(sqlite_node("file.db"))


def test_a_symlink_made_after_the_load_is_caught_when_the_file_opens(
    project: Path, tmp_path: Path
) -> None:
    store = runwire.load(sqlite_node("late.db"))
    outside = tmp_path / "victim.db"
    (project / "late.db").symlink_to(outside)
    with pytest.raises(ValueError, match="outside the working directory"):
        store.session("s").add_user_message("hi")
    assert not outside.exists()


def test_untrusted_directory_is_not_a_database(project: Path) -> None:
    (project / "dir.db").mkdir()
    with pytest.raises(FieldValidationError, match="not a regular file"):
        runwire.load(sqlite_node("dir.db"))


def test_trusted_loads_and_python_may_name_any_path(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "h.data"
    target.parent.mkdir()
    store = runwire.load(sqlite_node(str(target)), trusted=True)
    store.session("s").add_user_message("hi")
    assert target.exists()
    assert SqliteChatHistoryStore(path="../x.db").path == "../x.db"
    assert runwire.load(sqlite_node(":memory:")).path == ":memory:"


def test_relative_paths_are_fixed_at_load_time(project: Path) -> None:
    store = runwire.load(sqlite_node("fixed.db"))
    elsewhere = project / "sub"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    store.session("s").add_user_message("hi")
    assert (project / "fixed.db").exists()
    assert not (elsewhere / "fixed.db").exists()


def test_deep_copies_have_their_own_lock_and_keep_trust(project: Path, store: object) -> None:
    import copy

    store.session("s").add_user_message("before")  # type: ignore[attr-defined]
    clone = copy.deepcopy(store)
    assert clone == store
    clone.session("s").add_user_message("after")
    shared = not isinstance(store, InMemoryChatHistoryStore)  # one database: both see it
    assert len(store.session("s").messages) == (2 if shared else 1)  # type: ignore[attr-defined]
    untrusted = runwire.load({**sqlite_node("c.db")})
    twin = copy.deepcopy(untrusted)
    (project / "c.db").symlink_to(project.parent / "victim.db")
    with pytest.raises(ValueError, match="outside the working directory"):
        twin.get_messages("s")


def test_wire_forms() -> None:
    assert runwire.dumpd(InMemoryChatHistoryStore()) == {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "history", "InMemoryChatHistoryStore"],
        "kwargs": {},
    }
    store = SqliteChatHistoryStore(path="chats/h.db", table="t", timeout=1)
    assert runwire.dumpd(store, dialect="langchain") == sqlite_node(
        "chats/h.db", table="t", timeout=1.0
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = SqliteChatHistoryStore(path=str(tmp_path / "h.db"))
    store.session("s").add_user_message("parent")
    parent_conn = store._conn
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write through the inherited store, report, exit
        code = 1
        try:
            store.session("s").add_user_message("child")
            code = 0 if store._conn is not parent_conn else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(0)
    os.close(write)
    status = os.read(read, 1)
    os.waitpid(pid, 0)
    assert status == b"\x00"
    assert [m.content for m in store.get_messages("s")] == ["parent", "child"]
    assert store._conn is parent_conn
