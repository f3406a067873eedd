"""PostgresChatHistoryStore on a real PostgreSQL: manifests with a secret DSN, replicas
sharing sessions, tampered rows, hostile table names, a DSN that never shows.

(The session API it shares with the other stores runs in test_message_history_stores.py.)
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

import runwire
from runwire.errors import ManifestError, ProviderError
from runwire.runtime.history_postgres import PostgresChatHistoryStore
from runwire.schema.messages import AIMessage, HumanMessage

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
PASSWORD = "hist-Pa55word-never-shown"
STORE_ID = ["runwire", "history", "PostgresChatHistoryStore"]

MANIFEST = """\
_type: RunnableWithMessageHistory
runnable:
  _type: sequence
  steps:
    - _type: ChatPromptTemplate
      messages:
        - _type: MessagesPlaceholder
          variable_name: history
        - [human, "{question}"]
    - _type: FakeChatModel
      responses: [first answer, second answer]
history:
  _type: PostgresChatHistoryStore
  dsn: !secret CHAT_PG_DSN
  table: chat_turns
input_messages_key: question
history_messages_key: history
"""


def test_a_manifest_with_a_secret_dsn_keeps_turns_across_replicas(
    tmp_path: Path, postgres_dsn: str
) -> None:
    path = tmp_path / "chat.yaml"
    path.write_text(MANIFEST)
    secrets = {"CHAT_PG_DSN": postgres_dsn}
    one = runwire.load_file(path, secrets_map=secrets, trusted=False)
    two = runwire.load_file(path, secrets_map=secrets, trusted=False)  # another replica
    cfg = {"configurable": {"session_id": "ann"}}
    assert one.invoke({"question": "q1"}, cfg).content == "first answer"
    stored = two.history.session("ann").messages
    assert [(type(m).__name__, m.content) for m in stored] == [
        ("HumanMessage", "q1"),
        ("AIMessage", "first answer"),
    ]
    text = runwire.dumps(one)
    assert postgres_dsn not in text
    assert orjson.loads(text)["kwargs"]["history"]["kwargs"]["dsn"] == {
        "lc": 1,
        "type": "secret",
        "id": ["CHAT_PG_DSN"],
    }
    assert postgres_dsn not in repr(one) and postgres_dsn not in repr(one.history)


def test_an_untrusted_manifest_gets_no_dsn_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, postgres_dsn: str
) -> None:
    monkeypatch.setenv("PG_DSN", postgres_dsn)
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "history", "PostgresChatHistoryStore"],
    }
    untrusted = runwire.load({**node, "kwargs": {}}, allowed_objects="all")
    assert untrusted.dsn is None
    with pytest.raises(ManifestError, match="has no dsn"):
        untrusted.get_messages("s")
    trusted = runwire.load({**node, "kwargs": {}}, allowed_objects="all", trusted=True)
    assert trusted.dsn.get_secret_value() == postgres_dsn  # Python and trusted files: PG_DSN
    assert trusted.get_messages("s") == []
    trusted.close()


def test_allowed_objects_core_leaves_the_network_store_out() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "history", "PostgresChatHistoryStore"],
    }
    with pytest.raises(ManifestError, match="not in allowed_objects"):
        runwire.load({**node, "kwargs": {"dsn": None}}, allowed_objects="core")


_WRITER = """
import sys
from runwire.runtime.history_postgres import PostgresChatHistoryStore
from runwire.schema.messages import AIMessage, HumanMessage
store = PostgresChatHistoryStore(dsn=sys.argv[1])
name = sys.argv[2]
for i in range(20):
    store.add_messages("shared", [HumanMessage(f"{name}-{i}"), AIMessage(f"r{name}-{i}")])
store.close()
"""


def test_processes_and_threads_append_whole_batches_to_one_session(postgres_dsn: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, postgres_dsn, f"p{n}"], text=True)
        for n in range(2)
    ]
    stores = [PostgresChatHistoryStore(dsn=postgres_dsn, max_size=2) for _ in range(2)]

    def work(n: int) -> None:
        for i in range(20):
            stores[n % 2].add_messages(
                "shared", [HumanMessage(f"t{n}-{i}"), AIMessage(f"rt{n}-{i}")]
            )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    got = stores[0].get_messages("shared")
    assert len(got) == 6 * 20 * 2
    for human, ai in zip(got[::2], got[1::2], strict=True):
        assert ai.content == "r" + human.content  # every batch stayed together
    for writer in ("p0", "p1", "t0", "t3"):  # and each writer's batches in order
        mine = [m.content for m in got[::2] if m.content.startswith(f"{writer}-")]
        assert mine == [f"{writer}-{i}" for i in range(20)]
    stores[1].clear("shared")
    assert stores[0].session_ids() == []
    for store in stores:
        store.close()


def test_tampered_rows_are_manifest_errors_and_envelopes_stay_data(postgres_dsn: str) -> None:
    store = PostgresChatHistoryStore(dsn=postgres_dsn)
    message = HumanMessage("q", additional_kwargs={"payload": ENVELOPE})
    store.add_messages("s", [message])
    assert store.get_messages("s") == [message]
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE runwire_messages SET message = %s", (orjson.dumps(ENVELOPE).decode(),))
    with pytest.raises(ManifestError, match=r"stored message \d+ of session 's'.*os\.system"):
        store.get_messages("s")
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE runwire_messages SET message = '[1, 2]'")
    with pytest.raises(ManifestError, match="not a message"):
        store.get_messages("s")
    store.close()


@pytest.mark.parametrize("table", ['x"; DROP TABLE y; --', "1abc", "", "a" * 64, "t-1"])
def test_table_names_are_identifiers(table: str) -> None:
    with pytest.raises(ValueError, match="letters, digits"):
        PostgresChatHistoryStore(dsn=None, table=table)


def test_an_unreachable_database_is_a_provider_error_without_the_password(
    postgres_server: Any,
) -> None:
    dsn = f"postgresql://ghost:{PASSWORD}@127.0.0.1:{postgres_server.port}/nowhere"
    store = PostgresChatHistoryStore(dsn=dsn, timeout=2)
    with pytest.raises(ProviderError) as caught:
        store.add_messages("s", [HumanMessage("hi")])
    shown = f"{caught.value} {caught.value!r} {caught.value.to_dict()} {store!r}"
    assert PASSWORD not in shown and dsn not in shown
    assert "ghost" in shown  # the server's reason: no such role
